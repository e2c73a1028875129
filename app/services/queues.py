"""Work queues with their terms: what is due soon and what is overdue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple

from app.calendar import local_today
from app.services.cases import (
    DUE_SOON_BUSINESS_DAYS,
    QUEUE_LIMIT,
    QueueCursor,
    QueueView,
    last_day_due_soon,
    own_cases,
    work_queue_page,
)
from app.services.deadlines import ClockView, TermView, case_terms, legal_of
from app.services.listing import ListedCase

QUEUE_PAGE = 50
"""Cases on a page of the staff's queue."""

__all__ = [
    "DUE_SOON_BUSINESS_DAYS",
    "QUEUE_PAGE",
    "QueueCursor",
    "QueueRow",
    "QueueView",
    "StaffQueue",
    "last_day_due_soon",
]


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


_NO_TERM: tuple[None] = (None,)
_make_row = tuple.__new__  # a row made in one call (the named tuple's own constructor adds a Python call per row)


def _rows(
    cases: Sequence[ListedCase], terms: Mapping[int, list[TermView]], legal: Mapping[int, ClockView]
) -> list[QueueRow]:
    """A row for each case, with its nearest term (its terms come soonest first) and its legal term."""
    return [_make_row(QueueRow, (c, (terms.get(c.id) or _NO_TERM)[0], legal.get(c.id))) for c in cases]


class StaffQueue(NamedTuple):
    """A page of a staff queue: its rows, nearest term first, and where the next page starts (``None``: the last)."""

    rows: list[QueueRow]
    following: QueueCursor | None


def staff_queue_page(
    user_id: int,
    staff_roles: frozenset[str],
    view: QueueView = QueueView.ALL,
    today: date | None = None,
    *,
    after: QueueCursor | None = None,
    limit: int = QUEUE_LIMIT,
) -> StaffQueue | None:
    """A page of the user's work queue in ``view``, sorted by the nearest term (the running legal term's last
    day, else the stage's nearest term's; cases without one last), then oldest change first, starting after
    ``after``; ``None`` when the user's roles never act on cases. The view is chosen by the database (no case of
    it is left out for others); a page of cases due soon may hold fewer than ``limit`` rows (the database picks
    the cases whose nearest term may be due soon, the terms say which are)."""
    today = today or local_today()
    page = work_queue_page(user_id, staff_roles, limit, view=view, after=after, today=today)
    if page is None:
        return None
    terms, clocks = case_terms(page.cases, today, nearest=True)  # a row shows its nearest term
    rows = _rows(page.cases, terms, legal_of(clocks))
    if view == QueueView.DUE_SOON:
        rows = [r for r in rows if r.due_soon()]
    return StaffQueue(rows, page.following)


def staff_queue(
    user_id: int, staff_roles: frozenset[str], view: QueueView = QueueView.ALL, today: date | None = None
) -> list[QueueRow] | None:
    """The first page of the user's work queue (:func:`staff_queue_page`); ``None`` when the user's roles never
    act on cases."""
    page = staff_queue_page(user_id, staff_roles, view, today)
    return None if page is None else page.rows


def applicant_cases(user_id: int, today: date | None = None) -> list[QueueRow]:
    """The cases a person filed, newest first, each with the nearest term that binds them or the authority."""
    cases = own_cases(user_id)
    terms, clocks = case_terms(cases, today or local_today(), nearest=True)  # a row shows its nearest term
    return _rows(cases, terms, legal_of(clocks))
