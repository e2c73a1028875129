"""The obligation-publication workflow as data: structure, reachability, guards both ways, settings parsers
and the publication calendar. Pure tests: no Flask application and no database."""

from __future__ import annotations

from collections import deque
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest

from app.engine.core import Actor, CaseView, Engine
from app.engine.errors import GuardRefused, IllegalTrigger, NotAllowed
from app.models import Role
from workflows import DEFINITIONS, latest
from workflows.base import SYSTEM_ROLE, GuardInput, validate
from workflows.obligation_publication import (
    DEFAULT_CALENDAR,
    DEFAULT_FORMATS,
    DEFAULT_PARAMS,
    LICENCE_FIELDS,
    PUBLICATION_V1,
    calendar_date,
    due_date,
    normalise_rows,
    opening_date,
    parse_calendar,
    parse_fields,
    parse_formats,
    parse_rate,
    quarter_period,
    record_complete,
    record_problems,
    record_well_typed,
    sample_selected,
    snapshot,
    snapshot_matches,
)

WF = PUBLICATION_V1
TERMINAL = frozenset(s.name for s in WF.states if s.terminal)
BUDGET = DEFAULT_FORMATS[0]
ROW = {"capitulo": "1000 Servicios personales", "aprobado": "1500000.00", "ejercido": "350000", "hipervinculo": ""}


def inp(data: dict[str, Any], params: dict[str, Any] | None = None) -> GuardInput:
    return GuardInput(
        data=MappingProxyType(data),
        documents=frozenset(),
        history=(),
        actor_id=1,
        actor_roles=frozenset({"area"}),
        today=date(2026, 4, 10),
        params=MappingProxyType(params or DEFAULT_PARAMS),
    )


def test_registered_and_consistent() -> None:
    assert latest("obligation_publication") is WF
    assert WF in DEFINITIONS
    assert validate(WF) == []
    Engine([WF], (r.value for r in Role))  # known roles only, machine builds


def test_every_state_reachable_and_every_non_terminal_state_can_move() -> None:
    seen = {WF.initial}
    queue = deque([WF.initial])
    while queue:
        state = queue.popleft()
        for t in WF.transitions_from(state):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    assert seen == {s.name for s in WF.states}
    for s in WF.states:
        if s.name not in TERMINAL:
            assert WF.transitions_from(s.name), s.name
            assert any(t.dest != s.name for t in WF.transitions_from(s.name)), f"{s.name} is a trap"
    assert {"closed"} == TERMINAL
    # every state leads to the terminal state
    for s in WF.states:
        reach = {s.name}
        queue = deque([s.name])
        while queue:
            for t in WF.transitions_from(queue.popleft()):
                if t.dest not in reach:
                    reach.add(t.dest)
                    queue.append(t.dest)
        assert "closed" in reach, s.name


def test_roles_and_offices() -> None:
    by = {(t.trigger, t.sources): t for t in WF.transitions}
    assert all(t.roles == {"area"} for t in WF.transitions if t.trigger in ("save_draft", "submit", "correct"))
    assert all(
        t.roles == {"transparency_unit"}
        for t in WF.transitions
        if t.trigger in ("validate", "return_record", "publish")
    )
    assert all(
        t.roles == {"guarantor"}
        for t in WF.transitions
        if t.trigger in ("clear", "file_findings", "accept_correction", "reject_correction")
    )
    assert by[("sample", ("published",))].roles == {SYSTEM_ROLE}  # only the recorded draw selects
    assert by[("lapse_correction", ("findings",))].roles == {SYSTEM_ROLE}
    for name in ("drafting", "returned", "findings", "correction_overdue"):
        assert WF.state(name).department == "area"
    assert WF.state("drafting").target is not None
    assert WF.state("drafting").target.due_field == "due_on"
    findings = WF.state("findings").deadline
    assert findings is not None
    assert findings.days_param == "findings_correction_days"
    assert findings.on_expiry == "lapse_correction"
    assert findings.business
    for t in WF.transitions:
        if t.trigger in ("return_record", "file_findings", "reject_correction"):
            assert t.comment_required


GOOD = {"format": "presupuesto", "rows": [ROW], "note": ""}


@pytest.mark.parametrize("guard", [record_well_typed, record_complete])
def test_record_guards_pass_a_good_record(guard: Any) -> None:
    assert guard(inp(dict(GOOD))) is None


def test_record_guards_refuse() -> None:
    missing = {**GOOD, "rows": [{**ROW, "aprobado": ""}]}
    assert record_well_typed(inp(missing)) is None  # a blank is fine in a draft
    assert record_complete(inp(missing)) is not None  # not on submission
    wrong_type = {**GOOD, "rows": [{**ROW, "aprobado": "un millón"}]}
    assert record_well_typed(inp(wrong_type)) is not None
    assert record_complete(inp(wrong_type)) is not None
    empty = {**GOOD, "rows": []}
    assert record_well_typed(inp(empty)) is None
    assert record_complete(inp(empty)) is not None
    assert record_complete(inp({**empty, "note": "No se generó información en el periodo."})) is None
    unknown_format = {**GOOD, "format": "no_existe"}
    assert record_well_typed(inp(unknown_format)) is not None
    assert record_complete(inp(unknown_format)) is not None


def test_snapshot_guard_both_ways() -> None:
    data = dict(GOOD)
    assert snapshot_matches(inp({**data, "published_record": snapshot(data)})) is None
    forged = {"rows": [{**ROW, "ejercido": "0"}], "note": ""}
    assert snapshot_matches(inp({**data, "published_record": forged})) is not None
    assert snapshot_matches(inp(data)) is not None


def test_sample_guard_both_ways() -> None:
    assert sample_selected(inp({"sample_draw": {"selected": True}})) is None
    assert sample_selected(inp({"sample_draw": {"selected": False}})) is not None
    assert sample_selected(inp({"sample_draw": "true"})) is not None
    assert sample_selected(inp({})) is not None


def test_record_problems_name_the_row_and_field() -> None:
    problems = record_problems(
        BUDGET,
        [{**ROW, "aprobado": "x"}, {**ROW, "capitulo": " ", "hipervinculo": "ftp://x"}, {"otro": "1"}],
        "",
        complete=True,
    )
    texts = [msgid % params for msgid, params in problems]
    assert "Renglón 1: «Presupuesto aprobado» debe ser un número." in texts
    assert "Renglón 2: falta «Capítulo de gasto»." in texts
    assert "Renglón 2: «Hipervínculo al informe» debe ser una dirección http(s) completa." in texts
    assert "Renglón 3: campos desconocidos: otro." in texts
    dates = {"fields": [{"name": "f", "label": "Fecha", "type": "date", "required": True}]}
    assert record_problems(dates, [{"f": "2026-02-30"}], "", complete=True)
    assert record_problems(dates, [{"f": "30/01/2026"}], "", complete=True)
    assert not record_problems(dates, [{"f": "2026-01-30"}], "", complete=True)
    ints = {"fields": [{"name": "n", "label": "N", "type": "integer", "required": True}]}
    assert record_problems(ints, [{"n": "1.5"}], "", complete=True)
    assert not record_problems(ints, [{"n": "15"}], "", complete=True)
    assert record_problems(BUDGET, "no es lista", "", complete=False)


def test_normalise_rows_keeps_format_fields_and_drops_blank_rows() -> None:
    rows = normalise_rows(BUDGET, [{**ROW, "capitulo": "  2000 "}, {"capitulo": " "}, {"x": "y"}])
    assert rows == [{**ROW, "capitulo": "2000"}]


def test_engine_walk_with_roles_and_guards() -> None:
    engine = Engine([WF], (r.value for r in Role))
    params = {**DEFAULT_PARAMS, "departments": {"area": "finanzas"}}
    area = Actor(1, frozenset({"area"}), frozenset({("area", "finanzas")}))
    other_area = Actor(2, frozenset({"area"}), frozenset({("area", "obras_publicas")}))
    unit = Actor(3, frozenset({"transparency_unit"}))
    view = CaseView(WF.name, 1, "drafting", 1, 99, {"format": "presupuesto", "rows": [], "note": ""})
    today = date(2026, 4, 10)
    with pytest.raises(NotAllowed):
        engine.decide(view, "save_draft", other_area, today=today, data={"rows": [ROW]}, params=params)
    with pytest.raises(NotAllowed):
        engine.decide(view, "submit", unit, today=today, params=params)
    with pytest.raises(GuardRefused):
        engine.decide(view, "submit", area, today=today, params=params)
    with pytest.raises(IllegalTrigger):
        engine.decide(view, "publish", unit, today=today, params=params)
    saved = engine.decide(view, "save_draft", area, today=today, data={"rows": [ROW]}, params=params)
    assert saved.to_state == "drafting"
    view = CaseView(WF.name, 1, "drafting", 2, 99, saved.data)
    assert engine.decide(view, "submit", area, today=today, params=params).to_state == "submitted"
    view = CaseView(WF.name, 1, "submitted", 3, 99, saved.data)
    with pytest.raises(GuardRefused):  # observations are mandatory
        engine.decide(view, "return_record", unit, today=today, params=params)
    assert engine.decide(view, "return_record", unit, today=today, comment="Falta el ejercido", params=params)
    with pytest.raises(NotAllowed):  # the system draw alone moves a record into verification
        engine.decide(
            CaseView(WF.name, 1, "published", 5, 99, saved.data),
            "sample",
            Actor(4, frozenset({"guarantor"})),
            today=today,
            data={"sample_draw": {"selected": True}},
            params=params,
        )


def test_parse_formats_accepts_defaults_and_refuses_bad_ones() -> None:
    assert [f["code"] for f in parse_formats(list(DEFAULT_FORMATS))] == [f["code"] for f in DEFAULT_FORMATS]
    good = dict(DEFAULT_FORMATS[0])
    for bad in (
        [],
        [{**good, "code": "Con Espacios"}],
        [good, good],
        [{**good, "fields": []}],
        [{**good, "fields": [{"name": "a", "label": "A", "type": "color"}]}],
        [{**good, "fields": [{"name": "a", "label": "A", "required": "sí"}]}],
        [{**good, "source": "otro"}],
        [{**good, "source": "vecs_licences"}],  # the licences format has fixed fields
        [{**good, "legal_basis": " "}],
        ["texto"],
    ):
        with pytest.raises((ValueError, TypeError)):
            parse_formats(bad)
    assert parse_fields(list(LICENCE_FIELDS))[0]["name"] == "folio"


def test_parse_calendar_and_rate() -> None:
    assert parse_calendar(DEFAULT_CALENDAR) == DEFAULT_CALENDAR
    for bad in (
        {},
        {**DEFAULT_CALENDAR, "1": {"opens": "04-01"}},
        {**DEFAULT_CALENDAR, "1": {"opens": "04-31", "due": "05-10"}},
        {**DEFAULT_CALENDAR, "1": {"opens": "05-01", "due": "04-30"}},
        {**DEFAULT_CALENDAR, "2": {"opens": "7-1", "due": "07-30"}},
        {**DEFAULT_CALENDAR, "5": {"opens": "01-01", "due": "01-30"}},
        [],
    ):
        with pytest.raises((ValueError, TypeError)):
            parse_calendar(bad)
    assert parse_rate("0.250") == "0.25"
    for bad in ("1.5", "-0.1", "x", True, "NaN"):
        with pytest.raises(ValueError, match="bad rate"):
            parse_rate(bad)


def test_calendar_dates_are_concrete() -> None:
    assert due_date(DEFAULT_CALENDAR, 2026, 1) == date(2026, 4, 30)
    assert opening_date(DEFAULT_CALENDAR, 2026, 1) == date(2026, 4, 1)
    assert due_date(DEFAULT_CALENDAR, 2026, 3) == date(2026, 10, 30)
    # the fourth quarter's data is due in January of the next year
    assert opening_date(DEFAULT_CALENDAR, 2026, 4) == date(2027, 1, 2)
    assert due_date(DEFAULT_CALENDAR, 2026, 4) == date(2027, 1, 30)
    assert calendar_date(2026, 2, "07-30") == date(2026, 7, 30)
    assert quarter_period(2026, 2) == (date(2026, 4, 1), date(2026, 6, 30))
    with pytest.raises(ValueError, match="not 1-4"):
        calendar_date(2026, 5, "01-01")


def test_a_quarter_is_published_only_after_it_ends() -> None:
    """Its data cannot be complete before the quarter closes (the calendar's due dates all fall after)."""
    from datetime import date

    from workflows.base import GuardInput
    from workflows.obligation_publication import quarter_ended

    def on(day: date, data: dict[str, object]) -> str | None:
        return quarter_ended(GuardInput(data, frozenset(), (), None, frozenset(), day, {}))

    q1 = {"year": 2026, "quarter": 1}
    assert on(date(2026, 3, 31), q1) is not None  # its last day
    assert on(date(2026, 4, 1), q1) is None
    assert on(date(2026, 12, 31), {"year": 2026, "quarter": 4}) is not None
    assert on(date(2027, 1, 1), {"year": 2026, "quarter": 4}) is None
    assert on(date(2027, 1, 1), {}) is not None  # a record without its period is never published
