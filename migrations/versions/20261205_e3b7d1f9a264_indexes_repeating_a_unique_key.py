"""indexes that repeated the first column of a unique key, dropped

A case's clocks, its reviewer exclusions and its areas' turns, an agenda item's votes and a user's roles were
each indexed twice: by their own index of the first column and by their unique constraint's index, which begins
with that column and serves the same look-ups. Every insert wrote both (one page more in SQLite's log for each
clock a transition starts).

Revision ID: e3b7d1f9a264
Revises: d5a9c3e7b182
Create Date: 2026-12-05 10:00:00
"""

from alembic import op

revision = "e3b7d1f9a264"
down_revision = "d5a9c3e7b182"
branch_labels = None
depends_on = None

REPEATED = {
    "ix_case_clocks_case_id": ("case_clocks", "case_id"),
    "ix_assignment_exclusions_case_id": ("assignment_exclusions", "case_id"),
    "ix_area_turns_case_id": ("area_turns", "case_id"),
    "ix_committee_votes_item_id": ("committee_votes", "item_id"),
    "ix_user_roles_user_id": ("user_roles", "user_id"),
}


def upgrade():
    for name, (table, _) in REPEATED.items():
        op.drop_index(name, table_name=table)


def downgrade():
    for name, (table, column) in REPEATED.items():
        op.create_index(name, table, [column], unique=False)
