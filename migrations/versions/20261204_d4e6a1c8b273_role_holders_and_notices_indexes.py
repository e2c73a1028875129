"""indexes for the holders of a role and for a user's notices

``user_roles``: by role (and department), so the reviewer assignment's candidates, the staff told of an
escalation, the committee's members and the guarantors are read through the grants of that role instead of
every grant (every applicant holds one). ``outbox``: by recipient and time, so a user's notices, newest first,
read only that user's messages instead of the whole outbox.

Revision ID: d4e6a1c8b273
Revises: a8f3c61d0b95
Create Date: 2026-12-04 22:50:00
"""

from alembic import op

revision = 'd4e6a1c8b273'
down_revision = 'a8f3c61d0b95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_user_roles_role_department', 'user_roles', ['role', 'department_code'], unique=False)
    op.create_index('ix_outbox_recipient_created', 'outbox', ['recipient_id', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_outbox_recipient_created', table_name='outbox')
    op.drop_index('ix_user_roles_role_department', table_name='user_roles')
