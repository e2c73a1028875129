"""Declaring or removing non-working days moves every pending term it affects, and is logged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit import verify
from app.calendar import BusinessCalendar
from app.engine import InvalidData, NotAllowed
from app.extensions import db
from app.models import AuditEntry, NonWorkingDay, Role, Timer, TimerKind, TimerStatus
from app.services.deadlines import declare_non_working_days, pending_terms, remove_non_working_day
from tests.support.factories import advance, make_user, vecs_case


def _prevention_timers() -> tuple[int, Timer, Timer]:
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
    rows = {
        t.kind: t
        for t in db.session.scalars(
            select(Timer).where(Timer.case_id == case.case_id, Timer.status == TimerStatus.PENDING)
        )
    }
    return case.case_id, rows[TimerKind.DEADLINE], rows[TimerKind.REMINDER]


def test_declaring_a_day_inside_the_term_moves_it_and_back(app: Flask):
    admin = make_user(Role.ADMIN)
    case_id, deadline, reminder = _prevention_timers()
    old_due, old_due_at, old_reminder = deadline.due_on, deadline.due_at, reminder.due_on
    notified, term = deadline.notified_on, deadline.term_days
    cal = BusinessCalendar()
    inside = cal.next_business_day(deadline.notified_on)  # the first counting day of the term

    change = declare_non_working_days(inside, None, "Suspensión de labores", "Gaceta Municipal 12/2026", admin)
    assert change.days == (inside,)
    assert change.timers_moved >= 2  # the deadline and its reminder (targets elsewhere may move too)
    db.session.rollback()
    moved = db.session.get(Timer, deadline.id)
    assert moved.due_on == BusinessCalendar([inside]).add_business_days(moved.notified_on, moved.term_days)
    assert moved.due_on == cal.next_business_day(old_due)
    assert moved.due_at > old_due_at
    assert db.session.get(Timer, reminder.id).due_on > old_reminder

    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "non_working_days_declared"
    assert entry.details["days"] == [inside.isoformat()]
    assert "Gaceta Municipal 12/2026" not in json.dumps(entry.details)  # text stays out of the hashed entry

    day_id = db.session.scalars(select(NonWorkingDay.id).where(NonWorkingDay.day == inside)).one()
    back = remove_non_working_day(day_id, admin)
    assert back.timers_moved >= 2
    db.session.rollback()
    assert db.session.get(Timer, deadline.id).due_on == old_due
    assert db.session.get(Timer, reminder.id).due_on == old_reminder
    assert verify(db.session()).ok

    terms = pending_terms([case_id], today=notified)
    assert [t.kind for t in terms[case_id]] == [TimerKind.DEADLINE]
    assert terms[case_id][0].business_days_left == term
    assert not terms[case_id][0].overdue


def test_a_day_after_the_term_moves_nothing_and_ranges_skip_existing(app: Flask):
    admin = make_user(Role.ADMIN)
    _, deadline, _ = _prevention_timers()
    later = deadline.due_on + timedelta(days=30)
    change = declare_non_working_days(later, later + timedelta(days=4), "Vacaciones", "Periódico Oficial 3", admin)
    assert len(change.days) == 5
    assert change.timers_moved == 0
    again = declare_non_working_days(later, later + timedelta(days=6), "Vacaciones", "Periódico Oficial 3", admin)
    assert len(again.days) == 2


def test_calendar_changes_are_for_admins_and_validated(app: Flask):
    admin = make_user(Role.ADMIN)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    _, deadline, _ = _prevention_timers()
    day = deadline.notified_on + timedelta(days=1)
    with pytest.raises(NotAllowed):
        declare_non_working_days(day, None, "x", "y", clerk)
    with pytest.raises(InvalidData):
        declare_non_working_days(day, None, "  ", "Gaceta", admin)
    with pytest.raises(InvalidData):
        declare_non_working_days(day, day - timedelta(days=1), "x", "Gaceta", admin)
    with pytest.raises(InvalidData):
        declare_non_working_days(day, day + timedelta(days=400), "x", "Gaceta", admin)
    db.session.rollback()
    assert db.session.scalars(select(NonWorkingDay)).all() == []
    assert db.session.get(Timer, deadline.id).due_on == deadline.due_on


def test_reminder_and_missed_target_mail(app: Flask, mailbox):
    from app.services.delivery import deliver_pending
    from app.services.timers import fire_due_timers

    _, _, reminder = _prevention_timers()
    assert fire_due_timers(now=reminder.due_at).fired == 1
    assert deliver_pending(now=reminder.due_at).sent >= 1
    subjects = [m["Subject"] for m in mailbox.messages]
    assert any("Recordatorio" in s for s in subjects), subjects
    body = next(m for m in mailbox.messages if "Recordatorio" in m["Subject"]).get_content()
    assert "vence el" in body


@pytest.mark.parametrize(
    ("notified_at", "due", "left"),
    [
        # Friday 1 January 2027, a holiday: takes effect on Monday 4, counts 5–18 January
        ("2027-01-01T12:00:00-06:00", "2027-01-18", 10),
        # Saturday 9 January 2027: takes effect on Monday 11, counts 12–25 January
        ("2027-01-09T12:00:00-06:00", "2027-01-25", 10),
        # Tuesday 5 January 2027, a business day: counts 6–19 January
        ("2027-01-05T12:00:00-06:00", "2027-01-19", 10),
    ],
)
def test_a_term_notified_on_a_non_working_day_counts_only_its_own_days(
    app: Flask, notified_at: str, due: str, left: int
):
    """The days left are the term's counting days: none is used before the notification takes effect."""
    from datetime import date, datetime

    import time_machine

    with time_machine.travel(datetime.fromisoformat(notified_at), tick=False):
        case_id, deadline, _ = _prevention_timers()
        view = pending_terms([case_id], today=date.fromisoformat(notified_at[:10]))[case_id][0]
    assert deadline.due_on == date.fromisoformat(due)
    assert (view.due_on, view.business_days_left) == (date.fromisoformat(due), left)
