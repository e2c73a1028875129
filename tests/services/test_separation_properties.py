"""Segregation of duties under any sequence of actions, on every construction workflow.

Hypothesis plays random sequences of steps on a case — any trigger of the current state (and some that are
not), fired by anyone of a small cast, recusals by whoever is assigned, reassignments by an administrator —
where the applicant is also a public servant of every department involved and two reviewers share a
department. Whatever happens, the log must show that:

- nobody acted as a public servant on a case they filed;
- nobody fired both halves of a four-eyes pair (e.g. ruled land use and approved the licence);
- in a department's stage, every public servant's step was taken by the case's assignee of the moment;
- no draw ever assigned the applicant, someone who recused themselves or was reassigned away, or someone
  the four-eyes rule blocks in that stage;
- nothing happened to the case once it was closed (no transition, no document).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import app.services.cases as cases_service
from app.engine import DomainError
from app.extensions import db
from app.models import AuditEntry, AuditKind, Role
from app.services.assignment import reassign, recuse
from app.services.cases import FireResult, fire, open_case
from app.services.certificates import CertificateEffects
from app.services.config import update_config
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from tests.support.demo_data import TIPO_B_SETTINGS, VECS_DATA, VECS_SETTINGS
from tests.support.factories import make_user, stored_case, vecs_case
from workflows.base import SYSTEM_ROLE, Workflow, department_of, requirement_kinds
from workflows.cdmx_tipo_b import TIPO_B_V1
from workflows.vecs import VECS_V1

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
    "raise_observations": {"observation_items": ["planos"]},
}
COMMENT = "Fundado y motivado"


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap password hashing, and no PDF rendering (the certificates have their own tests)."""
    monkeypatch.setattr(cases_service, "transition_effects", lambda *args, **kwargs: CertificateEffects())


@dataclass(frozen=True)
class Cast:
    """Who may try things: the applicant (also staff everywhere), staff of each office, an administrator."""

    owner: int
    staff: tuple[int, ...]
    admin: int

    @property
    def everyone(self) -> tuple[int, ...]:
        return (self.owner, *self.staff, self.admin)


def vecs_cast() -> Cast:
    admin = make_user(Role.ADMIN)
    offices = VECS_SETTINGS["departments"]
    owner = make_user(
        Role.APPLICANT,
        (Role.INTAKE_CLERK, offices["intake"]),
        (Role.REVIEWER, offices["land_use"]),
        (Role.REVIEWER, offices["fees"]),
        (Role.INSPECTOR, offices["inspection"]),
    )
    staff = (
        make_user((Role.INTAKE_CLERK, offices["intake"])),
        make_user((Role.REVIEWER, offices["land_use"])),
        make_user((Role.REVIEWER, offices["land_use"])),
        make_user((Role.REVIEWER, offices["fees"])),
        make_user((Role.INSPECTOR, offices["inspection"])),
        make_user(Role.REVIEWER),  # without a department: serves any office nobody of the department can take
    )
    update_config("vecs", {"departments": offices, "inspection_rate": "0.5"}, admin)
    return Cast(owner, staff, admin)


def tipo_b_cast() -> Cast:
    admin = make_user(Role.ADMIN)
    office = TIPO_B_SETTINGS["departments"]["review"]
    owner = make_user(Role.APPLICANT, (Role.REVIEWER, office))
    staff = (make_user((Role.REVIEWER, office)), make_user((Role.REVIEWER, office)), make_user(Role.REVIEWER))
    update_config("cdmx_tipo_b", TIPO_B_SETTINGS, admin)
    return Cast(owner, staff, admin)


def tipo_b_case(owner: int) -> FireResult:
    opened = open_case("cdmx_tipo_b", owner, VECS_DATA)
    version = opened.version
    for kind in requirement_kinds(TIPO_B_V1.params["requirements"]):
        version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), owner).case_version
    return FireResult(opened.case_id, opened.folio, "open", None, "draft", version, opened.audit_seq)


Step = tuple[str, int, int]  # (kind of action, index of a trigger, index of a person)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["fire", "fire", "fire", "fire", "recuse", "reassign", "attach"]),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    min_size=1,
    max_size=40,
)


def play(workflow: Workflow, cast: Cast, case_id: int, steps: list[Step]) -> None:
    """Try every step; refusals are expected and leave nothing behind (checked by the invariants)."""
    for kind, pick, who in steps:
        case = stored_case(case_id)
        state = workflow.state(case.state)
        person = cast.everyone[who % len(cast.everyone)]
        try:
            if kind == "recuse":
                recuse(case_id, case.assignee_id if pick % 3 and case.assignee_id is not None else person, COMMENT)
            elif kind == "reassign":
                reassign(case_id, cast.admin if pick % 3 else person, COMMENT)
            elif kind == "attach":
                attach_document(case_id, "planos", "planos.pdf", demo_pdf("planos"), cast.owner)
            else:
                exits = [t for t in workflow.transitions_from(state.name) if t.roles != {SYSTEM_ROLE}]
                triggers = [t.trigger for t in exits] or sorted(workflow.triggers)
                trigger = triggers[pick % len(triggers)] if pick % 7 else sorted(workflow.triggers)[pick % 5]
                if pick % 4 == 0 and case.assignee_id is not None:
                    person = case.assignee_id  # often the assignee, to get deep into the flow
                fire(
                    case_id,
                    trigger,
                    person,
                    expected_version=case.version,
                    data=PAYLOAD.get(trigger),
                    comment=COMMENT,
                    idempotency_key=uuid.uuid4().hex,
                )
        except DomainError:
            db.session.rollback()


def check_separation(workflow: Workflow, case_id: int) -> None:
    """The invariants of the module docstring, read back from the audit log."""
    db.session.rollback()
    case = stored_case(case_id)
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)))
    params = case.params or workflow.params
    pairs = {(t.trigger, other) for t in workflow.transitions for other in t.four_eyes_with}
    fired: dict[str, set[int]] = {}
    assignee: int | None = None
    state = workflow.initial
    left_out: set[int] = set()
    closed = False
    for entry in entries:
        assert not closed, f"entry {entry.seq} ({entry.kind} {entry.action}) after the case was closed"
        if entry.kind == AuditKind.ADMIN and entry.action in {"assign", "reassign", "recuse"}:
            record = (entry.details or {})["assignment"]
            if entry.action != "assign":
                left_out.add(int(record["previous"]))
            chosen = record["chosen"]
            if chosen is not None:
                assert chosen != case.applicant_id, "the applicant was drawn for their own case"
                assert chosen not in left_out, "someone recused or reassigned away was drawn again"
                blocked = {
                    actor
                    for t in workflow.transitions_from(state)
                    for other in t.four_eyes_with
                    for actor in fired.get(other, set())
                }
                assert chosen not in blocked, "the draw chose someone the four-eyes rule blocks"
            assignee = chosen
            continue
        if entry.kind != AuditKind.TRANSITION:
            continue
        if entry.actor_id is not None and entry.actor_role not in (Role.APPLICANT.value, SYSTEM_ROLE):
            assert entry.actor_id != case.applicant_id, f"{entry.action}: the applicant acted as {entry.actor_role}"
            if department_of(workflow.state(entry.from_state or state), params) is not None and assignee is not None:
                assert entry.actor_id == assignee, f"{entry.action} by {entry.actor_id}, assigned to {assignee}"
        for trigger, other in pairs:
            if entry.action == trigger and entry.actor_id is not None:
                assert entry.actor_id not in fired.get(other, set()), f"one person fired {other} and {trigger}"
        if entry.actor_id is not None:
            fired.setdefault(entry.action, set()).add(entry.actor_id)
        state = entry.to_state or state
        closed = workflow.state(state).terminal
    assert case.state == state


def run(app: Flask, workflow: Workflow, cast_for: Callable[[], Cast], new_case: Callable[[int], FireResult]) -> None:
    cast = cast_for()

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=STEPS)
    def property_holds(steps: list[Step]) -> None:
        opened = new_case(cast.owner)
        fire(opened.case_id, "submit", cast.owner, expected_version=opened.version)
        play(workflow, cast, opened.case_id, steps)
        check_separation(workflow, opened.case_id)

    property_holds()


def test_vecs_separation_of_duties_holds_under_any_sequence(app: Flask) -> None:
    run(app, VECS_V1, vecs_cast, lambda owner: vecs_case(owner))


def test_tipo_b_separation_of_duties_holds_under_any_sequence(app: Flask) -> None:
    run(app, TIPO_B_V1, tipo_b_cast, tipo_b_case)


def test_closed_case_refuses_everything(app: Flask) -> None:
    """A withdrawn (closed) case admits no transition, document, recusal or reassignment."""
    cast = tipo_b_cast()
    opened = tipo_b_case(cast.owner)
    closed = fire(opened.case_id, "withdraw", cast.owner, expected_version=opened.version)
    assert closed.to_state == "withdrawn"
    attempts: list[Callable[[], Any]] = [
        lambda: fire(opened.case_id, "submit", cast.owner, expected_version=closed.version),
        lambda: fire(opened.case_id, "edit", cast.owner, expected_version=closed.version, data={"dro_name": "X"}),
        lambda: attach_document(opened.case_id, "planos", "planos.pdf", demo_pdf("planos"), cast.owner),
        lambda: reassign(opened.case_id, cast.admin, COMMENT),
        lambda: recuse(opened.case_id, cast.staff[0], COMMENT),
    ]
    before = db.session.scalars(select(AuditEntry.seq).where(AuditEntry.case_id == opened.case_id)).all()
    for attempt in attempts:
        with pytest.raises(DomainError):
            attempt()
        db.session.rollback()
    after = db.session.scalars(select(AuditEntry.seq).where(AuditEntry.case_id == opened.case_id)).all()
    assert after == before
    assert stored_case(opened.case_id).state == "withdrawn"


def test_decisions_that_grant_or_deny_rights_are_four_eyes() -> None:
    """Whoever reviewed a step never takes the decision that grants or denies the right."""
    decisions = {
        (VECS_V1.name, "approve_licence"): {"rule_land_use", "assess_fees"},
        (VECS_V1.name, "deny"): {"rule_land_use", "assess_fees"},
        (VECS_V1.name, "authorize_occupancy"): {"pass_inspection"},
        (TIPO_B_V1.name, "authorize_occupancy"): {"confirm_registration"},
    }
    for (name, trigger), reviewed in decisions.items():
        workflow = VECS_V1 if name == VECS_V1.name else TIPO_B_V1
        for transition in workflow.transitions:
            if transition.trigger == trigger:
                assert set(transition.four_eyes_with) == reviewed, (name, trigger)
