"""The response clock of access-to-information requests on concrete dates (2025–2027).

The expected last days are written out by hand from the calendar, not computed with the code under test:
the 20 business days run from the business day after receipt (a filing on a non-working day counts from the
next business day); weekends, statutory holidays and the authority's declared days do not count; the
prevención interrupts the clock, which counts anew, whole, from the business day after the answer (or,
where the jurisdiction says the prevención only suspends it, resumes with the days already used kept); an
approved extension adds 10 business days; declaring a non-working day later moves the term.
The clock is frozen at each date (Mexico City noon), so nothing depends on the real date.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from app.calendar import BusinessCalendar
from app.extensions import db
from app.models import Case, Role, Timer, TimerStatus
from app.models.clocks import CaseClock, ClockStatus
from app.procedures.access_request import services as access
from app.procedures.access_request.models import CommitteeItem
from app.services.cases import FireResult, fire, open_case
from app.services.config import update_config
from app.services.deadlines import case_clocks, declare_non_working_days, used_business_days
from app.services.timers import fire_due_timers
from app.services.users import ensure_department
from tests.support.clock import noon
from tests.support.factories import make_user, quorum

HOLY_WEEK_2026 = (date(2026, 3, 30), date(2026, 4, 3))
YEAR_END_2026 = (date(2026, 12, 21), date(2027, 1, 1))
REQUEST = {"information_requested": "Padrón de licencias de construcción", "delivery_format": "electronic"}


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


def _declare(first: date, last: date) -> None:
    admin = make_user(Role.ADMIN)
    declare_non_working_days(first, last, "Periodo inhábil", "Gaceta Oficial 1/2026", admin)


def _file(day: date) -> tuple[FireResult, int]:
    with _on(day):
        requester = make_user(Role.APPLICANT)
        unit = make_user(Role.TRANSPARENCY_UNIT)
        return open_case("access_request", requester, dict(REQUEST)), unit


def _response_due(case_id: int) -> date | None:
    db.session.rollback()
    rows = db.session.scalars(
        select(Timer.due_on).where(
            Timer.case_id == case_id, Timer.rule == "clock:response", Timer.status == TimerStatus.PENDING
        )
    ).all()
    assert len(rows) <= 1
    return rows[0] if rows else None


def _clock(case_id: int, name: str = "response") -> CaseClock:
    db.session.rollback()
    return db.session.scalars(select(CaseClock).where(CaseClock.case_id == case_id, CaseClock.name == name)).one()


# (filed on, declared period or None, expected last day): every row counted by hand
FILINGS = [
    # Monday; 16 March 2026 (third Monday of March) does not count
    (date(2026, 3, 2), None, date(2026, 3, 31)),
    # the same, with Holy Week 2026 declared by the authority: +5 business days
    (date(2026, 3, 2), HOLY_WEEK_2026, date(2026, 4, 7)),
    # filed on a Friday; Monday 3 February 2025 is a holiday, so counting starts on Tuesday the 4th
    (date(2025, 1, 31), None, date(2025, 3, 3)),
    # filed on a holiday (17 November 2025): it counts as filed on the 18th, the term starts on the 19th
    (date(2025, 11, 17), None, date(2025, 12, 16)),
    # 16 September 2025 (Tuesday) does not count
    (date(2025, 9, 1), None, date(2025, 9, 30)),
    # 1 May 2026 (Friday) does not count
    (date(2026, 4, 27), None, date(2026, 5, 26)),
    # December 2026 without vacation: 25 December does not count
    (date(2026, 12, 1), None, date(2026, 12, 30)),
    # with the end-of-year vacation declared (21 Dec 2026 – 1 Jan 2027)
    (date(2026, 12, 1), YEAR_END_2026, date(2027, 1, 12)),
    # filed on a Saturday: counts as filed on Monday 7 June 2027, the term starts on Tuesday the 8th
    (date(2027, 6, 5), None, date(2027, 7, 5)),
]


@pytest.mark.parametrize(("filed", "declared", "expected"), FILINGS)
def test_response_term_on_concrete_dates(app: Flask, filed: date, declared: tuple[date, date] | None, expected: date):
    if declared is not None:
        _declare(*declared)
    opened, _ = _file(filed)
    assert _response_due(opened.case_id) == expected
    clock = _clock(opened.case_id)
    assert clock.status == ClockStatus.RUNNING
    assert clock.term_days == 20
    view = case_clocks([opened.case_id], today=filed)[opened.case_id]["response"]
    assert view.due_on == expected
    assert not view.overdue


def _prevention_effect(effect: str) -> None:
    update_config("access_request", {"prevention_effect": effect}, make_user(Role.ADMIN))


def test_prevention_interrupts_the_term_which_counts_anew_after_the_answer(app: Flask):
    """LGTAIP 2015 art. 128: the prevención interrupts the term; it counts anew, whole, from the business day
    after the answer. The default."""
    opened, unit = _file(date(2025, 6, 2))  # Monday; the term would end on 30 June 2025
    assert _response_due(opened.case_id) == date(2025, 6, 30)
    with _on(date(2025, 6, 9)):
        step = fire(opened.case_id, "prevent", unit, expected_version=opened.version, comment="Precise el periodo")
    assert _response_due(opened.case_id) is None
    assert _clock(opened.case_id).status == ClockStatus.PAUSED
    requester = db.session.get(Case, opened.case_id).applicant_id
    with _on(date(2025, 6, 18)):  # Wednesday: 20 whole days from Thursday the 19th
        fire(opened.case_id, "answer_prevention", requester, expected_version=step.version, data={"clarification": "x"})
    # 19, 20, 23–27, 30 June, 1–4, 7–11, 14, 15, 16 July: the 20th business day
    assert _response_due(opened.case_id) == date(2025, 7, 16)
    assert _clock(opened.case_id).used_days == 0


def test_interrupted_term_counts_anew_across_a_holiday_and_a_declared_period(app: Flask):
    opened, unit = _file(date(2026, 3, 2))
    with _on(date(2026, 3, 5)):
        step = fire(opened.case_id, "prevent", unit, expected_version=opened.version, comment="Precise")
    requester = db.session.get(Case, opened.case_id).applicant_id
    with _on(date(2026, 3, 9)):  # from the 10th: 10–13, 17–20 (16 March is a holiday), 23–27, 30, 31, 1–3, 6, 7 Apr
        fire(opened.case_id, "answer_prevention", requester, expected_version=step.version, data={"clarification": "x"})
    assert _response_due(opened.case_id) == date(2026, 4, 7)
    with _on(date(2026, 3, 11)):
        _declare(*HOLY_WEEK_2026)  # 30 March – 3 April no longer count: five more days
    assert _response_due(opened.case_id) == date(2026, 4, 14)


def test_prevention_pauses_the_clock_and_the_answer_resumes_it(app: Flask):
    _prevention_effect("pause")  # a jurisdiction whose law suspends the term instead
    opened, unit = _file(date(2025, 6, 2))  # Monday; the term would end on 30 June 2025
    assert _response_due(opened.case_id) == date(2025, 6, 30)
    with _on(date(2025, 6, 9)):  # 3, 4, 5 and 6 June used: 4 business days
        step = fire(opened.case_id, "prevent", unit, expected_version=opened.version, comment="Precise el periodo")
    assert _response_due(opened.case_id) is None
    paused = _clock(opened.case_id)
    assert paused.status == ClockStatus.PAUSED
    assert paused.used_days == 4
    assert case_clocks([opened.case_id], today=date(2025, 6, 10))[opened.case_id]["response"].due_on is None
    requester = db.session.get(Case, opened.case_id).applicant_id
    with _on(date(2025, 6, 18)):  # Wednesday: resumes on Thursday the 19th with 16 days left
        fire(
            opened.case_id,
            "answer_prevention",
            requester,
            expected_version=step.version,
            data={"clarification": "2024"},
        )
    assert _clock(opened.case_id).status == ClockStatus.RUNNING
    assert _response_due(opened.case_id) == date(2025, 7, 10)


def test_used_days_before_an_interruption():
    cal = BusinessCalendar()
    assert used_business_days(cal, date(2025, 6, 2), date(2025, 6, 9)) == 4
    assert used_business_days(cal, date(2025, 6, 2), date(2025, 6, 3)) == 0  # interrupted on the first day
    assert used_business_days(cal, date(2025, 6, 2), date(2025, 6, 2)) == 0  # on the day of receipt
    # received on a holiday: counting started on the 19th, so the 19th and 20th were used
    assert used_business_days(cal, date(2025, 11, 17), date(2025, 11, 21)) == 2


def test_extension_adds_ten_business_days_once(app: Flask):
    # filed on a holiday (1 February 2027): counts from Wednesday the 3rd, ends on 2 March 2027
    opened, unit = _file(date(2027, 2, 1))
    assert _response_due(opened.case_id) == date(2027, 3, 2)
    committee = make_user(Role.COMMITTEE_MEMBER)
    ensure_department("obras", "Obras Públicas")
    with _on(date(2027, 2, 15)):
        step = fire(opened.case_id, "turn", unit, expected_version=opened.version, data={"turned_to": ["obras"]})
        assert _response_due(opened.case_id) == date(2027, 3, 2)  # a change of state keeps the same term
        session_id = access.open_session("CT-2027-02", date(2027, 2, 15), committee)
        access.request_extension(opened.case_id, session_id, "Volumen", unit, expected_version=step.version)
        db.session.rollback()
        item = db.session.scalars(select(CommitteeItem.id).where(CommitteeItem.case_id == opened.case_id)).one()
        access.decide_item(item, "approve", "Se aprueba la ampliación", committee, votes=quorum(committee))
    # 3, 4, 5, 8–12 March, 15 March is a holiday, 16 and 17 March: +10
    assert _response_due(opened.case_id) == date(2027, 3, 17)
    clock = _clock(opened.case_id)
    assert clock.extension_days == 10
    assert case_clocks([opened.case_id], today=date(2027, 3, 3))[opened.case_id]["response"].extended


def test_a_day_declared_after_filing_moves_the_running_clock(app: Flask):
    opened, _ = _file(date(2026, 3, 2))
    assert _response_due(opened.case_id) == date(2026, 3, 31)
    with _on(date(2026, 3, 10)):
        _declare(*HOLY_WEEK_2026)
    assert _response_due(opened.case_id) == date(2026, 4, 7)


def test_a_declared_day_moves_a_resumed_clock_from_where_it_resumed(app: Flask):
    _prevention_effect("pause")
    opened, unit = _file(date(2026, 3, 2))
    with _on(date(2026, 3, 5)):  # 3 and 4 March used
        step = fire(opened.case_id, "prevent", unit, expected_version=opened.version, comment="Precise")
    requester = db.session.get(Case, opened.case_id).applicant_id
    with _on(date(2026, 3, 9)):  # resumes on the 10th with 18 days left: 10–13, 17–20, 23–27, 30, 31, 1–3 Apr
        fire(opened.case_id, "answer_prevention", requester, expected_version=step.version, data={"clarification": "x"})
    assert _response_due(opened.case_id) == date(2026, 4, 3)
    with _on(date(2026, 3, 11)):
        _declare(*HOLY_WEEK_2026)
    assert _response_due(opened.case_id) == date(2026, 4, 10)


def test_lapse_flags_the_case_and_starts_the_appeal_term(app: Flask):
    opened, _ = _file(date(2026, 3, 2))
    with _on(date(2026, 3, 31)):  # the prevention and public-source (5 days) and incompetence (3 days) windows
        assert fire_due_timers().fired == 3
    db.session.rollback()
    assert "response_overdue_on" not in db.session.get(Case, opened.case_id).data  # the last day still counts
    with _on(date(2026, 4, 1)):  # the response term lapsed at midnight
        assert fire_due_timers().fired == 1
        assert fire_due_timers().fired == 0
    db.session.rollback()
    case = db.session.get(Case, opened.case_id)
    assert case.state == "received"
    assert case.data["response_overdue_on"] == "2026-03-31"
    assert case.data["prevention_window_closed_on"] == "2026-03-09"
    assert case.data["incompetence_window_closed_on"] == "2026-03-05"
    assert case.data["public_source_window_closed_on"] == "2026-03-09"
    assert _clock(opened.case_id).status == ClockStatus.LAPSED
    views = case_clocks([opened.case_id], today=date(2026, 4, 1))[opened.case_id]
    assert views["response"].overdue
    # the appeal term for the silence (LGTAIP 2015 art. 142): the 15 business days following the response term's
    # last day, 31 March: 1 2 3 | 6–10 | 13–17 | 20 21 April (no day declared here)
    assert views["silence_appeal"].status == ClockStatus.RUNNING
    assert views["silence_appeal"].due_on == date(2026, 4, 21)
    assert views["silence_appeal"].business_days_left == 14  # its first day, 1 April, under way


def test_the_appeal_term_for_the_silence_counts_from_the_lapse_not_from_the_day_it_was_recorded(app: Flask):
    """The timers' worker ran two days late (3 April): the appeal term still runs from the day after the response
    term's last day (31 March), and two of its days are gone."""
    opened, _ = _file(date(2026, 3, 2))
    with _on(date(2026, 4, 3)):
        assert fire_due_timers().fired == 4  # the three windows and the response term, all at once
    db.session.rollback()
    assert db.session.get(Case, opened.case_id).data["response_overdue_on"] == "2026-03-31"
    view = case_clocks([opened.case_id], today=date(2026, 4, 3))[opened.case_id]["silence_appeal"]
    assert view.due_on == date(2026, 4, 21)
    assert view.business_days_left == 12  # 6–10 | 13–17 | 20 21 April


@pytest.mark.parametrize(
    ("filed", "today", "left"),
    [
        # Saturday 14 March 2026; Monday 16 is a holiday: the filing takes effect on Tuesday 17 and the term counts
        # 18 March – 14 April, 20 days whole on the day of filing, on the holiday and on the 17th, then one fewer
        # each business day
        (date(2026, 3, 14), date(2026, 3, 14), 20),
        (date(2026, 3, 14), date(2026, 3, 16), 20),
        (date(2026, 3, 14), date(2026, 3, 17), 20),
        (date(2026, 3, 14), date(2026, 3, 18), 19),
        (date(2026, 3, 14), date(2026, 4, 14), 0),
        # Friday 13 March, a business day: the term counts from the next one, 17 March, to 13 April
        (date(2026, 3, 13), date(2026, 3, 13), 20),
        (date(2026, 3, 13), date(2026, 3, 17), 19),
    ],
)
def test_the_days_left_of_a_clock_are_its_counting_days_only(app: Flask, filed: date, today: date, left: int):
    """The days left of a term notified on a non-working day did count that non-working day's next business day
    (the day the filing takes effect, which is not a counting day): 21 of 20 on the public pages."""
    opened, _ = _file(filed)
    view = case_clocks([opened.case_id], today=today)[opened.case_id]["response"]
    assert view.business_days_left == left
