"""The guarantor's queue, on SQLite and PostgreSQL: appeals to admit, appeals to resolve and compliance to verify,
sorted by the database by the guarantor's own term (the term to resolve an admitted appeal, LGTAIP 2015
art. 146; else the term of the request's state), lapsed terms first, and read a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine
from flask import Flask

from app.extensions import db
from app.models import Case
from app.procedures.access_request import services as ar
from app.services.timers import fire_due_timers
from tests.support.access_requests import appealed_on, close_instruction
from tests.support.clock import noon
from tests.support.factories import case_version
from tests.support.paging import walked


def _walked(today: date, limit: int) -> list[ar.QueueRow]:
    """Every page of the guarantor's queue on ``today``, followed by its cursor."""
    return walked(lambda after: ar.guarantor_queue_page(today, after=after, limit=limit), limit)


def _act(filed: ar.Filed, step: str, guarantor: int, day: date, **data: Any) -> None:
    with time_machine.travel(noon(day), tick=False):
        ar.guarantor_act(filed.case_id, step, guarantor, expected_version=case_version(filed.case_id), data=data)


def _resolve(appeal: tuple[ar.Filed, int, int], admitted_on: date, closed_on: date, resolved_on: date) -> None:
    """The appeal admitted, its instruction closed and resolved on those days: the obligated subject's term to
    comply then runs (art. 196)."""
    filed, unit, guarantor = appeal
    _act(filed, "admit_appeal", guarantor, admitted_on)
    with time_machine.travel(noon(closed_on), tick=False):
        close_instruction(filed, unit, guarantor)
    _act(
        filed,
        "resolve_appeal",
        guarantor,
        resolved_on,
        appeal_decision="revoke",
        appeal_resolution="Se revoca la respuesta; entréguese la información completa",
    )


def test_the_guarantor_s_queue_is_sorted_by_the_guarantor_s_terms_a_page_at_a_time(app: Flask, mailbox: Any) -> None:
    """The case ids run against the queue's order: a sort by case, or by the last day alone, fails it."""
    appeals = [appealed_on(mailbox, date(2025, 7, day)) for day in (7, 8, 9, 10, 11, 14)]
    to_admit = [a[0].case_id for a in appeals[:2]]  # no term of the guarantor's runs yet (art. 146)
    resolving, complying_late, lapsing, complying = (a[0] for a in appeals[2:])
    _resolve(appeals[5], date(2025, 7, 14), date(2025, 7, 17), date(2025, 7, 18))
    _act(lapsing, "admit_appeal", appeals[4][2], date(2025, 7, 15))
    with time_machine.travel(noon(date(2025, 7, 17)), tick=False):
        close_instruction(lapsing, appeals[4][1], appeals[4][2])
    _act(resolving, "admit_appeal", appeals[2][2], date(2025, 9, 15))
    # the term to resolve ``lapsing`` lapses, and the timers' worker records it
    with time_machine.travel(noon(date(2025, 10, 20)), tick=False):
        fire_due_timers()
    _resolve(appeals[3], date(2025, 10, 27), date(2025, 10, 29), date(2025, 10, 31))
    db.session.rollback()
    states = {c.id: (c.state, c.data.get("resolution_overdue_on")) for c in db.session.query(Case)}
    assert states[complying.case_id][0] == states[complying_late.case_id][0] == "compliance"
    assert states[lapsing.case_id][0] == "appealed"
    assert states[lapsing.case_id][1] is not None
    assert states[resolving.case_id] == ("appeal_pleadings", None)
    db.session.rollback()

    for today in (date(2025, 10, 28), date(2025, 11, 25), date(2026, 3, 2)):
        whole = ar.guarantor_queue_page(today, limit=100)
        assert whole.following is None
        assert sorted(r.case_id for r in whole.rows) == sorted(a[0].case_id for a in appeals)
        keys = [(not r.overdue, r.due_on or date.max, r.case_id) for r in whole.rows]
        assert keys == sorted(keys), today
        assert [r.case_id for r in whole.rows[-2:]] == to_admit  # no term: last, by case
        # a page of one is in the database's order alone: the pages, each after the last, give the whole queue
        for limit in (1, 2):
            assert [r.case_id for r in _walked(today, limit)] == [r.case_id for r in whole.rows], (today, limit)
    # on 25 November the term to resolve ``resolving`` is over but its lapse is not recorded yet: the terms to
    # comply that are over, though one of them ends after it, come first; the recorded lapse is among them
    late = ar.guarantor_queue_page(date(2025, 11, 25), limit=100).rows
    assert [(r.case_id, r.overdue) for r in late] == [
        (complying.case_id, True),
        (lapsing.case_id, True),
        (complying_late.case_id, True),
        (resolving.case_id, False),
        *((case_id, False) for case_id in to_admit),
    ]
    resolution_due = late[3].due_on
    assert resolution_due is not None
    assert late[2].due_on is not None
    assert late[2].due_on > resolution_due
