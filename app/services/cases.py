"""Opening cases and firing transitions: each public function is one unit of work."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple
from typing import cast as cast_type

from flask import current_app
from sqlalchemy import (
    Cast,
    ColumnElement,
    CompoundSelect,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import case as when
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.audit import EntryInput
from app.calendar import BusinessCalendar, local_today
from app.database import (
    WRITE_OPTION,
    FixedStatement,
    attach_loaded,
    constant,
    insert_of,
    is_constant,
    one_of,
    past,
    session_connection,
)
from app.engine import (
    Actor,
    AvailableTrigger,
    CaseView,
    ConflictError,
    DomainError,
    GuardRefused,
    InvalidData,
    Msg,
    NotAllowed,
    NotFound,
    Outcome,
    field_label,
    get_engine,
)
from app.extensions import db
from app.models import (
    AuditEntry,
    AuditHead,
    AuditKind,
    Case,
    CaseEscalation,
    Document,
    FolioCounter,
    IdempotencyRecord,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
    User,
    UserRole,
    utcnow,
)
from app.models.clocks import CaseClock, ClockStatus
from app.notifications import enqueue, enqueue_rows
from app.services.assignment import escalate_if_unattended, on_state_entered, rests
from app.services.certificates import transition_effects
from app.services.config import params_for_new_case
from app.services.deadlines import (
    ClockRow,
    clock_lapse_data,
    clock_rule,
    insert_timers,
    lapsed_data,
    reading_calendar,
    state_timer_rows,
    sync_clocks,
    term_in_force,
)
from app.services.listing import LISTED_COLUMNS, ListedCase
from app.services.seeds import commit_ahead, seed_for_draw
from app.services.uow import CONFLICT_MESSAGE, SettleFirst, unit_of_work
from workflows import REGISTRY
from workflows.base import N_, HistoryItem, Workflow, department_of, draw


@dataclass(frozen=True, slots=True)
class Description:
    """Untranslated texts describing where a case stands."""

    workflow_title: str
    state_description: str
    terminal: bool


def describe(case: Case | ListedCase) -> Description:
    """The workflow title and the current state's description of ``case`` (msgids to translate)."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    state = workflow.state(case.state)
    return Description(workflow.title, state.description, state.terminal)


def transition_texts(case: Case, trigger: str, state: str) -> tuple[str, str, str]:
    """(workflow title, trigger description, description of ``state``) as msgids, for notifications."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    opening = N_("Presentar la solicitud") if trigger == "open" else trigger
    action = next((t.description for t in workflow.transitions if t.trigger == trigger), opening)
    try:
        state_description = workflow.state(state).description
    except KeyError:
        state_description = state
    return workflow.title, action, state_description


@dataclass(frozen=True, slots=True)
class FireResult:
    """What a transition did. ``replayed`` is true when an idempotency key returned an earlier result."""

    case_id: int
    folio: str
    trigger: str
    from_state: str | None
    to_state: str
    version: int
    audit_seq: int
    replayed: bool = False


def actor_for(user: User) -> Actor:
    """The engine's view of a user: their roles, and the departments of the roles held only in some."""
    unscoped = {grant.role.value for grant in user.roles if not grant.department_code}
    scoped = frozenset(
        (grant.role.value, grant.department_code)
        for grant in user.roles
        if grant.department_code and grant.role.value not in unscoped
    )
    return Actor(user.id, user.role_names, scoped)


def allocate_folio(session: Session, prefix: str, year: int) -> str:
    """The next folio of ``prefix`` and ``year`` (gapless: the counter row stays locked until commit)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(FolioCounter)
        .values(prefix=prefix, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[FolioCounter.prefix, FolioCounter.year],
            set_={"last_number": FolioCounter.last_number + 1},
        )
        .returning(FolioCounter.last_number)
    )
    number = session.execute(stmt).scalar_one()
    return f"{prefix}-{year}-{number:06d}"


_CASE_TABLE = cast_type(Table, Case.__table__)
_HEAD_TABLE = cast_type(Table, AuditHead.__table__)


def _engine_inputs_statement(with_case: bool = False, with_head: bool = False) -> CompoundSelect[Any]:
    """The acting user with their roles, the documents, the transition history and the clocks of the case
    ``:case_id`` as one UNION ALL (built once per shape: constructing a statement costs more than running it).
    The user's rows come first (``seq`` -1) and only when ``:user_id`` is given. One row ``t`` says the case has
    pending timers and one row ``e`` that it has open escalations (each absent otherwise), so that a transition
    sends their cancel and their resolve only when there is something to cancel or resolve; the row ``t`` gives
    in ``t1`` when the first of its pending deadlines lapses (a person's step records the lapses already due
    first). A clock's row ``c``
    carries its columns in ``name``, ``sha``, ``actor`` and the three numbers and three days that only clock
    rows fill (:class:`~app.services.deadlines.ClockRow`).

    ``with_case`` adds the case's own row ``k`` (its strings in ``name``, ``sha``, ``s1``, ``s2``, its numbers in
    ``actor`` and ``n1``–``n3``, its data and settings as JSON text in ``j1``, ``j2`` and its instants in
    ``t1``–``t3``, its ``resting`` and ``payment_owed`` flags as the bits 1 and 2 of ``f``), so that ``fire()``
    reads the case and what it decides on in one statement. ``with_head``
    adds the audit head's row ``a`` (only for a transaction that already holds the database's write lock:
    SQLite's ``BEGIN IMMEDIATE``)."""
    case_id = bindparam("case_id", type_=Integer)
    typed_int, typed_day, typed_text = cast(null(), Integer), cast(null(), Date), cast(null(), String)
    typed_instant = cast(null(), DateTime(timezone=True))  # the case's instants: made UTC-aware by _held_case
    typed_case: tuple[Cast[Any], ...] = (
        typed_text,
        typed_text,
        typed_text,
        typed_text,
        typed_instant,
        typed_instant,
        typed_instant,
    )
    actor = (
        select(
            literal("u").label("src"),
            cast(UserRole.role, String).label("name"),
            UserRole.department_code.label("sha"),
            cast(User.active, Integer).label("actor"),
            literal(-1).label("seq"),
            typed_int.label("n1"),
            typed_int.label("n2"),
            typed_int.label("n3"),
            typed_day.label("d1"),
            typed_day.label("d2"),
            typed_day.label("d3"),
            *(
                column.label(label)
                for column, label in zip(typed_case, ("s1", "s2", "j1", "j2", "t1", "t2", "t3"), strict=True)
            ),
            typed_int.label("f"),
        )
        .select_from(User)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(User.id == bindparam("user_id", type_=Integer))
    )
    # The other rows' empty columns are bare NULLs and their constants are written inline: the first row types
    # every column, and a statement longer than the driver's cache limit (4,096 characters) would be parsed anew
    # on every transition.
    none: Any = null()
    no_clock, no_case = (none,) * 6, (none,) * 8
    documents = select(
        literal_column("'d'", String),
        Document.kind,
        Document.sha256,
        null(),
        literal_column("0", Integer),
        *no_clock,
        *no_case,
    ).where(Document.case_id == case_id, Document.superseded_by_id.is_(None))
    history = select(
        literal_column("'h'", String), AuditEntry.action, none, AuditEntry.actor_id, AuditEntry.seq, *no_clock, *no_case
    ).where(AuditEntry.case_id == case_id, AuditEntry.kind == AuditKind.TRANSITION)
    first_lapse = (
        select(func.min(Timer.due_at))
        .where(
            Timer.case_id == case_id,
            is_constant(Timer.status, TimerStatus.PENDING),
            is_constant(Timer.kind, TimerKind.DEADLINE),
        )
        .scalar_subquery()
    )
    pending = select(
        literal_column("'t'", String), none, none, none, literal_column("-2", Integer), *no_clock, *no_case[:4]
    ).add_columns(first_lapse, *no_case[5:])
    pending = pending.where(exists().where(Timer.case_id == case_id, is_constant(Timer.status, TimerStatus.PENDING)))
    escalated = select(
        literal_column("'e'", String), none, none, none, literal_column("-2", Integer), *no_clock, *no_case
    ).where(exists().where(CaseEscalation.case_id == case_id, CaseEscalation.resolved_at.is_(None)))
    clocks = select(
        literal_column("'c'", String),
        CaseClock.name,
        cast(CaseClock.status, String),
        CaseClock.id,
        literal_column("-2", Integer),
        CaseClock.term_days,
        CaseClock.extension_days,
        CaseClock.used_days,
        CaseClock.started_on,
        CaseClock.segment_notified_on,
        CaseClock.lapsed_on,
        *no_case,
    ).where(CaseClock.case_id == case_id)
    parts = [actor, pending, escalated, clocks, documents, history]
    if with_case:
        c = _CASE_TABLE.c
        parts.append(
            select(
                literal_column("'k'", String),
                c.state,
                c.workflow,
                c.version,
                literal_column("-3", Integer),
                c.workflow_version,
                c.applicant_id,
                c.assignee_id,
                none,
                none,
                none,
                c.folio,
                c.department_code,
                cast(c.data, String),
                cast(c.params, String),
                c.created_at,
                c.updated_at,
                c.closed_at,
                cast(c.resting, Integer) + 2 * cast(c.payment_owed, Integer),
            ).where(c.id == case_id)
        )
    if with_head:
        h = _HEAD_TABLE.c
        parts.append(
            select(
                literal_column("'a'", String),
                h.hash,
                none,
                h.seq,
                literal_column("-4", Integer),
                h.calendar_seq,
                none,
                none,
                *no_clock[3:],
                h.frontier,
                *no_case[1:],
            ).where(h.id == 1)
        )
    stmt: CompoundSelect[Any] = union_all(*parts)
    return stmt.order_by(stmt.selected_columns.seq)


_INPUT_STATEMENTS: dict[tuple[bool, bool], FixedStatement] = {}


def _inputs_statement(with_case: bool, with_head: bool) -> FixedStatement:
    key = (with_case, with_head)
    stmt = _INPUT_STATEMENTS.get(key)
    if stmt is None:
        stmt = _INPUT_STATEMENTS.setdefault(key, FixedStatement(_engine_inputs_statement(with_case, with_head)))
    return stmt


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What the engine decides on besides the case row: the actor (when asked for), the case's current
    documents (kind, SHA-256) and its transition history; whether the case has pending timers and open
    escalations (what a move cancels and resolves); and its clocks as stored (what the move changes). ``case``
    is the case, when it was read with them; ``first_lapse`` the instant its first pending deadline lapses."""

    actor: Actor | None
    documents: list[tuple[str, str]]
    history: tuple[HistoryItem, ...]
    pending_timers: bool = True
    open_escalations: bool = True
    clocks: tuple[ClockRow, ...] | None = None
    case: Case | None = None
    first_lapse: datetime | None = None


def _utc(value: datetime | None) -> datetime | None:
    """A stored instant as the case's columns give it (``UTCDateTime``): aware, in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _held_case(session: Session, case_id: int, row: Any) -> Case:
    """The case of a ``k`` row as a persistent object of ``session``, as if the ORM had loaded it: the object
    the session already holds for it (told the stored values), or a new one attached without a read."""
    # the columns of the case's part of _engine_inputs_statement, unpacked (each row attribute costs a look-up)
    _, state, workflow, version, _, workflow_version, applicant, assignee, _, _, _, folio, department, *rest = row
    data, params, created_at, updated_at, closed_at, flags = rest
    values = {
        "id": case_id,
        "folio": folio,
        "workflow": workflow,
        "workflow_version": workflow_version,
        "state": state,
        "version": version,
        "applicant_id": applicant,
        "assignee_id": assignee,
        "department_code": department,
        "data": json.loads(data),
        "params": json.loads(params),
        "created_at": _utc(created_at),
        "updated_at": _utc(updated_at),
        "closed_at": _utc(closed_at),
        "resting": bool(flags & 1),
        "payment_owed": bool(flags & 2),
    }
    return attach_loaded(session, Case, values)


def _read_inputs(session: Session, case_id: int, user_id: int | None = None, *, with_case: bool = False) -> _Inputs:
    """The case's current documents, transition history and clocks, whether it has pending timers and open
    escalations and, when ``user_id`` is given, that active user with their roles, read in one statement
    (UNION ALL). ``with_case`` reads the case's row too (and, on SQLite, where a unit of work holds the write
    lock from its first statement, the audit head, which the entries of the transaction then use). Raises
    ``NotFound`` for a missing case (``with_case``) and for a missing or inactive user."""
    found: list[tuple[str, str]] = []
    items: list[HistoryItem] = []
    grants: list[tuple[str, str | None]] = []
    clocks: list[ClockRow] = []
    active: bool | None = None
    timers = escalations = False
    case_row = head_row = None
    first_lapse: datetime | None = None
    connection = session_connection(session)
    with_head = (
        with_case
        and connection.dialect.name == "sqlite"
        and bool(connection.get_execution_options().get(WRITE_OPTION))  # begun with BEGIN IMMEDIATE
    )
    statement = _inputs_statement(with_case, with_head)
    # flushed first: rows an earlier step of this transaction added as objects (documents, escalations) count
    rows = statement.read(session, {"case_id": case_id, "user_id": user_id})
    # the first columns of the statement, unpacked (each row attribute costs a look-up); the rest by position
    for row in rows:
        src, name, sha, actor_id, _seq, n1, n2, n3, d1, d2, d3 = row[:11]
        if src == "h":
            items.append(HistoryItem(name, actor_id))
        elif src == "d":
            found.append((name, sha))
        elif src == "c":
            clocks.append(ClockRow(actor_id, name, ClockStatus(sha), n1, n2, n3, d1, d2, d3))
        elif src == "t":
            timers = True
            first_lapse = _utc(row[15])
        elif src == "e":
            escalations = True
        elif src == "k":
            case_row = row
        elif src == "a":
            head_row = row
        else:
            active = bool(actor_id)
            if name is not None:
                grants.append((Role(name).value, sha))
    case: Case | None = None
    if with_case:
        if case_row is None:
            raise NotFound(Msg("El expediente no existe."))
        case = _held_case(session, case_id, case_row)
        if head_row is not None:  # the head's part: its hash, seq, calendar seq and frontier
            _, head_hash, _, head_seq, _, calendar_seq, *_, frontier = head_row[:12]
            audit.hold_head(session, head_seq, head_hash, frontier, calendar_seq)
    actor: Actor | None = None
    if user_id is not None:
        if not active:
            raise NotFound(Msg("El usuario no existe o está inactivo."))
        unscoped = {role for role, department in grants if not department}
        scoped = frozenset((role, department) for role, department in grants if department and role not in unscoped)
        actor = Actor(user_id, frozenset(role for role, _ in grants), scoped)
    return _Inputs(actor, found, tuple(items), timers, escalations, tuple(clocks), case, first_lapse)


def _engine_inputs(session: Session, case_id: int) -> tuple[list[tuple[str, str]], tuple[HistoryItem, ...]]:
    """The case's current documents and its transition history, read in one statement (UNION ALL)."""
    inputs = _read_inputs(session, case_id)
    return inputs.documents, inputs.history


def case_view(
    session: Session,
    case: Case,
    documents: list[tuple[str, str]] | None = None,
    history: tuple[HistoryItem, ...] | None = None,
) -> CaseView:
    """The engine's view of a stored case (one query for history and current documents, unless given)."""
    if documents is None or history is None:
        read_documents, read_history = _engine_inputs(session, case.id)
        documents = read_documents if documents is None else documents
        history = read_history if history is None else history
    return CaseView(
        workflow=case.workflow,
        workflow_version=case.workflow_version,
        state=case.state,
        version=case.version,
        applicant_id=case.applicant_id,
        data=dict(case.data),
        documents=frozenset(kind for kind, _ in documents),
        history=history,
        assignee_id=case.assignee_id,
    )


def _notify(session: Session, case: Case, parties: tuple[str, ...], trigger: str, seq: int) -> None:
    recipients = {"applicant": case.applicant_id, "assignee": case.assignee_id}
    enqueue_rows(
        session,
        [
            {
                "topic": "case_transition",
                "dedup_key": f"case:{case.id}:seq:{seq}:{party}",
                "recipient_id": recipient,
                "case_id": case.id,
                "payload": {"folio": case.folio, "trigger": trigger, "state": case.state, "party": party},
            }
            for party in parties
            if (recipient := recipients.get(party)) is not None
        ],
    )


def _load_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(Msg("El usuario no existe o está inactivo."))
    return user


def _canonical(workflow_name: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """``data`` in the canonical form of each field its procedure declares (as the engine stores a step's)."""
    if workflow_name not in REGISTRY:
        return dict(data or {})
    return REGISTRY.get(workflow_name).canonical(data or {})


def refuse_stale(case: Case, expected_version: int | None) -> None:
    """Refuse, as :func:`fire` does, a step whose ``expected_version`` is not the version of ``case`` as just read.

    A procedure's step that checks the case (or builds the data it writes) from its own read, before :func:`fire`
    reads the case again, calls it first: a client that sent a later version than that read (another transaction
    committed in between) would otherwise pass the check on the case as it was, since :func:`fire` checks only
    its own read. Raises ``ConflictError``."""
    if expected_version is not None and expected_version != case.version:
        raise ConflictError(CONFLICT_MESSAGE)


def open_case(workflow_name: str, applicant_id: int, data: Mapping[str, Any] | None = None) -> FireResult:
    """Create a case of the newest version of ``workflow_name`` in its initial state, with a new folio.

    The applicant must hold the applicant role. Writes the opening audit entry (and the initial
    state's timer, if any) in the same transaction. Raises ``NotFound`` for an unknown workflow or
    user and ``NotAllowed`` when the user cannot file cases.
    """
    engine = get_engine()
    try:
        workflow = engine.latest(workflow_name)
    except KeyError:
        raise NotFound(Msg("El trámite «%(name)s» no existe.", {"name": workflow_name})) from None
    with unit_of_work() as session:
        user = _load_user(session, applicant_id)
        if not user.has_role(Role.APPLICANT):
            raise NotAllowed(Msg("Solo un solicitante puede iniciar un trámite."))
        accepted = {f for t in workflow.transitions_from(workflow.initial) for f in t.fields}
        unexpected = set(data or {}) - accepted - set(workflow.opening_fields)
        if unexpected:
            raise InvalidData(
                Msg(
                    "La acción no admite los datos: %(fields)s.",
                    {"fields": ", ".join(sorted(unexpected))},
                    {"fields": tuple(field_label(workflow, name) for name in sorted(unexpected))},
                )
            )
        now = utcnow()
        today = local_today(now)
        case = Case(
            folio=allocate_folio(session, workflow.folio_prefix, today.year),
            workflow=workflow.name,
            workflow_version=workflow.version,
            state=workflow.initial,
            applicant_id=user.id,
            data=_canonical(workflow.name, data),
            params=params_for_new_case(session, workflow),
            resting=rests(workflow, workflow.initial),
        )
        session.add(case)
        session.flush()
        commit_ahead(session, workflow, today)  # the draws' seeds are committed before the case can be drawn
        entry = audit.append(
            session,
            EntryInput(
                kind=AuditKind.TRANSITION,
                action="open",
                actor_id=user.id,
                actor_role=Role.APPLICANT.value,
                case=case,
                from_state=None,
                to_state=case.state,
                data_digest=audit.data_digest(case.data),
            ),
        )
        timers = state_timer_rows(session, case, workflow.state(case.state), entry.seq, today)
        insert_timers(session, timers + sync_clocks(session, case, "open", entry.seq, today, now))
        return FireResult(case.id, case.folio, "open", None, case.state, case.version, entry.seq)


def _replay(session: Session, key: str, case_id: int, trigger: str, actor_id: int | None) -> FireResult | None:
    record = session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if record.case_id != case_id or record.trigger != trigger or record.actor_id != actor_id:
        raise DomainError(Msg("La clave de idempotencia ya se usó para otra acción."))
    folio = session.scalars(select(Case.folio).where(Case.id == case_id)).one()
    from_state = session.scalars(select(AuditEntry.from_state).where(AuditEntry.seq == record.audit_seq)).one()
    return FireResult(case_id, folio, trigger, from_state, record.state, record.version, record.audit_seq, True)


_DEPARTMENT_KEY = "fk_cases_department_code_departments"


def _missing_department(error: IntegrityError) -> bool:
    """Whether the case's ``UPDATE`` failed because its department does not exist (the only foreign key it
    writes: SQLite does not name the constraint, PostgreSQL does)."""
    diagnostics = getattr(error.orig, "diag", None)
    if diagnostics is not None:
        return getattr(diagnostics, "constraint_name", None) == _DEPARTMENT_KEY
    return "FOREIGN KEY constraint failed" in str(error.orig)


_CASE_UPDATES: dict[frozenset[str], FixedStatement] = {}
_KEPT_IF_SAME = ("state", "department_code", "resting", "payment_owed")
"""The indexed columns a transition often leaves as they were: the case's ``UPDATE`` sets them only when they
change, so that the database leaves their indexes alone (SQLite rewrites the entries of every index whose columns
or condition an ``UPDATE`` sets, even to the same value: a page more in its log each)."""


def _case_update(names: frozenset[str]) -> FixedStatement:
    """The versioned ``UPDATE`` of a case's row setting the columns ``names`` (besides ``version`` and
    ``updated_at``), built once per shape: building a statement costs more than sending it."""
    fixed = _CASE_UPDATES.get(names)
    if fixed is None:
        values = {
            name: bindparam(f"new_{name}", type_=_CASE_TABLE.c[name].type)
            for name in ("version", "updated_at", *sorted(names))
        }
        stmt = _CASE_TABLE.update().where(
            _CASE_TABLE.c.id == bindparam("case_id"), _CASE_TABLE.c.version == bindparam("old_version")
        )
        fixed = _CASE_UPDATES.setdefault(names, FixedStatement(stmt.values(values)))
    return fixed


def _write_case(
    session: Session,
    case: Case,
    outcome: Outcome,
    department: str | None,
    now: datetime,
    *,
    closed: bool,
    lock_head: bool = False,
    resting: bool = False,
    payment_owed: bool = False,
) -> None:
    """Store the case's new state, data, department, times, whether it rests there
    (:func:`app.services.assignment.rests`) and whether it owes a fee after the authority's silence
    (:func:`owes_payment`) with one Core ``UPDATE … WHERE id = ? AND version = ?`` that bumps the
    version, and tell the loaded case (no ORM flush). The state, department and flags are set only when they
    change (:data:`_KEPT_IF_SAME`). Raises ``ConflictError`` when no row matched: another
    transaction changed the case since it was read; ``InvalidData`` when the case's settings map the state to a
    department that does not exist."""
    proposed = (outcome.to_state, department, resting, payment_owed)
    values: dict[str, Any] = {"version": case.version + 1, "updated_at": now}
    for name, value in zip(_KEPT_IF_SAME, proposed, strict=True):
        if getattr(case, name) != value:  # as read with the case's version, which the UPDATE checks
            values[name] = value
    if outcome.written:
        values["data"] = outcome.data
    if closed:
        values["closed_at"] = now
    statement = _case_update(frozenset(values).difference(("version", "updated_at")))
    params = {"case_id": case.id, "old_version": case.version, **{f"new_{k}": v for k, v in values.items()}}
    try:
        if lock_head:  # PostgreSQL: the audit head is locked and read in the same statement
            matched = audit.lock_head_with(session, statement, params)
        else:
            matched = statement.execute(session_connection(session), params) == 1
    except IntegrityError as error:
        # The department's existence is checked by the database (the row's foreign key), not read first: the
        # case would otherwise land in nobody's queue without a word (``flask departments check`` lists such
        # settings). The transaction is rolled back by the caller.
        if department is not None and _missing_department(error):
            raise InvalidData(
                Msg(
                    "El área «%(department)s» que atiende esta etapa no existe; la administración debe crearla.",
                    {"department": department},
                )
            ) from None
        raise
    if not matched:
        raise ConflictError(CONFLICT_MESSAGE)
    for name, value in values.items():
        set_committed_value(case, name, value)


def _late_payment(name: str, version: int, state: str) -> str | None:
    """The data field that records a payment, when a case of this workflow in ``state`` may still have a fee
    owed after the authority's silence confirmed there (its procedure's ``Payment.late_trigger`` leaves the
    state, which is not one awaiting payment); ``None`` otherwise."""
    if name not in REGISTRY:
        return None
    payment = REGISTRY.get(name).payment
    if payment is None or payment.late_trigger is None or state in payment.awaiting_states:
        return None
    found = get_engine().definition(name, version).find(payment.late_trigger, state)
    return payment.operation_field if found else None


def owes_payment(workflow: Workflow, state: str, data: Mapping[str, Any]) -> bool:
    """Whether a case of ``workflow`` in ``state`` with ``data`` owes a fee after the authority's silence: it rests
    where the treasury may still confirm that payment and its data record none (the case's ``payment_owed``)."""
    field = _late_payment(workflow.name, workflow.version, state)
    return field is not None and not data.get(field)


def _apply(
    session: Session,
    case: Case,
    outcome: Outcome,
    actor: Actor,
    inputs: _Inputs,
    now: datetime,
    today: date,
    comment: str | None,
    reason: Mapping[str, Any] | None,
) -> int:
    """Store a decided transition: state, data, department, certificates, audit entry, timers and outbox rows.
    ``inputs`` says what the case had before it (documents, pending timers, open escalations). Returns the
    audit entry's sequence number."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    dest = workflow.state(outcome.to_state)
    department = department_of(dest, case.params or workflow.params)
    # On PostgreSQL a transition with no certificate to issue or revoke (nothing slow before its entry) locks
    # the audit head with its case's UPDATE: one round trip fewer. Issuing renders and signs a PDF first, so
    # there the head is locked by the entry, after it.
    lock_head = (
        session.get_bind().dialect.name == "postgresql"
        and not (outcome.transition.issues or outcome.transition.revokes)
        and audit.read_head(session) is None
    )
    owed = owes_payment(workflow, dest.name, outcome.data)
    resting = rests(workflow, dest.name)
    _write_case(
        session,
        case,
        outcome,
        department,
        now,
        closed=dest.terminal,
        lock_head=lock_head,
        resting=resting,
        payment_owed=owed,
    )
    effects = transition_effects(session, case, outcome.transition, actor.id, outcome.role, now, comment)
    entry = audit.append(
        session,
        EntryInput(
            kind=AuditKind.TRANSITION,
            action=outcome.transition.trigger,
            actor_id=actor.id,
            actor_role=outcome.role,
            case=case,
            from_state=outcome.from_state,
            to_state=outcome.to_state,
            comment=(comment or None),
            data_digest=audit.data_digest(outcome.written),
            documents_digest=audit.documents_digest(inputs.documents),
            details=effects.audit_details(reason),
        ),
    )
    effects.record(session, entry.seq)
    moved = outcome.from_state != outcome.to_state
    left = workflow.state(outcome.from_state)
    timers: list[dict[str, object]] = []
    if moved:
        timers = state_timer_rows(session, case, dest, entry.seq, today)
    trigger = outcome.transition.trigger
    clocks = sync_clocks(session, case, trigger, entry.seq, today, now, moved=moved, clocks=inputs.clocks)
    # the state's timers and the clocks' in one INSERT, after cancelling the pending ones of the state left
    # (only when the case has some: nothing to cancel otherwise; on PostgreSQL the cancel joins the INSERT)
    cancel = case.id if moved and inputs.pending_timers else None
    insert_timers(session, timers + clocks, cancel_case=cancel, now=now)
    on_state_entered(session, case, dest, entry.seq, moved, left=left, escalations=inputs.open_escalations)
    _notify(session, case, outcome.transition.notify, outcome.transition.trigger, entry.seq)
    return entry.seq


MAX_AUTOMATIC_STEPS = 8


def _run_automatic(session: Session, case: Case, entered_seq: int, now: datetime, today: date) -> None:
    """Fire, as the system, the automatic transitions of the state the case has just entered (the first of
    them whose rules pass), with the state's draw, if any, recorded in the data and the audit entry."""
    engine = get_engine()
    for _ in range(MAX_AUTOMATIC_STEPS):
        workflow = engine.definition(case.workflow, case.workflow_version)
        state = workflow.state(case.state)
        if not state.automatic:
            return
        params = case.params or workflow.params
        extra: dict[str, Any] = {}
        details: dict[str, Any] | None = None
        if state.draw is not None:
            seed, committed = seed_for_draw(session, workflow, state.draw.seed_param, today)
            result = draw(seed, case.folio, entered_seq, params[state.draw.rate_param])
            record = {
                **result.record(),
                "seed_scope": committed.scope,
                "seed_period": committed.period,
                "seed_digest": committed.digest,
                "seed_commit_seq": committed.commit_seq,
            }
            extra = {state.draw.field: result.selected, state.draw.record_field: record}
            details = {"draw": {"field": state.draw.field, **record}}
        inputs = _read_inputs(session, case.id)
        stored = case_view(session, case, inputs.documents, inputs.history)
        view = dataclasses.replace(stored, data={**stored.data, **extra})
        outcome: Outcome | None = None
        for trigger in state.automatic:
            try:
                outcome = engine.decide(view, trigger, Actor.system(), today=today, params=case.params or None)
            except GuardRefused:
                continue
            break
        if outcome is None:
            return  # no automatic exit applies: the case waits in this state for people to act
        outcome = dataclasses.replace(outcome, written={**outcome.written, **extra})
        entered_seq = _apply(session, case, outcome, Actor.system(), inputs, now, today, None, details)
    raise RuntimeError(f"more than {MAX_AUTOMATIC_STEPS} automatic transitions in a row on case {case.id}")


_KEY_TABLE = cast_type(Table, IdempotencyRecord.__table__)
_INSERT_KEY = FixedStatement(insert_of(_KEY_TABLE, [column.key for column in _KEY_TABLE.columns]))


def _record_key(session: Session, values: Mapping[str, Any]) -> None:
    """Store an idempotency key's result (one ``INSERT``; a key already stored fails the transaction)."""
    _INSERT_KEY.send_later(session_connection(session), {"created_at": utcnow(), **values})


def fire(
    case_id: int,
    trigger: str,
    actor_id: int | None,
    *,
    expected_version: int | None,
    data: Mapping[str, Any] | None = None,
    comment: str | None = None,
    idempotency_key: str | None = None,
    reason: Mapping[str, Any] | None = None,
) -> FireResult:
    """Fire ``trigger`` on a case as a user (``actor_id``) or as the system (``None``), in one transaction.

    Checks the actor's role, the guards, the requirements and the four-eyes rule; moves the state;
    bumps the version (optimistic lock: the UPDATE only matches ``expected_version``); appends the
    audit entry; cancels and starts timers; writes outbox rows; then fires, as the system, the automatic
    transitions of the state entered (the inspection draw's outcome, recorded with the draw); commits.
    Any failure rolls all of it back. The result's ``to_state`` and ``version`` are where the case ends
    up. A repeated ``idempotency_key`` returns the first result and leaves nothing of its own (the key is looked
    up only when the attempt fails; a repeat fails at the latest on writing the key, and is rolled back). ``reason``
    (no personal data) is stored in the audit entry's details, e.g. the timer rule that fired.

    A person's step (``actor_id`` given) is decided on the case with its lapses already due recorded first, as the
    timers' worker would record them at its next pass (:func:`_lapses_first`): a term that ended is over whether
    or not the worker has run.

    Raises ``NotFound``, ``ConflictError`` (the case changed: reload), and the engine's
    ``DomainError`` subclasses naming the reason.
    """
    engine = get_engine()
    try:
        with unit_of_work() as session:
            inputs = _read_inputs(session, case_id, actor_id, with_case=True)
            case = cast_type(Case, inputs.case)
            actor = inputs.actor or Actor.system()
            now = utcnow()
            today = local_today(now)
            if actor_id is not None and inputs.first_lapse is not None and inputs.first_lapse <= now:
                inputs, expected_version = _lapses_first(session, case, actor_id, expected_version, now)
            outcome = engine.decide(
                case_view(session, case, inputs.documents, inputs.history),
                trigger,
                actor,
                today=today,
                expected_version=expected_version,
                data=data,
                comment=comment,
                params=case.params or None,
            )
            seq = _apply(session, case, outcome, actor, inputs, now, today, comment, reason)
            _run_automatic(session, case, seq, now, today)
            if idempotency_key:
                _record_key(
                    session,
                    {
                        "key": idempotency_key,
                        "actor_id": actor.id,
                        "case_id": case.id,
                        "trigger": trigger,
                        "audit_seq": seq,
                        "state": case.state,
                        "version": case.version,
                    },
                )
            session.flush()
            return FireResult(case.id, case.folio, trigger, outcome.from_state, case.state, case.version, seq)
    except (DomainError, IntegrityError):
        # A repeated key is found only when something fails: its record is written last, so a repeat that got
        # this far fails on the record's key (and everything it did is rolled back), and one that did not
        # failed on the case having moved on (a conflict) or on the step no longer applying. Only then is the
        # key looked up, outside the failed transaction: a first attempt costs no read.
        if idempotency_key:
            with unit_of_work() as session:
                replayed = _replay(session, idempotency_key, case_id, trigger, actor_id)
            if replayed is not None:
                return replayed
        raise


LAPSED_WHILE_SEEN = Msg(
    "Un plazo de este expediente venció mientras lo consultaba y quedó registrado; recargue la página para verlo "
    "como está ahora."
)


def _due_lapses(case_id: int, now: datetime) -> Select[Timer]:
    """The case's pending deadlines due at ``now``, first due first, locked (those another process holds are
    left to it)."""
    return (
        select(Timer)
        .where(
            Timer.case_id == case_id,
            is_constant(Timer.status, TimerStatus.PENDING),
            is_constant(Timer.kind, TimerKind.DEADLINE),
            Timer.due_at <= now,
        )
        .order_by(Timer.due_at, Timer.id)
        .with_for_update(skip_locked=True)
    )


def _lapses_first(
    session: Session, case: Case, actor_id: int, expected_version: int | None, now: datetime
) -> tuple[_Inputs, int | None]:
    """Record, in the transaction of a person's step, the case's deadlines already due (what the timers' worker
    would record at its next pass), and return what the step is then decided on: the inputs read again and the
    version expected, moved past the lapses when the person had seen the case as it stood before them.

    A lapse that only records a day (a term to prevent, to answer, to appeal that closed) leaves the case where
    the person saw it: their step goes on, judged by the rules with that day recorded (a prevención after its
    term is refused for that reason), and the lapse commits with it or is left to the worker when it is
    refused. A lapse that moves the case (an expired term) means the person acted on a case that no longer
    stands as they saw it: a :class:`SettleFirst` rolls back and records the lapses on their own, and the person
    is told to reload. So does a lapse the rules refuse, which the worker's path then marks as failed."""
    seen_version = case.version
    record_due_lapses(session, case, now)
    inputs = _read_inputs(session, case.id, actor_id, with_case=True)
    return inputs, (case.version if expected_version == seen_version else expected_version)


def record_due_lapses(session: Session, case: Case, now: datetime) -> None:
    """Record in the caller's transaction the deadlines of ``case`` (loaded and held by it) due at ``now``, before
    a person's act on the case (a step, a document for a step), as the timers' worker would at its next pass.

    Lapses that leave the case in its state (a window that closed) are recorded and the act goes on. When one
    moves the case (an expired term) or the rules refuse one, the person acted on a case that no longer stands
    as they saw it: raises :class:`SettleFirst`, which rolls back the act and records the lapses on their own."""
    seen_state = case.state
    try:
        for timer in session.scalars(_due_lapses(case.id, now)).all():
            settle_timer(session, timer, now)
            if case.state != seen_state:
                break
    except DomainError as exc:
        raise SettleFirst(LAPSED_WHILE_SEEN, partial(settle_due_lapses, case.id, now)) from exc
    if case.state != seen_state:
        raise SettleFirst(LAPSED_WHILE_SEEN, partial(settle_due_lapses, case.id, now))


def settle_due_lapses(case_id: int, now: datetime) -> None:
    """Fire, each in its own transaction as the timers' worker does, the case's deadlines due at ``now`` (those
    another process holds are left to it; a conflict or a refused lapse ends as in :func:`fire_timer`)."""
    with unit_of_work() as session:
        ids = [timer.id for timer in session.scalars(_due_lapses(case_id, now))]
    for timer_id in ids:
        fire_timer(timer_id, now)


def settle_timer(session: Session, timer: Timer, now: datetime) -> str:
    """Do what a due ``timer`` (pending, held by the caller's transaction) calls for: a deadline fires its expiry
    transition as the system, a reminder or a missed service target writes a notice to the outbox; the case's
    unattended term is escalated first. Returns ``fired``, or ``cancelled`` when the case already left the
    timer's state. Raises what the expiry transition raises."""
    case = session.get(Case, timer.case_id)
    if case is None or case.state != timer.state:
        timer.status = TimerStatus.CANCELLED
        timer.finished_at = now
        return "cancelled"
    escalate_if_unattended(session, case, timer, now)
    if timer.kind == TimerKind.DEADLINE and timer.trigger is not None:
        fire(
            case.id,
            timer.trigger,
            None,
            expected_version=case.version,
            data=clock_lapse_data(case, timer),
            reason={"timer_id": timer.id, "rule": timer.rule, "due_on": timer.due_on.isoformat()},
        )
    else:
        _notify_party(session, case, timer)
    timer.status = TimerStatus.FIRED
    timer.finished_at = now
    return "fired"


def fire_timer(timer_id: int, now: datetime | None = None) -> str:
    """Fire one due timer in one transaction with its row locked (``SKIP LOCKED`` on PostgreSQL).

    A deadline fires its expiry transition as the system; a reminder or a missed service target
    writes a notice to the outbox (:func:`settle_timer`). Returns ``fired``; ``cancelled`` when the case already
    left the timer's state; ``skipped`` when another process holds or already handled it; ``failed`` when the
    workflow refused the expiry transition (the timer is marked failed and the reason kept in the log for an
    administrator). The transition's audit entry names the timer and the rule that fired it.
    """
    now = now or utcnow()
    try:
        with unit_of_work() as session:
            timer = session.scalars(
                select(Timer)
                .where(Timer.id == timer_id, is_constant(Timer.status, TimerStatus.PENDING), Timer.due_at <= now)
                .with_for_update(skip_locked=True)
            ).first()
            if timer is None:
                return "skipped"
            return settle_timer(session, timer, now)
    except ConflictError:
        return "skipped"  # the case changed under us; the next pass looks again
    except DomainError as exc:
        with unit_of_work() as session:
            timer = session.get(Timer, timer_id)
            if timer is not None and timer.status == TimerStatus.PENDING:
                timer.status = TimerStatus.FAILED
                timer.finished_at = now
        current_app.logger.warning("timer %s failed: %s", timer_id, exc)
        return "failed"


def _notify_party(session: Session, case: Case, timer: Timer) -> None:
    """A reminder to the party who must act, or a missed-target notice to the assignee."""
    recipient = case.applicant_id if timer.party == "applicant" else case.assignee_id
    if recipient is None:
        return
    topic = "deadline_reminder" if timer.kind == TimerKind.REMINDER else "target_missed"
    enqueue(
        session,
        topic=topic,
        dedup_key=f"timer:{timer.id}",
        recipient_id=recipient,
        case_id=case.id,
        payload={"folio": case.folio, "state": timer.state, "due_on": timer.due_on.isoformat(), "rule": timer.rule},
    )


def available_triggers(case_id: int, user_id: int) -> list[AvailableTrigger]:
    """The triggers ``user_id`` may fire on the case now, with the reasons of those not yet possible."""
    session = db.session()
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(Msg("El expediente no existe."))
    user = _load_user(session, user_id)
    today = local_today()
    view = case_view(session, case)
    lapsed = lapsed_data(case, today)  # the windows that closed, as a step would find them recorded
    if lapsed:
        view = dataclasses.replace(view, data={**view.data, **lapsed})
    return get_engine().available(view, actor_for(user), today=today, params=case.params or None)


def count_cases() -> int:
    """How many cases exist: the folios handed out, summed from their counters (a row per prefix and year), not
    a count of the cases, which grows with every case ever filed. Every case takes its folio from
    :func:`allocate_folio` in the transaction that creates it, and no case is ever deleted, so the two are
    equal."""
    stmt = select(func.coalesce(func.sum(FolioCounter.last_number), 0))
    return int(db.session.scalars(stmt).one())


QUEUE_LIMIT = 200


def _listed(statement: FixedStatement, params: Mapping[str, Any]) -> list[ListedCase]:
    return [ListedCase._make(row) for row in statement.read(db.session(), params)]


OWN_PAGE = 50
"""Cases on a page of a person's own cases."""


class OwnCursor(NamedTuple):
    """Where a page of a person's own cases ends: the last listed case's filing instant and id."""

    created_at: datetime
    case_id: int


def _own_cases_select(after: bool) -> Select[Any]:
    stmt = (
        select(*LISTED_COLUMNS)
        .where(Case.applicant_id == bindparam("applicant_id"))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    if after:
        stmt = stmt.where(  # newest first: the rows before the last one's values
            tuple_(Case.created_at, Case.id)
            < tuple_(bindparam("after_at", type_=Case.created_at.type), bindparam("after_id", type_=Integer))
        )
    return stmt


_OWN_CASES = FixedStatement(_own_cases_select(False))
_OWN_CASES_AFTER = FixedStatement(_own_cases_select(True))


def own_cases_page(
    user_id: int, limit: int = OWN_PAGE, after: OwnCursor | None = None
) -> tuple[list[ListedCase], OwnCursor | None]:
    """A page of the cases ``user_id`` filed, newest first, starting after ``after``, and where the next page
    starts (``None``: the last)."""
    params: dict[str, Any] = {"applicant_id": user_id, "limit": limit + 1}
    if after is None:
        cases = _listed(_OWN_CASES, params)
    else:
        cases = _listed(_OWN_CASES_AFTER, {**params, "after_at": after.created_at, "after_id": after.case_id})
    if len(cases) <= limit:
        return cases, None
    cases = cases[:limit]
    return cases, OwnCursor(cases[-1].created_at, cases[-1].id)


def own_cases(user_id: int, limit: int = QUEUE_LIMIT) -> list[ListedCase]:
    """The cases ``user_id`` filed, newest first: the first ``limit``."""
    return _listed(_OWN_CASES, {"applicant_id": user_id, "limit": limit})


_QUEUE_USER = bindparam("queue_user", type_=Integer)


class QueueView(StrEnum):
    """Which part of a work queue to show (the value is the page's ``vista`` parameter)."""

    ALL = "todos"
    DUE_SOON = "proximos"
    OVERDUE = "vencidos"
    MINE = "asignados"


class QueueCursor(NamedTuple):
    """Where a page of a work queue ends: the last listed case's sort day (:data:`NO_TERM_DAY` when it has no
    term), its last change and its id, the order the queue is in."""

    day: date
    updated_at: datetime
    case_id: int


class QueuePage(NamedTuple):
    """A page of a work queue: its cases in the queue's order and, when more follow, where the next page starts."""

    cases: list[ListedCase]
    following: QueueCursor | None


DUE_SOON_BUSINESS_DAYS = 3
"""A term is due soon when it has at most this many business days left (and has not lapsed)."""


def last_day_due_soon(cal: BusinessCalendar, today: date, within: int = DUE_SOON_BUSINESS_DAYS) -> date:
    """The last day a term counted from ``today`` may end on and have at most ``within`` business days left:
    the day before the ``within + 1``-th business day after ``today``. (A term that starts counting later,
    notified on a non-working day, counts its days left from then, so it may end later and be due soon.)"""
    day = today
    for _ in range(within + 1):
        day = cal.next_business_day(day)
    return day - timedelta(days=1)


NO_TERM_DAY = date.max
"""The sort day of a case with no term: after every real one."""

_QUEUE_TERM_KINDS = (TimerKind.DEADLINE, TimerKind.TARGET)
_QueueKey = tuple[int, frozenset[str], frozenset[tuple[str, str]], int, QueueView, bool]
_QUEUE_STATEMENTS: dict[_QueueKey, tuple[object, FixedStatement | None]] = {}
"""Work queue statements by (engine, staff roles, department grants, limit, view, whether a page follows another),
for the engine they were built from: which (workflow, state) pairs a set of roles acts in only changes with the
installed workflows, and a statement built once also keeps SQLAlchemy's cache key (the user is a parameter)."""


def _state_terms(*conditions: Any) -> Select[Any]:
    """The last days of the terms (deadlines and targets, pending or lapsed) of the queued case in its present
    state meeting ``conditions``, as the queue's rows show them (:func:`app.services.deadlines.case_terms`)."""
    return select(Timer.due_on).where(*_case_terms(), Timer.state == Case.state, *conditions)


def _case_terms() -> tuple[ColumnElement[bool], ...]:
    """The queued case's terms as the queue's rows read them: its deadlines and targets, pending or lapsed during
    the present stay in their state (:func:`app.services.deadlines.term_in_force`)."""
    return (
        Timer.case_id == Case.id,
        one_of(Timer.kind, [constant(kind) for kind in _QUEUE_TERM_KINDS]),
        term_in_force(),
    )


def _sort_day(definitions: Sequence[Workflow]) -> Any:
    """The queued case's sort day, from one read of its timers: the last day of its running legal term (its
    clock's pending timer) when its definition declares one, else of the nearest term of its present state (a
    deadline or target, pending or lapsed), else :data:`NO_TERM_DAY`."""
    nearest = func.min(when((Timer.state == Case.state, Timer.due_on)))
    rules = [
        (Case.workflow == constant(workflow.name))
        & (Case.workflow_version == constant(workflow.version))
        & (Timer.rule == constant(clock_rule(clock)))
        for workflow in definitions
        for clock in workflow.clocks
        if clock.legal_term
    ]
    day: Any = nearest
    if rules:
        running = is_constant(Timer.status, TimerStatus.PENDING) & or_(*rules)
        day = func.coalesce(func.min(when((running, Timer.due_on))), nearest)
    terms = select(day).where(*_case_terms())
    return func.coalesce(terms.scalar_subquery(), literal(NO_TERM_DAY, Date), type_=Date)


def _work_queue_statement(
    staff_roles: frozenset[str], department_grants: frozenset[tuple[str, str]], limit: int, view: QueueView, after: bool
) -> FixedStatement | None:
    """The work queue's statement for these roles and grants (the user as the ``queue_user`` parameter), or
    ``None`` when those roles never act on cases. It lists the cases by their sort day (the running legal term's
    last day, else the nearest term's: what the queue's rows show), then oldest change first, at most ``limit``
    and one more (to tell whether a page follows); with ``after``, those past the ``after_*`` parameters (a
    :class:`QueueCursor`). The view's filter is part of it, so that no case of the view is left out for
    others beyond the limit: the user's own (assigned), those whose nearest term has lapsed (``today``), or those
    whose nearest term may end within the days due soon (``today``, ``soon``, ``tomorrow``: the rows then say
    exactly which)."""
    engine = get_engine()
    key = (id(engine), staff_roles, department_grants, limit, view, after)
    kept = _QUEUE_STATEMENTS.get(key)
    if kept is not None and kept[0] is engine:
        return kept[1]
    granted = {g for g, _ in department_grants}
    # (procedure, departments, states) → the versions that list those states for those departments
    groups: dict[tuple[str, tuple[str, ...] | None, tuple[str, ...]], list[int]] = {}
    for workflow in engine.definitions:
        # the states of one definition where these roles act, by the departments they are limited to (None: any)
        states: dict[tuple[str, ...] | None, list[str]] = {}
        for state in workflow.states:
            roles = {
                r
                for t in workflow.transitions_from(state.name)
                if not t.owner_only and not t.exceptional  # a case resting where only a revocation applies waits
                for r in t.roles & staff_roles  # for no one on staff
            }
            if not roles:
                continue
            departments = None
            if state.department is not None and all(r in granted for r in roles):
                departments = tuple(sorted({d for r, d in department_grants if r in roles}))
            states.setdefault(departments, []).append(state.name)
        for departments, listed in states.items():
            groups.setdefault((workflow.name, departments, tuple(listed)), []).append(workflow.version)
    conditions = []
    for (name, departments, names), versions in groups.items():
        # the states as one list beside the procedure's name and the versions that share them: SQLite then reads
        # them through the (workflow, state) index; written as one conjunction per state, or one per version with
        # the same states, it took the procedure's name alone in common and read every case of the procedure (an
        # inspector's queue among 10,000)
        condition = (
            (Case.workflow == constant(name))
            & one_of(Case.workflow_version, [constant(v) for v in versions])
            & one_of(Case.state, [constant(state) for state in names])
        )
        if departments is not None:
            condition = condition & (
                Case.department_code.is_(None) | one_of(Case.department_code, [constant(d) for d in departments])
            )
        conditions.append(condition)
    stmt: FixedStatement | None = None
    if conditions:
        stmt = FixedStatement(_queue_select(conditions, limit, view, after, engine.definitions))
    if len(_QUEUE_STATEMENTS) >= 256:
        _QUEUE_STATEMENTS.clear()
    _QUEUE_STATEMENTS[key] = (engine, stmt)
    return stmt


def _queue_select(
    conditions: Sequence[Any], limit: int, view: QueueView, after: bool, definitions: Sequence[Workflow]
) -> Select[Any]:
    """The queue's statement over the cases meeting one of ``conditions`` (:func:`_work_queue_statement`)."""
    # In a department's stage, a case assigned to someone else is theirs alone (the engine refuses the others).
    mine_or_open = Case.assignee_id.is_(None) | (Case.assignee_id == _QUEUE_USER) | Case.department_code.is_(None)
    where: list[Any] = [or_(*conditions), Case.applicant_id != _QUEUE_USER, mine_or_open]
    if view == QueueView.MINE:
        where.append(Case.assignee_id == _QUEUE_USER)
    elif view == QueueView.OVERDUE:
        where.append(exists(_state_terms(Timer.due_on < bindparam("today", type_=Date))))
    elif view == QueueView.DUE_SOON:
        where.append(~exists(_state_terms(Timer.due_on < bindparam("today", type_=Date))))
        where.append(
            exists(
                _state_terms(
                    (Timer.due_on <= bindparam("soon", type_=Date))
                    | (Timer.starts_on > bindparam("tomorrow", type_=Date))
                )
            )
        )
    sort_day = _sort_day(definitions)
    queued = select(*LISTED_COLUMNS, sort_day.label("sort_day")).where(*where).subquery("queued")
    order = (queued.c.sort_day, queued.c.updated_at, queued.c.id)
    outer = select(*queued.c).order_by(*order).limit(limit + 1)
    if after:
        outer = outer.where(past(order, after_day=Date, after_at=Case.updated_at.type, after_id=Integer))
    return outer


def work_queue_page(
    user_id: int,
    staff_roles: frozenset[str],
    limit: int = QUEUE_LIMIT,
    *,
    view: QueueView = QueueView.ALL,
    after: QueueCursor | None = None,
    today: date | None = None,
) -> QueuePage | None:
    """A page of the cases in a state where one of ``staff_roles`` has a step to take, excluding the user's own
    cases, nearest term first (the running legal term's last day, else the nearest term's; cases without one
    last), then oldest change first; ``None`` when those roles never act on cases. An exceptional step (a
    revocation) does not count: a case resting where only such a step is theirs (a licensed work) waits for no one
    on staff. ``view`` narrows it (:class:`QueueView`, its terms judged on ``today``); ``after`` is where the
    page before ended.

    In a state whose office the case's settings map to a department, a role the user holds only in some
    departments sees the case only when it sits in one of them (the engine refuses the others anyway)."""
    user = db.session.get(User, user_id)
    actor = actor_for(user) if user is not None else Actor(user_id, staff_roles)
    stmt = _work_queue_statement(staff_roles, actor.department_grants, limit, view, after is not None)
    if stmt is None:
        return None
    params: dict[str, Any] = {"queue_user": user_id}
    if view in (QueueView.OVERDUE, QueueView.DUE_SOON):
        today = today or local_today()
        params["today"] = today
        if view == QueueView.DUE_SOON:
            params["soon"] = last_day_due_soon(reading_calendar(db.session()), today)
            params["tomorrow"] = today + timedelta(days=1)
    if after is not None:
        params.update(after_day=after.day, after_at=after.updated_at, after_id=after.case_id)
    rows = stmt.read(db.session(), params)  # at most limit + 1: the one more says that a page follows
    cases = [ListedCase._make(row[:-1]) for row in rows[:limit]]
    following = None
    if len(rows) > limit:  # the last case shown, with its sort day (the row's last column)
        following = QueueCursor(rows[limit - 1][-1], cases[-1].updated_at, cases[-1].id)
    return QueuePage(cases, following)


def work_queue(user_id: int, staff_roles: frozenset[str], limit: int = QUEUE_LIMIT) -> list[ListedCase] | None:
    """The first ``limit`` cases of the user's work queue (:func:`work_queue_page`, every case of it), or
    ``None`` when those roles never act on cases."""
    page = work_queue_page(user_id, staff_roles, limit)
    return None if page is None else page.cases
