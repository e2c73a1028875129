"""A queue's order (``app.services.queues``): its rows sorted by their day (the running legal term's last day,
else the nearest term's; rows without one last), then the oldest change first, ties in the order the cases
came. The sort works each key out inline; it must give the order :attr:`QueueRow.sort_day` says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.models import TimerKind
from app.models.clocks import ClockStatus
from app.services.cases import ListedCase
from app.services.deadlines import ClockView, TermView
from app.services.queues import QueueRow, _in_queue_order, _rows

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 1, 20))


@st.composite
def queue_rows(draw: st.DrawFn) -> list[QueueRow]:
    rows = []
    for case_id in range(draw(st.integers(min_value=0, max_value=25))):
        changed = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(min_value=0, max_value=5)))
        case = ListedCase(case_id, f"F-{case_id}", "vecs", 1, "intake", 1, 7, None, None, changed, changed, None)
        term = None
        if draw(st.booleans()):
            due = draw(DAYS)
            term = TermView(TimerKind.DEADLINE, "intake", due, 3, False, None)
        legal = None
        if draw(st.booleans()):
            due_on = draw(st.none() | DAYS)
            legal = ClockView("plazo", "Plazo", ClockStatus.RUNNING, due_on, None, False, None, True)
        rows.append(QueueRow(case, term, legal))
    return rows


@given(queue_rows())
def test_the_inline_keys_give_the_order_the_rows_days_say(rows: list[QueueRow]) -> None:
    expected = sorted(rows, key=lambda row: (row.sort_day == date.max, row.sort_day, row.case.updated_at))
    assert _in_queue_order(rows) == expected
    assert [id(row) for row in _in_queue_order(rows)] == [id(row) for row in expected]  # ties keep their order


def test_rows_take_each_cases_nearest_term_and_its_legal_term() -> None:
    changed = datetime(2026, 1, 1, tzinfo=UTC)
    cases = [ListedCase(n, f"F-{n}", "vecs", 1, "intake", 1, 7, None, None, changed, changed, None) for n in (1, 2, 3)]
    soon = TermView(TimerKind.DEADLINE, "intake", date(2026, 1, 5), 2, False, None)
    later = TermView(TimerKind.TARGET, "intake", date(2026, 1, 9), 6, False, None)
    legal = ClockView("plazo", "Plazo", ClockStatus.RUNNING, date(2026, 1, 7), 4, False, None, True)
    rows = _rows(cases, {1: [soon, later], 3: []}, {2: legal})
    assert rows == [QueueRow(cases[0], soon, None), QueueRow(cases[1], None, legal), QueueRow(cases[2], None, None)]
    assert all(type(row) is QueueRow for row in rows)
    assert [row.sort_day for row in rows] == [date(2026, 1, 5), date(2026, 1, 7), date.max]
