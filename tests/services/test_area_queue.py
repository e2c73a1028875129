"""An area's queue, on SQLite and PostgreSQL: the requests turned to one of the user's areas that it has not
answered yet, found by the database from each request's turns and answers (not every area's turned requests sent
to the application and sorted out there), in the unit's queue's order and a page at a time."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import event

from app.extensions import db
from app.models import Role
from app.procedures.access_request import services as ar
from app.services.cases import fire
from tests.support.factories import case_version, make_user
from tests.support.paging import walked


def _filed(count: int) -> list[int]:
    return [
        ar.file_request("Lector Curioso", f"lector{n}@example.test", f"Contratos de obra {n}", "electronic").case_id
        for n in range(count)
    ]


def _walked(user_id: int, limit: int) -> list[int]:
    """Every page of the user's area queue, followed by its cursor, as case ids."""
    return [r.case_id for r in walked(lambda after: ar.area_queue_page(user_id, after=after, limit=limit), limit)]


def test_an_area_s_queue_holds_its_own_unanswered_turns_a_page_at_a_time(app: Flask) -> None:
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    tesoreria = make_user((Role.AREA, "tesoreria"))
    both = make_user((Role.AREA, "obras"), (Role.AREA, "tesoreria"))
    make_user((Role.AREA, "catastro"))
    ids = _filed(9)

    def turn(case_id: int, *areas: str) -> None:
        ar.turn_request(case_id, list(areas), unit, expected_version=case_version(case_id))

    def answer(case_id: int, area: str, user_id: int) -> None:
        ar.answer_turn(case_id, area, ar.AreaAnswer("available"), user_id, expected_version=case_version(case_id))

    for case_id in ids[:3]:
        turn(case_id, "obras")
    turn(ids[3], "tesoreria")
    turn(ids[4], "obras", "tesoreria")
    answer(ids[4], "tesoreria", tesoreria)  # still waits for the works area
    turn(ids[5], "obras", "catastro")
    answer(ids[5], "obras", obras)  # answered by the works area: waits for the cadastre only
    turn(ids[6], "catastro")
    # turned through the generic case page: no turn row, the case's data says it
    fire(ids[7], "turn", unit, expected_version=case_version(ids[7]), data={"turned_to": ["obras"]})
    # ids[8] is not turned
    db.session.commit()

    whole = ar.area_queue_page(obras, limit=100)
    assert whole.following is None
    assert sorted(r.case_id for r in whole.rows) == sorted([*ids[:3], ids[4], ids[7]])
    keys = [(not r.overdue, r.due_on or date.max, r.case_id) for r in whole.rows]
    assert keys == sorted(keys)
    assert all(r.state == "turned" for r in whole.rows)
    assert _walked(obras, 2) == [r.case_id for r in whole.rows]  # the pages, each after the last, give them once
    assert [r.case_id for r in ar.area_queue(tesoreria)] == [ids[3]]
    assert sorted(r.case_id for r in ar.area_queue(both)) == sorted([*ids[:5], ids[7]])
    assert _walked(both, 4) == [r.case_id for r in ar.area_queue_page(both, limit=100).rows]
    assert ar.area_queue(unit) == []  # no area of its own

    # an area's answer takes the request out of its queue, and only out of its
    answer(ids[0], "obras", obras)
    db.session.commit()
    assert ids[0] not in {r.case_id for r in ar.area_queue(obras)}
    assert [r.case_id for r in ar.area_queue(tesoreria)] == [ids[3]]


def test_an_area_s_queue_is_sent_only_its_own_requests(app: Flask) -> None:
    """Other areas' turned requests are kept out by the database: the queue's one read of the cases, run again as
    it was sent, returns the area's own request, not the six turned ones."""
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    make_user((Role.AREA, "tesoreria"))
    ids = _filed(6)
    for case_id in ids[:5]:
        ar.turn_request(case_id, ["tesoreria"], unit, expected_version=case_version(case_id))
    ar.turn_request(ids[5], ["obras"], unit, expected_version=case_version(ids[5]))
    db.session.commit()
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        rows = ar.area_queue_page(obras).rows
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert [r.case_id for r in rows] == [ids[5]]
    reads = [(sql, params) for sql, params in sent if re.search(r"\bFROM cases\b", sql)]
    assert len(reads) == 1, sent
    driver = db.session.connection().connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    cursor.execute(*reads[0])
    assert [row[0] for row in cursor.fetchall()] == [ids[5]]
    cursor.close()
