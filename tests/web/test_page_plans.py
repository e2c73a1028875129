"""The pages people open every day read the rows they show through indexes, never a whole table that grows with
the data (issue 16: pages flat as the data grows). SQLite has no statistics to choose an index by, so a statement
that gives it a choice can read every pending timer, every notice or every grant to show a few: each statement a
page sends is checked with ``EXPLAIN QUERY PLAN``. (PostgreSQL chooses by its statistics; the scale benchmark
times these reads there.)"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

import app.services.users as users_service
from app.extensions import db
from app.models import Case, Role
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
WORKERS_INDEXES = ("ix_timers_status_due", "ix_outbox_status_next")
"""Indexes of a status, for the workers that take every pending timer or message: a page reading through one
reads every pending row of every case to show a few."""


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users are created for every test; the production argon2 cost would dominate the run time."""
    monkeypatch.setattr(users_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _whole_reads(client: FlaskClient, path: str) -> list[tuple[str, list[str]]]:
    with plans() as seen:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.headers.get("Location"))
    return [
        (sql, plan)
        for sql, plan in seen
        if any(step.startswith(f"SCAN {table}") for step in plan for table in GROWING)
        or any(index in step for step in plan for index in WORKERS_INDEXES)
    ]


def test_the_daily_pages_read_no_growing_table_whole(app: Flask, client: FlaskClient, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL chooses its plans by statistics (the scale benchmark times them)")
    applicant, clerk, auditor = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK), make_user(Role.AUDITOR)
    cases = [submitted_case(applicant) for _ in range(3)]
    folio = db.session.get(Case, cases[0]).folio  # type: ignore[union-attr]
    db.session.remove()
    pages = {
        applicant: ["/inicio", "/avisos", f"/expedientes/{cases[0]}"],
        clerk: ["/bandeja", f"/expedientes/{cases[1]}", "/bandeja?vista=vencidos"],
        auditor: [f"/supervision/?folio={folio}", f"/supervision/?actor={applicant}", f"/expedientes/{cases[2]}"],
    }
    for user, paths in pages.items():
        browser = app.test_client()  # each user in a browser of their own (the fixture's kind of client)
        login_as(browser, user)
        for path in paths:
            assert _whole_reads(browser, path) == [], path
