"""A failure anywhere inside a unit of work leaves the database exactly as it was.

``transitions`` never rolls back a state change whose callback failed, so the database transaction
is the unit of atomicity: failures are injected after the state change (in the audit append, the
timers, the outbox) and before it (a guard that crashes), and every table a transition writes is
compared before and after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import app.services.cases as cases_service
import app.services.certificates as certificates_service
import app.services.deadlines as deadlines_service
from app import audit as audit_package
from app.audit import verify
from app.engine import Engine
from app.extensions import db
from app.models import (
    AuditEntry,
    AuditHead,
    Case,
    Certificate,
    Document,
    FolioCounter,
    IdempotencyRecord,
    OutboxMessage,
    Role,
    Timer,
)
from app.notifications import enqueue, enqueue_rows
from app.services.cases import FireResult, fire, open_case
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.uow import unit_of_work
from tests.support.demo_data import VECS_DATA
from tests.support.factories import make_user, vecs_case
from workflows import DEFINITIONS
from workflows.base import GuardInput
from workflows.base import draw as base_draw
from workflows.vecs import VECS_V2


class Injected(RuntimeError):
    """The failure these tests inject."""


def snapshot(case_id: int | None = None) -> dict[str, Any]:
    """Every row a unit of work may write, read from committed data."""
    db.session.rollback()
    s = db.session
    snap: dict[str, Any] = {
        "audit_count": s.scalar(select(func.count()).select_from(AuditEntry)),
        "audit_head": tuple(s.execute(select(AuditHead.seq, AuditHead.hash)).one()),
        "audit_last": tuple(
            s.execute(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc())).first() or ()
        ),
        "timers": s.execute(select(Timer.id, Timer.state, Timer.status, Timer.finished_at).order_by(Timer.id)).all(),
        "outbox": s.execute(select(OutboxMessage.id, OutboxMessage.dedup_key).order_by(OutboxMessage.id)).all(),
        "idempotency": s.execute(select(IdempotencyRecord.key)).all(),
        "documents": s.execute(select(Document.id, Document.superseded_by_id).order_by(Document.id)).all(),
        "folios": s.execute(select(FolioCounter.prefix, FolioCounter.year, FolioCounter.last_number)).all(),
        "cases": s.execute(select(Case.id, Case.state, Case.version).order_by(Case.id)).all(),
    }
    if case_id is not None:
        row = s.execute(
            select(Case.state, Case.version, Case.data, Case.closed_at, Case.updated_at).where(Case.id == case_id)
        ).one()
        snap["case"] = (row.state, row.version, dict(row.data), row.closed_at, row.updated_at)
    db.session.rollback()
    return snap


@dataclasses.dataclass(frozen=True)
class World:
    owner: int
    clerk: int
    case: FireResult  # in intake_review: the next step (a prevención) starts a term and notifies


@pytest.fixture
def world(app: Flask) -> World:
    owner = make_user(Role.APPLICANT)
    clerk = make_user(Role.INTAKE_CLERK)
    case = vecs_case(owner)
    case = fire(case.case_id, "submit", owner, expected_version=case.version)
    case = fire(case.case_id, "start_intake", clerk, expected_version=case.version)
    return World(owner, clerk, case)


def issue_prevention(w: World, **kwargs: Any) -> FireResult:
    return fire(
        w.case.case_id,
        "issue_prevention",
        w.clerk,
        expected_version=w.case.version,
        data={"prevention_items": ["planos"]},
        comment="Faltan cotas.",
        **kwargs,
    )


def after_real(real: Callable[..., Any]) -> Callable[..., Any]:
    """A wrapper that does the real work (so the rows are written) and then fails."""

    def failing(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise Injected("after the write")

    return failing


def assert_rolled_back_then_retry(w: World, patch: Callable[[pytest.MonkeyPatch], None]) -> None:
    before = snapshot(w.case.case_id)
    with pytest.MonkeyPatch.context() as mp:
        patch(mp)
        with pytest.raises(Injected):
            issue_prevention(w)
        # the session is usable afterwards and saw nothing either
        assert db.session.get(Case, w.case.case_id).state == "intake_review"  # type: ignore[union-attr]
    assert snapshot(w.case.case_id) == before
    assert verify(db.session()).ok
    # nothing half-done blocks the retry: same expected version, next sequence number
    result = issue_prevention(w)
    assert result.to_state == "prevention"
    assert result.version == w.case.version + 1
    assert result.audit_seq == before["audit_head"][0] + 1
    after = snapshot(w.case.case_id)
    assert after["audit_count"] == before["audit_count"] + 1
    assert len(after["timers"]) > len(before["timers"])
    assert len(after["outbox"]) == len(before["outbox"]) + 1
    assert verify(db.session()).ok


def test_failure_in_the_audit_append(world: World) -> None:
    assert_rolled_back_then_retry(
        world, lambda mp: mp.setattr(audit_package, "append", after_real(audit_package.append))
    )


def test_failure_while_starting_the_timers(world: World) -> None:
    assert_rolled_back_then_retry(
        world, lambda mp: mp.setattr(cases_service, "insert_timers", after_real(deadlines_service.insert_timers))
    )


def test_failure_right_after_cancelling_the_timers(world: World) -> None:
    """The pending timers of the state left are cancelled with the new ones' INSERT (on PostgreSQL in the same
    statement): a failure right after it leaves them pending."""
    cancelled: list[int | None] = []

    def failing(session: Any, rows: Any, **kwargs: Any) -> None:
        deadlines_service.insert_timers(session, rows, **kwargs)
        cancelled.append(kwargs.get("cancel_case"))
        raise Injected("after the write")

    assert_rolled_back_then_retry(world, lambda mp: mp.setattr(cases_service, "insert_timers", failing))
    assert cancelled == [world.case.case_id]


def test_failure_while_writing_the_outbox(world: World) -> None:
    assert_rolled_back_then_retry(world, lambda mp: mp.setattr(cases_service, "enqueue_rows", after_real(enqueue_rows)))


def test_failure_in_the_last_flush(world: World) -> None:
    """The idempotency record is the last row written; failing there must undo everything else."""

    def boom(*args: Any) -> Any:
        raise Injected("idempotency record")

    before = snapshot(world.case.case_id)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cases_service, "_replay", lambda *args, **kwargs: None)  # no earlier result to look up
        mp.setattr(cases_service, "_record_key", boom)
        with pytest.raises(Injected):
            issue_prevention(world, idempotency_key="key-1")
    assert snapshot(world.case.case_id) == before
    result = issue_prevention(world, idempotency_key="key-1")
    assert not result.replayed
    assert issue_prevention(world, idempotency_key="key-1").replayed


def test_duplicate_outbox_key_rolls_back_the_whole_transition(world: World) -> None:
    db.session.rollback()
    next_seq = db.session.scalar(select(AuditHead.seq)) + 1
    with unit_of_work() as session:
        enqueue(
            session,
            topic="case_transition",
            dedup_key=f"case:{world.case.case_id}:seq:{next_seq}:applicant",
            payload={"note": "already queued"},
        )
    before = snapshot(world.case.case_id)
    with pytest.raises(IntegrityError):
        issue_prevention(world)
    assert snapshot(world.case.case_id) == before
    assert verify(db.session()).ok


def test_a_crashing_guard_changes_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def crashing(inp: GuardInput) -> str | None:
        raise Injected("guard")

    broken = dataclasses.replace(VECS_V2, guards={**VECS_V2.guards, "prevention_available": crashing})
    engine = Engine([broken if w.key == VECS_V2.key else w for w in DEFINITIONS], [r.value for r in Role])
    before = snapshot(world.case.case_id)
    with monkeypatch.context() as mp:
        mp.setattr(cases_service, "get_engine", lambda: engine)
        mp.setattr(deadlines_service, "get_engine", lambda: engine)
        with pytest.raises(Injected):
            issue_prevention(world)
    assert snapshot(world.case.case_id) == before
    assert issue_prevention(world).to_state == "prevention"


def test_failures_in_certificates_and_in_the_automatic_draw_undo_the_whole_step(world: World) -> None:
    reviewer_a = make_user(Role.REVIEWER)
    reviewer_b = make_user(Role.REVIEWER)
    steps = [
        ("accept_intake", world.clerk, None),
        ("rule_land_use", reviewer_a, {"land_use_ruling": "Compatible"}),
        ("assess_fees", reviewer_a, {"fees": [{"concept": "Licencia", "amount": "10.00"}]}),
        (
            "confirm_payment",
            make_user(Role.TREASURY),
            {
                "payment_reference": "REF",
                "payment_amount": "10.00",
                "payment_paid_on": "2026-01-02",
                "payment_operation": "OP-1",
            },
        ),
    ]
    case = world.case
    for trigger, actor, data in steps:
        case = fire(case.case_id, trigger, actor, expected_version=case.version, data=data)
    assert case.to_state == "licence_review"

    # the licence is issued inside the approving transition: a failure after it undoes the approval
    before = snapshot(case.case_id)
    certificates_before = db.session.scalar(select(func.count()).select_from(Certificate))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cases_service, "transition_effects", after_real(certificates_service.transition_effects))
        with pytest.raises(Injected):
            fire(case.case_id, "approve_licence", reviewer_b, expected_version=case.version)
    assert snapshot(case.case_id) == before
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == certificates_before
    case = fire(case.case_id, "approve_licence", reviewer_b, expected_version=case.version)
    assert case.to_state == "licensed"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == certificates_before + 1

    # the draw runs as an automatic step in the same transaction as the completion notice
    before = snapshot(case.case_id)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cases_service, "draw", after_real(base_draw))
        with pytest.raises(Injected):
            fire(case.case_id, "file_completion", world.owner, expected_version=case.version)
    assert snapshot(case.case_id) == before
    done = fire(case.case_id, "file_completion", world.owner, expected_version=case.version)
    assert done.to_state in {"inspection", "occupancy_review"}
    assert done.version == case.version + 2
    assert verify(db.session()).ok


def test_failure_after_opening_a_case_leaves_no_case_and_no_folio(app: Flask) -> None:
    owner = make_user(Role.APPLICANT)
    first = open_case("vecs", owner, VECS_DATA)
    before = snapshot()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audit_package, "append", after_real(audit_package.append))
        with pytest.raises(Injected):
            open_case("vecs", owner, VECS_DATA)
    assert snapshot() == before
    second = open_case("vecs", owner, VECS_DATA)
    # folios stay gapless: the failed attempt did not consume a number
    assert int(second.folio.rsplit("-", 1)[1]) == int(first.folio.rsplit("-", 1)[1]) + 1


def test_failure_after_attaching_a_document_keeps_the_previous_one(world: World) -> None:
    owner = world.owner
    case = vecs_case(owner, documents=False)
    first = attach_document(case.case_id, "planos", "v1.pdf", demo_pdf("v1"), owner)
    before = snapshot(case.case_id)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audit_package, "append", after_real(audit_package.append))
        with pytest.raises(Injected):
            attach_document(case.case_id, "planos", "v2.pdf", demo_pdf("v2"), owner)
    assert snapshot(case.case_id) == before
    db.session.rollback()
    current = db.session.scalars(
        select(Document).where(Document.case_id == case.case_id, Document.superseded_by_id.is_(None))
    ).all()
    assert [d.id for d in current] == [first.document_id]
    assert verify(db.session()).ok
