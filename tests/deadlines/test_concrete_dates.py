"""Timers of real cases on concrete dates (2025–2027), with the clock frozen at each date.

The expected last days are written out by hand from the calendar, not computed with the code under test:
a term starts the day after the notification takes effect; weekends, statutory holidays and the
authority's declared days do not count. The VECS prevención gives the applicant 10 business days and a
reminder 3 business days before the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from app.audit import verify
from app.calendar import LOCAL_TZ
from app.extensions import db
from app.models import AuditEntry, Case, Role, Timer, TimerKind, TimerStatus
from app.services.deadlines import declare_non_working_days, pending_terms
from app.services.timers import fire_due_timers
from tests.support.factories import advance, make_user, vecs_case

HOLY_WEEK_2026 = (date(2026, 3, 30), date(2026, 4, 3))
YEAR_END_2026 = (date(2026, 12, 21), date(2027, 1, 1))


def _local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=LOCAL_TZ).astimezone(UTC)


@contextmanager
def _on(day: date) -> Iterator[None]:
    """Freeze the clock at noon, Mexico City time, on ``day``."""
    with time_machine.travel(_local_noon(day), tick=False):
        yield


def _prevention_on(day: date) -> tuple[int, dict[TimerKind, Timer]]:
    """A VECS case whose prevención is notified on ``day``; its pending timers by kind."""
    with _on(day):
        applicant = make_user(Role.APPLICANT)
        clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
        case = advance(
            vecs_case(applicant),
            [
                ("submit", applicant, None, None),
                ("start_intake", clerk, None, None),
                ("issue_prevention", clerk, {"prevention_items": ["planos"]}, "Faltan cotas."),
            ],
        )
    db.session.rollback()
    timers = db.session.scalars(
        select(Timer).where(Timer.case_id == case.case_id, Timer.status == TimerStatus.PENDING)
    ).all()
    return case.case_id, {t.kind: t for t in timers}


def _declare(first: date, last: date, on: date) -> None:
    with _on(on):
        admin = make_user(Role.ADMIN)
        declare_non_working_days(first, last, "Periodo inhábil", "Gaceta Oficial", admin)


@pytest.mark.parametrize(
    ("notified", "declared", "due", "reminder"),
    [
        # Friday before Constitution Day (Monday 2 February 2026)
        (date(2026, 1, 30), None, date(2026, 2, 16), date(2026, 2, 11)),
        # crosses Benito Juárez's birthday (Monday 16 March 2026)
        (date(2026, 3, 12), None, date(2026, 3, 27), date(2026, 3, 24)),
        # Holy Week 2026 declared by the authority before the case
        (date(2026, 3, 25), HOLY_WEEK_2026, date(2026, 4, 15), date(2026, 4, 10)),
        # end-of-year vacation declared by the authority (includes Christmas and New Year's Day)
        (date(2026, 12, 17), YEAR_END_2026, date(2027, 1, 14), date(2027, 1, 11)),
        # notified ON Independence Day (Wednesday): takes effect Thursday 17, counts from Friday 18
        (date(2026, 9, 16), None, date(2026, 10, 1), date(2026, 9, 28)),
        # Friday before Revolution Day 2025 (Monday 17 November)
        (date(2025, 11, 14), None, date(2025, 12, 1), date(2025, 11, 26)),
        # Friday before Benito Juárez's birthday 2027 (Monday 15 March); Holy Week not declared in 2027
        (date(2027, 3, 12), None, date(2027, 3, 29), date(2027, 3, 24)),
        # notified on a Saturday: takes effect Monday, counts from Tuesday
        (date(2026, 6, 6), None, date(2026, 6, 22), date(2026, 6, 17)),
    ],
)
def test_prevention_term_on_concrete_dates(
    app: Flask, notified: date, declared: tuple[date, date] | None, due: date, reminder: date
):
    if declared is not None:
        _declare(*declared, on=notified - timedelta(days=20))
    case_id, timers = _prevention_on(notified)
    deadline = timers[TimerKind.DEADLINE]
    assert (deadline.notified_on, deadline.term_days) == (notified, 10)
    assert deadline.due_on == due
    assert deadline.due_at == datetime.combine(due + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    assert timers[TimerKind.REMINDER].due_on == reminder
    assert pending_terms([case_id], today=due)[case_id][0].business_days_left == 0
    assert pending_terms([case_id], today=reminder)[case_id][0].business_days_left == 3


def test_days_declared_after_notification_move_the_term_and_it_lapses_once(app: Flask):
    notified = date(2026, 3, 25)
    case_id, timers = _prevention_on(notified)
    deadline = timers[TimerKind.DEADLINE]
    assert deadline.due_on == date(2026, 4, 8)  # Holy Thursday and Good Friday are not statutory holidays

    _declare(*HOLY_WEEK_2026, on=date(2026, 3, 27))
    db.session.rollback()
    moved = db.session.get(Timer, deadline.id)
    assert moved.due_on == date(2026, 4, 15)
    assert db.session.get(Timer, timers[TimerKind.REMINDER].id).due_on == date(2026, 4, 10)

    # the old last day passes without effect; the new one lapses at midnight ending 15 April, Mexico City time
    with time_machine.travel(datetime(2026, 4, 16, 5, 59, 59, tzinfo=UTC), tick=False):
        assert fire_due_timers().fired == 1  # the reminder only
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "prevention"
    with time_machine.travel(datetime(2026, 4, 16, 6, 0, tzinfo=UTC), tick=False):
        assert fire_due_timers().fired == 1
        assert fire_due_timers().fired == 0
    with time_machine.travel(datetime(2026, 4, 20, 12, 0, tzinfo=UTC), tick=False):
        assert fire_due_timers().fired == 0

    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case.state == "not_presented"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert (entry.action, entry.actor_id, entry.actor_role) == ("lapse_prevention", None, "system")
    assert entry.details["rule"] == "prevention_answer_days"
    assert entry.details["due_on"] == "2026-04-15"
    assert entry.at == datetime(2026, 4, 16, 6, 0, tzinfo=UTC)
    assert verify(db.session()).ok
