"""The receipt of a filing without an account is one generic outbox topic

Revision ID: d2f6a8c31e07
Revises: c4e2a7f19b35
Create Date: 2026-12-02 09:00:00

Receipts waiting in the outbox under the former topic go out under the generic one, whose link is read
from the case's procedure declaration (its tracking path).
"""

from alembic import op

revision = 'd2f6a8c31e07'
down_revision = 'c4e2a7f19b35'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE outbox SET topic = 'filing_receipt' WHERE topic = 'access_receipt'")


def downgrade():
    op.execute("UPDATE outbox SET topic = 'access_receipt' WHERE topic = 'filing_receipt'")
