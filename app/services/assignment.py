"""Random, recorded assignment of cases to public servants; reassignment, recusal and escalation.

When a case enters a state whose office the case's settings map to a department, the case is assigned to
one of the active public servants holding a role that acts there, in that department (or in none, which
serves every department). Left out are the applicant, whoever recused themselves or was taken off the case
by a reassignment, and whoever the four-eyes rule would stop from taking the state's decision. Among the
rest, the least loaded (fewest open cases assigned) are kept, and one is drawn with the number
HMAC-SHA-256(seed, ``folio|seq``) (as :func:`workflows.base.draw` computes it), where ``seq`` is the audit
sequence number of the latest entry about the case before the draw. The seed is the quarter's committed
assignment seed (:func:`app.services.seeds.assignment_seed`): its SHA-256 is logged and public at ``/sorteos``
before the quarter's draws, and the seed itself is revealed, logged, once the quarter is over. The audit entry of
the assignment holds the candidates' ids and loads, the digest, the chosen id (ids only, no names) and the seed's
commitment (scope, period, digest, the entry that committed it), so anyone can recompute it from the log once the
seed is revealed, and check it against the commitment made before the draw.

The assignee is the only public servant who may take the case's steps while it is assigned (the engine
refuses the others); an administrator may reassign it (a new draw, with a reason) and the assignee may
recuse themselves (a new draw that leaves them out). When a service target or an authority's deadline
lapses on a case no active person has assigned, the department's staff and the administrators are told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    ScalarSelect,
    Select,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import case as when
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.audit import EntryInput
from app.calendar import local_today
from app.database import column_rows, constant, is_constant, one_of, past
from app.engine import InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import (
    AssignmentExclusion,
    AuditEntry,
    AuditKind,
    Case,
    CaseEscalation,
    EscalationKind,
    ExclusionKind,
    Role,
    Timer,
    TimerKind,
    User,
    UserRole,
    utcnow,
)
from app.notifications import enqueue
from app.services.deadlines import may_have_escalations
from app.services.listing import LISTED_COLUMNS, ListedCase
from app.services.seeds import assignment_seed
from app.services.uow import unit_of_work
from app.services.visibility import may_know_of_case, may_read_case
from workflows.base import SYSTEM_ROLE, State, Workflow, department_of, draw

METHOD = "HMAC-SHA256(seed, folio|seq)"
REASON_MAX = 2000


@dataclass(frozen=True, slots=True)
class Candidate:
    """A public servant who may be drawn, with their open assigned cases."""

    user_id: int
    load: int


@dataclass(frozen=True, slots=True)
class AssignmentDraw:
    """The outcome of one reviewer draw: whom it chose (``None``: nobody was available) and its record."""

    chosen: int | None
    record: dict[str, Any]


def acting_roles(workflow: Workflow, state: State) -> frozenset[str]:
    """The public servants' roles that have a step in ``state`` (the applicant's and the system's excluded)."""
    return frozenset(
        r
        for t in workflow.transitions_from(state.name)
        if not t.owner_only
        for r in t.roles - {SYSTEM_ROLE, Role.APPLICANT.value}
    )


def _four_eyes_triggers(workflow: Workflow, state: State) -> frozenset[str]:
    """The steps whose actors the four-eyes rule stops from taking a decision in ``state``."""
    return frozenset(other for t in workflow.transitions_from(state.name) for other in t.four_eyes_with)


def _open_cases(user_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ScalarSelect[int]:
    """How many open cases waiting for staff are assigned to ``user_id`` (the partial index of those cases'
    assignees answers it): a case resting where no public servant has a step it waits for (a licensed work, for
    years) is no one's load, or a reviewer who granted many licences would never again be the least loaded."""
    return (
        select(func.count())
        .select_from(Case)
        .where(Case.assignee_id == user_id, Case.closed_at.is_(None), Case.resting == false())
        .scalar_subquery()
    )


def loads(session: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """Open cases assigned to each of ``user_ids`` (0 for those with none), counted as a draw counts them."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    users = select(User.id.label("user_id")).where(User.id.in_(ids)).subquery()
    counted = select(users.c.user_id, _open_cases(users.c.user_id).label("load"))
    rows: Sequence[Any] = column_rows(session, counted).all()
    return {int(user_id): int(load) for user_id, load in rows}


@lru_cache(maxsize=256)
def _pool_statement(roles: frozenset[str], four_eyes: bool) -> Executable:
    """The active holders of ``roles`` in the department ``:department`` or in none, one row per grant, each with
    their open assigned cases, whether they were left out of the case ``:case_id`` (recused or taken off) and, when
    ``four_eyes``, whether they took one of the steps ``:four_eyes`` on it: one statement for the whole draw (built
    once per shape). The roles, from the procedures' declarations, are written into the statement
    (:func:`constant`): a plan kept for any roles (a busy connection's prepared statement) expected as many holders
    as the average role has, and read every citizen's grant to find a department's reviewers."""
    case_id = bindparam("case_id", type_=Integer)
    load = _open_cases(UserRole.user_id)
    left_out = exists().where(AssignmentExclusion.case_id == case_id, AssignmentExclusion.user_id == UserRole.user_id)
    blocked: ColumnElement[bool] = literal(False)
    if four_eyes:
        blocked = exists().where(
            AuditEntry.case_id == case_id,
            AuditEntry.kind == AuditKind.TRANSITION,
            AuditEntry.action.in_(bindparam("four_eyes", expanding=True)),
            AuditEntry.actor_id == UserRole.user_id,
        )
    return (
        select(
            UserRole.user_id,
            UserRole.department_code,
            load.label("load"),
            left_out.label("left_out"),
            blocked.label("blocked"),
        )
        .join(User, User.id == UserRole.user_id)
        .where(
            User.active.is_(True),
            one_of(UserRole.role, [constant(Role(role)) for role in sorted(roles)]),
            or_(UserRole.department_code == bindparam("department"), UserRole.department_code.is_(None)),
        )
    )


def _candidates(
    session: Session, case: Case, workflow: Workflow, state: State, department: str, also_exclude: Iterable[int] = ()
) -> tuple[list[Candidate], list[int]]:
    """Who may be drawn (with their open assigned cases) and who was left out: the active holders of a role
    that acts in ``state`` in ``department`` (when it has none, those holding one in no department, who serve
    every department), less the applicant, whoever recused themselves or was taken off the case, whoever the
    four-eyes rule stops, and ``also_exclude``. Read in one statement."""
    roles = acting_roles(workflow, state)
    if not roles:
        return [], []
    triggers = _four_eyes_triggers(workflow, state)
    params: dict[str, Any] = {"case_id": case.id, "department": department}
    if triggers:
        params["four_eyes"] = sorted(triggers)
    members: dict[int, tuple[int, bool]] = {}
    everywhere: dict[int, tuple[int, bool]] = {}
    rows: Sequence[Any] = column_rows(session, _pool_statement(roles, bool(triggers)), params).all()
    for user_id, department_code, load, left_out, blocked in rows:  # by position: an attribute is a look-up
        into = members if department_code == department else everywhere
        into[user_id] = (int(load), bool(left_out) or bool(blocked))
    pool = members or everywhere  # a department with none of its own is served by those of no department
    excluded = {uid for uid, (_, out) in pool.items() if out} | {case.applicant_id} | set(also_exclude)
    ids = sorted(set(pool) - excluded)
    return [Candidate(uid, pool[uid][0]) for uid in ids], sorted(set(pool) & excluded)


def draw_assignee(folio: str, seq: int, candidates: list[Candidate], seed: str) -> AssignmentDraw:
    """Choose among the least loaded of ``candidates`` with HMAC-SHA-256(seed, ``folio|seq``); pure.

    The candidates are ordered by id, the least loaded kept, and the one at ``floor(number × n)`` chosen,
    where ``number`` is the draw's fraction in [0, 1)."""
    ordered = sorted(candidates, key=lambda c: c.user_id)
    result = draw(seed, folio, seq, 0)
    record: dict[str, Any] = {
        "method": METHOD,
        "seq": seq,
        "digest": result.digest,
        "number": f"{float(result.number):.6f}",
        "candidates": [{"id": c.user_id, "load": c.load} for c in ordered],
    }
    if not ordered:
        return AssignmentDraw(None, {**record, "least_loaded": [], "chosen": None})
    least = min(c.load for c in ordered)
    pool = [c.user_id for c in ordered if c.load == least]
    chosen = pool[int(result.number * len(pool))]
    return AssignmentDraw(chosen, {**record, "least_loaded": pool, "chosen": chosen})


def _still_eligible(candidates: list[Candidate], case: Case) -> bool:
    return case.assignee_id is not None and any(c.user_id == case.assignee_id for c in candidates)


def _latest_seq(session: Session, case_id: int) -> int:
    return int(session.scalar(select(func.max(AuditEntry.seq)).where(AuditEntry.case_id == case_id)) or 0)


def _redraw(
    session: Session,
    case: Case,
    seq: int,
    also_exclude: Iterable[int] = (),
    computed: tuple[list[Candidate], list[int]] | None = None,
) -> tuple[AssignmentDraw, str | None]:
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    state = workflow.state(case.state)
    department = department_of(state, case.params or workflow.params)
    if department is None or state.terminal:
        return AssignmentDraw(None, {"method": METHOD, "seq": seq, "candidates": [], "chosen": None}), None
    candidates, excluded = computed or _candidates(session, case, workflow, state, department, also_exclude)
    seed = assignment_seed(session, local_today())
    result = draw_assignee(case.folio, seq, candidates, seed.seed)
    record = {**result.record, "department": department, "state": case.state, "excluded": excluded, **seed.record()}
    return AssignmentDraw(result.chosen, record), department


def on_state_entered(
    session: Session,
    case: Case,
    state: State,
    entered_seq: int,
    moved: bool = True,
    *,
    left: State | None = None,
    escalations: bool | None = None,
) -> None:
    """Assign the case, inside the transition's transaction, when it has just entered ``state``.

    When the case ``moved`` to another state, the escalations of the state it left are resolved. Nothing
    else happens when the state's office maps to no department, when the system moves the case on at
    once (automatic states), when no public servant has a step there, or when the current assignee may
    still act there (the case stays with them). Otherwise a draw chooses the assignee (or, with nobody
    available, leaves the case unassigned for the department to pick up) and an audit entry records it.
    ``left`` (the state the case left, when known) lets a state that raises no escalations skip looking, and
    ``escalations`` (whether the case has open ones, when the caller read it) skips it when it has none.
    The candidates are computed once, both to keep the current assignee and for the draw.
    """
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if moved and escalations is not False and (left is None or may_have_escalations(workflow, left)):
        resolve_escalations(session, case.id, utcnow())
    department = department_of(state, case.params or workflow.params)
    if department is None or state.terminal or state.automatic or not acting_roles(workflow, state):
        return
    computed = _candidates(session, case, workflow, state, department)
    if _still_eligible(computed[0], case):
        return
    result, _ = _redraw(session, case, entered_seq, computed=computed)
    previous = case.assignee_id
    # Part of the transition that was just stored: the case's version moves once for both, so the row is
    # updated directly and the loaded case told, instead of a second versioned UPDATE.
    session.execute(update(Case).where(Case.id == case.id).values(assignee_id=result.chosen))
    set_committed_value(case, "assignee_id", result.chosen)
    audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action="assign",
            actor_id=None,
            actor_role=SYSTEM_ROLE,
            case=case,
            details={"assignment": {**result.record, "previous": previous}},
        ),
    )


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidData(Msg("Escriba el motivo."))
    if len(text) > REASON_MAX:
        raise InvalidData(Msg("El motivo admite a lo más %(n)s caracteres.", {"n": str(REASON_MAX)}))
    return text


def _open_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(Msg("El expediente no existe."))
    if case.closed_at is not None:
        raise NotAllowed(Msg("El expediente está concluido: ya no admite acciones ni cambios."))
    return case


def _change(
    session: Session, case: Case, actor: User, role: str, action: str, kind: ExclusionKind, reason: str
) -> int | None:
    removed = case.assignee_id
    if removed is None:
        raise InvalidData(Msg("El expediente no tiene a nadie asignado."))
    result, department = _redraw(session, case, _latest_seq(session, case.id), also_exclude=[removed])
    if department is None:
        raise InvalidData(Msg("En esta etapa el expediente no se asigna a un área."))
    case.assignee_id = result.chosen
    session.flush()
    entry = audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action=action,
            actor_id=actor.id,
            actor_role=role,
            case=case,
            comment=reason,
            details={"assignment": {**result.record, "previous": removed}},
        ),
    )
    session.add(
        AssignmentExclusion(
            case_id=case.id, user_id=removed, kind=kind, reason=reason, by_id=actor.id, audit_seq=entry.seq
        )
    )
    if result.chosen is not None:
        resolve_escalations(session, case.id, utcnow())
    return result.chosen


def reassign(case_id: int, admin_id: int, reason: str | None) -> int | None:
    """Take an open case from its assignee and draw another (an administrative act, with a reason).

    Only administrators may reassign; they never choose the new assignee: a new recorded draw does, and
    the one taken off is left out of the case's later draws. Returns the new assignee's id (``None``
    when nobody else is available: the case waits unassigned for the department). Raises ``NotFound``,
    ``NotAllowed`` and ``InvalidData`` (no reason, nobody assigned, a stage no department works on).
    """
    text = _reason(reason)
    with unit_of_work() as session:
        admin = session.get(User, admin_id)
        if admin is None or not admin.active or not admin.has_role(Role.ADMIN):
            raise NotAllowed(Msg("Solo la administración puede reasignar expedientes."))
        case = _open_case(session, case_id)
        return _change(session, case, admin, Role.ADMIN.value, "reassign", ExclusionKind.REASSIGNMENT, text)


def recuse(case_id: int, user_id: int, reason: str | None) -> int | None:
    """The assignee declares a conflict of interest: a new recorded draw leaves them out of the case.

    Returns the new assignee's id (``None``: nobody else is available). Raises ``NotFound`` (also for a case
    the user may neither read nor be told of, as for one that does not exist:
    :func:`app.services.visibility.may_know_of_case`), ``NotAllowed`` (not the assignee, or the case is closed)
    and ``InvalidData`` (no reason).
    """
    text = _reason(reason)
    with unit_of_work() as session:
        user = session.get(User, user_id)
        found = session.get(Case, case_id)
        if found is None or user is None or not (may_know_of_case(found, user) or may_read_case(session, found, user)):
            raise NotFound(Msg("El expediente no existe."))
        case = _open_case(session, case_id)
        if case.assignee_id != user.id:
            raise NotAllowed(Msg("Solo la persona asignada puede excusarse de este expediente."))
        role = next(iter(sorted(user.role_names - {Role.APPLICANT.value})), SYSTEM_ROLE)
        return _change(session, case, user, role, "recuse", ExclusionKind.RECUSAL, text)


# -- escalation ---------------------------------------------------------------------------------------


def _unattended(session: Session, case: Case) -> bool:
    if case.assignee_id is None:
        return True
    assignee = session.get(User, case.assignee_id)
    return assignee is None or not assignee.active


def _staff_to_tell(session: Session, roles: frozenset[str], department: str | None) -> list[int]:
    grants: ColumnElement[bool] = one_of(UserRole.role, [constant(Role(r)) for r in sorted(roles)])
    if department is not None:
        grants = grants & or_(UserRole.department_code == department, UserRole.department_code.is_(None))
    stmt = (
        select(UserRole.user_id)
        .join(User, User.id == UserRole.user_id)
        .where(User.active.is_(True), or_(grants, is_constant(UserRole.role, Role.ADMIN)))
        .distinct()
    )
    return sorted(set(session.scalars(stmt)))


def escalate_if_unattended(session: Session, case: Case, timer: Timer, now: datetime | None = None) -> int:
    """When ``timer`` is the authority's (a service target, or a deadline the authority had to meet) and
    no active person has the case assigned, flag the case and tell the department's staff who act in the
    timer's state and the administrators (in-app notice and mail). Call it in the timer's transaction,
    before the case moves. Returns how many people were told (0: nothing to escalate or already done)."""
    if timer.party != "assignee" or timer.kind == TimerKind.REMINDER or not _unattended(session, case):
        return 0
    if session.scalar(select(CaseEscalation.id).where(CaseEscalation.timer_id == timer.id)) is not None:
        return 0
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    state = workflow.state(timer.state)
    department = department_of(state, case.params or workflow.params)
    told = _staff_to_tell(session, acting_roles(workflow, state), department)
    recipients = [uid for uid in told if uid != case.applicant_id]
    kind = EscalationKind.TARGET_MISSED if timer.kind == TimerKind.TARGET else EscalationKind.DEADLINE_LAPSED
    session.add(
        CaseEscalation(
            case_id=case.id,
            timer_id=timer.id,
            kind=kind,
            state=timer.state,
            department_code=department if department and case.department_code == department else None,
            notified=len(recipients),
            created_at=now or utcnow(),
        )
    )
    for uid in recipients:
        enqueue(
            session,
            topic="case_escalated",
            dedup_key=f"timer:{timer.id}:escalated:{uid}",
            recipient_id=uid,
            case_id=case.id,
            payload={"folio": case.folio, "state": timer.state, "due_on": timer.due_on.isoformat(), "rule": timer.rule},
        )
    return len(recipients)


def open_escalations(case_ids: Iterable[int]) -> dict[int, list[CaseEscalation]]:
    """Unresolved escalations of each case among ``case_ids``."""
    ids = list(case_ids)
    result: dict[int, list[CaseEscalation]] = {}
    if not ids:
        return result
    rows = db.session.scalars(
        select(CaseEscalation)
        .where(CaseEscalation.case_id.in_(ids), CaseEscalation.resolved_at.is_(None))
        .order_by(CaseEscalation.id)
    )
    for row in rows:
        result.setdefault(row.case_id, []).append(row)
    return result


# -- the administrators' list ----------------------------------------------------------------------------


class AssignmentRow(NamedTuple):
    """An open case in a stage a department works on, as the administrators' assignment list shows it
    (folio, workflow, state, department and assignee: the page shows no case data)."""

    case: ListedCase
    assignee_name: str | None
    escalated: bool


class AssignmentCursor(NamedTuple):
    """Where a page of the assignment overview ends: whether its last case was assigned and escalated, its last
    change and its id (the overview's order)."""

    assigned: bool
    escalated: bool
    updated_at: datetime
    case_id: int


ASSIGNMENT_PAGE = 50
"""Cases on a page of the assignment overview."""


def rests(workflow: Workflow, state: str) -> bool:
    """Whether a case of ``workflow`` in ``state`` rests: no public servant has a step it waits for there (only
    the applicant's, the system's or exceptional ones such as a revocation). A terminal state rests too."""
    return not any(
        not t.owner_only and not t.exceptional and t.roles - {SYSTEM_ROLE, Role.APPLICANT.value}
        for t in workflow.transitions_from(state)
    )


def _assignment_select(after: bool) -> Select[Any]:
    """The cases waiting for a department's staff (not resting), through the partial index of those cases:
    unassigned first, then escalated, then oldest change, at most ``limit``, past the ``after_*`` parameters
    with ``after``."""
    escalated = exists(
        select(CaseEscalation.id).where(CaseEscalation.case_id == Case.id, CaseEscalation.resolved_at.is_(None))
    )
    waiting = (
        select(
            *LISTED_COLUMNS,
            when((Case.assignee_id.is_(None), 0), else_=1).label("assigned"),
            when((escalated, 0), else_=1).label("calm"),
        )
        .where(Case.department_code.is_not(None), Case.resting == false())
        .subquery("waiting")
    )
    order = (waiting.c.assigned, waiting.c.calm, waiting.c.updated_at, waiting.c.id)
    stmt = select(*waiting.c).order_by(*order).limit(bindparam("limit", type_=Integer))
    if after:
        stmt = stmt.where(
            past(order, after_assigned=Integer, after_calm=Integer, after_at=Case.updated_at.type, after_id=Integer)
        )
    return stmt


def assignment_page(
    limit: int = ASSIGNMENT_PAGE, after: AssignmentCursor | None = None
) -> tuple[list[AssignmentRow], AssignmentCursor | None]:
    """A page of the cases waiting for a department's staff (not resting there: :func:`rests`), unassigned first,
    then escalated, then oldest change, sorted by the database so that a page follows another and none waiting
    is left beyond a page of others; and where the next page starts (``None``: the last)."""
    session = db.session()
    params: dict[str, Any] = {"limit": limit + 1}
    if after is not None:
        params.update(
            after_assigned=int(after.assigned),
            after_calm=int(not after.escalated),
            after_at=after.updated_at,
            after_id=after.case_id,
        )
    rows = session.execute(_assignment_select(after is not None), params).all()
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        following = AssignmentCursor(bool(last.assigned), not last.calm, last.updated_at, last.id)
    cases = [(ListedCase._make(row[:-2]), not row.calm) for row in rows]
    assignees = {case.assignee_id for case, _ in cases if case.assignee_id is not None}
    names: Mapping[int, str] = {}
    if assignees:
        names = {
            row.id: row.display_name
            for row in session.execute(select(User.id, User.display_name).where(User.id.in_(assignees)))
        }
    listed = [
        AssignmentRow(case, names.get(case.assignee_id) if case.assignee_id is not None else None, escalated)
        for case, escalated in cases
    ]
    return listed, following


def assignment_rows(limit: int = 500) -> list[AssignmentRow]:
    """The first ``limit`` cases of the assignment overview (:func:`assignment_page`)."""
    return assignment_page(limit)[0]


def assignee_name(case: Case) -> str | None:
    """The display name of the case's assignee (``None``: unassigned)."""
    if case.assignee_id is None:
        return None
    return db.session.scalar(select(User.display_name).where(User.id == case.assignee_id))


def resolve_escalations(session: Session, case_id: int, now: datetime) -> None:
    """Mark the case's open escalations resolved (someone is assigned again, or the case moved on)."""
    session.execute(
        update(CaseEscalation)
        .where(CaseEscalation.case_id == case_id, CaseEscalation.resolved_at.is_(None))
        .values(resolved_at=now)
    )
