"""the security log of one kind, newest first, read through an index

``security_events`` grows with every login; the administration's security page filtered by a kind (failed
second factors, throttled attempts…) walked the whole log backwards to find the few of that kind.

Revision ID: e8b2d5f1a946
Revises: d4e6a1c8b273
Create Date: 2026-12-04 23:25:00
"""

from alembic import op

revision = 'e8b2d5f1a946'
down_revision = 'd4e6a1c8b273'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_security_events_kind_id', 'security_events', ['kind', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_security_events_kind_id', table_name='security_events')
