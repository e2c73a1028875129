"""The VECS legal term on concrete dates: ten business days from the business day after the complete filing.

The expected last days are counted by hand from the 2026 calendar (statutory holidays: 2 February, 16 March,
1 May, 16 September, 16 November, 25 December), not computed with the code under test. The term pauses while
the applicant holds the case (prevención, payment) where the jurisdiction's law suspends it, counts anew or
keeps running where it says so; declaring a non-working day after the filing moves it; its lapse applies the
jurisdiction's silence rule, fired by the system. The clock is frozen at each date (Mexico City noon).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, Role, Timer, TimerStatus
from app.models.clocks import ClockStatus
from app.services.cases import FireResult, fire
from app.services.config import update_config
from app.services.deadlines import declare_non_working_days, legal_terms
from app.services.queues import staff_queue
from app.services.timers import fire_due_timers
from tests.support.clock import noon
from tests.support.factories import make_user, vecs_case


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


@dataclass(frozen=True)
class Town:
    owner: int
    clerk: int
    reviewer: int
    admin: int


@pytest.fixture
def town(app: Flask) -> Town:
    return Town(
        owner=make_user(Role.APPLICANT),
        clerk=make_user(Role.INTAKE_CLERK),
        reviewer=make_user(Role.REVIEWER),
        admin=make_user(Role.ADMIN),
    )


def _step(
    case: FireResult, trigger: str, actor: int, data: dict[str, object] | None = None, comment: str = ""
) -> FireResult:
    return fire(case.case_id, trigger, actor, expected_version=case.version, data=data, comment=comment or None)


def _file(town: Town, day: date) -> FireResult:
    with _on(day):
        return _step(vecs_case(town.owner), "submit", town.owner)


def _due(case_id: int) -> date | None:
    db.session.rollback()
    rows = db.session.scalars(
        select(Timer.due_on).where(
            Timer.case_id == case_id, Timer.rule == "clock:resolution", Timer.status == TimerStatus.PENDING
        )
    ).all()
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_a_filing_before_a_long_weekend_counts_from_the_business_day_after_it(town: Town) -> None:
    # Friday 13 March 2026; Monday 16 March is a holiday: the term counts from Tuesday 17 March
    # 17 18 19 20 | 23 24 25 26 27 | 30 → Monday 30 March
    case = _file(town, date(2026, 3, 13))
    assert _due(case.case_id) == date(2026, 3, 30)
    with _on(date(2026, 3, 13)):
        view = legal_terms([case.case_id])[case.case_id]
    assert view.status == ClockStatus.RUNNING
    assert view.due_on == date(2026, 3, 30)
    assert view.business_days_left == 10


@pytest.mark.parametrize(
    ("interruption", "expected"),
    [
        # 2 days used (5, 6 Feb); prevención 9–12 Feb; 8 left from 13 Feb: 13 | 16 17 18 19 20 | 23 24
        ("pause", date(2026, 2, 24)),
        # counted anew, whole, from 13 Feb: 13 | 16 17 18 19 20 | 23 24 25 26
        ("restart", date(2026, 2, 26)),
        # the applicant's time counts: 5 6 | 9 10 11 12 13 | 16 17 18
        ("run", date(2026, 2, 18)),
    ],
)
def test_a_prevencion_in_the_middle_pauses_the_term_where_the_jurisdiction_says_so(
    town: Town, interruption: str, expected: date
) -> None:
    with _on(date(2026, 2, 3)):
        update_config("vecs", {"resolution_interruption": interruption}, town.admin)
    case = _file(town, date(2026, 2, 4))  # Wednesday; counts from Thursday 5 February
    assert _due(case.case_id) == date(2026, 2, 18)
    with _on(date(2026, 2, 9)):
        case = _step(case, "start_intake", town.clerk)
        case = _step(case, "issue_prevention", town.clerk, {"prevention_items": ["planos"]}, "Faltan cotas")
        if interruption == "run":
            assert _due(case.case_id) == date(2026, 2, 18)
        else:
            assert _due(case.case_id) is None
            assert legal_terms([case.case_id])[case.case_id].paused
    with _on(date(2026, 2, 12)):
        case = _step(case, "answer_prevention", town.owner)
    assert _due(case.case_id) == expected


def test_a_non_working_day_declared_after_the_filing_moves_the_term(town: Town) -> None:
    case = _file(town, date(2026, 2, 4))
    assert _due(case.case_id) == date(2026, 2, 18)
    with _on(date(2026, 2, 6)):
        declare_non_working_days(
            date(2026, 2, 11), None, "Suspensión de labores", "Gaceta Municipal 7/2026", town.admin
        )
    assert _due(case.case_id) == date(2026, 2, 19)


@pytest.mark.parametrize(
    ("silence", "state", "trigger"),
    [("grant_ficta", "granted_ficta", "grant_ficta"), ("deny_ficta", "denied_ficta", "deny_ficta")],
)
def test_the_lapse_applies_the_jurisdictions_silence_rule_as_the_system(
    town: Town, silence: str, state: str, trigger: str
) -> None:
    with _on(date(2026, 2, 3)):
        update_config("vecs", {"resolution_silence": silence}, town.admin)
    case = _file(town, date(2026, 2, 4))
    with _on(date(2026, 2, 5)):
        case = _step(case, "start_intake", town.clerk)
    with _on(date(2026, 2, 18)):  # the last day: nothing fires yet
        fire_due_timers()
    db.session.rollback()
    assert db.session.get(Case, case.case_id).state == "intake_review"  # type: ignore[union-attr]
    with _on(date(2026, 2, 19)):
        report = fire_due_timers()
    assert report.fired >= 1
    db.session.rollback()
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert stored.state == state
    assert stored.data["resolution_lapsed_on"] == "2026-02-18"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case.case_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    assert entry.action == trigger
    assert entry.actor_id is None
    assert entry.actor_role == "system"
    assert entry.details["rule"] == "clock:resolution"


def test_queues_sort_by_the_legal_term(town: Town) -> None:
    later = _file(town, date(2026, 2, 5))
    sooner = _file(town, date(2026, 2, 4))
    with _on(date(2026, 2, 6)):
        rows = staff_queue(town.clerk, frozenset({"intake_clerk"}))
    assert rows is not None
    order = [row.case.id for row in rows if row.case.id in (later.case_id, sooner.case_id)]
    assert order == [sooner.case_id, later.case_id]
    assert rows[0].legal is not None
    assert rows[0].legal.due_on == date(2026, 2, 18)


def test_notices_carry_the_legal_term_as_a_date_and_business_days_left(town: Town) -> None:
    from app.models import OutboxMessage
    from app.services.delivery import compose

    case = _file(town, date(2026, 3, 13))
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case.case_id, OutboxMessage.topic == "case_transition")
    ).first()
    assert message is not None
    with _on(date(2026, 3, 17)):
        composed = compose(db.session(), message)
    assert composed is not None
    body = composed[2]
    assert "Plazo máximo de resolución de la ventanilla" in body
    assert "vence el 30 de marzo de 2026 (9 días hábiles restantes)" in body
