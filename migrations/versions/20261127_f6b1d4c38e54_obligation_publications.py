"""transparency-obligation publications: formats, calendar, records, samples

Revision ID: f6b1d4c38e54
Revises: e5a0c3b27d43
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b1d4c38e54'
down_revision = 'e5a0c3b27d43'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('obligation_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('format_code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_obligation_publications_quarter_range')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2200', name=op.f('ck_obligation_publications_year_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_obligation_publications_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation_publications')),
    sa.UniqueConstraint('case_id', name=op.f('uq_obligation_publications_case_id')),
    sa.UniqueConstraint('format_code', 'year', 'quarter', name='uq_obligation_publications_period')
    )
    op.create_table('publication_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('rate', sa.String(length=16), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('selected', sa.Integer(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_publication_samples_quarter_range')),
    sa.CheckConstraint('selected >= 0 AND selected <= population', name=op.f('ck_publication_samples_selected_within_population')),
    sa.ForeignKeyConstraint(['audit_seq'], ['audit_entries.seq'], name=op.f('fk_publication_samples_audit_seq_audit_entries')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_publication_samples_drawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_samples')),
    sa.UniqueConstraint('year', 'quarter', name='uq_publication_samples_period')
    )


def downgrade():
    op.drop_table('publication_samples')
    op.drop_table('obligation_publications')
