"""The VECS workflow definition as data: structure, guards, eligibility rules and the validator.

Pure tests: no Flask application and no database. Where the engine is needed it is built from the
shipped definitions with the role names the application knows.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine.core import Engine
from app.models import Role
from workflows import DEFINITIONS, latest
from workflows.base import (
    SYSTEM_ROLE,
    Deadline,
    Draw,
    GuardInput,
    HistoryItem,
    State,
    Target,
    Transition,
    Workflow,
    draw,
    validate,
)
from workflows.vecs import (
    DEFAULT_PARAMS,
    FIELDS,
    REQUIRED_DOCUMENTS,
    RESOLUTION_PAUSED,
    RESOLUTION_RUNNING,
    VECS_V1,
    VECS_V2,
    eligibility_reasons,
    eligible,
    extension_available,
    fees_from_table,
    inspection_drawn,
    inspection_not_drawn,
    prevention_available,
)

WF = VECS_V1
STATE_NAMES = frozenset(s.name for s in WF.states)
TERMINAL = frozenset(s.name for s in WF.states if s.terminal)
KNOWN_ROLES = frozenset(r.value for r in Role) | {SYSTEM_ROLE}

ELIGIBLE_DATA: dict[str, Any] = {
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


def guard_input(
    data: dict[str, Any] | None = None,
    *,
    history: tuple[HistoryItem, ...] = (),
    params: dict[str, Any] | None = None,
) -> GuardInput:
    return GuardInput(
        data=MappingProxyType(dict(ELIGIBLE_DATA if data is None else data)),
        documents=frozenset(REQUIRED_DOCUMENTS),
        history=history,
        actor_id=7,
        actor_roles=frozenset({"applicant"}),
        today=date(2026, 3, 2),
        params=MappingProxyType(dict(DEFAULT_PARAMS if params is None else params)),
    )


def with_data(**changes: Any) -> GuardInput:
    return guard_input({**ELIGIBLE_DATA, **changes})


def without(key: str) -> GuardInput:
    data = dict(ELIGIBLE_DATA)
    del data[key]
    return guard_input(data)


# -- structure ---------------------------------------------------------------------------------


def test_shipped_definitions_are_consistent() -> None:
    assert validate(WF) == []
    assert validate(VECS_V2) == []
    assert latest("vecs") is VECS_V2
    assert WF in DEFINITIONS
    assert VECS_V2 in DEFINITIONS
    assert WF.key == ("vecs", 1)
    assert VECS_V2.key == ("vecs", 2)
    assert WF.initial == "draft"
    assert WF.folio_prefix == "VECS"


def test_engine_builds_from_the_definitions_with_the_application_roles() -> None:
    engine = Engine(DEFINITIONS, [r.value for r in Role])
    assert engine.definition("vecs", 1) is WF
    assert set(engine.machine("vecs", 1).states) == STATE_NAMES


def test_every_role_named_by_a_transition_exists() -> None:
    named = {r for t in WF.transitions for r in t.roles}
    assert named <= KNOWN_ROLES
    # the roles the flow relies on are really used
    assert {"applicant", "intake_clerk", "reviewer", "inspector", SYSTEM_ROLE} <= named


def test_every_state_is_reachable_from_the_initial_state() -> None:
    seen = {WF.initial}
    queue = deque([WF.initial])
    while queue:
        state = queue.popleft()
        for t in WF.transitions_from(state):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    assert seen == STATE_NAMES


def test_a_terminal_state_is_reachable_from_every_state() -> None:
    for start in STATE_NAMES:
        seen = {start}
        queue = deque([start])
        while queue:
            for t in WF.transitions_from(queue.popleft()):
                if t.dest not in seen:
                    seen.add(t.dest)
                    queue.append(t.dest)
        assert seen & TERMINAL, f"{start} can never end"


def test_terminal_states_have_no_exits() -> None:
    assert {"denied", "denied_ficta", "withdrawn", "not_presented", "revoked", "closed"} == TERMINAL
    for name in TERMINAL:
        assert WF.transitions_from(name) == (), name


def test_every_non_terminal_state_has_an_exit() -> None:
    for name in STATE_NAMES - TERMINAL:
        exits = WF.transitions_from(name)
        assert exits, name
        # an exit that only loops back (edit) does not count as leaving the state
        assert any(t.dest != name for t in exits), name


def test_every_transition_has_a_description_and_known_states() -> None:
    for t in WF.transitions:
        assert t.description.strip(), t.trigger
        assert t.dest in STATE_NAMES
        assert set(t.sources) <= STATE_NAMES
    for s in WF.states:
        assert s.description.strip(), s.name


def test_owner_only_transitions_are_applicant_transitions() -> None:
    for t in WF.transitions:
        if t.owner_only:
            assert "applicant" in t.roles, t.trigger
        if "applicant" in t.roles:
            # no staff member may act for the applicant
            assert t.owner_only, t.trigger
            assert t.roles == {"applicant"}, t.trigger


def test_submit_requires_the_whole_form_and_every_document() -> None:
    (submit,) = WF.find("submit", "draft")
    assert set(submit.required_fields) == set(FIELDS)
    assert set(submit.required_documents) == set(REQUIRED_DOCUMENTS)
    assert submit.guards == ("eligible",)


def test_reasoned_decisions_require_a_comment() -> None:
    for trigger in ("issue_prevention", "deny", "refuse_extension", "record_observations", "revoke"):
        assert all(t.comment_required for t in WF.transitions if t.trigger == trigger), trigger


def test_four_eyes_rules_are_declared() -> None:
    (approve,) = WF.find("approve_licence", "licence_review")
    assert set(approve.four_eyes_with) == {"rule_land_use", "assess_fees"}
    (authorize,) = WF.find("authorize_occupancy", "occupancy_review")
    assert authorize.four_eyes_with == ("pass_inspection",)


def test_withdrawal_is_possible_before_the_licence_only() -> None:
    sources = {s for t in WF.transitions if t.trigger == "withdraw" for s in t.sources}
    assert "draft" in sources
    assert "awaiting_payment" in sources
    assert "licensed" not in sources
    assert not sources & TERMINAL


# -- deadlines ---------------------------------------------------------------------------------


def test_deadline_states_and_their_parameters() -> None:
    with_deadline = {s.name: s.deadline for s in WF.states if s.deadline is not None}
    assert set(with_deadline) == {"prevention", "awaiting_payment", "extension_requested"}
    for name, deadline in with_deadline.items():
        assert deadline is not None
        days = WF.params[deadline.days_param]
        assert isinstance(days, int), name
        assert days >= 1, name
        assert deadline.business, name
    assert with_deadline["prevention"].on_expiry == "lapse_prevention"
    assert with_deadline["awaiting_payment"].on_expiry == "lapse_payment"
    assert with_deadline["extension_requested"].on_expiry == "grant_extension_ficta"


def expiry_choices(state: State) -> set[str]:
    """Every trigger the lapse of ``state``'s term may fire, whatever the jurisdiction chose."""
    assert state.deadline is not None
    choices = {state.deadline.on_expiry, state.deadline.expiry_trigger(WF.params)}
    if state.deadline.on_expiry_param is not None:
        choices |= set(WF.param_choices.get(state.deadline.on_expiry_param, ()))
    return choices


def test_expiry_triggers_are_system_only_transitions_out_of_the_state() -> None:
    for state in WF.states:
        if state.deadline is None:
            continue
        for trigger in expiry_choices(state):
            expiring = WF.find(trigger, state.name)
            assert expiring, (state.name, trigger)
            for t in expiring:
                assert t.roles == {SYSTEM_ROLE}, t.trigger
                assert t.dest != state.name, t.trigger
                assert not t.guards, t.trigger
                assert not t.required_fields, t.trigger
                assert not t.required_documents, t.trigger
                assert not t.comment_required, t.trigger


def test_silence_rules() -> None:
    (lapse,) = WF.find("lapse_prevention", "prevention")
    assert lapse.dest == "not_presented"
    (lapse_payment,) = WF.find("lapse_payment", "awaiting_payment")
    assert lapse_payment.dest == "not_presented"
    extension = WF.state("extension_requested")
    assert extension.deadline is not None
    # afirmativa ficta by default; a jurisdiction whose law says silence means denial may choose that
    assert extension.deadline.expiry_trigger(WF.params) == "grant_extension_ficta"
    param = extension.deadline.on_expiry_param
    assert param is not None
    assert set(WF.param_choices[param]) == {"grant_extension_ficta", "refuse_extension_ficta"}
    negativa = {**WF.params, param: "refuse_extension_ficta"}
    assert extension.deadline.expiry_trigger(negativa) == "refuse_extension_ficta"
    (ficta,) = WF.find("grant_extension_ficta", "extension_requested")
    assert ficta.dest == "licensed"


def test_every_system_transition_is_an_expiry_or_automatic() -> None:
    """The system acts only when a term lapses or when a case enters a state with automatic exits."""
    expiries = {(s.name, trigger) for s in WF.states if s.deadline is not None for trigger in expiry_choices(s)}
    # the legal term's lapse: the silence rule the jurisdiction chose, from every state the term may lapse in
    expiries |= {
        (state, trigger)
        for state in RESOLUTION_RUNNING + RESOLUTION_PAUSED
        for trigger in ("grant_ficta", "deny_ficta")
    }
    automatic = {(s.name, trigger) for s in WF.states for trigger in s.automatic}
    for t in WF.transitions:
        if SYSTEM_ROLE not in t.roles:
            continue
        for source in t.sources:
            assert (source, t.trigger) in expiries | automatic, t.trigger
        if any((source, t.trigger) in expiries for source in t.sources):
            assert t.roles == {SYSTEM_ROLE}, t.trigger


def test_the_inspection_draw_decides_between_two_complementary_exits() -> None:
    state = WF.state("completion_filed")
    assert state.draw is not None
    assert state.automatic == ("send_to_inspection", "skip_inspection")
    assert state.draw.field == "inspection_drawn"
    assert state.draw.rate_param in WF.params
    assert state.draw.seed_param not in WF.params  # the seed is committed by the system, never a setting
    (send,) = WF.find("send_to_inspection", "completion_filed")
    (skip,) = WF.find("skip_inspection", "completion_filed")
    assert (send.dest, send.guards) == ("inspection", ("inspection_drawn",))
    assert (skip.dest, skip.guards) == ("occupancy_review", ("inspection_not_drawn",))
    # nobody can write the draw's outcome: no transition accepts the field
    assert all(state.draw.field not in t.fields for t in WF.transitions)
    assert all(state.draw.record_field not in t.fields for t in WF.transitions)


def test_the_draw_is_reproducible_and_follows_the_rate() -> None:
    first = draw("semilla", "VECS-2026-000001", 41, "0.20")
    assert draw("semilla", "VECS-2026-000001", 41, "0.20") == first
    assert draw("otra-semilla", "VECS-2026-000001", 41, "0.20").digest != first.digest
    assert draw("semilla", "VECS-2026-000001", 42, "0.20").digest != first.digest
    assert 0 <= first.number < 1
    assert first.selected == (first.number < Decimal("0.20"))
    record = first.record()
    assert record["seq"] == 41
    assert record["selected"] is first.selected
    assert record["digest"] == first.digest
    for seq in range(30):
        assert not draw("s", "VECS-2026-000007", seq, "0").selected
        assert draw("s", "VECS-2026-000007", seq, "1").selected
    for bad in ("1.01", "-0.1", "abc", None):
        with pytest.raises(ValueError, match="draw rate"):
            draw("s", "F", 1, bad)


@given(st.integers(min_value=1, max_value=10**9), st.decimals(min_value=0, max_value=1, places=3))
def test_selection_is_exactly_the_number_below_the_rate(seq: int, rate: Decimal) -> None:
    result = draw("semilla-municipal", "VECS-2026-000123", seq, str(rate))
    assert result.selected == (result.number < rate)


def test_rates_across_many_cases_are_close_to_the_setting() -> None:
    selected = sum(draw("semilla", f"VECS-2026-{n:06d}", n * 7, "0.20").selected for n in range(1, 2001))
    assert 300 <= selected <= 500  # 20 % of 2,000 with a wide margin


def test_service_targets_are_parameters() -> None:
    targets = {s.name: s.target for s in WF.states if s.target is not None}
    assert {"land_use_review", "licence_review"} <= set(targets)
    for name, target in targets.items():
        assert target is not None
        days = WF.params[target.days_param]
        assert isinstance(days, int), name
        assert days >= 1, name
        assert not WF.state(name).terminal
    assert WF.params[targets["land_use_review"].days_param] == 4  # the VECS land-use ruling target


# -- eligibility -------------------------------------------------------------------------------


def test_complete_eligible_request_passes() -> None:
    assert eligible(guard_input()) is None


@pytest.mark.parametrize("area", ["1500", "1500.0", "1500.00", 1500, 1500.0, Decimal("1500"), "0.01", "1", 1])
def test_built_area_up_to_the_limit_is_eligible(area: Any) -> None:
    assert eligible(with_data(built_area_m2=area)) is None


@pytest.mark.parametrize("area", ["1500.01", 1500.01, "1500.001", "1501", 1501, "1e4", Decimal("1500.0000001")])
def test_built_area_over_the_limit_is_refused_pointing_to_the_ordinary_licence(area: Any) -> None:
    reason = eligible(with_data(built_area_m2=area))
    assert reason is not None
    assert "excede" in reason
    assert "licencia de construcción ordinaria" in reason


@pytest.mark.parametrize(
    "area",
    ["0", 0, "0.00", "-1", -1, "-0.01", -1500, "abc", "", "  ", "1,500", "m2", None, "NaN", "Infinity", "-Infinity"],
)
def test_zero_negative_and_non_numeric_areas_are_refused(area: Any) -> None:
    reason = eligible(with_data(built_area_m2=area))
    assert reason is not None
    assert "número mayor que cero" in reason


def test_every_eligibility_reason_is_listed() -> None:
    data = {
        **ELIGIBLE_DATA,
        "built_area_m2": "2000",
        "new_construction": False,
        "works_started": True,
        "lot_vacant": False,
        "building_type": "escuela",
        "land_use": "bar",
    }
    reasons = eligibility_reasons(data, DEFAULT_PARAMS)
    assert len(reasons) == 6
    assert all("ordinaria" in r for r in reasons)
    assert eligible(guard_input(data)) == reasons[0]
    assert eligibility_reasons(ELIGIBLE_DATA, DEFAULT_PARAMS) == []


def test_answering_a_prevention_checks_eligibility_again() -> None:
    (answer,) = WF.find("answer_prevention", "prevention")
    assert "eligible" in answer.guards
    assert set(answer.required_documents) == set(REQUIRED_DOCUMENTS)


def test_missing_area_is_refused() -> None:
    assert eligible(without("built_area_m2")) is not None


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1500"), places=2))
def test_any_area_in_range_is_eligible(area: Decimal) -> None:
    assert eligible(with_data(built_area_m2=str(area))) is None


@given(st.decimals(min_value=Decimal("1500.01"), max_value=Decimal("1000000"), places=2))
def test_any_area_over_the_limit_is_refused(area: Decimal) -> None:
    assert eligible(with_data(built_area_m2=str(area))) is not None


def test_the_area_limit_is_a_parameter() -> None:
    params = {**DEFAULT_PARAMS, "max_built_area_m2": "1000"}
    assert eligible(guard_input({**ELIGIBLE_DATA, "built_area_m2": "1000"}, params=params)) is None
    assert eligible(guard_input({**ELIGIBLE_DATA, "built_area_m2": "1000.01"}, params=params)) is not None


@pytest.mark.parametrize("value", [True, "false", "no", 0, None, "0"])
def test_works_started_or_unknown_is_refused(value: Any) -> None:
    reason = eligible(with_data(works_started=value))
    assert reason is not None
    assert "no debe haber iniciado" in reason
    assert "ordinaria" in reason


def test_works_started_missing_is_refused() -> None:
    assert eligible(without("works_started")) is not None


@pytest.mark.parametrize("value", [False, "true", "sí", 1, None])
def test_not_new_construction_is_refused(value: Any) -> None:
    reason = eligible(with_data(new_construction=value))
    assert reason is not None
    assert "obra nueva" in reason
    assert "ordinaria" in reason


@pytest.mark.parametrize("value", [False, "true", 1, None])
def test_non_vacant_lot_is_refused(value: Any) -> None:
    reason = eligible(with_data(lot_vacant=value))
    assert reason is not None
    assert "baldío" in reason
    assert "ordinaria" in reason


@pytest.mark.parametrize("building_type", DEFAULT_PARAMS["excluded_building_types"])
def test_each_excluded_building_type_is_refused(building_type: str) -> None:
    reason = eligible(with_data(building_type=building_type))
    assert reason is not None
    assert "excluido" in reason
    assert "ordinaria" in reason


def test_excluded_types_include_the_domain_examples() -> None:
    assert {"escuela", "hospital", "condominio", "estadio"} <= set(DEFAULT_PARAMS["excluded_building_types"])


@pytest.mark.parametrize("use", DEFAULT_PARAMS["low_risk_uses"])
def test_each_low_risk_use_is_eligible(use: str) -> None:
    assert eligible(with_data(land_use=use)) is None


@pytest.mark.parametrize("use", ["bar", "gasolinera", "fabrica_quimica", "", None, "COMERCIO_ABARROTES", "oficinas "])
def test_use_outside_the_low_risk_catalogue_is_refused(use: Any) -> None:
    reason = eligible(with_data(land_use=use))
    assert reason is not None
    assert "catálogo de bajo riesgo" in reason
    assert "ordinarias" in reason


def test_missing_use_is_refused() -> None:
    assert eligible(without("land_use")) is not None


def test_the_low_risk_catalogue_is_editable_data() -> None:
    params = {**DEFAULT_PARAMS, "low_risk_uses": ("bar",)}
    assert eligible(guard_input({**ELIGIBLE_DATA, "land_use": "bar"}, params=params)) is None
    assert eligible(guard_input({**ELIGIBLE_DATA, "land_use": "papeleria"}, params=params)) is not None


# -- other guards ------------------------------------------------------------------------------


def test_one_prevention_only() -> None:
    assert prevention_available(guard_input()) is None
    other_history = (HistoryItem("submit", 1), HistoryItem("start_intake", 2), HistoryItem("answer_prevention", 1))
    assert prevention_available(guard_input(history=other_history)) is None
    once = (HistoryItem("start_intake", 2), HistoryItem("issue_prevention", 2))
    reason = prevention_available(guard_input(history=once))
    assert reason is not None
    assert "única prevención" in reason
    assert DEFAULT_PARAMS["max_preventions"] == 1


def test_prevention_limit_is_a_parameter() -> None:
    params = {**DEFAULT_PARAMS, "max_preventions": 2}
    once = (HistoryItem("issue_prevention", 2),)
    assert prevention_available(guard_input(history=once, params=params)) is None
    assert prevention_available(guard_input(history=once * 2, params=params)) is not None


def test_maximum_number_of_extensions() -> None:
    maximum = DEFAULT_PARAMS["max_extensions"]
    assert maximum == 2
    for count in range(maximum):
        history = (HistoryItem("request_extension", 1),) * count
        assert extension_available(guard_input(history=history)) is None, count
    history = (HistoryItem("request_extension", 1),) * maximum
    reason = extension_available(guard_input(history=history))
    assert reason is not None
    assert "máximo de prórrogas" in reason
    # granted and refused extensions both count: it is the request that is limited
    mixed = (HistoryItem("request_extension", 1), HistoryItem("refuse_extension", 5)) * maximum
    assert extension_available(guard_input(history=mixed)) is not None


def test_inspection_drawn_guard() -> None:
    assert inspection_drawn(with_data(inspection_drawn=True)) is None
    for value in (False, None, "true", 1):
        assert inspection_drawn(with_data(inspection_drawn=value)) is not None, value
    assert inspection_drawn(guard_input()) is not None


def test_inspection_not_drawn_guard() -> None:
    assert inspection_not_drawn(with_data(inspection_drawn=False)) is None
    for value in (True, None, "false", 0):
        assert inspection_not_drawn(with_data(inspection_drawn=value)) is not None, value
    # before the draw neither branch may be taken
    assert inspection_not_drawn(guard_input()) is not None


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)))
def test_exactly_one_inspection_branch_is_open_once_drawn(value: Any) -> None:
    inp = with_data(inspection_drawn=value)
    open_branches = [g(inp) is None for g in (inspection_drawn, inspection_not_drawn)]
    assert sum(open_branches) == (1 if isinstance(value, bool) else 0)


def test_every_declared_guard_is_a_registered_function() -> None:
    used = {g for t in WF.transitions for g in t.guards}
    assert used == set(WF.guards)
    assert WF.guards["eligible"] is eligible
    assert WF.guards["prevention_available"] is prevention_available
    assert WF.guards["extension_available"] is extension_available
    assert WF.guards["inspection_drawn"] is inspection_drawn
    assert WF.guards["inspection_not_drawn"] is inspection_not_drawn
    assert WF.guards["fees_from_table"] is fees_from_table


def test_the_definition_cannot_be_mutated() -> None:
    with pytest.raises(TypeError):
        WF.guards["eligible"] = lambda inp: None  # type: ignore[index]
    with pytest.raises(TypeError):
        WF.params["max_extensions"] = 99  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        WF.initial = "submitted"  # type: ignore[misc]


# -- the validator -----------------------------------------------------------------------------

OK_STATES = (
    State("a", "start"),
    State("b", "waiting", deadline=Deadline("b_days", "lapse", "term")),
    State("z", "end", terminal=True),
)
OK_TRANSITIONS = (
    Transition("go", ("a",), "b", frozenset({"applicant"}), "go", owner_only=True, guards=("ok",)),
    Transition("finish", ("b",), "z", frozenset({"reviewer"}), "finish", four_eyes_with=("go",)),
    Transition("lapse", ("b",), "z", frozenset({SYSTEM_ROLE}), "lapse"),
)


def make_workflow(**changes: Any) -> Workflow:
    spec: dict[str, Any] = {
        "name": "mini",
        "version": 1,
        "title": "mini",
        "folio_prefix": "MINI",
        "initial": "a",
        "states": OK_STATES,
        "transitions": OK_TRANSITIONS,
        "guards": {"ok": lambda inp: None},
        "params": {"b_days": 3},
    }
    spec.update(changes)
    return Workflow(**spec)


def test_a_consistent_small_workflow_builds() -> None:
    wf = make_workflow()
    assert validate(wf) == []
    assert wf.triggers == {"go", "finish", "lapse"}


def replace_transition(index: int, **changes: Any) -> tuple[Transition, ...]:
    items = list(OK_TRANSITIONS)
    items[index] = dataclasses.replace(items[index], **changes)
    return tuple(items)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"transitions": replace_transition(0, dest="nowhere")}, "go: unknown destination 'nowhere'"),
        ({"transitions": replace_transition(0, sources=("a", "ghost"))}, "go: unknown source 'ghost'"),
        ({"transitions": replace_transition(0, guards=("ok", "missing_guard"))}, "go: unknown guard 'missing_guard'"),
        ({"guards": {}}, "go: unknown guard 'ok'"),
        (
            {"transitions": (*OK_TRANSITIONS, Transition("reopen", ("z",), "a", frozenset({"reviewer"}), "reopen"))},
            "reopen: leaves terminal state 'z'",
        ),
        ({"params": {}}, "b: deadline parameter 'b_days' missing"),
        ({"params": {"b_day": 3}}, "b: deadline parameter 'b_days' missing"),
        (
            {"transitions": replace_transition(2, roles=frozenset({"reviewer"}))},
            "b: expiry trigger 'lapse' is not a system transition",
        ),
        (
            {"transitions": OK_TRANSITIONS[:2]},
            "b: expiry trigger 'lapse' is not a system transition",
        ),
        (
            {"transitions": replace_transition(2, sources=("a",))},
            "b: expiry trigger 'lapse' is not a system transition",
        ),
        ({"states": (*OK_STATES, State("a", "again"))}, "duplicate state names"),
        ({"states": (*OK_STATES, State("en revisión", "quoted"))}, "'en revisión': a procedure's or state's name"),
        ({"states": (*OK_STATES, State("it's", "quoted"))}, "\"it's\": a procedure's or state's name"),
        ({"name": "Mini"}, "'Mini': a procedure's or state's name is lower-case letters"),
        ({"initial": "q"}, "initial state 'q' is not a state"),
        ({"transitions": replace_transition(1, roles=frozenset())}, "finish: no role may fire it"),
        (
            {"transitions": replace_transition(0, roles=frozenset({"reviewer"}))},
            "go: owner_only needs the applicant role",
        ),
        ({"transitions": replace_transition(1, four_eyes_with=("ghost",))}, "finish: four-eyes names unknown trigger"),
        (
            {"states": (State("a", "start", target=Target("a_target", "meta")), *OK_STATES[1:])},
            "a: target parameter 'a_target' missing",
        ),
        (
            {
                "states": (
                    OK_STATES[0],
                    State("b", "waiting", deadline=Deadline("b_days", "lapse", "term", on_expiry_param="b_silence")),
                    OK_STATES[2],
                ),
                "params": {"b_days": 3, "b_silence": "finish"},
            },
            "b: expiry trigger 'finish' is not a system transition",
        ),
        (
            {
                "states": (
                    OK_STATES[0],
                    State("b", "waiting", deadline=Deadline("b_days", "lapse", "term", on_expiry_param="b_silence")),
                    OK_STATES[2],
                ),
                "param_choices": {"b_silence": ("lapse", "finish")},
            },
            "b: expiry trigger 'finish' is not a system transition",
        ),
        (
            {"states": (State("a", "start", automatic=("go",)), *OK_STATES[1:])},
            "a: automatic trigger 'go' is not a system transition",
        ),
        (
            {"states": (State("a", "start", draw=Draw("rate", "seed", "drawn", "record", "sorteo")), *OK_STATES[1:])},
            "a: draw parameter 'rate' missing",
        ),
        (
            {"states": (State("a", "start", department="intake"), *OK_STATES[1:])},
            "a: office 'intake' missing from 'departments'",
        ),
        (
            {"transitions": replace_transition(1, revokes=True)},
            "finish: revoking certificates needs a comment",
        ),
    ],
)
def test_validate_catches_broken_definitions(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match="is inconsistent") as info:
        make_workflow(**changes)
    assert problem in str(info.value)


def test_validate_reports_every_problem_at_once() -> None:
    broken = (
        Transition("go", ("a",), "nowhere", frozenset({"applicant"}), "go", guards=("missing",)),
        Transition("reopen", ("z",), "a", frozenset({"reviewer"}), "reopen"),
        Transition("lapse", ("b",), "z", frozenset({SYSTEM_ROLE}), "lapse"),
    )
    with pytest.raises(ValueError, match="inconsistent") as info:
        make_workflow(transitions=broken, params={})
    message = str(info.value)
    for problem in (
        "go: unknown destination 'nowhere'",
        "go: unknown guard 'missing'",
        "reopen: leaves terminal state 'z'",
        "b: deadline parameter 'b_days' missing",
    ):
        assert problem in message


def test_validate_on_a_broken_copy_of_vecs() -> None:
    transitions = tuple(
        dataclasses.replace(t, dest="limbo") if t.trigger == "close" else t for t in VECS_V1.transitions
    )
    with pytest.raises(ValueError, match="close: unknown destination 'limbo'"):
        dataclasses.replace(VECS_V1, transitions=transitions)
    params = {k: v for k, v in VECS_V1.params.items() if k != "payment_days"}
    with pytest.raises(ValueError, match="awaiting_payment: deadline parameter 'payment_days' missing"):
        dataclasses.replace(VECS_V1, params=params)
    guards = {k: v for k, v in VECS_V1.guards.items() if k != "eligible"}
    with pytest.raises(ValueError, match="submit: unknown guard 'eligible'"):
        dataclasses.replace(VECS_V1, guards=guards)


def test_engine_refuses_unknown_roles_and_duplicate_versions() -> None:
    roles = [r.value for r in Role if r is not Role.INSPECTOR]
    with pytest.raises(ValueError, match="inspector"):
        Engine(DEFINITIONS, roles)
    with pytest.raises(ValueError, match="defined twice"):
        Engine((VECS_V1, VECS_V1), [r.value for r in Role])
