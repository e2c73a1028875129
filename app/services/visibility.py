"""Who may see which case, document and certificate: the object-level half of the permission matrix.

Every view that shows a case's data goes through :func:`readable_case` (or :func:`may_read_case`), so the
rules live here and nowhere else:

- the **applicant** (or requester) sees only the cases they filed;
- **oversight roles** (auditor, guarantor) read every case and change nothing;
- **case-working staff** see a case when it is assigned to them, when they took part in it (they fired a
  transition), when it sits in a state where one of their roles has a step and, for roles held in some
  departments only, in one of those departments ("what is brought to them"), or when it belongs to one of
  their departments *and* that role acts in the case's procedure (a role reads only the procedures it acts
  in). Staff holding a department-less intake, review, inspection or transparency-unit role
  see every case of the workflows they work on, except drafts not yet filed;
- **administrators** manage users, calendars and settings: they do not read case files (they reassign cases
  from the list of folios without opening them).

The endpoint-level half (who may reach which page) is declared on each view (:mod:`app.access_rules`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.database import get_loaded
from app.engine import Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Role, User
from workflows import REGISTRY
from workflows.base import SYSTEM_ROLE, Workflow

OVERSIGHT_ROLES = frozenset({Role.AUDITOR, Role.GUARANTOR})
"""Roles that read every case and change nothing."""

CASEWORK_ROLES = frozenset(
    {Role.INTAKE_CLERK, Role.REVIEWER, Role.INSPECTOR, Role.TRANSPARENCY_UNIT, Role.AREA, Role.COMMITTEE_MEMBER}
)
"""Public servants who act on cases (and therefore have a work queue)."""

WORKFLOW_WIDE_ROLES = frozenset({Role.INTAKE_CLERK, Role.REVIEWER, Role.INSPECTOR, Role.TRANSPARENCY_UNIT})
"""Case-working roles that, held without a department, cover a whole workflow. The others (areas, the
committee) see only what is brought to them."""


@dataclass(frozen=True, slots=True)
class DataRule:
    """One row of the data half of the permission matrix (rendered into ``docs/permissions.md``)."""

    roles: str
    cases: str
    changes: str


DATA_RULES: tuple[DataRule, ...] = (
    DataRule("applicant", "the cases they filed", "their own drafts, documents and applicant steps"),
    DataRule(
        "intake_clerk, reviewer, inspector, transparency_unit",
        "cases assigned to them, cases they acted on, cases of the workflows they act in that are in their "
        "department or waiting for their role; held without a department: every filed case of the workflows "
        "they work on",
        "only the steps of the cases assigned to them (or unassigned cases of their department)",
    ),
    DataRule(
        "area, committee_member",
        "cases brought to them (waiting for their role, in their department) and cases they acted on",
        "only the steps brought to them",
    ),
    DataRule("auditor, guarantor", "every case, the audit log, exports and proofs", "nothing"),
    DataRule(
        "admin",
        "no case files; folios, states and assignees in the assignment list; the audit log",
        "users, calendars, settings, reassignment of cases (a new recorded draw, with a reason)",
    ),
    DataRule(
        "treasury",
        "no case files; the payment orders awaiting payment (folio, reference, amount, due date)",
        "confirms that an order was paid (cashier, bank file, command line): the procedure's confirmation step",
    ),
)


def _holds(user: User, roles: frozenset[Role]) -> bool:
    return any(grant.role in roles for grant in user.roles)


def _acted_on(session: Session, case_id: int, user_id: int) -> bool:
    stmt = select(
        exists().where(
            AuditEntry.case_id == case_id,
            AuditEntry.actor_id == user_id,
            AuditEntry.kind == AuditKind.TRANSITION,
        )
    )
    return bool(session.scalar(stmt))


def _brought_to(workflow: Workflow, case: Case, user: User) -> bool:
    """The case waits in a state where one of the user's roles has a step, in a department they serve."""
    roles = {r for t in workflow.transitions_from(case.state) if not t.owner_only for r in t.roles - {SYSTEM_ROLE}}
    for grant in user.roles:
        if grant.role.value not in roles:
            continue
        if workflow.audience_field and grant.department_code is not None and grant.role not in WORKFLOW_WIDE_ROLES:
            if grant.department_code in (case.data or {}).get(workflow.audience_field, ()):
                return True  # the case was brought to this department (e.g. a request turned to an area)
            continue
        if grant.department_code is None or case.department_code in (None, grant.department_code):
            return True
    return False


def _workflow_wide(workflow: Workflow, case: Case, user: User) -> bool:
    if case.state == workflow.initial:
        return False  # a draft is the applicant's until it is filed
    acting = {r for t in workflow.transitions for r in t.roles}
    return any(
        grant.department_code is None and grant.role in WORKFLOW_WIDE_ROLES and grant.role.value in acting
        for grant in user.roles
    )


def may_read_case(session: Session, case: Case, user: User) -> bool:
    """Whether ``user`` may read ``case`` (its data, documents, certificates and history)."""
    if not user.active:
        return False
    if case.applicant_id == user.id or _holds(user, OVERSIGHT_ROLES):
        return True
    if not _holds(user, CASEWORK_ROLES):
        return False
    if case.assignee_id == user.id:
        return True
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    acting = {r for t in workflow.transitions for r in t.roles}
    # a department's case is read only by its staff whose role acts in that procedure (a finance area
    # answering information requests does not read the construction cases of the finance office)
    departments = {
        g.department_code
        for g in user.roles
        if g.role in CASEWORK_ROLES and g.department_code and g.role.value in acting
    }
    if case.department_code is not None and case.department_code in departments:
        return True
    if _brought_to(workflow, case, user) or _workflow_wide(workflow, case, user):
        return True
    return _acted_on(session, case.id, user.id)


def applicant_alias(session: Session, case: Case, reader: User) -> str | None:
    """The name under which ``reader`` sees the applicant of ``case`` when the procedure lets applicants file
    under a pseudonym (``Procedure.applicant_alias``), or ``None`` when the applicant's own name may be shown.

    Only the applicant reads their own account's name; staff, committees and oversight see the chosen
    pseudonym (the requester's identity stays with the requester).
    """
    if reader.id == case.applicant_id or case.workflow not in REGISTRY:
        return None
    dotted = REGISTRY.get(case.workflow).applicant_alias
    if dotted is None:
        return None
    module_name, _, function = dotted.partition(":")
    alias: Callable[[Session, Case], str | None] = getattr(importlib.import_module(module_name), function)
    return alias(session, case)


def may_know_of_case(case: Case, user: User) -> bool:
    """Whether ``user``, refused ``case``, may be told that it exists (and who acts on it next): a public
    servant holding a role that acts in the case's procedure, within the institution, for whom the reason
    helps (the role or department to ask for), and administrators, who see every folio in the assignment
    list. Anyone else (applicants and requesters; staff of other procedures only) is answered as for a case
    that does not exist, so that case ids cannot be enumerated."""
    if _holds(user, OVERSIGHT_ROLES | {Role.ADMIN}):
        return True
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    acting = {r for t in workflow.transitions for r in t.roles} - {SYSTEM_ROLE, Role.APPLICANT.value}
    return any(grant.role.value in acting for grant in user.roles)


def readable_case(case_id: int, user_id: int, session: Session | None = None) -> tuple[Case, User]:
    """The case and the user, when the user may read the case. Raises ``NotFound`` (no such case or user,
    or a case the user may not read nor be told of: :func:`may_know_of_case`) and ``NotAllowed`` (a case of
    the user's procedures that is not theirs by role or department)."""
    session = session or db.session()
    case = get_loaded(session, Case, case_id)
    user = get_loaded(session, User, user_id)
    if case is None or user is None:
        raise NotFound(Msg("El expediente no existe."))
    if not may_read_case(session, case, user):
        if not may_know_of_case(case, user):
            raise NotFound(Msg("El expediente no existe."))
        raise NotAllowed(Msg("No tiene acceso a este expediente."))
    return case, user


def may_act_on_cases(user: User) -> bool:
    """Whether the user holds a role that acts on cases (applicant or case-working staff)."""
    return _holds(user, CASEWORK_ROLES | {Role.APPLICANT})
