"""Work queues with their terms: what is due soon and what is overdue."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import NamedTuple

from app.calendar import local_today
from app.services.cases import ListedCase, own_cases, work_queue
from app.services.deadlines import ClockView, TermView, case_terms, legal_of

DUE_SOON_BUSINESS_DAYS = 3


class QueueView(StrEnum):
    """Which part of the queue to show."""

    ALL = "todos"
    DUE_SOON = "proximos"
    OVERDUE = "vencidos"
    MINE = "asignados"


class QueueRow(NamedTuple):
    """A case in a queue with its nearest pending term (if any). (A named tuple, as the terms it holds.)"""

    case: ListedCase
    term: TermView | None
    legal: ClockView | None = None
    """The case's legal term (the procedure's overall term), when its procedure declares one."""

    @property
    def sort_day(self) -> date:
        """The day the queue sorts by: the running legal term's last day, else the nearest term's."""
        if self.legal is not None and self.legal.due_on is not None:
            return self.legal.due_on
        return self.term.due_on if self.term is not None else date.max

    @property
    def overdue(self) -> bool:
        """The nearest term has lapsed."""
        return self.term is not None and self.term.overdue

    def due_soon(self, within: int = DUE_SOON_BUSINESS_DAYS) -> bool:
        """The nearest term lapses within ``within`` business days (and has not lapsed)."""
        return self.term is not None and not self.term.overdue and self.term.business_days_left <= within


def _nearest(terms: list[TermView] | None) -> TermView | None:
    return terms[0] if terms else None


def _queue_order(row: QueueRow) -> tuple[bool, date, object]:
    """Where a row sorts in a queue: by its day (cases without one last), then the oldest change first. (The
    day is asked of the row once: it is a property, and a queue sorts hundreds of rows.)"""
    day = row.sort_day
    return day == date.max, day, row.case.updated_at


def staff_queue(
    user_id: int, staff_roles: frozenset[str], view: QueueView = QueueView.ALL, today: date | None = None
) -> list[QueueRow] | None:
    """The user's work queue sorted by the nearest term (cases without one last); ``None`` when the
    user's roles never act on cases."""
    cases = work_queue(user_id, staff_roles)
    if cases is None:
        return None
    terms, clocks = case_terms(cases, today or local_today())
    legal = legal_of(clocks)
    rows = [QueueRow(c, _nearest(terms.get(c.id)), legal.get(c.id)) for c in cases]
    if view == QueueView.OVERDUE:
        rows = [r for r in rows if r.overdue]
    elif view == QueueView.DUE_SOON:
        rows = [r for r in rows if r.due_soon()]
    elif view == QueueView.MINE:
        rows = [r for r in rows if r.case.assignee_id == user_id]
    rows.sort(key=_queue_order)
    return rows


def applicant_cases(user_id: int, today: date | None = None) -> list[QueueRow]:
    """The cases a person filed, newest first, each with the nearest term that binds them or the authority."""
    cases = own_cases(user_id)
    terms, clocks = case_terms(cases, today or local_today())
    legal = legal_of(clocks)
    return [QueueRow(c, _nearest(terms.get(c.id)), legal.get(c.id)) for c in cases]
