"""The pages people open every day read the rows they show through indexes, never a whole table that grows with
the data (issue 16: pages flat as the data grows). SQLite has no statistics to choose an index by, so a statement
that gives it a choice can read every pending timer, every notice or every grant to show a few: each statement a
page sends is checked with ``EXPLAIN QUERY PLAN``. (PostgreSQL chooses by its statistics; the scale benchmark
times these reads there.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Case, OutboxMessage, OutboxStatus, Role, utcnow
from tests.services.test_list_indexes import plans
from tests.support.factories import make_user, submitted_case
from tests.web.helpers import login_as

GROWING = (
    "cases",
    "audit_entries",
    "timers",
    "case_clocks",
    "documents",
    "certificates",
    "outbox",
    "users",
    "user_roles",
    "user_sessions",
    "security_events",
    "case_escalations",
    "idempotency_records",
)
"""Tables whose rows grow with the citizens, the cases or the log."""
WORKERS_INDEXES = ("ix_timers_pending_due", "ix_outbox_pending")
"""Indexes of the pending rows, for the workers that take every pending timer or message: a page reading through one
reads every pending row of every case to show a few."""


def _partial_indexes() -> frozenset[str]:
    """The indexes that hold some rows of their table (a condition): read whole, they read those rows only."""
    return frozenset(
        index.name
        for table in db.metadata.tables.values()
        for index in table.indexes
        if index.name and index.dialect_options["sqlite"].get("where") is not None
    )


def _whole_reads(client: FlaskClient, path: str) -> list[tuple[str, list[str]]]:
    with plans() as seen:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.headers.get("Location"))
    partial = _partial_indexes()

    def whole(step: str) -> bool:
        if not any(step.startswith(f"SCAN {table}") for table in GROWING):
            return False
        return not any(step.endswith(f"USING INDEX {index}") for index in partial)

    return [
        (sql, plan)
        for sql, plan in seen
        if any(whole(step) for step in plan) or any(index in step for step in plan for index in WORKERS_INDEXES)
    ]


def _messages_of_every_status(recipient: int, case_id: int) -> None:
    """Messages sent, due, retrying after a failed attempt and failed, for the mail page to choose among."""
    now = utcnow()
    for n, (status, error) in enumerate(
        [(OutboxStatus.SENT, None)] * 3
        + [(OutboxStatus.PENDING, None), (OutboxStatus.PENDING, "SMTPServerDisconnected: down")]
        + [(OutboxStatus.FAILED, "not sent: nobody confirmed the address yet")]
    ):
        db.session.add(
            OutboxMessage(
                topic="case_transition",
                dedup_key=f"plans:{n}",
                recipient_id=recipient,
                case_id=case_id,
                payload={},
                status=status,
                last_error=error,
                next_attempt_at=now + timedelta(minutes=n),
            )
        )
    db.session.commit()


def test_the_daily_pages_read_no_growing_table_whole(app: Flask, client: FlaskClient, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL chooses its plans by statistics (the scale benchmark times them)")
    applicant, clerk, auditor = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK), make_user(Role.AUDITOR)
    administrator = make_user(Role.ADMIN)
    cases = [submitted_case(applicant) for _ in range(3)]
    _messages_of_every_status(applicant, cases[0])
    folio = db.session.get(Case, cases[0]).folio  # type: ignore[union-attr]
    db.session.remove()
    pages = {
        applicant: ["/inicio", "/avisos", f"/expedientes/{cases[0]}"],
        clerk: ["/bandeja", f"/expedientes/{cases[1]}", "/bandeja?vista=vencidos"],
        auditor: [f"/supervision/?folio={folio}", f"/supervision/?actor={applicant}", f"/expedientes/{cases[2]}"],
        administrator: ["/admin/correo"],  # the failed and the retrying messages, not every one sent or due
    }
    for user, paths in pages.items():
        browser = app.test_client()  # each user in a browser of their own (the fixture's kind of client)
        login_as(browser, user)
        for path in paths:
            assert _whole_reads(browser, path) == [], path


def test_the_staff_queues_look_up_each_state_they_list(app: Flask, client: FlaskClient, backend: str) -> None:
    """A queue of several states of one procedure (the inspector's: the completion filed and the inspection) reads
    its cases through the (workflow, state) index, each state looked up. Written as one conjunction per state,
    SQLite took the procedure's name alone in common and read every case of the procedure: 7 ms among 12,000."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL chooses its plans by statistics (the scale benchmark times them)")
    staff = [make_user(role) for role in (Role.INSPECTOR, Role.REVIEWER, Role.INTAKE_CLERK)]
    db.session.remove()
    for user in staff:
        browser = app.test_client()  # each user in a browser of their own (the fixture's kind of client)
        login_as(browser, user)
        with plans() as seen:
            assert browser.get("/bandeja").status_code == 200
        index = "ix_cases_workflow_state"
        steps = [step for sql, plan in seen if "FROM cases" in sql for step in plan if index in step]
        assert steps, seen
        assert all("state=?" in step for step in steps), (user, steps)
