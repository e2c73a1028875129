"""Granting and revoking a user's roles: an administrator's act, in the audit log (ids and roles only).

Roles are read from the database on every request and every transition, so a change applies at once. A role is
not taken from someone who is still the assignee of open cases that only it lets them attend (they are reassigned
first, ``/admin/asignaciones``), nor the administrator's role from the last active administrator.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.engine import InvalidData, Msg, NotFound, get_engine
from app.models import AuditKind, Case, Department, Role, User, UserRole
from app.services.assignment import acting_roles
from app.services.uow import unit_of_work
from app.services.users import RoleGrant, normalise_email
from workflows.base import department_of

MAX_FOLIOS_SHOWN = 5


def _user(session: Session, who: int | str) -> User:
    """The account ``who`` (its id, or its e-mail address), locked."""
    found = User.id == who if isinstance(who, int) else User.email == normalise_email(who)
    user = session.scalars(select(User).where(found).with_for_update()).first()
    if user is None:
        raise NotFound(
            Msg("El usuario no existe.")
            if isinstance(who, int)
            else Msg("No hay una cuenta con ese correo electrónico.")
        )
    return user


def _name(grant: RoleGrant) -> str:
    return f"{grant.role.value}:{grant.department or ''}"


def _held(user: User, grant: RoleGrant) -> UserRole | None:
    return next((r for r in user.roles if r.role == grant.role and r.department_code == grant.department), None)


def _log(session: Session, action: str, user: User, grant: RoleGrant, actor_id: int | None) -> None:
    audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action=action,
            actor_id=actor_id,
            actor_role=Role.ADMIN.value if actor_id else "system",
            details={"user_id": user.id, "role": _name(grant)},
        ),
    )


def grant_role(who: int | str, grant: RoleGrant, actor_id: int | None = None) -> tuple[int, bool]:
    """Give the account ``who`` (its id, or its e-mail address) the role of ``grant`` (in its department).
    Returns the user's id and whether the role was new (a role held already is left as it is, and nothing is
    logged). Raises ``NotFound`` (no such account) and ``InvalidData`` (no such department)."""
    with unit_of_work() as session:
        user = _user(session, who)
        if grant.department is not None and session.get(Department, grant.department) is None:
            raise InvalidData(Msg("El área «%(code)s» no existe.", {"code": grant.department}))
        if _held(user, grant) is not None:
            return user.id, False
        user.roles.append(UserRole(role=grant.role, department_code=grant.department))
        session.flush()
        _log(session, "role_granted", user, grant, actor_id)
        return user.id, True


def revoke_role(who: int | str, grant: RoleGrant, actor_id: int | None = None) -> tuple[int, bool]:
    """Take the role of ``grant`` (in its department) from the account ``who`` (its id, or its e-mail
    address). Returns the user's id and whether they held it (nothing is logged when they did not). Raises
    ``NotFound`` (no such account) and ``InvalidData``: the last active administrator's role, or a role its holder
    still needs for open cases assigned to them (their folios named: reassign them first)."""
    with unit_of_work() as session:
        user = _user(session, who)
        held = _held(user, grant)
        if held is None:
            return user.id, False
        if grant.role == Role.ADMIN and user.active:
            # the administrators' rows locked: two administrators taking the role from each other at once do not
            # both find another one left
            admins = set(
                session.scalars(
                    select(UserRole.user_id)
                    .join(User, User.id == UserRole.user_id)
                    .where(UserRole.role == Role.ADMIN, User.active.is_(True))
                    .with_for_update()
                )
            )
            if len(admins) <= 1:
                raise InvalidData(
                    Msg("No se puede retirar el rol de administrador a la última cuenta activa que lo tiene.")
                )
        remaining = [r for r in user.roles if r is not held]
        stranded = _stranded(session, user.id, remaining)
        if stranded:
            shown = ", ".join(stranded[:MAX_FOLIOS_SHOWN]) + ("…" if len(stranded) > MAX_FOLIOS_SHOWN else "")
            raise InvalidData(
                Msg(
                    "Expedientes abiertos asignados a esa cuenta que sin ese rol ya no podría atender: %(n)s "
                    "(%(folios)s); reasígnelos primero en Asignaciones.",
                    {"n": str(len(stranded)), "folios": shown},
                )
            )
        user.roles.remove(held)
        session.flush()
        _log(session, "role_revoked", user, grant, actor_id)
        return user.id, True


def _stranded(session: Session, user_id: int, remaining: list[UserRole]) -> list[str]:
    """The folios of the open cases assigned to ``user_id`` (not resting) that none of the ``remaining`` roles
    lets them attend where each case stands: a role that acts in its state, in the state's department or in
    none (who serves every department)."""
    engine = get_engine()
    rows = session.execute(
        select(Case.folio, Case.workflow, Case.workflow_version, Case.state, Case.params)
        .where(Case.assignee_id == user_id, Case.closed_at.is_(None), Case.resting.is_(False))
        .order_by(Case.id)
    ).all()
    stranded = []
    for folio, workflow_name, version, state_name, params in rows:
        workflow = engine.definition(workflow_name, version)
        state = workflow.state(state_name)
        acting = acting_roles(workflow, state)
        department = department_of(state, params or workflow.params)
        if not any(
            r.role.value in acting and (r.department_code is None or r.department_code == department) for r in remaining
        ):
            stranded.append(folio)
    return stranded
