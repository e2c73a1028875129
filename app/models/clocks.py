"""Case-level clocks: legal terms that span several states (see ``workflows.base.Clock``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow


class ClockStatus(StrEnum):
    """Where a case's clock stands."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    LAPSED = "lapsed"


class CaseClock(Base):
    """One clock of one case. While it runs, the pending ``Timer`` whose rule is ``clock:<name>`` holds its last
    day (so that declaring a non-working day moves it like any other term); this row keeps what survives a
    pause: the business days already used and the extension granted.

    The current running segment started the business day after ``segment_notified_on``; the days left are
    ``term_days + extension_days - used_days``.
    """

    __tablename__ = "case_clocks"
    __table_args__ = (
        UniqueConstraint("case_id", "name", name="uq_case_clocks_case_name"),
        CheckConstraint("term_days >= 1", name="term_positive"),
        CheckConstraint("used_days >= 0 AND extension_days >= 0", name="days_not_negative"),
        CheckConstraint("(status = 'running') = (segment_notified_on IS NOT NULL)", name="running_has_segment"),
        CheckConstraint("(status = 'lapsed') = (lapsed_on IS NOT NULL)", name="lapsed_has_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))  # found by the unique key
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[ClockStatus] = mapped_column(str_enum(ClockStatus, 16), default=ClockStatus.RUNNING)
    term_days: Mapped[int]
    extension_days: Mapped[int] = mapped_column(default=0)
    used_days: Mapped[int] = mapped_column(default=0)
    started_on: Mapped[date]
    segment_notified_on: Mapped[date | None]
    lapsed_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def total_days(self) -> int:
        """The term with its extension."""
        return self.term_days + self.extension_days
