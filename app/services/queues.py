"""Work queues with their terms: what is due soon and what is overdue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


_NO_TERM: tuple[None] = (None,)
_make_row = tuple.__new__  # a row made in one call (the named tuple's own constructor adds a Python call per row)


def _rows(
    cases: Sequence[ListedCase], terms: Mapping[int, list[TermView]], legal: Mapping[int, ClockView]
) -> list[QueueRow]:
    """A row for each case, with its nearest term (its terms come soonest first) and its legal term."""
    return [_make_row(QueueRow, (c, (terms.get(c.id) or _NO_TERM)[0], legal.get(c.id))) for c in cases]


def _in_queue_order(rows: list[QueueRow]) -> list[QueueRow]:
    """``rows`` sorted by their day (:attr:`QueueRow.sort_day`; rows without one last), then the oldest change
    first, ties kept in their order. Each row's key is worked out inline, not by a key function and the
    property: a queue sorts hundreds of rows, and each would cost two calls."""
    keyed = [
        (
            (
                day := row.legal.due_on
                if row.legal is not None and row.legal.due_on is not None
                else (row.term.due_on if row.term is not None else date.max)
            )
            == date.max,
            day,
            row.case.updated_at,
            index,
        )
        for index, row in enumerate(rows)
    ]
    keyed.sort()
    return [rows[key[3]] for key in keyed]


def staff_queue(
    user_id: int, staff_roles: frozenset[str], view: QueueView = QueueView.ALL, today: date | None = None
) -> list[QueueRow] | None:
    """The user's work queue sorted by the nearest term (cases without one last); ``None`` when the
    user's roles never act on cases."""
    cases = work_queue(user_id, staff_roles)
    if cases is None:
        return None
    terms, clocks = case_terms(cases, today or local_today(), nearest=True)  # a row shows its nearest term
    rows = _rows(cases, terms, legal_of(clocks))
    if view == QueueView.OVERDUE:
        rows = [r for r in rows if r.overdue]
    elif view == QueueView.DUE_SOON:
        rows = [r for r in rows if r.due_soon()]
    elif view == QueueView.MINE:
        rows = [r for r in rows if r.case.assignee_id == user_id]
    return _in_queue_order(rows)


def applicant_cases(user_id: int, today: date | None = None) -> list[QueueRow]:
    """The cases a person filed, newest first, each with the nearest term that binds them or the authority."""
    cases = own_cases(user_id)
    terms, clocks = case_terms(cases, today or local_today(), nearest=True)  # a row shows its nearest term
    return _rows(cases, terms, legal_of(clocks))
