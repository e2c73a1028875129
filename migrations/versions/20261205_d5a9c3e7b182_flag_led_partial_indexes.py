"""the partial indexes of waiting cases and of cases owing a fee led by their flag

Led by ``department_code`` and ``workflow``, they competed with the indexes of every case naming a department
and of every case of a workflow, and SQLite, which keeps no statistics, sometimes chose those and read every
resting case. Led by the flag, the equality on it makes them the better choice on both databases.

Revision ID: d5a9c3e7b182
Revises: c2f8a4d6e157
Create Date: 2026-12-05 08:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d5a9c3e7b182"
down_revision = "c2f8a4d6e157"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_department_waiting": (
        ("department_code",),
        ("resting", "department_code"),
        "department_code IS NOT NULL AND resting = 0",
        "department_code IS NOT NULL AND NOT resting",
    ),
    "ix_cases_payment_owed": (("workflow",), ("payment_owed", "workflow"), "payment_owed = 1", "payment_owed"),
}


def _rebuild(new: bool) -> None:
    for name, (old_columns, new_columns, sqlite_where, postgresql_where) in INDEXES.items():
        op.drop_index(name, table_name="cases")
        op.create_index(
            name,
            "cases",
            list(new_columns if new else old_columns),
            unique=False,
            postgresql_where=sa.text(postgresql_where),
            sqlite_where=sa.text(sqlite_where),
        )


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
