"""the committee's latest sessions and the obligations of one period, read through indexes

The committee's page listed every session it ever held, and each access request's page offered them all to
submit a matter to; both now show the latest sessions, by the day held, a page at a time. The pages of
published obligations showed every period ever published; they show one year (the latest by default), found
through the periods' index.

Revision ID: c3a9e5d7f214
Revises: b6f2d9e4a317
Create Date: 2026-12-05 03:40:00
"""

from alembic import op

revision = 'c3a9e5d7f214'
down_revision = 'b6f2d9e4a317'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_committee_sessions_held_on_id', 'committee_sessions', ['held_on', 'id'], unique=False)
    op.create_index(
        'ix_obligation_publications_period', 'obligation_publications', ['year', 'quarter'], unique=False
    )


def downgrade():
    op.drop_index('ix_obligation_publications_period', table_name='obligation_publications')
    op.drop_index('ix_committee_sessions_held_on_id', table_name='committee_sessions')
