"""Access-to-information requests: the requester's record, the turns to areas and the committee's sessions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow
from app.models.users import PASSWORDLESS

__all__ = ["PASSWORDLESS"]  # filing without an account creates such a row


class AccessRequest(Base):
    """What the requester gave when filing: a pseudonym, the delivery format, and the digest of the secret
    tracking link (the link itself is shown once and mailed; only its SHA-256 is stored)."""

    __tablename__ = "access_requests"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(120))
    delivery_format: Mapped[str] = mapped_column(String(32))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    received_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FilingKey(Base):
    """The key of one filing form (a fresh one each time the form is shown) and the request it filed: a
    double click, or the same form sent again, gets that request's receipt instead of filing a second one.

    For :data:`~app.procedures.access_request.services.REPLAY_WINDOW` after filing, the row also keeps the
    digest of what was filed and the tracking token sealed (encrypted with a key derived from ``SECRET_KEY``),
    so that a repeat of the same form shows the same working link. Both are cleared when the window closes
    (on the next repeat, or by ``permits tick``); the key and its request stay."""

    __tablename__ = "access_filing_keys"
    __table_args__ = (
        Index(
            "ix_access_filing_keys_sealed",
            "created_at",
            postgresql_where=text("sealed_token IS NOT NULL"),
            sqlite_where=text("sealed_token IS NOT NULL"),
        ),
    )

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    sealed_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnswerKind(StrEnum):
    """What an area says about the information turned to it."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    CONFIDENTIAL = "confidential"
    INEXISTENT = "inexistent"


class AreaTurn(Base):
    """A request turned to one area, and that area's answer."""

    __tablename__ = "area_turns"
    __table_args__ = (
        UniqueConstraint("case_id", "department_code", name="uq_area_turns_case_department"),
        CheckConstraint("(answer_kind IS NULL) = (answered_at IS NULL)", name="answer_has_time"),
        CheckConstraint(
            "answer_kind NOT IN ('reserved', 'confidential') OR legal_basis IS NOT NULL", name="classified_has_basis"
        ),
        CheckConstraint(
            "answer_kind <> 'reserved' OR (harm_test IS NOT NULL AND reservation_years BETWEEN 1 AND 5)",
            name="reserved_has_harm_test",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))  # found by the unique key
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    turned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer_kind: Mapped[AnswerKind | None] = mapped_column(str_enum(AnswerKind, 16))
    partial: Mapped[bool] = mapped_column(default=False)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    harm_test: Mapped[str | None] = mapped_column(Text)
    reservation_years: Mapped[int | None]
    answer_text: Mapped[str | None] = mapped_column(Text)
    redactions: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CommitteeSession(Base):
    """A session of the transparency committee."""

    __tablename__ = "committee_sessions"
    __table_args__ = (Index("ix_committee_sessions_held_on_id", "held_on", "id"),)  # the latest sessions first

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    held_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommitteeMatter(StrEnum):
    """What the committee rules on."""

    CLASSIFICATION = "classification"
    INEXISTENCE = "inexistence"
    EXTENSION = "extension"


class CommitteeDecision(StrEnum):
    """How the committee ruled on an item."""

    CONFIRM = "confirm"
    MODIFY = "modify"
    REVOKE = "revoke"
    APPROVE = "approve"
    REJECT = "reject"


class CommitteeItem(Base):
    """One matter of one request on a session's agenda, and the committee's resolution on it."""

    __tablename__ = "committee_items"
    __table_args__ = (
        Index("ix_committee_items_case", "case_id"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decision_has_time"),
        CheckConstraint("decision IS NULL OR resolution_text IS NOT NULL", name="decision_has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_sessions.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    matter: Mapped[CommitteeMatter] = mapped_column(str_enum(CommitteeMatter, 16))
    decision: Mapped[CommitteeDecision | None] = mapped_column(str_enum(CommitteeDecision, 16))
    resolution_text: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    audit_seq: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.seq"))


class CommitteeVote(Base):
    """A member of the committee present when it resolved an agenda item, and how they voted (the acta
    prints every one)."""

    __tablename__ = "committee_votes"
    __table_args__ = (
        UniqueConstraint("item_id", "member_id", name="uq_committee_votes_item_member"),
        CheckConstraint("vote IN ('favor', 'against', 'abstain')", name="vote_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("committee_items.id", ondelete="CASCADE"))  # by the unique key
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    vote: Mapped[str] = mapped_column(String(16))


class AreaDocument(Base):
    """Which area attached a document of a request: a new upload replaces only that area's document of the
    same kind, never another area's."""

    __tablename__ = "area_documents"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
