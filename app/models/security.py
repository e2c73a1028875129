"""Authentication state kept on the server: login sessions, second factors, password resets and the security log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow


class UserSession(Base):
    """A login session. The browser holds a random identifier; only its SHA-256 is stored here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(120), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class TotpCredential(Base):
    """A user's time-based one-time-password secret (RFC 6238), encrypted with a key derived from SECRET_KEY.

    ``confirmed_at`` is empty while the user is enrolling; ``last_step`` is the last accepted time step, so the
    same code (or an older one) is never accepted twice.
    """

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column()


class RecoveryCode(Base):
    """A single-use recovery code for the second factor, stored as an argon2id hash (salted, slow)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordResetToken(Base):
    """A password-reset link sent by e-mail: single use, expiring; only the token's SHA-256 is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EmailConfirmation(Base):
    """A single-use, expiring link that proves someone reads an e-mail address before anything else is
    mailed to it (an access request filed without an account) or before a registration takes over a
    passwordless row. Only the token's SHA-256 is stored; ``sealed`` holds, encrypted, what is released
    once the address is confirmed (the request's tracking token, or the registration's name and password
    hash) and is emptied then."""

    __tablename__ = "email_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SecurityEventKind(StrEnum):
    """What happened, for the security log."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    THROTTLED = "throttled"
    TOTP_FAILED = "totp_failed"
    TOTP_ENROLLED = "totp_enrolled"
    SECOND_FACTOR_RESET = "second_factor_reset"
    RECOVERY_CODE_USED = "recovery_code_used"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    PASSWORD_RESET_REFUSED = "password_reset_refused"  # noqa: S105
    SESSION_REVOKED = "session_revoked"
    SESSION_EXPIRED = "session_expired"
    USER_DEACTIVATED = "user_deactivated"
    REGISTRATION = "registration"
    ACCESS_DENIED = "access_denied"


class SecurityEvent(Base):
    """One entry of the security log. Never holds passwords, tokens, codes or e-mail addresses in clear
    (an address that matches no account is kept only as a keyed digest, to see attacks on one address)."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_occurred_at", "occurred_at"),
        Index("ix_security_events_kind_id", "kind", "id"),  # the log of one kind, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[SecurityEventKind] = mapped_column(str_enum(SecurityEventKind, 32))
    user_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: the log outlives accounts
    ip: Mapped[str] = mapped_column(String(45), default="")
    path: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
