"""On PostgreSQL a read that needs no transaction runs as one of its own (the driver's autocommit): a page's reads
send no ``BEGIN`` and no ``COMMIT``, two round trips fewer a request. Whatever needs a transaction begins one
before its first statement and keeps it to the end: a unit of work from its first read, a write or a savepoint
outside one, a read that locks rows, rows streamed from a server-side cursor (issue 16).

At READ COMMITTED, the application's level, each statement sees what was committed before it started, in a
transaction or not: a transaction that only reads adds nothing to what its reads see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg.pq import TransactionStatus
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import AuditEntry, Department, Role, User
from app.services.cases import fire
from app.services.uow import unit_of_work
from tests.support.factories import make_user, submitted_case
from tests.web.helpers import login_as


class Sent(NamedTuple):
    """A statement as it was sent: whether the connection was in autocommit, and whether a transaction was open."""

    statement: str
    autocommit: bool
    in_transaction: bool


@contextmanager
def sent() -> Iterator[list[Sent]]:
    """The statements sent inside the block, each with its connection's state as the driver sends it (after the
    application's own listeners, which begin the transaction a statement needs)."""
    seen: list[Sent] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        driver = conn.connection.dbapi_connection
        status = driver.info.transaction_status
        seen.append(Sent(" ".join(statement.split()), driver.autocommit, status is not TransactionStatus.IDLE))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def on_postgresql(app: Flask, backend: str) -> Flask:
    if backend != "postgresql":
        pytest.skip("SQLite's transactions are begun by the application (BEGIN, BEGIN IMMEDIATE for a write)")
    return app


def _departments(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Department.code)))


def _other_connection(app: Flask) -> psycopg.Connection[Any]:
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(url, autocommit=True)


def test_a_page_sends_its_reads_without_a_transaction(on_postgresql: Flask, client: FlaskClient) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    case_id = submitted_case(owner)
    login_as(client, clerk)
    for path in (f"/expedientes/{case_id}", "/bandeja"):
        assert client.get(path).status_code == 200
        with sent() as seen:
            assert client.get(path).status_code == 200
        assert len(seen) >= 4, seen  # the login, the case or the queue, their terms …
        assert all(s.autocommit and not s.in_transaction for s in seen), seen


def test_a_unit_of_work_is_one_transaction_from_its_first_read(on_postgresql: Flask) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    case_id = submitted_case(owner)
    with on_postgresql.app_context():
        version = _version(case_id)
        db.session.rollback()
        with sent() as seen:
            fire(case_id, "start_intake", clerk, expected_version=version)
    assert seen
    assert not any(s.autocommit for s in seen), seen
    assert not seen[0].in_transaction  # its BEGIN goes with its first statement …
    assert all(s.in_transaction for s in seen[1:]), seen  # … and everything after is in it


def _version(case_id: int) -> int:
    return int(db.session.execute(text("SELECT version FROM cases WHERE id = :id"), {"id": case_id}).scalar_one())


def test_a_unit_of_work_that_fails_after_its_writes_leaves_nothing(on_postgresql: Flask) -> None:
    before = _departments(on_postgresql)

    def reads_writes_and_fails() -> None:
        with unit_of_work() as session:
            session.execute(select(User.id)).all()
            session.add(Department(code="escrita", name="Escrita"))
            session.flush()
            session.execute(text("INSERT INTO departments (code, name) VALUES ('otra', 'Otra')"))
            raise RuntimeError("after the writes")

    with on_postgresql.app_context(), pytest.raises(RuntimeError, match="after the writes"):
        reads_writes_and_fails()
    assert _departments(on_postgresql) == before


def test_writes_outside_a_unit_of_work_are_one_transaction_with_what_follows(on_postgresql: Flask) -> None:
    """The first write begins the transaction; a later one, a savepoint and the rollback are in it."""
    before = _departments(on_postgresql)
    with on_postgresql.app_context():
        session = db.session()
        with sent() as seen:
            session.execute(select(User.id)).all()
            session.execute(text("INSERT INTO departments (code, name) VALUES ('escrita', 'Escrita')"))
            with session.begin_nested():
                session.execute(text("INSERT INTO departments (code, name) VALUES ('otra', 'Otra')"))
        assert seen[0].autocommit, seen  # the read: its own transaction
        assert not seen[0].in_transaction, seen
        assert not any(s.autocommit for s in seen[1:]), seen
        session.rollback()
    assert _departments(on_postgresql) == before


def test_a_locking_read_outside_a_unit_of_work_keeps_its_lock_until_the_end(on_postgresql: Flask) -> None:
    user = make_user(Role.INTAKE_CLERK)
    other = _other_connection(on_postgresql)
    try:
        with on_postgresql.app_context():
            session = db.session()
            session.execute(select(User.id).where(User.id == user).with_for_update()).all()
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT id FROM users WHERE id = %s FOR UPDATE NOWAIT", (user,))
            session.rollback()
        assert other.execute("SELECT id FROM users WHERE id = %s FOR UPDATE NOWAIT", (user,)).fetchall() == [(user,)]
    finally:
        other.close()


def test_rows_streamed_outside_a_unit_of_work(on_postgresql: Flask) -> None:
    """A server-side cursor lives in a transaction: one is begun for it."""
    for _ in range(3):  # an entry each
        make_user(Role.INTAKE_CLERK)
    with on_postgresql.app_context():
        query = select(AuditEntry.seq).order_by(AuditEntry.seq).execution_options(yield_per=2)
        streamed = [seq for (seq,) in db.session.execute(query)]
        assert streamed == list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert len(streamed) > 2


def test_a_connection_is_given_out_in_autocommit_again_after_a_transaction(on_postgresql: Flask) -> None:
    with on_postgresql.app_context():
        with unit_of_work() as session:
            session.add(Department(code="escrita", name="Escrita"))
        with sent() as seen:
            db.session.execute(select(Department.code)).all()
    assert seen
    assert seen[0].autocommit, seen
    assert not seen[0].in_transaction, seen
