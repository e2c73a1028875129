"""The append-only audit log and its head (the last sequence number and chain hash)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum


class AuditKind(StrEnum):
    """What an entry records."""

    TRANSITION = "transition"
    ADMIN = "admin"
    DOCUMENT = "document"


class AuditEntry(Base):
    """One entry of the global log. Never updated or deleted.

    The hashed (canonical) form holds references and digests only: the free-text ``comment`` is
    covered through ``comment_digest`` = SHA-256(salt ‖ comment), so that it can be erased to honour a
    data-protection request without breaking verification.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("length(entry_hash) = 64", name="entry_hash_length"),
        Index("ix_audit_entries_case_seq", "case_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[AuditKind] = mapped_column(str_enum(AuditKind, 16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    folio: Mapped[str | None] = mapped_column(String(40))
    workflow: Mapped[str | None] = mapped_column(String(64))
    workflow_version: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    case_version: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    comment_salt: Mapped[str | None] = mapped_column(String(32))
    comment_digest: Mapped[str | None] = mapped_column(String(64))
    data_digest: Mapped[str | None] = mapped_column(String(64))
    documents_digest: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """Single row holding the last sequence number and hash; locking it serialises appends gaplessly."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
