"""A request's read transaction ends with COMMIT on PostgreSQL, so that its connection keeps the statements the
driver prepared; a transaction that wrote anything is rolled back as before (issue 16).

psycopg forgets every prepared statement of a connection when the connection rolls back, and the statement
counts that decide what to prepare with them. Each request ended its session with a ROLLBACK, so no statement
was ever prepared from one request to the next. Each block below is its own application context, ended as a
request's is (``_end_session``)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app import MIGRATIONS_DIR
from app.database import FixedStatement, insert_of, session_connection
from app.extensions import db
from app.models import Department, User, utcnow
from app.services import delivery, timers
from app.services.health import readiness

RUNS = 8
"""Requests running the same statement: more than the driver's five runs before it prepares one."""


def _prepared_now(app: Flask) -> int:
    """The statements prepared on the connection a new request gets (the pool's only idle one)."""
    with app.app_context():
        return int(db.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one())


def _departments(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Department.code)))


@pytest.fixture
def on_postgresql(app: Flask, backend: str) -> Flask:
    """The application on PostgreSQL only, its pool emptied: the next request opens its one connection."""
    if backend != "postgresql":
        pytest.skip("SQLite's statements are compiled by the driver's own cache, kept across rollbacks")
    db.session.remove()
    db.engine.dispose()
    return app


def _requests_reading_one_statement(app: Flask) -> None:
    for _ in range(RUNS):
        with app.app_context():
            db.session.execute(select(User.id).where(User.email == "nadie@municipio.example")).all()


def test_a_connection_keeps_its_prepared_statements_from_one_request_to_the_next(on_postgresql: Flask) -> None:
    _requests_reading_one_statement(on_postgresql)
    assert _prepared_now(on_postgresql) >= 1


def test_the_workers_polls_keep_them(on_postgresql: Flask) -> None:
    """The timer and mail workers end each poll's read the same way: the poll itself is prepared."""
    with on_postgresql.app_context():
        for _ in range(RUNS):
            assert timers._due_ids(utcnow(), 10) == []
            assert delivery._due_ids(utcnow(), 10) == []
        prepared = db.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("FROM timers" in statement for statement in prepared), prepared
    assert any("FROM outbox" in statement for statement in prepared), prepared


def test_reads_through_a_with_query_and_the_readiness_probe_keep_them(on_postgresql: Flask) -> None:
    """A request whose reads include a ``WITH`` query, and the orchestrator's readiness probe, end with COMMIT
    too: the statements prepared before are still there."""
    _requests_reading_one_statement(on_postgresql)
    with on_postgresql.app_context():
        db.session.execute(text("WITH found AS (SELECT id FROM users) SELECT count(*) FROM found")).all()
    assert readiness(MIGRATIONS_DIR).ok
    assert _prepared_now(on_postgresql) >= 1


@pytest.mark.parametrize(
    "write", ["core insert", "flushed object", "pending object", "held write", "savepoint released", "insert in a with"]
)
def test_a_transaction_that_wrote_is_rolled_back_at_the_end_of_the_request(
    app: Flask, backend: str, write: str
) -> None:
    if write == "insert in a with" and backend != "postgresql":
        pytest.skip("SQLite has no writing WITH queries")
    db.session.remove()
    before = _departments(app)
    with app.app_context():
        session = db.session()
        session.execute(select(User.id)).all()  # a read first: the transaction is open
        if write == "core insert":
            session.execute(text("INSERT INTO departments (code, name) VALUES ('escrita', 'Escrita')"))
        elif write == "flushed object":
            session.add(Department(code="escrita", name="Escrita"))
            session.flush()
        elif write == "pending object":
            session.add(Department(code="escrita", name="Escrita"))
        elif write == "held write":
            statement = FixedStatement(insert_of(Department.__table__, ["code", "name"]))  # type: ignore[arg-type]
            statement.send_later(session_connection(session), {"code": "escrita", "name": "Escrita"})
        elif write == "insert in a with":
            session.execute(
                text(
                    "WITH added AS (INSERT INTO departments (code, name) VALUES ('escrita', 'Escrita') RETURNING code)"
                    " SELECT code FROM added"
                )
            ).all()
        else:
            with session.begin_nested():
                session.execute(text("INSERT INTO departments (code, name) VALUES ('escrita', 'Escrita')"))
    assert _departments(app) == before


def test_a_failed_read_is_rolled_back_without_an_error(app: Flask, backend: str) -> None:
    """On PostgreSQL it is committed: the server ends a failed transaction's COMMIT as a ROLLBACK."""
    db.session.remove()
    with app.app_context(), pytest.raises(DBAPIError):
        db.session.execute(text("SELECT missing FROM users")).all()
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1
