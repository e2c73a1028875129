"""The suite's PostgreSQL databases (``tests/conftest.py``, ``PgDatabases``): one an earlier test used is given to
the next only in its template's state, and one whose schema, grants, statistics, settings or size a test changed is
dropped instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.conftest import DATABASES, PgDatabases, PgTemplate
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.skipif("postgresql" not in DATABASES, reason="the PostgreSQL databases' harness")

USER = (
    "INSERT INTO users (email, display_name, password_hash, locale, active, created_at)"
    " VALUES (%s, 'Persona', 'x', 'es_MX', true, now()) RETURNING id"
)


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _copy(raw: psycopg.Connection[Any], table: str) -> bytes:
    data = bytearray()
    with raw.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))) as copy:
        for block in copy:
            data += block
    return bytes(data)


def _exists(databases: PgDatabases, name: str) -> bool:
    with _connect(databases.server.url) as raw:
        return raw.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@pytest.fixture
def databases(pg_databases: PgDatabases) -> Iterator[PgDatabases]:
    """The worker's databases, with none kept: each test here starts from a new clone."""
    kept, pg_databases.kept = pg_databases.kept, []
    yield pg_databases
    for name in pg_databases.kept:
        pg_databases.drop(name)
    pg_databases.kept = kept


def test_a_database_given_back_holds_the_template_s_rows_and_sequences_again(
    databases: PgDatabases, pg_described_template: PgTemplate
) -> None:
    state = pg_described_template
    assert set(state.rows) >= {"alembic_version", "audit_head"}
    name, url, new = databases.take(state)
    assert new
    with _connect(url) as raw:
        first = raw.execute(USER, ("una@example.test",)).fetchone()
        raw.execute(USER, ("otra@example.test",))
        raw.execute("INSERT INTO departments (code, name) VALUES ('obras', 'Obras')")
        counted = _copy(raw, "row_counts")
    assert counted != state.rows.get("row_counts")  # the users' trigger counted them
    assert databases.give_back(name, state)

    again, url, new = databases.take(state)
    assert (again, new) == (name, False)
    with _connect(url) as raw:
        assert raw.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert raw.execute("SELECT count(*) FROM departments").fetchone() == (0,)
        for table, rows in state.rows.items():
            assert _copy(raw, table) == rows, table
        assert raw.execute(USER, ("una@example.test",)).fetchone() == first  # the sequence starts again
    assert databases.give_back(name, state)


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE audit_entries DISABLE TRIGGER USER",
        "GRANT UPDATE ON audit_head TO CURRENT_USER",
        "CREATE INDEX users_by_name ON users (display_name)",
        "ANALYZE users",
        "ALTER DATABASE {name} SET work_mem = '8MB'",
        "INSERT INTO users (email, display_name, password_hash, locale, active, created_at)"
        " SELECT 'p' || g || '@example.test', 'Persona', 'x', 'es_MX', true, now() FROM generate_series(1, 2000) g",
    ],
    ids=["trigger disabled", "grant", "index", "statistics", "setting", "grown"],
)
def test_a_database_a_test_changed_is_dropped(
    databases: PgDatabases, pg_described_template: PgTemplate, change: str
) -> None:
    name, url, _ = databases.take(pg_described_template)
    with _connect(url) as raw:
        raw.execute(change.format(name=name))
    assert not databases.give_back(name, pg_described_template)
    assert not _exists(databases, name)
    assert databases.take(pg_described_template)[0] != name


def test_a_change_rolled_back_leaves_the_database_to_use_again(
    databases: PgDatabases, pg_described_template: PgTemplate
) -> None:
    name, url, _ = databases.take(pg_described_template)
    with _connect(url) as raw, raw.transaction(force_rollback=True):
        raw.execute("ALTER TABLE audit_entries DISABLE TRIGGER USER")
    other = _connect(url)  # left open by the test: ended when the database is given back
    other.execute("SELECT 1")
    assert databases.give_back(name, pg_described_template)
    with pytest.raises(psycopg.OperationalError):
        other.execute("SELECT 1")
    other.close()


def test_a_server_stopped_with_a_client_still_connected_shuts_down_cleanly() -> None:
    """``PostgresServer.stop`` asks for a fast shutdown: a client still connected (a benchmark's pool) is
    disconnected and the server exits by itself. Smart shutdown (SIGTERM) waited for the client, and the server
    was then killed (its exit status -9), leaving its shared memory behind."""
    server = PostgresServer()
    server.start()
    client = _connect(server.url)
    try:
        assert client.execute("SELECT 1").fetchone() == (1,)
        server.stop()
        assert server.process is not None
        assert server.process.returncode == 0
        assert not server.root.exists()
    finally:
        client.close()
        server.stop()
