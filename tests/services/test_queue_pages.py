"""The staff's work queue a page at a time: the pages, followed one after another, give the whole queue in its
order (nearest term first), and each view (due soon, overdue, assigned to me) is chosen by the database, so that
no case of the view is left beyond a page of other cases.

Before, the queue read the 200 cases changed longest ago and chose the view's cases and the order among those:
with more cases waiting, a case assigned to the user, or overdue, that had changed since was in none of its views.
The dates are those of the 2026 calendar (statutory holidays 2 February and 16 March); the clock is frozen at
Mexico City noon of each day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import update

from app.extensions import db
from app.models import Case, CaseEscalation, EscalationKind, Role, utcnow
from app.procedures.access_request import services as ar
from app.services.assignment import assignment_page
from app.services.cases import fire
from app.services.deadlines import calendar, declare_non_working_days
from app.services.queues import QueueCursor, QueueRow, QueueView, StaffQueue, last_day_due_soon, staff_queue_page
from app.services.timers import fire_due_timers
from tests.support.clock import noon
from tests.support.factories import make_user, vecs_case
from tests.support.paging import walked

CLERK_ROLES = frozenset({Role.INTAKE_CLERK.value})
FILED_ON = (
    date(2026, 2, 3),
    date(2026, 2, 3),
    date(2026, 2, 4),
    date(2026, 2, 6),
    date(2026, 2, 9),
    date(2026, 2, 11),
    date(2026, 2, 12),
)


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


def _filed(owner: int) -> list[int]:
    """A case filed (submitted) on each day of :data:`FILED_ON`, in the intake clerks' queue."""
    ids = []
    for day in FILED_ON:
        with _on(day):
            draft = vecs_case(owner)
            fire(draft.case_id, "submit", owner, expected_version=draft.version)
            ids.append(draft.case_id)
    db.session.commit()
    return ids


def _walk(clerk: int, view: QueueView, day: date, limit: int) -> tuple[list[QueueRow], int]:
    """Every row of ``view`` on ``day``, page after page of ``limit``, and the number of pages."""
    rows: list[QueueRow] = []
    after = None
    pages = 0
    with _on(day):
        while True:
            page = staff_queue_page(clerk, CLERK_ROLES, view, after=after, limit=limit)
            assert isinstance(page, StaffQueue)
            pages += 1
            rows += page.rows
            if page.following is None:
                return rows, pages
            assert pages < 20, "the pages never end"
            after = page.following


def _whole(clerk: int, day: date) -> list[QueueRow]:
    with _on(day):
        page = staff_queue_page(clerk, CLERK_ROLES, QueueView.ALL, limit=100)
    assert page is not None
    assert page.following is None
    return page.rows


@pytest.fixture
def queue(app: Flask) -> tuple[int, list[int]]:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    return clerk, _filed(owner)


def test_the_pages_give_the_whole_queue_in_its_order(queue: tuple[int, list[int]]) -> None:
    clerk, ids = queue
    day = date(2026, 2, 13)
    whole = _whole(clerk, day)
    assert sorted(r.case.id for r in whole) == sorted(ids)
    # nearest term first (the legal term's last day), then the oldest change, then the case
    keys = [(r.sort_day, r.case.updated_at, r.case.id) for r in whole]
    assert keys == sorted(keys)
    assert len({r.sort_day for r in whole}) > 3  # the order is the terms', not the filing's alone
    rows, pages = _walk(clerk, QueueView.ALL, day, 3)
    assert [r.case.id for r in rows] == [r.case.id for r in whole]
    assert pages == 3


def test_each_view_is_the_whole_queue_s_cases_of_that_view(queue: tuple[int, list[int]]) -> None:
    """On three days (the cases' terms running, some due soon, some lapsed), each view walked two cases a page
    is the whole queue's cases of that view, in the queue's order; and the views are neither empty nor whole."""
    clerk, ids = queue
    counts = {}
    for day in (date(2026, 2, 13), date(2026, 2, 17), date(2026, 2, 24)):
        whole = _whole(clerk, day)
        for view, chosen in (
            (QueueView.OVERDUE, [r for r in whole if r.overdue]),
            (QueueView.DUE_SOON, [r for r in whole if r.due_soon()]),
        ):
            rows, _pages = _walk(clerk, view, day, 2)
            assert [r.case.id for r in rows] == [r.case.id for r in chosen], (view, day)
            counts[view, day] = len(chosen)
    # on the first two days each view holds some of the cases and not all (measured: 5 and 2, then 6 and 1)
    assert all(0 < count < len(ids) for (_view, day), count in counts.items() if day < date(2026, 2, 24))


def test_the_cases_assigned_to_me_are_found_beyond_a_page_of_others(queue: tuple[int, list[int]]) -> None:
    clerk, ids = queue
    mine = ids[-3:]  # the last filed: the furthest terms, at the end of the queue
    db.session.execute(update(Case).where(Case.id.in_(mine)).values(assignee_id=clerk))
    db.session.commit()
    day = date(2026, 2, 13)
    first, _ = _walk(clerk, QueueView.ALL, day, 2)
    assert [r.case.id for r in first][:2] != mine[:2]
    rows, pages = _walk(clerk, QueueView.MINE, day, 2)
    assert sorted(r.case.id for r in rows) == sorted(mine)
    assert pages == 2
    with _on(day):
        page = staff_queue_page(clerk, CLERK_ROLES, QueueView.MINE, limit=2)
    assert page is not None
    assert all(r.case.assignee_id == clerk for r in page.rows)
    assert len(page.rows) == 2


def test_a_page_past_the_last_case_is_empty(queue: tuple[int, list[int]]) -> None:
    clerk, _ids = queue
    day = date(2026, 2, 13)
    whole = _whole(clerk, day)
    last = whole[-1]
    with _on(day):
        page = staff_queue_page(
            clerk,
            CLERK_ROLES,
            after=QueueCursor(last.sort_day, last.case.updated_at, last.case.id),
            limit=3,
        )
    assert page == StaffQueue([], None)


def test_the_last_day_due_soon_is_the_last_with_three_business_days_left(app: Flask) -> None:
    """Counted against the calendar's own count, every day of a year with a declared non-working week."""
    admin = make_user(Role.ADMIN)
    declare_non_working_days(date(2026, 12, 21), date(2026, 12, 31), "Periodo vacacional", "Gaceta 123", admin)
    db.session.commit()
    cal = calendar(db.session())
    day = date(2026, 1, 1)
    while day.year == 2026:
        last = last_day_due_soon(cal, day)
        assert cal.business_days_between(day, last) <= 3
        assert cal.business_days_between(day, last + timedelta(days=1)) > 3
        day += timedelta(days=1)


def _requests_filed() -> list[int]:
    """Seven access requests: three filed in early July 2025 (their response terms, 20 business days, lapse in
    August), four later on different days."""
    ids = []
    for day in (
        date(2025, 7, 8),
        date(2025, 7, 8),
        date(2025, 7, 9),
        date(2025, 8, 4),
        date(2025, 8, 6),
        date(2025, 8, 6),
        date(2025, 8, 7),
    ):
        with _on(day):
            filed = ar.file_request("Lector Curioso", "lector@example.test", "Contratos de obra de 2025", "electronic")
            ids.append(filed.case_id)
    db.session.commit()
    return ids


def test_the_unit_s_queue_pages_give_the_whole_queue_lapsed_terms_first(app: Flask) -> None:
    ids = _requests_filed()
    with _on(date(2025, 8, 11)):
        fire_due_timers()
        whole = ar.unit_queue_page(limit=100)
        assert whole.following is None
        assert sorted(r.case_id for r in whole.rows) == sorted(ids)
        lapsed = [r.case_id for r in whole.rows if r.overdue]
        assert sorted(lapsed) == sorted(ids[:3])
        keys = [(not r.overdue, r.due_on or date.max, r.case_id) for r in whole.rows]
        assert keys == sorted(keys)
        pages = walked(lambda after: ar.unit_queue_page(after=after, limit=2), 2)
    assert [r.case_id for r in pages] == [r.case_id for r in whole.rows]


def test_the_assignment_overview_pages_give_every_waiting_case_unassigned_and_escalated_first(app: Flask) -> None:
    """Seven cases at a department's stage: four assigned, two of them escalated (and one with an escalation
    resolved), and three unassigned, one of them escalated. Walked two a page, the overview gives every case
    once: unassigned first, then escalated, then the oldest change (ties by case). (Before, the overview read the
    500 cases changed longest ago and sorted only those: past 500, an unassigned case that had changed since was
    not on it.)"""
    owner = make_user(Role.APPLICANT)
    reviewer = make_user((Role.REVIEWER, "revision_obra"))
    ids = _filed(owner)
    db.session.execute(update(Case).where(Case.id.in_(ids)).values(department_code="revision_obra"))
    db.session.execute(update(Case).where(Case.id.in_(ids[:4])).values(assignee_id=reviewer))
    for case_id in (ids[1], ids[3], ids[5]):
        db.session.add(CaseEscalation(case_id=case_id, kind=EscalationKind.TARGET_MISSED, state="intake"))
    resolved = CaseEscalation(case_id=ids[0], kind=EscalationKind.TARGET_MISSED, state="intake")
    resolved.resolved_at = utcnow()
    db.session.add(resolved)
    db.session.commit()
    whole, following = assignment_page(100)
    assert following is None
    assert [row.case.id for row in whole] == [ids[5], ids[4], ids[6], ids[1], ids[3], ids[0], ids[2]]
    assert [row.escalated for row in whole] == [True, False, False, True, True, False, False]
    assert [row.assignee_name is not None for row in whole] == [False] * 3 + [True] * 4
    pages = walked(lambda after: assignment_page(2, after), 2)
    assert [row.case.id for row in pages] == [row.case.id for row in whole]
