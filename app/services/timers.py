"""Timers: deadlines that fire their workflow's expiry transition as the system actor. The worker's pass over
the due timers; each one is fired by :func:`app.services.cases.fire_timer` (as it is, before a person's step, for
the case they act on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.database import end_read, is_constant
from app.extensions import db
from app.models import Timer, TimerStatus, utcnow
from app.services.cases import fire_timer


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


def fire_due_timers(limit: int = 200, now: datetime | None = None) -> TimerReport:
    """Fire every timer due at ``now`` (at most ``limit``), each in its own transaction."""
    now = now or utcnow()
    counts = {"fired": 0, "cancelled": 0, "failed": 0, "skipped": 0}
    for timer_id in _due_ids(now, limit):
        counts[fire_timer(timer_id, now)] += 1
    return TimerReport(**counts)
