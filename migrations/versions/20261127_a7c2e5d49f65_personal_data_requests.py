"""personal data requests: access, rectification, cancellation and opposition (ARCO)

Adds ``personal_data_requests`` (one row per request a person makes about their personal data, with
its received and due dates; references only).

Narrows the append-only rule of ``audit_entries`` by exactly one operation: erasing the free text of
a comment (``comment`` and ``comment_salt`` set to NULL, every other column unchanged). The comment is
not part of an entry's canonical form (only its salted digest is), so erasing it honours a
cancellation request without changing any hash, proof or checkpoint. Any other UPDATE, and every
DELETE, is still rejected; on PostgreSQL the migrating role gets back the UPDATE privilege on those
two columns only.

Revision ID: a7c2e5d49f65
Revises: f6b1d4c38e54
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c2e5d49f65'
down_revision = 'f6b1d4c38e54'
branch_labels = None
depends_on = None

ERASABLE = ("comment", "comment_salt")

PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

PG_COMMENT_ERASABLE = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.comment IS NULL AND NEW.comment_salt IS NULL
       AND (to_jsonb(NEW) - 'comment' - 'comment_salt') = (to_jsonb(OLD) - 'comment' - 'comment_salt') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
)


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_comment_erasable():
    columns = [c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit_entries")]
    unchanged = " AND ".join(f"NEW.{name} IS OLD.{name}" for name in columns if name not in ERASABLE)
    return (
        "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
        f"WHEN NOT (NEW.comment IS NULL AND NEW.comment_salt IS NULL AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
    )


def upgrade():
    op.create_table('personal_data_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('access', 'rectification', 'cancellation', 'opposition', name='datarequestkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status', sa.Enum('pending', 'resolved', name='datarequeststatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('due_on >= received_on', name=op.f('ck_personal_data_requests_due_after_received')),
    sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL AND resolved_by_id IS NOT NULL)", name=op.f('ck_personal_data_requests_resolved_has_resolution')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_personal_data_requests_registered_by_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_personal_data_requests_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_data_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_requests'))
    )
    with op.batch_alter_table('personal_data_requests', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_requests_status_due', ['status', 'due_on'], unique=False)
        batch_op.create_index('ix_personal_data_requests_user_kind', ['user_id', 'kind'], unique=False)

    if _is_postgresql():
        op.execute(PG_COMMENT_ERASABLE)
        op.execute(f"GRANT UPDATE ({', '.join(ERASABLE)}) ON audit_entries TO CURRENT_USER")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute(_sqlite_comment_erasable())


def downgrade():
    if _is_postgresql():
        op.execute(f"REVOKE UPDATE ({', '.join(ERASABLE)}) ON audit_entries FROM CURRENT_USER")
        op.execute(PG_APPEND_ONLY)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute(SQLITE_APPEND_ONLY)

    with op.batch_alter_table('personal_data_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_personal_data_requests_user_kind')
        batch_op.drop_index('ix_personal_data_requests_status_due')

    op.drop_table('personal_data_requests')
