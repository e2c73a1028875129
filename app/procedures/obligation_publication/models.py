"""Transparency-obligation publications: which case publishes which format for which quarter, and the
guarantor's recorded sampling draws."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, utcnow


class ObligationPublication(Base):
    """The period of a publication case: one case per format and quarter, never two.

    The unique key on (format, year, quarter) is what makes opening a quarter idempotent, even when two
    servers run the opening at the same time. ``due_on`` is the calendar's due date in force at opening.
    """

    __tablename__ = "obligation_publications"
    __table_args__ = (
        UniqueConstraint("format_code", "year", "quarter", name="uq_obligation_publications_period"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("year BETWEEN 2000 AND 2200", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    format_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    quarter: Mapped[int]
    department_code: Mapped[str | None] = mapped_column(String(64))
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublicationSample(Base):
    """The guarantor's verification draw over the published records of a quarter: one per quarter, so that
    nobody can draw again until the sample suits them. The per-record numbers are in the audit entry."""

    __tablename__ = "publication_samples"
    __table_args__ = (
        UniqueConstraint("year", "quarter", name="uq_publication_samples_period"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("selected >= 0 AND selected <= population", name="selected_within_population"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    quarter: Mapped[int]
    rate: Mapped[str] = mapped_column(String(16))
    population: Mapped[int]
    selected: Mapped[int]
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_entries.seq"))
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
