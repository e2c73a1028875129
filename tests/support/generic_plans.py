"""PostgreSQL's plans as a busy connection comes to them, and the rows a transaction read: for tests that a list
reads only its own rows whatever plan the server keeps.

psycopg prepares a statement a connection runs often, and PostgreSQL then keeps for it a plan made without the
values it is given (a generic plan), from averages: a list whose plan reads more for some values than for others
is found by running it so, and counting the rows it read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from app.extensions import db


def as_a_busy_connection() -> None:
    """The session's connection, for the rest of its transaction, as after many requests: every statement
    prepared at its first run, and planned without its values."""
    connection: Any = db.session.connection().connection.dbapi_connection
    connection.prepare_threshold = 0
    db.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))


def analysed(*tables: str) -> None:
    """Commit the session's work and gather the statistics of ``tables``, as the server's autovacuum would after a
    bulk load (the plans are made from them)."""
    db.session.commit()
    with db.engine.connect() as connection:
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")
        connection.commit()


def many_citizens(count: int) -> None:
    """``count`` citizens, each holding the applicant's role (as every person who files does), their tables
    analysed."""
    db.session.execute(
        text(
            "INSERT INTO users (email, display_name, password_hash, locale, active, created_at)"
            " SELECT 'ciudadana' || g || '@example.test', 'Ciudadana', 'x', 'es_MX', true, now()"
            " FROM generate_series(1, :count) AS g"
        ),
        {"count": count},
    )
    db.session.execute(
        text(
            "INSERT INTO user_roles (user_id, role)"
            " SELECT id, 'applicant' FROM users WHERE email LIKE 'ciudadana%@example.test'"
        )
    )
    analysed("users", "user_roles")


@dataclass
class Reads:
    """The rows read inside a :func:`counting_reads` block, known when it ends."""

    rows: int = 0


def _read_so_far(tables: tuple[str, ...]) -> int:
    found = db.session.execute(
        text(
            "SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)"
            " FROM pg_stat_xact_user_tables WHERE relname = ANY(:tables)"
        ),
        {"tables": list(tables)},
    ).scalar_one()
    return int(found)


@contextmanager
def counting_reads(*tables: str) -> Iterator[Reads]:
    """The rows of ``tables`` the session read inside the block (by sequential scans and index fetches). The
    server's counts of a transaction include those of the connection's earlier transactions it has not flushed yet
    (it does so at most once a second): a setup's bulk load could still be among them, so the difference across
    the block is taken."""
    reads = Reads()
    before = _read_so_far(tables)
    yield reads
    reads.rows = _read_so_far(tables) - before
