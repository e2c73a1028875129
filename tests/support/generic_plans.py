"""PostgreSQL's plans as a busy connection comes to them, and the rows a transaction read: for tests that a list
reads only its own rows whatever plan the server keeps.

psycopg prepares a statement a connection runs often, and PostgreSQL then keeps for it a plan made without the
values it is given (a generic plan), from averages: a list whose plan reads more for some values than for others
is found by running it so, and counting the rows it read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.extensions import db


def as_a_busy_connection() -> None:
    """The session's connection, for the rest of its transaction, as after many requests: every statement
    prepared at its first run, and planned without its values."""
    connection: Any = db.session.connection().connection.dbapi_connection
    connection.prepare_threshold = 0
    db.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))


def rows_read(table: str) -> int:
    """Rows of ``table`` the session's transaction has read so far (by sequential scans and index fetches), with
    those of the connection's earlier transactions whose counts the server has not flushed yet (it does so at most
    once a second): take the difference across what is measured."""
    found = db.session.execute(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = :table"
        ),
        {"table": table},
    ).scalar_one_or_none()
    return int(found or 0)
