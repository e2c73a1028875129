"""``open_case``, ``fire`` and ``attach_document`` on a real database (SQLite and PostgreSQL).

Refusals must leave no trace; successes write exactly one audit entry (plus one for each automatic step
the system takes at once, such as the inspection draw), the timers of the state entered, the outbox rows
of the parties to notify and, with an idempotency key, a replayable result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import holidays
import pytest
from flask import Flask
from sqlalchemy import func, select

from app import audit
from app.audit import verify
from app.audit.canonical import entry_data_digest
from app.calendar import deadline_instant, local_today
from app.engine import (
    ConflictError,
    DomainError,
    GuardRefused,
    IllegalTrigger,
    InvalidData,
    NotAllowed,
    NotFound,
    UnknownTrigger,
)
from app.extensions import db
from app.models import (
    AuditEntry,
    AuditHead,
    AuditKind,
    Case,
    Document,
    FolioCounter,
    IdempotencyRecord,
    OutboxMessage,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
)
from app.services.cases import FireResult, _read_inputs, fire, open_case
from app.services.config import update_config
from app.services.deadlines import declare_non_working_days
from app.services.demo import demo_pdf
from app.services.documents import attach_document, read_document
from app.services.uow import unit_of_work
from tests.support.demo_data import VECS_DATA
from tests.support.factories import case_version, committed_seed, make_user, stored_case, vecs_case
from workflows import REGISTRY
from workflows.base import draw
from workflows.vecs import REQUIRED_DOCUMENTS, VECS_V2

WF = VECS_V2


@dataclass(frozen=True)
class People:
    owner: int
    other_applicant: int
    clerk: int
    reviewer_a: int
    reviewer_b: int
    reviewer_c: int
    inspector: int
    admin: int
    treasurer: int


@pytest.fixture
def people(app: Flask) -> People:
    return People(
        owner=make_user(Role.APPLICANT),
        other_applicant=make_user(Role.APPLICANT),
        clerk=make_user(Role.INTAKE_CLERK),
        reviewer_a=make_user(Role.REVIEWER),
        reviewer_b=make_user(Role.REVIEWER),
        reviewer_c=make_user(Role.REVIEWER),
        inspector=make_user(Role.INSPECTOR),
        admin=make_user(Role.ADMIN),
        treasurer=make_user(Role.TREASURY),
    )


def set_inspection_rate(people: People, rate: str) -> None:
    """The share of completed works drawn for inspection, for cases opened from now on."""
    update_config("vecs", {"inspection_rate": rate}, people.admin)


Step = tuple[str, str, dict[str, Any] | None, str | None]  # trigger, who, data, comment

SUBMIT: Step = ("submit", "owner", None, None)
START_INTAKE: Step = ("start_intake", "clerk", None, None)
PREVENTION: Step = ("issue_prevention", "clerk", {"prevention_items": ["planos"]}, "Faltan cotas en los planos.")
ANSWER: Step = ("answer_prevention", "owner", {"dro_registration": "DRO-0999"}, None)
ACCEPT: Step = ("accept_intake", "clerk", None, None)
RULE: Step = ("rule_land_use", "reviewer_a", {"land_use_ruling": "Compatible con H3-C"}, None)
FEES: Step = ("assess_fees", "reviewer_a", {"fees": [{"concept": "Licencia", "amount": "8420.00"}]}, None)
PAY: Step = (
    "confirm_payment",
    "treasurer",
    {
        "payment_reference": "REF",
        "payment_amount": "8420.00",
        "payment_paid_on": "2026-01-02",
        "payment_operation": "OP-1",
    },
    None,
)
APPROVE: Step = ("approve_licence", "reviewer_b", {"licence_number": "LC-2026-0001"}, None)
EXTENSION: Step = ("request_extension", "owner", None, None)
GRANT: Step = ("grant_extension", "reviewer_c", None, None)
FICTA: Step = ("grant_extension_ficta", "system", None, None)
COMPLETION: Step = ("file_completion", "owner", None, None)
AUTHORIZE: Step = ("authorize_occupancy", "reviewer_c", None, None)
CLOSE: Step = ("close", "reviewer_b", None, None)

PATHS: dict[str, list[Step]] = {
    "draft": [],
    "submitted": [SUBMIT],
    "intake_review": [SUBMIT, START_INTAKE],
    "prevention": [SUBMIT, START_INTAKE, PREVENTION],
    "land_use_review": [SUBMIT, START_INTAKE, ACCEPT],
    "awaiting_payment": [SUBMIT, START_INTAKE, ACCEPT, RULE, FEES],
    "licence_review": [SUBMIT, START_INTAKE, ACCEPT, RULE, FEES, PAY],
    "licensed": [SUBMIT, START_INTAKE, ACCEPT, RULE, FEES, PAY, APPROVE],
    "extension_requested": [SUBMIT, START_INTAKE, ACCEPT, RULE, FEES, PAY, APPROVE, EXTENSION],
    "occupancy_review": [SUBMIT, START_INTAKE, ACCEPT, RULE, FEES, PAY, APPROVE, COMPLETION],
}


def actor_of(people: People, who: str, owner: int | None = None) -> int | None:
    if who == "system":
        return None
    if who == "owner" and owner is not None:
        return owner
    return int(getattr(people, who))


def run(people: People, case: FireResult, steps: list[Step], *, owner: int | None = None) -> FireResult:
    result = case
    for trigger, who, data, comment in steps:
        actor = actor_of(people, who, owner)
        result = fire(result.case_id, trigger, actor, expected_version=result.version, data=data, comment=comment)
        assert result.trigger == trigger
        assert not result.replayed
    return result


def case_in(people: People, state: str, *, applicant: int | None = None) -> FireResult:
    result = run(people, vecs_case(applicant or people.owner), PATHS[state], owner=applicant)
    assert result.to_state == state
    return result


def snapshot(case_id: int | None = None) -> dict[str, Any]:
    """Everything a transition could have written, read from committed rows."""
    db.session.rollback()
    s = db.session
    snap: dict[str, Any] = {
        "audit_count": s.scalar(select(func.count()).select_from(AuditEntry)),
        "audit_head": tuple(s.execute(select(AuditHead.seq, AuditHead.hash)).one()),
        "audit_tail": s.execute(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc())).first(),
        "timers": s.execute(
            select(Timer.id, Timer.case_id, Timer.state, Timer.status, Timer.due_on, Timer.finished_at).order_by(
                Timer.id
            )
        ).all(),
        "outbox": s.execute(select(OutboxMessage.id, OutboxMessage.dedup_key).order_by(OutboxMessage.id)).all(),
        "idempotency": s.execute(select(IdempotencyRecord.key, IdempotencyRecord.audit_seq)).all(),
        "documents": s.execute(select(Document.id, Document.superseded_by_id).order_by(Document.id)).all(),
        "folios": s.execute(select(FolioCounter.prefix, FolioCounter.year, FolioCounter.last_number)).all(),
        "cases": s.scalar(select(func.count()).select_from(Case)),
    }
    if case_id is not None:
        row = s.execute(
            select(Case.state, Case.version, Case.data, Case.closed_at, Case.updated_at).where(Case.id == case_id)
        ).one()
        snap["case"] = (row.state, row.version, dict(row.data), row.closed_at, row.updated_at)
    db.session.rollback()
    return snap


def assert_refused_without_trace(
    error: type[DomainError], case_id: int, trigger: str, actor: int | None, **kwargs: Any
) -> DomainError:
    before = snapshot(case_id)
    with pytest.raises(DomainError) as info:
        fire(case_id, trigger, actor, **kwargs)
    assert type(info.value) is error, (trigger, actor, kwargs, info.value)
    assert snapshot(case_id) == before, (trigger, actor, kwargs)
    return info.value


def transition_entries(case_id: int) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.kind == AuditKind.TRANSITION)
            .order_by(AuditEntry.seq)
        )
    )


def business_days_after(start: date, days: int, declared: frozenset[date] = frozenset()) -> date:
    """Independent count: weekdays that are neither statutory holidays nor declared non-working days, from the
    day after the notification took effect (a notification on a non-working day takes effect on the next
    business day)."""
    mx = holidays.country_holidays("MX", years=range(start.year - 1, start.year + 2))
    day, counted = start, 0
    while day.weekday() >= 5 or day in mx or day in declared:
        day += timedelta(days=1)
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in mx and day not in declared:
            counted += 1
    return day


CANONICAL_DATA = REGISTRY.get("vecs").canonical(VECS_DATA)
"""The request's data as stored: each field in its type's canonical form (areas with two decimals)."""


def case_timers(case_id: int, kind: TimerKind | None = None) -> list[Timer]:
    """The case's timers of its states' own terms (the legal term's timer, rule ``clock:…``, is tested in
    tests/deadlines/test_vecs_resolution_term.py)."""
    db.session.rollback()
    stmt = select(Timer).where(Timer.case_id == case_id, ~Timer.rule.startswith("clock:")).order_by(Timer.id)
    if kind is not None:
        stmt = stmt.where(Timer.kind == kind)
    return list(db.session.scalars(stmt))


def check_terms(case_id: int, state: str, entered_seq: int, today: date) -> None:
    """Only the state's own timers are pending; a deadline state has exactly one pending deadline."""
    timers = case_timers(case_id)
    for timer in timers:
        if timer.status == TimerStatus.PENDING:
            assert timer.state == state, (timer.state, state)
            assert timer.created_seq == entered_seq
        else:
            assert timer.status == TimerStatus.CANCELLED
            assert timer.finished_at is not None
    deadlines = [t for t in timers if t.kind == TimerKind.DEADLINE and t.status == TimerStatus.PENDING]
    definition = WF.state(state).deadline
    if definition is None:
        assert deadlines == []
        return
    (timer,) = deadlines
    days = WF.params[definition.days_param]
    assert (timer.trigger, timer.rule) == (definition.expiry_trigger(WF.params), definition.days_param)
    assert timer.due_on == business_days_after(today, days)
    assert timer.due_on.weekday() < 5
    assert (timer.due_on - today).days >= days
    assert timer.starts_on == business_days_after(today, 1)
    assert timer.due_at == deadline_instant(timer.due_on)


# -- the main path, with every refusal tried on the way -------------------------------------------

Refusal = tuple[str, str, dict[str, Any], type[DomainError]]  # trigger, who, kwargs, error

STATIONS: list[tuple[str, list[Refusal], Step | None]] = [
    (
        "draft",
        [
            ("to_submitted", "owner", {}, UnknownTrigger),
            ("nonsense", "owner", {}, UnknownTrigger),
            ("approve_licence", "reviewer_a", {}, IllegalTrigger),
            ("start_intake", "clerk", {}, IllegalTrigger),
            ("submit", "other_applicant", {}, NotAllowed),
            ("submit", "clerk", {}, NotAllowed),
            ("submit", "system", {}, NotAllowed),
            ("submit", "owner", {"data": {"inspection_drawn": False}}, InvalidData),
            ("submit", "owner", {"data": {"built_area_m2": "1500.01"}}, GuardRefused),
            ("submit", "owner", {"stale": 1}, ConflictError),
        ],
        SUBMIT,
    ),
    (
        "submitted",
        [
            ("start_intake", "clerk", {"stale": 1}, ConflictError),
            ("start_intake", "clerk", {"stale": -1}, ConflictError),
            ("submit", "owner", {}, IllegalTrigger),
            ("edit", "owner", {"data": {"dro_name": "x"}}, IllegalTrigger),
            ("start_intake", "reviewer_a", {}, NotAllowed),
            ("start_intake", "owner", {}, NotAllowed),
            ("start_intake", "system", {}, NotAllowed),
            ("start_intake", "clerk", {"data": {"note": "x"}}, InvalidData),
            ("withdraw", "other_applicant", {}, NotAllowed),
        ],
        START_INTAKE,
    ),
    (
        "intake_review",
        [
            ("issue_prevention", "clerk", {"data": {"prevention_items": ["planos"]}, "comment": "  "}, GuardRefused),
            ("issue_prevention", "clerk", {"comment": "Falta algo"}, GuardRefused),
            ("issue_prevention", "reviewer_a", {}, NotAllowed),
        ],
        PREVENTION,
    ),
    (
        "prevention",
        [
            ("lapse_prevention", "clerk", {}, NotAllowed),
            ("lapse_prevention", "owner", {}, NotAllowed),
            ("answer_prevention", "other_applicant", {}, NotAllowed),
            ("issue_prevention", "clerk", {}, IllegalTrigger),
            ("answer_prevention", "owner", {"data": {"fees": []}}, InvalidData),
        ],
        ANSWER,
    ),
    (
        "intake_review",
        [
            (
                "issue_prevention",
                "clerk",
                {"data": {"prevention_items": ["planos"]}, "comment": "Otra vez"},
                GuardRefused,
            ),
        ],
        ACCEPT,
    ),
    (
        "land_use_review",
        [
            ("deny", "reviewer_a", {}, GuardRefused),
            ("rule_land_use", "reviewer_a", {}, GuardRefused),
            ("rule_land_use", "reviewer_a", {"data": {"land_use_ruling": "   "}}, GuardRefused),
            ("rule_land_use", "clerk", {"data": {"land_use_ruling": "ok"}}, NotAllowed),
            ("rule_land_use", "owner", {"data": {"land_use_ruling": "ok"}}, NotAllowed),
        ],
        RULE,
    ),
    ("fee_assessment", [("assess_fees", "reviewer_a", {"data": {"fees": []}}, GuardRefused)], FEES),
    (
        "awaiting_payment",
        [
            ("confirm_payment", "owner", {"data": {"payment_reference": "R"}}, NotAllowed),
            ("lapse_payment", "reviewer_a", {}, NotAllowed),
            ("lapse_payment", "owner", {}, NotAllowed),
            ("confirm_payment", "treasurer", {}, GuardRefused),
        ],
        PAY,
    ),
    (
        "licence_review",
        [
            ("approve_licence", "reviewer_a", {}, GuardRefused),  # four-eyes: ruled on land use and fees
            ("approve_licence", "system", {}, NotAllowed),
            ("approve_licence", "inspector", {}, NotAllowed),
        ],
        APPROVE,
    ),
    (
        "licensed",
        [
            ("revoke", "reviewer_a", {"comment": ""}, GuardRefused),
            ("withdraw", "owner", {}, IllegalTrigger),
            ("request_extension", "other_applicant", {}, NotAllowed),
        ],
        EXTENSION,
    ),
    (
        "extension_requested",
        [
            ("grant_extension_ficta", "reviewer_b", {}, NotAllowed),
            ("refuse_extension_ficta", "reviewer_b", {}, NotAllowed),
            ("refuse_extension", "reviewer_c", {}, GuardRefused),
            ("request_extension", "owner", {}, IllegalTrigger),
        ],
        GRANT,
    ),
    ("licensed", [], EXTENSION),
    ("extension_requested", [], FICTA),
    ("licensed", [("request_extension", "owner", {}, GuardRefused)], COMPLETION),
    (
        "occupancy_review",  # the draw (rate 0) sent the completed works straight to authorization
        [
            ("skip_inspection", "system", {}, IllegalTrigger),
            ("send_to_inspection", "inspector", {}, IllegalTrigger),
            ("pass_inspection", "inspector", {}, IllegalTrigger),
            ("file_completion", "owner", {}, IllegalTrigger),
            ("authorize_occupancy", "inspector", {}, NotAllowed),
            ("authorize_occupancy", "owner", {}, NotAllowed),
            ("authorize_occupancy", "system", {}, NotAllowed),
        ],
        AUTHORIZE,
    ),
    (
        "occupancy_authorized",
        [
            ("close", "clerk", {}, NotAllowed),
            ("revoke", "reviewer_a", {"comment": " "}, GuardRefused),
            ("withdraw", "owner", {}, IllegalTrigger),
        ],
        CLOSE,
    ),
    (
        "closed",
        [
            ("close", "reviewer_b", {}, IllegalTrigger),
            ("revoke", "reviewer_a", {"comment": "Datos falsos"}, IllegalTrigger),
            ("request_extension", "owner", {}, IllegalTrigger),
        ],
        None,
    ),
]


def test_main_path_with_every_refusal_on_the_way(people: People) -> None:
    set_inspection_rate(people, "0")
    today = local_today()
    case = vecs_case(people.owner)
    result = case
    entered_seq = case.audit_seq
    fired: list[str] = []
    for state, refusals, step in STATIONS:
        stored = stored_case(case.case_id)
        assert (stored.state, stored.version) == (state, result.version)
        assert (stored.closed_at is not None) == WF.state(state).terminal
        check_terms(case.case_id, state, entered_seq, today)
        for trigger, who, kwargs, error in refusals:
            kwargs = dict(kwargs)
            expected = result.version - kwargs.pop("stale", 0)
            assert_refused_without_trace(
                error, case.case_id, trigger, actor_of(people, who), expected_version=expected, **kwargs
            )
        if step is None:
            break
        previous = result
        result = run(people, result, [step])
        new = [e for e in transition_entries(case.case_id) if e.seq > entered_seq]
        assert new[0].seq == result.audit_seq
        assert new[0].from_state == state
        assert [e.from_state for e in new[1:]] == [e.to_state for e in new[:-1]]
        assert all(e.actor_role == "system" for e in new[1:])  # automatic steps only
        assert result.to_state == new[-1].to_state
        assert result.version == previous.version + len(new)
        fired.extend(e.action for e in new)
        entered_seq = new[-1].seq

    assert fired[-4:] == ["file_completion", "skip_inspection", "authorize_occupancy", "close"]
    entries = transition_entries(case.case_id)
    assert [e.action for e in entries] == ["open", *fired]
    assert [e.case_version for e in entries[1:]] == list(range(case.version + 1, result.version + 1))
    ficta = next(e for e in entries if e.action == "grant_extension_ficta")
    assert (ficta.actor_id, ficta.actor_role) == (None, "system")
    prevention = next(e for e in entries if e.action == "issue_prevention")
    assert prevention.comment == PREVENTION[3]
    assert prevention.comment_salt is not None
    assert (
        prevention.comment_digest
        == hashlib.sha256(bytes.fromhex(prevention.comment_salt) + PREVENTION[3].encode()).hexdigest()
    )
    stored = stored_case(case.case_id)
    assert stored.data["prevention_items"] == ["planos"]
    assert stored.data["dro_registration"] == "DRO-0999"
    assert stored.data["licence_number"] == "LC-2026-0001"
    assert stored.data["inspection_drawn"] is False
    check_draw(case.case_id)
    notices = check_outbox(case.case_id)
    assert {"submit", "issue_prevention", "assess_fees", "approve_licence", "skip_inspection"} <= notices
    assert not notices & {"start_intake", "accept_intake", "rule_land_use", "close"}
    assert verify(db.session()).ok


def seq_of(entry: AuditEntry) -> int:
    return entry.seq


def check_draw(case_id: int) -> None:
    """Each draw is recorded in the case and in the audit entry, and anyone with the seed can redo it."""
    stored = stored_case(case_id)
    entries = transition_entries(case_id)
    draws = [e for e in entries if e.action in {"send_to_inspection", "skip_inspection"}]
    assert draws
    for entry in draws:
        record = entry.details["draw"]
        entering = max((e for e in entries if e.seq < entry.seq and e.to_state == "completion_filed"), key=seq_of)
        seed = committed_seed(record["seed_scope"], record["seed_period"])
        redone = draw(seed, stored.folio, entering.seq, stored.params["inspection_rate"])
        assert record["seq"] == entering.seq
        assert record["digest"] == redone.digest
        assert record["selected"] is redone.selected
        assert record["field"] == "inspection_drawn"
        assert (entry.action == "send_to_inspection") is redone.selected
    assert stored.data["inspection_draw"]["seq"] == draws[-1].details["draw"]["seq"]


def check_outbox(case_id: int) -> set[str]:
    """One outbox row per party to notify of each transition, keyed by the entry's sequence number.
    Returns the triggers the applicant was told about."""
    db.session.rollback()
    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id, OutboxMessage.topic == "case_transition")
            .order_by(OutboxMessage.id)
        )
    )
    stored = stored_case(case_id)
    recipients = {"applicant": stored.applicant_id, "assignee": stored.assignee_id}
    expected = []
    for entry in transition_entries(case_id):
        if entry.action == "open":
            continue
        (t,) = WF.find(entry.action, entry.from_state or "")
        for party in t.notify:
            if recipients[party] is not None:
                key = f"case:{case_id}:seq:{entry.seq}:{party}"
                expected.append((key, recipients[party], entry.action, entry.to_state, party))
    actual = [
        (m.dedup_key, m.recipient_id, m.payload["trigger"], m.payload["state"], m.payload["party"]) for m in messages
    ]
    assert actual == expected
    assert len({m.dedup_key for m in messages}) == len(messages)
    assert all(m.payload["folio"] == stored.folio for m in messages)
    assert all(m.status == "pending" for m in messages)
    return {a[2] for a in actual if a[4] == "applicant"}


def test_inspection_branch_to_closed_with_observations_and_four_eyes(people: People) -> None:
    set_inspection_rate(people, "1")
    both = make_user(Role.INSPECTOR, Role.REVIEWER)
    result = case_in(people, "licensed")
    result = run(people, result, [COMPLETION])
    assert result.to_state == "inspection"
    assert result.trigger == "file_completion"
    observations = ("record_observations", "inspector", None, "Falta señalización de salidas.")
    assert_refused_without_trace(
        GuardRefused, result.case_id, "record_observations", people.inspector, expected_version=result.version
    )
    result = run(people, result, [observations])
    assert result.to_state == "observations"
    result = run(people, result, [COMPLETION])  # drawn again: a new draw for the new completion notice
    assert result.to_state == "inspection"
    result = fire(result.case_id, "pass_inspection", both, expected_version=result.version)
    assert result.to_state == "occupancy_review"
    error = assert_refused_without_trace(
        GuardRefused, result.case_id, "authorize_occupancy", both, expected_version=result.version
    )
    assert "cuatro ojos" in str(error)
    result = run(people, result, [AUTHORIZE, CLOSE])
    assert result.to_state == "closed"
    stored = stored_case(result.case_id)
    assert stored.closed_at is not None
    assert stored.data["inspection_drawn"] is True
    actions = [e.action for e in transition_entries(result.case_id)]
    assert actions[-8:] == [
        "file_completion",
        "send_to_inspection",
        "record_observations",
        "file_completion",
        "send_to_inspection",
        "pass_inspection",
        "authorize_occupancy",
        "close",
    ]
    check_draw(result.case_id)
    check_outbox(result.case_id)
    assert verify(db.session()).ok


def test_settings_apply_to_cases_opened_afterwards(people: People) -> None:
    set_inspection_rate(people, "1")
    drawn = case_in(people, "licensed")
    set_inspection_rate(people, "0")
    assert run(people, drawn, [COMPLETION]).to_state == "inspection"
    assert stored_case(drawn.case_id).params["inspection_rate"] == "1"


# -- other refusals --------------------------------------------------------------------------------


def test_staff_cannot_act_on_their_own_case(people: People) -> None:
    staff = make_user(Role.APPLICANT, Role.INTAKE_CLERK, Role.REVIEWER)
    case = case_in(people, "submitted", applicant=staff)
    error = assert_refused_without_trace(NotAllowed, case.case_id, "start_intake", staff, expected_version=case.version)
    assert "que usted presentó" in str(error)
    # the same person may act as clerk on somebody else's case
    other = case_in(people, "submitted")
    assert fire(other.case_id, "start_intake", staff, expected_version=other.version).to_state == "intake_review"


def test_missing_documents_and_ineligibility_list_every_reason(people: People) -> None:
    case = vecs_case(people.owner, documents=False, data={"building_type": "hospital"})
    error = assert_refused_without_trace(
        GuardRefused, case.case_id, "submit", people.owner, expected_version=case.version
    )
    assert {r.params["kind"] for r in error.reasons if "kind" in r.params} == set(REQUIRED_DOCUMENTS)
    assert any("excluido" in str(r) for r in error.reasons)
    assert len(error.reasons) == len(REQUIRED_DOCUMENTS) + 1


def test_unknown_case_and_unknown_actor(people: People) -> None:
    case = vecs_case(people.owner)
    before = snapshot(case.case_id)
    with pytest.raises(NotFound):
        fire(987654, "submit", people.owner, expected_version=1)
    with pytest.raises(NotFound):
        fire(case.case_id, "submit", 987654, expected_version=case.version)
    assert snapshot(case.case_id) == before


def test_terminal_states_set_closed_at_and_accept_nothing(people: People) -> None:
    withdrawn = run(people, case_in(people, "submitted"), [("withdraw", "owner", None, None)])
    denied = run(people, case_in(people, "land_use_review"), [("deny", "reviewer_a", None, "Zona no apta.")])
    for result, state in ((withdrawn, "withdrawn"), (denied, "denied")):
        stored = stored_case(result.case_id)
        assert (stored.state, stored.version) == (state, result.version)
        assert stored.closed_at is not None
        assert [t for t in case_timers(result.case_id) if t.status == TimerStatus.PENDING] == []
        for trigger, who in (("start_intake", "clerk"), ("submit", "owner"), ("withdraw", "owner")):
            assert_refused_without_trace(
                IllegalTrigger, result.case_id, trigger, actor_of(people, who), expected_version=result.version
            )


# -- successful transitions -------------------------------------------------------------------------


def test_each_success_bumps_the_version_and_writes_one_entry(people: People) -> None:
    case = vecs_case(people.owner)
    entries_before = snapshot()["audit_count"]
    data = {"dro_name": "Arq. Nueva Responsable"}
    result = fire(case.case_id, "edit", people.owner, expected_version=case.version, data=data)
    assert (result.from_state, result.to_state, result.version) == ("draft", "draft", case.version + 1)
    assert snapshot()["audit_count"] == entries_before + 1
    entry = transition_entries(case.case_id)[-1]
    assert (entry.seq, entry.action, entry.actor_id, entry.actor_role) == (
        result.audit_seq,
        "edit",
        people.owner,
        "applicant",
    )
    assert (entry.case_version, entry.folio, entry.workflow, entry.workflow_version) == (
        result.version,
        case.folio,
        "vecs",
        WF.version,
    )
    assert entry.data_digest == entry_data_digest(audit.data_digest(data), entry.seq)
    assert entry.documents_digest is not None
    assert entry.comment is None
    assert stored_case(case.case_id).data == {**CANONICAL_DATA, **data}

    result = fire(case.case_id, "submit", people.owner, expected_version=result.version)
    entry = transition_entries(case.case_id)[-1]
    assert (entry.action, entry.from_state, entry.to_state) == ("submit", "draft", "submitted")
    assert entry.data_digest is None
    assert entry.case_version == result.version == case.version + 2
    assert snapshot()["audit_count"] == entries_before + 2
    # expected_version=None skips the optimistic check (used by callers that just read the case)
    assert fire(case.case_id, "start_intake", people.clerk, expected_version=None).version == result.version + 1


# -- timers -----------------------------------------------------------------------------------------


def test_expiry_fired_by_the_system_ends_the_term(people: People) -> None:
    case = case_in(people, "prevention")
    (deadline,) = case_timers(case.case_id, TimerKind.DEADLINE)
    assert deadline.status == TimerStatus.PENDING
    result = fire(case.case_id, "lapse_prevention", None, expected_version=case.version)
    assert result.to_state == "not_presented"
    assert [t.status for t in case_timers(case.case_id) if t.status == TimerStatus.PENDING] == []
    entry = transition_entries(case.case_id)[-1]
    assert (entry.actor_id, entry.actor_role) == (None, "system")
    assert stored_case(case.case_id).closed_at is not None


def test_declared_non_working_days_push_the_due_date(people: People) -> None:
    today = local_today()
    admin = make_user(Role.ADMIN)
    skipped = business_days_after(today, 2)
    declare_non_working_days(skipped, None, "Suspensión de labores", "Gaceta Municipal 1/2026", admin)
    case = case_in(people, "awaiting_payment")
    (timer,) = case_timers(case.case_id, TimerKind.DEADLINE)
    days = WF.params["payment_days"]
    assert timer.due_on == business_days_after(today, days, frozenset({skipped}))
    assert timer.due_on > business_days_after(today, days)


# -- outbox -----------------------------------------------------------------------------------------


def test_transitions_without_notification_write_no_outbox_row(people: People) -> None:
    case = case_in(people, "submitted")
    before = snapshot()["outbox"]
    fire(case.case_id, "start_intake", people.clerk, expected_version=case.version)
    assert snapshot()["outbox"] == before
    fire(case.case_id, "withdraw", people.owner, expected_version=case.version + 1)
    # only submit tells the applicant; withdrawal tells the assignee, and no one is assigned yet
    assert check_outbox(case.case_id) == {"submit"}


# -- idempotency ------------------------------------------------------------------------------------


def test_repeated_idempotency_key_returns_the_first_result(people: People) -> None:
    case = vecs_case(people.owner)
    first = fire(case.case_id, "submit", people.owner, expected_version=case.version, idempotency_key="form-123")
    assert not first.replayed
    after_first = snapshot(case.case_id)
    again = fire(case.case_id, "submit", people.owner, expected_version=case.version, idempotency_key="form-123")
    assert again.replayed
    assert (again.case_id, again.folio, again.trigger, again.from_state, again.to_state) == (
        first.case_id,
        first.folio,
        first.trigger,
        first.from_state,
        first.to_state,
    )
    assert (again.version, again.audit_seq) == (first.version, first.audit_seq)
    assert snapshot(case.case_id) == after_first
    assert [e.action for e in transition_entries(case.case_id)].count("submit") == 1

    # the case moves on; the key still answers with the first result and does not act again
    moved = fire(case.case_id, "start_intake", people.clerk, expected_version=first.version)
    third = fire(case.case_id, "submit", people.owner, expected_version=None, idempotency_key="form-123")
    assert third.replayed
    assert (third.to_state, third.version, third.audit_seq) == ("submitted", first.version, first.audit_seq)
    assert case_version(case.case_id) == moved.version
    assert [e.action for e in transition_entries(case.case_id)].count("submit") == 1


def test_idempotency_key_cannot_be_reused_for_something_else(people: People) -> None:
    case = vecs_case(people.owner)
    other_case = vecs_case(people.owner)
    first = fire(case.case_id, "submit", people.owner, expected_version=case.version, idempotency_key="k-1")
    for case_id, trigger, actor, version in (
        (case.case_id, "start_intake", people.clerk, first.version),
        (case.case_id, "withdraw", people.owner, first.version),
        (other_case.case_id, "submit", people.owner, other_case.version),
        (case.case_id, "submit", people.other_applicant, case.version),
    ):
        before = snapshot(case_id)
        with pytest.raises(DomainError, match="idempotencia") as info:
            fire(case_id, trigger, actor, expected_version=version, idempotency_key="k-1")
        assert type(info.value) is DomainError
        assert snapshot(case_id) == before

    # a refused call does not consume its key
    with pytest.raises(NotAllowed):
        fire(case.case_id, "start_intake", people.reviewer_a, expected_version=first.version, idempotency_key="k-2")
    result = fire(case.case_id, "start_intake", people.clerk, expected_version=first.version, idempotency_key="k-2")
    assert not result.replayed
    assert result.to_state == "intake_review"


# -- folios -----------------------------------------------------------------------------------------


def test_folios_are_sequential_per_year(people: People) -> None:
    year = local_today().year
    first = open_case("vecs", people.owner, VECS_DATA)
    assert first.folio == f"VECS-{year}-000001"
    with pytest.raises(NotAllowed):
        open_case("vecs", people.clerk, VECS_DATA)
    with pytest.raises(InvalidData):
        open_case("vecs", people.owner, {"inspection_drawn": False})
    with pytest.raises(NotFound):
        open_case("nonexistent", people.owner)
    with pytest.raises(NotFound):
        open_case("vecs", 987654)
    second = open_case("vecs", people.other_applicant)
    third = open_case("vecs", people.owner, {"dro_name": "X"})
    assert [second.folio, third.folio] == [f"VECS-{year}-000002", f"VECS-{year}-000003"]
    stored = stored_case(first.case_id)
    assert (stored.state, stored.version, stored.workflow, stored.workflow_version) == ("draft", 1, "vecs", WF.version)
    assert stored.data == CANONICAL_DATA
    (opening,) = transition_entries(first.case_id)
    assert (opening.action, opening.from_state, opening.to_state, opening.folio, opening.seq) == (
        "open",
        None,
        "draft",
        first.folio,
        first.audit_seq,
    )
    assert snapshot()["cases"] == 3


# -- documents --------------------------------------------------------------------------------------


def current_documents(case_id: int) -> dict[str, Document]:
    db.session.rollback()
    rows = db.session.scalars(select(Document).where(Document.case_id == case_id, Document.superseded_by_id.is_(None)))
    return {d.kind: d for d in rows}


def test_attach_supersedes_the_previous_document_of_the_same_kind(people: People) -> None:
    case = open_case("vecs", people.owner, VECS_DATA)
    one = attach_document(case.case_id, "planos", "planos-v1.pdf", demo_pdf("v1"), people.owner)
    assert one.replaced_id is None
    assert one.case_version == case.version + 1
    two = attach_document(case.case_id, "planos", "C:\\docs\\planos-v2.pdf", demo_pdf("v2"), people.owner)
    assert two.replaced_id == one.document_id
    assert two.case_version == one.case_version + 1
    assert two.sha256 == hashlib.sha256(demo_pdf("v2")).hexdigest()
    current = current_documents(case.case_id)
    assert set(current) == {"planos"}
    assert current["planos"].id == two.document_id
    assert current["planos"].original_name == "planos-v2.pdf"
    old = db.session.get(Document, one.document_id)
    assert old is not None
    assert old.superseded_by_id == two.document_id
    document, content = read_document(two.document_id)
    assert content == demo_pdf("v2")
    assert document.size_bytes == len(content)
    attached = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == case.case_id, AuditEntry.kind == AuditKind.DOCUMENT)
            .order_by(AuditEntry.seq)
        )
    )
    assert [e.details["replaces"] for e in attached] == [None, one.document_id]
    assert [e.details["sha256"] for e in attached] == [one.sha256, two.sha256]
    assert verify(db.session()).ok


def test_attach_refusals_leave_no_trace(app: Flask, people: People) -> None:
    case = open_case("vecs", people.owner, VECS_DATA)
    pdf = demo_pdf("ok")
    refusals: list[tuple[type[DomainError], dict[str, Any]]] = [
        (InvalidData, {"content": b""}),
        (InvalidData, {"content": b"hello, not a pdf"}),
        (InvalidData, {"content": b"GIF89a" + pdf}),
        (InvalidData, {"content": pdf.replace(b"%%EOF", b"")}),
        (NotAllowed, {"uploader_id": people.other_applicant}),
        (NotAllowed, {"uploader_id": people.clerk}),
        (NotFound, {"uploader_id": 987654}),
        (NotFound, {"case_id": 987654}),
        (InvalidData, {"kind": "fotografia"}),
        (InvalidData, {"kind": ""}),
        (ConflictError, {"expected_version": case.version + 5}),
    ]
    for error, changes in refusals:
        arguments: dict[str, Any] = {
            "case_id": case.case_id,
            "kind": "planos",
            "original_name": "planos.pdf",
            "content": pdf,
            "uploader_id": people.owner,
            **changes,
        }
        before = snapshot(case.case_id)
        with pytest.raises(DomainError) as info:
            attach_document(**arguments)
        assert type(info.value) is error, changes
        assert snapshot(case.case_id) == before, changes

    app.config["MAX_DOCUMENT_BYTES"] = 2048
    big = pdf.replace(b"%PDF-1.4\n", b"%PDF-1.4\n%" + b"x" * 4096 + b"\n")
    assert len(big) > 2048
    before = snapshot(case.case_id)
    with pytest.raises(InvalidData, match="tamaño máximo"):
        attach_document(case.case_id, "planos", "big.pdf", big, people.owner)
    assert snapshot(case.case_id) == before
    assert attach_document(case.case_id, "planos", "small.pdf", pdf, people.owner).replaced_id is None


def test_documents_can_be_attached_only_in_draft_and_prevention(people: People) -> None:
    case = vecs_case(people.owner)
    stations: list[tuple[Step, bool]] = [
        (SUBMIT, False),
        (START_INTAKE, False),
        (PREVENTION, True),
        (("answer_prevention", "owner", None, None), False),
        (ACCEPT, False),
        (RULE, False),
        (FEES, False),
        (PAY, False),
        (APPROVE, False),
    ]
    result = case
    for step, allowed in stations:
        result = run(people, result, [step])
        if allowed:
            attached = attach_document(result.case_id, "planos", "planos.pdf", demo_pdf("corregidos"), people.owner)
            assert attached.replaced_id is not None
            assert attached.case_version == result.version + 1
            result = FireResult(
                result.case_id,
                result.folio,
                result.trigger,
                result.from_state,
                result.to_state,
                attached.case_version,
                result.audit_seq,
            )
            continue
        before = snapshot(case.case_id)
        with pytest.raises(InvalidData, match="en esta etapa"):
            attach_document(case.case_id, "planos", "planos.pdf", demo_pdf("late"), people.owner)
        assert snapshot(case.case_id) == before, result.to_state
    assert len(current_documents(case.case_id)) == len(REQUIRED_DOCUMENTS)


# -- the case as fire() reads it ----------------------------------------------------------------------


def test_fire_sees_the_stored_case_whether_or_not_the_session_already_holds_it(people: People) -> None:
    # fire() reads the case with its inputs and attaches it without an ORM load; a case the session already
    # holds (a page looked it up first, then changed it in memory without saving) is told the stored values
    case = vecs_case(people.owner)
    held = db.session.get(Case, case.case_id)
    assert held is not None
    held.state = "closed"  # not saved: fire() must decide on the stored state
    held.data = {"dro_name": "not stored"}
    result = fire(case.case_id, "submit", people.owner, expected_version=case.version)
    assert (result.from_state, result.to_state) == ("draft", "submitted")
    assert db.session.get(Case, case.case_id) is held
    assert (held.state, held.version) == ("submitted", result.version)  # what fire() stored, read back
    assert held.data == CANONICAL_DATA

    # a case the session does not hold: the attached object equals an ORM load of the row, field by field
    db.session.remove()
    names = [column.key for column in Case.__table__.columns]
    with unit_of_work() as session:
        inputs = _read_inputs(session, case.case_id, people.clerk, with_case=True)
        attached = inputs.case
        assert attached is not None
        assert attached in session
        first = {name: getattr(attached, name) for name in names}
        assert not session.dirty  # attached as loaded: nothing to write
    db.session.remove()
    loaded = db.session.get(Case, case.case_id)
    assert loaded is not None
    assert {name: getattr(loaded, name) for name in names} == first
    assert first["created_at"].tzinfo is not None
    assert first["closed_at"] is None
    assert first["params"]
    assert first["data"] == CANONICAL_DATA
