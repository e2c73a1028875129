"""indexes for every filter of the oversight area, and for the assignment's open-case count

``audit_entries``: one index per filter (folio, workflow, actor, role, action, kind) ending in ``seq``, so a
filtered page, newest first, and its next-page check read only the rows they show; one on ``at`` for the date
filters. ``cases``: a partial index of the open cases by assignee, which the assignment's count per reviewer
reads instead of the whole table.

Revision ID: f3b8d1e6a952
Revises: e7a4c9d2b6f1
Create Date: 2026-12-02 08:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f3b8d1e6a952'
down_revision = 'e7a4c9d2b6f1'
branch_labels = None
depends_on = None

ENTRY_INDEXES = {
    'ix_audit_entries_folio_seq': ['folio', 'seq'],
    'ix_audit_entries_workflow_seq': ['workflow', 'seq'],
    'ix_audit_entries_actor_seq': ['actor_id', 'seq'],
    'ix_audit_entries_role_seq': ['actor_role', 'seq'],
    'ix_audit_entries_action_seq': ['action', 'seq'],
    'ix_audit_entries_kind_seq': ['kind', 'seq'],
    'ix_audit_entries_at': ['at'],
}


def upgrade():
    for name, columns in ENTRY_INDEXES.items():
        op.create_index(name, 'audit_entries', columns, unique=False)
    op.create_index(
        'ix_cases_open_assignee',
        'cases',
        ['assignee_id'],
        unique=False,
        postgresql_where=sa.text('closed_at IS NULL'),
        sqlite_where=sa.text('closed_at IS NULL'),
    )


def downgrade():
    op.drop_index('ix_cases_open_assignee', table_name='cases')
    for name in reversed(list(ENTRY_INDEXES)):
        op.drop_index(name, table_name='audit_entries')
