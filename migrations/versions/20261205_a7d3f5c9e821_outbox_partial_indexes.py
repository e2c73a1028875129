"""the outbox's messages to deliver, retrying and failed, each through a partial index of its own

One index of (status, next attempt) held every message ever written, most of them sent. The administrators'
mail page read through it every failed message to show the newest hundred (a requester's notices kept back
because nobody confirmed the address, or because they opposed such notices, are failed messages too: they grow
with the citizens), and every pending one to find those whose last attempt failed. Now the workers read the
pending messages, and the page the retrying and the failed ones, each through an index holding those rows only.

Revision ID: a7d3f5c9e821
Revises: e3b7d1f9a264
Create Date: 2026-12-05 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7d3f5c9e821"
down_revision = "e3b7d1f9a264"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_outbox_pending": (("next_attempt_at", "id"), "status = 'pending'"),
    "ix_outbox_retrying": (("next_attempt_at", "id"), "status = 'pending' AND last_error IS NOT NULL"),
    "ix_outbox_failed": (("id",), "status = 'failed'"),
}


def upgrade():
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    for name, (columns, where) in PARTIAL.items():
        op.create_index(name, "outbox", list(columns), postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade():
    for name in PARTIAL:
        op.drop_index(name, table_name="outbox")
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"], unique=False)
