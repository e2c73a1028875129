"""The accounts as the administrators' pages list them: who holds which roles, whether the account is active,
confirmed and has a second factor, its open sessions and the open cases assigned to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.database import end_read
from app.engine import Msg, NotFound
from app.extensions import db
from app.models import STAFF_ROLES, Case, Role, TotpCredential, User, UserRole, UserSession, utcnow

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 254


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One account in the list."""

    id: int
    name: str
    email: str
    active: bool
    confirmed: bool
    second_factor: bool
    roles: tuple[tuple[Role, str | None], ...]


@dataclass(frozen=True, slots=True)
class AccountDetail:
    """One account's page: its row, its open sessions and the open cases assigned to it (not resting)."""

    account: AccountRow
    open_sessions: int
    assigned_open: int


_STAFF_IDS = select(UserRole.user_id).where(UserRole.role.in_(sorted(r.value for r in STAFF_ROLES)))
"""The public servants' accounts, read through the roles' index: a few among what may be many citizens'
accounts, which a walk of the accounts in order would read every one of to find."""


def _rows(users: list[tuple[int, str, str, bool, object]]) -> list[AccountRow]:
    ids = [row[0] for row in users]
    roles: dict[int, list[tuple[Role, str | None]]] = {user_id: [] for user_id in ids}
    enrolled: set[int] = set()
    if ids:
        for user_id, role, department in db.session.execute(
            select(UserRole.user_id, UserRole.role, UserRole.department_code)
            .where(UserRole.user_id.in_(ids))
            .order_by(UserRole.user_id, UserRole.role, UserRole.department_code)
        ):
            roles[user_id].append((role, department))
        enrolled = set(
            db.session.scalars(
                select(TotpCredential.user_id).where(
                    TotpCredential.user_id.in_(ids), TotpCredential.confirmed_at.is_not(None)
                )
            )
        )
    return [
        AccountRow(user_id, name, email, active, confirmed is not None, user_id in enrolled, tuple(roles[user_id]))
        for user_id, name, email, active, confirmed in users
    ]


def list_accounts(query: str = "", *, staff: bool = True, after: int = 0) -> tuple[list[AccountRow], int | None]:
    """A page of accounts in the order they were created, after the account ``after``: public servants (holders of
    a role other than the applicant's) or, with ``staff`` false, the public's; ``query``: a part of the name or
    the address, whatever its case. Returns the page and the account to continue after (``None`` on the last)."""
    query = query.strip()[:MAX_QUERY_LENGTH].lower()
    stmt = (
        select(User.id, User.display_name, User.email, User.active, User.email_confirmed_at)
        .where(User.id.in_(_STAFF_IDS) if staff else User.id.not_in(_STAFF_IDS), User.id > after)
        .order_by(User.id)
        .limit(PAGE_SIZE + 1)
    )
    if query:
        stmt = stmt.where(
            func.lower(User.email).contains(query, autoescape=True)
            | func.lower(User.display_name).contains(query, autoescape=True)
        )
    users = [tuple(row) for row in db.session.execute(stmt)]
    more = len(users) > PAGE_SIZE
    page = _rows(users[:PAGE_SIZE])  # type: ignore[arg-type]
    end_read(db.session())
    return page, (page[-1].id if more else None)


def account_detail(user_id: int) -> AccountDetail:
    """The account ``user_id`` as its administration page shows it. Raises ``NotFound``."""
    user = db.session.execute(
        select(User.id, User.display_name, User.email, User.active, User.email_confirmed_at).where(User.id == user_id)
    ).first()
    if user is None:
        end_read(db.session())
        raise NotFound(Msg("El usuario no existe."))
    now = utcnow()
    idle = timedelta(seconds=int(current_app.config["SESSION_IDLE_TIMEOUT"]))
    absolute = timedelta(seconds=int(current_app.config["SESSION_ABSOLUTE_TIMEOUT"]))
    sessions = db.session.scalar(
        select(func.count()).where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at >= now - idle,
            UserSession.created_at >= now - absolute,
        )
    )
    assigned = db.session.scalar(
        select(func.count()).where(Case.assignee_id == user_id, Case.closed_at.is_(None), Case.resting.is_(False))
    )
    (row,) = _rows([tuple(user)])  # type: ignore[list-item]
    end_read(db.session())
    return AccountDetail(row, int(sessions or 0), int(assigned or 0))
