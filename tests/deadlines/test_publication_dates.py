"""Publication deadlines on concrete dates: the calendar's due dates moved past weekends, statutory holidays and
declared non-working days; the opening windows the tick uses; the term to correct the guarantor's findings
across a holiday and a declared non-working day (recomputed when the day is declared); a format whose
responsible department does not exist is refused, reported by the command and the tick, and the others open."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.calendar import LOCAL_TZ
from app.engine import get_engine
from app.extensions import db
from app.models import Case, Role, Timer, TimerKind, TimerStatus
from app.procedures.obligation_publication.models import ObligationPublication
from app.procedures.obligation_publication.plugin import open_due
from app.procedures.obligation_publication.services import open_due_quarters, open_quarter, quarters_due
from app.services.deadlines import declare_non_working_days, start_timers
from app.services.uow import unit_of_work
from app.services.users import ensure_department
from tests.support.factories import make_user
from workflows.obligation_publication import DEFAULT_CALENDAR, PUBLICATION_V1

RESPONSIBLE = ("finanzas", "obras_publicas", "desarrollo_urbano")
"""The responsible departments of the default formats (budget, contracts, construction licences)."""


@pytest.fixture
def departments(app: Flask) -> None:
    for code in RESPONSIBLE:
        ensure_department(code, code.replace("_", " ").title())


def budget_case(year: int, quarter: int) -> Case:
    db.session.rollback()
    return db.session.scalars(
        select(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(
            ObligationPublication.format_code == "presupuesto",
            ObligationPublication.year == year,
            ObligationPublication.quarter == quarter,
        )
    ).one()


def target_of(case: Case) -> Timer:
    return db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.kind == TimerKind.TARGET)).one()


@pytest.mark.usefixtures("departments")
def test_fourth_quarter_due_on_a_saturday_moves_past_the_constitution_day_holiday(app: Flask) -> None:
    report = open_quarter(2026, 4, today=date(2027, 1, 4))
    assert report.due_on == date(2027, 1, 30)  # a Saturday
    case = budget_case(2026, 4)
    assert case.data["due_on"] == "2027-01-30"
    # Sunday 31, then Monday 1 February 2027 is the first Monday of February (a statutory holiday)
    assert target_of(case).due_on == date(2027, 2, 2)


@pytest.mark.usefixtures("departments")
def test_first_quarter_due_on_a_declared_day_moves_past_labour_day(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    declare_non_working_days(date(2026, 4, 30), None, "Suspensión de labores", "Gaceta Municipal 2026/041", admin)
    open_quarter(2026, 1, today=date(2026, 4, 1))
    # Thursday 30 April declared non-working, Friday 1 May a statutory holiday: Monday 4 May
    assert target_of(budget_case(2026, 1)).due_on == date(2026, 5, 4)


def test_opening_windows_of_the_calendar() -> None:
    assert quarters_due(date(2026, 3, 31), DEFAULT_CALENDAR) == []
    assert quarters_due(date(2026, 4, 1), DEFAULT_CALENDAR) == [(2026, 1)]
    assert quarters_due(date(2026, 4, 30), DEFAULT_CALENDAR) == [(2026, 1)]
    assert quarters_due(date(2026, 5, 1), DEFAULT_CALENDAR) == []
    assert quarters_due(date(2027, 1, 1), DEFAULT_CALENDAR) == []
    assert quarters_due(date(2027, 1, 10), DEFAULT_CALENDAR) == [(2026, 4)]


@pytest.mark.usefixtures("departments")
def test_tick_opens_the_quarter_whose_day_has_come_once(app: Flask) -> None:
    assert open_due_quarters(today=date(2026, 3, 31)) == []
    first = open_due_quarters(today=date(2026, 4, 1))
    assert [(r.year, r.quarter, len(r.opened)) for r in first] == [(2026, 1, 3)]
    assert open_due_quarters(today=date(2026, 4, 2)) == []  # already open: nothing written


@pytest.mark.usefixtures("departments")
def test_cli_opens_a_quarter_and_refuses_a_bad_one(app: Flask) -> None:
    runner: FlaskCliRunner = app.test_cli_runner()
    result = runner.invoke(args=["publications", "open", "--year", "2026", "--quarter", "3"])
    assert result.exit_code == 0, result.output
    assert "3 opened, 0 already open; due 2026-10-30" in result.output
    again = runner.invoke(args=["publications", "open", "--year", "2026", "--quarter", "3"])
    assert "0 opened, 3 already open" in again.output
    bad = runner.invoke(args=["publications", "open", "--year", "2026", "--quarter", "5"])
    assert bad.exit_code != 0
    assert "5" in bad.output
    bad_year = runner.invoke(args=["publications", "open", "--year", "1900", "--quarter", "1"])
    assert bad_year.exit_code != 0
    assert "2000" in bad_year.output


@pytest.mark.usefixtures("departments")
def test_term_of_findings_across_a_holiday_and_a_declared_day(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    open_quarter(2026, 3, today=date(2026, 10, 1))
    case = budget_case(2026, 3)
    workflow = get_engine().definition(PUBLICATION_V1.name, PUBLICATION_V1.version)
    with unit_of_work() as session:
        stored = session.get(Case, case.id)
        assert stored is not None
        # findings notified on Friday 13 November 2026: the term starts the next business day
        start_timers(session, stored, workflow.state("findings"), 1, date(2026, 11, 13))
    db.session.rollback()
    term = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.kind == TimerKind.DEADLINE)).one()
    # Monday 16 November is the Revolution Day holiday (third Monday): 17-20, 23-27, 30 → 30 November
    assert term.due_on == date(2026, 11, 30)
    assert term.status == TimerStatus.PENDING
    declare_non_working_days(date(2026, 11, 20), None, "Día inhábil municipal", "Gaceta Municipal 2026/112", admin)
    db.session.rollback()
    assert db.session.get(Timer, term.id).due_on == date(2026, 12, 1)  # type: ignore[union-attr]
    # the calendar due date of the publication is a fixed day: declaring a day elsewhere does not move it
    assert target_of(budget_case(2026, 3)).due_on == date(2026, 10, 30)


def _without_construction_department() -> None:
    for code in RESPONSIBLE[:2]:  # the construction licences' department, desarrollo_urbano, is missing
        ensure_department(code, code.replace("_", " ").title())


def _publications(code: str) -> int:
    db.session.rollback()
    return len(db.session.scalars(select(ObligationPublication).where(ObligationPublication.format_code == code)).all())


def test_a_format_whose_department_does_not_exist_is_refused_and_the_others_open(app: Flask) -> None:
    _without_construction_department()
    report = open_quarter(2026, 1, today=date(2026, 4, 1))
    assert len(report.opened) == 2
    assert [dict(reason.params) for reason in report.refused] == [
        {"format": "licencias_construccion", "department": "desarrollo_urbano"}
    ]
    assert "«licencias_construccion»" in str(report.refused[0])
    assert "«desarrollo_urbano» no existe" in str(report.refused[0])
    assert _publications("licencias_construccion") == 0
    assert db.session.scalars(select(Case).where(Case.department_code.is_(None))).all() == []
    # once the department exists, the format opens with it
    ensure_department("desarrollo_urbano", "Desarrollo Urbano")
    again = open_quarter(2026, 1, today=date(2026, 4, 2))
    assert (len(again.opened), again.existing, again.refused) == (1, 2, ())
    db.session.rollback()
    opened = db.session.scalars(select(Case).where(Case.folio == again.opened[0])).one()
    assert opened.department_code == "desarrollo_urbano"


def test_the_command_and_the_tick_report_a_format_whose_department_does_not_exist(app: Flask) -> None:
    _without_construction_department()
    result = app.test_cli_runner().invoke(args=["publications", "open", "--year", "2026", "--quarter", "3"])
    assert result.exit_code == 1
    assert "2 opened, 0 already open; due 2026-10-30" in result.output
    assert "«licencias_construccion» no se abrió" in result.output
    assert "«desarrollo_urbano» no existe" in result.output
    assert "Traceback" not in result.output
    assert _publications("presupuesto") == 1
    # the tick, in the quarter's opening window, tries again and says why the format is still not open
    with time_machine.travel(datetime.combine(date(2026, 10, 2), time(12), tzinfo=LOCAL_TZ), tick=False):
        lines = open_due()
    assert len(lines) == 1
    assert lines[0].startswith("publications 2026-Q3: El formato «licencias_construccion» no se abrió")
    assert "«desarrollo_urbano»" in lines[0]
    assert _publications("licencias_construccion") == 0
