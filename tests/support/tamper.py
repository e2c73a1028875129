"""Deliberate corruption of the stored audit log, bypassing the append-only protections as an attacker with
direct database access (the tables' owner) would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from app.extensions import db

LOG_TABLES = ("audit_entries", "audit_tree_nodes", "audit_checkpoints", "audit_head")
SQLITE_TRIGGERS = ("no_update", "no_delete", "no_replace", "forward_only")


def _unprotect(conn: Connection, attempts: int = 5) -> None:
    """Switch the protections off (foreign keys, revoked grants, triggers). ``ALTER TABLE`` takes a strong lock;
    when PostgreSQL picks this connection as the victim of a deadlock with a background process (autovacuum's
    analyze of a table just written), it rolls back and tries again: that is the database's own answer."""
    for attempt in range(attempts):
        try:
            conn.execute(text("SET session_replication_role = replica"))  # foreign keys off, as an owner could
            for table in LOG_TABLES:
                # the migrations revoked them
                conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON {table} TO CURRENT_USER"))
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            return
        except OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == attempts - 1:
                raise
            conn.rollback()


@contextmanager
def raw_write() -> Iterator[Connection]:
    """A connection on which the append-only protection of the log tables is switched off, committed at the end."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            _unprotect(conn)
            yield conn
            for table in LOG_TABLES:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            conn.execute(text("SET session_replication_role = origin"))
            conn.commit()
        else:
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, as SQLite requires
            try:
                for table in LOG_TABLES:
                    for trigger in SQLITE_TRIGGERS:
                        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_{trigger}"))
                yield conn
                conn.commit()
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
