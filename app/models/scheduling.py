"""Timers (deadlines that fire transitions) and the outbox of side effects that leave the database."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow


class TimerStatus(StrEnum):
    """Lifecycle of a timer."""

    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"
    FAILED = "failed"


class TimerKind(StrEnum):
    """What happens when a timer comes due."""

    DEADLINE = "deadline"  # a legal term: its expiry transition fires as the system
    REMINDER = "reminder"  # a notice to the party who must act, some business days before a deadline
    TARGET = "target"  # a service-level target of a stage: lapsing flags the case as overdue


class Timer(Base):
    """A term of a case that started when it entered ``state``.

    The term is ``term_days`` (business) days from ``notified_on``; ``due_on`` is its last day and
    ``due_at`` the instant it lapses. Both are recomputed when the authority's calendar changes.
    """

    __tablename__ = "timers"
    __table_args__ = (
        # The timers still to fire, soonest first (the worker; the calendar's recomputation): the pending ones
        # only, not every timer a case ever started and cancelled.
        Index(
            "ix_timers_pending_due",
            "due_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        CheckConstraint("(kind = 'deadline') = (trigger IS NOT NULL)", name="deadline_has_trigger"),
        CheckConstraint("term_days >= 1", name="term_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TimerKind] = mapped_column(str_enum(TimerKind, 16))
    state: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    notified_on: Mapped[date]
    term_days: Mapped[int]
    business: Mapped[bool] = mapped_column(default=True)
    remind_before: Mapped[int | None]
    party: Mapped[str | None] = mapped_column(String(32))
    starts_on: Mapped[date]
    due_on: Mapped[date]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[TimerStatus] = mapped_column(str_enum(TimerStatus, 16), default=TimerStatus.PENDING)
    created_seq: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxStatus(StrEnum):
    """Lifecycle of an outbox message."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """A side effect (mail, notification) written in the same transaction as its cause, delivered later."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The messages to deliver, soonest first (the workers); those whose last attempt failed and the failed ones,
        # for the administrators' mail page. Each holds its rows only: not every message ever sent.
        Index(
            "ix_outbox_pending",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_outbox_retrying",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending' AND last_error IS NOT NULL"),
            sqlite_where=text("status = 'pending' AND last_error IS NOT NULL"),
        ),
        Index(
            "ix_outbox_failed",
            "id",
            postgresql_where=text("status = 'failed'"),
            sqlite_where=text("status = 'failed'"),
        ),
        Index("ix_outbox_recipient_created", "recipient_id", "created_at", "id"),  # a user's notices, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, 16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NonWorkingDay(Base):
    """A day the authority declared non-working (Holy Week, vacations, suspensions), with its legal source."""

    __tablename__ = "non_working_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    description: Mapped[str] = mapped_column(String(200))
    gazette_reference: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
