"""transparency-obligation publications: formats, calendar, records, samples

Revision ID: f6b1d4c38e54
Revises: e5a0c3b27d43
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b1d4c38e54'
down_revision = 'e5a0c3b27d43'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
