"""Self-service registration of applicants (property owners, developers and their DROs)."""

from __future__ import annotations

import json
import secrets

from sqlalchemy import select

from app.engine import InvalidData, Msg
from app.models import Role, SecurityEventKind, User
from app.models.users import PASSWORDLESS
from app.notifications import enqueue
from app.services import confirmation, security_log
from app.services.passwords import check_password
from app.services.uow import unit_of_work
from app.services.users import RoleGrant, create_user, hash_password, normalise_email


def register_applicant(display_name: str, email: str, password: str) -> int | None:
    """Create an applicant account and return its id (logged as an administrative audit entry); a welcome
    mail goes to the address.

    When the address already has an account nothing is created, its owner is told by mail, and ``None`` is
    returned; when it belongs to a passwordless requester row (someone filed an access request with it), a
    confirmation link goes to the address and the row becomes this account only once it is used. In every
    case the caller answers the same in both cases so the page never reveals which addresses are
    registered. Raises ``InvalidData`` for a missing name or a password the policy refuses.
    """
    name = " ".join(display_name.split())
    if not name:
        raise InvalidData(Msg("Escriba su nombre completo."))
    check_password(password, email=email, display_name=name)
    address = normalise_email(email)
    existing = _existing_account(address)
    if existing is not None and _passwordless(existing):
        # A requester filed with this address without an account (maybe someone else did, with the
        # owner's address): the registration takes that row over once the address is proven.
        release = json.dumps({"name": name, "password_hash": hash_password(password)})
        with unit_of_work() as session:
            confirmation.issue(session, existing, confirmation.REGISTRATION, release=release)
            security_log.record(
                SecurityEventKind.REGISTRATION, user_id=existing, details={"existing": "requester"}, session=session
            )
        return None
    if existing is not None:
        hash_password(password)  # the same work as a creation, so the answer takes as long
        with unit_of_work() as session:
            enqueue(
                session,
                topic="account_exists",
                dedup_key=f"account_exists:{existing}:{secrets.token_hex(8)}",
                payload={},
                recipient_id=existing,
            )
            security_log.record(
                SecurityEventKind.REGISTRATION, user_id=existing, details={"existing": True}, session=session
            )
        return None
    user_id = create_user(address, name, password, [RoleGrant(Role.APPLICANT)])
    with unit_of_work() as session:
        enqueue(
            session, topic="account_created", dedup_key=f"account_created:{user_id}", payload={}, recipient_id=user_id
        )
        security_log.record(
            SecurityEventKind.REGISTRATION, user_id=user_id, details={"existing": False}, session=session
        )
    return user_id


def _passwordless(user_id: int) -> bool:
    with unit_of_work() as session:
        return session.scalar(select(User.password_hash).where(User.id == user_id)) == PASSWORDLESS


def _existing_account(address: str) -> int | None:
    with unit_of_work() as session:
        return session.scalars(select(User.id).where(User.email == address)).first()
