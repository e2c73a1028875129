"""access-to-information requests: area turns, committee sessions, appeals

Revision ID: e5a0c3b27d43
Revises: d4f9b2a16c32
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a0c3b27d43'
down_revision = 'd4f9b2a16c32'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
