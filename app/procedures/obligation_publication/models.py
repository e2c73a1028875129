"""Transparency-obligation publications: which case publishes which format for which quarter, the
guarantor's seed commitments and its recorded sampling draws."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
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
        Index("ix_obligation_publications_period", "year", "quarter"),  # a period's records; the latest year
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    format_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    quarter: Mapped[int]
    department_code: Mapped[str | None] = mapped_column(String(64))
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublicationSeed(Base):
    """The seed of a quarter's verification draw, committed for the guarantor when the quarter opens.

    Only ``digest`` (SHA-256 of the seed) is logged and shown until the draw; the seed itself is kept
    encrypted (``seed_encrypted``), is not a setting, and no page or service gives it out before the draw
    reveals it (``revealed_seed``, logged by ``reveal_seq``). One per quarter: it can never be replaced.
    """

    __tablename__ = "publication_seeds"
    __table_args__ = (
        UniqueConstraint("year", "quarter", name="uq_publication_seeds_period"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("(revealed_seed IS NULL) = (reveal_seq IS NULL)", name="revealed_with_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    quarter: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))
    seed_encrypted: Mapped[str] = mapped_column(Text)
    commit_seq: Mapped[int] = mapped_column(ForeignKey("audit_entries.seq"))
    published_at_commit: Mapped[int] = mapped_column(default=0)
    """How many records of the quarter were already published when the seed was committed (0 normally)."""
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revealed_seed: Mapped[str | None] = mapped_column(String(200))
    reveal_seq: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.seq"))
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PublicationSample(Base):
    """A verification draw over the records of a quarter: round 0 is the draw after the publication
    deadline, once per quarter, so that nobody can draw again until the sample suits them; later rounds are
    supplementary draws, with the same revealed seed, over records published after it. The per-record
    numbers are in the audit entry."""

    __tablename__ = "publication_samples"
    __table_args__ = (
        UniqueConstraint("year", "quarter", "round", name="uq_publication_samples_period_round"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("selected >= 0 AND selected <= population", name="selected_within_population"),
        CheckConstraint("missing >= 0 AND missing <= selected", name="missing_within_selected"),
        CheckConstraint("round >= 0", name="round_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    quarter: Mapped[int]
    round: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    """Selected records not published at the draw: each is a finding (the obligation is missing)."""
    late: Mapped[int] = mapped_column(default=0)
    """Records in the draw published after the quarter's deadline."""
    rate: Mapped[str] = mapped_column(String(16))
    population: Mapped[int]
    selected: Mapped[int]
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_entries.seq"))
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
