"""Deliberate corruption of the stored audit log, bypassing the append-only protections as an attacker with
direct database access (the tables' owner) would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from app.audit import merkle
from app.audit.canonical import GENESIS_HASH, canonical_entry, chain_hash
from app.extensions import db
from app.models import AuditEntry

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


def rewrite_consistently(conn: Connection, seq: int) -> None:
    """Change entry ``seq`` and recompute every stored hash and subtree after it, and the head: only the
    checkpoints' signatures can tell (on a :func:`raw_write` connection)."""
    conn.execute(text("UPDATE audit_entries SET actor_role = 'admin' WHERE seq = :seq"), {"seq": seq})
    rows = conn.execute(AuditEntry.__table__.select().order_by(AuditEntry.seq)).mappings().all()
    running = GENESIS_HASH
    growing = merkle.CompactRange()
    nodes = []
    for row in rows:
        canonical = canonical_entry(row)
        leaf = merkle.leaf_hash(canonical)
        new_chain = chain_hash(running, canonical)
        conn.execute(
            text("UPDATE audit_entries SET prev_hash = :prev, entry_hash = :chain, leaf_hash = :leaf WHERE seq = :seq"),
            {"prev": running, "chain": new_chain, "leaf": leaf.hex(), "seq": row["seq"]},
        )
        running = new_chain
        nodes += [{"level": lv, "idx": ix, "hash": h.hex()} for lv, ix, h in growing.append(leaf)]
    conn.execute(text("DELETE FROM audit_tree_nodes"))
    conn.execute(text("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (:level, :idx, :hash)"), nodes)
    conn.execute(text("UPDATE audit_head SET hash = :hash WHERE id = 1"), {"hash": running})
