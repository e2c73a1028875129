"""audit log: on PostgreSQL the head's forward-only check runs after the update instead of before it

The check (``audit_head_forward_only``: the head moves forward, to the chain hash of a stored entry) is the
same; run as an ``AFTER`` row trigger it fires once the whole statement has written its rows, so one statement
can store an entry and move the head to it (a data-modifying ``WITH``), one round trip instead of two. An
``AFTER`` trigger that raises aborts the statement as before: nothing else changes. SQLite is untouched (it has
no data-modifying ``WITH``; its ``BEFORE`` trigger stays).

Revision ID: a8f3c61d0b95
Revises: c5d8e2f41a73
Create Date: 2026-12-02 17:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a8f3c61d0b95'
down_revision = 'c5d8e2f41a73'
branch_labels = None
depends_on = None


def _recreate(when):
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head")
    op.execute(
        f"CREATE TRIGGER audit_head_forward_only {when} UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
    )


def upgrade():
    _recreate("AFTER")


def downgrade():
    _recreate("BEFORE")
