"""Authentication beyond the password: server-side sessions, the TOTP second factor with recovery codes,
password change and reset, and deactivation.

Sessions: the browser holds a random 256-bit identifier; the ``user_sessions`` table holds only its SHA-256,
so a copy of the database cannot be replayed as a cookie. A session ends on logout, on a password change or
reset (every session of the user), on deactivation, after ``SESSION_IDLE_TIMEOUT`` seconds without a request
and ``SESSION_ABSOLUTE_TIMEOUT`` seconds after login.

Second factor: RFC 6238 TOTP (30-second steps, six digits, one step of clock drift either way). The secret
is stored encrypted (Fernet, key derived from ``SECRET_KEY``) and shown only while enrolling; an accepted
time step is remembered so the same code is never accepted twice. Recovery codes are random (about 50 bits),
shown once, stored as argon2id hashes (they are below 112 bits, so a fast digest would not do), and each
works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.audit import EntryInput
from app.database import FixedStatement, attach_loaded, end_read
from app.engine import InvalidData, Msg, NotAllowed, NotFound
from app.extensions import db
from app.models import (
    STAFF_ROLES,
    AuditKind,
    Case,
    Locale,
    OutboxMessage,
    PasswordResetToken,
    RecoveryCode,
    Role,
    SecurityEventKind,
    TotpCredential,
    User,
    UserRole,
    UserSession,
    utcnow,
)
from app.notifications import enqueue
from app.notifications.account import ACCOUNT_TEMPLATES, render_account_mail
from app.services import security_log
from app.services.deadlines import CALENDAR_SEQ_COLUMN, saw_calendar_seq
from app.services.passwords import check_password
from app.services.uow import unit_of_work
from app.services.users import RoleGrant, create_user, hash_password, normalise_email, verify_password
from workflows import REGISTRY

TOTP_INTERVAL = 30
TOTP_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most this often per session
INVALID_RESET = Msg("El enlace para restablecer la contraseña no es válido, ya se usó o caducó. Pida uno nuevo.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fernet() -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tramites second factor and mail tokens")
    key = hkdf.derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    """``value`` encrypted and authenticated with a key derived from ``SECRET_KEY``."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str | None:
    """The clear text of :func:`encrypt`'s output, or ``None`` when it was not made with this key."""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        return None


# -- sessions ----------------------------------------------------------------------------------------


def second_factor_required(user: User) -> bool:
    """Whether ``user``'s roles oblige them to a second factor (staff roles, when ``STAFF_TOTP_REQUIRED``): they
    enrol at their first login and cannot turn it off."""
    return bool(current_app.config.get("STAFF_TOTP_REQUIRED")) and any(user.has_role(r) for r in STAFF_ROLES)


def requires_second_factor(user: User) -> bool:
    """Whether ``user`` must pass a TOTP step after the password: staff (when required), and anyone who turned the
    second factor on for their account (:func:`begin_second_factor`)."""
    return second_factor_required(user) or totp_status(user.id) == TotpStatus.CONFIRMED


def start_session(user_id: int, user_agent: str = "") -> str:
    """Open a server-side session for ``user_id`` and return its identifier (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    with unit_of_work() as session:
        session.add(UserSession(token_hash=_digest(token), user_id=user_id, user_agent=user_agent[:120]))
    return token


_USER_COLUMNS = tuple(prop.key for prop in User.__mapper__.column_attrs)
_SESSION_USER = FixedStatement(
    select(
        UserSession.id.label("session_id"),
        UserSession.user_id.label("session_user_id"),
        UserSession.created_at.label("session_created_at"),
        UserSession.last_seen_at.label("session_last_seen_at"),
        UserSession.revoked_at.label("session_revoked_at"),
        *(getattr(User, key).label(f"user_{key}") for key in _USER_COLUMNS),
        UserRole.id.label("role_id"),
        UserRole.role.label("role_role"),
        UserRole.department_code.label("role_department_code"),
        CALENDAR_SEQ_COLUMN.label("calendar_seq"),
    )
    .join(User, User.id == UserSession.user_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .order_by(UserRole.id)
)
"""A session's columns with its user's and the user's roles (one row per role, or one without a role), and the
audit head's ``calendar_seq`` (which the pages' terms would read on their own: :func:`saw_calendar_seq`): every
request asks this first, so it is read as columns and the user attached as loaded (:func:`_loaded_user`). Its
rows are read by position (:data:`_USER_SLICE`, :data:`_ROLE_SLICE`): each attribute of a row costs a look-up."""
_USER_SLICE = slice(5, 5 + len(_USER_COLUMNS))
_ROLE_SLICE = slice(5 + len(_USER_COLUMNS), 8 + len(_USER_COLUMNS))
_USER_ACTIVE = 5 + _USER_COLUMNS.index("active")


def _loaded_user(session: Session, rows: Sequence[tuple[Any, ...]]) -> User:
    """The user of :data:`_SESSION_USER`'s rows, with their roles, as persistent objects of ``session``."""
    user = attach_loaded(session, User, dict(zip(_USER_COLUMNS, rows[0][_USER_SLICE], strict=True)))
    roles = [
        attach_loaded(session, UserRole, {"id": role_id, "user_id": user.id, "role": role, "department_code": code})
        for role_id, role, code in (row[_ROLE_SLICE] for row in rows)
        if role_id is not None
    ]
    set_committed_value(user, "roles", roles)
    for role in roles:
        set_committed_value(role, "user", user)
    return user


def resume_session(token: str, now: datetime | None = None) -> User | None:
    """The user of the live session ``token``, or ``None`` when it is unknown, revoked, timed out or its
    user was deactivated. A session found timed out is closed (and logged)."""
    now = now or utcnow()
    session = db.session()
    rows = _SESSION_USER.read(session, {"token_hash": _digest(token)})
    if not rows:
        return None
    saw_calendar_seq(session, rows[0][-1])
    session_id, user_id, created_at, last_seen, revoked_at = rows[0][:5]  # _SESSION_USER's first columns
    if revoked_at is not None or not rows[0][_USER_ACTIVE]:
        return None
    idle = timedelta(seconds=int(current_app.config["SESSION_IDLE_TIMEOUT"]))
    absolute = timedelta(seconds=int(current_app.config["SESSION_ABSOLUTE_TIMEOUT"]))
    if now - last_seen > idle or now - created_at > absolute:
        with unit_of_work() as work:
            # requests of one browser at once all find it timed out: only the one whose update closes it logs
            if _revoke_one(work, session_id, "expired", now):
                security_log.record(
                    SecurityEventKind.SESSION_EXPIRED, user_id=user_id, details={"session": session_id}, session=work
                )
        return None
    if now - last_seen > _TOUCH_EVERY:
        with unit_of_work() as work:
            work.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    return _loaded_user(session, rows)


def session_owner(token: str) -> int | None:
    """The user id of the live (not revoked) session ``token``, or ``None``."""
    stored = db.session.scalars(
        select(UserSession).where(UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None))
    ).first()
    return None if stored is None else stored.user_id


def _revoke_one(session: Session, session_id: int, reason: str, now: datetime) -> bool:
    """Revoke the live session ``session_id``; whether this call did (not when it was already revoked, also by a
    transaction committed meanwhile: the condition is checked again on the row once its writer is done)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _revoke_all(
    session: Session,
    user_id: int,
    reason: str,
    now: datetime,
    *,
    keep_token: str | None = None,
    only_id: int | None = None,
) -> int:
    """End ``user_id``'s open sessions (but the one of ``keep_token``; only session ``only_id`` when given); the
    security log records how many ended, for ``reason``. Returns that number."""
    sessions = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep_token is not None:
        sessions = sessions.where(UserSession.token_hash != _digest(keep_token))
    if only_id is not None:
        sessions = sessions.where(UserSession.id == only_id)
    count = int(getattr(session.execute(sessions), "rowcount", 0) or 0)
    if count:
        security_log.record(
            SecurityEventKind.SESSION_REVOKED,
            user_id=user_id,
            details={"reason": reason, "sessions": count},
            session=session,
        )
    return count


def end_session(token: str, *, ip: str = "", path: str = "") -> None:
    """Revoke the session ``token`` (logout) and log it; unknown or already revoked tokens are ignored."""
    with unit_of_work() as session:
        stored = session.execute(
            select(UserSession.id, UserSession.user_id).where(
                UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None)
            )
        ).first()
        # two logouts at once (a double click, two tabs) both find it live: only the one that revokes it logs
        if stored is None or not _revoke_one(session, stored.id, "logout", utcnow()):
            return
        security_log.record(
            SecurityEventKind.LOGOUT,
            user_id=stored.user_id,
            ip=ip,
            path=path,
            details={"session": stored.id},
            session=session,
        )


def revoke_sessions(user_id: int, reason: str) -> int:
    """Revoke every live session of ``user_id``; returns how many there were."""
    with unit_of_work() as session:
        return _revoke_all(session, user_id, reason, utcnow())


def live_sessions(user_id: int) -> list[UserSession]:
    """The user's sessions that are not revoked, newest first."""
    stmt = (
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.id.desc())
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class OpenSession:
    """One of a user's open sessions as their sessions page lists it (never its identifier's digest)."""

    id: int
    browser: str
    started_at: datetime
    last_seen_at: datetime
    current: bool


def open_sessions(user_id: int, current_token: str, now: datetime | None = None) -> list[OpenSession]:
    """The sessions of ``user_id`` still open (not revoked and within the idle and absolute timeouts), the one
    of ``current_token`` first, then by their last activity: the devices where the account is logged in."""
    now = now or utcnow()
    idle = timedelta(seconds=int(current_app.config["SESSION_IDLE_TIMEOUT"]))
    absolute = timedelta(seconds=int(current_app.config["SESSION_ABSOLUTE_TIMEOUT"]))
    current = _digest(current_token)
    rows = db.session.execute(
        select(
            UserSession.id,
            UserSession.user_agent,
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.token_hash,
        ).where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at >= now - idle,
            UserSession.created_at >= now - absolute,
        )
    ).all()
    listed = [OpenSession(row[0], row[1], row[2], row[3], hmac.compare_digest(row[4], current)) for row in rows]
    return sorted(listed, key=lambda s: (not s.current, -s.last_seen_at.timestamp(), -s.id))


def end_own_sessions(user_id: int, current_token: str, password: str, session_id: int | None = None) -> int:
    """End, once the user has given their password again, one of their other sessions (``session_id``) or every
    other one (``None``); the session of ``current_token`` stays (logging out ends it). Returns how many ended;
    the security log records it. Raises ``InvalidData`` (wrong password) and ``NotFound`` (a session that is not
    one of the user's other open ones); the caller logs a wrong password (this transaction is rolled back)."""
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or not user.has_password:
            raise NotFound(Msg("El usuario no existe."))
        if not verify_password(user.password_hash, password):
            raise InvalidData(Msg("La contraseña no es correcta."))
        ended = _revoke_all(session, user_id, "ended_by_user", utcnow(), keep_token=current_token, only_id=session_id)
        if session_id is not None and not ended:
            raise NotFound(Msg("Esa sesión no existe o ya terminó."))
        return ended


# -- second factor -----------------------------------------------------------------------------------


class TotpStatus(StrEnum):
    """Where a user stands with the second factor."""

    NONE = "none"
    PENDING = "pending"
    CONFIRMED = "confirmed"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the enrolment page shows once: the secret (base32) and the ``otpauth://`` URI for the QR code."""

    secret: str
    uri: str


def totp_status(user_id: int) -> TotpStatus:
    """Whether ``user_id`` has no second factor, is enrolling, or has confirmed one."""
    credential = db.session.get(TotpCredential, user_id)
    if credential is None:
        return TotpStatus.NONE
    return TotpStatus.CONFIRMED if credential.confirmed_at is not None else TotpStatus.PENDING


def _locked_credential(user_id: int) -> Select[TotpCredential]:
    """The second factor of ``user_id``, read afresh and locked until the transaction ends."""
    stmt = select(TotpCredential).where(TotpCredential.user_id == user_id).with_for_update()
    return stmt.execution_options(populate_existing=True)


def begin_enrolment(user_id: int) -> Enrolment:
    """The secret to enrol (a new one, or the one already being enrolled, so a reload shows the same QR).

    Raises ``NotAllowed`` once the second factor is confirmed: the secret is never shown again.
    """
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(Msg("El usuario no existe."))
        credential = session.scalars(_locked_credential(user_id)).first()
        if credential is None:
            # two first visits at once (a double click, two tabs): one inserts, the other goes on with its row
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.execute(
                insert(TotpCredential)
                .values(user_id=user_id, secret_encrypted=encrypt(pyotp.random_base32()), created_at=utcnow())
                .on_conflict_do_nothing(index_elements=[TotpCredential.user_id])
            )
            credential = session.scalars(_locked_credential(user_id)).one()
        if credential.confirmed_at is not None:
            raise NotAllowed(Msg("Su segundo factor ya está activo."))
        secret = decrypt(credential.secret_encrypted)
        if secret is None:  # sealed with another SECRET_KEY: enrol with a new one
            secret = pyotp.random_base32()
            credential.secret_encrypted = encrypt(secret)
        issuer = str(current_app.config["INSTITUTION_NAME"])
        uri = pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(name=user.email, issuer_name=issuer)
        return Enrolment(secret=secret, uri=uri)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = int(now.timestamp()) // TOTP_INTERVAL
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(session: Session, user_id: int) -> list[str]:
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        session.add(RecoveryCode(user_id=user_id, code_hash=hash_password(code)))
    return codes


def confirm_enrolment(user_id: int, code: str, now: datetime | None = None) -> list[str]:
    """Confirm the second factor being enrolled with a current ``code``; returns the new recovery codes
    (shown once). Raises ``InvalidData`` for a wrong code and ``NotAllowed`` when nothing is being enrolled."""
    now = now or utcnow()
    with unit_of_work() as session:
        # locked: a double submit confirms once; the second finds it confirmed and issues no other codes
        credential = session.scalars(_locked_credential(user_id)).first()
        if credential is None or credential.confirmed_at is not None:
            raise NotAllowed(Msg("No hay un segundo factor pendiente de activar."))
        secret = decrypt(credential.secret_encrypted)
        step = None if secret is None else _matching_step(secret, code, now)
        if step is None:
            raise InvalidData(
                Msg("El código no es correcto. Escriba el código de seis dígitos que muestra su aplicación.")
            )
        credential.confirmed_at = now
        credential.last_step = step
        codes = _new_recovery_codes(session, user_id)
        security_log.record(SecurityEventKind.TOTP_ENROLLED, user_id=user_id, session=session)
        return codes


def _normalise_recovery(code: str) -> str:
    raw = "".join(c for c in code.lower() if c.isalnum())
    return f"{raw[:5]}-{raw[5:]}"


def verify_second_factor(user_id: int, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is a current TOTP code not used before, or an unused recovery code (which is then
    spent). The accepted time step is remembered, so a replayed code is refused."""
    now = now or utcnow()
    with unit_of_work() as session:
        credential = session.scalars(_locked_credential(user_id)).first()
        if credential is None or credential.confirmed_at is None:
            return False
        return _accept_code(session, credential, code, now)


def _accept_code(session: Session, credential: TotpCredential, code: str, now: datetime) -> bool:
    """:func:`verify_second_factor`'s check of ``code`` against the confirmed (and locked) ``credential``: a TOTP
    code newer than the last one accepted is remembered, a recovery code is spent."""
    compact = "".join(code.split())
    if len(compact) == 6 and compact.isdigit():
        secret = decrypt(credential.secret_encrypted)
        step = None if secret is None else _matching_step(secret, compact, now)
        if step is None or (credential.last_step is not None and step <= credential.last_step):
            return False
        credential.last_step = step
        return True
    user_id = credential.user_id
    candidate = _normalise_recovery(compact)
    unused = session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ).all()
    stored = next((row for row in unused if verify_password(row.code_hash, candidate)), None)
    if stored is None:
        return False
    stored.used_at = now
    security_log.record(
        SecurityEventKind.RECOVERY_CODE_USED,
        user_id=user_id,
        details={"remaining": len(unused) - 1},
        session=session,
    )
    return True


# -- changing one's second factor ----------------------------------------------------------------------

SECOND_FACTOR_CHANGE_TTL = timedelta(minutes=15)
"""How long the new authenticator app's key, shown once the password and a code were given, can be confirmed."""

WRONG_PASSWORD = Msg("La contraseña no es correcta.")
WRONG_CODE = Msg("El código no es correcto o ya se usó. Espere el siguiente código e intente de nuevo.")
CHANGE_LAPSED = Msg("El cambio de aplicación caducó o ya se hizo. Empiece de nuevo.")


@dataclass(frozen=True, slots=True)
class SecondFactorSummary:
    """What one's second-factor page shows: since when it is active and how many recovery codes are unused."""

    confirmed_at: datetime
    recovery_codes_left: int


def second_factor_summary(user_id: int) -> SecondFactorSummary | None:
    """The confirmed second factor of ``user_id``, or ``None`` when it has none (or is still enrolling)."""
    confirmed_at = db.session.scalar(select(TotpCredential.confirmed_at).where(TotpCredential.user_id == user_id))
    if confirmed_at is None:
        return None
    left = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return SecondFactorSummary(confirmed_at, int(left or 0))


def _reauthenticated(session: Session, user_id: int, password: str, code: str, now: datetime) -> TotpCredential:
    """The locked, confirmed second factor of ``user_id`` once its owner gave the password and a code of it
    again (a TOTP code is then remembered, a recovery code spent). Raises ``InvalidData`` with
    :data:`WRONG_PASSWORD` or :data:`WRONG_CODE` (nothing is then written) and ``NotAllowed`` without a confirmed
    second factor."""
    user = session.get(User, user_id)
    if user is None or not user.active or not user.has_password:
        raise NotFound(Msg("El usuario no existe."))
    credential = session.scalars(_locked_credential(user_id)).first()
    if credential is None or credential.confirmed_at is None:
        raise NotAllowed(Msg("Su cuenta no tiene activa la verificación en dos pasos."))
    if not verify_password(user.password_hash, password):
        raise InvalidData(WRONG_PASSWORD)
    if not _accept_code(session, credential, code, now):
        raise InvalidData(WRONG_CODE)
    return credential


def renew_recovery_codes(user_id: int, password: str, code: str, now: datetime | None = None) -> list[str]:
    """New recovery codes for ``user_id`` (shown once), once the password and a code were given again; every
    earlier unused code stops working, the security log records it and the account's address is told."""
    now = now or utcnow()
    with unit_of_work() as session:
        _reauthenticated(session, user_id, password, code, now)
        codes = _new_recovery_codes(session, user_id)
        security_log.record(
            SecurityEventKind.TOTP_ENROLLED, user_id=user_id, details={"change": "recovery_codes"}, session=session
        )
        _tell_owner(session, user_id, "recovery_codes_renewed", now)
        return codes


def begin_second_factor_change(user_id: int, password: str, code: str, now: datetime | None = None) -> str:
    """Start moving the second factor of ``user_id`` to another authenticator app, once the password and a code
    of the current one were given again. Returns the new key sealed (encrypted and dated) for the person's
    browser session: the current app keeps working until :func:`confirm_second_factor_change` is given a code of
    the new one, within :data:`SECOND_FACTOR_CHANGE_TTL`."""
    now = now or utcnow()
    with unit_of_work() as session:
        credential = _reauthenticated(session, user_id, password, code, now)
        confirmed = credential.confirmed_at.isoformat() if credential.confirmed_at else ""
        secret = pyotp.random_base32()
        # bound to the account and to the factor it replaces: once confirmed (or replaced) it is spent
        return _fernet().encrypt_at_time(f"{user_id}|{confirmed}|{secret}".encode(), int(now.timestamp())).decode()


def begin_second_factor(user_id: int, password: str, now: datetime | None = None) -> str:
    """Start turning the second factor on for ``user_id``, an account without one (anyone may: a requester, an
    applicant), once the password was given again. Returns the new key sealed for the person's browser session,
    as :func:`begin_second_factor_change` does; :func:`confirm_second_factor_change` turns it on with a code of
    the app. Raises ``InvalidData`` (:data:`WRONG_PASSWORD`) and ``NotAllowed`` when a factor is already active."""
    now = now or utcnow()
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or not user.has_password:
            raise NotFound(Msg("El usuario no existe."))
        credential = session.get(TotpCredential, user_id)
        if credential is not None and credential.confirmed_at is not None:
            raise NotAllowed(Msg("Su segundo factor ya está activo."))
        if not verify_password(user.password_hash, password):
            raise InvalidData(WRONG_PASSWORD)
        secret = pyotp.random_base32()
        return _fernet().encrypt_at_time(f"{user_id}||{secret}".encode(), int(now.timestamp())).decode()


def remove_second_factor(user_id: int, password: str, code: str, now: datetime | None = None) -> None:
    """Turn off the second factor of ``user_id``, once the password and a code were given again: the key and the
    recovery codes are deleted, the security log records it and the account's address is told. Raises
    ``NotAllowed`` for an account whose roles oblige it to one (:func:`second_factor_required`) or that has none,
    and ``InvalidData`` for a wrong password or code (nothing is then written)."""
    now = now or utcnow()
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is not None and second_factor_required(user):
            raise NotAllowed(Msg("Su función en el municipio exige la verificación en dos pasos."))
        _reauthenticated(session, user_id, password, code, now)
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
        security_log.record(
            SecurityEventKind.SECOND_FACTOR_RESET, user_id=user_id, details={"by": user_id}, session=session
        )
        _tell_owner(session, user_id, "second_factor_removed", now)


def _pending_secret(user_id: int, sealed: str, confirmed_at: datetime | None, now: datetime) -> str | None:
    """The new key in ``sealed`` when it is ``user_id``'s, replaces the factor confirmed at ``confirmed_at`` (or
    turns one on, for ``None``) and is not older than :data:`SECOND_FACTOR_CHANGE_TTL`; ``None`` otherwise."""
    try:
        raw = _fernet().decrypt_at_time(
            sealed.encode(), int(SECOND_FACTOR_CHANGE_TTL.total_seconds()), int(now.timestamp())
        )
    except (InvalidToken, ValueError):
        return None
    owner, _, rest = raw.decode().partition("|")
    confirmed, _, secret = rest.partition("|")
    expected = confirmed_at.isoformat() if confirmed_at is not None else ""
    if owner != str(user_id) or confirmed != expected or not secret:
        return None
    return secret


def pending_second_factor(user_id: int, sealed: str, now: datetime | None = None) -> Enrolment | None:
    """The new authenticator app's key (and its ``otpauth://`` URI) of a change begun by ``user_id`` in this
    browser, or ``None`` when there is none still valid."""
    now = now or utcnow()
    credential = db.session.get(TotpCredential, user_id)
    user = db.session.get(User, user_id)
    if user is None:
        return None
    secret = _pending_secret(user_id, sealed, None if credential is None else credential.confirmed_at, now)
    if secret is None:
        return None
    issuer = str(current_app.config["INSTITUTION_NAME"])
    uri = pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(name=user.email, issuer_name=issuer)
    return Enrolment(secret=secret, uri=uri)


@dataclass(frozen=True, slots=True)
class SecondFactorChange:
    """A confirmed change of authenticator app: the new recovery codes (shown once) and how many of the
    account's other sessions ended."""

    codes: list[str]
    sessions_ended: int


def confirm_second_factor_change(
    user_id: int, sealed: str, code: str, current_token: str, now: datetime | None = None
) -> SecondFactorChange:
    """Finish the change begun with :func:`begin_second_factor_change` (or the turning on begun with
    :func:`begin_second_factor`): ``code`` must come from the new app. The account then uses only the new one,
    gets new recovery codes, its other sessions end (this one stays), the security log records it and the
    account's address is told. Raises ``NotAllowed`` (:data:`CHANGE_LAPSED`) for a change no longer valid and
    ``InvalidData`` (:data:`WRONG_CODE`) for a wrong code."""
    now = now or utcnow()
    with unit_of_work() as session:
        # the account is locked: two confirmations at once (a double submit) go one after the other
        if session.scalars(select(User.id).where(User.id == user_id).with_for_update()).first() is None:
            raise NotAllowed(CHANGE_LAPSED)
        credential = session.scalars(_locked_credential(user_id)).first()
        confirmed_at = None if credential is None else credential.confirmed_at
        secret = _pending_secret(user_id, sealed, confirmed_at, now)
        if secret is None:
            raise NotAllowed(CHANGE_LAPSED)
        step = _matching_step(secret, code, now)
        if step is None:
            raise InvalidData(WRONG_CODE)
        if credential is None:  # turned on: the row is made here, its values set below as for a change
            credential = TotpCredential(user_id=user_id)
            session.add(credential)
        credential.secret_encrypted = encrypt(secret)
        credential.created_at = now
        credential.confirmed_at = now
        credential.last_step = step
        codes = _new_recovery_codes(session, user_id)
        turned_on = confirmed_at is None
        reason = "second_factor_enabled" if turned_on else "second_factor_changed"
        ended = _revoke_all(session, user_id, reason, now, keep_token=current_token)
        security_log.record(
            SecurityEventKind.TOTP_ENROLLED,
            user_id=user_id,
            details={"change": "enabled" if turned_on else "device", "sessions_ended": ended},
            session=session,
        )
        _tell_owner(session, user_id, reason, now)
        return SecondFactorChange(codes, ended)


def _tell_owner(session: Session, user_id: int, topic: str, now: datetime) -> None:
    """Put in the outbox the notice ``topic`` to the account's own address (a change it did not make shows)."""
    enqueue(session, topic=topic, dedup_key=f"{topic}:{user_id}:{now.isoformat()}", payload={}, recipient_id=user_id)


# -- passwords ---------------------------------------------------------------------------------------


def change_password(user_id: int, current: str, new: str) -> None:
    """Change the password of a logged-in user who knows the current one, then end all their sessions; the
    account's address is told (ASVS 6.3.7).

    Raises ``InvalidData`` when the current password is wrong or the new one breaks the policy.
    """
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or not user.has_password:
            raise NotFound(Msg("El usuario no existe."))
        if not verify_password(user.password_hash, current):
            raise InvalidData(Msg("La contraseña actual no es correcta."))
        check_password(new, email=user.email, display_name=user.display_name)
        if verify_password(user.password_hash, new):
            raise InvalidData(Msg("La contraseña nueva debe ser distinta de la actual."))
        user.password_hash = hash_password(new)
        security_log.record(SecurityEventKind.PASSWORD_CHANGED, user_id=user_id, session=session)
        now = utcnow()
        _revoke_all(session, user_id, "password_changed", now)
        _tell_owner(session, user_id, "password_changed", now)


def request_password_reset(email: str, *, ip: str = "", path: str = "") -> None:
    """Send a reset link to ``email`` when it belongs to an active account; otherwise do nothing. The caller
    answers the same either way. The link's token goes into the outbox encrypted and into the table hashed."""
    address = normalise_email(email)
    ttl = timedelta(seconds=int(current_app.config["PASSWORD_RESET_TTL"]))
    with unit_of_work() as session:
        user = session.scalars(select(User).where(User.email == address)).first()
        details: dict[str, Any] = {}
        if user is None or not user.active or not user.has_password:
            details["account"] = security_log.email_digest(address)
            security_log.record(
                SecurityEventKind.PASSWORD_RESET_REQUESTED,
                ip=ip,
                path=path,
                details={**details, "sent": False},
                session=session,
            )
            return
        _mail_password_link(session, user.id, "password_reset", ttl, {"minutes": int(ttl.total_seconds() // 60)})
        security_log.record(
            SecurityEventKind.PASSWORD_RESET_REQUESTED,
            user_id=user.id,
            ip=ip,
            path=path,
            details={"sent": True},
            session=session,
        )


def invite_user(
    email: str, display_name: str, grants: Sequence[RoleGrant], actor_id: int, locale: Locale = Locale.ES_MX
) -> int:
    """Create a public servant's account (as :func:`app.services.users.create_user`, in the audit log with the
    administrator) whose owner chooses the password: nobody knows the one it starts with, and a single-use link to
    choose it, valid ``ACCOUNT_INVITATION_TTL``, goes to the address (the password-reset page; using it proves the
    address). The administrator never knows the password; ``locale``: the language its pages and mail (the
    link's too) speak. Returns the new account's id. Raises ``InvalidData``
    (an address, name, department or role the account rules refuse; an address already in use)."""
    ttl = timedelta(seconds=int(current_app.config["ACCOUNT_INVITATION_TTL"]))
    with unit_of_work() as session:  # the account and its link together, or neither
        user_id = create_user(
            email, display_name, secrets.token_urlsafe(48), grants, created_by=actor_id, locale=locale
        )
        _mail_password_link(session, user_id, "account_invitation", ttl, {"hours": int(ttl.total_seconds() // 3600)})
    return user_id


def send_password_link(user_id: int, actor_id: int) -> str:
    """An administrator sends the account ``user_id`` a new single-use link to choose its password (the
    administrator never sees it): an invitation again (valid ``ACCOUNT_INVITATION_TTL``) to an account that never
    logged in (an invitation that expired unused), else a reset link (valid ``PASSWORD_RESET_TTL``). The security
    and audit logs name the administrator. Returns the mail's topic. Raises ``NotFound`` (unknown account) and
    ``NotAllowed`` (an inactive account, or one without a password of its own)."""
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(Msg("El usuario no existe."))
        if not user.active or not user.has_password:
            raise NotAllowed(Msg("Esta cuenta está inactiva o no tiene contraseña propia: no se le envía un enlace."))
        logged_in = session.scalar(select(UserSession.id).where(UserSession.user_id == user_id).limit(1))
        if logged_in is None:
            topic, setting, payload_key, unit = "account_invitation", "ACCOUNT_INVITATION_TTL", "hours", 3600
        else:
            topic, setting, payload_key, unit = "password_reset", "PASSWORD_RESET_TTL", "minutes", 60
        ttl = timedelta(seconds=int(current_app.config[setting]))
        _mail_password_link(session, user_id, topic, ttl, {payload_key: int(ttl.total_seconds() // unit)})
        security_log.record(
            SecurityEventKind.PASSWORD_RESET_REQUESTED,
            user_id=user_id,
            details={"sent": True, "by": actor_id},
            session=session,
        )
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="password_link_sent",
                actor_id=actor_id,
                actor_role=Role.ADMIN.value,
                details={"user_id": user_id, "topic": topic},
            ),
        )
        return topic


def _mail_password_link(session: Session, user_id: int, topic: str, ttl: timedelta, payload: dict[str, Any]) -> None:
    """Put in the outbox (``topic``) a single-use link to choose the password of ``user_id``, valid ``ttl``: its
    token hashed in the table, sealed in the message."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = PasswordResetToken(token_hash=_digest(token), user_id=user_id, created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    enqueue(
        session,
        topic=topic,
        dedup_key=f"{topic}:{row.id}",
        payload={"sealed": encrypt(token), **payload},
        recipient_id=user_id,
    )


def _live_reset(session: Session, token: str, now: datetime, *, lock: bool = False) -> PasswordResetToken | None:
    stmt = select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(stmt).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return row if user is not None and user.active else None


def reset_token_is_valid(token: str, now: datetime | None = None) -> bool:
    """Whether ``token`` is an unused, unexpired reset link of an active account."""
    return _live_reset(db.session(), token, now or utcnow()) is not None


def reset_password(token: str, new: str, *, ip: str = "", path: str = "", now: datetime | None = None) -> int:
    """Set a new password through a reset link; the link and every other open link of the user stop
    working, and every session of the user ends. Returns the user id.

    Raises ``InvalidData`` for an unknown, used or expired link or a password that breaks the policy.
    """
    now = now or utcnow()
    with unit_of_work() as session:
        # the link is read locked: used twice at once, the second waits, then finds it used and is refused
        row = _live_reset(session, token, now, lock=True)
        if row is not None:
            return _reset_with(session, row, new, ip=ip, path=path, now=now)
    # recorded in a transaction of its own: the refusal would roll back one it shared
    security_log.record(SecurityEventKind.PASSWORD_RESET_REFUSED, ip=ip, path=path)
    raise InvalidData(INVALID_RESET)


def _reset_with(session: Session, row: PasswordResetToken, new: str, *, ip: str, path: str, now: datetime) -> int:
    """:func:`reset_password`'s work once its link is found live (and locked)."""
    user = session.get(User, row.user_id)
    if user is None or not user.has_password:  # a link issued before the account lost its password
        raise InvalidData(INVALID_RESET)
    check_password(new, email=user.email, display_name=user.display_name)
    user.password_hash = hash_password(new)
    # the link came to the address: it is proven (an account registered and never confirmed logs in from now
    # on, with the password its owner just chose)
    user.email_confirmed_at = user.email_confirmed_at or now
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    security_log.record(SecurityEventKind.PASSWORD_RESET, user_id=user.id, ip=ip, path=path, session=session)
    _revoke_all(session, user.id, "password_reset", now)
    return user.id


def compose_account_mail(session: Session, message: OutboxMessage) -> tuple[str, str, str] | None:
    """(to, subject, body) for an account mail in the outbox, or ``None`` when it is not one or cannot go."""
    if message.topic not in ACCOUNT_TEMPLATES or message.recipient_id is None:
        return None
    user = session.get(User, message.recipient_id)
    if user is None or not user.active:
        return None
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    procedure_title = ""
    if message.topic in ("password_reset", "account_invitation"):
        token = decrypt(str(message.payload.get("sealed", "")))
        if token is None:
            return None
        url = f"{base}/contrasena/restablecer/{token}"
    elif message.topic in ("email_confirmation", "email_change"):
        # it goes to an address typed into a public form: it carries a link, never typed text
        token = decrypt(str(message.payload.get("sealed", "")))
        if token is None:
            return None
        url = f"{base}/confirmar-correo/{token}"
    elif message.topic == "filing_receipt":
        # the secret tracking link of a case filed without an account, at its procedure's tracking path
        token = decrypt(str(message.payload.get("sealed", "")))
        receipt = _receipt_of(session, message.case_id)
        if token is None or receipt is None:
            return None
        url = f"{base}{receipt.tracking_path}{token}"
        procedure_title = receipt.title
    elif message.topic in ("account_exists", "password_changed", "second_factor_removed"):
        url = f"{base}/contrasena/olvide"
    else:
        url = f"{base}/login"
    to = user.email
    if message.topic in ("email_change", "email_changed"):
        # the new address that must prove itself, or the old one told of the change: not the account's
        sealed_to = decrypt(str(message.payload.get("to", "")))
        if sealed_to is None:
            return None
        to = sealed_to
    minutes = int(message.payload.get("minutes", 0))
    mail = render_account_mail(
        message.topic,
        user.locale.value,
        # a name typed into the public registration form may be someone else's text: not in the welcome
        name=user.display_name
        if user.has_password and message.topic not in ("account_created", "email_change")
        else "",
        url=url,
        minutes=minutes,
        folio=str(message.payload.get("folio", "")),
        hours=int(message.payload.get("hours", 0)),
        procedure_title=procedure_title,
    )
    return to, mail.subject, mail.body


@dataclass(frozen=True, slots=True)
class _Receipt:
    tracking_path: str
    title: str


def _receipt_of(session: Session, case_id: int | None) -> _Receipt | None:
    """Where the tracking link of case ``case_id`` leads and its procedure's title; ``None`` when the case or a
    tracking path is missing (the receipt then cannot go)."""
    if case_id is None:
        return None
    workflow = session.scalar(select(Case.workflow).where(Case.id == case_id))
    procedure = REGISTRY.get(workflow) if workflow is not None and workflow in REGISTRY else None
    if procedure is None or procedure.tracking_path is None:
        return None
    return _Receipt(procedure.tracking_path, procedure.title)


# -- accounts ----------------------------------------------------------------------------------------


class AccountChange(NamedTuple):
    """The account an administrator's act concerned, and whether the act changed it (false: nothing to do)."""

    user_id: int
    changed: bool


def deactivate_user(user_id: int, actor_id: int | None = None) -> bool:
    """Deactivate an account: it can no longer log in and every session it has ends. Logged in the audit log
    (ids only) and the security log. An account already inactive is left as it is and nothing is logged (but a
    session still open ends). Returns whether the account was active. Raises ``NotFound`` for an unknown user."""
    with unit_of_work() as session:
        # locked: deactivations at once (or again) find it inactive after the first and log nothing
        user = session.get(User, user_id, with_for_update=True, populate_existing=True)
        if user is None:
            raise NotFound(Msg("El usuario no existe."))
        if not user.active:
            _revoke_all(session, user_id, "deactivated", utcnow())  # a session left open ends (and only that logs)
            return False
        user.active = False
        _revoke_all(session, user_id, "deactivated", utcnow())
        security_log.record(
            SecurityEventKind.USER_DEACTIVATED, user_id=user_id, details={"by": actor_id}, session=session
        )
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="user_deactivated",
                actor_id=actor_id,
                actor_role=Role.ADMIN.value if actor_id else "system",
                details={"user_id": user_id},
            ),
        )
        return True


def deactivate_by_email(email: str) -> AccountChange:
    """Deactivate the account with ``email`` (see :func:`deactivate_user`); returns its id and whether it was
    active.

    Raises ``NotFound`` when no account has that address.
    """
    user_id = db.session.scalars(select(User.id).where(User.email == normalise_email(email))).first()
    end_read(db.session())
    if user_id is None:
        raise NotFound(Msg("No hay una cuenta con ese correo electrónico."))
    return AccountChange(user_id, deactivate_user(user_id))


def end_sessions_by_email(email: str) -> int:
    """End every live session of the account with ``email`` (an administrator's action); returns how many.

    Raises ``NotFound`` when no account has that address.
    """
    user_id = db.session.scalars(select(User.id).where(User.email == normalise_email(email))).first()
    end_read(db.session())
    if user_id is None:
        raise NotFound(Msg("No hay una cuenta con ese correo electrónico."))
    return revoke_sessions(user_id, "ended_by_admin")


def end_everyones_sessions() -> tuple[int, int]:
    """End every live session of every account at once (an administrator's action after a suspected compromise:
    everyone logs in again); each account's end is in the security log (reason ``ended_for_everyone``). Returns
    (sessions, accounts)."""
    reason = "ended_for_everyone"
    with unit_of_work() as session:
        # one UPDATE for every session, not one per account: after years, every citizen who ever logged in
        ended = session.scalars(
            update(UserSession)
            .where(UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .returning(UserSession.user_id)
            .execution_options(synchronize_session=False)
        )
        per_account = Counter(ended)
        security_log.record_for_each(
            SecurityEventKind.SESSION_REVOKED,
            {user_id: {"reason": reason, "sessions": count} for user_id, count in sorted(per_account.items())},
            session=session,
        )
        return per_account.total(), len(per_account)


def reset_second_factor_by_email(email: str) -> AccountChange:
    """Remove the second factor (secret and recovery codes) of the account with ``email`` and end its sessions,
    for a staff member who lost both the phone and the codes; they enrol again at their next login. An
    administrator does this only after proving the person's identity. Logged in the audit log (ids only) and
    the security log; returns the user id and whether there was a second factor to remove. An account without
    one is left as it is and nothing is logged. Raises ``NotFound`` when no account has that address.
    """
    user_id = db.session.scalars(select(User.id).where(User.email == normalise_email(email))).first()
    end_read(db.session())
    if user_id is None:
        raise NotFound(Msg("No hay una cuenta con ese correo electrónico."))
    return reset_second_factor(user_id)


def reset_second_factor(user_id: int, actor_id: int | None = None) -> AccountChange:
    """:func:`reset_second_factor_by_email` of the account ``user_id``; ``actor_id``: the administrator who did it
    (from the administration pages). Raises ``NotFound`` for an unknown user."""
    with unit_of_work() as session:
        # the account is locked: two resets at once go one after the other, and the second finds nothing to remove
        found = session.scalars(select(User.id).where(User.id == user_id).with_for_update()).first()
        if found is None:
            raise NotFound(Msg("El usuario no existe."))
        codes = session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        credentials = session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
        if not (getattr(codes, "rowcount", 0) or getattr(credentials, "rowcount", 0)):
            return AccountChange(user_id, False)  # no second factor: nothing removed, ended or logged
        security_log.record(
            SecurityEventKind.SECOND_FACTOR_RESET, user_id=user_id, details={"by": actor_id}, session=session
        )
        _revoke_all(session, user_id, "second_factor_reset", utcnow())
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="second_factor_reset",
                actor_id=actor_id,
                actor_role=Role.ADMIN.value if actor_id else "system",
                details={"user_id": user_id},
            ),
        )
        return AccountChange(user_id, True)
