"""Who is excluded from a case's reviewer draws (recusals, reassignments) and which cases were escalated."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow


class ExclusionKind(StrEnum):
    """Why a public servant no longer takes part in a case's draws."""

    RECUSAL = "recusal"
    """They declared a conflict of interest."""
    REASSIGNMENT = "reassignment"
    """An administrator took the case from them, with a reason."""


class AssignmentExclusion(Base):
    """A public servant left out of every later reviewer draw of one case.

    The reason is kept here, not in the immutable log (whose entry carries only its salted digest), so
    that it can be rectified or erased without breaking the log's verification.
    """

    __tablename__ = "assignment_exclusions"
    # the unique constraint's index serves a case's exclusions (its first column): no index of its own
    __table_args__ = (UniqueConstraint("case_id", "user_id", "kind", name="uq_assignment_exclusions_case_user_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[ExclusionKind] = mapped_column(str_enum(ExclusionKind, 16))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    audit_seq: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EscalationKind(StrEnum):
    """What lapsed on a case nobody (active) had assigned."""

    TARGET_MISSED = "target_missed"
    DEADLINE_LAPSED = "deadline_lapsed"


class CaseEscalation(Base):
    """A flag on a case whose service target or deadline lapsed while no active person had it assigned:
    the department's staff were told. One per timer."""

    __tablename__ = "case_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    timer_id: Mapped[int | None] = mapped_column(ForeignKey("timers.id", ondelete="SET NULL"), unique=True)
    kind: Mapped[EscalationKind] = mapped_column(str_enum(EscalationKind, 16))
    state: Mapped[str] = mapped_column(String(64))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    notified: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
