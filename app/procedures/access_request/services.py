"""Access-to-information requests: filing without an account, public tracking, turns to areas, the
committee's sessions, the response and the appeal. Each public function is one unit of work.

Requesters need not prove who they are. Filing without an account creates (or reuses) a *passwordless*
requester row in ``users`` flagged by :data:`~app.procedures.access_request.models.PASSWORDLESS` as its
password hash: no password ever matches it, so the row can never log in, yet ``cases.applicant_id`` keeps
pointing at a real user and every rule of the engine that concerns "the requester" (owner-only steps, no
staff action on one's own request, notifications) works unchanged. The requester acts through a secret tracking link: a
random 256-bit token made at filing, shown once on the receipt page and mailed once to the confirmed
address; the database keeps its SHA-256, and the token itself only sealed (encrypted with a key derived from
the secret key) while the confirmation or receipt that carries it waits and, for :data:`REPLAY_WINDOW`, for a
repeat of the filing form (a copy of the database, or the secret key alone, reveals no link).
Links of requests filed before random tokens (HMAC of the folio) keep working: their stored digests are
unchanged, and a logged-in requester who opens one gets a new random token.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy import case as when
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.calendar import LOCAL_TZ, local_today
from app.certificates.formatting import long_date
from app.database import constant, is_constant, one_of, past
from app.engine import CaseView, ConflictError, DomainError, InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import (
    AuditKind,
    Case,
    Certificate,
    Department,
    Document,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
    User,
    UserRole,
    utcnow,
)
from app.models.clocks import ClockStatus
from app.notifications import enqueue
from app.procedures.access_request.models import (
    PASSWORDLESS,
    AccessRequest,
    AnswerKind,
    AreaDocument,
    AreaTurn,
    CommitteeDecision,
    CommitteeItem,
    CommitteeMatter,
    CommitteeSession,
    CommitteeVote,
    FilingKey,
)
from app.services import confirmation
from app.services.auth import decrypt, encrypt
from app.services.cases import FireResult, fire, open_case, refuse_stale
from app.services.deadlines import (
    CLOCK_RULE_PREFIX,
    ClockView,
    TermView,
    calendar,
    case_clocks,
    case_terms,
    moving_lapse_unrecorded,
    pending_terms,
    term_in_force,
    unrecorded_lapses,
)
from app.services.departments import all_department_names
from app.services.documents import add_pdf, log_attached
from app.services.payments import current_order
from app.services.uow import unit_of_work
from app.services.uploads import check_pdf
from app.services.users import active_holders, normalise_email
from app.storage import get_storage
from workflows import access_request as wf
from workflows.base import N_, GuardInput, HistoryItem

WORKFLOW = wf.ACCESS_V1.name
TRACKING_PATH = "/transparencia/seguimiento/"
UNMAILED_DOMAIN = "@requester.invalid"
"""Domain of the requester rows of requests filed with an account's address: never mailed (RFC 2606)."""
MAX_PSEUDONYM = 120
MAX_TEXT = 5000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUESTER_ACTIONS = frozenset(
    {"answer_prevention", "appeal", "answer_appeal_prevention", wf.REQUESTER_PLEADS, wf.COMPLIANCE_REMARKS}
)
UNIT_ACTIONS = frozenset({"prevent", "declare_incompetent", "consolidate", "report_compliance"})
GUARANTOR_ACTIONS = frozenset(
    {
        "admit_appeal",
        "dismiss_appeal",
        "prevent_appeal",
        "close_instruction",
        "resolve_appeal",
        "extend_resolution",
        "accept_compliance",
        "reject_compliance",
    }
)
AREA_DOCUMENT_KINDS = ("respuesta_area", wf.PUBLIC_VERSION)
APPEAL_TERM = N_("Plazo para interponer el recurso de revisión")
"""How a notice names the term it gives when that term is the one to appeal (translated on display)."""
RESOLUTION_TERM = N_("Plazo para resolver el recurso de revisión")
"""How the guarantor's notice of a new appeal names its term to resolve it."""
COMPLIANCE_TERM = N_("Plazo del sujeto obligado para cumplir la resolución")
"""How a notice names the term the obligated body has to comply with the guarantor's resolution."""
APPEAL_PREVENTION_TERM = N_("Plazo para atender la prevención del órgano garante")
"""How a notice names the appellant's term to answer the guarantor's prevención (LGTAIP 2015 art. 145)."""
PLEADINGS_TERM = N_("Plazo para ofrecer pruebas y formular alegatos")
"""How a notice names the parties' term to plead in the admitted appeal (LGTAIP 2015 art. 150, fr. II)."""
COMPLIANCE_VIEW_TERM = N_("Plazo para manifestarse sobre el informe de cumplimiento")
"""How a notice names the appellant's term to make remarks on the body's compliance report (LGTAIP 2015
art. 197)."""
ADMITTED = ("appealed", wf.APPEAL_PLEADINGS)
"""The states of an admitted appeal, in which the guarantor's term to resolve it runs (LGTAIP 2015 art. 146)."""
REPLAY_WINDOW = timedelta(minutes=30)
"""How long a filing form sent again shows the receipt (and working tracking link) of the request it filed:
long enough for a double click, a retry after a lost answer or the back button, short enough that the sealed
token does not stay in the database."""


# -- tracking links -------------------------------------------------------------------------------


def new_tracking_token() -> str:
    """A fresh random tracking token (256 bits); only its SHA-256 is stored."""
    return secrets.token_urlsafe(32)


def pseudonym(session: Session, case: Case) -> str | None:
    """The name the requester chose for ``case`` (what staff see instead of the account's name)."""
    return session.scalar(select(AccessRequest.pseudonym).where(AccessRequest.case_id == case.id))


def tracking_path_for(token: str) -> str:
    """The path of the tracking page of ``token``."""
    return f"{TRACKING_PATH}{token}"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def own_request_folio(case_id: int, user_id: int) -> str:
    """The folio of the request ``case_id`` filed by the logged-in requester ``user_id``. Raises ``NotFound``
    for anyone else's request (as for one that does not exist)."""
    case = db.session.get(Case, case_id)
    if case is None or case.applicant_id != user_id or db.session.get(AccessRequest, case_id) is None:
        raise NotFound(Msg("El expediente no existe."))
    return case.folio


def reissue_tracking_token(case_id: int, user_id: int) -> str:
    """A new tracking token for the logged-in requester ``user_id`` of ``case_id`` (the previous link stops
    working). Raises ``NotFound`` for anyone else's request.

    Reissues at the same moment (two tabs) run one after the other: each returns the token valid when it
    commits, and the later one replaces the earlier one's, as any reissue replaces the link before it."""
    with unit_of_work() as session:
        # locked: a concurrent reissue waits for this one instead of overwriting a token it never saw
        request = session.get(AccessRequest, case_id, with_for_update=True, populate_existing=True)
        case = session.get(Case, case_id)
        if request is None or case is None or case.applicant_id != user_id:
            raise NotFound(Msg("El expediente no existe."))
        token = new_tracking_token()
        request.token_sha256 = _token_digest(token)
        return token


# -- filing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filed:
    """A request just filed: its folio and its secret tracking token (shown once, and mailed). ``replayed``:
    the same filing form sent again, answered with the request it filed before."""

    case_id: int
    folio: str
    token: str
    received_on: date
    replayed: bool = False


def _clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _requester(session: Session, pseudonym: str, email: str, account_id: int | None) -> User:
    if account_id is not None:
        user = session.get(User, account_id)
        if user is None or not user.active or not user.has_role(Role.APPLICANT):
            raise NotAllowed(Msg("Solo un solicitante puede presentar solicitudes."))
        return user
    address = normalise_email(email)
    try:
        return _passwordless_requester(session, pseudonym, address)
    except IntegrityError:
        # A double submit with a new address: both filings found nobody and both inserted it; this one's insert
        # waited for the other's commit and failed. The row is there now: this filing goes under it (two
        # submits are two requests of the same requester).
        return _passwordless_requester(session, pseudonym, address)


def _passwordless_requester(session: Session, pseudonym: str, address: str) -> User:
    """The passwordless requester of ``address``, created when there is none. The insert runs in a savepoint:
    when it fails on the address's unique key only the savepoint is rolled back, and the caller looks again."""
    user = session.scalars(select(User).where(User.email == address)).first()
    if user is not None and user.password_hash == PASSWORDLESS:
        return user
    if user is not None:
        # The address belongs to an account: the answer must not say so, and the request must not enter
        # the account of someone who may not have filed it. It gets a requester of its own, reachable only
        # through the tracking link shown now, and nothing is mailed.
        address = f"sin-correo-{secrets.token_hex(12)}{UNMAILED_DOMAIN}"
    user = User(
        email=address,
        display_name=pseudonym,
        password_hash=PASSWORDLESS,
        roles=[UserRole(role=Role.APPLICANT)],
    )
    with session.begin_nested():
        session.add(user)
        session.flush()
    return user


def file_request(
    pseudonym: str,
    email: str,
    information_requested: str,
    delivery_format: str,
    *,
    account_id: int | None = None,
    key: str | None = None,
) -> Filed:
    """File an access request as ``pseudonym`` (mail goes to ``email``), or under the logged-in applicant
    ``account_id``. Returns the folio and the secret tracking token; a receipt goes to the outbox.

    ``key`` is the filing form's own key (a fresh one each time the form is shown). The same form sent again
    (a double click, at the same moment or later) files nothing: within :data:`REPLAY_WINDOW` and with the same
    data it returns the first request with its working token (``replayed``); otherwise it raises
    ``ConflictError`` naming the folio it filed, so that the person decides whether to file another.

    Without an account, nothing about the request is mailed until the address is confirmed (a single-use
    link); then the receipt with the tracking link goes to it. An address that belongs to an account gets
    the same answer, but the request stays out of that account and nothing is mailed.

    Raises ``InvalidData`` (every problem listed in one message: empty pseudonym or request, bad e-mail,
    format not offered) and ``NotAllowed``.
    """
    pseudonym = _clean(pseudonym, MAX_PSEUDONYM)
    information = (information_requested or "").strip()
    problems: list[Msg] = []
    if not pseudonym:
        problems.append(Msg("Escriba un nombre o seudónimo."))
    if account_id is None and not EMAIL_RE.match((email or "").strip()):
        problems.append(Msg("Escriba un correo electrónico válido para recibir las notificaciones."))
    if not information:
        problems.append(Msg("Describa la información que solicita."))
    elif len(information) > MAX_TEXT:
        problems.append(Msg("La descripción no puede exceder %(n)s caracteres.", {"n": str(MAX_TEXT)}))
    params = _current_params()
    probe = GuardInput({"delivery_format": delivery_format}, frozenset(), (), None, frozenset(), local_today(), params)
    if wf.delivery_format_offered(probe) is not None:
        problems.append(Msg("Elija una modalidad de entrega de las que se ofrecen."))
    if problems:
        raise InvalidData(problems[0], tuple(problems))
    filed_as = (account_id, normalise_email(email) if account_id is None else "", pseudonym, information)
    digest = hashlib.sha256(json.dumps([*filed_as, delivery_format], ensure_ascii=False).encode()).hexdigest()
    try:
        with unit_of_work() as session:
            if key and (earlier := _filed_before(session, key, digest)) is not None:
                return earlier
            filed = _file(session, pseudonym, email, information, delivery_format, account_id)
            if key:
                # a form sent twice at once: the second insert waits for the first's commit and fails on the key
                session.add(
                    FilingKey(key=key, case_id=filed.case_id, request_sha256=digest, sealed_token=encrypt(filed.token))
                )
                session.flush()
            return filed
    except IntegrityError:
        if not key:
            raise
        with unit_of_work() as session:  # nothing of this attempt was kept: the first one's answer is the answer
            earlier = _filed_before(session, key, digest)
        if earlier is None:
            raise
        return earlier


def _filed_before(session: Session, key: str, digest: str) -> Filed | None:
    """The request the filing form ``key`` filed, as :func:`file_request` answers a repeat of that form."""
    row = session.get(FilingKey, key)
    if row is None:
        return None
    case = session.get(Case, row.case_id)
    request = session.get(AccessRequest, row.case_id)
    if case is None or request is None:  # not kept apart from its case (the key is deleted with it)
        return None
    fresh = row.created_at > utcnow() - REPLAY_WINDOW and row.request_sha256 == digest
    token = decrypt(row.sealed_token) if fresh and row.sealed_token else None
    if token is None or _token_digest(token) != request.token_sha256:  # later reissued: that link no longer works
        raise ConflictError(
            Msg(
                "Con este formulario ya se presentó la solicitud %(folio)s. Si quiere presentar otra, revise "
                "los datos y vuelva a enviarlos.",
                {"folio": case.folio},
            )
        )
    return Filed(case.id, case.folio, token, request.received_on, replayed=True)


def close_filing_replays() -> int:
    """Clear the digest and the sealed token of the filing keys older than :data:`REPLAY_WINDOW` (run by
    ``permits tick``); returns how many were cleared. A repeat of such a form is answered without the link."""
    with unit_of_work() as session:
        cleared = session.execute(
            update(FilingKey)
            .where(FilingKey.sealed_token.is_not(None), FilingKey.created_at <= utcnow() - REPLAY_WINDOW)
            .values(sealed_token=None, request_sha256=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(cleared, "rowcount", 0) or 0)


def _file(
    session: Session,
    pseudonym: str,
    email: str,
    information: str,
    delivery_format: str,
    account_id: int | None,
) -> Filed:
    """File the checked request in the caller's transaction."""
    user = _requester(session, pseudonym, email, account_id)
    opened = open_case(WORKFLOW, user.id, {"information_requested": information, "delivery_format": delivery_format})
    case = session.get(Case, opened.case_id)
    assert case is not None  # noqa: S101 - created just above in this transaction
    token = new_tracking_token()
    received = local_today(case.created_at)
    session.add(
        AccessRequest(
            case_id=case.id,
            requester_id=user.id,
            pseudonym=pseudonym,
            delivery_format=delivery_format,
            token_sha256=_token_digest(token),
            received_on=received,
        )
    )
    if account_id is not None:  # a logged-in requester: the receipt with the link goes to the account
        enqueue(
            session,
            topic="filing_receipt",
            dedup_key=f"filing_receipt:case:{case.id}",
            payload={"sealed": encrypt(token), "folio": case.folio},
            recipient_id=user.id,
            case_id=case.id,
        )
    elif not user.email.endswith(UNMAILED_DOMAIN):
        # nothing about the request goes to the address before someone proves they read it
        confirmation.issue(session, user.id, confirmation.FILING, case_id=case.id, release=token)
    return Filed(case.id, case.folio, token, received)


def _current_params() -> Mapping[str, Any]:
    from app.services.config import current_params

    return current_params(WORKFLOW)


def _mail_requester(session: Session, case: Case, trigger: str, seq: int, act: ActNotice | None = None) -> None:
    payload: dict[str, Any] = {
        "folio": case.folio,
        "trigger": trigger,
        "state": case.state,
        "party": "applicant",
        "tracking": True,
    }
    if act is not None:
        text = act.text if not act.competent_body else f"{act.text}\n{act.competent_body}"
        payload |= {"text": text, "legal_basis": act.legal_basis}
        if act.due_on is not None:
            payload["due_on"] = act.due_on.isoformat()
            if act.due_label:
                payload["due_label"] = act.due_label
            elif act.kind != "prevention":  # the term the notice gives is the one to appeal
                payload["due_label"] = APPEAL_TERM
    enqueue(
        session,
        topic="case_transition",
        dedup_key=f"access:{case.id}:seq:{seq}:requester",
        recipient_id=case.applicant_id,
        case_id=case.id,
        payload=payload,
    )


# -- looking requests up --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What anyone may see of a request by its folio: no personal data, no request text."""

    case_id: int
    folio: str
    state: str
    state_description: str
    received_on: date
    closed: bool
    response_due_on: date | None
    business_days_left: int | None
    overdue: bool
    extended: bool
    paused: bool
    clocks: Mapping[str, ClockView] = field(default_factory=dict)
    appeal_due_on: date | None = None
    """The last day to appeal (the response or incompetence notified, or the response term lapsed)."""
    resolution_due_on: date | None = None
    """The last day for the guarantor to resolve the appeal."""
    compliance_due_on: date | None = None
    """The last day for the body to comply with the guarantor's resolution."""


def _status(
    case: Case | _Listed,
    received_on: date,
    today: date,
    clocks_of: Mapping[int, Mapping[str, ClockView]] | None = None,
    terms_of: Mapping[int, Sequence[TermView]] | None = None,
) -> PublicStatus:
    """The request's status; ``clocks_of`` and ``terms_of``: the clocks and terms of a list of requests
    (:func:`case_clocks`, :func:`pending_terms`), read once for all of them; else this one's are read."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    clocks = (case_clocks([case.id], today=today) if clocks_of is None else clocks_of).get(case.id, {})
    response = clocks.get("response")
    listed = (pending_terms([case.id], today) if terms_of is None else terms_of).get(case.id, [])
    terms = {t.state: t.due_on for t in listed}
    silence, resolution = clocks.get("silence_appeal"), clocks.get("resolution")
    appeal_due = terms.get(case.state) if case.state in {"answered", "incompetent"} else None
    if appeal_due is None and case.state in wf.WORKING and silence is not None:
        appeal_due = silence.due_on
    return PublicStatus(
        case_id=case.id,
        folio=case.folio,
        state=case.state,
        state_description=workflow.state(case.state).description,
        received_on=received_on,
        closed=case.closed_at is not None,
        response_due_on=response.due_on if response else None,
        business_days_left=response.business_days_left if response else None,
        overdue=bool(case.data.get("response_overdue_on")),
        extended=bool(response and response.extended),
        paused=bool(response and response.status == ClockStatus.PAUSED),
        clocks=clocks,
        appeal_due_on=appeal_due,
        resolution_due_on=resolution.due_on if resolution is not None and case.state in ADMITTED else None,
        compliance_due_on=terms.get("compliance") if case.state == "compliance" else None,
    )


def public_status(folio: str, today: date | None = None) -> PublicStatus | None:
    """The public tracking view of the request ``folio`` (``None`` when there is none)."""
    row = db.session.execute(
        select(Case, AccessRequest.received_on)
        .join(AccessRequest, AccessRequest.case_id == Case.id)
        .where(Case.folio == (folio or "").strip().upper())
    ).first()
    if row is None:
        return None
    return _status(row[0], row[1], today or local_today())


@dataclass(frozen=True, slots=True)
class RequesterView:
    """What the requester sees through the tracking link: their request and what they may do now."""

    status: PublicStatus
    version: int
    pseudonym: str
    information_requested: str
    delivery_format: str
    data: Mapping[str, Any]
    turns: Sequence[AreaTurn]
    public_documents: Sequence[Document]
    actions: frozenset[str]
    pending_act: ActNotice | None = None
    payment: ActNotice | None = None
    """The reproduction costs the requester is asked to pay, with the legal basis and the last day."""
    paid_on: date | None = None
    """The day the treasury confirmed the payment was made (``None`` while nothing was paid)."""
    appeal_act: ActNotice | None = None
    """The guarantor's latest act on the requester's appeal (see :func:`appeal_notice`)."""
    committee_acts: tuple[ActNotice, ...] = ()
    """The committee's acts told to the requester (see :func:`committee_notices`)."""
    consultation: ActNotice | None = None
    """The appointment of a consulta directa: date, time and place, its legal basis and the day."""
    cost_sheet: Sequence[Mapping[str, str]] = ()
    """The cost sheet recorded with the response (concept, quantity, unit fee, amount, legal basis)."""
    pleadings: Pleadings | None = None
    """The admitted appeal's instruction: the parties' term to plead, what was pleaded, its closing."""
    compliance_view: ComplianceView | None = None
    """The appellant's view of the body's compliance report (LGTAIP 2015 art. 197) while the guarantor reviews it."""


def _by_token(token: str) -> AccessRequest:
    if not token or len(token) > 100:
        raise NotFound(Msg("El enlace de seguimiento no es válido."))
    row = db.session.scalars(select(AccessRequest).where(AccessRequest.token_sha256 == _token_digest(token))).first()
    if row is None:
        raise NotFound(Msg("El enlace de seguimiento no es válido."))
    return row


def requester_view(token: str, today: date | None = None, *, settle: bool = False) -> RequesterView:
    """The request behind a tracking link; with ``settle`` (a page shown), its expired terms not yet recorded
    are recorded first (:func:`_settled_terms`). Raises ``NotFound`` for an unknown link."""
    request = _by_token(token)
    case = db.session.get(Case, request.case_id)
    if case is None:
        raise NotFound(Msg("El enlace de seguimiento no es válido."))
    return _requester_view(case, request, today or local_today(), settle)


def requester_view_for_account(case_id: int, user_id: int, today: date | None = None) -> RequesterView:
    """The request ``case_id`` as its logged-in requester sees it. Raises ``NotFound`` for anyone else's."""
    request = db.session.get(AccessRequest, case_id)
    case = db.session.get(Case, case_id)
    if request is None or case is None or case.applicant_id != user_id:
        raise NotFound(Msg("El expediente no existe."))
    return _requester_view(case, request, today or local_today(), False)


_UNIT_PROBES: dict[str, dict[str, Any]] = {
    "prevent": {"prevention_text": "-"},
    "point_to_public_source": {"public_source": "-"},
    "declare_incompetent": {"competent_body": "-", "incompetence_reasons": "-"},
    "request_extension": {},
    wf.UNIT_PLEADS: {"unit_pleadings": "-"},
}
"""The unit's forms offered only while the engine would accept them (a prevención within its window and
once; an extension once, before the term lapses), with sample input: nothing is written."""
_GUARANTOR_PROBES: dict[str, dict[str, Any]] = {
    "extend_resolution": {},
    "prevent_appeal": {"appeal_prevention_text": "-"},
    "close_instruction": {"instruction_closed_on": "-"},
    "accept_compliance": {"compliance_ruled": "accepted", "compliance_ruling": "-"},
    "reject_compliance": {"compliance_ruled": "rejected", "compliance_ruling": "-"},
}
"""The guarantor's extension of its own term, offered once and before the term lapses, its prevención of
an appeal, offered once (LGTAIP 2015 art. 145), and the closing of the instruction, offered once the parties'
term has run or both have pleaded (art. 150, fr. VII)."""


def _judged_view(case: Case, today: date, clocks: Mapping[str, ClockView], terms: Sequence[TermView] = ()) -> CaseView:
    """The engine's view of ``case`` as a step on it is judged: with the windows that closed before ``today``
    recorded, as :func:`app.services.cases.fire` records them first (the worker may not have run yet):
    ``clocks``, the request's clocks, as the page read them for its status, and ``terms``, its pending terms,
    whose deadlines past their last day count as fired (the lapse of the appellant's view of a compliance
    report, say)."""
    from app.services.cases import case_view

    view = case_view(db.session(), case)
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    lapsed = unrecorded_lapses(workflow, case.state, case.params or workflow.params, clocks, today)
    fired = tuple(
        HistoryItem(term.trigger, None)
        for term in terms
        if term.pending
        and term.overdue
        and term.kind == TimerKind.DEADLINE
        and term.trigger is not None
        and term.state == case.state
    )
    if lapsed or fired:
        return dataclasses.replace(view, data={**view.data, **lapsed}, history=(*view.history, *fired))
    return view


def _unit_offers(
    case: Case, user: User, today: date, clocks: Mapping[str, ClockView], terms: Sequence[TermView] = ()
) -> frozenset[str]:
    from app.services.cases import actor_for

    probes = {
        **(_UNIT_PROBES if user.has_role(Role.TRANSPARENCY_UNIT) else {}),
        **(_GUARANTOR_PROBES if user.has_role(Role.GUARANTOR) else {}),
    }
    if not probes:
        return frozenset()
    view, actor, engine = _judged_view(case, today, clocks, terms), actor_for(user), get_engine()
    offered = set()
    for trigger, data in probes.items():
        try:
            engine.decide(view, trigger, actor, today=today, data=data, params=case.params or None, comment="-")
        except DomainError:
            continue
        offered.add(trigger)
    return frozenset(offered)


def _requester_actions(
    case: Case, today: date, clocks: Mapping[str, ClockView], terms: Sequence[TermView] = ()
) -> frozenset[str]:
    """The steps the requester could take now, checked by the engine with sample input (nothing is written)."""
    from app.services.cases import actor_for

    user = db.session.get(User, case.applicant_id)
    if user is None:
        return frozenset()
    params = case.params or wf.ACCESS_V1.params
    probes: dict[str, dict[str, Any]] = {
        "answer_prevention": {"clarification": "-"},
        "appeal": {"appeal_grounds": list(params.get("appeal_grounds") or ())[:1]},
        "answer_appeal_prevention": {"appeal_clarification": "-"},
        wf.REQUESTER_PLEADS: {"requester_pleadings": "-"},
        wf.COMPLIANCE_REMARKS: {"compliance_remarks": "-"},
    }
    view, actor, engine = _judged_view(case, today, clocks, terms), actor_for(user), get_engine()
    possible = set()
    for trigger, data in probes.items():
        try:
            engine.decide(view, trigger, actor, today=today, data=data, params=case.params or None)
        except DomainError:
            continue
        possible.add(trigger)
    return frozenset(possible)


def delivered_documents(session: Session, case: Case) -> list[Document]:
    """The documents delivered to the requester: those the unit chose when it delivered the response, and
    of those only the kinds that may go out now. While a classification stands (reserved or confidential,
    fully or partly, not revoked by the committee) that is the versión pública alone, whatever was recorded:
    every path to the requester (tracking page, download by id, the case page of an account) reads this.
    Reproduction costs owed are paid first (LGTAIP 2015 art. 141): nothing is delivered until the treasury
    confirms the payment order."""
    delivered = wf.delivered_now(case.data)
    if not delivered.ids:
        return []
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.case_id == case.id,
                Document.id.in_(sorted(delivered.ids)),
                Document.kind.in_(sorted(delivered.kinds)),
            )
            .order_by(Document.id)
        )
    )


def _settled_terms(case: Case, today: date, settle: bool) -> dict[int, list[TermView]]:
    """The request's pending terms (:func:`pending_terms`); with ``settle``, once the deadlines whose last day is
    over, that the timers' worker has not recorded yet and whose lapse moves the request are recorded, as it
    would (the term to appeal ended: the request is concluded); ``case`` is then read again when used. A page
    shown shows the request as it stands in law; a step's own page leaves them to the step, which records them
    first and says so (:func:`app.services.cases.fire`)."""
    from app.services.cases import settle_due_lapses

    terms_of = pending_terms([case.id], today)
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if not settle or not moving_lapse_unrecorded(workflow, case.state, terms_of.get(case.id, ())):
        return terms_of
    settle_due_lapses(case.id, utcnow())
    return pending_terms([case.id], today)


def _requester_view(case: Case, request: AccessRequest, today: date, settle: bool) -> RequesterView:
    terms_of = _settled_terms(case, today, settle)
    clocks_of = case_clocks([case.id], today=today)  # read once: for the status and for the steps offered
    terms = terms_of.get(case.id, [])
    actions = _requester_actions(case, today, clocks_of.get(case.id, {}), terms)
    delivered = case.state not in wf.WORKING and case.state not in {"prevention", "not_filed"}
    documents = delivered_documents(db.session(), case)
    turns = _turns(case.id) if delivered else []
    return RequesterView(
        status=_status(case, request.received_on, today, clocks_of, terms_of),
        version=case.version,
        pseudonym=request.pseudonym,
        information_requested=str(case.data.get("information_requested", "")),
        delivery_format=request.delivery_format,
        data=dict(case.data),
        turns=turns,
        public_documents=documents,
        actions=actions,
        pending_act=requester_act_notice(case),
        payment=payment_notice(case),
        paid_on=_recorded_day(case.data.get("payment_paid_on")),
        appeal_act=appeal_notice(case),
        committee_acts=committee_notices(case),
        consultation=consultation_notice(case),
        cost_sheet=wf.cost_rows(case.data),
        pleadings=pleadings(case),
        compliance_view=compliance_view(case, terms, today),
    )


def _recorded_day(value: object) -> date | None:
    """A day the case data records (ISO), or ``None``."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def requester_act(
    token: str,
    trigger: str,
    *,
    expected_version: int,
    data: Mapping[str, Any] | None = None,
    evidence: tuple[str, bytes] | None = None,
) -> FireResult:
    """Answer the prevención, appeal, answer the guarantor's prevención or plead in the admitted appeal (LGTAIP 2015
    art. 150, fr. II and III: the guarantor body and the transparency unit are mailed the pleadings), through the
    tracking link, as the request's requester. The pleadings may come with a PDF of the evidence offered
    (``evidence``: file name and bytes), attached to the request in the same unit of work.

    Raises ``NotFound`` (bad link), ``NotAllowed`` (not a requester's step), ``InvalidData`` (evidence that is
    not a PDF, or sent with another step) and the engine's errors.
    """
    if trigger not in REQUESTER_ACTIONS:
        raise NotAllowed(Msg("Esa acción no corresponde al solicitante."))
    if evidence is not None:
        if trigger != wf.REQUESTER_PLEADS:
            raise InvalidData(Msg("Solo los alegatos llevan un archivo de pruebas."))
        check_pdf(evidence[1], int(current_app.config["MAX_DOCUMENT_BYTES"]))
    request = _by_token(token)
    if trigger == wf.COMPLIANCE_REMARKS:
        return _remark_on_compliance(request, expected_version, data)
    if trigger not in {"appeal", "answer_appeal_prevention", wf.REQUESTER_PLEADS}:
        return _fire(request.case_id, trigger, request.requester_id, expected_version, dict(data or {}), None)
    written = dict(data or {})
    if trigger == wf.REQUESTER_PLEADS:
        written["requester_pleadings"] = str(written.get("requester_pleadings") or "").strip()[:MAX_TEXT]
        written["requester_pleadings_documents"] = []
    with unit_of_work() as session:
        case = _access_case(session, request.case_id, lock=evidence is not None)
        if evidence is not None and case.state == wf.APPEAL_PLEADINGS:
            refuse_stale(case, expected_version)
            document = add_pdf(session, case.id, wf.PLEADINGS_DOCUMENT, evidence[0], evidence[1], request.requester_id)
            log_attached(session, case, document, request.requester_id, Role.APPLICANT)
            written["requester_pleadings_documents"] = [document.id]
        result = fire(request.case_id, trigger, request.requester_id, expected_version=expected_version, data=written)
        fired = session.get(Case, request.case_id)
        assert fired is not None  # noqa: S101 - fired just above in this transaction
        case = fired
        if trigger == wf.REQUESTER_PLEADS:
            told = _pleaded_notice(case, str(case.data.get("requester_pleadings") or ""))
            _mail_staff(session, case, result.audit_seq, trigger, Role.GUARANTOR, told)
            _mail_staff(session, case, result.audit_seq, trigger, Role.TRANSPARENCY_UNIT, _pleaded_notice(case, ""))
            _mail_requester(session, case, trigger, result.audit_seq, told)
            return result
        _mail_guarantors(session, case, result.audit_seq, trigger)
        _mail_requester(session, case, trigger, result.audit_seq, appeal_notice(case))
        return result


def _remark_on_compliance(request: AccessRequest, expected_version: int, data: Mapping[str, Any] | None) -> FireResult:
    """The appellant's remarks on the body's compliance report, once while the term of its view runs (LGTAIP 2015
    art. 197): kept in the case, mailed to the guarantor body, which rules on every cause given (art. 198), and
    acknowledged to the appellant."""
    remarks = str((data or {}).get("compliance_remarks") or "").strip()[:MAX_TEXT]
    with unit_of_work() as session:
        _access_case(session, request.case_id)
        result = fire(
            request.case_id,
            wf.COMPLIANCE_REMARKS,
            request.requester_id,
            expected_version=expected_version,
            data={"compliance_remarks": remarks},
        )
        case = session.get(Case, request.case_id)
        assert case is not None  # noqa: S101 - fired just above in this transaction
        basis = wf.legal_basis(case.params or wf.ACCESS_V1.params, "compliance")
        told = ActNotice(remarks, basis, None, kind="compliance_remarks")
        _mail_staff(session, case, result.audit_seq, wf.COMPLIANCE_REMARKS, Role.GUARANTOR, told)
        _mail_requester(session, case, wf.COMPLIANCE_REMARKS, result.audit_seq, told)
        return result


def _mail_guarantors(session: Session, case: Case, seq: int, trigger: str = "appeal") -> None:
    """Tell each member of the guarantor body of a new appeal: that it awaits their admission (the term to
    resolve it runs from the admission, LGTAIP 2015 art. 146), or, on a request of the first version, which
    started that term at the filing, the last day to resolve it."""
    params = case.params or wf.ACCESS_V1.params
    basis = wf.legal_basis(params, "admission" if case.state == wf.APPEAL_FILED else "resolution")
    told = ActNotice("", basis, _resolution_due(case), due_label=RESOLUTION_TERM)
    _mail_staff(session, case, seq, trigger, Role.GUARANTOR, told)


def _mail_staff(session: Session, case: Case, seq: int, trigger: str, role: Role, act: ActNotice) -> None:
    """Tell each active holder of ``role`` (the guarantor body, the transparency unit) of a step in the appeal's
    instruction: its text (when they may read it), legal basis and the term it leaves."""
    payload: dict[str, Any] = {
        "folio": case.folio,
        "trigger": trigger,
        "state": case.state,
        "party": role.value,
        "legal_basis": act.legal_basis,
    }
    if act.text:
        payload["text"] = act.text
    if act.due_on is not None:
        payload |= {"due_on": act.due_on.isoformat(), "due_label": act.due_label}
    for user in active_holders(role, session):
        enqueue(
            session,
            topic="case_transition",
            dedup_key=f"access:{case.id}:seq:{seq}:{role.value}:{user.id}",
            recipient_id=user.id,
            case_id=case.id,
            payload=payload,
        )


@dataclass(frozen=True, slots=True)
class DeliveredFile:
    """A PDF the requester downloads through the tracking link."""

    name: str
    content: bytes
    folio: str = ""
    kind: str = ""


def requester_certificates(token: str) -> list[Certificate]:
    """The sealed PDFs of the request (response, committee resolutions), oldest first."""
    request = _by_token(token)
    return list(
        db.session.scalars(select(Certificate).where(Certificate.case_id == request.case_id).order_by(Certificate.id))
    )


def requester_file(token: str, *, document_id: int | None = None, certificate_id: int | None = None) -> DeliveredFile:
    """A delivered document (the area's answer, the versión pública) or a sealed PDF of the request, through
    its tracking link. Raises ``NotFound`` for anything not delivered to this requester."""
    request = _by_token(token)
    case = db.session.get(Case, request.case_id)
    if case is None:
        raise NotFound(Msg("El documento no existe."))
    if certificate_id is not None:
        from app.services.certificates import certificate_file

        stored = certificate_file(case.id, certificate_id, request.requester_id)
        return DeliveredFile(f"{stored.number}.pdf", stored.content)
    view = _requester_view(case, request, local_today(), False)
    document = next((d for d in view.public_documents if d.id == document_id), None)
    if document is None:
        raise NotFound(Msg("El documento no existe."))
    content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(document.storage_key)
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise RuntimeError(f"stored document {document.id} does not match its recorded hash")
    return DeliveredFile(document.original_name, content, case.folio, document.kind)


def own_requests(user_id: int) -> list[tuple[Case, AccessRequest]]:
    """The access requests filed under ``user_id``'s account, newest first."""
    rows = db.session.execute(
        select(Case, AccessRequest)
        .join(AccessRequest, AccessRequest.case_id == Case.id)
        .where(Case.applicant_id == user_id)
        .order_by(Case.id.desc())
    ).all()
    return [(c, r) for c, r in rows]


# -- staff steps ----------------------------------------------------------------------------------


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(Msg("El usuario no existe o está inactivo."))
    return user


def _access_case(session: Session, case_id: int, *, lock: bool = False) -> Case:
    """The access request ``case_id``, read now; with ``lock``, its row locked until the unit of work ends
    (concurrent units that lock it too go one after the other, each reading what the one before committed)."""
    case = session.get(Case, case_id, with_for_update=lock or None, populate_existing=lock)
    if case is None or case.workflow != WORKFLOW:
        raise NotFound(Msg("El expediente no existe."))
    return case


def _fire(
    case_id: int,
    trigger: str,
    actor_id: int | None,
    expected_version: int,
    data: Mapping[str, Any] | None,
    comment: str | None,
) -> FireResult:
    with unit_of_work() as session:
        _access_case(session, case_id)
        return fire(case_id, trigger, actor_id, expected_version=expected_version, data=data, comment=comment)


def unit_act(
    case_id: int,
    trigger: str,
    actor_id: int,
    *,
    expected_version: int,
    data: Mapping[str, Any] | None = None,
    comment: str | None = None,
) -> FireResult:
    """The transparency unit's simple steps (prevención, incompetence, consolidation, compliance report).

    Raises ``NotAllowed`` for any other step and the engine's errors (role, guards, terms).
    """
    if trigger not in UNIT_ACTIONS:
        raise NotAllowed(Msg("Esa acción no corresponde a la Unidad de Transparencia."))
    if trigger in _TOLD_TO_REQUESTER:
        return _act_told_to_requester(case_id, trigger, actor_id, expected_version, data, comment)
    if trigger == wf.REPORT_COMPLIANCE:
        return _report_compliance(case_id, actor_id, expected_version, data, comment)
    return _fire(case_id, trigger, actor_id, expected_version, data, comment)


def _report_compliance(
    case_id: int, actor_id: int, expected_version: int, data: Mapping[str, Any] | None, comment: str | None
) -> FireResult:
    """The unit's compliance report. From version 4 on the guarantor gives the appellant a view of it (LGTAIP 2015
    art. 197): the appellant is mailed the report, the legal basis and the last day to make remarks on it."""
    with unit_of_work() as session:
        _access_case(session, case_id)
        result = fire(
            case_id, wf.REPORT_COMPLIANCE, actor_id, expected_version=expected_version, data=data, comment=comment
        )
        case = session.get(Case, case_id)
        assert case is not None  # noqa: S101 - fired just above in this transaction
        view = compliance_view(case, pending_terms([case.id]).get(case.id, []), local_today())
        if view is not None:
            _mail_requester(session, case, wf.REPORT_COMPLIANCE, result.audit_seq, _compliance_view_notice(view))
        return result


def _compliance_view_notice(view: ComplianceView) -> ActNotice:
    text = (
        f"La Unidad de Transparencia informó al órgano garante el cumplimiento de la resolución:\n{view.report}\n"
        "Puede manifestar lo que a su derecho convenga, una sola vez, dentro del plazo; si considera que el "
        "cumplimiento no corresponde a lo ordenado en la resolución, exprese las causas específicas."
    )
    return ActNotice(text, view.legal_basis, view.due_on, kind="compliance_view", due_label=COMPLIANCE_VIEW_TERM)


@dataclass(frozen=True, slots=True)
class ComplianceView:
    """The appellant's view of the body's compliance report while the guarantor reviews it (LGTAIP 2015
    art. 197): the report, the last day of the appellant's term to make remarks on it, and its remarks."""

    report: str
    due_on: date | None
    """The last day of the appellant's term (while it runs, or the day it ran out)."""
    lapsed: bool
    """Whether the term has run out (recorded, or past its last day) without remarks."""
    remarks: str
    """What the appellant said of this report (empty while it has said nothing)."""
    legal_basis: str


def compliance_view(case: Case, terms: Sequence[TermView], today: date) -> ComplianceView | None:
    """The appellant's view of the compliance report of ``case`` (``terms``: its pending terms), or ``None``: not
    under review, or a request of a version without the view (before version 4)."""
    if case.state != "compliance_review":
        return None
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if wf.COMPLIANCE_REMARKS not in workflow.triggers:
        return None
    from app.services.cases import case_view

    since = wf.compliance_view_after_report(case_view(db.session(), case).history)
    # this report's term: the one pending, else (run out) the latest; an earlier report's stays among the terms
    view_terms = [t for t in terms if t.state == case.state and t.kind == TimerKind.DEADLINE and t.trigger is not None]
    running = [t.due_on for t in view_terms if t.pending]
    due = running[0] if running else max((t.due_on for t in view_terms), default=None)
    remarked = wf.COMPLIANCE_REMARKS in since
    return ComplianceView(
        report=str(case.data.get("compliance_report") or ""),
        due_on=due,
        lapsed=not remarked and (wf.COMPLIANCE_VIEW_LAPSED in since or (due is not None and due < today)),
        remarks=str(case.data.get("compliance_remarks") or "") if remarked else "",
        legal_basis=wf.legal_basis(case.params or wf.ACCESS_V1.params, "compliance"),
    )


_TOLD_TO_REQUESTER = {"prevent": "prevention_text", "declare_incompetent": "incompetence_reasons"}
"""The unit's acts whose text (its reasoned comment) the requester reads and is mailed, with its legal basis
and term: the prevención and the notice of incompetence."""


def _act_told_to_requester(
    case_id: int,
    trigger: str,
    actor_id: int,
    expected_version: int,
    data: Mapping[str, Any] | None,
    comment: str | None,
) -> FireResult:
    """Fire the prevención or the incompetence: its text is kept in the case (the tracking page shows it) and
    mailed to the requester with its legal basis and the date of its term."""
    text = (comment or "").strip()[:MAX_TEXT]
    with unit_of_work() as session:
        _access_case(session, case_id)
        result = fire(
            case_id,
            trigger,
            actor_id,
            expected_version=expected_version,
            data={**(data or {}), _TOLD_TO_REQUESTER[trigger]: text},
            comment=text,
        )
        case = session.get(Case, case_id)
        assert case is not None  # noqa: S101 - fired just above in this transaction
        _mail_requester(session, case, trigger, result.audit_seq, requester_act_notice(case))
        return result


@dataclass(frozen=True, slots=True)
class ActNotice:
    """An act that asks something of the requester, as they are told it: its text, legal basis and the last
    day of its term."""

    text: str
    legal_basis: str
    due_on: date | None
    kind: str = "prevention"
    competent_body: str = ""
    due_label: str = ""
    """How the notice names its term (a msgid), where it is not the prevención's or the appeal's."""
    reference: str = ""
    """For a payment: the reference (línea de captura) of the payment order."""


def _term_due(case_id: int, state: str) -> date | None:
    terms = pending_terms([case_id]).get(case_id, [])
    return next((t.due_on for t in terms if t.state == state and t.kind == TimerKind.DEADLINE), None)


def _appeal_notice(case: Case) -> ActNotice:
    """The response as the requester's mail tells it: its summary, and the last day to appeal with the
    appeal's legal basis; when reproduction costs are owed, what to pay, its basis and the last day to pay."""
    params = case.params or wf.ACCESS_V1.params
    text = str(case.data.get("response_summary") or "")
    sheet = wf.cost_rows(case.data)
    if sheet:
        lines = [f"{r['concept']} | {r['quantity']} | ${r['unit_fee']} | ${r['amount']}" for r in sheet]
        text += "\n\nHoja de costos (concepto | cantidad | cuota | importe):\n" + "\n".join(lines)
        text += f"\nTotal: ${case.data.get('reproduction_cost') or '0.00'} MXN"
    payment = payment_notice(case)
    if payment is not None and payment.due_on is not None:
        text += (
            f"\n\n{payment.text}\nPlazo para pagar: a más tardar el {long_date(payment.due_on)} "
            f"({payment.legal_basis})."
        )
    consultation = consultation_notice(case)
    if consultation is not None:
        text += f"\n\n{consultation.text} ({consultation.legal_basis})."
    return ActNotice(text, wf.legal_basis(params, "appeal"), _term_due(case.id, case.state), kind="appeal")


def requester_act_notice(case: Case) -> ActNotice | None:
    """What the requester must be told of the act now before them, or ``None``: the prevención (its text,
    legal basis and the last day to answer), or the notice of incompetence (its reasons, the competent body,
    the legal basis and the last day to appeal it)."""
    params = case.params or wf.ACCESS_V1.params
    if case.state == "prevention":
        return ActNotice(
            str(case.data.get("prevention_text") or ""),
            wf.legal_basis(params, "prevention"),
            _term_due(case.id, "prevention"),
        )
    if case.state == wf.APPEAL_PREVENTION:
        return ActNotice(
            str(case.data.get("appeal_prevention_text") or ""),
            wf.legal_basis(params, "appeal_prevention"),
            _term_due(case.id, wf.APPEAL_PREVENTION),
            kind="appeal_prevention",
            due_label=APPEAL_PREVENTION_TERM,
        )
    if case.state == "answered" and case.data.get("public_source"):
        return ActNotice(
            str(case.data.get("public_source") or ""),
            wf.legal_basis(params, "public_source"),
            _term_due(case.id, "answered"),
            kind="public_source",
        )
    if case.state == "incompetent":
        return ActNotice(
            str(case.data.get("incompetence_reasons") or ""),
            wf.legal_basis(params, "incompetence"),
            _term_due(case.id, "incompetent"),
            kind="incompetence",
            competent_body=str(case.data.get("competent_body") or ""),
        )
    return None


def point_to_public_source(case_id: int, source: str, actor_id: int, *, expected_version: int) -> FireResult:
    """Answer that the information is already public (LGTAIP 2015 art. 130): ``source`` says where and how to
    consult it (a URL or a place, and how). Within the unit's own shorter term, without turning the request;
    the requester is mailed the text with its legal basis and the last day to appeal.

    Raises ``InvalidData`` (no source) and the engine's errors (the term lapsed, the state)."""
    text = (source or "").strip()[:MAX_TEXT]
    if not text:
        raise InvalidData(Msg("Indique la fuente, el lugar y la forma de consultar la información."))
    with unit_of_work() as session:
        _access_case(session, case_id)
        result = fire(
            case_id, "point_to_public_source", actor_id, expected_version=expected_version, data={"public_source": text}
        )
        case = session.get(Case, case_id)
        assert case is not None  # noqa: S101 - fired just above in this transaction
        _mail_requester(session, case, "point_to_public_source", result.audit_seq, requester_act_notice(case))
        return result


def guarantor_act(
    case_id: int,
    trigger: str,
    actor_id: int,
    *,
    expected_version: int,
    data: Mapping[str, Any] | None = None,
    comment: str | None = None,
) -> FireResult:
    """The guarantor authority's steps on an appeal: admit it, dismiss it as improper or prevent the appellant
    once, close its instruction, resolve it, extend its term once, follow compliance.

    Every step but the extension is told to the requester (mailed, and shown on the tracking page): the
    admission with the last day to resolve the appeal (LGTAIP 2015 arts. 146 and 150, fr. I) and, from version 3
    on, the parties' term to plead (art. 150, fr. II and III), told to the transparency unit too; the closing of
    the instruction (art. 150, fr. VII), told to both parties with the last day to resolve; the dismissal with
    its reasons (the comment) and legal basis (art. 155); the prevención with what to complete (the comment), its
    legal basis and the last day to answer it (art. 145); the resolution or the ruling, its legal basis and, when
    the body must (still) comply, the last day of its term (arts. 196 and 197). Raises ``NotAllowed`` for any
    other step, ``InvalidData`` for a dismissal or a prevención without its text, and the engine's errors."""
    if trigger not in GUARANTOR_ACTIONS:
        raise NotAllowed(Msg("Esa acción no corresponde al órgano garante."))
    if trigger not in _RULINGS_TOLD and trigger not in _APPEAL_STEPS_TOLD:
        return _fire(case_id, trigger, actor_id, expected_version, data, comment)
    written = dict(data or {})
    if trigger in _RULINGS_TOLD:
        written |= {"compliance_ruled": _RULINGS_TOLD[trigger], "compliance_ruling": (comment or "").strip()[:MAX_TEXT]}
    if trigger == "dismiss_appeal":
        reasons = (comment or "").strip()[:MAX_TEXT]
        if not reasons:
            raise InvalidData(Msg("Escriba las razones por las que el recurso es improcedente."))
        written["appeal_dismissal"] = reasons
    if trigger == "prevent_appeal":
        omissions = (comment or "").strip()[:MAX_TEXT]
        if not omissions:
            raise InvalidData(Msg("Escriba lo que el recurrente debe completar de su recurso."))
        written["appeal_prevention_text"] = omissions
    if trigger == "close_instruction":
        written["instruction_closed_on"] = local_today().isoformat()
    with unit_of_work() as session:
        _access_case(session, case_id)
        result = fire(case_id, trigger, actor_id, expected_version=expected_version, data=written, comment=comment)
        case = session.get(Case, case_id)
        assert case is not None  # noqa: S101 - fired just above in this transaction
        told: ActNotice | None
        if trigger == "close_instruction" or (trigger == "admit_appeal" and case.state == wf.APPEAL_PLEADINGS):
            # the instruction opens or closes: both parties are told (the unit must plead within the term)
            told = _instruction_notice(case)
            _mail_staff(session, case, result.audit_seq, trigger, Role.TRANSPARENCY_UNIT, told)
        else:
            told = requester_act_notice(case) if trigger == "prevent_appeal" else appeal_notice(case)
        _mail_requester(session, case, trigger, result.audit_seq, told)
        return result


_RULINGS_TOLD = {"accept_compliance": "accepted", "reject_compliance": "rejected"}
"""The guarantor's rulings on the compliance report, as the case records them (``compliance_ruled``)."""
_APPEAL_STEPS_TOLD = frozenset(
    {"admit_appeal", "dismiss_appeal", "prevent_appeal", "close_instruction", "resolve_appeal"}
)


def _compliance_due(case: Case) -> date | None:
    terms = pending_terms([case.id]).get(case.id, [])
    return next((t.due_on for t in terms if t.state == "compliance"), None)


def appeal_notice(case: Case) -> ActNotice | None:
    """What the requester is told of their appeal now, or ``None`` (no appeal):

    - appeal filed and awaiting its admission (``appeal_filed``): the legal basis of the admission, from which
      the term to resolve it runs (LGTAIP 2015 arts. 146 and 150, fr. I);
    - appeal dismissed as improper: the guarantor's reasons and the legal basis (art. 155); or dismissed because
      the appellant left the guarantor's prevención unanswered: that prevención and its basis (arts. 145 and
      155, fr. IV);
    - appeal admitted (``appealed``, or in its instruction, ``appeal_pleadings``): the last day the guarantor has
      to resolve it and its legal basis (the instruction itself: :func:`pleadings`);
    - the resolution (``appeal_resolution``): its text and legal basis; when it orders the body to comply, the
      last day of the body's compliance term (2015 arts. 196–197);
    - the guarantor's ruling on the compliance report: accepted (the case ends) or rejected (the body must
      comply again, with a new term), with the guarantor's words and its legal basis."""
    params = case.params or wf.ACCESS_V1.params
    compliance = wf.legal_basis(params, "compliance")
    resolution = wf.legal_basis(params, "resolution")
    if case.state == wf.APPEAL_FILED:
        return ActNotice("", wf.legal_basis(params, "admission"), None, kind="appeal_filed")
    if (
        case.state == "concluded"
        and case.data.get("appeal_prevention_text")
        and not case.data.get("appeal_clarification")
    ):
        return ActNotice(
            str(case.data["appeal_prevention_text"]),
            wf.legal_basis(params, "appeal_prevention"),
            None,
            kind="appeal_prevention_lapsed",
        )
    if case.data.get("appeal_dismissal") and case.state == "concluded":
        return ActNotice(
            str(case.data["appeal_dismissal"]), wf.legal_basis(params, "dismissal"), None, kind="appeal_dismissed"
        )
    if case.state in ADMITTED:
        return ActNotice("", resolution, _resolution_due(case), kind="appeal_admitted", due_label=RESOLUTION_TERM)
    ruled = case.data.get("compliance_ruled")
    if ruled in {"accepted", "rejected"} and case.state in {"compliance", "concluded"}:
        due = _compliance_due(case) if case.state == "compliance" else None
        text = str(case.data.get("compliance_ruling") or "")
        return ActNotice(text, compliance, due, kind=f"compliance_{ruled}", due_label=COMPLIANCE_TERM)
    if case.data.get("appeal_resolution") and case.state in {"compliance", "compliance_review", "concluded"}:
        ordering = case.data.get("appeal_decision") in wf.APPEAL_DECISIONS_ORDERING
        due = _compliance_due(case) if case.state == "compliance" else None
        basis = f"{resolution}; {compliance}" if ordering else resolution
        return ActNotice(
            str(case.data["appeal_resolution"]), basis, due, kind="appeal_resolution", due_label=COMPLIANCE_TERM
        )
    return None


@dataclass(frozen=True, slots=True)
class Pleadings:
    """The admitted appeal's instruction as the parties and the guarantor see it (LGTAIP 2015 art. 150): the
    parties' term to plead (its last day while it runs, or the day it lapsed), what each party pleaded, the unit's
    evidence (staff only), and the guarantor's closing of the instruction with its legal basis."""

    open: bool
    """Whether the instruction is open (the parties may still plead, if the term runs and they have not)."""
    due_on: date | None
    """The last day of the parties' term while it runs."""
    lapsed_on: date | None
    """The last day of the parties' term once it has run."""
    legal_basis: str
    unit_text: str = ""
    requester_text: str = ""
    documents: Sequence[Document] = ()
    """The evidence the unit offered (read only for staff)."""
    requester_documents: Sequence[Document] = ()
    """The evidence the requester offered as a file (read by staff and by the requester)."""
    closed_on: date | None = None
    """The day the guarantor closed the instruction."""
    closing_basis: str = ""


def pleadings(case: Case, *, with_documents: bool = False) -> Pleadings | None:
    """The instruction of ``case``'s admitted appeal (a request of version 3 on), or ``None`` before it opens or
    when the request's version has none. ``with_documents``: the unit's evidence too (for staff pages)."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if wf.APPEAL_PLEADINGS not in {s.name for s in workflow.states}:
        return None
    closed_on = _recorded_day(case.data.get("instruction_closed_on"))
    if case.state != wf.APPEAL_PLEADINGS and closed_on is None:
        return None
    params = case.params or wf.ACCESS_V1.params
    clock = case_clocks([case.id]).get(case.id, {}).get("pleadings")
    unit_ids = [i for i in case.data.get("unit_pleadings_documents") or () if isinstance(i, int)]
    requester_ids = [i for i in case.data.get("requester_pleadings_documents") or () if isinstance(i, int)]
    ids = [*(unit_ids if with_documents else ()), *requester_ids]
    found: Sequence[Document] = ()
    if ids:
        found = db.session.scalars(
            select(Document).where(Document.case_id == case.id, Document.id.in_(ids)).order_by(Document.id)
        ).all()
    documents = [d for d in found if d.id in unit_ids]
    return Pleadings(
        open=case.state == wf.APPEAL_PLEADINGS,
        due_on=clock.due_on if clock is not None and case.state == wf.APPEAL_PLEADINGS else None,
        lapsed_on=_recorded_day(case.data.get("pleadings_closed_on")),
        legal_basis=wf.legal_basis(params, "pleadings"),
        unit_text=str(case.data.get("unit_pleadings") or ""),
        requester_text=str(case.data.get("requester_pleadings") or ""),
        documents=documents,
        requester_documents=[d for d in found if d.id in requester_ids],
        closed_on=closed_on,
        closing_basis=wf.legal_basis(params, "instruction_closed"),
    )


def _resolution_due(case: Case) -> date | None:
    clock = case_clocks([case.id]).get(case.id, {}).get("resolution")
    return clock.due_on if clock is not None else None


def _instruction_notice(case: Case) -> ActNotice:
    """What the parties are told when the guarantor admits an appeal of version 3 (the parties' term to plead, its
    basis — LGTAIP 2015 art. 150, fr. II and III — and the last day to resolve) or closes its instruction (its
    basis, art. 150, fr. VII, and the last day to resolve)."""
    params = case.params or wf.ACCESS_V1.params
    resolution = _resolution_due(case)
    by = f" a más tardar el {long_date(resolution)}" if resolution is not None else ""
    if case.state == wf.APPEAL_PLEADINGS:
        state = pleadings(case)
        text = (
            "El órgano garante admitió el recurso de revisión y puso el expediente a disposición de las partes: "
            "dentro del plazo que se indica, la Unidad de Transparencia y el recurrente pueden manifestar lo que a "
            "su derecho convenga, ofrecer pruebas (salvo la confesional por parte de las autoridades) y formular "
            "alegatos, una vez cada parte; vencido el plazo, el órgano garante decreta el cierre de instrucción y "
            f"resuelve.\nPlazo para resolver el recurso de revisión:{by} ({wf.legal_basis(params, 'resolution')})."
        )
        due = state.due_on if state is not None else None
        return ActNotice(text, wf.legal_basis(params, "pleadings"), due, kind="pleadings", due_label=PLEADINGS_TERM)
    text = f"El órgano garante decretó el cierre de instrucción; resolverá el recurso de revisión{by}."
    return ActNotice(
        text,
        wf.legal_basis(params, "instruction_closed"),
        resolution,
        kind="instruction_closed",
        due_label=RESOLUTION_TERM,
    )


def _pleaded_notice(case: Case, text: str) -> ActNotice:
    """A party's pleadings as the others are told: ``text`` (left out for a party who may not read it), the basis
    (LGTAIP 2015 art. 150, fr. II and III) and the last day of the parties' term while it runs."""
    state = pleadings(case)
    due = state.due_on if state is not None else None
    basis = wf.legal_basis(case.params or wf.ACCESS_V1.params, "pleadings")
    return ActNotice(text, basis, due, kind="pleaded", due_label=PLEADINGS_TERM)


def file_unit_pleadings(
    case_id: int,
    text: str,
    actor_id: int,
    *,
    expected_version: int,
    evidence: tuple[str, bytes] | None = None,
) -> FireResult:
    """File the transparency unit's pleadings in the admitted appeal (LGTAIP 2015 art. 150, fr. II and III), once
    and while the parties' term runs: its text and, optionally, a PDF with the evidence it offers (``evidence``:
    file name and bytes), attached to the request in the same unit of work. The guarantor body is mailed the text;
    the requester is told that the unit pleaded (its evidence may hold classified information: only the guarantor
    reads it, art. 150 fr. III).

    Raises ``InvalidData`` (no text, a file that is not a PDF), ``NotAllowed`` (not the unit) and the engine's
    errors (the term has run, the unit already pleaded, the state)."""
    written = (text or "").strip()[:MAX_TEXT]
    if not written:
        raise InvalidData(Msg("Escriba los alegatos de la Unidad de Transparencia."))
    if evidence is not None:
        check_pdf(evidence[1], int(current_app.config["MAX_DOCUMENT_BYTES"]))
    with unit_of_work() as session:
        case = _access_case(session, case_id, lock=True)
        refuse_stale(case, expected_version)
        user = _user(session, actor_id)
        if not user.has_role(Role.TRANSPARENCY_UNIT):
            raise NotAllowed(Msg("Esa acción no corresponde a la Unidad de Transparencia."))
        data: dict[str, Any] = {"unit_pleadings": written, "unit_pleadings_documents": []}
        if evidence is not None and case.state == wf.APPEAL_PLEADINGS:
            document = add_pdf(session, case_id, wf.PLEADINGS_DOCUMENT, evidence[0], evidence[1], actor_id)
            log_attached(session, case, document, actor_id, Role.TRANSPARENCY_UNIT)
            data["unit_pleadings_documents"] = [document.id]
        result = fire(case_id, wf.UNIT_PLEADS, actor_id, expected_version=expected_version, data=data)
        _mail_staff(session, case, result.audit_seq, wf.UNIT_PLEADS, Role.GUARANTOR, _pleaded_notice(case, written))
        _mail_requester(session, case, wf.UNIT_PLEADS, result.audit_seq, _pleaded_notice(case, ""))
        return result


def _staffed(session: Session) -> dict[str, str]:
    """The departments that have active area staff (code → name): only they can be turned a request."""
    rows = session.execute(
        select(Department.code, Department.name)
        .join(UserRole, UserRole.department_code == Department.code)
        .join(User, User.id == UserRole.user_id)
        .where(is_constant(UserRole.role, Role.AREA), User.active.is_(True))
        .distinct()
    ).all()
    return {str(code): str(name) for code, name in rows}


def _check_areas(session: Session, codes: Sequence[str]) -> None:
    staffed = _staffed(session)
    for code in codes:
        department = session.get(Department, code)
        if department is None:
            raise InvalidData(Msg("El área «%(code)s» no existe.", {"code": code}))
        if code not in staffed:
            raise InvalidData(
                Msg(
                    "El área «%(name)s» no tiene personal que pueda responder el turno.",
                    {"name": department.name},
                    english={"name": department.name_en or ""},
                )
            )


def turn_request(case_id: int, departments: Sequence[str], actor_id: int, *, expected_version: int) -> FireResult:
    """Turn the request to the areas ``departments`` (one turn row each). Raises ``InvalidData`` for an unknown
    area or one without area staff, and the engine's errors."""
    codes = [c.strip() for c in departments if c and c.strip()]
    with unit_of_work() as session:
        _access_case(session, case_id)
        _check_areas(session, codes)
        result = fire(case_id, "turn", actor_id, expected_version=expected_version, data={"turned_to": codes})
        for code in codes:
            session.add(AreaTurn(case_id=case_id, department_code=code))
        return result


def add_turn(case_id: int, departments: Sequence[str], actor_id: int, *, expected_version: int) -> FireResult:
    """Turn a request that is with the areas to further areas ``departments`` as well (a turn row each).

    Raises ``InvalidData`` (unknown area, no area staff, already turned) and the engine's errors."""
    codes = [c.strip() for c in departments if c and c.strip()]
    with unit_of_work() as session:
        case = _access_case(session, case_id)
        refuse_stale(case, expected_version)  # the turns are checked and written from this read
        _check_areas(session, codes)
        current = [str(c) for c in case.data.get("turned_to") or ()]
        if not codes:
            raise InvalidData(Msg("Elija al menos un área."))
        if set(codes) & set(current):
            raise InvalidData(Msg("La solicitud ya está turnada a esa área."))
        data = {"turned_to": [*current, *codes]}
        result = fire(case_id, "add_turn", actor_id, expected_version=expected_version, data=data)
        for code in codes:
            session.add(AreaTurn(case_id=case_id, department_code=code))
        return result


def withdraw_turn(case_id: int, department: str, reasons: str, actor_id: int, *, expected_version: int) -> FireResult:
    """Withdraw the turn of ``department`` (the unit re-turns the request: an area that does not hold the
    information); an area that already answered keeps its turn, and one area at least remains.

    Raises ``InvalidData`` (not turned to it, already answered, the last area) and the engine's errors."""
    with unit_of_work() as session:
        case = _access_case(session, case_id)
        refuse_stale(case, expected_version)  # the turns are checked and written from this read
        current = [str(c) for c in case.data.get("turned_to") or ()]
        department_row = session.get(Department, department)
        name = department_row.name if department_row is not None else department
        if department not in current:
            raise InvalidData(Msg("La solicitud no está turnada a «%(name)s».", {"name": name}))
        if len(current) == 1:
            raise InvalidData(Msg("La solicitud debe quedar turnada al menos a un área."))
        if department in (case.data.get("answers") or {}):
            raise InvalidData(Msg("«%(name)s» ya respondió: su turno no puede retirarse.", {"name": name}))
        data = {"turned_to": [c for c in current if c != department]}
        text = (reasons or "").strip()[:MAX_TEXT]
        result = fire(case_id, "withdraw_turn", actor_id, expected_version=expected_version, data=data, comment=text)
        for turn in session.scalars(
            select(AreaTurn).where(AreaTurn.case_id == case_id, AreaTurn.department_code == department)
        ):
            session.delete(turn)
        return result


@dataclass(frozen=True, slots=True)
class AreaAnswer:
    """An area's answer to a turn."""

    kind: str
    partial: bool = False
    legal_basis: str = ""
    harm_test: str = ""
    reservation_years: int | None = None
    answer_text: str = ""
    redactions: str = ""

    def data(self) -> dict[str, Any]:
        """The part of the answer the workflow's rules look at (kept in the case data)."""
        item: dict[str, Any] = {"kind": self.kind}
        if self.kind in wf.CLASSIFIED:
            item["partial"] = self.partial
            item["legal_basis"] = self.legal_basis.strip()
        if self.kind == "reserved":
            item["harm_test"] = self.harm_test.strip()
            item["reservation_years"] = self.reservation_years
        return item


def _area_departments(user: User) -> frozenset[str]:
    return user.departments(Role.AREA)


def _turned_to(case: Case) -> frozenset[str]:
    """The areas the request was turned to (the case data is the source of truth; turn rows add the detail)."""
    return frozenset(str(code) for code in case.data.get("turned_to") or ())


def answer_turn(
    case_id: int, department: str, answer: AreaAnswer, actor_id: int, *, expected_version: int
) -> FireResult:
    """Record ``department``'s answer to the turn, as a member of that area (the transition is logged; the
    turn row keeps the legal basis, harm test and reservation period).

    Raises ``NotAllowed`` (not a member of that area, or the request was not turned to it), ``InvalidData``
    (already answered) and the engine's errors (incomplete classification, state).
    """
    with unit_of_work() as session:
        # locked: two members of the area answering at once (a turn given through the generic case page has no
        # turn row yet, and both would write it); the second waits, then finds the case moved on
        case = _access_case(session, case_id, lock=True)
        refuse_stale(case, expected_version)  # the turn and the answers are checked and written from this read
        user = _user(session, actor_id)
        if department not in _area_departments(user):
            raise NotAllowed(Msg("Solo el personal de esa área puede responder su turno."))
        if department not in _turned_to(case):
            raise NotAllowed(Msg("La solicitud no se turnó a esa área."))
        turn = session.scalars(
            select(AreaTurn).where(AreaTurn.case_id == case_id, AreaTurn.department_code == department)
        ).first()
        if turn is None:  # turned through the generic case page: the turn row is written now
            turn = AreaTurn(case_id=case_id, department_code=department)
            session.add(turn)
        if turn.answered_at is not None or department in (case.data.get("answers") or {}):
            raise InvalidData(Msg("Esta área ya respondió el turno."))
        if answer.kind not in wf.ANSWER_KINDS:
            raise InvalidData(Msg("Indique si la información está disponible, clasificada o es inexistente."))
        answers = dict(case.data.get("answers") or {})
        answers[department] = answer.data()
        result = fire(case_id, "answer_turn", actor_id, expected_version=expected_version, data={"answers": answers})
        turn.answer_kind = AnswerKind(answer.kind)
        turn.partial = answer.partial if answer.kind in wf.CLASSIFIED else False
        turn.legal_basis = answer.legal_basis.strip() or None
        turn.harm_test = answer.harm_test.strip() or None if answer.kind == "reserved" else None
        turn.reservation_years = answer.reservation_years if answer.kind == "reserved" else None
        turn.answer_text = answer.answer_text.strip()[:MAX_TEXT] or None
        turn.redactions = answer.redactions.strip()[:MAX_TEXT] or None
        turn.answered_by_id = actor_id
        turn.answered_at = utcnow()
        return result


def attach_area_document(
    case_id: int, department: str, kind: str, original_name: str, content: bytes, actor_id: int
) -> int:
    """Attach an area's PDF (its answer, or the versión pública) to a request turned to it; supersedes that
    area's previous one of that kind (another area's document stays). Logged with ids and hashes only.
    Raises ``NotAllowed``, ``InvalidData``."""
    if kind not in AREA_DOCUMENT_KINDS:
        raise InvalidData(Msg("Tipo de documento no admitido."))
    check_pdf(content, int(current_app.config["MAX_DOCUMENT_BYTES"]))
    with unit_of_work() as session:
        # locked: two uploads of one area and kind at once would both find the same current document (or none)
        # and both stay current; the second waits, then finds the first's and supersedes it
        case = _access_case(session, case_id, lock=True)
        user = _user(session, actor_id)
        if department not in _area_departments(user) or department not in _turned_to(case):
            raise NotAllowed(Msg("Solo un área a la que se turnó la solicitud puede adjuntar documentos."))
        if case.state not in {"turned", "consolidated", "in_committee", "compliance"}:
            raise InvalidData(Msg("No se pueden adjuntar documentos en esta etapa."))
        previous = session.scalars(
            select(Document)
            .join(AreaDocument, AreaDocument.document_id == Document.id)
            .where(
                Document.case_id == case_id,
                Document.kind == kind,
                Document.superseded_by_id.is_(None),
                AreaDocument.department_code == department,
            )
        ).first()
        document = add_pdf(session, case_id, kind, original_name, content, actor_id)
        session.add(AreaDocument(document_id=document.id, case_id=case_id, department_code=department))
        if previous is not None:
            previous.superseded_by_id = document.id
        log_attached(session, case, document, actor_id, Role.AREA, previous.id if previous is not None else None)
        return document.id


def deliverable_documents(case_id: int) -> list[Document]:
    """The area documents the unit may choose to deliver now: the current versions of the kinds that may go
    out (only versiones públicas while a classification stands)."""
    case = db.session.get(Case, case_id)
    if case is None or case.workflow != WORKFLOW:
        return []
    return list(
        db.session.scalars(
            select(Document)
            .where(
                Document.case_id == case_id,
                Document.superseded_by_id.is_(None),
                Document.kind.in_(sorted(wf.deliverable_kinds(case.data))),
            )
            .order_by(Document.id)
        )
    )


@dataclass(frozen=True, slots=True)
class Costs:
    """What the unit enters with the response for its cost sheet: pages and media reproduced, whether the
    copies are sent (envío), a waiver for the requester's socio-economic circumstances with its reason; for a
    consulta directa, the date, time (local) and place of the consultation."""

    page_count: int = 0
    media_count: int = 0
    shipped: bool = False
    waived: bool = False
    waiver_reason: str = ""
    consultation_at: datetime | None = None
    consultation_place: str = ""


def _cost_data(session: Session, case: Case, costs: Costs, today: date) -> dict[str, Any]:
    """The case data a response's costs record; refuses a consulta directa in the past or on a non-working day."""
    data: dict[str, Any] = {
        "page_count": costs.page_count,
        "media_count": costs.media_count,
        "shipped": bool(costs.shipped),
        "cost_waived": bool(costs.waived),
        "cost_waiver_reason": " ".join((costs.waiver_reason or "").split())[:MAX_TEXT],
    }
    if case.data.get("delivery_format") != wf.CONSULTATION:
        return data
    place = " ".join((costs.consultation_place or "").split())[:500]
    when = costs.consultation_at
    if when is None or not place:
        raise InvalidData(Msg("Indique la fecha, la hora y el lugar de la consulta directa."))
    if when.tzinfo is not None:  # an instant: the appointment is kept in Mexico City's local time
        when = when.astimezone(LOCAL_TZ)
    when = when.replace(tzinfo=None, second=0, microsecond=0)
    now = datetime.now(LOCAL_TZ).replace(tzinfo=None)
    if when.date() < today or when <= now:
        raise InvalidData(Msg("La fecha de la consulta directa ya pasó: elija una fecha futura."))
    if not calendar(session).is_business_day(when.date()):
        raise InvalidData(
            Msg(
                "El %(date)s no es día hábil: elija otra fecha para la consulta directa.",
                {"date": when.date().isoformat()},
            )
        )
    return data | {"consultation_at": when.isoformat(timespec="minutes"), "consultation_place": place}


def deliver_response(
    case_id: int,
    summary: str,
    actor_id: int,
    *,
    expected_version: int,
    document_ids: Sequence[int] = (),
    costs: Costs | None = None,
) -> FireResult:
    """Deliver the response with its cost sheet (:func:`workflows.access_request.cost_sheet`: the published
    fees for the pages and media entered, nothing when late or waived) and the documents the unit chose, one
    by one: nothing else reaches the requester. When something is owed, the payment order is issued in the
    same unit of work (due on the last day of the payment term) and the documents wait for the treasury's
    confirmation; a consulta directa records its appointment. The requester is mailed all of it.

    Raises ``InvalidData`` for a document that is not a current area document of this request, or that is
    classified (while a classification stands only its versión pública may be delivered), for a consulta
    directa without a future working day, a time and a place, and the engine's errors."""
    ids = list(dict.fromkeys(int(i) for i in document_ids))
    with unit_of_work() as session:
        case = _access_case(session, case_id)
        refuse_stale(case, expected_version)  # the documents and costs are checked from this read
        params = case.params or wf.ACCESS_V1.params
        today = local_today()
        allowed = wf.deliverable_kinds(case.data)
        for document_id in ids:
            document = session.get(Document, document_id)
            if (
                document is None
                or document.case_id != case.id
                or document.superseded_by_id is not None
                or document.kind not in AREA_DOCUMENT_KINDS
            ):
                raise InvalidData(Msg("Ese documento no es de esta solicitud o ya fue reemplazado."))
            if document.kind not in allowed:
                raise InvalidData(
                    Msg(
                        "«%(name)s» contiene información clasificada: solo puede entregarse su versión pública.",
                        {"name": document.original_name},
                    )
                )
        entered = _cost_data(session, case, costs or Costs(), today)
        if entered["cost_waived"] and not entered["cost_waiver_reason"]:
            raise InvalidData(Msg("Indique el motivo de la exención del costo."))
        sheet = wf.cost_sheet({**case.data, **entered}, params)
        data: dict[str, Any] = {
            "response_summary": (summary or "").strip()[:MAX_TEXT],
            "reproduction_cost": sheet.total,
            "cost_sheet": list(sheet.rows),
            wf.DELIVERED: ids,
            **entered,
        }
        if Decimal(sheet.total) > 0:  # the requester is asked to pay: its term is a date from the notification
            due = calendar(session).add_business_days(today, int(params.get("payment_days", 30)))
            data["payment_due_on"] = due.isoformat()
        result = fire(case_id, "deliver", actor_id, expected_version=expected_version, data=data)
        if Decimal(sheet.total) > 0:
            fire(case_id, "issue_payment_order", actor_id, expected_version=result.version)
        _mail_requester(session, case, "deliver", result.audit_seq, _appeal_notice(case))
        return result


def payment_notice(case: Case) -> ActNotice | None:
    """What the requester is asked to pay before delivery, as they are told it: the amount and the reference of
    the payment order, the legal basis and the last day to pay (the order's due date); ``None`` when nothing
    is owed or the treasury confirmed the payment."""
    if not wf.payment_pending(case.data):
        return None
    order = current_order(db.session(), case, wf.PAYMENT_ORDER)
    if order is None:
        return None
    fields = (order.public_data or {}).get("fields") or {}
    reference = str(fields.get("referencia") or "")
    due = order.valid_until or (
        date.fromisoformat(str(case.data["payment_due_on"])) if case.data.get("payment_due_on") else None
    )
    params = case.params or wf.ACCESS_V1.params
    text = (
        f"Costos de reproducción y envío: ${case.data.get('reproduction_cost')} MXN. Pague con la línea de "
        f"captura {reference} (orden de pago {order.number}, que puede descargar en la página de seguimiento) "
        "en las cajas de la Tesorería o en el banco; la Tesorería confirma el pago y la información se entrega "
        "entonces."
    )
    return ActNotice(text, wf.legal_basis(params, "payment"), due, kind="payment", reference=reference)


def consultation_notice(case: Case) -> ActNotice | None:
    """The appointment of a consulta directa as the requester is told it: date, time and place, the legal basis
    (LGTAIP 2015 art. 133) and the day; ``None`` when the response set none."""
    at = str(case.data.get("consultation_at") or "")
    place = str(case.data.get("consultation_place") or "")
    if not at or not place:
        return None
    when = datetime.fromisoformat(at)
    params = case.params or wf.ACCESS_V1.params
    text = (
        f"Consulta directa: el {long_date(when.date())} a las {when:%H:%M} horas, en {place}. Presente el folio "
        f"{case.folio}; la consulta no tiene costo."
    )
    return ActNotice(text, wf.legal_basis(params, "consultation"), when.date(), kind="consultation")


# -- committee ------------------------------------------------------------------------------------


def open_session(number: str, held_on: date, actor_id: int) -> int:
    """Open a committee session (number unique). Raises ``InvalidData`` and ``NotAllowed``."""
    number = _clean(number, 60)
    if not number:
        raise InvalidData(Msg("Indique el número de la sesión."))
    with unit_of_work() as session:
        user = _user(session, actor_id)
        if not (user.has_role(Role.COMMITTEE_MEMBER) or user.has_role(Role.TRANSPARENCY_UNIT)):
            raise NotAllowed(Msg("Solo el Comité o la Unidad de Transparencia convocan sesiones."))
        if session.scalars(select(CommitteeSession.id).where(CommitteeSession.number == number)).first():
            raise InvalidData(Msg("Ya existe una sesión con ese número."))
        row = CommitteeSession(number=number, held_on=held_on, created_by_id=actor_id)
        try:
            # a savepoint: the same number opened at the same moment passes the check above in both units of
            # work; the second insert fails on the unique number and gets the check's answer
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            raise InvalidData(Msg("Ya existe una sesión con ese número.")) from None
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="committee_session_opened",
                actor_id=actor_id,
                actor_role=Role.COMMITTEE_MEMBER.value
                if user.has_role(Role.COMMITTEE_MEMBER)
                else Role.TRANSPARENCY_UNIT.value,
                details={"session_id": row.id, "held_on": held_on.isoformat()},
            ),
        )
        return row.id


def _session_row(session: Session, session_id: int) -> CommitteeSession:
    row = session.get(CommitteeSession, session_id)
    if row is None:
        raise NotFound(Msg("La sesión no existe."))
    return row


def submit_to_committee(case_id: int, session_id: int, actor_id: int, *, expected_version: int) -> FireResult:
    """Take the request's classifications or declarations of inexistence to a session of the committee."""
    with unit_of_work() as session:
        _session_row(session, session_id)
        case = _access_case(session, case_id)
        refuse_stale(case, expected_version)  # the item's matter is taken from this read
        kinds = {a.get("kind") for a in (case.data.get("answers") or {}).values() if isinstance(a, Mapping)}
        matter = CommitteeMatter.CLASSIFICATION if kinds & wf.CLASSIFIED else CommitteeMatter.INEXISTENCE
        result = fire(case_id, "to_committee", actor_id, expected_version=expected_version)
        session.add(CommitteeItem(session_id=session_id, case_id=case_id, matter=matter))
        return result


def request_extension(
    case_id: int, session_id: int, reasons: str, actor_id: int, *, expected_version: int
) -> FireResult:
    """Ask the committee, in session ``session_id``, to extend the response term (once, before it lapses)."""
    with unit_of_work() as session:
        _session_row(session, session_id)
        _access_case(session, case_id)
        result = fire(case_id, "request_extension", actor_id, expected_version=expected_version, comment=reasons)
        session.add(CommitteeItem(session_id=session_id, case_id=case_id, matter=CommitteeMatter.EXTENSION))
        return result


_ITEM_DECISIONS = {
    CommitteeMatter.CLASSIFICATION: {"confirm", "modify", "revoke"},
    CommitteeMatter.INEXISTENCE: {"confirm", "modify", "revoke"},
    CommitteeMatter.EXTENSION: {"approve", "reject"},
}


def committee_members() -> list[User]:
    """The active members of the transparency committee, by name (those who may be present and vote)."""
    return active_holders(Role.COMMITTEE_MEMBER)


def _tally(session: Session, votes: Mapping[int, str], actor_id: int) -> dict[str, int]:
    """Check each vote (a member of the committee, a known vote; the member who records it is present)
    and count them. Raises ``NotAllowed`` (the one recording is not a member) and ``InvalidData``."""
    recorder = session.get(User, actor_id)
    if recorder is None or not recorder.has_role(Role.COMMITTEE_MEMBER):
        raise NotAllowed(Msg("Solo los integrantes del Comité votan sus resoluciones."))
    for member_id, vote in votes.items():
        user = session.get(User, member_id)
        if user is None or not user.active or not user.has_role(Role.COMMITTEE_MEMBER):
            raise InvalidData(Msg("Solo los integrantes del Comité votan sus resoluciones."))
        if vote not in wf.VOTES:
            raise InvalidData(Msg("El voto de cada integrante es a favor, en contra o abstención."))
    if actor_id not in votes:
        raise InvalidData(Msg("Quien registra la resolución debe estar presente en la sesión."))
    tally = {"present": len(votes)} | dict.fromkeys(wf.VOTES, 0)
    for vote in votes.values():
        tally[vote] += 1
    return tally


def decide_item(
    item_id: int, decision: str, resolution_text: str, actor_id: int, *, votes: Mapping[int, str]
) -> FireResult:
    """Record the committee's resolution on an agenda item, with the members present and each one's vote
    (``votes``: member id → ``favor``, ``against`` or ``abstain``; absent members are left out), and fire the
    request's transition: confirm, modify or revoke a classification or inexistence; approve or reject an
    extension. Without quorum, or without a majority of the votes cast, nothing is resolved.

    Raises ``NotFound``, ``InvalidData`` (decision not for this matter, no resolution text, already decided,
    a vote of someone who is not a member, the recording member absent) and the engine's errors (role, quorum
    and majority, the single extension before the deadline).
    """
    text = (resolution_text or "").strip()[:MAX_TEXT]
    with unit_of_work() as session:
        # locked: a double click would otherwise find the item undecided twice and record its votes twice
        item = session.get(CommitteeItem, item_id, with_for_update=True, populate_existing=True)
        if item is None:
            raise NotFound(Msg("El asunto no existe."))
        if item.decision is not None:
            raise InvalidData(Msg("El comité ya resolvió este asunto."))
        if decision not in _ITEM_DECISIONS[item.matter]:
            raise InvalidData(Msg("Ese sentido no corresponde a este asunto."))
        if not text:
            raise InvalidData(Msg("Escriba el texto de la resolución del comité."))
        tally = _tally(session, votes, actor_id)
        case = _access_case(session, item.case_id)
        data: dict[str, Any] = {"committee_item": item.id, wf.COMMITTEE_VOTE: tally}
        if item.matter == CommitteeMatter.EXTENSION:
            trigger = "approve_extension" if decision == "approve" else "reject_extension"
            comment = text if decision == "reject" else None
        else:
            trigger = "committee_resolve"
            data |= {"committee_decision": decision, "committee_resolution": text}
            comment = None
        # recorded first: the resolution's PDF, issued by the transition, reads it (a refusal rolls it back)
        item.decision = CommitteeDecision(decision)
        item.resolution_text = text
        item.decided_by_id = actor_id
        item.decided_at = utcnow()
        for member_id, vote in sorted(votes.items()):
            session.add(CommitteeVote(item_id=item.id, member_id=member_id, vote=vote))
        session.flush()
        result = fire(case.id, trigger, actor_id, expected_version=case.version, data=data, comment=comment)
        item.audit_seq = result.audit_seq
        if trigger in {"approve_extension", "committee_resolve"}:
            _mail_requester(
                session, case, trigger, result.audit_seq, _committee_notice(case, trigger, text, item.matter)
            )
        return result


def committee_notices(case: Case) -> tuple[ActNotice, ...]:
    """The committee's acts the requester is told, oldest first: each extension approved (its reasons, legal
    basis and the last day of the extended response term, while it runs) and each classification or
    inexistence ruled on (the resolution and its legal basis)."""
    params = case.params or wf.ACCESS_V1.params
    items = db.session.scalars(
        select(CommitteeItem)
        .where(CommitteeItem.case_id == case.id, CommitteeItem.decision.is_not(None))
        .order_by(CommitteeItem.id)
    ).all()
    clock = case_clocks([case.id]).get(case.id, {}).get("response")
    due = clock.due_on if clock is not None and case.state in wf.WORKING else None
    notices = []
    for item in items:
        if item.matter == CommitteeMatter.EXTENSION:
            if item.decision == CommitteeDecision.APPROVE:
                notices.append(
                    ActNotice(
                        item.resolution_text or "",
                        wf.legal_basis(params, "extension"),
                        due,
                        kind="extension",
                        due_label=RESPONSE_TERM,
                    )
                )
            continue
        basis = wf.legal_basis(params, _ruled_act(item.matter))
        notices.append(ActNotice(item.resolution_text or "", basis, None, kind="classification"))
    return tuple(notices)


def _ruled_act(matter: CommitteeMatter) -> str:
    """The act whose legal basis the requester is told of the committee's ruling on ``matter`` (not an extension):
    a classification (LGTAIP 2015 arts. 44 fr. II and 137) or an inexistence (arts. 44 fr. II, 138 and 139)."""
    return "inexistence" if matter == CommitteeMatter.INEXISTENCE else "classification"


RESPONSE_TERM = N_("Plazo de respuesta")
"""How a committee notice names the response term it leaves the request with."""


def _committee_notice(case: Case, trigger: str, text: str, matter: CommitteeMatter) -> ActNotice:
    """What the requester is told of the committee's act: an extension approved (its reasons, legal basis and
    the new last day of the response term) or a classification or inexistence ruled on (the resolution, its
    legal basis and the last day of the response term)."""
    params = case.params or wf.ACCESS_V1.params
    clock = case_clocks([case.id]).get(case.id, {}).get("response")
    due = clock.due_on if clock is not None else None
    if trigger == "approve_extension":
        return ActNotice(text, wf.legal_basis(params, "extension"), due, kind="extension", due_label=RESPONSE_TERM)
    basis = wf.legal_basis(params, _ruled_act(matter))
    return ActNotice(text, basis, due, kind="classification", due_label=RESPONSE_TERM)


@dataclass(frozen=True, slots=True)
class SessionView:
    """A committee session with its agenda."""

    session: CommitteeSession
    items: Sequence[tuple[CommitteeItem, str]]
    votes: Mapping[int, Sequence[tuple[str, str]]] = field(default_factory=dict)
    """Per decided item: each member present (by name) and their vote."""


SESSIONS_PAGE = 50
"""Sessions on a page of the committee's list."""
SESSIONS_OFFERED = 20
"""The latest sessions offered on a request's page to submit a matter to (those convened ahead come first)."""


def sessions(limit: int = SESSIONS_PAGE, *, before: int | None = None) -> list[CommitteeSession]:
    """The committee's sessions, newest first (by the day held, then the latest convened): at most ``limit``,
    and with ``before`` those that come after that session in this order (the next page; none when it does not
    exist). Read through the index of the day held: a page costs the same however many sessions there are."""
    stmt = select(CommitteeSession).order_by(CommitteeSession.held_on.desc(), CommitteeSession.id.desc()).limit(limit)
    if before is not None:
        mark = db.session.get(CommitteeSession, before)
        if mark is None:
            return []
        stmt = stmt.where(tuple_(CommitteeSession.held_on, CommitteeSession.id) < (mark.held_on, mark.id))
    return list(db.session.scalars(stmt))


def session_view(session_id: int) -> SessionView:
    """A session and its items with each request's folio. Raises ``NotFound``."""
    row = db.session.get(CommitteeSession, session_id)
    if row is None:
        raise NotFound(Msg("La sesión no existe."))
    items = db.session.execute(
        select(CommitteeItem, Case.folio)
        .join(Case, Case.id == CommitteeItem.case_id)
        .where(CommitteeItem.session_id == session_id)
        .order_by(CommitteeItem.id)
    ).all()
    votes: dict[int, list[tuple[str, str]]] = {}
    for item_id, name, vote in db.session.execute(
        select(CommitteeVote.item_id, User.display_name, CommitteeVote.vote)
        .join(User, User.id == CommitteeVote.member_id)
        .join(CommitteeItem, CommitteeItem.id == CommitteeVote.item_id)
        .where(CommitteeItem.session_id == session_id)
        .order_by(User.display_name, User.id)
    ):
        votes.setdefault(item_id, []).append((name, vote))
    return SessionView(row, [(i, f) for i, f in items], votes)


# -- queues and case pages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A request in a staff queue, with its response term (the guarantor's term in the guarantor's queue)."""

    case_id: int
    folio: str
    state: str
    state_description: str
    received_on: date
    due_on: date | None
    business_days_left: int | None
    overdue: bool
    paused: bool


class _Listed(NamedTuple):
    """A request as the staff queues list it: the case's columns they show and sort by, its receipt day, and of
    its data only the fields the queue reads (the lapses of its terms)."""

    id: int
    folio: str
    state: str
    workflow: str
    workflow_version: int
    closed_at: datetime | None
    created_at: datetime
    received_on: date | None
    data: Mapping[str, Any]


_LAPSES = ("response_overdue_on", "resolution_overdue_on")
"""The fields of a request's data that a queue shows (whether its response term or the guarantor's lapsed)."""


def _listed_select(*conditions: Any) -> Select[*tuple[Any, ...]]:
    """The requests meeting ``conditions`` as the queues list them, with their receipt days: the lapses
    (:data:`_LAPSES`) of their data, not the rest of it."""
    data = [Case.data[name].as_string() for name in _LAPSES]
    return (
        select(
            Case.id,
            Case.folio,
            Case.state,
            Case.workflow,
            Case.workflow_version,
            Case.closed_at,
            Case.created_at,
            AccessRequest.received_on,
            *data,
        )
        .outerjoin(AccessRequest, AccessRequest.case_id == Case.id)
        .where(*conditions)
    )


def _as_listed(rows: Iterable[Sequence[Any]]) -> list[_Listed]:
    """The rows of :func:`_listed_select` (and any columns after them left out) as :class:`_Listed`."""
    end = 8 + len(_LAPSES)
    return [
        _Listed._make(
            (*row[:8], {name: value for name, value in zip(_LAPSES, row[8:end], strict=True) if value is not None})
        )
        for row in rows
    ]


def _queue(cases: Sequence[_Listed], today: date, *, guarantor: bool = False) -> list[QueueRow]:
    """The queue's rows: the requests' clocks and terms read once for the list, not per request, with their
    states and definitions taken from the list (:func:`case_terms`); each by the response term, or for the
    guarantor by the guarantor's own term (:func:`_guarantor_term`)."""
    terms_of, clocks_of = case_terms(cases, today)
    rows = [
        _row(c, c.received_on or local_today(c.created_at), today, clocks_of, terms_of, guarantor=guarantor)
        for c in cases
    ]
    return sorted(rows, key=lambda r: (not r.overdue, r.due_on or date.max, r.case_id))


def _row(
    case: _Listed,
    received_on: date,
    today: date,
    clocks_of: Mapping[int, Mapping[str, ClockView]],
    terms_of: Mapping[int, Sequence[TermView]],
    *,
    guarantor: bool = False,
) -> QueueRow:
    status = _status(case, received_on, today, clocks_of, terms_of)
    due, left, overdue, paused = status.response_due_on, status.business_days_left, status.overdue, status.paused
    if guarantor:
        due, left, overdue = _guarantor_term(case, clocks_of, terms_of)
        paused = False
    return QueueRow(case.id, case.folio, case.state, status.state_description, received_on, due, left, overdue, paused)


def _guarantor_term(
    case: _Listed, clocks_of: Mapping[int, Mapping[str, ClockView]], terms_of: Mapping[int, Sequence[TermView]]
) -> tuple[date | None, int | None, bool]:
    """The last day, business days left and lapse of the guarantor's term on a request: the term to resolve the
    appeal (LGTAIP 2015 art. 146) while it is appealed, else the term of the state it is in (compliance); the
    response term, long past, says nothing of the guarantor's work."""
    lapsed = bool(case.data.get("resolution_overdue_on"))
    resolution = clocks_of.get(case.id, {}).get("resolution")
    if case.state in ADMITTED and resolution is not None and resolution.due_on is not None:
        return resolution.due_on, resolution.business_days_left, lapsed
    for term in terms_of.get(case.id, ()):
        if term.state == case.state:
            return term.due_on, term.business_days_left, term.overdue
    return None, None, lapsed


def _open_states() -> list[str]:
    """The states of every installed version of the procedure that are not terminal: an open request is in one."""
    return sorted({s.name for w in get_engine().definitions if w.name == WORKFLOW for s in w.states if not s.terminal})


UNIT_PAGE = 50
"""Requests on a page of the transparency unit's queue."""

_RESPONSE_RULE = f"{CLOCK_RULE_PREFIX}response"
"""The rule of the pending timer holding the last day of a request's running response term."""


class UnitCursor(NamedTuple):
    """Where a page of the unit's queue ends: whether its last request's response term had lapsed, the term's
    last day (:data:`datetime.date.max` when it is not running) and the request's case id."""

    lapsed: bool
    due_on: date
    case_id: int


class UnitQueue(NamedTuple):
    """A page of the unit's queue and, when more follow, where the next page starts."""

    rows: list[QueueRow]
    following: UnitCursor | None


def _unit_queue_select(after: bool, conditions: Sequence[Any] = ()) -> Select[Any]:
    """The open requests (those meeting ``conditions`` too) in the queue's order: the lapsed response terms first,
    then by the term's last day (terms not running last), then by case; at most ``limit`` and one more, past
    ``after_*`` with ``after``."""
    waiting = when((Case.data[_LAPSES[0]].as_string().is_(None), 1), else_=0)
    due = select(func.min(Timer.due_on)).where(
        Timer.case_id == Case.id, is_constant(Timer.status, TimerStatus.PENDING), Timer.rule == constant(_RESPONSE_RULE)
    )
    day = func.coalesce(due.scalar_subquery(), literal(date.max, Date), type_=Date)
    requests = conditions or _open_requests(_open_states())
    return _paged(_listed_select(*requests).add_columns(waiting.label("waiting"), day.label("sort_day")), after)


def _paged(listed: Select[Any], after: bool) -> Select[Any]:
    """A page of ``listed`` (a queue's rows as :func:`_listed_select` gives them, then ``waiting``, 0 when the
    term shown has lapsed, and ``sort_day``, its last day): in the queue's order (lapsed first, by the last day,
    by case), at most ``limit`` rows, past ``after_*`` with ``after``."""
    queued = listed.subquery("queued")
    order = (queued.c.waiting, queued.c.sort_day, queued.c.id)
    stmt = select(*queued.c).order_by(*order).limit(bindparam("limit", type_=Integer))
    if after:
        stmt = stmt.where(past(order, after_waiting=Integer, after_day=Date, after_id=Integer))
    return stmt


def unit_queue_page(today: date | None = None, *, after: UnitCursor | None = None, limit: int = UNIT_PAGE) -> UnitQueue:
    """A page of the open requests for the transparency unit: those whose response term lapsed first, then by the
    last day of the response term (the database sorts them, so that a page follows another), starting after
    ``after``. The requests are found by their open states through the (workflow, state) index: the concluded
    ones, however many, are not read."""
    return _queue_page(_unit_queue_select(after is not None), today, after, limit)


def _queue_page(
    statement: Select[Any], today: date | None, after: UnitCursor | None, limit: int, *, guarantor: bool = False
) -> UnitQueue:
    """The page of a queue's ``statement`` (:func:`_paged`) that starts after ``after``; for the guarantor's
    queue, with the day its terms are judged on bound as ``today``."""
    today = today or local_today()
    params: dict[str, Any] = {"limit": limit + 1}
    if guarantor:
        params["today"] = today
    if after is not None:
        params.update(after_waiting=int(not after.lapsed), after_day=after.due_on, after_id=after.case_id)
    rows = db.session.execute(statement, params).all()
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        following = UnitCursor(not last.waiting, last.sort_day, last.id)
    return UnitQueue(_queue(_as_listed(rows), today, guarantor=guarantor), following)


def unit_queue(today: date | None = None) -> list[QueueRow]:
    """The first page of the open requests for the transparency unit (:func:`unit_queue_page`)."""
    return unit_queue_page(today).rows


def _open_requests(states: Sequence[str]) -> tuple[Any, ...]:
    """The conditions of the open requests in ``states``, found through the (workflow, state) index."""
    return (
        Case.workflow == constant(WORKFLOW),
        one_of(Case.state, [constant(state) for state in states]),
        Case.closed_at.is_(None),
    )


def _awaits_answer_of(departments: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """The request was turned to one of ``departments`` that has not answered it yet, judged by the database from
    the case's data (``turned_to``, ``answers``: the source of truth, a turn given through the generic case page
    has no turn row), so that an area's queue reads its own requests, not every area's."""
    unanswered: ColumnElement[bool]
    if dialect == "postgresql":
        turned = func.json_array_elements_text(Case.data["turned_to"]).table_valued("value").alias("turned")
        unanswered = func.json_extract_path(Case.data, literal("answers"), turned.c.value).is_(None)
    else:
        turned = func.json_each(Case.data, literal("$.turned_to")).table_valued("value").alias("turned")
        answers = func.json_each(Case.data, literal("$.answers")).table_valued("key").alias("answered")
        unanswered = ~exists(select(1).select_from(answers).where(answers.c.key == turned.c.value))
    return exists(select(1).select_from(turned).where(turned.c.value.in_(departments), unanswered))


def area_queue_page(
    user_id: int, today: date | None = None, *, after: UnitCursor | None = None, limit: int = UNIT_PAGE
) -> UnitQueue:
    """A page of the requests turned to one of the user's areas and not yet answered by it, in the unit's queue's
    order (lapsed response terms first, then by the term's last day), starting after ``after``. The database
    keeps only the area's own requests: the other areas' turns, however many, are not returned."""
    user = db.session.get(User, user_id)
    departments = _area_departments(user) if user is not None else frozenset()
    if not departments:
        return UnitQueue([], None)
    dialect = db.session.get_bind().dialect.name
    conditions = (
        Case.workflow == constant(WORKFLOW),
        Case.state == constant("turned"),
        Case.closed_at.is_(None),
        _awaits_answer_of(sorted(departments), dialect),
    )
    return _queue_page(_unit_queue_select(after is not None, conditions), today, after, limit)


def area_queue(user_id: int, today: date | None = None) -> list[QueueRow]:
    """The first page of the requests turned to the user's areas and not yet answered (:func:`area_queue_page`)."""
    return area_queue_page(user_id, today).rows


_GUARANTOR_STATES = (wf.APPEAL_FILED, wf.APPEAL_PLEADINGS, "appealed", "compliance", "compliance_review")
"""The states of a request in the guarantor's queue: appeals to admit or dismiss, appeals to resolve, and the
compliance with a resolution, which the obligated subject reports and the guarantor verifies."""

_RESOLUTION_RULE = f"{CLOCK_RULE_PREFIX}resolution"
"""The rule of the pending timer holding the last day of the guarantor's term to resolve an admitted appeal."""


def _guarantor_queue_select(after: bool) -> Select[Any]:
    """The requests of the guarantor's queue in its order: the lapsed terms first, then by the term's last day
    (none last), then by case; at most ``limit`` and one more, past ``after_*`` with ``after``. The term is the
    one :func:`_guarantor_term` shows, judged by the database on the day bound as ``today``: while an appeal is
    admitted, the term to resolve it (lapsed when its lapse is recorded in the data); else the first term of the
    request's state (lapsed when its last day is before ``today``)."""
    terms = (
        Timer.case_id == Case.id,
        one_of(Timer.kind, [constant(TimerKind.DEADLINE), constant(TimerKind.TARGET)]),
    )
    resolution = select(func.min(Timer.due_on)).where(
        *terms, is_constant(Timer.status, TimerStatus.PENDING), Timer.rule == constant(_RESOLUTION_RULE)
    )
    of_state = select(func.min(Timer.due_on)).where(
        *terms,
        term_in_force(),
        Timer.state == Case.state,
    )
    termed = (
        _listed_select(*_open_requests(_GUARANTOR_STATES))
        .add_columns(
            resolution.scalar_subquery().label("resolution_due"), of_state.scalar_subquery().label("state_due")
        )
        .subquery("termed")
    )
    *listed, resolution_due, state_due = termed.c
    lapsed = listed[8 + _LAPSES.index("resolution_overdue_on")].is_not(None)
    resolving = and_(one_of(termed.c.state, [constant(state) for state in ADMITTED]), resolution_due.is_not(None))
    today = bindparam("today", type_=Date)
    overdue = when((resolving, lapsed), (state_due.is_not(None), state_due < today), else_=lapsed)
    due = when((resolving, resolution_due), else_=state_due)
    day = func.coalesce(due, literal(date.max, Date), type_=Date)
    return _paged(select(*listed, when((overdue, 0), else_=1).label("waiting"), day.label("sort_day")), after)


def guarantor_queue_page(
    today: date | None = None, *, after: UnitCursor | None = None, limit: int = UNIT_PAGE
) -> UnitQueue:
    """A page of the guarantor's queue (appeals to admit or dismiss, appeals to resolve, compliance to verify):
    the lapsed terms first, then by the last day of the guarantor's term (:func:`_guarantor_term`; the database
    sorts them, so that a page follows another), starting after ``after``. The requests are found by their states
    through the (workflow, state) index."""
    return _queue_page(_guarantor_queue_select(after is not None), today, after, limit, guarantor=True)


def guarantor_queue(today: date | None = None) -> list[QueueRow]:
    """The first page of the guarantor's queue (:func:`guarantor_queue_page`)."""
    return guarantor_queue_page(today).rows


def _turns(case_id: int) -> list[AreaTurn]:
    return list(db.session.scalars(select(AreaTurn).where(AreaTurn.case_id == case_id).order_by(AreaTurn.id)))


@dataclass(frozen=True, slots=True)
class StaffView:
    """A request as a member of staff sees it."""

    status: PublicStatus
    case: Case
    request: AccessRequest
    turns: Sequence[AreaTurn]
    documents: Sequence[Document]
    items: Sequence[CommitteeItem]
    own_departments: frozenset[str]
    unit_offers: frozenset[str] = frozenset()
    """The unit's and the guarantor's steps the engine would accept now (see :data:`_UNIT_PROBES`)."""
    legal_bases: Mapping[str, str] = field(default_factory=dict)
    """The legal basis the case's settings cite for each act (``legal_bases``, the default where unset), shown
    beside the unit's forms."""
    pleadings: Pleadings | None = None
    """The admitted appeal's instruction: the parties' term to plead, what each pleaded (and the unit's evidence),
    its closing."""
    compliance_view: ComplianceView | None = None
    """The appellant's view of the compliance report under review: its term and remarks (LGTAIP 2015 art. 197)."""


_SEE_ALL = (Role.TRANSPARENCY_UNIT, Role.COMMITTEE_MEMBER, Role.GUARANTOR, Role.AUDITOR)


def staff_view(case_id: int, user_id: int, today: date | None = None, *, settle: bool = False) -> StaffView:
    """A request for the unit, the committee, the guarantor or an auditor (everything), or for an area
    (only a request turned to it); with ``settle`` (a page shown), its expired terms not yet recorded are
    recorded first (:func:`_settled_terms`). Raises ``NotFound`` for anyone else (without saying whether it
    exists)."""
    session = db.session()
    user = session.get(User, user_id)
    case = session.get(Case, case_id)
    request = session.get(AccessRequest, case_id)
    if user is None or case is None or request is None or case.workflow != WORKFLOW:
        raise NotFound(Msg("El expediente no existe."))
    turns = _turns(case_id)
    own = _area_departments(user) & _turned_to(case)
    # the committee sees what is brought to it (a request on one of its agendas), not every request
    brought = session.scalar(select(CommitteeItem.id).where(CommitteeItem.case_id == case_id).limit(1)) is not None
    sees_all = any(user.has_role(r) for r in _SEE_ALL if r != Role.COMMITTEE_MEMBER)
    if not sees_all and not (brought and user.has_role(Role.COMMITTEE_MEMBER)) and not own:
        raise NotFound(Msg("El expediente no existe."))
    today = today or local_today()
    terms_of = _settled_terms(case, today, settle)
    documents = session.scalars(
        select(Document).where(Document.case_id == case_id, Document.superseded_by_id.is_(None)).order_by(Document.id)
    ).all()
    items = session.scalars(
        select(CommitteeItem).where(CommitteeItem.case_id == case_id).order_by(CommitteeItem.id)
    ).all()
    clocks_of = case_clocks([case.id], today=today)  # read once: for the status and for the steps offered
    return StaffView(
        _status(case, request.received_on, today, clocks_of, terms_of),
        case,
        request,
        turns,
        documents,
        items,
        own,
        _unit_offers(case, user, today, clocks_of.get(case.id, {}), terms_of.get(case.id, [])),
        wf.legal_bases(case.params or wf.ACCESS_V1.params),
        pleadings(case, with_documents=True),
        compliance_view(case, terms_of.get(case.id, []), today),
    )


def departments() -> list[Department]:
    """The departments a request can be turned to (those with active area staff), by name."""
    staffed = _staffed(db.session())
    return list(db.session.scalars(select(Department).where(Department.code.in_(staffed)).order_by(Department.name)))


def department_names(language: str) -> dict[str, str]:
    """The name of every department by its code as a reader of ``language`` reads it (pages show names, never
    codes)."""
    return all_department_names(language)


__all__ = [
    "ActNotice",
    "AreaAnswer",
    "Costs",
    "Filed",
    "Pleadings",
    "PublicStatus",
    "QueueRow",
    "RequesterView",
    "SessionView",
    "StaffView",
    "add_turn",
    "answer_turn",
    "area_queue",
    "area_queue_page",
    "attach_area_document",
    "committee_members",
    "consultation_notice",
    "decide_item",
    "deliver_response",
    "deliverable_documents",
    "delivered_documents",
    "department_names",
    "departments",
    "file_request",
    "file_unit_pleadings",
    "guarantor_act",
    "guarantor_queue",
    "guarantor_queue_page",
    "new_tracking_token",
    "open_session",
    "own_request_folio",
    "own_requests",
    "payment_notice",
    "pleadings",
    "point_to_public_source",
    "public_status",
    "reissue_tracking_token",
    "request_extension",
    "requester_act",
    "requester_act_notice",
    "requester_view",
    "requester_view_for_account",
    "session_view",
    "sessions",
    "staff_view",
    "submit_to_committee",
    "tracking_path_for",
    "turn_request",
    "unit_act",
    "unit_queue",
    "withdraw_turn",
]
