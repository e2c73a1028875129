"""the timers still to fire, read through a partial index of their own

One index of (status, due instant) held every timer ever written: each state a case enters starts its timers and
each move cancels them, so most rows are cancelled or fired, and every cancellation wrote a new entry to it. The
worker reads only the pending timers that are due, soonest first; the calendar's recomputation only the pending
business-day ones. Now an index of the due instants of the pending timers only: as large as the open terms, not
as the history, and a timer that fires or is cancelled leaves it.

Revision ID: f4c8a2e6b913
Revises: c6a1e9d4b357
Create Date: 2026-12-05 11:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f4c8a2e6b913"
down_revision = "c6a1e9d4b357"
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"


def upgrade():
    op.drop_index("ix_timers_status_due", table_name="timers")
    op.create_index(
        "ix_timers_pending_due",
        "timers",
        ["due_at", "id"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade():
    op.drop_index("ix_timers_pending_due", table_name="timers")
    op.create_index("ix_timers_status_due", "timers", ["status", "due_at"], unique=False)
