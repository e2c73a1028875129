"""Self-service registration of applicants (property owners, developers and their DROs)."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import InvalidData, Msg
from app.models import Role, SecurityEvent, SecurityEventKind, User, utcnow
from app.models.users import PASSWORDLESS
from app.notifications import enqueue
from app.services import confirmation, security_log
from app.services.passwords import check_password
from app.services.uow import unit_of_work
from app.services.users import RoleGrant, create_user, hash_password, normalise_email

REPEAT_WINDOW = timedelta(minutes=30)
"""How long the same registration form sent again (a double click, the back button) is taken for a repeat of
the first registration rather than another one."""


def register_applicant(display_name: str, email: str, password: str, *, form_key: str | None = None) -> int | None:
    """Create an applicant account and return its id (logged as an administrative audit entry). The account
    logs in only once its address is proven: a confirmation link goes to the address, and the welcome mail
    follows its use (``app.services.confirmation``).

    When the address already has a confirmed account nothing is created, its owner is told by mail, and ``None``
    is returned; when it belongs to a passwordless requester row (someone filed an access request with it) or to
    an account whose address nobody proved yet (someone registered it and never confirmed, perhaps with another's
    address), a confirmation link goes to the address and the row becomes this registration's account only once
    it is used. In every case the caller answers the same, and none of these accounts logs in before its address
    is proven, so neither the page nor a login attempt after it reveals which addresses are registered. Raises
    ``InvalidData`` for a missing name or a password the policy refuses.

    ``form_key`` is the registration form's own key (fresh each time the form is shown). The same form sent again
    within :data:`REPEAT_WINDOW` (a double click, at the same moment or later) does nothing more: no second
    confirmation link, and no "someone tried to register with your address" mail to the person who just
    registered. The security log keeps the key's digest with the registration.
    """
    name = " ".join(display_name.split())
    if not name:
        raise InvalidData(Msg("Escriba su nombre completo."))
    check_password(password, email=email, display_name=name)
    address = normalise_email(email)
    form = hashlib.sha256(form_key.encode()).hexdigest()[:32] if form_key else None
    existing = _existing_account(address)
    if existing is None:
        try:
            return _create(address, name, password, form)
        except InvalidData:
            existing = _existing_account(address)  # the address was taken a moment ago (the same form, twice)
            if existing is None:
                raise
    password_hash = hash_password(password)  # the work of a creation, so that every answer takes as long
    with unit_of_work() as session:
        # the row locked: the same form sent twice at once goes one after the other, and the second finds the first
        kept = session.execute(
            select(User.password_hash, User.email_confirmed_at).where(User.id == existing).with_for_update()
        ).first()
        if kept is None or (form is not None and _registered_with(session, existing, form)):
            return None
        unproven = kept.email_confirmed_at is None and not kept.password_hash.startswith("!")  # a real password
        if kept.password_hash == PASSWORDLESS or unproven:
            # A requester filed with this address without an account, or someone registered it and never
            # proved it (maybe someone else did, with the owner's address): the registration takes that row
            # over once the address is proven.
            release = json.dumps({"name": name, "password_hash": password_hash})
            if kept.password_hash != PASSWORDLESS:
                # the last registration's link is the only one that works: a link mailed for an earlier one
                # (perhaps someone else's, with their password) cannot confirm an account its owner did not set
                confirmation.withdraw(session, existing, confirmation.REGISTRATION)
            confirmation.issue(session, existing, confirmation.REGISTRATION, release=release)
            _record(session, existing, "requester" if kept.password_hash == PASSWORDLESS else "unconfirmed", form)
            return None
        enqueue(
            session,
            topic="account_exists",
            dedup_key=f"account_exists:{existing}:{secrets.token_hex(8)}",
            payload={},
            recipient_id=existing,
        )
        _record(session, existing, True, form)
    return None


def _create(address: str, name: str, password: str, form: str | None) -> int:
    """Create the account (not confirmed), its confirmation link and its security event in one transaction (a
    repeat of the same form that waited on this one finds the event with the account)."""
    with unit_of_work() as session:
        user_id = create_user(address, name, password, [RoleGrant(Role.APPLICANT)], confirmed=False)
        confirmation.issue(session, user_id, confirmation.REGISTRATION)
        _record(session, user_id, False, form)
        return user_id


def _record(session: Session, user_id: int, existing: bool | str, form: str | None) -> None:
    """The registration's security event: whether the address had an account, and the form key's digest."""
    details: dict[str, object] = {"existing": existing}
    if form is not None:
        details["form"] = form
    security_log.record(SecurityEventKind.REGISTRATION, user_id=user_id, details=details, session=session)


def _registered_with(session: Session, user_id: int, form: str) -> bool:
    """Whether the registration form whose key has the digest ``form`` registered with ``user_id``'s address
    within :data:`REPEAT_WINDOW`."""
    recent = session.scalars(
        select(SecurityEvent.details).where(
            SecurityEvent.user_id == user_id,
            SecurityEvent.kind == SecurityEventKind.REGISTRATION,
            SecurityEvent.occurred_at >= utcnow() - REPEAT_WINDOW,
        )
    )
    return any((details or {}).get("form") == form for details in recent)


def _existing_account(address: str) -> int | None:
    with unit_of_work() as session:
        return session.scalars(select(User.id).where(User.email == address)).first()
