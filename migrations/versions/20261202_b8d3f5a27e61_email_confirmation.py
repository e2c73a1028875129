"""e-mail confirmation: single-use links that prove an address before mail goes to it

``email_confirmations`` holds the SHA-256 of each link (what it releases once used is sealed with the
application key); ``users.email_confirmed_at`` records that an address was proven. Passwordless
requesters that exist already count as confirmed (they were mailed their links before).

Revision ID: b8d3f5a27e61
Revises: b1d7e4a90c17
Create Date: 2026-12-02 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d3f5a27e61'
down_revision = 'b1d7e4a90c17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('sealed', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_email_confirmations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_confirmations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_confirmations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_confirmations_token_hash'))
    )
    with op.batch_alter_table('email_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_confirmations_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    # Requesters who filed before confirmation existed already received their receipt and tracking link by
    # mail: they keep receiving the notices of their requests (only new addresses must be confirmed).
    op.execute(
        "UPDATE users SET email_confirmed_at = created_at WHERE password_hash = '!requester-without-account'"
    )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
    with op.batch_alter_table('email_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_confirmations_user_id'))
    op.drop_table('email_confirmations')
