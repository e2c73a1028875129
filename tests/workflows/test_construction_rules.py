"""Pure tests of what the construction workflows gained for the browser flow: offices and departments, the
inspection draw, fees from the published table, requirements and other structured settings, editing during
a prevención, and the second configuration (Mexico City's Tipo B) on the same engine. No Flask, no database."""

from __future__ import annotations

import dataclasses
from collections import deque
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine import Actor, CaseView, Engine, GuardRefused, NotAllowed
from app.models import Role
from workflows import DEFINITIONS, ELIGIBILITY, latest
from workflows.base import (
    SYSTEM_ROLE,
    Draw,
    GuardInput,
    HistoryItem,
    State,
    Transition,
    Workflow,
    department_of,
    documents_for,
    draw,
    fees_total,
    requirement_kinds,
    validate,
)
from workflows.cdmx_tipo_b import TIPO_B_V1
from workflows.vecs import (
    DEFAULT_PARAMS,
    REQUIRED_DOCUMENTS,
    VECS_V1,
    compute_fees,
    eligibility_reasons,
    eligible,
    fees_from_table,
    parse_fee_table,
    parse_rate,
    parse_requirements,
)

TODAY = date(2026, 3, 2)
ROLES = [r.value for r in Role]
DATA: dict[str, Any] = {
    "property_address": "Calle Morelos 45",
    "cadastral_key": "010-020-030",
    "lot_area_m2": "800",
    "built_area_m2": "1200",
    "land_use": "papeleria",
    "building_type": "local_comercial",
    "new_construction": True,
    "works_started": False,
    "lot_vacant": True,
    "dro_name": "Ing. Laura Obra",
    "dro_registration": "DRO-0007",
}
TABLE = [
    {"concept": "Licencia", "unit": "m2", "rate": "18.50", "legal_basis": "Ley de Ingresos, art. 25"},
    {"concept": "Alineamiento", "unit": "fixed", "rate": "851", "legal_basis": "Ley de Ingresos, art. 27"},
]
MAPPED = {
    "intake": "ventanilla",
    "land_use": "desarrollo_urbano",
    "fees": "finanzas",
    "licence": "desarrollo_urbano",
    "inspection": "obras_publicas",
}

OWNER = Actor(1, frozenset({"applicant"}))
CLERK = Actor(3, frozenset({"intake_clerk"}))
URBAN = Actor(4, frozenset({"reviewer"}), frozenset({("reviewer", "desarrollo_urbano")}))
URBAN_B = Actor(7, frozenset({"reviewer"}), frozenset({("reviewer", "desarrollo_urbano")}))
FINANCE = Actor(5, frozenset({"reviewer"}), frozenset({("reviewer", "finanzas")}))
ANYWHERE = Actor(6, frozenset({"reviewer"}))
SYSTEM = Actor.system()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(DEFINITIONS, ROLES)


def view(wf: Workflow, state: str, **changes: Any) -> CaseView:
    spec: dict[str, Any] = {
        "workflow": wf.name,
        "workflow_version": wf.version,
        "state": state,
        "version": 3,
        "applicant_id": OWNER.id,
        "data": MappingProxyType(dict(DATA)),
        "documents": frozenset(requirement_kinds(wf.params["requirements"])),
        "history": (),
    }
    spec.update(changes)
    return CaseView(**spec)


def guard_input(data: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> GuardInput:
    return GuardInput(
        data=MappingProxyType(dict(DATA if data is None else data)),
        documents=frozenset(REQUIRED_DOCUMENTS),
        history=(),
        actor_id=4,
        actor_roles=frozenset({"reviewer"}),
        today=TODAY,
        params=MappingProxyType(dict(DEFAULT_PARAMS if params is None else params)),
    )


# -- both shipped workflows: structure ------------------------------------------------------------------


@pytest.mark.parametrize("wf", DEFINITIONS, ids=lambda w: w.name)
def test_every_state_is_reachable_and_terminal_states_have_no_exits(wf: Workflow) -> None:
    assert validate(wf) == []
    seen, queue = {wf.initial}, deque([wf.initial])
    while queue:
        for t in wf.transitions_from(queue.popleft()):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    assert seen == {s.name for s in wf.states}
    for state in wf.states:
        if state.terminal:
            assert wf.transitions_from(state.name) == ()
        else:
            assert any(t.dest != state.name for t in wf.transitions_from(state.name)), state.name


@pytest.mark.parametrize("wf", [w for w in DEFINITIONS if w.name in ELIGIBILITY], ids=lambda w: w.name)
def test_every_guard_is_used_and_every_eligibility_rule_registered(wf: Workflow) -> None:
    assert {g for t in wf.transitions for g in t.guards} == set(wf.guards)
    assert ELIGIBILITY[wf.name] is not None
    assert latest(wf.name).version == max(w.version for w in DEFINITIONS if w.name == wf.name)
    # requirements, departments and catalogues are settings with parsers the defaults pass
    assert "requirements" in wf.param_parsers
    assert "departments" in wf.param_parsers
    for param_names in wf.catalogues.values():
        assert all(name in wf.params for name in param_names)


# -- offices and departments ----------------------------------------------------------------------------


def test_every_staff_state_of_vecs_has_an_office() -> None:
    for state in VECS_V1.states:
        # the treasury confirms payments for the whole institution: it has no office of the procedure
        staff = [t for t in VECS_V1.transitions_from(state.name) if t.roles - {"applicant", "treasury", SYSTEM_ROLE}]
        if staff and not state.terminal:
            assert state.department in MAPPED, state.name
    assert VECS_V1.state("land_use_review").department == "land_use"
    assert VECS_V1.state("fee_assessment").department == "fees"


def test_department_of_reads_the_mapping() -> None:
    state = VECS_V1.state("fee_assessment")
    assert department_of(state, VECS_V1.params) is None  # unmapped by default: anyone with the role
    assert department_of(state, {"departments": MAPPED}) == "finanzas"
    assert department_of(VECS_V1.state("draft"), {"departments": MAPPED}) is None
    assert department_of(state, {"departments": "not a mapping"}) is None


def test_actor_serves_its_departments_only_where_scoped() -> None:
    assert URBAN.serves("reviewer", "desarrollo_urbano")
    assert not URBAN.serves("reviewer", "finanzas")
    assert ANYWHERE.serves("reviewer", "finanzas")
    assert URBAN.serves("inspector", "obras_publicas")  # a role it does not hold scoped is not restricted here


def test_the_engine_enforces_departments_when_mapped(engine: Engine) -> None:
    params = {**VECS_V1.params, "departments": MAPPED}
    case = view(VECS_V1, "land_use_review")
    data = {"land_use_ruling": "Compatible"}
    with pytest.raises(NotAllowed) as refused:
        engine.decide(case, "rule_land_use", FINANCE, today=TODAY, data=data, params=params)
    assert refused.value.message.params["department"] == "desarrollo_urbano"
    assert engine.decide(case, "rule_land_use", URBAN, today=TODAY, data=data, params=params).role == "reviewer"
    assert engine.decide(case, "rule_land_use", ANYWHERE, today=TODAY, data=data, params=params).role == "reviewer"
    # unmapped: a scoped reviewer of another department may act
    assert engine.decide(case, "rule_land_use", FINANCE, today=TODAY, data=data).role == "reviewer"
    assert [a.trigger for a in engine.available(case, FINANCE, today=TODAY, params=params)] == []
    # the applicant's own steps never depend on departments
    assert engine.decide(case, "withdraw", OWNER, today=TODAY, params=params).role == "applicant"


# -- editing during a prevención -------------------------------------------------------------------------


def test_edit_stays_in_its_state_and_answering_checks_eligibility_again(engine: Engine) -> None:
    prevention = view(VECS_V1, "prevention", history=(HistoryItem("issue_prevention", CLERK.id),))
    edited = engine.decide(prevention, "edit", OWNER, today=TODAY, data={"dro_name": "Otra"})
    assert edited.to_state == "prevention"
    assert engine.decide(view(VECS_V1, "draft"), "edit", OWNER, today=TODAY, data={"dro_name": "x"}).to_state == (
        "draft"
    )
    with pytest.raises(GuardRefused, match="excede"):
        engine.decide(prevention, "answer_prevention", OWNER, today=TODAY, data={"built_area_m2": "1500.01"})
    assert engine.decide(prevention, "answer_prevention", OWNER, today=TODAY).to_state == "intake_review"
    co = [{"specialty": "seguridad_estructural", "name": "Ing. X", "registration": "CSE-1"}]
    assert (
        engine.decide(prevention, "edit", OWNER, today=TODAY, data={"co_responsibles": co}).data["co_responsibles"]
        == co
    )


# -- eligibility lists every reason --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"built_area_m2": "1500"}, None),
        ({"built_area_m2": "1500.01"}, "excede"),
        ({"works_started": True}, "no debe haber iniciado"),
        ({"building_type": "escuela"}, "excluido"),
        ({"land_use": "otro"}, "catálogo de bajo riesgo"),
    ],
)
def test_eligibility_boundaries(changes: dict[str, Any], fragment: str | None) -> None:
    reasons = eligibility_reasons({**DATA, **changes}, DEFAULT_PARAMS)
    if fragment is None:
        assert reasons == []
        assert eligible(guard_input({**DATA, **changes})) is None
    else:
        assert len(reasons) == 1
        assert fragment in reasons[0]
        assert eligible(guard_input({**DATA, **changes})) == reasons[0]


def test_every_reason_is_listed_and_the_guard_reports_the_first() -> None:
    data = {
        **DATA,
        "built_area_m2": "0",
        "new_construction": False,
        "works_started": True,
        "lot_vacant": False,
        "building_type": "hospital",
        "land_use": "bar",
    }
    reasons = eligibility_reasons(data, DEFAULT_PARAMS)
    assert len(reasons) == 6
    assert all("ordinaria" in r or "número mayor que cero" in r for r in reasons)
    assert eligible(guard_input(data)) == reasons[0]


# -- fees ------------------------------------------------------------------------------------------------


def test_fees_are_computed_from_the_table_with_their_legal_basis() -> None:
    fees = compute_fees(TABLE, "420.5")
    assert fees == [
        {
            "concept": "Licencia",
            "unit": "m2",
            "rate": "18.50",
            "quantity": "420.50",
            "amount": "7779.25",
            "legal_basis": "Ley de Ingresos, art. 25",
        },
        {
            "concept": "Alineamiento",
            "unit": "fixed",
            "rate": "851.00",
            "quantity": "1",
            "amount": "851.00",
            "legal_basis": "Ley de Ingresos, art. 27",
        },
    ]
    assert fees_total(fees) == Decimal("8630.25")
    assert compute_fees(TABLE, "0.03")[0]["amount"] == "0.56"  # 0.555 rounds half up
    assert compute_fees([], "420") == []
    assert compute_fees(TABLE, "abc") == []
    assert fees_total([{"amount": "x"}, {"amount": "1.50"}, "junk"]) == Decimal("1.50")


def test_the_fee_guard_on_both_outcomes() -> None:
    params = {**DEFAULT_PARAMS, "fee_table": TABLE}
    assert fees_from_table(guard_input({**DATA, "fees": compute_fees(TABLE, DATA["built_area_m2"])}, params)) is None
    reason = fees_from_table(guard_input({**DATA, "fees": [{"concept": "Licencia", "amount": "1.00"}]}, params))
    assert reason is not None
    assert "tabla de derechos" in reason
    # no published table: nothing to compare with
    assert fees_from_table(guard_input({**DATA, "fees": [{"concept": "x", "amount": "1"}]})) is None
    assert VECS_V1.computed_fields["fees"](DATA, params) == compute_fees(TABLE, DATA["built_area_m2"])


# -- structured settings ----------------------------------------------------------------------------------


def test_settings_parsers_accept_and_normalise() -> None:
    assert parse_fee_table([{**TABLE[0], "concept": "  Licencia   de obra "}])[0] == {
        "concept": "Licencia de obra",
        "unit": "m2",
        "rate": "18.50",
        "legal_basis": "Ley de Ingresos, art. 25",
    }
    assert parse_fee_table([]) == []
    assert parse_requirements([{"kind": "planos", "label": " Planos "}]) == [{"kind": "planos", "label": "Planos"}]
    assert parse_rate("0.2") == "0.2"
    assert parse_rate(" 1 ") == "1"
    assert VECS_V1.param_parsers["departments"](MAPPED) == MAPPED
    assert VECS_V1.param_parsers["departments"](dict.fromkeys(MAPPED)) == dict.fromkeys(MAPPED, "")


@pytest.mark.parametrize(
    ("parser", "value"),
    [
        (parse_fee_table, "no"),
        (parse_fee_table, [{"concept": "x", "unit": "litro", "rate": "1", "legal_basis": "y"}]),
        (parse_fee_table, [{"concept": "x", "unit": "m2", "rate": "-1", "legal_basis": "y"}]),
        (parse_fee_table, [{"concept": "x", "unit": "m2", "rate": "NaN", "legal_basis": "y"}]),
        (parse_fee_table, [{"concept": "", "unit": "m2", "rate": "1", "legal_basis": "y"}]),
        (parse_fee_table, [{"concept": "x", "unit": "m2", "rate": "1", "legal_basis": ""}]),
        (parse_fee_table, [TABLE[0]] * 31),
        (parse_requirements, []),
        (parse_requirements, [{"kind": "Con Espacios", "label": "x"}]),
        (parse_requirements, [{"kind": "planos", "label": ""}]),
        (parse_requirements, [{"kind": "planos", "label": "a"}, {"kind": "planos", "label": "b"}]),
        (parse_rate, "1.5"),
        (parse_rate, "-0.1"),
        (parse_rate, "veinte"),
        (parse_rate, True),
        (VECS_V1.param_parsers["departments"], {"intake": "ventanilla"}),
        (VECS_V1.param_parsers["departments"], {**MAPPED, "fees": "Finanzas Municipales"}),
        (VECS_V1.param_parsers["departments"], ["ventanilla"]),
    ],
)
def test_settings_parsers_refuse_bad_values(parser: Any, value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        parser(value)


def test_requirements_in_the_settings_replace_the_definition_s() -> None:
    (submit,) = VECS_V1.find("submit", "draft")
    assert documents_for(submit, VECS_V1.params) == REQUIRED_DOCUMENTS
    assert documents_for(submit, {}) == REQUIRED_DOCUMENTS  # cases opened before the setting existed
    custom = {"requirements": [{"kind": "planos", "label": "Planos"}, "estudio_suelos"]}
    assert documents_for(submit, custom) == ("planos", "estudio_suelos")
    (start,) = VECS_V1.find("start_intake", "submitted")
    assert documents_for(start, custom) == ()


# -- the inspection draw ----------------------------------------------------------------------------------


def test_the_draw_is_reproducible() -> None:
    first = draw("semilla", "VECS-2026-000001", 42, "0.2")
    assert first == draw("semilla", "VECS-2026-000001", 42, "0.2")
    assert first.number != draw("semilla", "VECS-2026-000001", 43, "0.2").number
    assert first.number != draw("otra semilla", "VECS-2026-000001", 42, "0.2").number
    assert first.selected == (first.number < Fraction(1, 5))
    record = first.record()
    assert record["digest"] == first.digest
    assert len(record["digest"]) == 16
    assert record["seq"] == 42
    assert Fraction(int(record["digest"], 16), 2**64) == first.number


@given(st.text(min_size=1, max_size=20), st.integers(1, 10**9))
def test_rate_zero_never_selects_and_rate_one_always_does(folio: str, seq: int) -> None:
    assert not draw("s", folio, seq, "0").selected
    assert draw("s", folio, seq, "1").selected
    assert 0 <= draw("s", folio, seq, "0.5").number < 1


def test_the_draw_selects_about_the_configured_share() -> None:
    selected = sum(draw("semilla", f"VECS-2026-{n:06d}", 1000 + n, "0.2").selected for n in range(4000))
    assert 0.17 < selected / 4000 < 0.23


@pytest.mark.parametrize("rate", ["1.01", "-0.5", "abc", None])
def test_the_draw_refuses_a_bad_rate(rate: Any) -> None:
    with pytest.raises(ValueError, match="rate"):
        draw("s", "F", 1, rate)


def test_completion_is_followed_by_the_automatic_draw_outcomes() -> None:
    state = VECS_V1.state("completion_filed")
    assert state.draw is not None
    assert state.draw.field == "inspection_drawn"
    assert state.automatic == ("send_to_inspection", "skip_inspection")


# -- the validator knows the new declarations --------------------------------------------------------------


def _broken(**changes: Any) -> list[str]:
    spec = {f.name: getattr(VECS_V1, f.name) for f in dataclasses.fields(VECS_V1)}
    spec.update(changes)
    with pytest.raises(ValueError, match="inconsistent") as info:
        Workflow(**spec)
    return [str(info.value)]


def _replace_state(name: str, **changes: Any) -> tuple[State, ...]:
    return tuple(dataclasses.replace(s, **changes) if s.name == name else s for s in VECS_V1.states)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"states": _replace_state("fee_assessment", department="treasury")}, "office 'treasury' missing"),
        (
            {"states": _replace_state("completion_filed", draw=Draw("no_rate", "inspection_seed", "x", "y", "z"))},
            "draw parameter 'no_rate' missing",
        ),
        (
            {"states": _replace_state("completion_filed", automatic=("pass_inspection",))},
            "automatic trigger 'pass_inspection' is not a system transition",
        ),
        ({"param_parsers": {"nowhere": parse_rate}}, "parser for unknown parameter 'nowhere'"),
        ({"param_parsers": {"extension_silence": parse_rate}}, "default of 'extension_silence' refused"),
        (
            {"params": {**VECS_V1.params, "inspection_seed": "la-del-municipio"}},
            "the draw's seed 'inspection_seed' is committed, not a setting",
        ),
        ({"computed_fields": {"ghost": lambda d, p: 1}}, "computed field 'ghost' is written by no transition"),
        ({"catalogues": {"land_use": ("no_such_list",)}}, "parameter 'no_such_list' missing"),
        (
            {
                "transitions": (
                    *VECS_V1.transitions,
                    Transition(
                        "x", ("draft",), "draft", frozenset({"applicant"}), "x", owner_only=True, documents_param="nope"
                    ),
                )
            },
            "documents parameter 'nope' missing",
        ),
    ],
)
def test_validate_catches_broken_new_declarations(changes: dict[str, Any], problem: str) -> None:
    assert problem in _broken(**changes)[0]


# -- Mexico City's Tipo B on the same engine --------------------------------------------------------------

TIPO_B_PARAMS = dict(TIPO_B_V1.params)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"built_area_m2": "5000", "building_type": "local_comercial"}, None),
        ({"built_area_m2": "5000.01", "building_type": "local_comercial"}, "tipo C"),
        ({"built_area_m2": "200", "building_type": "vivienda_unifamiliar"}, "tipo A"),
        ({"built_area_m2": "200.01", "building_type": "vivienda_unifamiliar"}, None),
        ({"built_area_m2": "10000", "building_type": "vivienda_plurifamiliar"}, None),
        ({"built_area_m2": "10000.01", "building_type": "vivienda_plurifamiliar"}, "tipo C"),
        ({"works_started": True}, "antes de iniciar"),
        ({"building_type": "gasolinera"}, "especial"),
        ({"built_area_m2": "-3"}, "mayor que cero"),
        ({"new_construction": False, "lot_vacant": False, "land_use": "cualquiera"}, None),
    ],
)
def test_tipo_b_eligibility(changes: dict[str, Any], fragment: str | None) -> None:
    reasons = ELIGIBILITY["cdmx_tipo_b"]({**DATA, **changes}, TIPO_B_PARAMS)
    guard = TIPO_B_V1.guards["eligible"](guard_input({**DATA, **changes}, TIPO_B_PARAMS))
    if fragment is None:
        assert reasons == []
        assert guard is None
    else:
        assert any(fragment in r for r in reasons), reasons
        assert guard == reasons[0]


def test_tipo_b_registers_at_the_counter_and_reviews_afterwards(engine: Engine) -> None:
    documents = frozenset(requirement_kinds(TIPO_B_PARAMS["requirements"]))
    draft = view(TIPO_B_V1, "draft", documents=documents)
    registered = engine.decide(draft, "submit", OWNER, today=TODAY)
    assert registered.to_state == "registered"  # no prior review
    missing = view(TIPO_B_V1, "draft", documents=documents - {"zonificacion"})
    with pytest.raises(GuardRefused) as refused:
        engine.decide(missing, "submit", OWNER, today=TODAY)
    assert refused.value.reasons[0].params["kind"] == "zonificacion"
    observed = engine.decide(
        view(TIPO_B_V1, "registered"),
        "raise_observations",
        URBAN,
        today=TODAY,
        data={"observation_items": ["planos"]},
        comment="Los planos no coinciden con la zonificación.",
    )
    assert observed.to_state == "observations"
    assert engine.decide(view(TIPO_B_V1, "observations"), "answer_observations", OWNER, today=TODAY).to_state == (
        "registered"
    )
    deadline = TIPO_B_V1.state("observations").deadline
    assert deadline is not None
    assert engine.decide(view(TIPO_B_V1, "observations"), deadline.on_expiry, SYSTEM, today=TODAY).to_state == "lapsed"


def test_tipo_b_extensions_are_answered_in_three_days_at_most_twice(engine: Engine) -> None:
    state = TIPO_B_V1.state("extension_requested")
    assert state.deadline is not None
    assert TIPO_B_PARAMS[state.deadline.days_param] == 3
    assert TIPO_B_PARAMS["max_extensions"] == 2
    twice = (HistoryItem("request_extension", OWNER.id),) * 2
    with pytest.raises(GuardRefused, match="máximo de prórrogas"):
        engine.decide(view(TIPO_B_V1, "in_force", history=twice), "request_extension", OWNER, today=TODAY)
    once = (HistoryItem("request_extension", OWNER.id),)
    assert engine.decide(
        view(TIPO_B_V1, "in_force", history=once), "request_extension", OWNER, today=TODAY
    ).to_state == ("extension_requested")
    completion = TIPO_B_V1.state("completion_filed")
    assert completion.target is not None
    assert TIPO_B_PARAMS[completion.target.days_param] == 5


def test_tipo_b_four_eyes_on_the_occupancy(engine: Engine) -> None:
    history = (HistoryItem("confirm_registration", URBAN.id),)
    case = view(TIPO_B_V1, "completion_filed", history=history)
    with pytest.raises(GuardRefused, match="cuatro ojos"):
        engine.decide(case, "authorize_occupancy", URBAN, today=TODAY)
    assert engine.decide(case, "authorize_occupancy", URBAN_B, today=TODAY).to_state == "occupancy_authorized"
