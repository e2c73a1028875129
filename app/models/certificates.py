"""Issued certificates: sealed PDFs (licences, authorizations, resolutions) that anyone can verify.

The PDF itself is immutable (stored by its SHA-256, which the issuing audit entry records); only its
status changes afterwards: revoked (with the reason and the revoking entry), superseded by a newer
certificate of the same kind for the same case, or expired (its validity ended).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow


class CertificateStatus(StrEnum):
    """Where an issued certificate stands. ``expired`` is also derived on reading, from ``valid_until``."""

    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


class Certificate(Base):
    """One issued, sealed PDF. Public verification finds it by folio and verification code."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint(
            "status <> 'revoked' OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL)",
            name="revoked_has_reason",
        ),
        CheckConstraint("status <> 'superseded' OR superseded_by_id IS NOT NULL", name="superseded_has_successor"),
        Index("ix_certificates_case_kind", "case_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(32))
    """The document kind: a name declared by an installed procedure (``workflows``), checked by the service
    against the registry rather than by the database, so that a new kind needs no migration."""
    number: Mapped[str] = mapped_column(String(40), unique=True)
    folio: Mapped[str] = mapped_column(String(40), index=True)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[CertificateStatus] = mapped_column(str_enum(CertificateStatus, 16), default=CertificateStatus.VALID)
    valid_until: Mapped[date | None] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    revoked_seq: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.seq"))
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_entries.seq"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    cadena_original: Mapped[str] = mapped_column(Text)
    sello: Mapped[str] = mapped_column(Text)
    signing_certificate: Mapped[str] = mapped_column(Text)
    """PEM of the certificate whose key made the sello and the PDF signature (keys rotate; this stays)."""
    public_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The certified data exactly as printed (label/value rows), shown on the public verification page."""
