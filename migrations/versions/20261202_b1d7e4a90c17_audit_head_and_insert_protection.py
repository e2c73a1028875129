"""audit log: the head row only moves forward; no insert may replace an existing log row

* ``audit_head``: an UPDATE must move the head forward (bulk loads may skip ahead), to the chain hash of the
  entry (which must already be stored); DELETE, TRUNCATE and a second row are refused. On PostgreSQL
  ``INSERT, DELETE, TRUNCATE`` are also revoked from PUBLIC and from the role that runs the migrations.
* ``audit_entries``, ``audit_tree_nodes``, ``audit_checkpoints``: a BEFORE INSERT trigger refuses a row
  whose key already exists, so that SQLite's ``INSERT OR REPLACE`` (which deletes the old row without
  firing the DELETE triggers) and PostgreSQL's ``INSERT … ON CONFLICT`` cannot rewrite the log.

Revision ID: b1d7e4a90c17
Revises: 5d3b9e7c1a84
Create Date: 2026-12-02 05:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b1d7e4a90c17'
down_revision = '5d3b9e7c1a84'
branch_labels = None
depends_on = None

KEYS = {
    "audit_entries": "seq = NEW.seq",
    "audit_tree_nodes": "level = NEW.level AND idx = NEW.idx",
    "audit_checkpoints": "id = NEW.id",
    "audit_head": "TRUE",
}
HEAD_FORWARD = (
    "NEW.id = OLD.id AND NEW.seq > OLD.seq "
    "AND NEW.hash = (SELECT entry_hash FROM audit_entries WHERE seq = NEW.seq)"
)


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _is_postgresql():
        for table, condition in KEYS.items():
            # One static function per table: its query plan is cached, unlike dynamic SQL.
            op.execute(
                f"""
                CREATE FUNCTION {table}_no_replace() RETURNS trigger AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM {table} WHERE {condition}) THEN
                        RAISE EXCEPTION '{table} is append-only: that row already exists'
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql
                """
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_no_replace()"
            )
        op.execute(
            f"""
            CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND {HEAD_FORWARD} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_head only moves forward, to a stored entry'
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()"
        )
        op.execute("REVOKE INSERT, DELETE, TRUNCATE ON audit_head FROM PUBLIC")
        op.execute("REVOKE INSERT, DELETE, TRUNCATE ON audit_head FROM CURRENT_USER")
    else:
        for table, condition in KEYS.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {condition.replace('TRUE', '1')}) "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: that row already exists'); END"
            )
        op.execute(
            f"CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
            f"WHEN NOT ({HEAD_FORWARD.replace('NEW.hash =', 'NEW.hash IS')}) "
            "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward, to a stored entry'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
            "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward, to a stored entry'); END"
        )


def downgrade():
    if _is_postgresql():
        op.execute("GRANT INSERT, DELETE, TRUNCATE ON audit_head TO CURRENT_USER")
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
        for table in KEYS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_no_replace()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only")
        for table in KEYS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
