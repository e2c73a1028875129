"""Data-protection requests (ARCO: access, rectification, cancellation, opposition) and their answers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow


class DataRequestKind(StrEnum):
    """The right a person exercises."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    CANCELLATION = "cancellation"
    OPPOSITION = "opposition"


class DataRequestStatus(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    RESOLVED = "resolved"


class PersonalDataRequest(Base):
    """One request of a person (a user account) about their personal data, registered by an administrator.

    It holds references and dates only: what was corrected is applied to the account, never copied here
    or into the audit log.
    """

    __tablename__ = "personal_data_requests"
    __table_args__ = (
        CheckConstraint("due_on >= received_on", name="due_after_received"),
        CheckConstraint(
            "(status = 'resolved') = (resolved_at IS NOT NULL AND resolved_by_id IS NOT NULL)",
            name="resolved_has_resolution",
        ),
        Index("ix_personal_data_requests_user_kind", "user_id", "kind"),
        # The pending requests, earliest due first, and the answered ones, newest first (the list's latest fifty,
        # not every request answered over the years): each through an index of those requests only.
        Index(
            "ix_personal_data_requests_pending",
            "due_on",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # the form that registered the request: the same form sent again registers nothing more
        Index("ix_personal_data_requests_form_key", "form_key", unique=True),
        Index(
            "ix_personal_data_requests_resolved",
            "id",
            postgresql_where=text("status = 'resolved'"),
            sqlite_where=text("status = 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[DataRequestKind] = mapped_column(str_enum(DataRequestKind, 16))
    status: Mapped[DataRequestStatus] = mapped_column(
        str_enum(DataRequestStatus, 16), default=DataRequestStatus.PENDING
    )
    received_on: Mapped[date]
    due_on: Mapped[date]
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    form_key: Mapped[str | None] = mapped_column(String(64))
    """The key of the registration form that registered it (none for requests registered before keys)."""
