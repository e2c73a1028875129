"""Settings changes keep their values outside the audit log

Revision ID: c4e2a7f19b35
Revises: b8d3f5a27e61
Create Date: 2026-12-02 06:30:00

The values a settings change set (which may hold text an administrator typed) are kept in
``workflow_config_changes``; the audit entry holds their keyed digests and the row's id.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c4e2a7f19b35'
down_revision = 'b8d3f5a27e61'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workflow_config_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workflow', sa.String(length=64), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['changed_by_id'], ['users.id'], name=op.f('fk_workflow_config_changes_changed_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_config_changes')),
    )
    with op.batch_alter_table('workflow_config_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_config_changes_workflow'), ['workflow'], unique=False)


def downgrade():
    with op.batch_alter_table('workflow_config_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_config_changes_workflow'))
    op.drop_table('workflow_config_changes')
