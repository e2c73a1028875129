"""Lists select only what they show, as plain values: a case's data and settings (JSON) stay in the database
(issue 16)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from app.calendar import local_today
from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as ar
from app.services.case_pages import case_page
from app.services.cases import fire
from app.services.listing import ListedCase
from app.services.queues import applicant_cases, staff_queue
from tests.services.test_fire_statements import statements
from tests.support.access_requests import appealed_on
from tests.support.demo_data import VECS_DATA
from tests.support.factories import case_version, make_user, vecs_case
from tests.support.statements import sent_statements


def reading(seen: list[str], table: str) -> list[str]:
    """The statements of ``seen`` that read ``table`` (from it, or joining it to a list of ids)."""
    return [s for s in seen if re.search(rf"\b(FROM|JOIN) {table}\b", s)]


def test_queues_read_no_case_data(app: Flask) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    folios = []
    for _ in range(3):
        draft = vecs_case(owner)
        submitted = fire(draft.case_id, "submit", owner, expected_version=draft.version)
        fire(draft.case_id, "start_intake", clerk, expected_version=submitted.version)
        folios.append(draft.folio)
    db.session.rollback()
    with statements() as seen:
        rows = staff_queue(clerk, frozenset({Role.INTAKE_CLERK.value}))
        own = applicant_cases(owner)
    assert rows is not None
    assert sorted(r.case.folio for r in rows) == sorted(folios)
    assert sorted(r.case.folio for r in own) == sorted(folios)
    assert all(r.term is not None for r in rows)  # the intake's service target is still found
    assert not [s for s in seen if "cases.data" in s or "cases.params" in s], seen
    # plain values, not ORM objects: nothing of the lists is tracked by the session
    assert all(type(r.case) is ListedCase for r in [*rows, *own])
    assert not [o for o in db.session.identity_map.values() if isinstance(o, Case)]
    # what the lists show and sort by is the case's own
    stored = db.session.get(Case, rows[0].case.id)
    assert stored is not None
    assert rows[0].case == ListedCase._make(getattr(stored, name) for name in ListedCase._fields)
    assert stored.data["property_address"] == VECS_DATA["property_address"]


def test_a_queue_reads_its_cases_once_and_their_timers_once(app: Flask) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    for _ in range(3):
        draft = vecs_case(owner)
        submitted = fire(draft.case_id, "submit", owner, expected_version=draft.version)
        fire(draft.case_id, "start_intake", clerk, expected_version=submitted.version)
    db.session.rollback()
    with statements() as seen:
        rows = staff_queue(clerk, frozenset({Role.INTAKE_CLERK.value}))
    assert rows is not None
    assert len(rows) == 3
    assert all(r.term is not None and r.legal is not None for r in rows)  # the target and the legal term
    # the terms and the clocks take each case's state and definition from the cases already read
    [listed] = reading(seen, "cases")
    # the list sorts by the terms' last days in the database (so that a page follows another); the terms
    # themselves are read once for the listed cases
    assert len([s for s in reading(seen, "timers") if s != listed]) == 1, seen
    assert len(reading(seen, "case_clocks")) == 1, seen


def test_the_case_page_reads_the_case_its_timers_and_its_history_once(app: Flask) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    draft = vecs_case(owner)
    submitted = fire(draft.case_id, "submit", owner, expected_version=draft.version)
    db.session.rollback()
    with statements() as seen:
        page = case_page(submitted.case_id, clerk)
    assert [t.trigger for t in page.triggers if t.enabled] == ["start_intake"]
    assert page.legal_term is not None
    assert page.legal_term.due_on is not None
    assert len(reading(seen, "cases")) == 1, seen
    assert len(reading(seen, "timers")) == 1, seen
    assert len(reading(seen, "audit_entries")) == 1, seen  # the timeline gives the history
    assert len(reading(seen, "documents")) == 1, seen


def test_the_transparency_units_queue_sends_the_same_statements_for_any_number_of_requests(app: Flask) -> None:
    """No read of the queue grows with its requests: the terms and clocks read the timers by the requests' ids as
    one list parameter. An expanding ``IN`` wrote one parameter per request (PostgreSQL takes at most 65,535) and
    was a statement of its own for each number of requests."""

    def filed(count: int) -> None:
        for _ in range(count):
            ar.file_request("Lector Curioso", "lector@example.test", "Contratos de obra pública de 2025", "electronic")

    def sent_by_the_queue() -> list[tuple[str, int]]:
        db.session.rollback()
        with sent_statements() as sent:
            rows = ar.unit_queue()
        assert rows
        return sent

    filed(2)
    two = sent_by_the_queue()
    filed(3)
    five = sent_by_the_queue()
    assert len(ar.unit_queue()) == 5
    assert five == two


def test_the_access_request_queues_read_only_what_they_list(app: Flask, mailbox: Any) -> None:
    """The unit's, the areas' and the guarantor's queues read each request's columns, its receipt day and the
    fields of its data they show, in one statement: not its whole data (the requester's text, the areas'
    answers, the committee's resolutions …), and not the receipt days apart; their terms and clocks are read
    in one statement of the timers, with the states and definitions the list holds."""
    area = make_user((Role.AREA, "obras"))
    unit = make_user(Role.TRANSPARENCY_UNIT)
    filed = [
        ar.file_request("Lector Curioso", "lector@example.test", "Contratos de obra pública de 2025", "electronic")
        for _ in range(2)
    ]
    case_id = filed[0].case_id
    ar.turn_request(case_id, ["obras"], unit, expected_version=case_version(case_id))
    appealed, _, _ = appealed_on(mailbox, local_today())  # answered by the works area, in the guarantor's queue
    for queue in (ar.unit_queue, lambda: ar.area_queue(area), ar.guarantor_queue):
        db.session.rollback()
        with sent_statements() as sent:
            rows = queue()
        sqls = [sql for sql, _ in sent]
        reads = reading(sqls, "cases")
        assert len(reads) == 1, sent  # the terms and clocks take the states and definitions from the list
        # terms and clocks: one read, none if empty (the unit's list sorts by its terms' last days in the database)
        assert len([sql for sql in reading(sqls, "timers") if sql != reads[0]]) == (1 if rows else 0), sent
        assert "access_requests.received_on" in reads[0]
        # the columns the list reads (of a paged queue, the columns of the list inside the page's wrappings)
        listed = re.sub(r"^(SELECT (queued|termed)\..*? FROM \()+", "", reads[0]).split(" FROM ", 1)[0]
        # the data's fields it shows, each extracted (SQLite: JSON_EXTRACT(cases.data, ?); PostgreSQL: cases.data ->
        # or ->>), not the column whole
        assert "cases.data" in listed
        assert not re.search(r"cases\.data(?!, \?\)| ->)", listed), listed
        assert not [sql for sql in sqls if re.search(r"\bFROM access_requests\b", sql)], sent
        assert not [o for o in db.session.identity_map.values() if isinstance(o, Case)]
        if queue is ar.unit_queue:
            assert sorted(r.case_id for r in rows) == sorted(f.case_id for f in [*filed, appealed])  # every open one
            assert all(r.received_on is not None for r in rows)
    db.session.rollback()
    assert [r.case_id for r in ar.area_queue(area)] == [case_id]  # the appealed request's area has answered
    (guarantors,) = ar.guarantor_queue()
    assert guarantors.case_id == appealed.case_id
    assert guarantors.state == "appeal_filed"
