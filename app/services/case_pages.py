"""Read models of the case pages: where a case stands, who acts next, its terms, documents and history.

Everything here only reads. Texts are returned as msgids (or :class:`Msg`) for the web layer to translate.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from app.calendar import local_today
from app.database import FixedStatement, column_rows, one_of
from app.engine import AvailableTrigger, Msg, NotFound, get_engine
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Document, TimerKind, User, utcnow
from app.services import visibility
from app.services.assignment import assignee_name
from app.services.cases import actor_for, case_view, settle_due_lapses
from app.services.certificates import CertificateItem, listed_certificates
from app.services.deadlines import (
    ClockView,
    TermView,
    case_terms,
    clock_rule,
    legal_of,
    legal_terms,
    moving_lapse_unrecorded,
    unrecorded_lapses,
)
from app.services.departments import all_department_names, department_names
from app.services.payments import PaymentStatus, payment_status
from app.storage import get_storage
from workflows import REGISTRY
from workflows.base import (
    N_,
    SYSTEM_ROLE,
    HistoryItem,
    State,
    Workflow,
    department_of,
    documents_for,
    fees_total,
    item_in_language,
    requirement_kinds,
)
from workflows.procedure import NOTHING_DELIVERED, Delivered


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One entry of the case's log as people read it."""

    seq: int
    at: datetime
    action: str
    description: Msg
    actor_name: str | None
    actor_role: str
    comment: str | None
    from_state: str | None
    to_state: str | None
    draw: dict[str, Any] | None
    certificate: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DocumentVersion:
    """One uploaded file of a case."""

    id: int
    kind: str
    original_name: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class RequirementRow:
    """A required document kind with its current file and the files it replaced (newest first)."""

    kind: str
    label: str
    current: DocumentVersion | None
    history: tuple[DocumentVersion, ...]


@dataclass(frozen=True, slots=True)
class StateRow:
    """A state of the workflow, marked as the current one, one the case went through, or neither."""

    name: str
    description: str
    status: str
    terminal: bool


@dataclass(frozen=True, slots=True)
class NextActor:
    """Who has the next step: a role and, for public servants, the department that acts; ``act`` (a msgid)
    says what they do when the step is shared (the applicant pays, the treasury confirms)."""

    role: str
    department: str | None
    act: str | None = None


@dataclass(frozen=True, slots=True)
class Term:
    """A pending term of the case: the applicant's deadline or the authority's service target."""

    kind: TimerKind
    description: str
    due_on: date
    business_days_left: int
    overdue: bool
    party: str | None


@dataclass
class CasePage:
    """Everything the case page shows."""

    case: Case
    workflow: Workflow
    state: State
    is_owner: bool
    terms: list[Term]
    next_actors: list[NextActor]
    requirements: list[RequirementRow]
    timeline: list[TimelineItem]
    states: list[StateRow]
    triggers: list[AvailableTrigger]
    fees: list[dict[str, str]] = field(default_factory=list)
    fees_total: Decimal = Decimal(0)
    fees_preview: bool = False
    fee_step: bool = False
    """Whether a step the user may take now assesses the fees."""
    draw: dict[str, Any] | None = None
    certificates: list[CertificateItem] = field(default_factory=list)
    can_edit: bool = False
    can_upload: bool = False
    requirement_labels: dict[str, str] = field(default_factory=dict)
    department_names: dict[str, str] = field(default_factory=dict)
    assignee_name: str | None = None
    is_assignee: bool = False
    legal_term: ClockView | None = None
    """The procedure's legal term (started at the filing), shown as a date and business days left."""
    payment: PaymentStatus | None = None
    """How the case's fees stand: what to pay, with which reference and by when; or paid."""


def readable_case(case_id: int, user_id: int) -> tuple[Case, User]:
    """The case and the user, when the user may read it (see :mod:`app.services.visibility`).
    Raises ``NotFound`` and ``NotAllowed``."""
    return visibility.readable_case(case_id, user_id)


SPANISH = "es_MX"
"""The language read models speak when their caller names none: the interface's first language."""


def requirement_labels(case: Case, language: str = SPANISH) -> dict[str, str]:
    """Document kind → label as a reader of ``language`` reads it (the English label where the language is
    English and the list gives one), from the requirements list the case was opened under."""
    labels: dict[str, str] = {}
    for item in (case.params or {}).get("requirements") or ():
        if isinstance(item, dict) and isinstance(item.get("kind"), str):
            labels[item["kind"]] = item_in_language(item, "label", language) or item["kind"]
    return labels


def case_requirements(case: Case) -> list[str]:
    """The document kinds the case's submission requires (its settings' list, else the definition's)."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    params = case.params or workflow.params
    kinds: list[str] = []
    for t in workflow.transitions:
        if t.documents_param is None and not t.required_documents:
            continue  # most steps take no documents (a page would ask each of some forty)
        for kind in documents_for(t, params):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def uploadable(case: Case) -> bool:
    """Whether the applicant may upload documents in the case's current state."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    params = case.params or workflow.params
    return any(t.owner_only and documents_for(t, params) for t in workflow.transitions_from(case.state))


def next_actors(workflow: Workflow, state_name: str, params: dict[str, Any]) -> list[NextActor]:
    """Who has the next step in ``state_name``: the roles of the exits that move the case on (exits to an
    end, such as withdrawing, count only when there is nothing else), applicant first.

    In the state where the procedure's :class:`workflows.procedure.Payment` awaits payment the applicant pays
    the order and the treasury (the roles of the confirming transition) confirms it: both are named, each with
    what they do."""
    procedure = REGISTRY.get(workflow.name) if workflow.name in REGISTRY else None
    payment = procedure.payment if procedure is not None else None
    if payment is not None and state_name in payment.awaiting_states:
        confirm = next((t for t in workflow.transitions_from(state_name) if t.trigger == payment.confirm_trigger), None)
        if confirm is not None:
            department = department_of(workflow.state(state_name), params)
            confirmers = sorted(confirm.roles - {SYSTEM_ROLE, "applicant"})
            return [
                NextActor("applicant", None, N_("paga la orden de pago")),
                *(NextActor(role, department, N_("confirma el pago")) for role in confirmers),
            ]
    late = payment.late_trigger if payment is not None else None  # a payment still owed is the treasury's own
    exits = [t for t in workflow.transitions_from(state_name) if t.roles != {SYSTEM_ROLE} and t.trigger != late]
    onward = [t for t in exits if not workflow.state(t.dest).terminal]
    roles = sorted({r for t in (onward or exits) for r in t.roles - {SYSTEM_ROLE}}, key=lambda r: (r != "applicant", r))
    department = department_of(workflow.state(state_name), params)
    return [NextActor(role, None if role == "applicant" else department) for role in roles]


def who_acts_next(case_id: int, language: str = SPANISH) -> tuple[list[NextActor], dict[str, str]]:
    """Who has the next step on the case (roles and departments, no names) and the departments' names as a
    reader of ``language`` reads them, for telling a person refused access who can act on it; empty for an
    unknown case."""
    session = db.session()
    case = session.get(Case, case_id)
    if case is None:
        return [], {}
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    actors = next_actors(workflow, case.state, case.params or dict(workflow.params))
    return actors, all_department_names(language)


def refused_case_labels(case_id: int, language: str = SPANISH) -> tuple[Workflow, dict[str, str]] | None:
    """The definition a case runs on and its documents' labels as a reader of ``language`` reads them, for
    showing back to a public servant refused the case (``NotAllowed``: a case of their procedure that is no
    longer theirs) what they had typed and ticked in one of its forms; ``None`` for an unknown case. Nothing of
    the case's data is read."""
    case = db.session.get(Case, case_id)
    if case is None:
        return None
    return get_engine().definition(case.workflow, case.workflow_version), requirement_labels(case, language)


def document_readable(case: Case, user: User, document: Document) -> bool:
    """Whether ``user``, who may read ``case``, may read ``document`` of it. Staff read every document of the
    cases they see; the case's applicant reads what they uploaded and what their procedure delivers to them now
    (``Procedure.delivered``: an access request's response documents once their costs are paid, the versión
    pública alone while a classification stands), never what staff attached for their own work (an area's
    original of classified information, for one)."""
    return _readable_by(case, user)(document.id, document.kind, document.uploaded_by_id)


def _readable_by(case: Case, user: User) -> Callable[[int, str, int | None], bool]:
    """:func:`document_readable` as a test of a document's id, kind and uploader (a column row's), for all the
    documents of a list: what the procedure delivers to the applicant is worked out once."""
    if case.applicant_id != user.id:
        return lambda _id, _kind, _uploaded_by: True
    delivered = _delivered(case)
    return lambda document_id, kind, uploaded_by_id: uploaded_by_id == user.id or delivered.includes(document_id, kind)


def _delivered(case: Case) -> Delivered:
    """What of staff's documents the case's applicant may read now, by the case's procedure."""
    procedure = REGISTRY.get(case.workflow) if case.workflow in REGISTRY else None
    if procedure is None or procedure.delivered is None:
        return NOTHING_DELIVERED
    return procedure.delivered(case.data)


_DOCUMENTS = FixedStatement(
    select(
        Document.id,
        Document.kind,
        Document.original_name,
        Document.size_bytes,
        Document.sha256,
        Document.uploaded_at,
        Document.superseded_by_id,
        Document.uploaded_by_id,
    )
    .where(Document.case_id == bindparam("case_id"))
    .order_by(Document.id.desc())
)
"""What the case page shows of its documents (columns: not the storage key, no ORM objects)."""


def _documents(case: Case, user: User) -> tuple[list[DocumentVersion], list[tuple[str, str]]]:
    """The case's documents ``user`` may read (newest first), and the (kind, SHA-256) of all its current ones
    (what the engine decides on), from one read."""
    rows = _DOCUMENTS.read(db.session(), {"case_id": case.id})
    readable_to = _readable_by(case, user)
    # the columns of _DOCUMENTS, unpacked (each attribute of a row costs a look-up)
    readable = [
        DocumentVersion(id_, kind, name, size, sha256, uploaded_at, superseded_by is None)
        for id_, kind, name, size, sha256, uploaded_at, superseded_by, uploaded_by in rows
        if readable_to(id_, kind, uploaded_by)
    ]
    # the engine's inputs list the current documents oldest first (their order does not matter to it)
    current = [(kind, sha256) for _, kind, _, _, sha256, _, superseded_by, _ in reversed(rows) if superseded_by is None]
    return readable, current


_TIMELINE = FixedStatement(
    select(
        AuditEntry.seq,
        AuditEntry.at,
        AuditEntry.kind,
        AuditEntry.action,
        AuditEntry.actor_id,
        AuditEntry.actor_role,
        AuditEntry.comment,
        AuditEntry.from_state,
        AuditEntry.to_state,
        AuditEntry.details,
        User.display_name,
    )
    .outerjoin(User, User.id == AuditEntry.actor_id)
    .where(
        AuditEntry.case_id == bindparam("case_id"), one_of(AuditEntry.kind, [AuditKind.TRANSITION, AuditKind.DOCUMENT])
    )
    .order_by(AuditEntry.seq)
)
"""What a case's timeline shows of its log entries, with each actor's name (columns: the hashes and digests
stay in the database)."""


def _timeline(
    case: Case, workflow: Workflow, labels: dict[str, str], reader: User
) -> tuple[list[TimelineItem], tuple[HistoryItem, ...]]:
    """The case's log as ``reader`` reads it, and its transition history (what the engine decides on)."""
    entries = _TIMELINE.read(db.session(), {"case_id": case.id})
    # the columns of _TIMELINE, by position (each attribute of a row costs a look-up)
    names = {entry[4]: entry[10] for entry in entries if entry[4] is not None}
    alias = visibility.applicant_alias(db.session(), case, reader)
    if alias is not None:
        names[case.applicant_id] = alias  # a requester filed under a pseudonym: never their account's name
    items: list[TimelineItem] = []
    history: list[HistoryItem] = []
    for seq, at, entry_kind, action, actor_id, actor_role, comment, from_state, to_state, stored, _ in entries:
        details = stored or {}
        if entry_kind == AuditKind.DOCUMENT:
            kind = str(details.get("kind") or "")
            text = (
                N_("Documento reemplazado: %(kind)s")
                if details.get("replaces")
                else N_("Documento adjuntado: %(kind)s")
            )
            description = Msg(text, {"kind": labels.get(kind, kind)})
        else:
            history.append(HistoryItem(action, actor_id))  # the query reads transitions and documents only
            if action == "open":
                description = Msg(N_("Solicitud creada"))
            else:
                matches = workflow.find(action, from_state or "")
                description = Msg(matches[0].description if matches else action)
        draw = details.get("draw") if isinstance(details.get("draw"), dict) else None
        certificate = details.get("certificate") if isinstance(details.get("certificate"), dict) else None
        items.append(
            TimelineItem(
                seq=seq,
                at=at,
                action=action,
                description=description,
                actor_name=names.get(actor_id) if actor_id is not None else None,
                actor_role=actor_role,
                comment=comment,
                from_state=from_state,
                to_state=to_state,
                draw=draw,
                certificate=certificate,
            )
        )
    return items, tuple(history)


def _states(workflow: Workflow, case: Case, timeline: list[TimelineItem]) -> list[StateRow]:
    visited = {item.to_state for item in timeline if item.to_state} | {workflow.initial}
    rows: list[StateRow] = []
    for s in workflow.states:
        status = "current" if s.name == case.state else ("done" if s.name in visited else "pending")
        rows.append(StateRow(s.name, s.description, status, s.terminal))
    return rows


def _terms(workflow: Workflow, pending: list[TermView]) -> list[Term]:
    """The pending terms of the state (the applicant's deadline, the authority's target) and of the case's
    clocks other than its legal term (which the page shows on its own)."""
    terms: list[Term] = []
    clocks = {clock_rule(c): c for c in workflow.clocks}
    for view in pending:
        state = workflow.state(view.state)
        clock = clocks.get(view.rule)
        if clock is not None:
            if clock.legal_term:
                continue
            description = clock.description
        elif view.kind == TimerKind.DEADLINE and state.deadline is not None:
            description = state.deadline.description
        elif state.target is not None:
            description = state.target.description
        else:
            description = state.description
        terms.append(Term(view.kind, description, view.due_on, view.business_days_left, view.overdue, view.party))
    return terms


def case_page(case_id: int, user_id: int, language: str = SPANISH, *, settle: bool = False) -> CasePage:
    """The case page as ``user_id`` sees it: the triggers listed are the ones they may fire (disabled ones
    with their reasons); the jurisdiction's labels and departments' names as a reader of ``language`` reads
    them. With ``settle`` (a page shown), a deadline whose last day is over, that the timers' worker has not
    recorded yet and whose lapse moves the case is recorded first, as the worker would
    (:func:`app.services.cases.settle_due_lapses`), and the case shown as it then stands: a term that ended is
    over, and the page offers no step its lapse ends. Raises ``NotFound`` and ``NotAllowed``."""
    case, user = readable_case(case_id, user_id)
    engine = get_engine()
    workflow = engine.definition(case.workflow, case.workflow_version)
    params = case.params or dict(workflow.params)
    state = workflow.state(case.state)
    labels = requirement_labels(case, language)
    documents, current = _documents(case, user)
    kinds = case_requirements(case)
    kinds += [d.kind for d in documents if d.kind not in kinds]
    requirements = [
        RequirementRow(
            kind,
            labels.get(kind, kind.replace("_", " ").capitalize()),
            next((d for d in documents if d.kind == kind and d.current), None),
            tuple(d for d in documents if d.kind == kind and not d.current),
        )
        for kind in dict.fromkeys(kinds)
    ]
    today = local_today()
    timeline, history = _timeline(case, workflow, labels, user)
    view = case_view(db.session(), case, current, history)
    # Fields the system computes when a form is used (fees) count as supplied, as they will be.
    computed = {
        name: compute(case.data, params)
        for t in workflow.transitions_from(case.state)
        for name in t.fields
        if (compute := workflow.computed_fields.get(name)) is not None
    }
    pending, clocks = case_terms([case], today)
    if settle and moving_lapse_unrecorded(workflow, case.state, pending.get(case.id, ())):
        settle_due_lapses(case.id, utcnow())
        return case_page(case_id, user_id, language, settle=False)
    # a term that ended before today counts as recorded, as it will be before any step (cases.fire)
    lapsed = unrecorded_lapses(workflow, case.state, params, clocks.get(case.id, {}), today)
    if computed or lapsed:
        view = dataclasses.replace(view, data={**view.data, **computed, **lapsed})
    dedicated = {t.trigger for t in workflow.transitions if t.dedicated}  # offered on the feature's own pages
    triggers = [
        t for t in engine.available(view, actor_for(user), today=today, params=params) if t.trigger not in dedicated
    ]
    page = CasePage(
        case=case,
        workflow=workflow,
        state=state,
        is_owner=case.applicant_id == user.id,
        terms=_terms(workflow, pending.get(case.id, [])),
        next_actors=next_actors(workflow, case.state, params),
        requirements=requirements,
        timeline=timeline,
        states=_states(workflow, case, timeline),
        triggers=triggers,
        requirement_labels=labels,
        legal_term=legal_of(clocks).get(case.id),
    )
    procedure = REGISTRY.get(workflow.name) if workflow.name in REGISTRY else None
    edit = procedure.edit_trigger if procedure is not None else "edit"
    page.can_edit = any(t.trigger == edit and t.enabled for t in triggers)
    page.assignee_name = assignee_name(case)
    page.is_assignee = case.assignee_id == user.id and case.closed_at is None
    page.can_upload = page.is_owner and uploadable(case)
    fee_field = next((f.name for f in procedure.fields if f.type == "fees"), None) if procedure else None
    if fee_field is not None:
        fees = case.data.get(fee_field)
        page.fee_step = any(fee_field in t.fields for t in triggers)
        if fees:
            page.fees = [dict(item) for item in fees if isinstance(item, dict)]
        elif fee_field in workflow.computed_fields and page.fee_step:
            page.fees = workflow.computed_fields[fee_field](case.data, params)
            page.fees_preview = True
        page.fees_total = fees_total(page.fees)
    records = [case.data.get(s.draw.record_field) for s in workflow.states if s.draw is not None]
    page.draw = next((record for record in records if isinstance(record, dict)), None)
    page.certificates = listed_certificates(case.id)  # the case's visibility was checked above
    page.payment = payment_status(db.session(), case)
    codes = {a.department for a in page.next_actors if a.department}
    if codes:
        page.department_names = department_names(codes, language)
    return page


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What acting on a case from its page needs before the engine decides: the case, its workflow and the
    user. Much less than :class:`CasePage`: the page is built again only when the action is refused. The
    items a correction may point at (:func:`requirement_items`) are read only by a step that takes them."""

    case: Case
    workflow: Workflow
    user: User


def action_context(case_id: int, user_id: int) -> ActionContext:
    """The :class:`ActionContext` of a case ``user_id`` may read: the case and the user (one visibility
    check). Raises ``NotFound`` and ``NotAllowed``."""
    case, user = readable_case(case_id, user_id)
    return ActionContext(case, get_engine().definition(case.workflow, case.workflow_version), user)


def requirement_items(context: ActionContext, language: str = SPANISH) -> list[tuple[str, str]]:
    """The kinds of the documents required or uploaded that the context's user may read, with their labels as
    a reader of ``language`` reads them: what a correction's list of points may name (three columns of the
    case's documents)."""
    case, user = context.case, context.user
    labels = requirement_labels(case, language)
    kinds = case_requirements(case)
    readable = _readable_by(case, user)
    for document in column_rows(
        db.session(),
        select(Document.id, Document.kind, Document.uploaded_by_id)
        .where(Document.case_id == case.id)
        .order_by(Document.id.desc()),
    ):
        if document.kind not in kinds and readable(document.id, document.kind, document.uploaded_by_id):
            kinds.append(document.kind)
    return [(kind, labels.get(kind, kind.replace("_", " ").capitalize())) for kind in kinds]


def case_document(case_id: int, document_id: int, user_id: int) -> tuple[Document, bytes]:
    """An uploaded document of the case and its bytes, for whoever may read the case; the stored bytes are
    checked against the recorded SHA-256. Raises ``NotFound`` and ``NotAllowed``."""
    case, user = readable_case(case_id, user_id)
    document = db.session.get(Document, document_id)
    if document is None or document.case_id != case.id or not document_readable(case, user, document):
        raise NotFound(Msg("El documento no existe."))
    content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(document.storage_key)
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise RuntimeError(f"stored bytes of document {document.id} do not match their recorded hash")
    return document, content


def required_kinds(case: Case) -> tuple[str, ...]:
    """The document kinds listed in the case's requirements setting (empty when it has none)."""
    return requirement_kinds((case.params or {}).get("requirements"))


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What anyone may learn of a filed case from its folio: the procedure, the state and the legal term,
    nothing personal."""

    folio: str
    workflow_title: str
    state_description: str
    closed: bool
    legal_term: ClockView | None
    """The procedure's legal term (:attr:`workflows.base.Clock.legal_term`), once it started."""
    silence_rule: str | None = None
    """When the legal term lapsed: the description (a msgid) of the transition its lapse fired (the
    jurisdiction's silence rule)."""
    last_day: date | None = None
    """When the legal term lapsed: its last day, as the lapse recorded it (the rule applies the next day)."""


def public_status(folio: str, today: date | None = None) -> PublicStatus | None:
    """The public view of the filed case ``folio`` of any procedure (``None`` for an unknown folio or a draft
    not yet filed, so that the answer does not tell which drafts exist)."""
    session = db.session()
    case = session.scalars(select(Case).where(Case.folio == (folio or "").strip().upper())).first()
    if case is None:
        return None
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if case.state == workflow.initial:
        return None
    term = legal_terms([case.id], today or local_today()).get(case.id) if workflow.clocks else None
    silence: str | None = None
    last_day: date | None = None
    if term is not None and term.overdue:
        clock = next(c for c in workflow.clocks if c.name == term.name)
        trigger = clock.lapse_trigger({**workflow.params, **(case.params or {})})
        silence = next((t.description for t in workflow.transitions if t.trigger == trigger), None)
        try:
            last_day = date.fromisoformat(str((case.data or {}).get(clock.lapse_field) or ""))
        except ValueError:
            last_day = None
    return PublicStatus(
        folio=case.folio,
        workflow_title=workflow.title,
        state_description=workflow.state(case.state).description,
        closed=case.closed_at is not None,
        legal_term=term,
        silence_rule=silence,
        last_day=last_day,
    )
