"""audit log: Merkle leaf hashes, stored subtrees, signed checkpoints; append-only grants and triggers

Adds ``audit_entries.leaf_hash`` (RFC 9162 leaf hash of the canonical entry, backfilled here for
existing entries), ``audit_tree_nodes`` (the hash of every complete subtree, backfilled too) and
``audit_checkpoints`` (signed tree heads). All three log tables are append-only:

* SQLite and PostgreSQL: triggers reject UPDATE and DELETE (and TRUNCATE on PostgreSQL).
* PostgreSQL: ``REVOKE UPDATE, DELETE, TRUNCATE`` on the three tables from PUBLIC and from the role
  that runs the migrations, so the application's role cannot change log rows even with the triggers
  disabled; see docs/audit-log.md for the recommended owner/application role split.

The canonical form used by the backfill is format v1 of docs/audit-log.md, copied here on purpose:
a migration must keep meaning what it meant when it was written.

Revision ID: a91f4c2e7d35
Revises: 3c1e16115693
Create Date: 2026-11-27 09:20:00.000000

"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a91f4c2e7d35'
down_revision = '3c1e16115693'
branch_labels = None
depends_on = None

LOG_TABLES = ("audit_entries", "audit_tree_nodes", "audit_checkpoints")
NEW_TABLES = ("audit_tree_nodes", "audit_checkpoints")
CANONICAL_FIELDS_V1 = (
    "seq", "at", "kind", "case_id", "folio", "workflow", "workflow_version", "action", "from_state",
    "to_state", "actor_id", "actor_role", "case_version", "comment_digest", "data_digest",
    "documents_digest", "details",
)
PAGE = 1000

entries = sa.table(
    "audit_entries",
    *[sa.column(name) for name in CANONICAL_FIELDS_V1 if name not in ("at", "details", "seq")],
    sa.column("seq", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("details", sa.JSON),
    sa.column("leaf_hash", sa.String),
)
nodes = sa.table("audit_tree_nodes", sa.column("level", sa.Integer), sa.column("idx", sa.Integer), sa.column("hash", sa.String))


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _canonical_v1(row):
    fields = {name: row[name] for name in CANONICAL_FIELDS_V1}
    at = row["at"]
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    fields["at"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields["details"] = dict(fields["details"] or {})
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _backfill():
    """Leaf hash of every existing entry and every complete subtree, streaming in pages."""
    bind = op.get_bind()
    peaks = []
    size = 0
    after = 0
    while True:
        rows = bind.execute(
            sa.select(entries).where(entries.c.seq > after).order_by(entries.c.seq).limit(PAGE)
        ).mappings().all()
        if not rows:
            break
        updates, completed = [], []
        for row in rows:
            if row["seq"] != size + 1:
                raise RuntimeError(f"audit_entries has a gap before seq {row['seq']}; run `audit verify` first")
            current = hashlib.sha256(b"\x00" + _canonical_v1(row)).digest()
            updates.append({"b_seq": row["seq"], "b_leaf": current.hex()})
            level, n = 0, size
            while n & 1:
                current = hashlib.sha256(b"\x01" + peaks.pop() + current).digest()
                level += 1
                n >>= 1
                completed.append({"level": level, "idx": ((size + 1) >> level) - 1, "hash": current.hex()})
            peaks.append(current)
            size += 1
        bind.execute(
            entries.update().where(entries.c.seq == sa.bindparam("b_seq")).values(leaf_hash=sa.bindparam("b_leaf")),
            updates,
        )
        if completed:
            bind.execute(nodes.insert(), completed)
        after = rows[-1]["seq"]


def _drop_entry_triggers():
    if _is_postgresql():
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def _restore_entry_triggers():
    if _is_postgresql():
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_update_delete")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
            )


def _create_new_table_triggers():
    if _is_postgresql():
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in NEW_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
            )
        tables = ", ".join(LOG_TABLES)
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM PUBLIC")
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM CURRENT_USER")
    else:
        for table in NEW_TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def _drop_new_table_triggers():
    if _is_postgresql():
        op.execute("GRANT UPDATE, DELETE, TRUNCATE ON audit_entries TO CURRENT_USER")
        for table in NEW_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        for table in NEW_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def upgrade():
    op.create_table('audit_tree_nodes',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('idx >= 0', name=op.f('ck_audit_tree_nodes_idx_not_negative')),
    sa.CheckConstraint('length(hash) = 64', name=op.f('ck_audit_tree_nodes_hash_length')),
    sa.CheckConstraint('level >= 1', name=op.f('ck_audit_tree_nodes_level_positive')),
    sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_audit_tree_nodes'))
    )
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.CheckConstraint('length(key_fingerprint) = 64', name=op.f('ck_audit_checkpoints_key_fingerprint_length')),
    sa.CheckConstraint('length(root_hash) = 64', name=op.f('ck_audit_checkpoints_root_hash_length')),
    sa.CheckConstraint('tree_size >= 1', name=op.f('ck_audit_checkpoints_tree_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.create_index('ix_audit_checkpoints_tree_size', ['tree_size'], unique=False)

    _drop_entry_triggers()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaf_hash', sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('leaf_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_check_constraint(op.f('ck_audit_entries_leaf_hash_length'), 'length(leaf_hash) = 64')
    _restore_entry_triggers()
    _create_new_table_triggers()


def downgrade():
    _drop_new_table_triggers()
    _drop_entry_triggers()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entries_leaf_hash_length'), type_='check')
        batch_op.drop_column('leaf_hash')
    _restore_entry_triggers()

    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_checkpoints_tree_size')

    op.drop_table('audit_checkpoints')
    op.drop_table('audit_tree_nodes')
