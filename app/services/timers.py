"""Timers: deadlines that fire their workflow's expiry transition as the system actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import end_read, is_constant
from app.engine import ConflictError, DomainError
from app.extensions import db
from app.models import Case, Timer, TimerKind, TimerStatus, utcnow
from app.notifications import enqueue
from app.services.assignment import escalate_if_unattended
from app.services.cases import fire
from app.services.deadlines import clock_lapse_data
from app.services.uow import unit_of_work


@dataclass(frozen=True, slots=True)
class TimerReport:
    """What one pass over the due timers did."""

    fired: int = 0
    cancelled: int = 0
    failed: int = 0
    skipped: int = 0


def _due_ids(now: datetime, limit: int) -> list[int]:
    stmt = (
        select(Timer.id)
        .where(is_constant(Timer.status, TimerStatus.PENDING), Timer.due_at <= now)  # the pending timers' index
        .order_by(Timer.due_at, Timer.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(stmt))
    end_read(db.session())
    return ids


def fire_timer(timer_id: int, now: datetime | None = None) -> str:
    """Fire one due timer in one transaction with its row locked (``SKIP LOCKED`` on PostgreSQL).

    A deadline fires its expiry transition as the system; a reminder or a missed service target
    writes a notice to the outbox. Returns ``fired``; ``cancelled`` when the case already left the
    timer's state; ``skipped`` when
    another process holds or already handled it; ``failed`` when the workflow refused the expiry
    transition (the timer is marked failed and the reason kept in the log for an administrator).
    The transition's audit entry names the timer and the rule that fired it.
    """
    now = now or utcnow()
    try:
        with unit_of_work() as session:
            timer = session.scalars(
                select(Timer)
                .where(Timer.id == timer_id, is_constant(Timer.status, TimerStatus.PENDING), Timer.due_at <= now)
                .with_for_update(skip_locked=True)
            ).first()
            if timer is None:
                return "skipped"
            case = session.get(Case, timer.case_id)
            if case is None or case.state != timer.state:
                timer.status = TimerStatus.CANCELLED
                timer.finished_at = now
                return "cancelled"
            escalate_if_unattended(session, case, timer, now)
            if timer.kind == TimerKind.DEADLINE and timer.trigger is not None:
                fire(
                    case.id,
                    timer.trigger,
                    None,
                    expected_version=case.version,
                    data=clock_lapse_data(case, timer),
                    reason={"timer_id": timer.id, "rule": timer.rule, "due_on": timer.due_on.isoformat()},
                )
            else:
                _notify_party(session, case, timer)
            timer.status = TimerStatus.FIRED
            timer.finished_at = now
            return "fired"
    except ConflictError:
        return "skipped"  # the case changed under us; the next pass looks again
    except DomainError as exc:
        with unit_of_work() as session:
            timer = session.get(Timer, timer_id)
            if timer is not None and timer.status == TimerStatus.PENDING:
                timer.status = TimerStatus.FAILED
                timer.finished_at = now
        current_app.logger.warning("timer %s failed: %s", timer_id, exc)
        return "failed"


def _notify_party(session: Session, case: Case, timer: Timer) -> None:
    """A reminder to the party who must act, or a missed-target notice to the assignee."""
    recipient = case.applicant_id if timer.party == "applicant" else case.assignee_id
    if recipient is None:
        return
    topic = "deadline_reminder" if timer.kind == TimerKind.REMINDER else "target_missed"
    enqueue(
        session,
        topic=topic,
        dedup_key=f"timer:{timer.id}",
        recipient_id=recipient,
        case_id=case.id,
        payload={"folio": case.folio, "state": timer.state, "due_on": timer.due_on.isoformat(), "rule": timer.rule},
    )


def fire_due_timers(limit: int = 200, now: datetime | None = None) -> TimerReport:
    """Fire every timer due at ``now`` (at most ``limit``), each in its own transaction."""
    now = now or utcnow()
    counts = {"fired": 0, "cancelled": 0, "failed": 0, "skipped": 0}
    for timer_id in _due_ids(now, limit):
        counts[fire_timer(timer_id, now)] += 1
    return TimerReport(**counts)
