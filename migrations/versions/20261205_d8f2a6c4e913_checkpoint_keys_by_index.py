"""the keys that signed the log's checkpoints, found a key at a time through an index

A checkpoint is signed every minute the log grows (half a million a year); the public keys' page, the checkpoints'
page and the API read every checkpoint to list the few keys that signed them.

Revision ID: d8f2a6c4e913
Revises: c3a9e5d7f214
Create Date: 2026-12-05 04:20:00
"""

from alembic import op

revision = 'd8f2a6c4e913'
down_revision = 'c3a9e5d7f214'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_audit_checkpoints_key_id', 'audit_checkpoints', ['key_fingerprint', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_audit_checkpoints_key_id', table_name='audit_checkpoints')
