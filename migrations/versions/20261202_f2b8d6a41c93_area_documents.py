"""area documents: which area attached each document of an access request

Revision ID: f2b8d6a41c93
Revises: e7a3c9d15b42
Create Date: 2026-12-02 09:20:00

An area's new upload replaces only that area's document of the same kind; with two areas turned, one
area's answer no longer hides the other's. Documents attached before this revision have no row: they are
replaced as before (by kind) until their area uploads again.
"""

import sqlalchemy as sa
from alembic import op

revision = 'f2b8d6a41c93'
down_revision = 'e7a3c9d15b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'area_documents',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('department_code', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_area_documents_case_id_cases'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['department_code'], ['departments.code'], name=op.f('fk_area_documents_department_code_departments')
        ),
        sa.ForeignKeyConstraint(
            ['document_id'], ['documents.id'], name=op.f('fk_area_documents_document_id_documents'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('document_id', name=op.f('pk_area_documents')),
    )
    with op.batch_alter_table('area_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_documents_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('area_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_documents_case_id'))
    op.drop_table('area_documents')
