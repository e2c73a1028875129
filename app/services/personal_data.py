"""Data-protection requests (derechos ARCO): registered by an administrator for a person, answered within
a term of business days, and resolved without ever breaking the audit log.

- access: the person's data as one JSON document;
- rectification: their name or e-mail address corrected on their account;
- cancellation: their account anonymised (pseudonymous name, unusable e-mail address and password,
  deactivated) and the free text of the comments they wrote erased from the log rows, whose hashes
  cover only a salted digest of it, so every proof and checkpoint stays valid; their cases keep their
  folios and their administrative record, which the institution must keep by law;
- opposition: recorded; from then on the person receives no non-essential notice (reminders).

The audit log records each request and each resolution with references only (request, user, kind,
dates, which fields changed): never a name, an e-mail address or a corrected value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.calendar import local_today
from app.database import is_constant
from app.engine import ConflictError, InvalidData, Msg, NotAllowed, NotFound
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Document, OutboxMessage, Role, User, utcnow
from app.models.personal_data import DataRequestKind, DataRequestStatus, PersonalDataRequest
from app.services.deadlines import calendar
from app.services.uow import unit_of_work
from app.services.users import normalise_email

NON_ESSENTIAL_TOPICS = frozenset({"deadline_reminder"})
"""Notices a person may oppose: courtesy reminders. Notices of the acts of their case (``case_transition``)
are the procedure's own notifications and keep being sent."""

ANONYMOUS_DOMAIN = "anonimizado.invalid"
UNUSABLE_PASSWORD = "!cancelled"  # noqa: S105 - not a hash: no password can ever match it
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class RequestRow:
    """A request as the administrators' pages list it."""

    id: int
    user_id: int
    user_name: str
    user_email: str
    kind: DataRequestKind
    status: DataRequestStatus
    received_on: date
    due_on: date
    resolved_at: Any

    @property
    def pending(self) -> bool:
        """Whether it still has to be answered."""
        return self.status == DataRequestStatus.PENDING


def _require_admin(session: Session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.active or not actor.has_role(Role.ADMIN):
        raise NotAllowed(Msg("Solo un administrador puede atender solicitudes de datos personales."))
    return actor


def _log(session: Session, actor_id: int, action: str, details: dict[str, Any]) -> None:
    audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN, action=action, actor_id=actor_id, actor_role=Role.ADMIN.value, details=details
        ),
    )


def response_days() -> int:
    """Business days to answer a request (``PERSONAL_DATA_RESPONSE_DAYS``, 20 by default)."""
    return int(current_app.config.get("PERSONAL_DATA_RESPONSE_DAYS", 20))


def register_request(
    actor_id: int, user_email: str, kind: DataRequestKind, received_on: date, *, form_key: str | None = None
) -> int:
    """Register a request of the person whose account has ``user_email``; returns its id.

    The due date is ``received_on`` plus the configured business days, on the one business-day calendar
    (declared non-working days included). Logs the registration (ids and dates only). Raises
    ``NotAllowed`` (actor not an administrator), ``NotFound`` (no such account) and ``InvalidData``
    (received in the future).

    ``form_key`` is the registration form's own key: the same form sent again (a double click, at the same
    moment or later) registers nothing more. With the same data, by the same administrator, it returns the
    request it registered; otherwise it raises ``ConflictError`` naming that request.
    """
    try:
        with unit_of_work() as session:
            return _register(session, actor_id, user_email, kind, received_on, form_key)
    except IntegrityError:
        if not form_key:
            raise
        # the same form sent twice at once: this insert waited for the other's commit and failed on the key
        with unit_of_work() as session:
            _require_admin(session, actor_id)
            registered = _registered_before(session, form_key, actor_id, user_email, kind, received_on)
        if registered is None:
            raise
        return registered


def _registered_before(
    session: Session, form_key: str, actor_id: int, user_email: str, kind: DataRequestKind, received_on: date
) -> int | None:
    """The request the registration form ``form_key`` registered, when it is this one again."""
    request = session.scalars(select(PersonalDataRequest).where(PersonalDataRequest.form_key == form_key)).first()
    if request is None:
        return None
    user = session.get(User, request.user_id)
    same = (request.registered_by_id, request.kind, request.received_on) == (actor_id, kind, received_on)
    if not same or user is None or user.email != normalise_email(user_email):
        raise ConflictError(
            Msg(
                "Con este formulario ya se registró la solicitud %(number)s. Si quiere registrar otra, revise los "
                "datos y vuelva a enviarlos.",
                {"number": str(request.id)},
            )
        )
    return request.id


def _register(
    session: Session,
    actor_id: int,
    user_email: str,
    kind: DataRequestKind,
    received_on: date,
    form_key: str | None,
) -> int:
    """Register the request in the caller's transaction (see :func:`register_request`)."""
    _require_admin(session, actor_id)
    if form_key and (registered := _registered_before(session, form_key, actor_id, user_email, kind, received_on)):
        return registered
    if received_on > local_today():
        raise InvalidData(Msg("La fecha de recepción no puede ser futura."))
    user = session.scalars(select(User).where(User.email == normalise_email(user_email))).first()
    if user is None:
        raise NotFound(Msg("No hay ninguna cuenta con ese correo electrónico."))
    due_on = calendar(session).add_business_days(received_on, response_days())
    request = PersonalDataRequest(
        user_id=user.id,
        kind=kind,
        status=DataRequestStatus.PENDING,
        received_on=received_on,
        due_on=due_on,
        registered_by_id=actor_id,
        registered_at=utcnow(),
        form_key=form_key,
    )
    session.add(request)
    session.flush()
    _log(
        session,
        actor_id,
        "personal_data_request_registered",
        {
            "request_id": request.id,
            "user_id": user.id,
            "kind": kind.value,
            "received_on": received_on.isoformat(),
            "due_on": due_on.isoformat(),
        },
    )
    return request.id


def _pending(session: Session, request_id: int, kind: DataRequestKind) -> tuple[PersonalDataRequest, User]:
    request = session.get(PersonalDataRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound(Msg("La solicitud no existe."))
    if request.kind != kind:
        raise InvalidData(Msg("Esta resolución no corresponde al tipo de la solicitud."))
    if request.status != DataRequestStatus.PENDING:
        raise InvalidData(Msg("La solicitud ya fue atendida."))
    # the person's account is locked too: another of their requests resolved at once (a rectification beside a
    # cancellation) waits, then sees what this one did
    user = session.get(User, request.user_id, with_for_update=True, populate_existing=True)
    if user is None:  # pragma: no cover - foreign key
        raise NotFound(Msg("La solicitud no existe."))
    return request, user


def _resolve(session: Session, request: PersonalDataRequest, actor_id: int, extra: dict[str, Any]) -> None:
    request.status = DataRequestStatus.RESOLVED
    request.resolved_at = utcnow()
    request.resolved_by_id = actor_id
    session.flush()
    _log(
        session,
        actor_id,
        "personal_data_request_resolved",
        {"request_id": request.id, "user_id": request.user_id, "kind": request.kind.value, **extra},
    )


def resolve_access(request_id: int, actor_id: int) -> None:
    """Answer an access request: mark it resolved (the data is then downloadable with :func:`export_for`).

    Raises ``NotAllowed``, ``NotFound`` and ``InvalidData`` (wrong kind, already resolved).
    """
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        request, _user = _pending(session, request_id, DataRequestKind.ACCESS)
        _resolve(session, request, actor_id, {})


EMAIL_SHAPE = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def _clean_email(value: str) -> str:
    address = normalise_email(value)
    if len(address) > 254 or not EMAIL_SHAPE.match(address):
        raise InvalidData(Msg("Escriba un correo electrónico válido."))
    return address


def _cancelled(user: User) -> bool:
    """Whether ``user``'s account was anonymised by an answered cancellation request."""
    return user.password_hash == UNUSABLE_PASSWORD


def resolve_rectification(request_id: int, actor_id: int, display_name: str | None, email: str | None) -> list[str]:
    """Answer a rectification request: correct the account's name and/or e-mail address.

    Returns the names of the fields that changed. The log records which fields changed, never their
    values. Raises ``NotAllowed``, ``NotFound`` (also when the account was cancelled meanwhile) and
    ``InvalidData`` (nothing to correct, invalid or taken e-mail address, wrong kind, already resolved).
    """
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        request, user = _pending(session, request_id, DataRequestKind.RECTIFICATION)
        if _cancelled(user):  # its data is erased: nothing is written back onto it
            raise NotFound(Msg("El usuario no existe o está inactivo."))
        changed: list[str] = []
        name = (display_name or "").strip()
        if name and name != user.display_name:
            if len(name) > MAX_NAME:
                raise InvalidData(Msg("El nombre es demasiado largo."))
            user.display_name = name
            changed.append("display_name")
        if email and email.strip():
            address = _clean_email(email)
            if address != user.email:
                taken = session.scalars(select(User.id).where(User.email == address, User.id != user.id)).first()
                if taken is not None:
                    raise InvalidData(Msg("Ya existe una cuenta con ese correo electrónico."))
                user.email = address
                changed.append("email")
        if not changed:
            raise InvalidData(Msg("Indique el nombre o el correo corregidos (distintos de los actuales)."))
        _resolve(session, request, actor_id, {"fields": changed})
        return changed


def resolve_cancellation(request_id: int, actor_id: int) -> int:
    """Answer a cancellation request: anonymise the account and erase the text of the comments the person
    wrote in the log (their salted digests stay, so verification is unaffected).

    The account gets a pseudonymous name, an e-mail address that cannot receive mail, a password that
    cannot match, and is deactivated; their cases keep their folios. Returns how many comments were
    erased. Raises ``NotAllowed`` (also when the person is the acting administrator), ``NotFound`` and
    ``InvalidData``.
    """
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        request, user = _pending(session, request_id, DataRequestKind.CANCELLATION)
        if user.id == actor_id:
            raise NotAllowed(Msg("Otro administrador debe atender la cancelación de su propia cuenta."))
        user.display_name = f"Persona anonimizada {user.id}"
        user.email = f"cancelada-{user.id}@{ANONYMOUS_DOMAIN}"
        user.password_hash = UNUSABLE_PASSWORD
        user.active = False
        session.flush()
        # one UPDATE whatever their number (not a list of them: a statement takes at most 65,535 parameters on
        # PostgreSQL); the log's rows keep their salted digests, so every hash stays as it was
        erased = cast(
            CursorResult[Any],
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.actor_id == user.id, AuditEntry.comment.is_not(None))
                .values(comment=None, comment_salt=None)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        _resolve(session, request, actor_id, {"comments_erased": erased})
        return erased


def resolve_opposition(request_id: int, actor_id: int) -> None:
    """Answer an opposition request: record it; the person gets no non-essential notice from then on.

    Raises ``NotAllowed``, ``NotFound`` and ``InvalidData``.
    """
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        request, _user = _pending(session, request_id, DataRequestKind.OPPOSITION)
        _resolve(session, request, actor_id, {"stopped": sorted(NON_ESSENTIAL_TOPICS)})


def opposes(session: Session, user_id: int) -> bool:
    """Whether the person has an answered opposition request (no non-essential notices for them)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    PersonalDataRequest.user_id == user_id,
                    PersonalDataRequest.kind == DataRequestKind.OPPOSITION,
                    is_constant(PersonalDataRequest.status, DataRequestStatus.RESOLVED),
                )
            )
        )
    )


def suppressed(session: Session, message: OutboxMessage) -> bool:
    """Whether an outbox message must not be sent because its recipient opposed non-essential notices."""
    return (
        message.topic in NON_ESSENTIAL_TOPICS
        and message.recipient_id is not None
        and opposes(session, message.recipient_id)
    )


RESOLVED_PAGE = 50
"""Answered requests on a page of the administrators' list (the pending ones are all shown)."""


def list_requests(*, before: int | None = None, limit: int = RESOLVED_PAGE) -> Sequence[RequestRow]:
    """The pending requests (earliest due first), then the latest ``limit`` answered ones, newest first; with
    ``before`` only answered ones older than that request (the next page, without the pending ones). Each through
    the partial index of those requests: the answered ones of past years are not read, and the list does not
    grow with them."""
    stmt = select(PersonalDataRequest, User.display_name, User.email).join(User, User.id == PersonalDataRequest.user_id)
    rows: list[Any] = []
    if before is None:
        rows += db.session.execute(
            stmt.where(is_constant(PersonalDataRequest.status, DataRequestStatus.PENDING)).order_by(
                PersonalDataRequest.due_on, PersonalDataRequest.id
            )
        ).all()
    answered = stmt.where(is_constant(PersonalDataRequest.status, DataRequestStatus.RESOLVED))
    if before is not None:
        answered = answered.where(PersonalDataRequest.id < before)
    rows += db.session.execute(answered.order_by(PersonalDataRequest.id.desc()).limit(limit)).all()
    return [_row(r, name, email) for r, name, email in rows]


def _row(r: PersonalDataRequest, name: str, email: str) -> RequestRow:
    return RequestRow(r.id, r.user_id, name, email, r.kind, r.status, r.received_on, r.due_on, r.resolved_at)


def get_request(request_id: int) -> RequestRow:
    """One request. Raises ``NotFound``."""
    found = db.session.execute(
        select(PersonalDataRequest, User.display_name, User.email)
        .join(User, User.id == PersonalDataRequest.user_id)
        .where(PersonalDataRequest.id == request_id)
    ).first()
    if found is None:
        raise NotFound(Msg("La solicitud no existe."))
    return _row(*found)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_for(request_id: int) -> dict[str, Any]:
    """The personal data held about the person of an answered access request, as a JSON-ready dict:
    their account, the cases they filed (with the data they gave), the documents they uploaded, what
    they did in the log (with their comments), the notices addressed to them and their requests.

    Raises ``NotFound`` and ``InvalidData`` (not an access request, or not answered yet).
    """
    session = db.session()
    request = session.get(PersonalDataRequest, request_id)
    if request is None:
        raise NotFound(Msg("La solicitud no existe."))
    if request.kind != DataRequestKind.ACCESS or request.status != DataRequestStatus.RESOLVED:
        raise InvalidData(Msg("Los datos se entregan al atender una solicitud de acceso."))
    user = session.get(User, request.user_id)
    if user is None:  # pragma: no cover - foreign key
        raise NotFound(Msg("La solicitud no existe."))
    cases = session.scalars(select(Case).where(Case.applicant_id == user.id).order_by(Case.id)).all()
    documents = session.execute(
        select(Document, Case.folio)
        .join(Case, Case.id == Document.case_id)
        .where(Document.uploaded_by_id == user.id)
        .order_by(Document.id)
    ).all()
    entries = session.execute(
        select(AuditEntry.seq, AuditEntry.at, AuditEntry.action, AuditEntry.folio, AuditEntry.comment)
        .where(AuditEntry.actor_id == user.id)
        .order_by(AuditEntry.seq)
    ).all()
    notices = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_id == user.id).order_by(OutboxMessage.id)
    ).all()
    requests = session.scalars(
        select(PersonalDataRequest).where(PersonalDataRequest.user_id == user.id).order_by(PersonalDataRequest.id)
    ).all()
    return {
        "generated_at": _iso(utcnow()),
        "request_id": request.id,
        "account": {
            "id": user.id,
            "display_name": user.display_name,
            "email": user.email,
            "locale": user.locale.value,
            "active": user.active,
            "created_at": _iso(user.created_at),
            "roles": sorted(f"{r.role.value}:{r.department_code or ''}".rstrip(":") for r in user.roles),
        },
        "cases": [
            {
                "folio": c.folio,
                "workflow": c.workflow,
                "state": c.state,
                "created_at": _iso(c.created_at),
                "closed_at": _iso(c.closed_at),
                "data": c.data,
            }
            for c in cases
        ],
        "documents": [
            {
                "folio": folio,
                "kind": d.kind,
                "file_name": d.original_name,
                "size_bytes": d.size_bytes,
                "sha256": d.sha256,
                "uploaded_at": _iso(d.uploaded_at),
            }
            for d, folio in documents
        ],
        "actions": [
            {"seq": seq, "at": _iso(at), "action": action, "folio": folio, "comment": comment}
            for seq, at, action, folio, comment in entries
        ],
        "notices": [
            {
                "topic": n.topic,
                "folio": n.payload.get("folio"),
                "status": n.status.value,
                "created_at": _iso(n.created_at),
            }
            for n in notices
        ],
        "data_protection_requests": [
            {
                "id": r.id,
                "kind": r.kind.value,
                "status": r.status.value,
                "received_on": r.received_on.isoformat(),
                "due_on": r.due_on.isoformat(),
                "resolved_at": _iso(r.resolved_at),
            }
            for r in requests
        ],
    }
