"""accounts with a password count as confirmed: from now on a registration must prove its address first

A new applicant account could log in before anyone proved they read its address, so "register, then log in"
told whether an address already had an account (a new one logged in, a taken one did not). An account now logs in
only once its address is confirmed (``email_confirmed_at``). Accounts that already had a password (registered
before this revision, or created by an administrator) keep logging in: they count as confirmed from their creation.
Requesters without an account (a password marker starting with ``!``) are left as they were.

Revision ID: b7e2c4a9d351
Revises: 258f280a7818
Create Date: 2026-12-06 07:00:00
"""

from alembic import op

revision = "b7e2c4a9d351"
down_revision = "258f280a7818"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE users SET email_confirmed_at = created_at "
        "WHERE email_confirmed_at IS NULL AND password_hash NOT LIKE '!%'"
    )


def downgrade():
    pass  # which accounts had been confirmed by a link is not kept apart: the confirmations stay
