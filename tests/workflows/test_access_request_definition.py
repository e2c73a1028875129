"""The access-to-information workflow as data: structure, every guard both ways, the clocks, and the rules the
engine enforces with it (roles, the incompetence/inexistence exclusion, the single extension).

Pure tests: no Flask application and no database.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest

from app.engine import GuardRefused, IllegalTrigger, InvalidData, NotAllowed
from app.engine.core import Actor, CaseView, Engine
from app.models import Role
from workflows import DEFINITIONS, latest
from workflows import access_request as ar
from workflows.base import SYSTEM_ROLE, Clock, GuardInput, HistoryItem, InvalidSetting, validate

WF = ar.ACCESS_V4
ENGINE = Engine(DEFINITIONS, (r.value for r in Role))
TODAY = date(2026, 3, 2)
REQUESTER_ID = 10
UNIT = Actor(20, frozenset({"transparency_unit"}))
AREA = Actor(30, frozenset({"area"}))
COMMITTEE = Actor(40, frozenset({"committee_member"}))
GUARANTOR = Actor(50, frozenset({"guarantor"}))
REQUESTER = Actor(REQUESTER_ID, frozenset({"applicant"}))
STRANGER = Actor(11, frozenset({"applicant"}))
PARAMS = dict(WF.params)

BASE: dict[str, Any] = {"information_requested": "Contratos de obra 2025", "delivery_format": "electronic"}
ITEM = {"committee_item": 7, "committee_vote": {"present": 2, "favor": 2, "against": 0, "abstain": 0}}
RESERVED = {"kind": "reserved", "legal_basis": "Art. 113 fr. I", "harm_test": "Riesgo real", "reservation_years": 3}


def gi(data: dict[str, Any] | None = None, *, history: tuple[str, ...] = (), documents: frozenset[str] = frozenset()):
    return GuardInput(
        data=MappingProxyType({**BASE, **(data or {})}),
        documents=documents,
        history=tuple(HistoryItem(t, 1) for t in history),
        actor_id=1,
        actor_roles=frozenset({"transparency_unit"}),
        today=TODAY,
        params=MappingProxyType(PARAMS),
    )


def view(state: str, data: dict[str, Any] | None = None, *, history: tuple[str, ...] = (), documents=frozenset()):
    return CaseView(
        workflow=WF.name,
        workflow_version=WF.version,
        state=state,
        version=1,
        applicant_id=REQUESTER_ID,
        data={**BASE, **(data or {})},
        documents=frozenset(documents),
        history=tuple(HistoryItem(t, 1) for t in history),
    )


def decide(state: str, trigger: str, actor: Actor, data: dict[str, Any] | None = None, **kw: Any):
    stored = kw.pop("stored", None)
    return ENGINE.decide(
        view(state, stored, history=kw.pop("history", ()), documents=kw.pop("documents", frozenset())),
        trigger,
        actor,
        today=TODAY,
        data=data,
        params=PARAMS,
        **kw,
    )


# -- structure ------------------------------------------------------------------------------------


def test_definition_is_registered_valid_and_latest():
    assert validate(WF) == []
    assert latest("access_request") is WF
    assert WF.folio_prefix == "SAI"
    assert ar.ACCESS_V1 in DEFINITIONS  # requests filed under the first version finish on it
    assert ar.ACCESS_V2 in DEFINITIONS  # and those filed under the second on the second
    assert ar.ACCESS_V3 in DEFINITIONS  # and so on


def test_the_appellant_has_a_view_of_each_compliance_report_before_the_guarantor_rules():
    """LGTAIP 2015 art. 197: the guarantor gives the appellant a view of the body's compliance report, who within
    five days says what suits their right; art. 198: the guarantor then rules on every cause given. Version 3 had
    the guarantor rule at once."""
    review = WF.state("compliance_review")
    assert review.deadline is not None
    assert (review.deadline.days_param, review.deadline.on_expiry) == (
        "compliance_view_days",
        ar.COMPLIANCE_VIEW_LAPSED,
    )
    assert PARAMS["compliance_view_days"] == 5
    (remarks,) = WF.find(ar.COMPLIANCE_REMARKS, "compliance_review")
    assert (remarks.dest, remarks.roles, remarks.owner_only) == ("compliance_review", {"applicant"}, True)
    assert remarks.required_fields == ("compliance_remarks",)
    (lapse,) = WF.find(ar.COMPLIANCE_VIEW_LAPSED, "compliance_review")
    assert (lapse.dest, lapse.roles) == ("compliance_review", {SYSTEM_ROLE})
    for ruling in ("accept_compliance", "reject_compliance"):
        (step,) = WF.find(ruling, "compliance_review")
        assert "compliance_view_over" in step.guards
        (before,) = ar.ACCESS_V3.find(ruling, "compliance_review")
        assert "compliance_view_over" not in before.guards
    assert ar.ACCESS_V3.state("compliance_review").deadline is None
    assert ar.COMPLIANCE_REMARKS not in ar.ACCESS_V3.triggers
    parse = WF.param_parsers["compliance_view_days"]
    assert parse(5) == 5
    for bad in (0, 16, "5", True, None):
        with pytest.raises(InvalidSetting):
            parse(bad)


def test_each_compliance_report_opens_a_view_of_its_own():
    """A report made again after the guarantor required compliance (art. 198) opens a new view: the remarks and the
    lapse of the first one no longer count."""
    first = ("resolve_appeal", "report_compliance", ar.COMPLIANCE_REMARKS, "reject_compliance")
    assert ar.compliance_view_after_report([HistoryItem(t, 1) for t in first]) == {ar.COMPLIANCE_REMARKS}
    again = [HistoryItem(t, 1) for t in (*first, "report_compliance")]
    assert ar.compliance_view_after_report(again) == frozenset()
    assert ar.compliance_remarks_open(gi(history=(*first, "report_compliance"))) is None
    assert ar.compliance_view_over(gi(history=(*first, "report_compliance"))) is not None
    lapsed = (*first, "report_compliance", ar.COMPLIANCE_VIEW_LAPSED)
    assert ar.compliance_view_over(gi(history=lapsed)) is None
    assert "venció" in str(ar.compliance_remarks_open(gi(history=lapsed)))


def test_the_appeal_is_admitted_before_its_term_to_resolve_runs():
    """LGTAIP 2015 art. 146: the guarantor resolves within forty days "contados a partir de la admisión"; art. 155:
    an improper appeal is dismissed. The first version started the term at the filing."""
    for source in ("answered", "incompetent", *ar.WORKING):
        assert {t.dest for t in WF.transitions_from(source) if t.trigger == "appeal"} == {"appeal_filed"}
        assert {t.dest for t in ar.ACCESS_V1.transitions_from(source) if t.trigger == "appeal"} == {"appealed"}
    (admit,) = WF.find("admit_appeal", "appeal_filed")
    (dismiss,) = WF.find("dismiss_appeal", "appeal_filed")
    assert (admit.dest, admit.roles) == ("appeal_pleadings", frozenset({"guarantor"}))
    assert (dismiss.dest, dismiss.required_fields) == ("concluded", ("appeal_dismissal",))
    resolution = next(c for c in WF.clocks if c.name == "resolution")
    assert resolution.status_in("appeal_filed") != "running"
    assert resolution.status_in("appealed") == "running"
    assert resolution.status_in("appeal_pleadings") == "running"
    assert {t.trigger for t in WF.transitions_from("appeal_filed")} == {
        "admit_appeal",
        "dismiss_appeal",
        "prevent_appeal",
    }


def _reachable() -> set[str]:
    seen = {WF.initial}
    queue = deque([WF.initial])
    while queue:
        state = queue.popleft()
        for t in WF.transitions_from(state):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


def test_every_state_is_reachable_and_can_end():
    assert _reachable() == {s.name for s in WF.states}
    terminal = {s.name for s in WF.states if s.terminal}
    assert terminal == {"not_filed", "concluded"}
    for state in WF.states:
        # from every state some path leads to a terminal state
        seen, queue = {state.name}, deque([state.name])
        while queue:
            for t in WF.transitions_from(queue.popleft()):
                if t.dest not in seen:
                    seen.add(t.dest)
                    queue.append(t.dest)
        assert seen & terminal, state.name


def test_terminal_states_have_no_exits():
    for state in WF.states:
        if state.terminal:
            assert WF.transitions_from(state.name) == ()


def test_the_roles_named_are_the_product_roles():
    roles = {r for t in WF.transitions for r in t.roles}
    assert roles == {"transparency_unit", "area", "committee_member", "guarantor", "applicant", "treasury", SYSTEM_ROLE}


def test_every_term_is_a_parameter_with_the_statutory_default():
    assert PARAMS["response_days"] == 20
    assert PARAMS["extension_days"] == 10
    assert PARAMS["prevention_issue_days"] == 5
    assert PARAMS["prevention_answer_days"] == 10
    assert PARAMS["incompetence_days"] == 3
    assert PARAMS["appeal_days"] == 15
    assert PARAMS["resolution_days"] == 40
    assert PARAMS["resolution_extension_days"] == 20
    assert PARAMS["pleadings_days"] == 7
    assert WF.state("prevention").deadline is not None
    assert WF.state("prevention").deadline.on_expiry == "prevention_lapsed"
    assert WF.find("prevention_lapsed", "prevention")[0].dest == "not_filed"


# -- clocks ---------------------------------------------------------------------------------------


def test_response_clock_runs_while_the_body_owes_the_answer_and_is_interrupted_by_the_prevention():
    clock = next(c for c in WF.clocks if c.name == "response")
    for state in ar.WORKING:
        assert clock.status_in(state) == "running"
    assert clock.status_in("prevention") == "paused"
    for state in ("answered", "incompetent", "appealed", "not_filed", "concluded"):
        assert clock.status_in(state) == "stopped"
    assert clock.extension_trigger == "approve_extension"
    assert clock.extension_days_param == "extension_days"
    # its lapse only records the day: the case stays where it is
    for state in ar.WORKING:
        (lapse,) = WF.find("response_lapsed", state)
        assert lapse.dest == state
        assert lapse.roles == {SYSTEM_ROLE}
        assert lapse.fields == ("response_overdue_on",)


def test_incompetence_term_is_interrupted_by_the_prevention_but_the_prevention_term_is_not():
    clocks = {c.name: c for c in WF.clocks}
    assert clocks["incompetence_window"].status_in("prevention") == "paused"
    assert clocks["prevention_window"].status_in("prevention") == "stopped"
    assert clocks["silence_appeal"].started_by == ("response_lapsed",)


def _with_clock(clock: Clock) -> list[str]:
    try:
        dataclasses.replace(WF, clocks=(clock,))
    except ValueError as exc:
        return str(exc).split("; ")
    return []


def test_validator_rejects_inconsistent_clocks():
    good = next(c for c in WF.clocks if c.name == "response")
    assert _with_clock(good) == []
    assert any("unknown state" in p for p in _with_clock(dataclasses.replace(good, running=("nowhere",))))
    assert any("terminal" in p for p in _with_clock(dataclasses.replace(good, running=("concluded",))))
    assert any("parameter" in p for p in _with_clock(dataclasses.replace(good, days_param="missing")))
    assert any("system transition" in p for p in _with_clock(dataclasses.replace(good, on_lapse="deliver")))
    assert any("does not record" in p for p in _with_clock(dataclasses.replace(good, lapse_field="other")))
    assert any("both" in p for p in _with_clock(dataclasses.replace(good, extension_days_param=None)))
    assert any("unknown trigger" in p for p in _with_clock(dataclasses.replace(good, started_by=("nope",))))
    assert any("both run and pause" in p for p in _with_clock(dataclasses.replace(good, paused=("received",))))


# -- every guard both ways ------------------------------------------------------------------------

Case = tuple[Callable[[GuardInput], str | None], GuardInput, GuardInput]

GUARD_CASES: dict[str, Case] = {
    "delivery_format_offered": (
        ar.delivery_format_offered,
        gi(),
        gi({"delivery_format": "fax"}),
    ),
    "prevention_in_term": (ar.prevention_in_term, gi(), gi({"prevention_window_closed_on": "2026-03-09"})),
    "prevention_only_once": (ar.prevention_in_term, gi(), gi(history=("prevent", "answer_prevention"))),
    "public_source_in_term": (
        ar.public_source_in_term,
        gi({"public_source": "https://municipio.example/presupuesto"}),
        gi({"public_source": "https://municipio.example/presupuesto", "public_source_window_closed_on": "2026-03-09"}),
    ),
    "public_source_named": (
        ar.public_source_given,
        gi({"public_source": "En el portal"}),
        gi({"public_source": " "}),
    ),
    "quorum_present": (
        ar.quorum_and_majority,
        gi({"committee_vote": {"present": 2, "favor": 1, "against": 0, "abstain": 1}}),
        gi({"committee_vote": {"present": 1, "favor": 1, "against": 0, "abstain": 0}}),
    ),
    "majority_of_votes": (
        ar.quorum_and_majority,
        gi({"committee_vote": {"present": 3, "favor": 2, "against": 1, "abstain": 0}}),
        gi({"committee_vote": {"present": 2, "favor": 1, "against": 1, "abstain": 0}}),
    ),
    "every_present_member_votes": (
        ar.quorum_and_majority,
        gi({"committee_vote": {"present": 3, "favor": 3, "against": 0, "abstain": 0}}),
        gi({"committee_vote": {"present": 3, "favor": 2, "against": 0, "abstain": 0}}),
    ),
    "votes_recorded": (ar.quorum_and_majority, gi({"committee_vote": {"present": 2, "favor": 2}}), gi()),
    "incompetence_in_term": (ar.incompetence_in_term, gi(), gi({"incompetence_window_closed_on": "2026-03-05"})),
    "no_inexistence": (
        ar.no_inexistence,
        gi({"answers": {"obras": {"kind": "available"}}}),
        gi({"answers": {"obras": {"kind": "inexistent"}}}),
    ),
    "areas_named": (ar.areas_named, gi({"turned_to": ["obras"]}), gi({"turned_to": []})),
    "areas_named_once": (ar.areas_named, gi({"turned_to": ["obras", "tesoreria"]}), gi({"turned_to": ["a", "a"]})),
    "answers_valid": (
        ar.answers_valid,
        gi({"turned_to": ["obras"], "answers": {"obras": RESERVED}}),
        gi({"turned_to": ["obras"], "answers": {"tesoreria": {"kind": "available"}}}),
    ),
    "answers_classified_need_basis": (
        ar.answers_valid,
        gi({"turned_to": ["obras"], "answers": {"obras": {"kind": "confidential", "legal_basis": "Art. 116"}}}),
        gi({"turned_to": ["obras"], "answers": {"obras": {"kind": "confidential", "legal_basis": " "}}}),
    ),
    "answers_reserved_need_harm_test": (
        ar.answers_valid,
        gi({"turned_to": ["obras"], "answers": {"obras": RESERVED}}),
        gi({"turned_to": ["obras"], "answers": {"obras": {**RESERVED, "harm_test": ""}}}),
    ),
    "answers_reservation_period": (
        ar.answers_valid,
        gi({"turned_to": ["obras"], "answers": {"obras": {**RESERVED, "reservation_years": 5}}}),
        gi({"turned_to": ["obras"], "answers": {"obras": {**RESERVED, "reservation_years": 6}}}),
    ),
    "answers_kind_known": (
        ar.answers_valid,
        gi({"turned_to": ["obras"], "answers": {"obras": {"kind": "inexistent"}}}),
        gi({"turned_to": ["obras"], "answers": {"obras": {"kind": "maybe"}}}),
    ),
    "answers_inexistence_excludes_incompetence": (
        ar.answers_valid,
        gi({"turned_to": ["obras"], "answers": {"obras": {"kind": "inexistent"}}}),
        gi({"turned_to": ["obras"], "competent_body": "SEP", "answers": {"obras": {"kind": "inexistent"}}}),
    ),
    "all_areas_answered": (
        ar.all_areas_answered,
        gi({"turned_to": ["obras"], "answers": {"obras": {"kind": "available"}}}),
        gi({"turned_to": ["obras", "tesoreria"], "answers": {"obras": {"kind": "available"}}}),
    ),
    "committee_needed": (
        ar.committee_needed,
        gi({"answers": {"obras": {"kind": "inexistent"}}}),
        gi({"answers": {"obras": {"kind": "available"}}}),
    ),
    "committee_needed_once": (
        ar.committee_needed,
        gi({"answers": {"obras": RESERVED}}),
        gi({"answers": {"obras": RESERVED}, "committee_decision": "confirm"}),
    ),
    "committee_decision_valid": (
        ar.committee_decision_valid,
        gi({"committee_decision": "modify", "committee_resolution": "Se modifica"}),
        gi({"committee_decision": "approve", "committee_resolution": "Se aprueba"}),
    ),
    "committee_resolution_text": (
        ar.committee_decision_valid,
        gi({"committee_decision": "confirm", "committee_resolution": "Se confirma"}),
        gi({"committee_decision": "confirm", "committee_resolution": ""}),
    ),
    "ready_to_deliver_committee": (
        ar.ready_to_deliver,
        gi({"answers": {"obras": {"kind": "inexistent"}}, "committee_decision": "confirm"}),
        gi({"answers": {"obras": {"kind": "inexistent"}}}),
    ),
    "ready_to_deliver_public_version": (
        ar.ready_to_deliver,
        gi(
            {"answers": {"obras": {**RESERVED, "partial": True}}, "committee_decision": "confirm"},
            documents=frozenset({ar.PUBLIC_VERSION}),
        ),
        gi({"answers": {"obras": {**RESERVED, "partial": True}}, "committee_decision": "confirm"}),
    ),
    "cost_as_published": (
        ar.cost_as_published,
        gi({"delivery_format": "certified_copies", "reproduction_cost": "0.00"}),
        gi({"delivery_format": "certified_copies", "reproduction_cost": "120.00"}),
    ),
    "cost_free_when_late": (
        ar.cost_as_published,
        gi({"delivery_format": "certified_copies", "reproduction_cost": "0.00", "response_overdue_on": "2026-04-01"}),
        gi({"delivery_format": "certified_copies", "reproduction_cost": "120.00", "response_overdue_on": "2026-04-01"}),
    ),
    "delivery_chosen": (
        ar.delivery_chosen,
        gi({ar.DELIVERED: [3, 7]}),
        gi({ar.DELIVERED: "3,7"}),
    ),
    "delivery_chosen_ids": (ar.delivery_chosen, gi({ar.DELIVERED: []}), gi({ar.DELIVERED: [3, "original"]})),
    "delivery_chosen_once": (ar.delivery_chosen, gi(), gi({ar.DELIVERED: [3, 3]})),
    "payment_order_due": (
        ar.payment_order_due,
        gi({"reproduction_cost": "50.00"}),
        gi({"reproduction_cost": "0.00"}),
    ),
    "payment_order_once": (
        ar.payment_order_due,
        gi({"reproduction_cost": "50.00"}),
        gi({"reproduction_cost": "50"}, history=("issue_payment_order",)),
    ),
    "payment_matches_cost": (
        ar.payment_matches_cost,
        gi({"reproduction_cost": "50.00", "payment_amount": "50.00"}),
        gi({"reproduction_cost": "50.00", "payment_amount": "49.00"}),
    ),
    "payment_confirmed_once": (
        ar.payment_matches_cost,
        gi({"reproduction_cost": "50.00", "payment_amount": "50"}),
        gi({"reproduction_cost": "50.00", "payment_amount": "50"}, history=("confirm_payment",)),
    ),
    "extension_requestable": (ar.extension_requestable, gi(), gi(history=("request_extension",))),
    "extension_requestable_before_deadline": (
        ar.extension_requestable,
        gi(),
        gi({"response_overdue_on": "2026-04-01"}),
    ),
    "extension_pending": (ar.extension_pending, gi(history=("request_extension",)), gi()),
    "extension_decided_once": (
        ar.extension_pending,
        gi(history=("request_extension",)),
        gi(history=("request_extension", "approve_extension")),
    ),
    "extension_decided_before_deadline": (
        ar.extension_pending,
        gi(history=("request_extension",)),
        gi({"response_overdue_on": "2026-04-01"}, history=("request_extension",)),
    ),
    "grounds_valid": (ar.grounds_valid, gi({"appeal_grounds": ["classification"]}), gi({"appeal_grounds": ["whim"]})),
    "appeal_on_silence": (
        ar.appeal_on_silence,
        gi({"response_overdue_on": "2026-04-01"}),
        gi(),
    ),
    "appeal_on_silence_in_term": (
        ar.appeal_on_silence,
        gi({"response_overdue_on": "2026-04-01"}),
        gi({"response_overdue_on": "2026-04-01", "appeal_window_closed_on": "2026-04-22"}),
    ),
    "appeal_closes": (
        ar.appeal_closes,
        gi({"appeal_decision": "dismiss", "appeal_resolution": "Se desecha"}),
        gi({"appeal_decision": "revoke", "appeal_resolution": "Se revoca"}),
    ),
    "appeal_orders": (
        ar.appeal_orders,
        gi({"appeal_decision": "revoke", "appeal_resolution": "Se revoca"}),
        gi({"appeal_decision": "revoke", "appeal_resolution": ""}),
    ),
    "resolution_extendable": (ar.resolution_extendable, gi(), gi(history=("extend_resolution",))),
    "appeal_prevention_available": (ar.appeal_prevention_available, gi(), gi(history=("prevent_appeal",))),
    "unit_pleadings_open": (
        ar.unit_pleadings_open,
        gi(history=("file_requester_pleadings",)),
        gi(history=("file_unit_pleadings",)),
    ),
    "unit_pleadings_open_in_term": (
        ar.unit_pleadings_open,
        gi(),
        gi({"pleadings_closed_on": "2026-03-11"}),
    ),
    "requester_pleadings_open": (
        ar.requester_pleadings_open,
        gi(history=("file_unit_pleadings",)),
        gi(history=("file_requester_pleadings",)),
    ),
    "requester_pleadings_open_in_term": (
        ar.requester_pleadings_open,
        gi(),
        gi({"pleadings_closed_on": "2026-03-11"}),
    ),
    "pleadings_over_lapsed": (ar.pleadings_over, gi({"pleadings_closed_on": "2026-03-11"}), gi()),
    "pleadings_over_both_pleaded": (
        ar.pleadings_over,
        gi(history=("file_unit_pleadings", "file_requester_pleadings")),
        gi(history=("file_unit_pleadings",)),
    ),
    "compliance_remarks_open_once": (
        ar.compliance_remarks_open,
        gi(history=("report_compliance",)),
        gi(history=("report_compliance", ar.COMPLIANCE_REMARKS)),
    ),
    "compliance_remarks_open_in_term": (
        ar.compliance_remarks_open,
        gi(history=("report_compliance", "reject_compliance", "report_compliance")),
        gi(history=("report_compliance", ar.COMPLIANCE_VIEW_LAPSED)),
    ),
    "compliance_view_over_remarked": (
        ar.compliance_view_over,
        gi(history=("report_compliance", ar.COMPLIANCE_REMARKS)),
        gi(history=("report_compliance",)),
    ),
    "compliance_view_over_lapsed": (
        ar.compliance_view_over,
        gi(history=("report_compliance", ar.COMPLIANCE_VIEW_LAPSED)),
        gi(history=("report_compliance", ar.COMPLIANCE_VIEW_LAPSED, "reject_compliance", "report_compliance")),
    ),
    "resolution_extendable_before_lapse": (
        ar.resolution_extendable,
        gi(),
        gi({"resolution_overdue_on": "2026-06-01"}),
    ),
    "nothing_to_pay": (
        ar.nothing_to_pay,
        gi({"reproduction_cost": "5.00", "cost_sheet": [], "payment_reference": "REF"}),
        gi({"reproduction_cost": "5.00", "cost_sheet": []}),
    ),
    "payment_awaited": (
        ar.payment_awaited,
        gi({"reproduction_cost": "5.00", "cost_sheet": []}),
        gi({"reproduction_cost": "0.00", "cost_sheet": []}),
    ),
}


def test_every_guard_of_the_workflow_is_covered():
    covered = {case[0].__name__ for case in GUARD_CASES.values()}
    assert covered == set(WF.guards) | {"delivery_format_offered"}
    assert {g for t in WF.transitions for g in t.guards} == set(WF.guards)


@pytest.mark.parametrize("name", sorted(GUARD_CASES))
def test_guard_both_ways(name: str):
    guard, passing, failing = GUARD_CASES[name]
    assert guard(passing) is None
    reason = guard(failing)
    assert isinstance(reason, str)
    assert reason.strip()


def test_fee_table_parser_and_cost():
    assert ar.parse_fees({"usb": {"unit": "medium", "fee": "30"}}) == {"usb": {"unit": "medium", "fee": "30.00"}}
    for bad in ({}, {"usb": "-1"}, {"usb": {"unit": "medium", "fee": "abc"}}, {"": "1"}, ["usb"]):
        with pytest.raises((TypeError, ValueError)):
            ar.parse_fees(bad)
    assert ar.reproduction_cost({"delivery_format": "usb", "media_count": 1}, PARAMS) == "30.00"
    late = {"delivery_format": "usb", "media_count": 1, "response_overdue_on": "2026-01-01"}
    assert ar.reproduction_cost(late, PARAMS) == "0.00"


# -- the engine with this definition --------------------------------------------------------------


def test_happy_path_through_the_engine():
    assert decide("received", "turn", UNIT, {"turned_to": ["obras"]}).to_state == "turned"
    stored = {"turned_to": ["obras"]}
    outcome = decide("turned", "answer_turn", AREA, {"answers": {"obras": {"kind": "available"}}}, stored=stored)
    assert outcome.to_state == "turned"
    stored = outcome.data
    assert decide("turned", "consolidate", UNIT, stored=stored).to_state == "consolidated"
    delivered = decide("consolidated", "deliver", UNIT, {"response_summary": "Se entrega", "reproduction_cost": "0.00"})
    assert delivered.to_state == "answered"


def test_consolidation_waits_for_every_area():
    stored = {"turned_to": ["obras", "tesoreria"], "answers": {"obras": {"kind": "available"}}}
    with pytest.raises(GuardRefused, match="Faltan respuestas"):
        decide("turned", "consolidate", UNIT, stored=stored)


def test_incompetence_and_inexistence_never_together():
    stored = {"turned_to": ["obras"], "answers": {"obras": {"kind": "inexistent"}}}
    with pytest.raises(GuardRefused, match="inexistencia"):
        decide("turned", "declare_incompetent", UNIT, {"competent_body": "SEP"}, stored=stored, comment="No es nuestra")
    # without inexistence, incompetence is possible from the same state
    assert (
        decide(
            "turned",
            "declare_incompetent",
            UNIT,
            {"competent_body": "SEP"},
            stored={"turned_to": ["obras"]},
            comment="x",
        ).to_state
        == "incompetent"
    )


def test_prevention_once_and_only_within_its_term():
    assert decide("received", "prevent", UNIT, comment="Precise el periodo").to_state == "prevention"
    with pytest.raises(GuardRefused, match="una prevención"):
        decide("received", "prevent", UNIT, comment="Otra", history=("prevent", "answer_prevention"))
    with pytest.raises(GuardRefused, match="ya venció"):
        decide("received", "prevent", UNIT, comment="Tarde", stored={"prevention_window_closed_on": "2026-03-09"})


def test_only_the_requester_answers_the_prevention():
    assert decide("prevention", "answer_prevention", REQUESTER, {"clarification": "Año 2025"}).to_state == "received"
    with pytest.raises(NotAllowed):
        decide("prevention", "answer_prevention", STRANGER, {"clarification": "Año 2025"})
    with pytest.raises(NotAllowed):
        decide("prevention", "answer_prevention", UNIT, {"clarification": "Año 2025"})


def test_the_extension_is_single_and_only_before_the_deadline():
    decide("turned", "request_extension", UNIT, comment="Volumen de información")
    with pytest.raises(GuardRefused, match="Asunto del Comité"):  # decided in a session of the committee only
        decide("turned", "approve_extension", COMMITTEE, history=("request_extension",))
    with pytest.raises(GuardRefused):
        decide("turned", "request_extension", UNIT, comment="Otra vez", history=("request_extension",))
    with pytest.raises(GuardRefused, match="no ha solicitado"):
        decide("turned", "approve_extension", COMMITTEE, ITEM)
    assert decide("turned", "approve_extension", COMMITTEE, ITEM, history=("request_extension",)).to_state == "turned"
    with pytest.raises(GuardRefused, match="ya resolvió"):
        decide("turned", "approve_extension", COMMITTEE, ITEM, history=("request_extension", "approve_extension"))
    with pytest.raises(GuardRefused, match="ya resolvió"):
        decide(
            "turned",
            "reject_extension",
            COMMITTEE,
            ITEM,
            comment="No",
            history=("request_extension", "reject_extension"),
        )
    with pytest.raises(GuardRefused, match="ya venció"):
        decide(
            "turned",
            "approve_extension",
            COMMITTEE,
            ITEM,
            history=("request_extension",),
            stored={"response_overdue_on": "2026-03-30"},
        )


def test_wrong_actors_are_refused():
    with pytest.raises(NotAllowed):
        decide("received", "turn", AREA, {"turned_to": ["obras"]})
    with pytest.raises(NotAllowed):
        decide("received", "turn", REQUESTER, {"turned_to": ["obras"]})
    with pytest.raises(NotAllowed):
        decide("in_committee", "committee_resolve", UNIT, {"committee_decision": "confirm"})
    with pytest.raises(NotAllowed):
        decide("appealed", "resolve_appeal", COMMITTEE, {"appeal_decision": "confirm"})
    with pytest.raises(NotAllowed):
        decide("received", "response_lapsed", UNIT, {"response_overdue_on": "2026-03-30"})


def test_system_lapses_record_the_day_and_stay():
    outcome = decide("turned", "response_lapsed", Actor.system(), {"response_overdue_on": "2026-03-30"})
    assert outcome.to_state == "turned"
    assert outcome.data["response_overdue_on"] == "2026-03-30"
    with pytest.raises(InvalidData):
        decide("turned", "response_lapsed", Actor.system(), {"something_else": 1})


def test_appeal_paths():
    grounds = {"appeal_grounds": ["classification"]}
    assert decide("answered", "appeal", REQUESTER, grounds).to_state == "appeal_filed"
    assert decide("incompetent", "appeal", REQUESTER, {"appeal_grounds": ["incompetence"]}).to_state == "appeal_filed"
    with pytest.raises(GuardRefused, match="Aún corre"):
        decide("turned", "appeal", REQUESTER, {"appeal_grounds": ["no_response"]})
    late = {"response_overdue_on": "2026-03-30"}
    assert (
        decide("turned", "appeal", REQUESTER, {"appeal_grounds": ["no_response"]}, stored=late).to_state
        == "appeal_filed"
    )
    assert decide("appeal_filed", "admit_appeal", GUARANTOR).to_state == "appeal_pleadings"
    with pytest.raises(NotAllowed):
        decide("appeal_filed", "admit_appeal", UNIT)
    with pytest.raises(GuardRefused, match="Razones del desechamiento"):
        decide("appeal_filed", "dismiss_appeal", GUARANTOR, {})
    dismissal = {"appeal_dismissal": "Extemporáneo (art. 155, fr. I)"}
    assert decide("appeal_filed", "dismiss_appeal", GUARANTOR, dismissal).to_state == "concluded"
    with pytest.raises(IllegalTrigger):
        decide("appeal_filed", "resolve_appeal", GUARANTOR, {"appeal_decision": "confirm", "appeal_resolution": "x"})
    with pytest.raises(NotAllowed):
        decide("answered", "appeal", STRANGER, grounds)
    with pytest.raises(IllegalTrigger):
        decide("concluded", "appeal", REQUESTER, grounds)
    revoke = {"appeal_decision": "revoke", "appeal_resolution": "Se revoca la clasificación"}
    assert decide("appealed", "resolve_appeal", GUARANTOR, revoke).to_state == "compliance"
    confirm = {"appeal_decision": "confirm", "appeal_resolution": "Se confirma"}
    assert decide("appealed", "resolve_appeal", GUARANTOR, confirm).to_state == "concluded"
    assert decide("compliance", "report_compliance", UNIT, {"compliance_report": "Entregado"}).to_state == (
        "compliance_review"
    )
    # the appellant's view of the report first (art. 197): its remarks, or its term run out
    reported = ("report_compliance",)
    with pytest.raises(GuardRefused, match="Aún corre el plazo del recurrente"):
        decide("compliance_review", "accept_compliance", GUARANTOR, history=reported)
    remarks = {"compliance_remarks": "No se entregaron los anexos"}
    assert decide("compliance_review", ar.COMPLIANCE_REMARKS, REQUESTER, remarks, history=reported).to_state == (
        "compliance_review"
    )
    with pytest.raises(NotAllowed):
        decide("compliance_review", ar.COMPLIANCE_REMARKS, STRANGER, remarks, history=reported)
    remarked = (*reported, ar.COMPLIANCE_REMARKS)
    lapsed = (*reported, ar.COMPLIANCE_VIEW_LAPSED)
    assert decide("compliance_review", "accept_compliance", GUARANTOR, history=remarked).to_state == "concluded"
    assert (
        decide("compliance_review", "reject_compliance", GUARANTOR, comment="Incompleto", history=lapsed).to_state
        == "compliance"
    )


def test_partial_classification_needs_the_public_version_unless_revoked():
    stored = {"answers": {"obras": {**RESERVED, "partial": True}}, "committee_decision": "confirm"}
    data = {"response_summary": "Versión pública", "reproduction_cost": "0.00"}
    with pytest.raises(GuardRefused, match="versión pública"):
        decide("consolidated", "deliver", UNIT, data, stored=stored)
    assert decide("consolidated", "deliver", UNIT, data, stored=stored, documents={ar.PUBLIC_VERSION}).to_state == (
        "answered"
    )
    revoked = {**stored, "committee_decision": "revoke"}
    assert decide("consolidated", "deliver", UNIT, data, stored=revoked).to_state == "answered"


def test_the_guarantor_prevents_the_appellant_once_and_an_unanswered_prevention_dismisses_the_appeal():
    """LGTAIP 2015 art. 145: the guarantor may prevent the appellant "por una sola ocasión", who has up to five
    days to complete the appeal; unanswered, the appeal is dismissed (art. 155, fr. IV)."""
    prevention = {"appeal_prevention_text": "Indique el acto que recurre"}
    assert decide("appeal_filed", "prevent_appeal", GUARANTOR, prevention).to_state == "appeal_prevention"
    with pytest.raises(GuardRefused, match="Prevención del órgano garante"):
        decide("appeal_filed", "prevent_appeal", GUARANTOR, {})
    with pytest.raises(NotAllowed):
        decide("appeal_filed", "prevent_appeal", UNIT, prevention)
    with pytest.raises(GuardRefused, match="una vez"):
        decide("appeal_filed", "prevent_appeal", GUARANTOR, prevention, history=("prevent_appeal",))
    answer = {"appeal_clarification": "Recurro la clasificación de los contratos"}
    assert decide("appeal_prevention", "answer_appeal_prevention", REQUESTER, answer).to_state == "appeal_filed"
    with pytest.raises(NotAllowed):
        decide("appeal_prevention", "answer_appeal_prevention", STRANGER, answer)
    assert decide("appeal_prevention", "appeal_prevention_lapsed", Actor.system()).to_state == "concluded"
    state = WF.state("appeal_prevention")
    assert state.deadline is not None
    assert (state.deadline.days_param, state.deadline.on_expiry) == (
        "appeal_prevention_days",
        "appeal_prevention_lapsed",
    )
    assert PARAMS["appeal_prevention_days"] == 5
    parse = WF.param_parsers["appeal_prevention_days"]
    assert parse(5) == 5
    for wrong in (0, 6, "5", True):
        with pytest.raises(InvalidSetting):
            parse(wrong)
    resolution = next(c for c in WF.clocks if c.name == "resolution")
    assert resolution.status_in("appeal_prevention") != "running"


def test_the_parties_plead_once_in_their_term_and_the_guarantor_resolves_only_after_closing_the_instruction():
    """LGTAIP 2015 art. 150: once admitted, the parties have seven days to say what suits their right, offer evidence
    and plead (fr. II and III); once that term has run the guarantor closes the instruction (fr. VII) and then
    resolves. The term to resolve runs from the admission throughout (art. 146) and may be extended meanwhile."""
    assert decide("appeal_filed", "admit_appeal", GUARANTOR).to_state == "appeal_pleadings"
    unit_pleads = {"unit_pleadings": "La clasificación se fundó en el art. 113, fr. I", "unit_pleadings_documents": [4]}
    outcome = decide("appeal_pleadings", "file_unit_pleadings", UNIT, unit_pleads)
    assert (outcome.to_state, outcome.data["unit_pleadings_documents"]) == ("appeal_pleadings", [4])
    with pytest.raises(GuardRefused, match="Alegatos de la Unidad"):
        decide("appeal_pleadings", "file_unit_pleadings", UNIT, {})
    with pytest.raises(GuardRefused, match="una sola vez"):
        decide("appeal_pleadings", "file_unit_pleadings", UNIT, unit_pleads, history=("file_unit_pleadings",))
    with pytest.raises(NotAllowed):
        decide("appeal_pleadings", "file_unit_pleadings", GUARANTOR, unit_pleads)
    mine = {"requester_pleadings": "La información existe: la vi publicada"}
    assert decide("appeal_pleadings", "file_requester_pleadings", REQUESTER, mine).to_state == "appeal_pleadings"
    with pytest.raises(NotAllowed):
        decide("appeal_pleadings", "file_requester_pleadings", STRANGER, mine)
    lapsed = {"pleadings_closed_on": "2026-03-11"}
    with pytest.raises(GuardRefused, match="ya venció"):
        decide("appeal_pleadings", "file_requester_pleadings", REQUESTER, mine, stored=lapsed)
    closing = {"instruction_closed_on": "2026-03-12"}
    with pytest.raises(GuardRefused, match="Aún corre el plazo"):
        decide("appeal_pleadings", "close_instruction", GUARANTOR, closing, history=("file_unit_pleadings",))
    assert decide("appeal_pleadings", "close_instruction", GUARANTOR, closing, stored=lapsed).to_state == "appealed"
    both = ("file_unit_pleadings", "file_requester_pleadings")
    assert decide("appeal_pleadings", "close_instruction", GUARANTOR, closing, history=both).to_state == "appealed"
    with pytest.raises(NotAllowed):
        decide("appeal_pleadings", "close_instruction", UNIT, closing, stored=lapsed)
    confirm = {"appeal_decision": "confirm", "appeal_resolution": "Se confirma"}
    with pytest.raises(IllegalTrigger):  # resolved only once the instruction is closed
        decide("appeal_pleadings", "resolve_appeal", GUARANTOR, confirm, stored=lapsed, history=both)
    assert decide("appealed", "resolve_appeal", GUARANTOR, confirm).to_state == "concluded"
    extended = decide("appeal_pleadings", "extend_resolution", GUARANTOR, comment="Complejidad del asunto")
    assert extended.to_state == "appeal_pleadings"
    assert decide("appeal_pleadings", "pleadings_lapsed", Actor.system(), lapsed).data["pleadings_closed_on"] == (
        "2026-03-11"
    )
    resolution = next(c for c in WF.clocks if c.name == "resolution")
    pleadings = next(c for c in WF.clocks if c.name == "pleadings")
    assert resolution.running == ("appeal_pleadings", "appealed")
    assert (pleadings.days_param, pleadings.running, pleadings.on_lapse) == (
        "pleadings_days",
        ("appeal_pleadings",),
        "pleadings_lapsed",
    )
    parse = WF.param_parsers["pleadings_days"]
    for accepted in (1, 7, 15):
        assert parse(accepted) == accepted
    for wrong in (0, 16, "7", True, None):
        with pytest.raises(InvalidSetting):
            parse(wrong)
    # version 2 goes from the admission straight to the resolution; its requests finish on it
    (admit,) = ar.ACCESS_V2.find("admit_appeal", "appeal_filed")
    assert admit.dest == "appealed"
    assert "appeal_pleadings" not in {s.name for s in ar.ACCESS_V2.states}
    assert "pleadings_days" not in ar.ACCESS_V2.param_parsers
