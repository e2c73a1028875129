"""audit head: the Merkle tree's right edge and the sequence number of the last calendar change

``audit_head.frontier`` keeps the hashes of the complete subtrees on the tree's right edge, stamped with the
size they belong to, so that appending an entry reads no subtree; it starts empty and the next append
rebuilds it from the stored subtrees. ``audit_head.calendar_seq`` is the sequence number of the last entry
that changed the declared non-working days (0: none since this migration), so that processes may keep the
calendar cached and read it again only when it changed.

Columns are added in place (no table copy on SQLite): the head's triggers stay as they are.

Revision ID: e7a4c9d2b6f1
Revises: a7c3e9d51f28
Create Date: 2026-12-02 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e7a4c9d2b6f1'
down_revision = 'a7c3e9d51f28'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_head', sa.Column('frontier', sa.Text(), server_default='', nullable=False))
    op.add_column('audit_head', sa.Column('calendar_seq', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    op.execute('ALTER TABLE audit_head DROP COLUMN calendar_seq')
    op.execute('ALTER TABLE audit_head DROP COLUMN frontier')
