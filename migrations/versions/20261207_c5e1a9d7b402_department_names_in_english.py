"""departments may carry their name in English beside the Spanish one

English readers read a department's name in English where the administrator gave one, and its Spanish name
otherwise: the new column is nullable and the departments already there keep their names, without English ones.
(The requirements and fee-table settings carry their English values as optional keys of their JSON items;
settings saved without them stay valid as they are, so they need no data migration.)

Revision ID: c5e1a9d7b402
Revises: b7e2c4a9d351
Create Date: 2026-12-07 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c5e1a9d7b402"
down_revision = "b7e2c4a9d351"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("name_en")
