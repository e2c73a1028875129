"""Random use of the VECS workflow through ``fire`` against a model, then tampering with the log.

A Hypothesis state machine opens a few cases and fires random triggers (legal and illegal) as random
people. A small model, written from the workflow's rules, predicts each outcome; the database must
agree after every step, and the audit chain must verify at the end of every run. Then entries of every
kind, first, last and random ones, are tampered with column by column, and verification must name the
entry each time (and pass again once it is restored).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text, update

from app.audit import verify
from app.engine import (
    ConflictError,
    DomainError,
    GuardRefused,
    IllegalTrigger,
    InvalidData,
    NotAllowed,
    UnknownTrigger,
)
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Role
from app.services.cases import FireResult, fire, open_case
from app.services.config import update_config
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from tests.support.demo_data import VECS_DATA
from tests.support.factories import committed_seed, make_user
from tests.support.tamper import raw_write
from workflows.base import SYSTEM_ROLE, Transition, draw
from workflows.vecs import VECS_V2

WF = VECS_V2
STATES = frozenset(s.name for s in WF.states)
TRIGGERS = sorted(WF.triggers)
ACTORS = (
    "owner",
    "other_applicant",
    "clerk",
    "reviewer_urban",
    "reviewer_finance",
    "reviewer_any",
    "inspector",
    "treasurer",
    "system",
)
ROLES: dict[str, frozenset[str]] = {
    "owner": frozenset({"applicant"}),
    "other_applicant": frozenset({"applicant"}),
    "clerk": frozenset({"intake_clerk"}),
    "reviewer_urban": frozenset({"reviewer"}),
    "reviewer_finance": frozenset({"reviewer"}),
    "reviewer_any": frozenset({"reviewer"}),
    "inspector": frozenset({"inspector"}),
    "treasurer": frozenset({"treasury"}),
    "system": frozenset({SYSTEM_ROLE}),
}
# The jurisdiction's offices: land-use rulings by urban development, fees by finance, the rest by anyone
# holding the role. Reviewers granted in one department act only for that office.
DEPARTMENTS = {"intake": "", "land_use": "desarrollo_urbano", "fees": "finanzas", "licence": "", "inspection": ""}
SCOPED = {"reviewer_urban": "desarrollo_urbano", "reviewer_finance": "finanzas"}
INSPECTION_RATE = "0.5"
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
    "edit": {"dro_name": "Arq. Otra"},
    "answer_prevention": {"dro_registration": "DRO-0002"},
}


@dataclass
class CaseModel:
    """What the model knows about a case: its state, version, data keys and who fired what."""

    case_id: int
    folio: str
    seed: str
    state: str
    version: int
    data_keys: set[str]
    history: list[tuple[str, str]] = field(default_factory=list)
    assignee: str | None = None  # drawn when the case enters a stage of a mapped department

    def count(self, trigger: str) -> int:
        return sum(1 for fired, _ in self.history if fired == trigger)


def predict(
    model: CaseModel, trigger: str, who: str, data: dict[str, Any] | None, comment: str | None, stale: bool
) -> type[DomainError] | Transition:
    """The error ``fire`` must raise, or the transition it must take, by the rules of the VECS definition."""
    if stale:
        return ConflictError
    if trigger not in WF.triggers:
        return UnknownTrigger
    candidates = WF.find(trigger, model.state)
    if not candidates:
        return IllegalTrigger
    (t,) = candidates
    roles = ROLES[who]
    if who == "system":
        if SYSTEM_ROLE not in t.roles:
            return NotAllowed
    elif not roles & t.roles or (t.owner_only and who != "owner"):
        return NotAllowed
    elif who in SCOPED:
        office = WF.state(model.state).department
        required = DEPARTMENTS.get(office or "", "")
        if required and required != SCOPED[who]:
            return NotAllowed
    mapped = bool(DEPARTMENTS.get(WF.state(model.state).department or "", ""))
    if mapped and who not in ("owner", "system") and model.assignee not in (None, who) and not t.owner_only:
        return NotAllowed  # in a department's stage only the case's assignee acts
    if set(data or {}) - set(t.fields):
        return InvalidData
    keys = model.data_keys | set(data or {})
    if any(f not in keys for f in t.required_fields):
        return GuardRefused
    if t.comment_required and not (comment and comment.strip()):
        return GuardRefused
    if any(fired in t.four_eyes_with and by == who for fired, by in model.history):
        return GuardRefused
    if trigger == "issue_prevention" and model.count("issue_prevention") >= WF.params["max_preventions"]:
        return GuardRefused
    if trigger == "request_extension" and model.count("request_extension") >= WF.params["max_extensions"]:
        return GuardRefused
    if trigger in {"send_to_inspection", "skip_inspection"} and "inspection_drawn" not in keys:
        return GuardRefused
    if trigger == "confirm_payment_after_ficta" and (model.count("confirm_payment") or model.count(trigger)):
        return GuardRefused  # an order's payment is confirmed once (the guard payment_pending)
    return t


def plausible(model: CaseModel, index: int) -> tuple[str, str]:
    """A trigger legal from the model's state and someone holding a role for it (ending cases is rarer)."""
    exits = WF.transitions_from(model.state)
    onward = [t for t in exits if not WF.state(t.dest).terminal and t.dest != model.state]
    pool = onward if onward and index % 6 else list(exits)
    t = pool[(index // 5) % len(pool)]
    able = [a for a in ACTORS if ROLES[a] & t.roles and (not t.owner_only or a == "owner")]
    office = DEPARTMENTS.get(WF.state(model.state).department or "", "")
    able = [a for a in able if not office or a not in SCOPED or SCOPED[a] == office] or able
    if office and model.assignee in able:
        able = [model.assignee]
    return t.trigger, able[(index // 97) % len(able)]


def count_entries() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def count_transitions() -> int:
    """Transition entries only (assignment draws add entries of their own)."""
    db.session.rollback()
    stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.kind == AuditKind.TRANSITION)
    return int(db.session.scalar(stmt) or 0)


def make_machine(people: dict[str, int | None]) -> type[RuleBasedStateMachine]:
    class VecsUse(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.cases: list[CaseModel] = []

        def _open(self) -> None:
            owner = people["owner"]
            assert owner is not None
            opened = open_case("vecs", owner, VECS_DATA)
            attached = attach_document(opened.case_id, "identificacion", "ine.pdf", demo_pdf("INE"), owner)
            db.session.rollback()
            stored = db.session.get(Case, opened.case_id)
            assert stored is not None
            assert stored.params["inspection_rate"] == INSPECTION_RATE
            assert stored.params["departments"] == DEPARTMENTS
            seed = committed_seed()
            db.session.rollback()
            self.cases.append(
                CaseModel(opened.case_id, opened.folio, seed, "draft", attached.case_version, set(VECS_DATA))
            )

        @initialize()
        def open_first_case(self) -> None:
            self._open()

        @precondition(lambda self: len(self.cases) < 2)
        @rule()
        def open_another_case(self) -> None:
            self._open()

        def _fire(
            self,
            model: CaseModel,
            trigger: str,
            who: str,
            data: dict[str, Any] | None,
            comment: str | None,
            stale: bool,
        ) -> None:
            expected = predict(model, trigger, who, data, comment, stale)
            before = count_transitions()
            version = model.version - 1 if stale else model.version
            result: FireResult | DomainError
            try:
                result = fire(model.case_id, trigger, people[who], expected_version=version, data=data, comment=comment)
            except DomainError as error:
                result = error
            if isinstance(result, DomainError):
                assert isinstance(expected, type), f"{trigger} by {who} in {model.state} refused: {result}"
                assert type(result) is expected, (trigger, who, model.state, result)
                assert count_transitions() == before
                return
            assert not isinstance(expected, type), f"{trigger} by {who} in {model.state}: expected {expected}"
            assert result.from_state == model.state
            steps = [(trigger, who, expected.dest)]
            if expected.dest == "completion_filed":
                # entering it draws, reproducibly, whether the works are inspected, and moves on at once
                selected = draw(model.seed, model.folio, result.audit_seq, INSPECTION_RATE).selected
                automatic = "send_to_inspection" if selected else "skip_inspection"
                steps.append((automatic, "system", WF.find(automatic, "completion_filed")[0].dest))
            assert result.to_state == steps[-1][2]
            assert result.version == model.version + len(steps)
            assert count_transitions() == before + len(steps)
            model.state = steps[-1][2]
            assignee_id = db.session.scalar(select(Case.assignee_id).where(Case.id == model.case_id))
            db.session.rollback()
            model.assignee = next((name for name, uid in people.items() if uid == assignee_id and uid), None)
            model.version = result.version
            model.data_keys |= set(data or {})
            model.history.extend((fired, by) for fired, by, _ in steps)

        @rule(
            pick=st.integers(0, 1),
            legal=st.booleans(),
            index=st.integers(0, 100),
            trigger=st.sampled_from([*TRIGGERS, "to_closed", "bogus"]),
            who=st.sampled_from(ACTORS),
            payload=st.sampled_from(["needed", "needed", "none", "junk"]),
            comment=st.sampled_from([None, "", "Fundado y motivado"]),
            stale=st.integers(0, 7),
        )
        def fire_anything(
            self,
            pick: int,
            legal: bool,
            index: int,
            trigger: str,
            who: str,
            payload: str,
            comment: str | None,
            stale: int,
        ) -> None:
            """Any trigger (half the time one that exists in the current state) by anyone, with or without
            the data and comment it needs, now and then with a stale version."""
            model = self.cases[pick % len(self.cases)]
            exits = sorted({t.trigger for t in WF.transitions_from(model.state)})
            if legal and exits:
                trigger = exits[index % len(exits)]
            data = {"needed": PAYLOAD.get(trigger), "none": None, "junk": {"inspection_drawn": True}}[payload]
            self._fire(model, trigger, who, data, comment, stale == 0)

        @rule(pick=st.integers(0, 1), index=st.integers(0, 10_000))
        def fire_plausible(self, pick: int, index: int) -> None:
            """A step someone entitled would take, to get cases deep into the flow."""
            model = self.cases[pick % len(self.cases)]
            if WF.state(model.state).terminal:
                return
            trigger, who = plausible(model, index)
            self._fire(model, trigger, who, PAYLOAD.get(trigger), "Fundado y motivado", False)

        @invariant()
        def database_agrees_with_the_model(self) -> None:
            if not self.cases:
                return
            db.session.rollback()
            ids = [m.case_id for m in self.cases]
            stored = {
                row.id: row
                for row in db.session.execute(select(Case.id, Case.state, Case.version).where(Case.id.in_(ids)))
            }
            counts = dict(
                db.session.execute(
                    select(AuditEntry.case_id, func.count())
                    .where(AuditEntry.case_id.in_(ids), AuditEntry.kind == AuditKind.TRANSITION)
                    .group_by(AuditEntry.case_id)
                ).all()
            )
            for model in self.cases:
                row = stored[model.case_id]
                assert row.state in STATES
                assert (row.state, row.version) == (model.state, model.version)
                assert counts[model.case_id] == len(model.history) + 1  # the opening entry and one per success
            db.session.rollback()

        def teardown(self) -> None:
            db.session.rollback()
            result = verify(db.session())
            db.session.rollback()
            assert result.ok, result

    return VecsUse


def tamper(seq: int, column: str, change: Callable[[Any], Any]) -> Any:
    """Overwrite one column of a stored entry with ``change(original)``; return the original value."""
    db.session.rollback()
    with raw_write() as conn:
        original = conn.execute(select(AuditEntry.__table__.c[column]).where(AuditEntry.seq == seq)).scalar_one()
        value = change(original)
        assert value != original
        conn.execute(update(AuditEntry.__table__).where(AuditEntry.seq == seq).values({column: value}))
    return original


def restore(seq: int, column: str, value: Any) -> None:
    with raw_write() as conn:
        conn.execute(update(AuditEntry.__table__).where(AuditEntry.seq == seq).values({column: value}))


def _people() -> dict[str, int | None]:
    """The people of the machine, and the jurisdiction's settings it assumes."""
    people: dict[str, int | None] = {
        "owner": make_user(Role.APPLICANT),
        "other_applicant": make_user(Role.APPLICANT),
        "clerk": make_user((Role.INTAKE_CLERK, "ventanilla")),
        "reviewer_urban": make_user((Role.REVIEWER, "desarrollo_urbano")),
        "reviewer_finance": make_user((Role.REVIEWER, "finanzas")),
        "reviewer_any": make_user(Role.REVIEWER),
        "inspector": make_user((Role.INSPECTOR, "obras_publicas")),
        "treasurer": make_user(Role.TREASURY),
        "system": None,
    }
    admin = make_user(Role.ADMIN)
    # one required document keeps opening cases cheap; the full list is exercised in test_fire
    settings_changes = {
        "inspection_rate": INSPECTION_RATE,
        "departments": DEPARTMENTS,
        "requirements": [{"kind": "identificacion", "label": "Identificación oficial"}],
    }
    update_config("vecs", settings_changes, admin)
    return people


def test_a_late_payment_is_confirmed_once(app: Flask) -> None:
    """A sequence the random run found: paid, then granted by afirmativa ficta, then the treasury's late
    confirmation offered again and again; the engine confirms an order's payment once (the model once did not
    know it)."""
    machine = make_machine(_people())()
    machine.open_first_case()
    machine.database_agrees_with_the_model()
    for index in (74, 0, 261, 0, 0, 0, 0, 0):
        machine.fire_plausible(pick=0, index=index)
        machine.database_agrees_with_the_model()
    assert machine.cases[0].state == "granted_ficta"
    assert machine.cases[0].count("confirm_payment") == 1
    assert machine.cases[0].count("confirm_payment_after_ficta") == 0
    machine.teardown()


def test_random_use_agrees_with_the_model_and_tampering_is_detected(app: Flask) -> None:
    people = _people()
    run_state_machine_as_test(
        make_machine(people),
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

    # -- tampering: each edit of a stored entry is found and named --------------------------------
    db.session.rollback()
    entries = db.session.execute(
        select(AuditEntry.seq, AuditEntry.kind, AuditEntry.comment).order_by(AuditEntry.seq)
    ).all()
    assert verify(db.session()).ok
    last = entries[-1].seq
    rng = random.Random(20260520)
    with_comment = [e.seq for e in entries if e.comment]
    transitions = [e.seq for e in entries if e.kind == AuditKind.TRANSITION]

    def other_user(current: Any) -> int | None:
        return people["clerk"] if current != people["clerk"] else people["owner"]

    def flip(current: Any) -> str:
        return ("0" if current[0] != "0" else "1") + current[1:]

    def forged_details(current: Any) -> dict[str, Any]:
        return {**(current or {}), "forged": True}

    tamperings: list[tuple[int, str, Callable[[Any], Any]]] = [
        (1, "action", lambda current: "user_deleted"),
        (last, "entry_hash", flip),
        (last, "to_state", lambda current: "closed" if current != "closed" else "draft"),
        (rng.choice(transitions), "actor_id", other_user),
        (rng.choice(transitions), "case_version", lambda current: (current or 0) + 1),
        (rng.choice(transitions), "from_state", lambda current: "licensed" if current != "licensed" else "draft"),
        (rng.choice(transitions), "actor_role", lambda current: "admin"),
        (rng.choice(transitions), "prev_hash", flip),
        (rng.choice(entries).seq, "details", forged_details),
        (rng.choice(entries).seq, "data_digest", lambda current: "0" * 64),
        (rng.choice(entries).seq, "at", lambda current: current + timedelta(microseconds=1)),
    ]
    if with_comment:
        tamperings.append((rng.choice(with_comment), "comment", lambda current: current + " (alterado)"))
    for seq, column, change in tamperings:
        original = tamper(seq, column, change)
        db.session.rollback()
        result = verify(db.session())
        db.session.rollback()
        assert not result.ok, (seq, column)
        assert result.first_bad == seq, (seq, column, result)
        restore(seq, column, original)
        db.session.rollback()
        assert verify(db.session()).ok, (seq, column)

    # deleting an entry in the middle, then the last one, is found too
    middle = entries[len(entries) // 2].seq
    db.session.rollback()
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": last})
    db.session.rollback()
    result = verify(db.session())
    assert not result.ok
    assert result.first_bad == last, result
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": middle})
    db.session.rollback()
    result = verify(db.session())
    assert not result.ok
    assert result.first_bad == middle, result
