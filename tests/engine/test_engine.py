"""The engine without a database: machines built once, every refusal of ``decide`` and ``available``."""

from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transitions import Machine

import app.engine.core as core
from app.engine import (
    Actor,
    CaseView,
    ConflictError,
    DomainError,
    Engine,
    GuardRefused,
    IllegalTrigger,
    InvalidData,
    NotAllowed,
    Outcome,
    UnknownTrigger,
    get_engine,
)
from app.models import Role
from workflows import DEFINITIONS
from workflows.base import SYSTEM_ROLE, HistoryItem
from workflows.vecs import FIELDS, REQUIRED_DOCUMENTS, VECS_V1

ROLES = [r.value for r in Role]
TODAY = date(2026, 3, 2)
WF = VECS_V1

OWNER = Actor(1, frozenset({"applicant"}))
OTHER_APPLICANT = Actor(2, frozenset({"applicant"}))
CLERK = Actor(3, frozenset({"intake_clerk"}))
REVIEWER_A = Actor(4, frozenset({"reviewer"}))
REVIEWER_B = Actor(5, frozenset({"reviewer"}))
INSPECTOR = Actor(6, frozenset({"inspector"}))
REVIEWER_C = Actor(10, frozenset({"reviewer"}))
INSPECTOR_REVIEWER = Actor(9, frozenset({"inspector", "reviewer"}))
SYSTEM = Actor.system()
USER_CLAIMING_SYSTEM = Actor(8, frozenset({SYSTEM_ROLE}))
NOBODY = Actor(11, frozenset())
TREASURER = Actor(12, frozenset({"treasury"}))

FULL_DATA: dict[str, Any] = {
    "property_address": "Av. Juárez 10",
    "cadastral_key": "100-200-300",
    "lot_area_m2": "500",
    "built_area_m2": "350",
    "land_use": "oficinas",
    "building_type": "local_comercial",
    "new_construction": True,
    "works_started": False,
    "lot_vacant": True,
    "dro_name": "Arq. Pedro Páramo",
    "dro_registration": "DRO-1955",
}

# What a trigger needs to be sent with to be accepted (besides the case's own data).
PAYLOAD: dict[str, dict[str, Any]] = {
    "issue_prevention": {"prevention_items": ["planos"]},
    "rule_land_use": {"land_use_ruling": "Compatible"},
    "assess_fees": {"fees": [{"concept": "Licencia", "amount": "100.00"}]},
    "confirm_payment": {
        "payment_reference": "REF",
        "payment_amount": "100.00",
        "payment_paid_on": "2026-01-02",
        "payment_operation": "OP-1",
    },
    "approve_licence": {"licence_number": "LC-1"},
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(DEFINITIONS, ROLES)


def view(state: str = "draft", **changes: Any) -> CaseView:
    base = CaseView(
        workflow="vecs",
        workflow_version=1,
        state=state,
        version=5,
        applicant_id=OWNER.id or 0,
        data=MappingProxyType(dict(FULL_DATA)),
        documents=frozenset(REQUIRED_DOCUMENTS),
        history=(),
    )
    return dataclasses.replace(base, **changes)


def refusal(engine: Engine, case: CaseView, trigger: str, actor: Actor, **kwargs: Any) -> DomainError:
    kwargs.setdefault("today", TODAY)
    with pytest.raises(DomainError) as info:
        engine.decide(case, trigger, actor, **kwargs)
    return info.value


# -- machines ----------------------------------------------------------------------------------


def test_one_machine_per_workflow_version_built_once_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Machine] = []

    class CountingMachine(Machine):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(core, "Machine", CountingMachine)
    v2 = dataclasses.replace(VECS_V1, version=2)
    engine = Engine((VECS_V1, v2), ROLES)
    assert len(built) == 2
    m1, m2 = engine.machine("vecs", 1), engine.machine("vecs", 2)
    assert m1 is not m2
    assert {id(m1), id(m2)} == {id(m) for m in built}
    assert engine.latest("vecs") is v2
    assert engine.definition("vecs", 1) is VECS_V1

    for _ in range(5):
        engine.decide(view(), "submit", OWNER, today=TODAY)
        engine.decide(view(workflow_version=2), "submit", OWNER, today=TODAY)
        engine.available(view(), OWNER, today=TODAY)
    assert len(built) == 2
    assert engine.machine("vecs", 1) is m1
    assert engine.machine("vecs", 2) is m2
    # no case is ever attached to a shared machine
    assert m1.models == []
    assert m2.models == []


def test_get_engine_is_built_once_per_process() -> None:
    first = get_engine()
    assert get_engine() is first
    assert first.machine("vecs", 1) is get_engine().machine("vecs", 1)
    assert {w.key for w in first.definitions} == {w.key for w in DEFINITIONS}


def test_machines_have_no_automatic_transitions(engine: Engine) -> None:
    for workflow in engine.definitions:
        machine = engine.machine(workflow.name, workflow.version)
        assert set(machine.events) == set(workflow.triggers)
        # the library's to_<state>() shortcuts would let anyone skip steps; a workflow's own trigger may not
        # take such a name either
        assert not [name for name in machine.events if name in {f"to_{s.name}" for s in workflow.states}]
        assert set(machine.states) == {s.name for s in workflow.states}


def test_auto_transition_names_are_unknown_triggers(engine: Engine) -> None:
    for state in ("submitted", "licensed", "closed"):
        error = refusal(engine, view(), f"to_{state}", OWNER)
        assert isinstance(error, UnknownTrigger)


def test_machine_event_conditions_follow_the_definition(engine: Engine) -> None:
    machine = engine.machine("vecs", 1)
    for t in WF.transitions:
        event = machine.events[t.trigger]
        for source in t.sources:
            dests = {tr.dest for tr in event.transitions[source]}
            assert t.dest in dests


# -- decide: success ---------------------------------------------------------------------------


def test_decide_returns_the_outcome_without_touching_the_view(engine: Engine) -> None:
    case = view("draft")
    before = dict(case.data)
    outcome = engine.decide(case, "edit", OWNER, today=TODAY, expected_version=5, data={"dro_name": "Otra"})
    assert outcome.from_state == "draft"
    assert outcome.to_state == "draft"
    assert outcome.role == "applicant"
    assert outcome.written == {"dro_name": "Otra"}
    assert outcome.data == {**before, "dro_name": "Otra"}
    assert dict(case.data) == before
    assert case.state == "draft"

    submitted = engine.decide(case, "submit", OWNER, today=TODAY, expected_version=5)
    assert submitted.to_state == "submitted"
    assert submitted.transition.trigger == "submit"
    assert submitted.written == {}


def test_expected_version_none_skips_the_check(engine: Engine) -> None:
    assert engine.decide(view(), "submit", OWNER, today=TODAY, expected_version=None).to_state == "submitted"


def walk(engine: Engine, steps: list[tuple[str, Actor]], data: dict[str, Any]) -> CaseView:
    case = view("draft", data=MappingProxyType({**FULL_DATA, **data}))
    for trigger, actor in steps:
        outcome = engine.decide(
            case,
            trigger,
            actor,
            today=TODAY,
            expected_version=case.version,
            data=PAYLOAD.get(trigger),
            comment="Fundamento: art. 5" if trigger in {"issue_prevention", "refuse_extension"} else None,
        )
        assert outcome.from_state == case.state
        (t,) = WF.find(trigger, case.state)
        assert outcome.to_state == t.dest
        case = dataclasses.replace(
            case,
            state=outcome.to_state,
            version=case.version + 1,
            data=MappingProxyType(outcome.data),
            history=(*case.history, HistoryItem(trigger, actor.id)),
        )
    return case


HEAD = [
    ("submit", OWNER),
    ("start_intake", CLERK),
    ("issue_prevention", CLERK),
    ("answer_prevention", OWNER),
    ("accept_intake", CLERK),
    ("rule_land_use", REVIEWER_A),
    ("assess_fees", REVIEWER_A),
    ("confirm_payment", TREASURER),
    ("approve_licence", REVIEWER_B),
    ("request_extension", OWNER),
    ("grant_extension", REVIEWER_B),
    ("request_extension", OWNER),
    ("grant_extension_ficta", SYSTEM),
    ("file_completion", OWNER),
]


def test_whole_flow_with_inspection_drawn(engine: Engine) -> None:
    steps = [
        *HEAD,
        ("send_to_inspection", INSPECTOR),
        ("pass_inspection", INSPECTOR),
        ("authorize_occupancy", REVIEWER_A),
        ("close", REVIEWER_B),
    ]
    assert walk(engine, steps, {"inspection_drawn": True}).state == "closed"


def test_whole_flow_with_inspection_not_drawn(engine: Engine) -> None:
    steps = [*HEAD, ("skip_inspection", SYSTEM), ("authorize_occupancy", REVIEWER_A), ("close", REVIEWER_B)]
    assert walk(engine, steps, {"inspection_drawn": False}).state == "closed"


def test_neither_inspection_branch_opens_before_the_draw(engine: Engine) -> None:
    case = walk(engine, HEAD, {})
    assert case.state == "completion_filed"
    for trigger in ("send_to_inspection", "skip_inspection"):
        assert isinstance(refusal(engine, case, trigger, INSPECTOR), GuardRefused)


# -- decide: refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("expected", [4, 6, 0, -1])
def test_stale_expected_version_is_a_conflict(engine: Engine, expected: int) -> None:
    error = refusal(engine, view(), "submit", OWNER, expected_version=expected)
    assert isinstance(error, ConflictError)
    assert error.code == "conflict"
    assert "recargue" in str(error)


def test_conflict_is_reported_before_anything_else(engine: Engine) -> None:
    assert isinstance(refusal(engine, view(), "nonsense", NOBODY, expected_version=1), ConflictError)


@pytest.mark.parametrize("trigger", ["nonsense", "", "SUBMIT", "submit ", "to_licensed", "open"])
def test_unknown_trigger(engine: Engine, trigger: str) -> None:
    error = refusal(engine, view(), trigger, OWNER)
    assert type(error) is UnknownTrigger
    assert error.message.params["trigger"] == trigger


@pytest.mark.parametrize(
    ("state", "trigger", "actor"),
    [
        ("draft", "approve_licence", REVIEWER_A),
        ("draft", "start_intake", CLERK),
        ("submitted", "submit", OWNER),
        ("submitted", "edit", OWNER),
        ("licensed", "withdraw", OWNER),
        ("prevention", "issue_prevention", CLERK),
        ("awaiting_payment", "lapse_prevention", SYSTEM),
        ("closed", "close", REVIEWER_A),
        ("denied", "withdraw", OWNER),
        ("revoked", "file_completion", OWNER),
    ],
)
def test_trigger_from_the_wrong_state_is_illegal(engine: Engine, state: str, trigger: str, actor: Actor) -> None:
    error = refusal(engine, view(state), trigger, actor)
    assert type(error) is IllegalTrigger
    assert error.message.params == {"trigger": trigger, "state": state}


def test_nothing_leaves_a_terminal_state(engine: Engine) -> None:
    for state in ("denied", "withdrawn", "not_presented", "revoked", "closed"):
        for trigger in sorted(WF.triggers):
            for actor in (OWNER, CLERK, REVIEWER_A, INSPECTOR, SYSTEM):
                assert isinstance(refusal(engine, view(state), trigger, actor), IllegalTrigger)


@pytest.mark.parametrize(
    ("state", "trigger", "actor", "reason"),
    [
        # wrong role
        ("submitted", "start_intake", REVIEWER_A, "Su rol"),
        ("submitted", "start_intake", OWNER, "Su rol"),
        ("land_use_review", "rule_land_use", CLERK, "Su rol"),
        ("inspection", "pass_inspection", REVIEWER_A, "Su rol"),
        ("draft", "submit", CLERK, "Su rol"),
        ("draft", "submit", NOBODY, "Su rol"),
        # applicant-only trigger by another applicant
        ("draft", "submit", OTHER_APPLICANT, "Solo quien presentó"),
        ("draft", "edit", OTHER_APPLICANT, "Solo quien presentó"),
        ("awaiting_payment", "confirm_payment", OWNER, "Su rol"),
        ("submitted", "withdraw", OTHER_APPLICANT, "Solo quien presentó"),
        ("licensed", "request_extension", OTHER_APPLICANT, "Solo quien presentó"),
        # system-only trigger by a user
        ("prevention", "lapse_prevention", OWNER, "Su rol"),
        ("prevention", "lapse_prevention", CLERK, "Su rol"),
        ("awaiting_payment", "lapse_payment", REVIEWER_A, "Su rol"),
        ("extension_requested", "grant_extension_ficta", REVIEWER_A, "Su rol"),
        # a user holding a role called "system" is not the timer worker
        ("prevention", "lapse_prevention", USER_CLAIMING_SYSTEM, "Su rol"),
        ("extension_requested", "grant_extension_ficta", USER_CLAIMING_SYSTEM, "Su rol"),
        ("completion_filed", "skip_inspection", USER_CLAIMING_SYSTEM, "Su rol"),
        # the system acts only on system transitions
        ("submitted", "start_intake", SYSTEM, "Su rol"),
        ("draft", "submit", SYSTEM, "Su rol"),
        ("licence_review", "approve_licence", SYSTEM, "Su rol"),
    ],
)
def test_not_allowed(engine: Engine, state: str, trigger: str, actor: Actor, reason: str) -> None:
    error = refusal(engine, view(state), trigger, actor, data=PAYLOAD.get(trigger), comment="motivo")
    assert type(error) is NotAllowed
    assert reason in str(error)


def test_staff_cannot_act_on_a_case_they_filed(engine: Engine) -> None:
    staff = Actor(7, frozenset({"applicant", "reviewer", "intake_clerk", "inspector"}))
    own = {"applicant_id": 7}
    for state, trigger in [
        ("submitted", "start_intake"),
        ("land_use_review", "rule_land_use"),
        ("licence_review", "approve_licence"),
        ("land_use_review", "deny"),
        ("inspection", "pass_inspection"),
        ("occupancy_review", "authorize_occupancy"),
    ]:
        error = refusal(engine, view(state, **own), trigger, staff, data=PAYLOAD.get(trigger), comment="x")
        assert type(error) is NotAllowed, trigger
        assert "que usted presentó" in str(error)
    # as the applicant of that case they act normally
    assert engine.decide(view("draft", **own), "submit", staff, today=TODAY).role == "applicant"
    # and as staff on somebody else's case too
    outcome = engine.decide(view("land_use_review"), "rule_land_use", staff, today=TODAY, data=PAYLOAD["rule_land_use"])
    assert outcome.role == "reviewer"


def test_acting_role_is_recorded(engine: Engine) -> None:
    drawn = view("completion_filed", data=MappingProxyType({**FULL_DATA, "inspection_drawn": True}))
    assert engine.decide(drawn, "send_to_inspection", SYSTEM, today=TODAY).role == SYSTEM_ROLE
    assert engine.decide(drawn, "send_to_inspection", INSPECTOR, today=TODAY).role == "inspector"
    assert engine.decide(drawn, "send_to_inspection", REVIEWER_A, today=TODAY).role == "reviewer"
    assert engine.decide(view("prevention"), "lapse_prevention", SYSTEM, today=TODAY).role == SYSTEM_ROLE


@pytest.mark.parametrize(
    ("state", "trigger", "actor", "data", "bad"),
    [
        ("draft", "submit", OWNER, {"inspection_drawn": True}, "inspection_drawn"),
        ("draft", "edit", OWNER, {"dro_name": "x", "fees": []}, "fees"),
        ("submitted", "start_intake", CLERK, {"note": "x"}, "note"),
        ("licence_review", "approve_licence", REVIEWER_B, {"licence_number": "L", "fees": []}, "fees"),
        ("land_use_review", "rule_land_use", REVIEWER_A, {"land_use_ruling": "ok", "state": "closed"}, "state"),
        # nobody may choose the outcome of the inspection draw by sending it as data
        ("licensed", "file_completion", OWNER, {"inspection_drawn": False}, "inspection_drawn"),
        ("completion_filed", "skip_inspection", INSPECTOR, {"inspection_drawn": False}, "inspection_drawn"),
    ],
)
def test_fields_the_trigger_does_not_accept(
    engine: Engine, state: str, trigger: str, actor: Actor, data: dict[str, Any], bad: str
) -> None:
    error = refusal(engine, view(state), trigger, actor, data=data)
    assert type(error) is InvalidData
    assert error.message.params["fields"] == bad


def test_invalid_data_lists_every_unexpected_field_sorted(engine: Engine) -> None:
    error = refusal(engine, view("submitted"), "start_intake", CLERK, data={"zeta": 1, "alpha": 2})
    assert type(error) is InvalidData
    assert error.message.params["fields"] == "alpha, zeta"


def test_role_is_checked_before_the_data(engine: Engine) -> None:
    error = refusal(engine, view("draft"), "submit", OTHER_APPLICANT, data={"bogus": 1})
    assert type(error) is NotAllowed


def test_guard_refusal_lists_every_reason(engine: Engine) -> None:
    case = view("draft", data=MappingProxyType({}), documents=frozenset({"planos"}))
    error = refusal(engine, case, "submit", OWNER, data={"built_area_m2": "2000"})
    assert type(error) is GuardRefused
    missing_fields = {r.params["field"] for r in error.reasons if "field" in r.params}
    missing_docs = {r.params["kind"] for r in error.reasons if "kind" in r.params}
    assert missing_fields == set(FIELDS) - {"built_area_m2"}
    assert missing_docs == set(REQUIRED_DOCUMENTS) - {"planos"}
    others = [str(r) for r in error.reasons if not r.params]
    assert len(others) == 1
    assert "excede" in others[0]
    assert len(error.reasons) == len(missing_fields) + len(missing_docs) + 1
    assert error.message == error.reasons[0]


@pytest.mark.parametrize("blank", [None, "", "   ", [], {}])
def test_blank_values_count_as_missing(engine: Engine, blank: Any) -> None:
    data = {**PAYLOAD["confirm_payment"], "payment_operation": blank}
    error = refusal(engine, view("awaiting_payment"), "confirm_payment", TREASURER, data=data)
    assert type(error) is GuardRefused
    assert [r.params.get("field") for r in error.reasons if r.params] == ["payment_operation"]


def test_missing_documents_are_named(engine: Engine) -> None:
    case = view("draft", documents=frozenset(REQUIRED_DOCUMENTS) - {"carta_dro", "planos"})
    error = refusal(engine, case, "submit", OWNER)
    assert type(error) is GuardRefused
    assert {r.params["kind"] for r in error.reasons} == {"carta_dro", "planos"}


def test_answering_a_prevention_needs_the_documents_again(engine: Engine) -> None:
    case = view("prevention", documents=frozenset())
    error = refusal(engine, case, "answer_prevention", OWNER)
    assert type(error) is GuardRefused
    assert len(error.reasons) == len(REQUIRED_DOCUMENTS)


@pytest.mark.parametrize("comment", [None, "", "   \n"])
def test_comment_required(engine: Engine, comment: str | None) -> None:
    for state, trigger, actor in [
        ("land_use_review", "deny", REVIEWER_A),
        ("licence_review", "deny", REVIEWER_A),
        ("extension_requested", "refuse_extension", REVIEWER_A),
        ("inspection", "record_observations", INSPECTOR),
        ("licensed", "revoke", REVIEWER_A),
    ]:
        error = refusal(engine, view(state), trigger, actor, comment=comment)
        assert type(error) is GuardRefused, trigger
        assert ["comentario" in str(r) for r in error.reasons] == [True], trigger
        assert engine.decide(view(state), trigger, actor, today=TODAY, comment="Fundado").to_state != state


def test_second_prevention_lists_all_three_reasons(engine: Engine) -> None:
    case = view("intake_review", history=(HistoryItem("issue_prevention", CLERK.id),))
    error = refusal(engine, case, "issue_prevention", CLERK, comment="  ")
    assert type(error) is GuardRefused
    texts = [str(r) for r in error.reasons]
    assert len(texts) == 3
    assert any(r.params.get("field") == "prevention_items" for r in error.reasons)
    assert not any("prevention_items" in t for t in texts)  # people read the field's label
    assert any("comentario" in t for t in texts)
    assert any("única prevención" in t for t in texts)


def test_extension_limit(engine: Engine) -> None:
    once = (HistoryItem("request_extension", OWNER.id),)
    assert engine.decide(view("licensed", history=once), "request_extension", OWNER, today=TODAY)
    twice = once * 2
    error = refusal(engine, view("licensed", history=twice), "request_extension", OWNER)
    assert type(error) is GuardRefused
    assert "máximo de prórrogas" in str(error)
    # the limit comes from the parameters the caller passes
    params = {**WF.params, "max_extensions": 0}
    error = refusal(engine, view("licensed"), "request_extension", OWNER, params=params)
    assert type(error) is GuardRefused


def test_four_eyes_land_use_ruler_cannot_approve_the_licence(engine: Engine) -> None:
    history = (
        HistoryItem("rule_land_use", REVIEWER_A.id),
        HistoryItem("assess_fees", REVIEWER_B.id),
        HistoryItem("confirm_payment", TREASURER.id),
    )
    case = view("licence_review", history=history)
    for actor, step in ((REVIEWER_A, "rule_land_use"), (REVIEWER_B, "assess_fees")):
        error = refusal(engine, case, "approve_licence", actor, data=PAYLOAD["approve_licence"])
        assert type(error) is GuardRefused
        assert "cuatro ojos" in str(error)
        assert error.reasons[0].params == {"step": step, "trigger": "approve_licence"}
    outcome = engine.decide(case, "approve_licence", REVIEWER_C, today=TODAY, data=PAYLOAD["approve_licence"])
    assert outcome.to_state == "licensed"
    # denying is deciding too (it denies a right): whoever ruled may not deny at the licence stage either
    denial = refusal(engine, case, "deny", REVIEWER_A, comment="Datos falsos")
    assert type(denial) is GuardRefused
    assert "cuatro ojos" in str(denial)
    assert engine.decide(case, "deny", REVIEWER_C, today=TODAY, comment="Datos falsos").to_state == "denied"


def test_four_eyes_inspector_cannot_authorize_occupancy(engine: Engine) -> None:
    case = view("occupancy_review", history=(HistoryItem("pass_inspection", INSPECTOR_REVIEWER.id),))
    error = refusal(engine, case, "authorize_occupancy", INSPECTOR_REVIEWER)
    assert type(error) is GuardRefused
    assert "cuatro ojos" in str(error)
    assert engine.decide(case, "authorize_occupancy", REVIEWER_A, today=TODAY).to_state == "occupancy_authorized"


def test_four_eyes_and_requirements_are_reported_together(engine: Engine) -> None:
    case = view("licence_review", history=(HistoryItem("rule_land_use", REVIEWER_A.id),), documents=frozenset())
    # approve_licence has no required data: only four-eyes refuses
    error = refusal(engine, case, "approve_licence", REVIEWER_A)
    assert [r.params.get("step") for r in error.reasons] == ["rule_land_use"]


def test_ineligible_request_cannot_be_submitted(engine: Engine) -> None:
    for change in (
        {"built_area_m2": "1500.01"},
        {"works_started": True},
        {"new_construction": False},
        {"lot_vacant": False},
        {"building_type": "hospital"},
        {"land_use": "bar"},
    ):
        error = refusal(engine, view("draft"), "submit", OWNER, data=change)
        assert type(error) is GuardRefused, change
        assert "ordinaria" in str(error), change
    assert engine.decide(view("draft"), "submit", OWNER, today=TODAY, data={"built_area_m2": "1500"})


def test_departments_restrict_staff_holding_a_role_only_in_some_departments(engine: Engine) -> None:
    params = {**WF.params, "departments": {**WF.params["departments"], "land_use": "desarrollo_urbano"}}
    urban = Actor(20, frozenset({"reviewer"}), frozenset({("reviewer", "desarrollo_urbano")}))
    finance = Actor(21, frozenset({"reviewer"}), frozenset({("reviewer", "finanzas")}))
    anywhere = Actor(22, frozenset({"reviewer"}))
    case = view("land_use_review")
    payload = PAYLOAD["rule_land_use"]
    for actor in (urban, anywhere):
        outcome = engine.decide(case, "rule_land_use", actor, today=TODAY, data=payload, params=params)
        assert outcome.role == "reviewer"
    error = refusal(engine, case, "rule_land_use", finance, data=payload, params=params)
    assert type(error) is NotAllowed
    assert error.message.params["department"] == "desarrollo_urbano"
    assert engine.available(case, finance, today=TODAY, params=params) == []
    # an office the jurisdiction did not map restricts nobody
    assert engine.decide(case, "rule_land_use", finance, today=TODAY, data=payload).to_state == "fee_assessment"
    fees = view("fee_assessment")
    assert engine.decide(fees, "assess_fees", finance, today=TODAY, data=PAYLOAD["assess_fees"], params=params)


def test_required_documents_follow_the_jurisdiction_requirements(engine: Engine) -> None:
    params = {
        **WF.params,
        "requirements": [{"kind": "identificacion", "label": "INE"}, {"kind": "predial", "label": "P"}],
    }
    case = view("draft", documents=frozenset({"identificacion"}))
    error = refusal(engine, case, "submit", OWNER, params=params)
    assert type(error) is GuardRefused
    assert [r.params.get("kind") for r in error.reasons] == ["predial"]
    with_predial = view("draft", documents=frozenset({"identificacion", "predial"}))
    assert engine.decide(with_predial, "submit", OWNER, today=TODAY, params=params).to_state == "submitted"


# -- available ---------------------------------------------------------------------------------


def by_trigger(items: list[Any]) -> dict[str, Any]:
    return {a.trigger: a for a in items}


def test_available_for_the_owner_of_an_incomplete_draft(engine: Engine) -> None:
    case = view("draft", documents=frozenset({"planos"}))
    items = by_trigger(engine.available(case, OWNER, today=TODAY))
    assert set(items) == {"edit", "submit", "withdraw"}
    assert items["edit"].enabled
    assert items["withdraw"].enabled
    submit = items["submit"]
    assert not submit.enabled
    assert {r.params["kind"] for r in submit.reasons} == set(REQUIRED_DOCUMENTS) - {"planos"}
    assert submit.dest == "submitted"
    assert submit.fields == FIELDS
    assert submit.description == WF.find("submit", "draft")[0].description


def test_available_shows_guard_reasons(engine: Engine) -> None:
    case = view("draft", data=MappingProxyType({**FULL_DATA, "building_type": "escuela"}))
    submit = by_trigger(engine.available(case, OWNER, today=TODAY))["submit"]
    assert not submit.enabled
    assert len(submit.reasons) == 1
    assert "excluido" in str(submit.reasons[0])


def test_available_lists_nothing_to_people_who_cannot_act(engine: Engine) -> None:
    assert engine.available(view("draft"), OTHER_APPLICANT, today=TODAY) == []
    assert engine.available(view("draft"), CLERK, today=TODAY) == []
    assert engine.available(view("submitted"), REVIEWER_A, today=TODAY) == []
    assert engine.available(view("closed"), REVIEWER_A, today=TODAY) == []
    staff_owner = Actor(OWNER.id, frozenset({"applicant", "intake_clerk"}))
    assert [a.trigger for a in engine.available(view("submitted"), staff_owner, today=TODAY)] == ["withdraw"]


def test_available_excludes_system_only_transitions(engine: Engine) -> None:
    assert engine.available(view("prevention"), SYSTEM, today=TODAY) == []
    triggers = {a.trigger for a in engine.available(view("prevention"), OWNER, today=TODAY)}
    assert triggers == {"edit", "answer_prevention", "withdraw"}
    reviewer = {a.trigger for a in engine.available(view("extension_requested"), REVIEWER_A, today=TODAY)}
    assert reviewer == {"grant_extension", "refuse_extension", "revoke"}


def test_available_treats_form_fields_and_comments_as_supplied_by_the_form(engine: Engine) -> None:
    items = by_trigger(engine.available(view("intake_review"), CLERK, today=TODAY))
    assert set(items) == {"issue_prevention", "accept_intake"}
    assert items["issue_prevention"].enabled
    assert items["issue_prevention"].comment_required
    assert items["issue_prevention"].fields == ("prevention_items",)
    assert not items["accept_intake"].comment_required
    used = view("intake_review", history=(HistoryItem("issue_prevention", CLERK.id),))
    prevention = by_trigger(engine.available(used, CLERK, today=TODAY))["issue_prevention"]
    assert not prevention.enabled
    assert "única prevención" in str(prevention.reasons[0])


def test_available_applies_four_eyes(engine: Engine) -> None:
    case = view("licence_review", history=(HistoryItem("rule_land_use", REVIEWER_A.id),))
    mine = by_trigger(engine.available(case, REVIEWER_A, today=TODAY))
    assert not mine["approve_licence"].enabled
    assert "cuatro ojos" in str(mine["approve_licence"].reasons[0])
    assert not mine["deny"].enabled  # denying is a decision too
    theirs = by_trigger(engine.available(case, REVIEWER_B, today=TODAY))
    assert theirs["approve_licence"].enabled
    assert theirs["approve_licence"].reasons == ()


def test_available_for_the_inspection_draw(engine: Engine) -> None:
    drawn = view("completion_filed", data=MappingProxyType({**FULL_DATA, "inspection_drawn": True}))
    items = by_trigger(engine.available(drawn, INSPECTOR, today=TODAY))
    assert items["send_to_inspection"].enabled
    assert not items["skip_inspection"].enabled
    assert "revoke" not in items  # inspectors cannot revoke
    undrawn = by_trigger(engine.available(view("completion_filed"), INSPECTOR, today=TODAY))
    assert not undrawn["send_to_inspection"].enabled
    assert not undrawn["skip_inspection"].enabled


def test_available_agrees_with_decide(engine: Engine) -> None:
    actors = (OWNER, OTHER_APPLICANT, CLERK, REVIEWER_A, INSPECTOR, INSPECTOR_REVIEWER)
    for state in WF.states:
        case = view(state.name)
        for actor in actors:
            for item in engine.available(case, actor, today=TODAY):
                comment = "Fundado" if item.comment_required else None
                data = PAYLOAD.get(item.trigger)
                if item.enabled:
                    outcome = engine.decide(case, item.trigger, actor, today=TODAY, data=data, comment=comment)
                    assert outcome.to_state == item.dest
                else:
                    with pytest.raises(GuardRefused):
                        engine.decide(case, item.trigger, actor, today=TODAY, data=data, comment=comment)


# -- property: the engine only ever follows declared transitions --------------------------------

ACTORS = (
    OWNER,
    OTHER_APPLICANT,
    CLERK,
    REVIEWER_A,
    REVIEWER_B,
    INSPECTOR,
    INSPECTOR_REVIEWER,
    TREASURER,
    SYSTEM,
    NOBODY,
)
ALL_TRIGGERS = [*sorted(WF.triggers), "to_closed", "bogus"]
ENGINE = Engine(DEFINITIONS, ROLES)
TERMINAL = frozenset(s.name for s in WF.states if s.terminal)


def plausible_step(state: str, index: int) -> tuple[str, Actor]:
    """A trigger legal from ``state`` fired by someone holding a role for it; ending the case is rarer."""
    exits = WF.transitions_from(state)
    onward = [t for t in exits if t.dest not in TERMINAL]
    pool = onward if onward and index % 6 else list(exits)
    t = pool[(index // 6) % len(pool)]
    able = [a for a in ACTORS if (a.roles & t.roles) and (not t.owner_only or a.id == OWNER.id)]
    return t.trigger, able[(index // 101) % len(able)]


STEP = st.one_of(
    st.tuples(st.just("plausible"), st.integers(0, 10_000)),
    st.tuples(st.just("plausible"), st.integers(0, 10_000)),
    st.tuples(st.just("plausible"), st.integers(0, 10_000)),
    st.tuples(
        st.just("random"),
        st.sampled_from(ALL_TRIGGERS),
        st.sampled_from(ACTORS),
        st.booleans(),  # send the payload the trigger needs
        st.sampled_from([None, "", "Fundamento y motivo"]),
        st.booleans(),  # send a stale version
    ),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(drawn=st.sampled_from([None, True, False]), steps=st.lists(STEP, min_size=10, max_size=80))
def test_random_sequences_only_follow_declared_transitions(drawn: bool | None, steps: list[Any]) -> None:
    data = dict(FULL_DATA)
    if drawn is not None:
        data["inspection_drawn"] = drawn
    case = view("draft", data=MappingProxyType(data))
    states = {s.name for s in WF.states}
    for step in steps:
        if step[0] == "plausible":
            if WF.state(case.state).terminal:
                continue
            trigger, actor = plausible_step(case.state, step[1])
            with_payload, comment, stale = True, "Fundamento y motivo", False
        else:
            _, trigger, actor, with_payload, comment, stale = step
        expected = case.version - 1 if stale else case.version
        outcome: Outcome | DomainError
        try:
            outcome = ENGINE.decide(
                case,
                trigger,
                actor,
                today=TODAY,
                expected_version=expected,
                data=PAYLOAD.get(trigger) if with_payload else None,
                comment=comment,
            )
        except DomainError as error:
            outcome = error
        if isinstance(outcome, DomainError):
            if stale:
                assert isinstance(outcome, ConflictError)
            elif trigger not in WF.triggers:
                assert isinstance(outcome, UnknownTrigger)
            elif not WF.find(trigger, case.state):
                assert isinstance(outcome, IllegalTrigger)
            continue
        assert not stale
        declared = WF.find(trigger, case.state)
        assert outcome.transition in declared
        assert outcome.from_state == case.state
        assert outcome.to_state == outcome.transition.dest
        assert outcome.to_state in states
        assert not WF.state(case.state).terminal
        if actor.is_system:
            assert SYSTEM_ROLE in outcome.transition.roles
        else:
            assert outcome.role in actor.roles
            assert outcome.role in outcome.transition.roles
        if outcome.transition.owner_only:
            assert actor.id == case.applicant_id
        case = dataclasses.replace(
            case,
            state=outcome.to_state,
            version=case.version + 1,
            data=MappingProxyType(outcome.data),
            history=(*case.history, HistoryItem(trigger, actor.id)),
        )
    assert ENGINE.machine("vecs", 1).models == []
