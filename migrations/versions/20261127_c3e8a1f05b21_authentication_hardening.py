"""authentication hardening: sessions, second factor, password resets, security log

Revision ID: c3e8a1f05b21
Revises: b7b04993f32e
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e8a1f05b21'
down_revision = 'b7b04993f32e'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
