"""Fixed statements (``app.database.FixedStatement``): the hot paths' statements compiled once per dialect and
sent to the driver's cursor (issue 16). They must give what SQLAlchemy's own execution gives (the same values,
converted by the same column types), in the session's transaction, through the engine's cursor events, and
with driver errors raised as SQLAlchemy's; what would need SQLAlchemy's work on every call is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import Enum as SAEnum
from sqlalchemy import Table, bindparam, event, func, insert, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from sqlalchemy.orm import Session

from app.database import FixedStatement, among, for_ids, insert_of, quick_conversion, session_connection
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, OutboxMessage, OutboxStatus, Role, Timer, TimerKind, TimerStatus
from app.notifications.outbox import enqueue_rows, message_row
from app.services.cases import fire
from app.services.uow import unit_of_work
from tests.services.test_fire_statements import statements
from tests.support.factories import make_user, vecs_case

_OUTBOX = cast(Table, OutboxMessage.__table__)


def _moved_case() -> int:
    """A VECS case submitted and taken into intake: log entries, timers (dates, enums, flags) and JSON."""
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    draft = vecs_case(owner)
    submitted = fire(draft.case_id, "submit", owner, expected_version=draft.version, comment="Va completo")
    fire(draft.case_id, "start_intake", clerk, expected_version=submitted.version)
    return draft.case_id


def test_rows_are_the_values_sqlalchemy_gives(app: Flask) -> None:
    case_id = _moved_case()
    session = db.session()
    selects = [
        select(
            AuditEntry.seq, AuditEntry.at, AuditEntry.kind, AuditEntry.details, AuditEntry.comment, AuditEntry.case_id
        )
        .where(AuditEntry.case_id == bindparam("case_id"))
        .order_by(AuditEntry.seq),
        select(Timer.kind, Timer.status, Timer.business, Timer.due_on, Timer.due_at, Timer.starts_on, Timer.party)
        .where(Timer.case_id == bindparam("case_id"), Timer.status == TimerStatus.PENDING)
        .order_by(Timer.id),
        select(Case.data, Case.params, Case.created_at, Case.closed_at, Case.state).where(
            Case.id == bindparam("case_id")
        ),
        # a UNION takes its columns' types from its first part, as SQLAlchemy's results do
        union_all(
            select(literal("a").label("src"), AuditEntry.at.label("at")).where(
                AuditEntry.case_id == bindparam("case_id")
            ),
            select(literal("c").label("src"), Case.updated_at).where(Case.id == bindparam("case_id")),
        ),
    ]
    for statement in selects:
        expected = [tuple(row) for row in session.execute(statement, {"case_id": case_id})]
        got = FixedStatement(statement).read(session, {"case_id": case_id})
        assert got == expected
        assert got, "each statement reads rows"
    entries = FixedStatement(selects[0]).read(session, {"case_id": case_id})
    assert {kind for _, _, kind, *_ in entries} >= {AuditKind.TRANSITION}
    assert all(isinstance(at, datetime) and at.utcoffset() is not None for _, at, *_ in entries)
    assert any(comment == "Va completo" for *_, comment, _ in entries)
    assert all(isinstance(details, dict) for _, _, _, details, *_ in entries)


def test_writes_are_in_the_transaction_and_seen_by_the_cursor_events(app: Flask) -> None:
    session = db.session()
    message = {"topic": "prueba", "dedup_key": "fixed:1", "payload": {"folio": "VECS-1"}, "recipient_id": None}
    with statements() as seen:
        enqueue_rows(session, [message, {**message, "dedup_key": "fixed:2"}])
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2  # the read sees the rows
    assert len(seen) == 2  # one executemany, then the read
    assert seen[0].lstrip().upper().startswith("INSERT INTO OUTBOX")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # rolled back with the rest
    enqueue_rows(session, [message])
    session.commit()
    stored = session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == "fixed:1")).one()
    assert (stored.status, stored.attempts, stored.payload) == (OutboxStatus.PENDING, 0, {"folio": "VECS-1"})
    assert stored.created_at.tzinfo is not None
    assert abs(stored.created_at - datetime.now(UTC)).total_seconds() < 60


def test_an_update_returns_the_rows_it_matched(app: Flask) -> None:
    session = db.session()
    enqueue_rows(session, [{"topic": "prueba", "dedup_key": f"fixed:{n}", "payload": {}} for n in range(3)])
    retry = FixedStatement(
        update(_OUTBOX).where(_OUTBOX.c.topic == bindparam("topic")).values(attempts=_OUTBOX.c.attempts + 1)
    )
    assert retry.execute(session.connection(), {"topic": "prueba"}) == 3
    assert retry.execute(session.connection(), {"topic": "otro"}) == 0
    assert session.scalars(select(OutboxMessage.attempts)).all() == [1, 1, 1]


def test_a_driver_error_is_raised_as_sqlalchemys_and_the_session_goes_on(app: Flask) -> None:
    session = db.session()
    message = {"topic": "prueba", "dedup_key": "fixed:dup", "payload": {}}
    enqueue_rows(session, [message])
    session.commit()

    def write_and_read() -> None:
        enqueue_rows(session, [message])
        session.scalar(select(func.count()).select_from(OutboxMessage))

    with pytest.raises(IntegrityError) as raised:  # at once, or (PostgreSQL) with the next statement
        write_and_read()
    assert "INSERT INTO outbox" in str(raised.value)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_what_needs_work_on_every_call_is_refused(app: Flask) -> None:
    connection = db.session().connection()
    defaults_left = FixedStatement(insert(_OUTBOX).values(topic=bindparam("topic"), dedup_key=bindparam("key")))
    with pytest.raises(ValueError, match="defaults"):
        defaults_left.execute(connection, {"topic": "t", "key": "k"})
    expanding = FixedStatement(select(Case.id).where(Case.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        expanding.rows(connection, {"ids": [1, 2]})
    everything = FixedStatement(insert_of(_OUTBOX, ["topic", "dedup_key", "payload"]))
    with pytest.raises(ValueError, match="defaults"):  # status, attempts and times have Python-side defaults
        everything.execute(connection, {"topic": "t", "dedup_key": "k", "payload": {}})


def test_a_missing_parameter_is_named_and_nothing_is_sent_for_no_rows(app: Flask) -> None:
    session = db.session()
    by_topic = FixedStatement(select(OutboxMessage.id).where(OutboxMessage.topic == bindparam("topic")))
    with pytest.raises(KeyError, match="topic"):
        by_topic.read(session, {})
    with statements() as seen:
        enqueue_rows(session, [])
    assert seen == []


def test_objects_pending_in_the_session_are_flushed_before_a_read(app: Flask) -> None:
    session = db.session()
    session.add(OutboxMessage(topic="pendiente", dedup_key="fixed:pending", payload={}))
    by_topic = FixedStatement(select(OutboxMessage.dedup_key).where(OutboxMessage.topic == bindparam("topic")))
    assert by_topic.read(session, {"topic": "pendiente"}) == [("fixed:pending",)]


def _outbox_row(key: str) -> dict[str, Any]:
    return message_row({"topic": "diferida", "dedup_key": key, "payload": {}}, datetime.now(UTC))


_WRITE = FixedStatement(insert_of(_OUTBOX, [column.key for column in _OUTBOX.columns if column.key != "id"]))


def _stored_keys() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.dedup_key).order_by(OutboxMessage.dedup_key)))


def test_writes_sent_later_wait_for_the_next_statement_or_the_commit(app: Flask) -> None:
    """On PostgreSQL a held write goes out with the transaction's next statement (which sees it) or before its
    commit, the held writes together and in order; elsewhere it runs at once. A rollback drops what is held."""
    session = db.session()
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    with statements() as seen:
        _WRITE.send_later(connection, _outbox_row("held:1"))
        _WRITE.send_many_later(connection, [_outbox_row("held:2"), _outbox_row("held:3")])
        assert len(seen) == (0 if postgres else 2)
        assert _stored_keys() == ["held:1", "held:2", "held:3"]  # the read sent them first and sees them
    assert len(seen) == 3
    assert seen[-1].lstrip().upper().startswith("SELECT")
    session.commit()
    _WRITE.send_later(session.connection(), _outbox_row("held:4"))
    session.commit()  # sent before the commit
    _WRITE.send_later(session.connection(), _outbox_row("held:5"))
    session.rollback()  # dropped (PostgreSQL) or rolled back
    with statements() as seen:
        assert _stored_keys() == ["held:1", "held:2", "held:3", "held:4"]
    assert len(seen) == 1  # nothing of the rolled-back transaction is sent later


def test_a_held_write_that_fails_fails_the_transaction_and_a_savepoint_keeps_its_own(app: Flask) -> None:
    session = db.session()
    _WRITE.send_later(session.connection(), _outbox_row("dup"))
    session.commit()

    def write_and_commit() -> None:
        _WRITE.send_later(session.connection(), _outbox_row("dup"))
        session.commit()

    with pytest.raises(IntegrityError):  # at once, or (PostgreSQL) before the commit
        write_and_commit()
    session.rollback()
    assert _stored_keys() == ["dup"]
    session.rollback()
    outer = _outbox_row("outer")
    _WRITE.send_later(session.connection(), outer)
    with session.begin_nested() as savepoint:  # the savepoint's statement sends the outer write first
        _WRITE.send_later(session.connection(), _outbox_row("inner"))
        savepoint.rollback()
    session.commit()
    assert _stored_keys() == ["dup", "outer"]


def test_writes_held_in_a_savepoint_go_with_it_when_the_connection_was_asked_before(app: Flask) -> None:
    """The unit of work keeps its connection from the start; inside a savepoint the session is asked for it again
    (which emits the ``SAVEPOINT``), so that a write held there is rolled back with the savepoint."""
    with unit_of_work() as session:
        assert session_connection(session) is session.connection()
        _WRITE.send_later(session_connection(session), _outbox_row("before"))
        with session.begin_nested() as savepoint:
            inner = session_connection(session)
            assert session.get_nested_transaction() is not None
            _WRITE.send_later(inner, _outbox_row("inside"))
            savepoint.rollback()
        _WRITE.send_later(session_connection(session), _outbox_row("after"))
    assert _stored_keys() == ["after", "before"]

    def fail_in_a_savepoint(session: Session) -> None:
        with session.begin_nested():  # rolled back when its second write fails on the unique key
            _WRITE.send_later(session_connection(session), _outbox_row("twice"))
            _WRITE.send_later(session_connection(session), _outbox_row("before"))
            session.execute(select(OutboxMessage.id))  # sends what is held first (SQLite: sent at once)

    with unit_of_work() as session:
        session_connection(session)
        with pytest.raises(IntegrityError):
            fail_in_a_savepoint(session)
        _WRITE.send_later(session_connection(session), _outbox_row("last"))
    assert _stored_keys() == ["after", "before", "last"]


def test_a_list_of_ids_is_one_statement_text_whatever_its_length(app: Flask) -> None:
    """``among``: ``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM json_each(…))`` on SQLite; the same
    rows as an ``IN`` of the values, and one statement text for any number of them (the driver parses it once,
    PostgreSQL reuses its plan)."""
    session = db.session()
    enqueue_rows(session, [{"topic": "lista", "dedup_key": f"ids:{n}", "payload": {}} for n in range(12)])
    session.flush()
    ids = list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    listed = FixedStatement(select(OutboxMessage.id).where(among(OutboxMessage.id, "ids")).order_by(OutboxMessage.id))
    with statements() as seen:
        for chosen in ([], ids[:1], ids[2:5], ids, [*ids, 10**9], ids[::-1], [ids[0], ids[0]]):
            expected = session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(chosen))).all()
            assert [row[0] for row in listed.read(session, {"ids": chosen})] == sorted(expected)
    texts = {statement for statement in seen if "outbox.id = ANY" in statement or "json_each" in statement}
    assert len(texts) == 1


_TIMERS = cast(Table, Timer.__table__)
_PENDING_TERMS = select(_TIMERS.c.case_id, _TIMERS.c.due_on).where(
    _TIMERS.c.status == TimerStatus.PENDING, _TIMERS.c.kind == TimerKind.DEADLINE
)
"""A list read that filters on an indexed status besides its list of cases, as the work queue's terms do."""


def _plan(session: Session, fixed: FixedStatement, params: dict[str, Any]) -> list[str]:
    """SQLite's plan of a fixed statement (``EXPLAIN QUERY PLAN``): how it reads each table."""
    plan = fixed._plan(session.get_bind().dialect)
    cursor = session_connection(session).connection.cursor()
    try:
        cursor.execute(f"EXPLAIN QUERY PLAN {plan.sql}", plan.parameters(params))
        return [str(row[3]) for row in cursor.fetchall()]
    finally:
        cursor.close()


def test_rows_of_a_list_of_cases_are_those_of_an_in_and_read_by_the_lists_column(app: Flask, backend: str) -> None:
    """``for_ids``: the rows of the listed ids only, as an ``IN`` gives them; on SQLite read through the list's
    column's index although the statement also filters on an indexed status (a ``WHERE … IN (SELECT … FROM
    json_each(…))`` was read through the status's index: every pending timer of every case, for a queue)."""
    cases = [_moved_case() for _ in range(3)]
    session = db.session()
    listed = for_ids(_PENDING_TERMS.order_by(_TIMERS.c.id), _TIMERS.c.case_id, "case_ids")
    assert session.scalar(select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.PENDING))
    for chosen in ([], cases[:1], cases[1:], [*cases, 10**9], cases[::-1], [cases[0], cases[0], cases[2]]):
        expected = session.execute(_PENDING_TERMS.where(_TIMERS.c.case_id.in_(chosen)).order_by(_TIMERS.c.id)).all()
        assert listed.read(session, {"case_ids": chosen}) == [tuple(row) for row in expected]
    if backend == "sqlite":
        plan = _plan(session, listed, {"case_ids": cases})
        assert any("ix_timers_case_id" in step for step in plan), plan
        assert not any("ix_timers_pending_due" in step for step in plan), plan


def test_a_list_of_ids_in_a_where_is_a_comparison_not_a_boolean_value(app: Flask, backend: str) -> None:
    """``among`` in a ``WHERE`` beside other conditions is written as is: SQLite, without a boolean type, would
    otherwise get ``… IN (…) = 1``, which no index serves (the statement read the whole table)."""
    session = db.session()
    fixed = FixedStatement(select(Timer.id).where(Timer.kind == TimerKind.DEADLINE, among(Timer.case_id, "ids")))
    sql = fixed._plan(session.get_bind().dialect).sql
    assert "= 1" not in sql
    assert "= true" not in sql.lower()
    if backend == "sqlite":
        assert any("ix_timers_case_id" in step for step in _plan(session, fixed, {"ids": [1, 2]}))
    negated = FixedStatement(select(Timer.id).where(~among(Timer.case_id, "ids")))
    case_id = _moved_case()
    others = session.scalars(select(Timer.id).where(Timer.case_id != case_id)).all()
    assert [row[0] for row in negated.read(session, {"ids": [case_id]})] == list(others)


def test_held_writes_go_out_with_the_commit(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the held writes and the ``COMMIT`` share one round trip: when SQLAlchemy asks the driver to
    commit, the transaction has already ended (the driver sends nothing more). Without held writes, and on
    SQLite, the commit is the driver's own."""
    dialect = db.engine.dialect
    postgres = dialect.name == "postgresql"
    seen: list[bool] = []
    original = dialect.do_commit

    def recorded(dbapi_connection: Any) -> None:
        still_open = (
            dbapi_connection.dbapi_connection.info.transaction_status != TransactionStatus.IDLE  # under the pool's
            if postgres
            else dbapi_connection.in_transaction
        )
        seen.append(bool(still_open))
        original(dbapi_connection)

    monkeypatch.setattr(dialect, "do_commit", recorded)
    session = db.session()
    _WRITE.send_later(session.connection(), _outbox_row("con-commit"))
    session.commit()
    session.execute(update(OutboxMessage).values(attempts=1))
    session.commit()
    assert seen == [not postgres, True]
    assert _stored_keys() == ["con-commit"]
    assert session.scalars(select(OutboxMessage.attempts)).all() == [1]


def test_the_sessions_connection_is_kept_for_its_transaction_only(app: Flask, backend: str) -> None:
    session = db.session()
    first = session_connection(session)
    assert first is session.connection()
    assert session_connection(session) is first
    session.commit()  # a new transaction: asked of the session again, not the one given back to the pool
    second = session_connection(session)
    assert second is session.connection()
    assert second is not first
    session.rollback()
    assert session_connection(session) is session.connection() is not second
    session.add(OutboxMessage(topic="prueba", dedup_key="kept:dup", payload={}))
    session.add(OutboxMessage(topic="prueba", dedup_key="kept:dup", payload={}))
    with pytest.raises(IntegrityError):
        session.flush()
    with pytest.raises(PendingRollbackError):  # as ``session.connection()`` after a failed flush
        session_connection(session)
    session.rollback()
    assert session_connection(session) is session.connection()


def test_a_unit_of_work_on_sqlite_begins_immediate_through_the_cursor_events(app: Flask, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL begins its transactions itself")
    begun: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        begun.extend([statement] if statement.startswith("BEGIN") else [])

    db.session.rollback()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with unit_of_work() as session:
            session.scalar(select(func.count()).select_from(OutboxMessage))
        db.session.scalar(select(func.count()).select_from(OutboxMessage))  # a read transaction
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert begun == ["BEGIN IMMEDIATE", "BEGIN"]


def test_every_enumeration_column_reads_as_sqlalchemy_reads_it(app: Flask) -> None:
    """An enumeration's quicker conversion (a dictionary's look-up) gives, for every stored value of every
    enumeration column of the schema, the member SQLAlchemy's own conversion gives, and refuses an unknown
    value as a ``LookupError`` as SQLAlchemy does."""
    dialect = db.engine.dialect
    checked = 0
    for table in db.metadata.tables.values():
        for column in table.columns:
            kind = column.type
            if not isinstance(kind, SAEnum) or kind.enum_class is None:
                continue
            standard = kind._cached_result_processor(dialect, None)
            quick = quick_conversion(kind, standard)
            assert quick is not standard, f"{table.name}.{column.name} kept SQLAlchemy's conversion"
            assert standard is not None
            for member in kind.enum_class:
                assert quick(member.value) is standard(member.value) is member
            assert quick(None) is standard(None) is None
            with pytest.raises(LookupError):
                standard("no-es-un-valor")
            with pytest.raises(LookupError):
                quick("no-es-un-valor")
            checked += 1
    assert checked >= 10  # roles, statuses, kinds … of the whole schema
