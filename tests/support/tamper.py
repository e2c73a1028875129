"""Deliberate corruption of the stored audit log, bypassing the append-only triggers as an attacker with
direct database access would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

from app.extensions import db


@contextmanager
def raw_write() -> Iterator[Connection]:
    """A connection on which the append-only protection is switched off, committed at the end."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
            yield conn
            conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_delete"))
            yield conn
        conn.commit()
