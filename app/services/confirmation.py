"""Proving that someone reads an e-mail address before anything else is mailed to it.

A confirmation is a single-use, expiring link (only its SHA-256 is stored). It is issued when someone files
an access request without an account (nothing about the request is mailed until the address is proven) and
when someone registers: a new account logs in only once its address is proven, and a registration with an
address held by a passwordless requester row, or by an account nobody proved, takes that row over only once
the address is proven. What the link releases is kept sealed (encrypted with a key
derived from ``SECRET_KEY``) and emptied when it is used: the request's tracking token, mailed once to the
confirmed address, or the registration's name and password hash. No mail of these carries text typed by
whoever filled in the form.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.database import end_read
from app.engine import InvalidData, Msg, NotFound
from app.extensions import db
from app.models import AuditKind, Case, EmailConfirmation, Role, SecurityEventKind, User, UserRole, utcnow
from app.models.users import PASSWORDLESS
from app.notifications import enqueue
from app.services import security_log
from app.services.auth import AccountChange, decrypt, encrypt
from app.services.uow import unit_of_work
from app.services.users import EMAIL_SHAPE, MAX_EMAIL_LENGTH, normalise_email, verify_password

FILING = "filing"
"""A filing without an account: its receipt (with the secret tracking link) waits for the confirmation."""
REGISTRATION = "registration"
EMAIL_CHANGE = "email_change"
"""A logged-in user's new address: the link goes to it, and the account's address changes once it is used."""
INVALID_CONFIRMATION = Msg("El enlace de confirmación no es válido, ya se usó o caducó.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    user_id: int,
    purpose: str,
    *,
    case_id: int | None = None,
    release: str = "",
    to: str | None = None,
) -> None:
    """Write a confirmation link for ``user_id``'s address (or for the address ``to``, which the mail then goes
    to, sealed in the outbox) and queue the mail that carries it (in the caller's transaction). ``release`` is
    what confirming hands over (sealed until then)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    ttl = timedelta(seconds=int(current_app.config["EMAIL_CONFIRMATION_TTL"]))
    row = EmailConfirmation(
        token_hash=_digest(token),
        user_id=user_id,
        purpose=purpose,
        case_id=case_id,
        sealed=encrypt(release) if release else None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    folio = session.scalar(select(Case.folio).where(Case.id == case_id)) if case_id is not None else None
    payload: dict[str, str | int] = {
        "sealed": encrypt(token),
        "purpose": purpose,
        "folio": folio or "",
        "hours": int(ttl.total_seconds() // 3600),
    }
    if to is not None:
        payload["to"] = encrypt(to)
    enqueue(
        session,
        topic="email_change" if to is not None else "email_confirmation",
        dedup_key=f"email_confirmation:{row.id}",
        payload=payload,
        recipient_id=user_id,
    )


def withdraw(session: Session, user_id: int, purpose: str) -> None:
    """Make every unused ``purpose`` link of ``user_id`` unusable (in the caller's transaction), and empty what
    they held."""
    session.execute(
        update(EmailConfirmation)
        .where(
            EmailConfirmation.user_id == user_id,
            EmailConfirmation.purpose == purpose,
            EmailConfirmation.used_at.is_(None),
        )
        .values(used_at=utcnow(), sealed=None)
    )


@dataclass(frozen=True, slots=True)
class Confirmed:
    """What a used confirmation link did: its purpose and, for a request, the case."""

    purpose: str
    case_id: int | None


def _live(session: Session, token: str, now: datetime) -> EmailConfirmation | None:
    if not token or len(token) > 100:
        return None
    row = session.scalars(
        select(EmailConfirmation).where(EmailConfirmation.token_hash == _digest(token)).with_for_update()
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def is_valid(token: str, now: datetime | None = None) -> bool:
    """Whether ``token`` is an unused, unexpired confirmation link."""
    found = _live(db.session(), token, now or utcnow()) is not None
    end_read(db.session())
    return found


def confirm(token: str, now: datetime | None = None) -> Confirmed:
    """Use a confirmation link: the address counts as proven, and what the link held is released (the
    request's receipt with its tracking link is mailed; a registration takes over the passwordless row).

    Raises ``InvalidData`` for an unknown, used or expired link.
    """
    now = now or utcnow()
    with unit_of_work() as session:
        row = _live(session, token, now)
        # the user is locked too: two registration links of one address used at once take the row over one
        # after the other, and the second finds it taken (see _take_over)
        user = None if row is None else session.get(User, row.user_id, with_for_update=True, populate_existing=True)
        if row is None or user is None or not user.active:
            raise InvalidData(INVALID_CONFIRMATION)
        released = decrypt(row.sealed) if row.sealed else None
        row.used_at = now
        row.sealed = None
        proven_before = user.email_confirmed_at is not None
        user.email_confirmed_at = user.email_confirmed_at or now
        if row.purpose == FILING and released and row.case_id is not None:
            folio = session.scalar(select(Case.folio).where(Case.id == row.case_id)) or ""
            enqueue(
                session,
                topic="filing_receipt",
                dedup_key=f"filing_receipt:{row.id}",
                payload={
                    "sealed": encrypt(released),
                    "folio": folio,
                },
                recipient_id=user.id,
                case_id=row.case_id,
            )
        elif row.purpose == REGISTRATION and released:
            _take_over(session, user, json.loads(released), proven_before)
        elif row.purpose == REGISTRATION and not proven_before:
            # a new account's own link: it may log in from now on
            _welcome(session, user)
        elif row.purpose == EMAIL_CHANGE and released:
            _change_address(session, user, released, now)
        security_log.record(
            SecurityEventKind.REGISTRATION,
            user_id=user.id,
            details={"confirmed": row.purpose},
            session=session,
        )
        return Confirmed(row.purpose, row.case_id)


def confirm_by_administrator(email: str) -> AccountChange:
    """Count the address of the account with ``email`` as proven without its link (an administrator who saw the
    person's identification at the counter, or a deployment without mail): the account logs in from now on, any
    registration link still pending for it stops working, and the welcome mail is queued. Logged in the security
    log. Returns the user id and whether the address was unproven (an account already confirmed is left as it is).

    Raises ``NotFound`` when no account with a password has that address.
    """
    with unit_of_work() as session:
        user = session.scalars(
            select(User)
            .where(User.email == normalise_email(email))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if user is None or not user.has_password:
            raise NotFound(Msg("No hay una cuenta con ese correo electrónico."))
        if user.email_confirmed_at is not None:
            return AccountChange(user.id, False)
        user.email_confirmed_at = utcnow()
        withdraw(session, user.id, REGISTRATION)
        _welcome(session, user)
        security_log.record(
            SecurityEventKind.REGISTRATION, user_id=user.id, details={"confirmed": "administrator"}, session=session
        )
        return AccountChange(user.id, True)


def request_email_change(user_id: int, password: str, new_email: str) -> None:
    """Start changing the address of the logged-in ``user_id``, who gives their password again: a single-use link
    goes to the new address, and the account's address changes only once it is used (:func:`confirm`); earlier
    links of a change stop working. An address another account holds gets no mail and the same answer (nobody
    learns which addresses have accounts). Raises ``InvalidData`` (wrong password, an address that is not one, the
    account's own) and ``NotFound``."""
    address = normalise_email(new_email)
    with unit_of_work() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None or not user.active or not user.has_password:
            raise NotFound(Msg("El usuario no existe."))
        if not verify_password(user.password_hash, password):
            raise InvalidData(Msg("La contraseña no es correcta."))
        if len(address) > MAX_EMAIL_LENGTH or not EMAIL_SHAPE.match(address) or not address.isprintable():
            raise InvalidData(Msg("El correo electrónico no es válido."))
        if address == user.email:
            raise InvalidData(Msg("Ese ya es el correo de su cuenta."))
        withdraw(session, user.id, EMAIL_CHANGE)
        taken = session.scalar(select(User.id).where(User.email == address)) is not None
        if not taken:
            issue(session, user.id, EMAIL_CHANGE, release=address, to=address)
        security_log.record(
            SecurityEventKind.REGISTRATION,
            user_id=user.id,
            details={"email_change": "requested", "sent": not taken},
            session=session,
        )


def _change_address(session: Session, user: User, address: str, now: datetime) -> None:
    """An e-mail change's link was used: the account takes the new address (unless another account took it
    meanwhile), and the old address is told."""
    if session.scalar(select(User.id).where(User.email == address, User.id != user.id)) is not None:
        raise InvalidData(Msg("Esa dirección ya pertenece a otra cuenta; el correo de su cuenta no cambió."))
    previous = user.email
    user.email = address
    user.email_confirmed_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another account took it at the same moment
        raise InvalidData(Msg("Esa dirección ya pertenece a otra cuenta; el correo de su cuenta no cambió.")) from None
    enqueue(
        session,
        topic="email_changed",
        dedup_key=f"email_changed:{user.id}:{now.isoformat()}",
        payload={"to": encrypt(previous)},
        recipient_id=user.id,
    )


def _welcome(session: Session, user: User) -> None:
    enqueue(session, topic="account_created", dedup_key=f"account_created:{user.id}", payload={}, recipient_id=user.id)


def _take_over(session: Session, user: User, registration: dict[str, str], proven_before: bool) -> None:
    """A proven registration turns the passwordless requester row, or an account whose address nobody had proven
    (registered by someone who never confirmed it), into this registration's applicant account."""
    unproven_account = user.has_password and not proven_before
    if user.password_hash != PASSWORDLESS and not unproven_account:
        return  # someone else's proven registration came first, or the account was closed: it stays as it is
    user.password_hash = registration["password_hash"]
    user.display_name = registration["name"]
    if not user.has_role(Role.APPLICANT):
        user.roles.append(UserRole(role=Role.APPLICANT))
    session.flush()
    _welcome(session, user)
    if unproven_account:
        return  # the account existed (unproven): its creation is in the log already
    audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action="user_created",
            actor_id=None,
            actor_role="system",
            details={"user_id": user.id, "roles": ["applicant:"], "took_over_requester": True},
        ),
    )
