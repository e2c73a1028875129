"""Readiness checks: the database answers and its schema is at the newest migration; and telling an outage of
the database (answered with 503 and ``Retry-After``) from an error of the application (a 500)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.extensions import db


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the app can serve requests, and why not."""

    ok: bool
    database: bool
    current: tuple[str, ...]
    heads: tuple[str, ...]
    error: str | None = None


@functools.cache
def migration_heads(migrations_dir: Path) -> tuple[str, ...]:
    """The head revisions of the migrations in ``migrations_dir``, read once per process: reading them parses
    every migration script (tens of milliseconds, for a probe an orchestrator sends every few seconds), and the
    scripts a process runs with do not change until it is restarted with a new release."""
    return tuple(sorted(ScriptDirectory(str(migrations_dir)).get_heads()))


def readiness(migrations_dir: Path) -> Readiness:
    """Check that the database answers and that its schema revision is the migrations' head. The reads end
    with ``COMMIT``: a probe sent every few seconds would otherwise roll back, and on PostgreSQL a rollback makes
    the driver forget the statements it prepared on the connection (:func:`app.database.end_read`)."""
    heads = migration_heads(migrations_dir)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
            conn.commit()
    except SQLAlchemyError as exc:
        return Readiness(False, False, (), heads, type(exc).__name__)
    return Readiness(current == heads, True, current, heads, None if current == heads else "migrations pending")


UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
"""PostgreSQL codes of a server going away or not taking connections: admin shutdown, crash shutdown, cannot
connect now (starting up or shutting down), too many connections. Class 08 (connection exception) too."""

UNAVAILABLE_SQLITE_MESSAGES = ("unable to open database file", "database is locked", "disk i/o error")
"""SQLite errors that say the file cannot be used right now (not that a statement is wrong)."""


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or used right now (stopped, restarting, out of
    connections, its file unreachable or locked for too long), so the request may succeed when retried.

    A wrong statement, a constraint violation or a missing table is not an outage: those stay errors (500).
    """
    if isinstance(exc, PoolTimeout):
        return True  # every pooled connection stayed busy past the pool timeout
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True  # the connection broke under the statement (server stopped or restarted)
    orig = exc.orig
    module = type(orig).__module__
    if module.startswith("sqlite3"):
        message = str(orig).lower()
        return any(text in message for text in UNAVAILABLE_SQLITE_MESSAGES)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate:
        return str(sqlstate).startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES
    # No SQLSTATE: the client library itself failed (connection refused, closed, lost): an outage when it is
    # an operational or interface error, a bug otherwise.
    return isinstance(exc, OperationalError | InterfaceError)
