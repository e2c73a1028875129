"""Committed seeds of the random draws the system makes when a case enters a state (e.g. which completed works
are inspected): one per draw and period, committed before the period's draws, revealed after it ends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, utcnow


class DrawSeed(Base):
    """The seed of one draw (``scope``: ``workflow:draw``) for one period (``period``: ``2026-T1``).

    Only ``digest`` (SHA-256 of the seed) is logged and shown until the period ends; the seed is kept
    encrypted (``seed_encrypted``), is not a setting, and no page or service gives it out before it is
    revealed (``revealed_seed``, logged by ``reveal_seq``). One per scope and period: it is never replaced.
    """

    __tablename__ = "draw_seeds"
    __table_args__ = (
        UniqueConstraint("scope", "period", name="uq_draw_seeds_scope_period"),
        CheckConstraint("(revealed_seed IS NULL) = (reveal_seq IS NULL)", name="revealed_with_entry"),
        Index("ix_draw_seeds_period", "period", "scope"),  # a year's seeds, the latest period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(140))
    period: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    seed_encrypted: Mapped[str] = mapped_column(Text)
    commit_seq: Mapped[int] = mapped_column(ForeignKey("audit_entries.seq"))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revealed_seed: Mapped[str | None] = mapped_column(String(200))
    reveal_seq: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.seq"))
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
