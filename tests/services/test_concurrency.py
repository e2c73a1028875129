"""Concurrent transitions on a real database: optimistic locking and a gapless, unforked audit chain.

Every thread pushes its own application context (and so gets its own session and connection),
waits at a barrier and fires at the same moment as the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit import verify
from app.engine import ConflictError, get_engine
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Role
from app.services.cases import FireResult, fire
from app.services.uow import unit_of_work
from tests.support.concurrency import race
from tests.support.factories import make_user, vecs_case


def submitted_case(owner: int) -> FireResult:
    case = vecs_case(owner)
    return fire(case.case_id, "submit", owner, expected_version=case.version)


def transition_actions(case_id: int) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.case_id == case_id, AuditEntry.kind == AuditKind.TRANSITION)
            .order_by(AuditEntry.seq)
        )
    )


def all_seqs() -> list[int]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))


def split(results: list[FireResult | BaseException]) -> tuple[list[FireResult], list[BaseException]]:
    wins = [r for r in results if isinstance(r, FireResult)]
    losses = [r for r in results if not isinstance(r, FireResult)]
    return wins, losses


@pytest.mark.parametrize("threads", [2, 8])
def test_same_transition_by_several_clerks_only_one_wins(app: Flask, threads: int) -> None:
    owner = make_user(Role.APPLICANT)
    clerks = [make_user(Role.INTAKE_CLERK) for _ in range(threads)]
    case = submitted_case(owner)
    seqs_before = all_seqs()

    def start_intake(clerk: int) -> Callable[[], FireResult]:
        return lambda: fire(case.case_id, "start_intake", clerk, expected_version=case.version)

    wins, losses = split(race(app, [start_intake(c) for c in clerks]))
    assert len(wins) == 1, losses
    assert len(losses) == threads - 1
    assert all(type(loss) is ConflictError for loss in losses), losses
    (win,) = wins
    assert (win.to_state, win.version) == ("intake_review", case.version + 1)
    assert transition_actions(case.case_id).count("start_intake") == 1
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert (stored.state, stored.version) == ("intake_review", case.version + 1)
    seqs = all_seqs()
    assert seqs == [*seqs_before, seqs_before[-1] + 1]
    assert win.audit_seq == seqs[-1]
    result = verify(db.session())
    assert result.ok, result


@pytest.mark.parametrize("threads", [2, 8])
def test_conflicting_transitions_only_one_wins(app: Flask, threads: int) -> None:
    owner = make_user(Role.APPLICANT)
    clerks = [make_user(Role.INTAKE_CLERK) for _ in range(threads - 1)]
    case = submitted_case(owner)
    count_before = len(all_seqs())
    calls: list[Callable[[], FireResult]] = [
        lambda: fire(case.case_id, "withdraw", owner, expected_version=case.version)
    ]
    for clerk in clerks:
        calls.append(lambda clerk=clerk: fire(case.case_id, "start_intake", clerk, expected_version=case.version))
    wins, losses = split(race(app, calls))
    assert len(wins) == 1, losses
    assert all(type(loss) is ConflictError for loss in losses), losses
    (win,) = wins
    expected_state = {"withdraw": "withdrawn", "start_intake": "intake_review"}[win.trigger]
    assert win.to_state == expected_state
    actions = transition_actions(case.case_id)
    assert actions == ["open", "submit", win.trigger]
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert (stored.state, stored.version) == (expected_state, case.version + 1)
    assert len(all_seqs()) == count_before + 1
    assert verify(db.session()).ok


def test_concurrent_retries_with_one_idempotency_key_act_once(app: Flask) -> None:
    owner = make_user(Role.APPLICANT)
    clerk = make_user(Role.INTAKE_CLERK)
    case = submitted_case(owner)
    calls: list[Callable[[], FireResult]] = [
        lambda: fire(case.case_id, "start_intake", clerk, expected_version=case.version, idempotency_key="retry-1")
        for _ in range(8)
    ]
    results = race(app, calls)
    wins, losses = split(results)
    assert losses == []
    assert [w.replayed for w in wins].count(False) == 1
    assert {(w.to_state, w.version, w.audit_seq) for w in wins} == {
        ("intake_review", case.version + 1, wins[0].audit_seq)
    }
    assert transition_actions(case.case_id).count("start_intake") == 1
    assert verify(db.session()).ok


def test_transitions_on_different_cases_all_succeed_with_a_gapless_log(app: Flask) -> None:
    owners = [make_user(Role.APPLICANT) for _ in range(8)]
    clerk = make_user(Role.INTAKE_CLERK)
    cases = [submitted_case(owner) for owner in owners]
    seqs_before = all_seqs()

    calls: list[Callable[[], Any]] = []
    for index, (owner, case) in enumerate(zip(owners, cases, strict=True)):
        if index % 2:
            calls.append(lambda case=case: fire(case.case_id, "start_intake", clerk, expected_version=case.version))
        else:
            calls.append(
                lambda case=case, owner=owner: fire(case.case_id, "withdraw", owner, expected_version=case.version)
            )
    wins, losses = split(race(app, calls))
    assert losses == []
    assert len(wins) == 8
    new_seqs = sorted(w.audit_seq for w in wins)
    assert new_seqs == list(range(seqs_before[-1] + 1, seqs_before[-1] + 9))
    assert all_seqs() == list(range(1, len(seqs_before) + 9))
    for win, case in zip(wins, cases, strict=True):
        assert win.case_id == case.case_id
        assert win.version == case.version + 1
        stored = db.session.get(Case, case.case_id)
        assert stored is not None
        assert (stored.state, stored.version) == (win.to_state, win.version)
    db.session.rollback()
    prev_hashes = list(db.session.scalars(select(AuditEntry.prev_hash).order_by(AuditEntry.seq)))
    assert len(set(prev_hashes)) == len(prev_hashes)  # no two entries chained to the same predecessor
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == len(seqs_before) + 8
    result = verify(db.session())
    assert result.ok, result


def test_first_cases_opened_at_once_share_one_committed_seed_per_quarter(app: Flask):
    """Three cases of a workflow with a draw opened at the same moment: one commits the quarter's seeds, the
    others wait on the unique key or find them; one commitment per draw and quarter in the end."""
    from app.calendar import local_today
    from app.services.seeds import commit_ahead

    workflow = get_engine().latest("vecs")

    def take() -> Any:
        with unit_of_work() as session:
            commit_ahead(session, workflow, local_today())
            time.sleep(0.2)  # keep the transaction open while the other one arrives
            return True

    results = race(app, [take, take, take])
    assert results == [True, True, True], results  # nobody fails: the later ones take the first commitment
    db.session.rollback()
    committed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "draw_seed_committed")).all()
    assert len(committed) == 2  # this quarter's and the next one's
    assert verify(db.session()).ok
