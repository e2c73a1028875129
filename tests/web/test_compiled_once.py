"""On SQLite, a statement the application runs again is not compiled again (issue 16: a transition near the cost of
its SQL).

SQLite compiles a statement anew before every run when a value bound to it might change its plan: a column compared
with a bound value where a partial index's condition names that column (``timers.status = ?`` beside the pending
timers' index). The driver binds every run's values, so such a statement was compiled on every run: the inputs of a
transition (eight branches, about 100 µs to compile against 30 µs to run) and the cancel of a case's timers on every
transition, the terms of the pages' cases, the workers' claims. Those values are written into the statements now
(``app.database.is_constant``); these tests run each path several times on the same connections and ask SQLite's
authorizer, which it calls only while compiling, whether any statement was compiled twice
(``tests/support/prepares.py``).

The driver keeps a connection's last compiled statements, 128 unless told otherwise; the application runs several
hundred texts, and a connection that has served more kinds of request than that drops the statements of the least
recent ones and compiles them again when they come back. Its connections keep
:data:`app.database.SQLITE_KEPT_STATEMENTS`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.database import SQLITE_KEPT_STATEMENTS
from app.extensions import db
from app.models import Case, Role, utcnow
from app.services.cases import fire
from app.services.delivery import deliver_pending
from app.services.timers import fire_due_timers
from tests.support.factories import make_user, submitted_case, vecs_case
from tests.support.prepares import counting_prepares
from tests.web.helpers import login_as


@pytest.fixture(autouse=True)
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite compiles statements itself; on PostgreSQL the driver prepares them")


def test_transitions_compile_each_statement_once(app: Flask) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    drafts = [vecs_case(owner) for _ in range(3)]
    db.session.remove()
    with counting_prepares(db.engine) as prepares:
        for draft in drafts:  # the intake's steps leave states with timers: their cancel runs on each
            result = fire(draft.case_id, "submit", owner, expected_version=draft.version)
            result = fire(draft.case_id, "start_intake", clerk, expected_version=result.version)
            fire(draft.case_id, "accept_intake", clerk, expected_version=result.version)
            db.session.remove()
    assert prepares.total() > 0  # the authorizer saw the first compiles
    assert prepares.again() == []


def test_the_workers_compile_each_statement_once(app: Flask) -> None:
    owner = make_user(Role.APPLICANT)
    for _ in range(3):
        submitted_case(owner)  # a legal term each, and a notice to the applicant each
    db.session.remove()
    with counting_prepares(db.engine) as prepares:
        report = fire_due_timers(now=utcnow() + timedelta(days=400))  # every term lapsed: one claim each
        assert report.fired + report.failed >= 3, report
        deliver_pending(now=utcnow() + timedelta(days=1))
    assert prepares.again() == []


def test_the_daily_pages_compile_each_statement_once(app: Flask, client: FlaskClient) -> None:
    applicant, clerk, auditor = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK), make_user(Role.AUDITOR)
    cases = [submitted_case(applicant) for _ in range(3)]
    folio = db.session.get(Case, cases[0]).folio  # type: ignore[union-attr]
    db.session.remove()
    pages = {
        applicant: ["/inicio", "/avisos", f"/expedientes/{cases[0]}"],
        clerk: ["/inicio", "/bandeja", f"/expedientes/{cases[1]}", "/bandeja?vista=vencidos"],
        auditor: [f"/supervision/?folio={folio}", f"/expedientes/{cases[2]}"],
    }
    for user, paths in pages.items():
        browser = app.test_client()  # each user in a browser of their own (the fixture's kind of client)
        login_as(browser, user)
        with counting_prepares(db.engine) as prepares:
            for _ in range(3):  # the pool hands out its connections in turn: each page meets one again
                for path in paths:
                    assert browser.get(path).status_code == 200, path
        assert prepares.again() == [], user


def test_a_connection_keeps_the_statements_of_every_kind_of_request(app: Flask) -> None:
    texts = [f"SELECT cases.id FROM cases WHERE cases.id = {n}" for n in range(SQLITE_KEPT_STATEMENTS)]  # noqa: S608
    assert len(texts) > 128  # the driver's default
    with db.engine.connect() as connection, counting_prepares(db.engine) as prepares:
        for _ in range(2):
            for statement in texts:
                connection.exec_driver_sql(statement).all()
    assert prepares.total() == len(texts)
    assert prepares.again() == []
