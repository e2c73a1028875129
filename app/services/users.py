"""Users: creation, authentication (argon2id) and lookup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.database import is_constant
from app.engine import DomainError, InvalidData, Msg
from app.extensions import db
from app.models import AuditKind, Department, Locale, Role, RowCount, User, UserRole, utcnow
from app.services.passwords import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH  # the one definition
from app.services.passwords import check_password
from app.services.uow import unit_of_work

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("timing-equaliser")


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role to grant, in a department where the role is departmental."""

    role: Role
    department: str | None = None


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored argon2 ``password_hash``."""
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


EMAIL_SHAPE = re.compile(r"\A[^@\s]+@[^@\s]+\Z")
"""An address as the forms accept it (something, one ``@``, something; no spaces)."""
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


def create_user(
    email: str,
    display_name: str,
    password: str,
    grants: Iterable[RoleGrant],
    *,
    locale: Locale = Locale.ES_MX,
    created_by: int | None = None,
    confirmed: bool = True,
) -> int:
    """Create a user with the given roles and return its id. Logged as an administrative audit entry
    (ids and roles only: no e-mail or name in the immutable log).

    An account an administrator creates counts as confirmed (the administrator vouches for the address); a
    self-registration passes ``confirmed=False``, and the account logs in only once a confirmation link mailed
    to the address is used (``app.services.confirmation``).

    Raises ``InvalidData`` for an address that is not one, a name empty, too long or with control characters
    (what the forms refuse, for the command line too), a password the policy refuses (``app.services.passwords``),
    an unknown department or an e-mail already in use.
    """
    grants = list(grants)
    address = normalise_email(email)
    name = display_name.strip()
    if len(address) > MAX_EMAIL_LENGTH or not EMAIL_SHAPE.match(address) or not address.isprintable():
        raise InvalidData(Msg("El correo electrónico no es válido."))
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidData(
            Msg("Indique un nombre de hasta %(n)s caracteres, sin caracteres de control.", {"n": str(MAX_NAME_LENGTH)})
        )
    check_password(password, email=email, display_name=display_name)
    with unit_of_work() as session:
        _refuse_taken_or_unknown(session, address, grants)
        user = User(
            email=address,
            display_name=name,
            password_hash=hash_password(password),
            locale=locale,
            roles=[UserRole(role=g.role, department_code=g.department) for g in grants],
            email_confirmed_at=utcnow() if confirmed else None,
        )
        try:
            with session.begin_nested():
                session.add(user)
        except IntegrityError:
            # on PostgreSQL, an account with this address created at the same moment, or the department just
            # deleted: the same refusal as when it came first, not a server error
            _refuse_taken_or_unknown(session, address, grants)
            raise
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="user_created",
                actor_id=created_by,
                actor_role=Role.ADMIN.value if created_by else "system",
                details={
                    "user_id": user.id,
                    "roles": sorted(f"{g.role.value}:{g.department or ''}" for g in grants),
                },
            ),
        )
        return user.id


def _refuse_taken_or_unknown(session: Session, address: str, grants: Sequence[RoleGrant]) -> None:
    """Raise ``InvalidData`` if an account already has ``address`` or a grant names a department that does not
    exist."""
    if session.scalars(select(User.id).where(User.email == address)).first() is not None:
        raise InvalidData(Msg("Ya existe una cuenta con ese correo electrónico."))
    named = {grant.department for grant in grants if grant.department is not None}
    known = set(session.scalars(select(Department.code).where(Department.code.in_(named)))) if named else set()
    for grant in grants:
        if grant.department is not None and grant.department not in known:
            raise InvalidData(Msg("El área «%(code)s» no existe.", {"code": grant.department}))


def ensure_department(code: str, name: str) -> None:
    """Create the department ``code`` if it does not exist (idempotent). Not logged: test fixtures use it;
    administrators create departments through :mod:`app.services.departments`, which logs every change."""
    with unit_of_work() as session:
        if session.get(Department, code) is None:
            session.add(Department(code=code, name=name))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``. Takes the same time whether or not the
    account exists; upgrades the stored hash when the hashing parameters changed."""
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        with suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except InvalidHashError:
        # no password of its own (a requester who filed without an account, a disabled account): the same work
        # as a wrong password, or the answer's time would tell which addresses filed requests
        with suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    except VerificationError:
        return None
    if not user.active or user.email_confirmed_at is None:
        # an address nobody proved they read: the same answer as a wrong password, after the same work, or
        # "register, then log in" would tell which addresses already had an account
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        with unit_of_work() as session:
            stored = session.get(User, user.id)
            if stored is not None:
                stored.password_hash = hash_password(password)
    return user


def get_user(user_id: int) -> User | None:
    """The user with ``user_id`` (for the login manager), or ``None``."""
    return db.session.get(User, user_id)


def set_locale(user_id: int, locale: Locale) -> None:
    """Change the interface language a user prefers. Raises ``DomainError`` for an unknown user."""
    with unit_of_work() as session:
        user = session.get(User, user_id)
        if user is None:
            raise DomainError(Msg("El usuario no existe."))
        user.locale = locale


def active_holders(role: Role, session: Session | None = None) -> list[User]:
    """The active users who hold ``role`` (in any department), by name: read through the role's grants, not by
    loading every user (most users are applicants) and asking each for their roles."""
    granted = select(UserRole.user_id).where(is_constant(UserRole.role, role))  # planned for the role
    stmt = select(User).where(User.id.in_(granted), User.active.is_(True)).order_by(User.display_name, User.id)
    return list((session or db.session()).scalars(stmt))


def count_users() -> int:
    """How many users exist: the count the database's triggers keep (``row_counts``), not a count of the table,
    which grows with every citizen who files."""
    return db.session.scalars(select(RowCount.n).where(RowCount.name == "users")).one()
