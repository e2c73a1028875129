"""the draws' seeds of one year, read through an index of their periods

A seed is committed for each draw and quarter; the public draws' page listed every seed ever committed, and
the latest period was found by reading them all.

Revision ID: a4c7e2b9d318
Revises: d8f2a6c4e913
Create Date: 2026-12-05 06:40:00
"""

from alembic import op

revision = 'a4c7e2b9d318'
down_revision = 'd8f2a6c4e913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_draw_seeds_period', 'draw_seeds', ['period', 'scope'], unique=False)


def downgrade():
    op.drop_index('ix_draw_seeds_period', table_name='draw_seeds')
