"""Administrators acting at the same moment: each change happens once, none is lost, the log says what happened.

On PostgreSQL units of work run side by side (SQLite runs one writer at a time), so a unit that reads what it
decides on without locking it can act on what another unit is changing. Every thread's flush waits a moment
(:func:`tests.support.concurrency.slow_flushes`) so that all of them have read before any writes: the
interleaving a real double click or two officials at once give now and then, here every time.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

import app.services.deadlines as deadlines
from app.calendar import BusinessCalendar, local_today
from app.engine import InvalidData, NotFound
from app.extensions import db
from app.models import (
    Department,
    NonWorkingDay,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
    User,
    WorkflowConfigChange,
)
from app.services.cases import fire
from app.services.config import current_params, update_config
from app.services.departments import create_department, delete_department, rename_department
from app.services.users import RoleGrant, create_user
from tests.support.concurrency import assert_log_verifies, logged, race, slow_flushes
from tests.support.factories import advance, make_user, vecs_case


def test_a_department_deleted_by_several_administrators_at_once_is_deleted_and_logged_once(app: Flask):
    admins = [make_user(Role.ADMIN) for _ in range(4)]
    create_department("proteccion_civil", "Protección Civil", admins[0])

    with slow_flushes():
        results = race(app, [lambda a=a: delete_department("proteccion_civil", a) for a in admins])

    assert results.count(None) == 1, results
    assert all(type(r) is NotFound for r in results if r is not None), results
    assert [d["code"] for d in logged("department_deleted")] == ["proteccion_civil"]
    assert db.session.get(Department, "proteccion_civil") is None
    assert_log_verifies()


def test_renames_at_once_are_logged_one_after_the_other(app: Flask):
    admins = [make_user(Role.ADMIN) for _ in range(3)]
    create_department("obras_publicas", "Obras", admins[0])
    names = ["Obras Públicas", "Dirección de Obras", "Obras y Servicios"]

    with slow_flushes():
        results = race(
            app,
            [lambda a=a, n=n: rename_department("obras_publicas", n, a) for a, n in zip(admins, names, strict=True)],
        )

    assert results == [True, True, True], results
    renames = logged("department_renamed")
    assert len(renames) == 3
    # each entry's old name is the name the one before it gave: no rename was made over a name already gone
    assert [r["from"] for r in renames] == ["Obras", *(r["to"] for r in renames[:-1])]
    assert sorted(str(r["to"]) for r in renames) == sorted(names)
    department = db.session.get(Department, "obras_publicas")
    assert department is not None
    assert department.name == renames[-1]["to"]
    assert_log_verifies()


def test_the_same_department_created_at_once_is_created_once_and_the_others_are_told(app: Flask):
    admins = [make_user(Role.ADMIN) for _ in range(3)]

    with slow_flushes():
        results = race(app, [lambda a=a: create_department("catastro", "Catastro", a) for a in admins])

    assert results.count(None) == 1, results
    refusals = [r for r in results if r is not None]
    assert all(type(r) is InvalidData for r in refusals), results
    assert all("catastro" in str(r) for r in refusals)
    assert [d["code"] for d in logged("department_created")] == ["catastro"]
    assert_log_verifies()


def test_settings_saved_at_once_keep_every_change_each_with_its_revision(app: Flask):
    admins = [make_user(Role.ADMIN) for _ in range(3)]
    changes = [{"inspection_rate": "0.25"}, {"resolution_interruption": "run"}, {"resolution_silence": "deny_ficta"}]

    with slow_flushes():
        results = race(
            app, [lambda a=a, c=c: update_config("vecs", c, a) for a, c in zip(admins, changes, strict=True)]
        )

    assert sorted(results) == [1, 2, 3], results
    settings = current_params("vecs")
    assert str(settings["inspection_rate"]) == "0.25"
    assert settings["resolution_interruption"] == "run"
    assert settings["resolution_silence"] == "deny_ficta"
    kept = db.session.scalars(select(WorkflowConfigChange.revision).where(WorkflowConfigChange.workflow == "vecs"))
    assert sorted(kept) == [1, 2, 3]
    assert sorted(int(str(d["revision"])) for d in logged("workflow_config_changed")) == [1, 2, 3]
    assert_log_verifies()


def test_the_same_settings_saved_twice_at_once_make_one_revision(app: Flask):
    admin = make_user(Role.ADMIN)

    with slow_flushes():
        results = race(app, [lambda: update_config("vecs", {"inspection_rate": "0.25"}, admin)] * 2)

    assert results == [1, 1], results  # the second finds the first's value in force: the same answer, no revision
    assert update_config("vecs", {"inspection_rate": "0.25", "resolution_silence": "grant_ficta"}, admin) == 1
    kept = db.session.scalars(select(WorkflowConfigChange.changes).where(WorkflowConfigChange.workflow == "vecs"))
    assert [list(c) for c in kept] == [["inspection_rate"]]
    assert len(logged("workflow_config_changed")) == 1
    assert update_config("vecs", {"inspection_rate": "0.30", "resolution_silence": "grant_ficta"}, admin) == 2
    kept = db.session.scalars(
        select(WorkflowConfigChange.changes)
        .where(WorkflowConfigChange.workflow == "vecs")
        .order_by(WorkflowConfigChange.revision)
    )
    assert [list(c) for c in kept] == [["inspection_rate"], ["inspection_rate"]]  # only what changed
    assert_log_verifies()


def test_one_address_registered_at_once_makes_one_account_and_the_others_are_told(app: Flask):
    def register() -> int:
        return create_user(
            "doble@example.test", "Doble Clic", "Una-Clave-Bastante-Larga-2026", (RoleGrant(Role.APPLICANT),)
        )

    with slow_flushes():
        results = race(app, [register, register, register])

    accounts = [r for r in results if isinstance(r, int)]
    assert len(accounts) == 1, results
    refusals = [r for r in results if not isinstance(r, int)]
    assert all(type(r) is InvalidData for r in refusals), results
    count = db.session.scalar(select(func.count()).select_from(User).where(User.email == "doble@example.test"))
    assert count == 1
    assert [d["user_id"] for d in logged("user_created")][-1] == accounts[0]
    assert_log_verifies()


def test_overlapping_declarations_at_once_declare_each_day_once(app: Flask):
    admins = [make_user(Role.ADMIN) for _ in range(2)]
    first = local_today() + timedelta(days=40)
    ranges = [(first, first + timedelta(days=6)), (first + timedelta(days=3), first + timedelta(days=9))]

    with slow_flushes():
        results = race(
            app,
            [
                lambda a=a, r=r: deadlines.declare_non_working_days(r[0], r[1], "Vacaciones", "Gaceta 7/2026", a)
                for a, r in zip(admins, ranges, strict=True)
            ],
        )

    assert all(isinstance(r, deadlines.CalendarChange) for r in results), results
    days = [first + timedelta(days=n) for n in range(10)]
    assert sorted(day for r in results for day in r.days) == days  # each day declared by one of them
    declared = [str(day) for entry in logged("non_working_days_declared") for day in entry["days"]]
    assert sorted(declared) == [day.isoformat() for day in days]
    assert db.session.scalar(select(func.count()).select_from(NonWorkingDay)) == 10
    assert_log_verifies()


def test_one_declaration_sent_twice_at_once_declares_and_logs_once(app: Flask):
    admin = make_user(Role.ADMIN)
    first = local_today() + timedelta(days=40)

    def declare() -> deadlines.CalendarChange:
        return deadlines.declare_non_working_days(
            first, first + timedelta(days=2), "Vacaciones", "Gaceta 8/2026", admin
        )

    with slow_flushes():
        results = race(app, [declare, declare])

    assert sorted(len(r.days) for r in results) == [0, 3], results
    assert len(logged("non_working_days_declared")) == 1  # the second declared nothing, and logged nothing
    assert declare().days == ()
    assert len(logged("non_working_days_declared")) == 1
    assert_log_verifies()


def test_a_term_started_beside_a_calendar_change_counts_the_declared_days(app: Flask, monkeypatch: pytest.MonkeyPatch):
    """The change recomputes the pending terms; a transition starting a term at that moment either comes
    first (its term is among those recomputed) or reads the calendar with the new days, never neither."""
    admin = make_user(Role.ADMIN)
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(vecs_case(applicant), [("submit", applicant, None, None), ("start_intake", clerk, None, None)])
    first = BusinessCalendar().next_business_day(local_today() + timedelta(days=1))
    last = first + timedelta(days=2)
    recomputed = threading.Event()
    recompute = deadlines.recompute_pending

    def recompute_then_linger(session):  # type: ignore[no-untyped-def]
        moved = recompute(session)
        recomputed.set()  # the transition goes now, while the change has not committed
        threading.Event().wait(0.5)
        return moved

    monkeypatch.setattr(deadlines, "recompute_pending", recompute_then_linger)

    def prevent() -> object:
        recomputed.wait(timeout=30)
        return fire(
            case.case_id,
            "issue_prevention",
            clerk,
            data={"prevention_items": ["planos"]},
            comment="Faltan cotas.",
            expected_version=case.version,
        )

    results = race(
        app, [lambda: deadlines.declare_non_working_days(first, last, "Suspensión", "Gaceta 9", admin), prevent]
    )
    assert not any(isinstance(r, BaseException) for r in results), results

    db.session.rollback()
    deadline = db.session.scalars(
        select(Timer).where(
            Timer.case_id == case.case_id, Timer.status == TimerStatus.PENDING, Timer.kind == TimerKind.DEADLINE
        )
    ).one()
    declared = [first + timedelta(days=n) for n in range(3)]
    assert deadline.due_on == BusinessCalendar(declared).add_business_days(deadline.notified_on, deadline.term_days)
    assert_log_verifies()
