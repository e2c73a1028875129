"""Reads that list rows out of tables that grow with every citizen, every case or every login (issue 16: pages
flat as the data grows): the holders of a staff role among every user's grants (each applicant holds one), a
user's notices among every user's messages, the transparency queues, the security log of one kind. Their
statements do not grow with the rows they list, and on SQLite (which has no statistics to choose by) their plans
read the tables through an index of what they look for, never whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from app.extensions import db
from app.models import Case, OutboxMessage, Role, SecurityEventKind, User
from app.models.base import utcnow
from app.notifications import enqueue
from app.procedures.access_request import services as ar
from app.procedures.access_request.services import committee_members
from app.services import security_log
from app.services.cases import fire
from app.services.delivery import compose
from app.services.notices import notices_for
from app.services.uow import unit_of_work
from app.services.users import active_holders, ensure_department
from tests.support.factories import make_user, vecs_case
from tests.support.generic_plans import analysed, as_a_busy_connection, counting_reads, many_citizens

GROWING = ("users", "user_roles", "outbox")


@contextmanager
def plans() -> Iterator[list[tuple[str, list[str]]]]:
    """The statements sent inside the block, each with SQLite's plan (``EXPLAIN QUERY PLAN``; empty elsewhere)."""
    seen: list[tuple[str, list[str]]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            return
        plan: list[str] = []
        if conn.dialect.name == "sqlite":
            explained = conn.connection.dbapi_connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [str(row[3]) for row in explained]
        seen.append((" ".join(statement.split()), plan))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def whole_table_reads(seen: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """The statements whose plan reads one of the growing tables whole."""
    return [
        (sql, plan)
        for sql, plan in seen
        # a table scanned, or one of its indexes scanned whole ("SCAN t USING INDEX …"): either reads every row
        if any(step == f"SCAN {table}" or step.startswith(f"SCAN {table} ") for step in plan for table in GROWING)
    ]


def test_the_holders_of_a_role_are_read_through_its_grants(app: Flask) -> None:
    applicants = [make_user(Role.APPLICANT) for _ in range(12)]
    members = [
        make_user(Role.COMMITTEE_MEMBER, name="Zoila"),
        make_user(Role.COMMITTEE_MEMBER, (Role.COMMITTEE_MEMBER, "juridico"), name="Ana"),  # two grants: once
        make_user((Role.COMMITTEE_MEMBER, "obras"), Role.REVIEWER, name="Beto"),
    ]
    gone = make_user(Role.COMMITTEE_MEMBER, name="Carla")
    guarantor = make_user(Role.GUARANTOR)
    with unit_of_work() as session:
        session.execute(update(User).where(User.id == gone).values(active=False))
    db.session.remove()
    with plans() as seen:
        listed = committee_members()
    assert [u.id for u in listed] == [members[1], members[2], members[0]]  # active ones, by name
    assert len(seen) == 2, seen  # the users, then their roles at once (not every user, nor a read per user)
    assert not whole_table_reads(seen), seen
    assert [u.id for u in active_holders(Role.GUARANTOR)] == [guarantor]
    assert set(applicants) <= {u.id for u in active_holders(Role.APPLICANT)}


def test_the_holders_of_a_rare_role_are_read_through_its_grants_under_generic_plans(app: Flask, backend: str) -> None:
    """On PostgreSQL under a plan kept for any role: the committee's three members among 30,000 citizens (each
    holding the applicant's role) are read through their grants, not every grant of every citizen."""
    if backend != "postgresql":
        pytest.skip("SQLite has no generic plans: its plan is checked above")
    members = {make_user(Role.COMMITTEE_MEMBER, name=f"Integrante {n}") for n in range(3)}
    many_citizens(30_000)
    as_a_busy_connection()
    with counting_reads("user_roles", "users") as read:
        for _ in range(3):
            holders = active_holders(Role.COMMITTEE_MEMBER)
    db.session.rollback()
    assert {user.id for user in holders} == members
    assert read.rows < 100, f"{read.rows} rows read for 3 members"


def test_a_users_notices_are_read_through_their_recipient(app: Flask) -> None:
    reader, other = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    with unit_of_work() as session:
        for n in range(6):
            for user in (reader, other):
                enqueue(session, topic="sin_plantilla", dedup_key=f"n:{user}:{n}", payload={}, recipient_id=user)
    with plans() as seen:
        notices_for(reader)
    mine = [(sql, plan) for sql, plan in seen if "FROM outbox" in sql]
    assert len(mine) == 1, seen
    assert not whole_table_reads(mine), mine


def test_a_users_notices_take_as_many_reads_for_few_cases_as_for_many(app: Flask) -> None:
    """The notices page reads its reader, the cases and their legal terms once for the list, not per notice; each
    notice reads as the mail of that message composed on its own."""
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)

    def filed(count: int) -> None:
        for _ in range(count):
            draft = vecs_case(owner)
            submitted = fire(draft.case_id, "submit", owner, expected_version=draft.version)
            fire(draft.case_id, "start_intake", clerk, expected_version=submitted.version)
        db.session.remove()

    filed(2)
    with plans() as few:
        assert len(notices_for(owner)) >= 2
    filed(5)
    with plans() as many:
        listed = notices_for(owner)
    assert len(listed) >= 7
    assert len(many) == len(few), many
    session = db.session()
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_id == owner)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    ).all()
    alone = [composed for message in messages if (composed := compose(session, message)) is not None]
    assert [(notice.subject, notice.body) for notice in listed] == [(subject, body) for _, subject, body in alone]
    # each case's legal term (the VECS resolution term) read once for the list, each with its own days left
    assert sum("días hábiles restantes" in notice.body for notice in listed) >= 7


def test_the_security_log_of_one_kind_is_read_through_its_index(app: Flask, backend: str) -> None:
    """The administration's security page filtered by a kind: not a walk of the whole log (every login) backwards."""
    make_user(Role.APPLICANT)  # its creation logs nothing of the kind asked for
    with plans() as seen:
        assert security_log.recent_events(limit=10, kind=SecurityEventKind.TOTP_FAILED) == []
    (read,) = [(sql, plan) for sql, plan in seen if "FROM security_events" in sql]
    if backend == "sqlite":
        assert any("ix_security_events_kind_id" in step for step in read[1]), read
        assert not [step for step in read[1] if "TEMP B-TREE" in step], read


def test_the_security_log_of_a_rare_kind_reads_its_events_under_generic_plans(app: Flask, backend: str) -> None:
    """On PostgreSQL, as a connection runs it after many requests (prepared, with the plan kept for any kind): the
    page of a kind with few events among many newer ones of other kinds reads those few, not every newer event."""
    from sqlalchemy import text

    if backend != "postgresql":
        pytest.skip("SQLite has no generic plans: its plan is checked above")
    db.session.execute(
        text(
            "INSERT INTO security_events (occurred_at, kind, user_id, ip, path, details)"
            " SELECT now(), CASE WHEN g <= 3 THEN 'totp_failed'"
            " ELSE (ARRAY['registration', 'login_failed', 'login_succeeded', 'access_denied'])[g % 4 + 1] END,"
            " NULL, '', '', '{}' FROM generate_series(1, 30000) AS g"
        )
    )
    analysed("security_events")
    as_a_busy_connection()
    with counting_reads("security_events") as read:
        for _ in range(3):
            events = security_log.recent_events(limit=300, kind=SecurityEventKind.TOTP_FAILED)
    db.session.rollback()
    assert [event.kind for event in events] == [SecurityEventKind.TOTP_FAILED] * 3
    assert read.rows < 100, f"{read.rows} events read for 3"


def test_the_transparency_queues_read_their_requests_terms_once(app: Flask) -> None:
    """The transparency unit's queue (and the areas' and the guarantor's) read each request's clocks and terms
    with the list, not with each request: as many statements for two requests as for six, each row as the
    request's status read on its own (the public tracking page's)."""
    make_user(Role.TRANSPARENCY_UNIT)

    def filed(count: int, start: int) -> None:
        for n in range(start, start + count):
            ar.file_request("Lector", f"lector{n}@example.test", f"Planos {n}", "electronic")
        db.session.remove()

    filed(2, 0)
    with plans() as few:
        assert len(ar.unit_queue()) == 2
    filed(4, 2)
    with plans() as many:
        rows = ar.unit_queue()
    assert len(rows) == 6
    assert len(many) == len(few), many
    assert all(row.due_on is not None for row in rows)  # the response term runs from the filing
    for row in rows:
        alone = ar.public_status(row.folio)
        assert alone is not None
        assert (row.due_on, row.business_days_left, row.overdue, row.paused, row.state_description) == (
            alone.response_due_on,
            alone.business_days_left,
            alone.overdue,
            alone.paused,
            alone.state_description,
        )


def test_the_unit_queue_finds_open_requests_by_their_states(app: Flask, backend: str) -> None:
    """Concluded requests pile up for years; the unit's queue looks up the open ones by (workflow, state), not
    every request of the procedure with its closing date checked row by row."""
    make_user(Role.TRANSPARENCY_UNIT)
    for n in range(3):
        ar.file_request("Lector", f"lector{n}@example.test", f"Planos {n}", "electronic")
    with unit_of_work() as session:  # one of them concluded long ago
        closed = session.scalars(select(Case.id).order_by(Case.id).limit(1)).one()
        session.execute(update(Case).where(Case.id == closed).values(state="concluded", closed_at=utcnow()))
    db.session.remove()
    with plans() as seen:
        rows = ar.unit_queue()
    assert closed not in {row.case_id for row in rows}
    assert len(rows) == 2
    (read,) = [(sql, plan) for sql, plan in seen if "FROM cases" in sql and "cases.state = 'received'" in sql]
    if backend == "sqlite":
        assert any("ix_cases_workflow_state (workflow=? AND state=?)" in step for step in read[1]), read


def _copies_of_case(case_id: int, count: int, **values: Any) -> None:
    """``count`` copies of the case ``case_id`` (each its own folio), with ``values`` in place of its own, in one
    statement; the cases analysed."""
    from sqlalchemy import text

    columns = [c.name for c in Case.__table__.columns if c.name not in {"id", "folio", *values}]
    given = "".join(f", :{name}" for name in values)
    into, copied = ", ".join([*columns, *values]), ", ".join(columns)  # the table's own columns
    statement = f"INSERT INTO cases (folio, {into}) SELECT folio || '-' || g, {copied}{given}"
    db.session.execute(
        text(statement + " FROM cases, generate_series(1, :count) AS g WHERE id = :case_id"),
        {"case_id": case_id, "count": count, **values},
    )
    analysed("cases")


def test_the_unit_queue_reads_only_open_requests_under_generic_plans(app: Flask, backend: str) -> None:
    """On PostgreSQL, as a connection runs it after many requests (prepared, with a plan kept for any values): the
    unit's queue among 30,000 concluded requests reads the open ones. Its procedure and states are written into the
    statement; bound as parameters, the kept plan looked the requests up by their procedure alone and read all
    30,000 to keep two."""
    if backend != "postgresql":
        pytest.skip("SQLite has no generic plans: its plan is checked above")
    make_user(Role.TRANSPARENCY_UNIT)
    for n in range(2):
        ar.file_request("Lector", f"lector{n}@example.test", f"Planos {n}", "electronic")
    first = db.session.scalars(select(Case.id).order_by(Case.id).limit(1)).one()
    _copies_of_case(first, 30_000, state="concluded", closed_at=utcnow())
    as_a_busy_connection()
    with counting_reads("cases") as read:
        for _ in range(3):
            rows = ar.unit_queue()
    db.session.rollback()
    assert len(rows) == 2
    assert read.rows < 100, f"{read.rows} requests read for 2"


def test_the_departments_page_finds_the_departments_no_case_names_under_generic_plans(app: Flask, backend: str) -> None:
    """On PostgreSQL under a plan kept for any department: whether a case names a department is one index look-up,
    not a read of every case (a plan made without the code expects a case of it among the first read)."""
    from app.services.departments import list_departments

    if backend != "postgresql":
        pytest.skip("SQLite has no generic plans")
    for code in ("obras", "vacia"):
        ensure_department(code, code.title())
    case_id = vecs_case(make_user(Role.APPLICANT)).case_id
    _copies_of_case(case_id, 30_000, department_code="obras", resting=True)
    as_a_busy_connection()
    with counting_reads("cases") as read:
        for _ in range(3):
            departments = {d.code: d for d in list_departments()}
    db.session.rollback()
    assert departments["obras"].named_by_cases
    assert not departments["vacia"].named_by_cases
    assert read.rows < 100, f"{read.rows} cases read"


def test_the_committees_latest_sessions_are_read_through_their_index(app: Flask, backend: str) -> None:
    member = make_user(Role.COMMITTEE_MEMBER)
    for n in range(4):
        ar.open_session(f"CT-{n}", date(2026, 1, 1) + timedelta(days=n), member)
    db.session.remove()
    with plans() as seen:
        first = ar.sessions(2)
        rest = ar.sessions(5, before=first[-1].id)
    assert [s.number for s in first + rest] == ["CT-3", "CT-2", "CT-1", "CT-0"]
    reads = [(sql, plan) for sql, plan in seen if "FROM committee_sessions" in sql and "ORDER BY" in sql]
    assert len(reads) == 2
    if backend == "sqlite":
        for _, plan in reads:
            assert any("ix_committee_sessions_held_on_id" in step for step in plan), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan


def test_the_draws_seeds_of_one_year_are_read_through_their_period(app: Flask, backend: str) -> None:
    """The public draws' page lists one year of committed seeds (the latest by default) through the seeds' period
    index: a seed is committed for every draw and quarter, for as many years as the system runs."""
    from app.engine import get_engine
    from app.services.seeds import commit_ahead, latest_seed_year, public_seeds

    vecs = get_engine().latest("vecs")
    for day in (date(2024, 2, 1), date(2025, 5, 1), date(2026, 2, 1)):
        with unit_of_work() as session:
            commit_ahead(session, vecs, day)  # the day's quarter and the next
    db.session.remove()
    with plans() as seen:
        latest = latest_seed_year()
        shown = public_seeds(2025)
    assert latest == 2026
    assert [seed.period for seed in shown] == ["2025-T3", "2025-T2"]
    assert [seed.period for seed in public_seeds(2026)] == ["2026-T2", "2026-T1"]
    reads = [(sql, plan) for sql, plan in seen if "FROM draw_seeds" in sql]
    assert len(reads) == 2
    if backend == "sqlite":
        for _, plan in reads:  # (the scopes of one period are sorted by name: a handful of rows)
            assert any("ix_draw_seeds_period" in step for step in plan), plan
            assert not any(step.startswith("SCAN draw_seeds") for step in plan), plan


def test_the_cases_waiting_for_departments_are_read_through_their_index(app: Flask, backend: str) -> None:
    """The assignment overview lists, and the departments page counts, the cases waiting for a department's
    staff through the partial index of those cases, not every case resting at a department's stage (a licensed
    work, for years); the reviewers' loads count only those too."""
    from app.services.assignment import assignment_rows, loads
    from app.services.departments import list_departments

    reviewer = make_user(Role.REVIEWER)
    db.session.remove()
    with plans() as seen:
        assignment_rows()
        list_departments()
        loads(db.session(), [reviewer])
    reads = [(sql, plan) for sql, plan in seen if "FROM cases" in sql and "resting" in sql]
    assert len(reads) == 3, seen
    if backend == "sqlite":
        for _, plan in reads:
            assert any("ix_cases_department_waiting" in step or "ix_cases_open_assignee" in step for step in plan), plan


def test_the_mail_pages_lists_and_the_deliveries_read_their_own_messages(app: Flask, backend: str) -> None:
    """The administrators' mail page reads the failed messages (a requester's notices kept back for an unconfirmed
    address or an opposition among them: they grow with the citizens) and the retrying ones, and the workers the
    due ones, each through a partial index holding those messages only, not every message ever sent. The status
    is written as a constant in each statement: a prepared statement's generic plan on PostgreSQL can use a
    partial index only then."""
    from app.services.delivery import _due_ids, failed_messages, retrying_messages

    with plans() as seen:
        failed_messages()
        retrying_messages()
        _due_ids(utcnow(), 10)
    reads = [(sql, plan) for sql, plan in seen if "FROM outbox" in sql]
    assert len(reads) == 3, seen
    for (sql, plan), status, index in zip(
        reads,
        ("'failed'", "'pending'", "'pending'"),
        ("ix_outbox_failed", "ix_outbox_retrying", "ix_outbox_pending"),
        strict=True,
    ):
        assert f"outbox.status = {status}" in sql, sql
        if backend == "sqlite":
            assert any(step.endswith(f"USING INDEX {index}") or f"USING INDEX {index} " in step for step in plan)


def test_the_answered_personal_data_requests_are_read_through_their_index(app: Flask, backend: str) -> None:
    """The administrators' list of personal-data requests shows the pending ones and the latest answered ones:
    those through a partial index of the answered requests, not every request answered over the years sorted by
    its number; the list holds what it held before (pending first, then the answered newest first)."""
    from app.calendar import local_today
    from app.models.personal_data import DataRequestKind
    from app.services.personal_data import list_requests, register_request, resolve_opposition
    from tests.support.factories import email_of

    admin = make_user(Role.ADMIN)
    people = [make_user(Role.APPLICANT) for _ in range(4)]
    registered = [register_request(admin, email_of(p), DataRequestKind.OPPOSITION, local_today()) for p in people]
    for request_id in registered[:3]:
        resolve_opposition(request_id, admin)
    db.session.remove()
    with plans() as seen:
        rows = list_requests(limit=2)
    assert [row.id for row in rows] == [registered[3], registered[2], registered[1]]
    for status, index in (
        ("pending", "ix_personal_data_requests_pending"),
        ("resolved", "ix_personal_data_requests_resolved"),
    ):
        (read,) = [(sql, plan) for sql, plan in seen if f"personal_data_requests.status = '{status}'" in sql]
        if backend == "sqlite":
            assert any(index in step for step in read[1]), read
            assert not [step for step in read[1] if "TEMP B-TREE" in step], read


def test_the_log_of_a_folio_is_read_through_its_case(app: Flask, backend: str) -> None:
    """The oversight filter by folio finds the case by its folio and the entries through the index of a case's
    entries (the log keeps no index of its own folios, which every entry would write); an unknown folio selects
    nothing."""
    from app.services.oversight import parse_filter, search_entries

    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    mine, other = vecs_case(owner), vecs_case(owner)
    submitted = fire(mine.case_id, "submit", owner, expected_version=None)
    fire(mine.case_id, "start_intake", clerk, expected_version=submitted.version)
    fire(other.case_id, "submit", owner, expected_version=None)
    folio = db.session.get(Case, mine.case_id).folio  # type: ignore[union-attr]
    db.session.remove()
    with plans() as seen:
        page = search_entries(parse_filter({"folio": folio.lower()}))
    assert {entry.case_id for entry in page.entries} == {mine.case_id}
    assert {"submit", "start_intake"} <= {entry.action for entry in page.entries}
    assert search_entries(parse_filter({"folio": "VECS-1999-000001"})).entries == ()
    if backend == "sqlite":
        reads = [plan for sql, plan in seen if "FROM audit_entries" in sql]
        assert reads, seen
        for plan in reads:
            assert not [step for step in plan if step.startswith("SCAN audit_entries")], plan
        assert any("ix_audit_entries_case_seq" in step for plan in reads for step in plan), reads


def test_the_workers_and_the_calendar_read_the_pending_timers_through_their_index(app: Flask, backend: str) -> None:
    """The timer worker takes the pending timers that are due, soonest first, and a change of the calendar moves
    the pending business-day ones: both through a partial index of the pending timers, not through every timer a
    case ever started (each move cancels the timers of the state left, so most timers are cancelled or fired).
    The status is written as a constant: PostgreSQL's generic plan uses a partial index only then."""
    from app.models import Timer, TimerStatus
    from app.services.deadlines import recompute_pending
    from app.services.timers import _due_ids
    from tests.support.factories import submitted_case

    applicant, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    moved = [submitted_case(applicant) for _ in range(2)]
    for case_id in moved:  # leaves the submitted state: its timers are cancelled, the next state's start
        version = db.session.get(Case, case_id).version
        fire(case_id, "start_intake", clerk, expected_version=version)
    submitted_case(applicant)
    db.session.remove()
    session = db.session()
    statuses = {status for (status,) in session.execute(select(Timer.status))}
    assert {TimerStatus.PENDING, TimerStatus.CANCELLED} <= statuses
    later = utcnow() + timedelta(days=3650)
    expected = session.scalars(
        select(Timer.id)
        .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= later)
        .order_by(Timer.due_at, Timer.id)
    ).all()
    session.rollback()
    with plans() as seen:
        due = _due_ids(later, 100)
        recompute_pending(db.session())
    db.session.rollback()
    assert due
    assert due == expected
    reads = [(sql, plan) for sql, plan in seen if "FROM timers" in sql]
    assert len(reads) == 2, seen
    for sql, plan in reads:
        assert "timers.status = 'pending'" in sql, sql
        if backend == "sqlite":
            assert any("USING INDEX ix_timers_pending_due" in step for step in plan), plan
            assert not [step for step in plan if "TEMP B-TREE" in step], plan
