"""the pending and the answered personal-data requests, each read through a partial index of its own

The administrators' list shows the pending requests and the latest fifty answered ones. Through the index of
(status, due day) it read every request ever answered to sort them by their number: the list grew with the
years. Now the pending ones (earliest due first) and the answered ones (newest first) each have an index holding
those requests only.

Revision ID: b4e8c2a6f173
Revises: a7d3f5c9e821
Create Date: 2026-12-05 10:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b4e8c2a6f173"
down_revision = "a7d3f5c9e821"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_personal_data_requests_pending": (("due_on", "id"), "status = 'pending'"),
    "ix_personal_data_requests_resolved": (("id",), "status = 'resolved'"),
}


def upgrade():
    op.drop_index("ix_personal_data_requests_status_due", table_name="personal_data_requests")
    for name, (columns, where) in PARTIAL.items():
        op.create_index(
            name,
            "personal_data_requests",
            list(columns),
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade():
    for name in PARTIAL:
        op.drop_index(name, table_name="personal_data_requests")
    op.create_index(
        "ix_personal_data_requests_status_due", "personal_data_requests", ["status", "due_on"], unique=False
    )
