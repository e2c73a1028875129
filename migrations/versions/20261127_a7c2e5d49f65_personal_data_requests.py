"""personal data requests: access, rectification, cancellation and opposition (ARCO)

Revision ID: a7c2e5d49f65
Revises: f6b1d4c38e54
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c2e5d49f65'
down_revision = 'f6b1d4c38e54'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
