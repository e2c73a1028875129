"""case assignment: random reviewer draws, reassignments and recusals

Revision ID: d4f9b2a16c32
Revises: c3e8a1f05b21
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f9b2a16c32'
down_revision = 'c3e8a1f05b21'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
