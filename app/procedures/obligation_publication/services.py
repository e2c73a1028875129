"""Transparency-obligation publications as use cases: opening a quarter, drafting and submitting the record,
the permits-issued rows generated from VECS licences, the guarantor's sampling draw, and the public records.

Cases are opened by the system (the calendar, the tick, or an operator's command), so their applicant is the
system's own publications account: an inactive user without roles or password, created once. It keeps
``cases.applicant_id`` a real user for every workflow (nothing that reads cases has to expect a case without
one) and makes plain that no person filed these cases.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.calendar import LOCAL_TZ, local_today
from app.database import constant, end_read, is_constant, one_of
from app.engine import AvailableTrigger, InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import (
    AuditEntry,
    AuditKind,
    Case,
    Certificate,
    CertificateStatus,
    Department,
    Document,
    Locale,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
    User,
    utcnow,
)
from app.procedures.obligation_publication.models import (
    ObligationPublication,
    PublicationSample,
    PublicationSeed,
)
from app.services.assignment import on_state_entered
from app.services.case_actions import act
from app.services.case_pages import SPANISH
from app.services.cases import FireResult, actor_for, allocate_folio, case_view, fire, refuse_stale
from app.services.config import effective_params, params_for_new_case
from app.services.csv_export import csv_text
from app.services.deadlines import calendar as business_calendar
from app.services.deadlines import start_timers
from app.services.documents import log_attached
from app.services.files import store_file
from app.services.seeds import fresh_seed, opened_seed
from app.services.uow import unit_of_work
from app.services.uploads import check_pdf, clean_file_name
from app.storage import get_storage
from workflows.base import DEPARTMENTS_PARAM, draw, item_in_language
from workflows.obligation_publication import (
    DRAFTING_STATES,
    HOLDER_FIELD,
    LICENCE_SOURCE,
    PUBLICATION_V1,
    PUBLISHED_STATES,
    SAMPLE_METHOD,
    due_date,
    format_by_code,
    normalise_rows,
    opening_date,
    quarter_period,
    record_problems,
)

WORKFLOW = PUBLICATION_V1.name
logger = logging.getLogger(__name__)
SYSTEM_EMAIL = "publicaciones@sistema.invalid"
SYSTEM_NAME = "Sistema de publicaciones de transparencia"
MIN_YEAR, MAX_YEAR = 2000, 2200


# -- the system's account -------------------------------------------------------------------------


def system_account(session: Session) -> int:
    """The id of the system's publications account, created on first use (safe when two servers race:
    the insert does nothing if the e-mail exists). It cannot log in: inactive, no roles, no password."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(User)
        .values(
            email=SYSTEM_EMAIL,
            display_name=SYSTEM_NAME,
            password_hash="!disabled:" + secrets.token_hex(8),
            locale=Locale.ES_MX,
            active=False,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[User.email])
    )
    return session.scalars(select(User.id).where(User.email == SYSTEM_EMAIL)).one()


# -- opening a quarter ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenReport:
    """What opening a quarter did: the folios opened now, how many formats already had their case, and why
    the formats left unopened were refused (a format whose responsible department does not exist is never
    opened without one: each such format gives one translated reason naming it and the department)."""

    year: int
    quarter: int
    due_on: date
    opened: tuple[str, ...] = ()
    existing: int = 0
    refused: tuple[Msg, ...] = ()


def _check_period(year: Any, quarter: Any) -> tuple[int, int]:
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidData(Msg("El ejercicio debe ser un año entre 2000 y 2200."))
    if not isinstance(quarter, int) or isinstance(quarter, bool) or quarter not in (1, 2, 3, 4):
        raise InvalidData(Msg("El trimestre debe ser 1, 2, 3 o 4."))
    return year, quarter


def _exists(session: Session, code: str, year: int, quarter: int) -> bool:
    stmt = select(ObligationPublication.id).where(
        ObligationPublication.format_code == code,
        ObligationPublication.year == year,
        ObligationPublication.quarter == quarter,
    )
    return session.scalars(stmt).first() is not None


def open_quarter(year: int, quarter: int, *, today: date | None = None) -> OpenReport:
    """Open one publication case per configured format for ``year``/``quarter``, due on the calendar's date.

    Idempotent: a format that already has its case for the period is left alone (a unique key on
    (format, year, quarter) guarantees it even when two servers open the same quarter at once). Each case
    belongs to the format's responsible department and copies the settings in force. A format whose
    department does not exist is not opened (the report's ``refused`` says which and why); the others are.
    Raises ``InvalidData`` for a bad period.
    """
    year, quarter = _check_period(year, quarter)
    today = today or local_today()
    try:
        return _open_quarter(year, quarter, today)
    except IntegrityError:  # another server created the settings row or the seed at the same time: once more
        return _open_quarter(year, quarter, today)


def _open_quarter(year: int, quarter: int, today: date) -> OpenReport:
    workflow = get_engine().latest(WORKFLOW)
    with unit_of_work() as session:
        params = params_for_new_case(session, workflow)
        _commit_seed(session, year, quarter, None)  # before any record of the quarter exists
        due_on = due_date(params["calendar"], year, quarter)
        system_id = system_account(session)
        opened: list[str] = []
        refused: list[Msg] = []
        existing = 0
        for fmt in params["formats"]:
            if _exists(session, fmt["code"], year, quarter):
                existing += 1
                continue
            if session.get(Department, str(fmt["department"])) is None:
                refused.append(_unknown_department(fmt))
                continue
            try:
                with session.begin_nested():
                    opened.append(_open_one(session, workflow.initial, fmt, year, quarter, due_on, params, system_id))
            except IntegrityError:  # another server opened it between our check and our insert
                existing += 1
                continue
        if opened:
            for case in session.scalars(select(Case).where(Case.folio.in_(opened)).order_by(Case.id)):
                entry = audit.append(
                    session,
                    EntryInput(
                        kind=AuditKind.TRANSITION,
                        action="open",
                        actor_id=None,
                        actor_role="system",
                        case=case,
                        from_state=None,
                        to_state=case.state,
                        data_digest=audit.data_digest(case.data),
                        details={"format": case.data["format"], "year": year, "quarter": quarter},
                    ),
                )
                start_timers(session, case, workflow.state(case.state), entry.seq, today)
                on_state_entered(session, case, workflow.state(case.state), entry.seq)
        return OpenReport(year, quarter, due_on, tuple(opened), existing, tuple(refused))


def _unknown_department(fmt: Mapping[str, Any]) -> Msg:
    return Msg(
        "El formato «%(format)s» no se abrió: su área responsable «%(department)s» no existe. Dé de alta el "
        "área o corrija el formato en la configuración.",
        {"format": str(fmt["code"]), "department": str(fmt["department"])},
    )


def _open_one(
    session: Session,
    initial: str,
    fmt: Mapping[str, Any],
    year: int,
    quarter: int,
    due_on: date,
    params: Mapping[str, Any],
    system_id: int,
) -> str:
    department = str(fmt["department"])
    case = Case(
        folio=allocate_folio(session, PUBLICATION_V1.folio_prefix, year),
        workflow=PUBLICATION_V1.name,
        workflow_version=PUBLICATION_V1.version,
        state=initial,
        applicant_id=system_id,
        department_code=department,  # checked to exist by the caller
        data={
            "format": fmt["code"],
            "year": year,
            "quarter": quarter,
            "due_on": due_on.isoformat(),
            "rows": [],
            "note": "",
        },
        # The area that drafts is the format's responsible department, whatever the office mapping says.
        params={**params, DEPARTMENTS_PARAM: {**dict(params.get(DEPARTMENTS_PARAM) or {}), "area": department}},
    )
    session.add(case)
    session.flush()
    session.add(
        ObligationPublication(
            case_id=case.id,
            format_code=fmt["code"],
            year=year,
            quarter=quarter,
            department_code=department,
            due_on=due_on,
        )
    )
    session.flush()
    return case.folio


def quarters_due(today: date, calendar: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The periods whose opening window (from the opening day to the due day) includes ``today``."""
    periods = []
    for year in (today.year - 1, today.year):
        for quarter in (1, 2, 3, 4):
            if opening_date(calendar, year, quarter) <= today <= due_date(calendar, year, quarter):
                periods.append((year, quarter))
    return periods


def open_due_quarters(today: date | None = None) -> list[OpenReport]:
    """Open the quarters whose opening day has come (run by ``permits tick``): a cheap read when every
    format already has its case, one unit of work per quarter otherwise."""
    today = today or local_today()
    session = db.session()
    params = effective_params(session, get_engine().latest(WORKFLOW))
    reports = []
    for year, quarter in quarters_due(today, params["calendar"]):
        count = session.scalars(
            select(func.count())
            .select_from(ObligationPublication)
            .where(ObligationPublication.year == year, ObligationPublication.quarter == quarter)
        ).one()
        if count < len(params["formats"]):
            reports.append(open_quarter(year, quarter, today=today))
    end_read(session)
    return reports


# -- the record -----------------------------------------------------------------------------------


def _publication(session: Session, case_id: int) -> tuple[Case, ObligationPublication]:
    # read again even when the session holds it: the steps check the record against this read
    case = session.get(Case, case_id, populate_existing=True)
    period = session.scalars(select(ObligationPublication).where(ObligationPublication.case_id == case_id)).first()
    if case is None or period is None or case.workflow != WORKFLOW:
        raise NotFound(Msg("La publicación no existe."))
    return case, period


def _format(case: Case) -> Mapping[str, Any]:
    fmt = format_by_code(case.params, case.data.get("format"))
    if fmt is None:
        raise NotFound(Msg("El formato de esta publicación ya no existe en la configuración."))
    return fmt


def _raise_problems(problems: Sequence[tuple[str, dict[str, str]]]) -> None:
    if problems:
        reasons = tuple(Msg(msgid, params) for msgid, params in problems)
        raise InvalidData(reasons[0], reasons)


def save_record(
    case_id: int,
    actor_id: int,
    *,
    rows: Sequence[Mapping[str, Any]] | None,
    note: str,
    expected_version: int,
    language: str = SPANISH,
) -> FireResult:
    """Save the area's draft: the rows (only the format's fields, blank rows dropped) and the note.

    Values must have their field's type (blanks are allowed until submission). In a format generated from
    licences ``rows`` is ignored (``None``): its rows come only from :func:`refresh_licence_rows`. Raises
    ``InvalidData`` listing every wrong value (fields named as a reader of ``language`` reads them), and what
    ``cases.fire`` raises (role, department, state).
    """
    case, _period = _publication(db.session(), case_id)
    refuse_stale(case, expected_version)  # the rows are checked (or kept) from this read
    fmt = _format(case)
    if fmt.get("source") == LICENCE_SOURCE or rows is None:
        cleaned = list(case.data.get("rows") or [])
    else:
        cleaned = normalise_rows(fmt, list(rows))
    note = (note or "").strip()
    _raise_problems(record_problems(fmt, cleaned, note, complete=False, language=language))
    return fire(
        case_id, "save_draft", actor_id, expected_version=expected_version, data={"rows": cleaned, "note": note}
    )


def submit_record(case_id: int, actor_id: int, *, expected_version: int, language: str = SPANISH) -> FireResult:
    """Send the record to validation (or, after the guarantor's findings, present the correction).

    Every required field must be filled with a value of its type, or a note must explain why there are no
    rows: ``InvalidData`` lists every problem (fields named as a reader of ``language`` reads them). Raises what
    ``cases.fire`` raises.
    """
    case, _period = _publication(db.session(), case_id)
    refuse_stale(case, expected_version)  # the record is checked, and the step chosen, from this read
    fmt = _format(case)
    rows, note = case.data.get("rows") or [], case.data.get("note")
    _raise_problems(record_problems(fmt, rows, note, complete=True, language=language))
    trigger = "correct" if case.state in ("findings", "correction_overdue") else "submit"
    return fire(case_id, trigger, actor_id, expected_version=expected_version)


def licence_rows(session: Session, year: int, quarter: int, *, holder: bool = False) -> list[dict[str, str]]:
    """The rows of the permits-issued format: the construction licences issued in the quarter (Mexico City
    dates), neither revoked nor superseded, oldest first. The holder's name (``titular``, as the licence
    certifies it) only with ``holder``, where the jurisdiction's setting says the law requires it: a holder
    may be a natural person, and the registry cannot tell; the location is only the zone (the part of the
    address after its last comma), never the street and number."""
    first, last = quarter_period(year, quarter)
    start = datetime.combine(first, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    stmt = (
        select(Certificate, Case)
        .join(Case, Case.id == Certificate.case_id)
        .where(
            Certificate.kind == "licence",
            Certificate.issued_at >= start,
            Certificate.issued_at < end,
            Certificate.status.not_in([CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED]),
        )
        .order_by(Certificate.issued_at, Certificate.id)
    )
    rows = []
    for certificate, case in session.execute(stmt):
        fields = dict(certificate.public_data.get("fields") or {})
        address = str(case.data.get("property_address") or "")
        rows.append(
            {
                "folio": certificate.folio,
                "numero_licencia": str(fields.get("numero_licencia") or ""),
                "fecha_emision": certificate.issued_at.astimezone(LOCAL_TZ).date().isoformat(),
                "uso": str(fields.get("uso_suelo") or ""),
                "superficie_m2": str(fields.get("superficie_construida_m2") or ""),
                "zona": address.rsplit(",", 1)[1].strip() if "," in address else "",
                "vigencia_hasta": certificate.valid_until.isoformat() if certificate.valid_until else "",
            }
        )
        if holder:
            rows[-1]["titular"] = str(fields.get("titular") or "")
    return rows


def refresh_licence_rows(case_id: int, actor_id: int, *, expected_version: int) -> FireResult:
    """Regenerate the rows of a permits-issued record from the licences issued in its quarter (before it is
    submitted, or while correcting findings). Raises ``InvalidData`` for a format that is not generated from
    licences, and what ``cases.fire`` raises."""
    session = db.session()
    case, period = _publication(session, case_id)
    refuse_stale(case, expected_version)  # the note and the attachments are kept from this read
    fmt = _format(case)
    if fmt.get("source") != LICENCE_SOURCE:
        raise InvalidData(Msg("Este formato no se genera a partir de las licencias emitidas."))
    holder = any(f.get("name") == HOLDER_FIELD["name"] for f in fmt.get("fields") or ())
    rows = licence_rows(session, period.year, period.quarter, holder=holder)
    note = str(case.data.get("note") or "")
    attachments = list(case.data.get("attachments") or [])
    return fire(
        case_id,
        "save_draft",
        actor_id,
        expected_version=expected_version,
        data={"rows": rows, "note": note, "attachments": attachments},
    )


def decide(
    case_id: int, trigger: str, actor_id: int, *, expected_version: int, idempotency_key: str, comment: str | None
) -> FireResult:
    """The unit's and the guarantor's steps (validate, return with observations, publish, clear, file
    findings, accept or reject a correction): what is published is computed by the system from the
    validated record. A record published after its quarter's draw is drawn at once by
    :func:`draw_supplementary` (a step of its own: should it fail, the guarantor runs it from the sampling
    page). Raises ``InvalidData`` for a step that is not one of these and what ``act`` raises."""
    if trigger not in DECISIONS:
        raise InvalidData(Msg("La acción «%(trigger)s» no existe en este trámite.", {"trigger": trigger}))
    _case, period = _publication(db.session(), case_id)
    year, quarter = period.year, period.quarter
    result = act(
        case_id, trigger, actor_id, expected_version=expected_version, idempotency_key=idempotency_key, comment=comment
    )
    if trigger == "publish" and result.to_state == "published":
        try:
            draw_supplementary(year, quarter, None)
        except InvalidData:  # the publication stands; the guarantor sees the reason when drawing by hand
            logger.warning("supplementary draw of %s-Q%s refused after publishing %s", year, quarter, result.folio)
    return result


DECISIONS = frozenset(
    {"validate", "return_record", "publish", "clear", "file_findings", "accept_correction", "reject_correction"}
)


# -- the guarantor's sample -----------------------------------------------------------------------

SEED_NOT_COMMITTED = Msg(
    "Ese trimestre no tiene semilla comprometida: se compromete al abrir el trimestre; el órgano garante puede "
    "comprometerla ahora desde esta página."
)
ALREADY_DRAWN = Msg("El sorteo de ese trimestre ya se realizó; consulte su resultado en la bitácora.")


@dataclass(frozen=True, slots=True)
class SampleReport:
    """A sampling draw: its audit entry, the round (0: the draw after the deadline; 1…: supplementary draws
    over records published after it), the rate, and each record's outcome (folio → record: the draw, and its
    ``status``, ``published`` or ``missing``, and whether it was ``late``)."""

    year: int
    quarter: int
    audit_seq: int
    rate: str
    draws: dict[str, dict[str, Any]] = field(default_factory=dict)
    round: int = 0

    @property
    def selected(self) -> list[str]:
        """The folios selected (for verification, or as a finding when the record is missing)."""
        return [folio for folio, record in self.draws.items() if record["selected"]]

    @property
    def missing(self) -> list[str]:
        """The selected folios whose record was not published at the draw: each is a finding."""
        return [folio for folio in self.selected if self.draws[folio]["status"] == "missing"]


def _seed_row(session: Session, year: int, quarter: int, *, lock: bool = False) -> PublicationSeed | None:
    stmt = select(PublicationSeed).where(PublicationSeed.year == year, PublicationSeed.quarter == quarter)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def _published() -> ColumnElement[bool]:
    """A publication's case in a published state (the states written into the statement: :func:`constant`)."""
    return one_of(Case.state, [constant(state) for state in PUBLISHED_STATES])


def _published_count(session: Session, year: int, quarter: int) -> int:
    return session.scalars(
        select(func.count())
        .select_from(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(
            ObligationPublication.year == year,
            ObligationPublication.quarter == quarter,
            _published(),
        )
    ).one()


def _commit_seed(session: Session, year: int, quarter: int, actor_id: int | None) -> PublicationSeed:
    """Commit a fresh random seed for the draw of ``year``/``quarter`` (unless one is committed already):
    the log gets only its SHA-256; the seed is kept encrypted for the draw. Inside the caller's unit."""
    existing = _seed_row(session, year, quarter)
    if existing is not None:
        return existing
    _, digest, encrypted = fresh_seed()
    published = _published_count(session, year, quarter)
    entry = audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action="publication_seed_committed",
            actor_id=actor_id,
            actor_role=Role.GUARANTOR.value if actor_id is not None else "system",
            details={
                "year": year,
                "quarter": quarter,
                "digest": digest,
                "algorithm": "SHA-256",
                "for": Role.GUARANTOR.value,
                "published_records": published,
            },
        ),
    )
    row = PublicationSeed(
        year=year,
        quarter=quarter,
        digest=digest,
        seed_encrypted=encrypted,
        commit_seq=entry.seq,
        published_at_commit=published,
    )
    session.add(row)
    session.flush()  # a unique key per quarter: a second commitment fails instead of replacing the first
    return row


def commit_seed(year: int, quarter: int, actor_id: int) -> int:
    """The guarantor commits the seed of a quarter that has none yet (normally it is committed when the
    quarter opens; a quarter opened before commitments existed gets one this way, and the log says how many
    of its records were already published). Returns the commitment's audit entry. Raises ``NotAllowed``
    (not the guarantor) and ``InvalidData`` (bad period, already committed)."""
    year, quarter = _check_period(year, quarter)
    try:
        with unit_of_work() as session:
            _guarantor(session, actor_id)
            if _seed_row(session, year, quarter) is not None:
                raise InvalidData(Msg("Ese trimestre ya tiene su semilla comprometida; no se puede cambiar."))
            return _commit_seed(session, year, quarter, actor_id).commit_seq
    except IntegrityError:
        raise InvalidData(Msg("Ese trimestre ya tiene su semilla comprometida; no se puede cambiar.")) from None


def _guarantor(session: Session, actor_id: int | None) -> None:
    if actor_id is None:
        return
    user = session.get(User, actor_id)
    if user is None or not user.active or not user.has_role(Role.GUARANTOR):
        raise NotAllowed(Msg("Solo el órgano garante realiza el sorteo de verificación."))


def _opened_seq(session: Session, case_id: int) -> int:
    """The audit entry that opened the case: the record's identifier in the draw, fixed when the quarter
    opened (nobody can choose it by choosing when to publish)."""
    seq = session.scalars(
        select(func.min(AuditEntry.seq)).where(AuditEntry.case_id == case_id, AuditEntry.action == "open")
    ).one()
    if seq is None:
        raise RuntimeError(f"publication case {case_id} has no opening entry")
    return int(seq)


def _published_on(session: Session, case_id: int) -> date | None:
    at = session.scalars(
        select(func.min(AuditEntry.at)).where(AuditEntry.case_id == case_id, AuditEntry.action == "publish")
    ).one()
    return at.astimezone(LOCAL_TZ).date() if at is not None else None


def publication_deadline(year: int, quarter: int) -> date | None:
    """The last day to publish the records of ``year``/``quarter`` (the latest due date of its cases, moved
    to a business day), or ``None`` when the quarter has no cases."""
    due = db.session.scalars(
        select(func.max(ObligationPublication.due_on)).where(
            ObligationPublication.year == year, ObligationPublication.quarter == quarter
        )
    ).one()
    return due_business_day(due) if due is not None else None


def _revealed_seed(session: Session, row: PublicationSeed) -> str:
    """The seed of ``row`` checked against its commitment. Raises ``InvalidData`` when it does not match."""
    return opened_seed(row.seed_encrypted, row.revealed_seed, row.digest)


def _quarter_cases(session: Session, year: int, quarter: int) -> list[tuple[Case, ObligationPublication]]:
    stmt = (
        select(Case, ObligationPublication)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(ObligationPublication.year == year, ObligationPublication.quarter == quarter)
        .order_by(Case.folio)
    )
    return [(case, period) for case, period in session.execute(stmt)]


def _drawn_published(session: Session, year: int, quarter: int) -> set[str]:
    """The folios that some draw of the quarter already drew as published."""
    folios: set[str] = set()
    for seq in session.scalars(
        select(PublicationSample.audit_seq).where(PublicationSample.year == year, PublicationSample.quarter == quarter)
    ):
        entry = session.get(AuditEntry, seq)
        for item in (entry.details or {}).get("draws", []) if entry is not None else []:
            if item.get("status") == "published":
                folios.add(str(item["folio"]))
    return folios


def draw_sample(year: int, quarter: int, actor_id: int, *, today: date | None = None) -> SampleReport:
    """The guarantor's draw over every record of ``year``/``quarter``, once, after its publication deadline.

    The seed committed when the quarter opened is checked against its logged digest and revealed (logged in
    clear). Every record of the quarter is drawn: HMAC-SHA-256(seed, ``folio|seq``), ``seq`` being the audit
    entry that opened its case, selected when below the settings' rate. Published records (late ones too,
    flagged) that are selected move into verification; selected records not yet published are findings
    (``missing``); records published later are drawn by :func:`draw_supplementary`. The draw's audit entry
    keeps every folio, seq, digest, number, status and the rate. Raises ``NotAllowed`` (not the guarantor),
    ``InvalidData`` (bad period, no cases, no commitment, before the deadline, already drawn, a seed that
    does not match its commitment).
    """
    year, quarter = _check_period(year, quarter)
    today = today or local_today()
    workflow = get_engine().latest(WORKFLOW)
    with unit_of_work() as session:
        _guarantor(session, actor_id)
        found = _quarter_cases(session, year, quarter)
        if not found:
            raise InvalidData(Msg("Ese trimestre no tiene registros que sortear."))
        deadline = publication_deadline(year, quarter)
        if deadline is not None and today <= deadline:
            raise InvalidData(
                Msg(
                    "El sorteo se realiza después del plazo de publicación del trimestre (%(date)s).",
                    {"date": deadline.isoformat()},
                )
            )
        row = _seed_row(session, year, quarter, lock=True)
        if row is None:
            raise InvalidData(SEED_NOT_COMMITTED)
        if (
            row.revealed_seed is not None
            or session.scalars(
                select(PublicationSample.id).where(PublicationSample.year == year, PublicationSample.quarter == quarter)
            ).first()
        ):
            raise InvalidData(ALREADY_DRAWN)
        seed = _revealed_seed(session, row)
        reveal = audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="publication_seed_revealed",
                actor_id=actor_id,
                actor_role=Role.GUARANTOR.value,
                details={
                    "year": year,
                    "quarter": quarter,
                    "seed": seed,
                    "digest": row.digest,
                    "commit_seq": row.commit_seq,
                },
            ),
        )
        row.revealed_seed, row.reveal_seq, row.revealed_at = seed, reveal.seq, utcnow()
        rate = str(effective_params(session, workflow)["sample_rate"])
        draws: dict[str, dict[str, Any]] = {}
        for case, period in found:
            published_on = _published_on(session, case.id) if case.state in PUBLISHED_STATES else None
            result = draw(seed, case.folio, _opened_seq(session, case.id), rate)
            draws[case.folio] = {
                **result.record(),
                "format": period.format_code,
                "status": "published" if published_on is not None else "missing",
                "late": published_on is None or (deadline is not None and published_on > deadline),
            }
        return _record_draw(session, year, quarter, 0, rate, draws, reveal.seq, actor_id, found)


def draw_supplementary(year: int, quarter: int, actor_id: int | None) -> SampleReport | None:
    """Draw, with the seed the quarter's draw revealed, the records of ``year``/``quarter`` published since
    its draws (late records): each gets the number it had in the first draw (same seed, same ``folio|seq``),
    so the result was fixed before it was published. Returns ``None`` when there is nothing new to draw, or
    the quarter was not drawn yet. ``actor_id`` is the guarantor, or ``None`` when the system runs it right
    after a late publication. Raises ``NotAllowed`` and ``InvalidData`` (a revealed seed that no longer
    matches its commitment)."""
    year, quarter = _check_period(year, quarter)
    workflow = get_engine().latest(WORKFLOW)
    with unit_of_work() as session:
        _guarantor(session, actor_id)
        row = _seed_row(session, year, quarter, lock=True)
        if row is None or row.revealed_seed is None or row.reveal_seq is None:
            return None
        seed = _revealed_seed(session, row)
        done = _drawn_published(session, year, quarter)
        found = [
            (case, period)
            for case, period in _quarter_cases(session, year, quarter)
            if case.state == "published" and case.folio not in done
        ]
        if not found:
            return None
        rounds = session.scalars(
            select(func.max(PublicationSample.round)).where(
                PublicationSample.year == year, PublicationSample.quarter == quarter
            )
        ).one()
        rate = str(effective_params(session, workflow)["sample_rate"])
        first_rates = session.scalars(
            select(PublicationSample.rate).where(
                PublicationSample.year == year, PublicationSample.quarter == quarter, PublicationSample.round == 0
            )
        ).first()
        rate = first_rates or rate  # the quarter's rate: the one of its first draw
        draws: dict[str, dict[str, Any]] = {}
        for case, period in found:
            result = draw(seed, case.folio, _opened_seq(session, case.id), rate)
            draws[case.folio] = {**result.record(), "format": period.format_code, "status": "published", "late": True}
        return _record_draw(session, year, quarter, (rounds or 0) + 1, rate, draws, row.reveal_seq, actor_id, found)


def _record_draw(
    session: Session,
    year: int,
    quarter: int,
    round_: int,
    rate: str,
    draws: dict[str, dict[str, Any]],
    reveal_seq: int,
    actor_id: int | None,
    found: list[tuple[Case, ObligationPublication]],
) -> SampleReport:
    entry = audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action="publication_sample_drawn",
            actor_id=actor_id,
            actor_role=Role.GUARANTOR.value if actor_id is not None else "system",
            details={
                "year": year,
                "quarter": quarter,
                "round": round_,
                "rate": rate,
                "method": SAMPLE_METHOD,
                "reveal_seq": reveal_seq,
                "draws": [{"folio": folio, **record} for folio, record in draws.items()],
            },
        ),
    )
    selected = [case for case, _period in found if draws[case.folio]["selected"]]
    missing = [c for c in selected if draws[c.folio]["status"] == "missing"]
    session.add(
        PublicationSample(
            year=year,
            quarter=quarter,
            round=round_,
            rate=rate,
            population=len(found),
            selected=len(selected),
            missing=len(missing),
            late=sum(1 for record in draws.values() if record["late"]),
            audit_seq=entry.seq,
            drawn_by_id=actor_id if actor_id is not None else system_account(session),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise InvalidData(ALREADY_DRAWN) from None
    for case in selected:
        if draws[case.folio]["status"] != "published":
            continue
        fire(
            case.id,
            "sample",
            None,
            expected_version=case.version,
            data={"sample_draw": {k: v for k, v in draws[case.folio].items() if k not in ("format", "status")}},
            reason={"sample_seq": entry.seq},
        )
    return SampleReport(year, quarter, entry.seq, rate, draws, round_)


def latest_sampling_year() -> int | None:
    """The latest year with a committed sampling seed (the year the sampling pages show when none is asked for),
    ``None`` before the first; read from the end of the seeds' (year, quarter) index."""
    return db.session.scalar(select(func.max(PublicationSeed.year)))


def samples(year: int) -> list[PublicationSample]:
    """The sampling draws of ``year``, newest quarter first (one year at a time: the draws of every quarter
    ever drawn would grow with the years kept)."""
    stmt = (
        select(PublicationSample)
        .where(PublicationSample.year == year)
        .order_by(PublicationSample.quarter.desc(), PublicationSample.round)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class PublicDraw:
    """One draw as the public sampling page shows it: its round and audit entry, and each record's line."""

    round: int
    audit_seq: int
    rate: str
    draws: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PublicSampling:
    """A quarter's sampling as anyone may check it: the commitment (digest, audit entry, records already
    published then), the reveal once drawn (seed, audit entry) and the draws."""

    year: int
    quarter: int
    digest: str
    commit_seq: int
    committed_on: date
    published_at_commit: int
    deadline: date | None
    seed: str | None
    reveal_seq: int | None
    draws: list[PublicDraw]


def public_sampling(year: int, *, with_draws: bool = True) -> list[PublicSampling]:
    """The commitment, reveal and (``with_draws``) draws of each quarter of ``year``, newest first, in three
    statements whatever the number of quarters and draws: the seeds, the draws, the audit entries that hold
    the draws' lines. Before the draw only the digest is shown: the seed is never read here until the draw has
    revealed it."""
    session = db.session()
    seeds = list(
        session.scalars(
            select(PublicationSeed).where(PublicationSeed.year == year).order_by(PublicationSeed.quarter.desc())
        )
    )
    draws: dict[int, list[PublicDraw]] = {}
    if with_draws and seeds:
        drawn = session.execute(
            select(
                PublicationSample.quarter, PublicationSample.round, PublicationSample.audit_seq, PublicationSample.rate
            )
            .where(PublicationSample.year == year)
            .order_by(PublicationSample.quarter, PublicationSample.round)
        ).all()
        details: dict[int, Any] = {}
        if drawn:
            entries = select(AuditEntry.seq, AuditEntry.details).where(AuditEntry.seq.in_([s for _, _, s, _ in drawn]))
            details.update((seq, found) for seq, found in session.execute(entries))
        for quarter, round_, seq, rate in drawn:
            lines = list((details.get(seq) or {}).get("draws", []))
            draws.setdefault(quarter, []).append(PublicDraw(round_, seq, rate, lines))
    return [
        PublicSampling(
            row.year,
            row.quarter,
            row.digest,
            row.commit_seq,
            row.committed_at.astimezone(LOCAL_TZ).date(),
            row.published_at_commit,
            publication_deadline(row.year, row.quarter),
            row.revealed_seed,
            row.reveal_seq,
            draws.get(row.quarter, []),
        )
        for row in seeds
    ]


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicationRow:
    """A publication case as staff lists show it."""

    case_id: int
    folio: str
    format_code: str
    format_title: str
    year: int
    quarter: int
    state: str
    due_on: date
    """The last day to publish (the calendar's due date, moved to the next business day when it is not one)."""
    department_code: str | None


def latest_year() -> int | None:
    """The latest year with publications opened (the year the pages show when none is asked for), ``None``
    before the first; read from the end of the periods' index."""
    return db.session.scalar(select(func.max(ObligationPublication.year)))


def publication_cases(
    year: int | None = None, quarter: int | None = None, language: str = SPANISH
) -> list[PublicationRow]:
    """Publication cases (of a period when given), by period then format, each format's title as a reader of
    ``language`` reads it."""
    stmt = select(Case, ObligationPublication).join(ObligationPublication, ObligationPublication.case_id == Case.id)
    if year is not None:
        stmt = stmt.where(ObligationPublication.year == year)
    if quarter is not None:
        stmt = stmt.where(ObligationPublication.quarter == quarter)
    stmt = stmt.order_by(
        ObligationPublication.year.desc(), ObligationPublication.quarter.desc(), ObligationPublication.format_code
    )
    result = []
    cal = business_calendar(db.session())
    for case, period in db.session.execute(stmt):
        fmt = format_by_code(case.params, period.format_code) or {}
        due_on = period.due_on if cal.is_business_day(period.due_on) else cal.next_business_day(period.due_on)
        result.append(
            PublicationRow(
                case.id,
                case.folio,
                period.format_code,
                item_in_language(fmt, "title", language) or period.format_code,
                period.year,
                period.quarter,
                case.state,
                due_on,
                period.department_code,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class PublicationDetail:
    """A publication case as its staff page shows it: the format, the record and the observations."""

    case: Case
    period: ObligationPublication
    format: Mapping[str, Any]
    editable: bool
    generated: bool
    observations: list[tuple[datetime, str, str]]
    due_on: date
    """The last day to publish: the calendar's due date, moved to the next business day when it is not one."""


def publication_detail(case_id: int) -> PublicationDetail:
    """The case, its period and format, and the comments of its steps (observations, findings), oldest
    first. Raises ``NotFound``."""
    session = db.session()
    case, period = _publication(session, case_id)
    fmt = _format(case)
    rows = session.execute(
        select(AuditEntry.at, AuditEntry.action, AuditEntry.comment)
        .where(AuditEntry.case_id == case_id, AuditEntry.comment.is_not(None))
        .order_by(AuditEntry.seq)
    )
    observations = [(at, action, comment) for at, action, comment in rows if comment]
    return PublicationDetail(
        case,
        period,
        fmt,
        case.state in DRAFTING_STATES,
        fmt.get("source") == LICENCE_SOURCE,
        observations,
        due_business_day(period.due_on),
    )


@dataclass(frozen=True, slots=True)
class PublicRecord:
    """A published record as the public sees it: no names of people, only the format's data and dates."""

    folio: str
    format_code: str
    year: int
    quarter: int
    rows: list[dict[str, str]]
    note: str
    updated_on: date | None
    validated_on: date | None
    published_on: date | None
    case_id: int = 0
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PublicFormat:
    """A format with its published records, newest period first."""

    code: str
    title: str
    """The format's title as a reader of the language asked for reads it: the Spanish one for open data."""
    legal_basis: str
    fields: list[dict[str, Any]]
    """The format's fields as the settings give them: each ``label`` in Spanish, with ``label_en`` when given."""
    records: list[PublicRecord]


_UPDATE = ("submit", "correct")
_VALIDATION = ("validate", "accept_correction")
_PUBLICATION = ("publish", "accept_correction")


def _dates(entries: list[tuple[int, str, datetime]]) -> tuple[date | None, date | None, date | None]:
    """(updated, validated, published) days of a record from its transitions: the latest publication, and
    the latest update and validation that it published."""
    published = [(seq, at) for seq, action, at in entries if action in _PUBLICATION]
    if not published:
        return None, None, None
    last_seq, last_at = max(published)
    updated = [at for seq, action, at in entries if action in _UPDATE and seq <= last_seq]
    validated = [at for seq, action, at in entries if action in _VALIDATION and seq <= last_seq]

    def day(moment: datetime | None) -> date | None:
        return moment.astimezone(LOCAL_TZ).date() if moment is not None else None

    return day(max(updated, default=None)), day(max(validated, default=None)), day(last_at)


def public_formats(
    format_code: str | None = None, year: int | None = None, quarter: int | None = None, language: str = SPANISH
) -> list[PublicFormat]:
    """The published records grouped by format (the current settings' formats, in their order), newest
    period first; optionally one format and one period. Only what was published is shown (a correction
    under review is not public until the guarantor accepts it). Each format's title is given as a reader of
    ``language`` reads it (Spanish by default, as open data carries it)."""
    session = db.session()
    params = effective_params(session, get_engine().latest(WORKFLOW))
    stmt = (
        select(Case, ObligationPublication)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(Case.workflow == constant(WORKFLOW), _published())
        .order_by(ObligationPublication.year.desc(), ObligationPublication.quarter.desc(), Case.folio)
    )
    if format_code is not None:
        stmt = stmt.where(ObligationPublication.format_code == format_code)
    if year is not None:
        stmt = stmt.where(ObligationPublication.year == year)
    if quarter is not None:
        stmt = stmt.where(ObligationPublication.quarter == quarter)
    found = [(case, period) for case, period in session.execute(stmt)]
    history: dict[int, list[tuple[int, str, datetime]]] = {}
    if found:
        for case_id, seq, action, at in session.execute(
            select(AuditEntry.case_id, AuditEntry.seq, AuditEntry.action, AuditEntry.at).where(
                AuditEntry.case_id.in_([c.id for c, _ in found]),
                AuditEntry.action.in_(_UPDATE + _VALIDATION + _PUBLICATION),
            )
        ):
            history.setdefault(case_id or 0, []).append((seq, action, at))
    by_format: dict[str, list[PublicRecord]] = {}
    for case, period in found:
        published = case.data.get("published_record") or {}
        updated_on, validated_on, published_on = _dates(history.get(case.id, []))
        by_format.setdefault(period.format_code, []).append(
            PublicRecord(
                case.folio,
                period.format_code,
                period.year,
                period.quarter,
                [dict(r) for r in published.get("rows") or []],
                str(published.get("note") or ""),
                updated_on,
                validated_on,
                published_on,
                case.id,
                [
                    {"name": str(a.get("name") or ""), "sha256": str(a.get("sha256") or "")}
                    for a in published.get("attachments") or []
                ],
            )
        )
    result = []
    for fmt in params["formats"]:
        if format_code is not None and fmt["code"] != format_code:
            continue
        result.append(
            PublicFormat(
                fmt["code"],
                item_in_language(fmt, "title", language),
                fmt["legal_basis"],
                list(fmt["fields"]),
                by_format.get(fmt["code"], []),
            )
        )
    return result


def public_format(code: str, year: int | None = None, quarter: int | None = None) -> PublicFormat:
    """One format with its published records: every period's, or those of ``year`` (and ``quarter``) when given;
    its title in Spanish, as open data carries it. Raises ``NotFound`` for a format not configured."""
    found = public_formats(code, year, quarter)
    if not found:
        raise NotFound(Msg("El formato «%(code)s» no existe.", {"code": code}))
    return found[0]


def may_act_on(user: User, detail: PublicationDetail) -> bool:
    """Whether staff page access fits ``user``: the unit, the guarantor, auditors, or the area of the
    format's department (an area role held without department sees every area's publications)."""
    if user.has_role(Role.TRANSPARENCY_UNIT) or user.has_role(Role.GUARANTOR) or user.has_role(Role.AUDITOR):
        return True
    if not user.has_role(Role.AREA):
        return False
    departments = user.departments(Role.AREA)
    unscoped = any(g.role == Role.AREA and not g.department_code for g in user.roles)
    return unscoped or detail.period.department_code in departments


def term_of_findings(case_id: int) -> date | None:
    """The last day to correct the guarantor's findings, while the case waits for the correction."""
    stmt = select(Timer.due_on).where(
        Timer.case_id == case_id,
        Timer.kind == TimerKind.DEADLINE,
        Timer.state == "findings",
        is_constant(Timer.status, TimerStatus.PENDING),
    )
    return db.session.scalars(stmt).first()


def due_business_day(due_on: date) -> date:
    """The last day of a calendar due date under the business-day calendar (moved past non-working days)."""
    cal = business_calendar(db.session())
    return due_on if cal.is_business_day(due_on) else cal.next_business_day(due_on)


OPEN_DATA_COLUMNS = (
    "formato",
    "fundamento_legal",
    "ejercicio",
    "trimestre",
    "folio_registro",
    "fecha_actualizacion",
    "fecha_validacion",
    "fecha_publicacion",
    "nota",
)
"""The fixed leading columns of a format's open data; the format's own fields follow, in its order. The
record's folio is ``folio_registro`` so that it never collides with a field called ``folio`` (the permits
format lists each licence's own folio)."""


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def open_data_columns(fmt: PublicFormat) -> list[str]:
    """The CSV header of ``fmt``: the fixed columns, then the format's field names."""
    return [*OPEN_DATA_COLUMNS, *(str(f["name"]) for f in fmt.fields)]


def _decimal(value: Any, kind: str) -> Decimal | None:
    """A ``number`` or ``integer`` field's value as a decimal number, or ``None`` (another type, or text
    that does not read as a finite number)."""
    if kind not in ("number", "integer") or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def typed_value(value: Any, kind: str) -> Any:
    """A row's value as JSON open data: a number for ``number`` and ``integer`` fields (an ``int`` when it
    has no fractional part, else a ``float``), the text otherwise, or when it does not read as a number."""
    number = _decimal(value, kind)
    if number is None:
        return value
    return int(number) if number == number.to_integral_value() else float(number)


def _csv_value(value: Any, kind: str) -> Any:
    """A row's value as a CSV cell: numeric fields as written (a number, never neutralised), else text."""
    number = _decimal(value, kind)
    return value if number is None else number


def open_data_csv(fmt: PublicFormat, *, bom: bool = False) -> str:
    """The published records of ``fmt`` as CSV (UTF-8, optionally with a byte order mark, comma-separated,
    CRLF, one line per row; a record without rows is one line with its note), in a stable column order,
    written by the shared writer that neutralises formula cells; numeric fields are written as numbers."""
    kinds = [(str(f["name"]), str(f.get("type", "text"))) for f in fmt.fields]

    def table() -> Iterator[list[Any]]:
        yield open_data_columns(fmt)
        for record in fmt.records:
            lead = [
                fmt.code,
                fmt.legal_basis,
                record.year,
                record.quarter,
                record.folio,
                _iso(record.updated_on),
                _iso(record.validated_on),
                _iso(record.published_on),
                record.note,
            ]
            for row in record.rows or [{}]:
                yield [*lead, *(_csv_value(row.get(name, ""), kind) for name, kind in kinds)]

    return csv_text(table(), bom=bom)


def open_data_json(fmt: PublicFormat, year: int | None = None, quarter: int | None = None) -> dict[str, Any]:
    """The published records of ``fmt`` as a JSON-ready document: the format, the period the records were
    chosen by (``null`` for every year or quarter), its fields, and each record with its period, dates, note
    and rows (numeric fields as JSON numbers)."""
    kinds = [(str(f["name"]), str(f.get("type", "text"))) for f in fmt.fields]
    return {
        "formato": {"codigo": fmt.code, "titulo": fmt.title, "fundamento_legal": fmt.legal_basis},
        "periodo": {"ejercicio": year, "trimestre": quarter},
        "campos": [{"nombre": f["name"], "etiqueta": f["label"], "tipo": f["type"]} for f in fmt.fields],
        "registros": [
            {
                "folio": record.folio,
                "ejercicio": record.year,
                "trimestre": record.quarter,
                "fecha_actualizacion": _iso(record.updated_on),
                "fecha_validacion": _iso(record.validated_on),
                "fecha_publicacion": _iso(record.published_on),
                "nota": record.note,
                "renglones": [
                    {name: typed_value(row.get(name, ""), kind) for name, kind in kinds} for row in record.rows
                ],
                "anexos": [{"nombre": a["name"], "sha256": a["sha256"]} for a in record.attachments],
            }
            for record in fmt.records
        ],
    }


def state_description(state: str) -> str:
    """The description (a msgid) of a publication state."""
    return PUBLICATION_V1.state(state).description


STATE_DESCRIPTIONS = {state.name: state.description for state in PUBLICATION_V1.states}
"""Publication states and their descriptions (msgids)."""

ACTION_DESCRIPTIONS = {t.trigger: t.description for t in PUBLICATION_V1.transitions}
"""Publication steps and their descriptions (msgids)."""


DEMO_CONTRACTS = (
    {
        "numero_contrato": "OP-2026-014",
        "objeto": "Repavimentación de la calle Juárez",
        "fecha_firma": "2026-02-11",
        "monto": "2450000.00",
        "contratista": "Pavimentos del Bajío, S.A. de C.V.",
    },
    {
        "numero_contrato": "OP-2026-021",
        "objeto": "Rehabilitación del mercado municipal",
        "fecha_firma": "2026-03-04",
        "monto": "1380500.00",
        "contratista": "Constructora Laja, S.A. de C.V.",
    },
)


def load_demo(ids: Mapping[str, int]) -> None:
    """The publications of the demo, by the demo logins' ids (see ``Demo.loader``)."""
    load_demo_publications(ids["area"], ids["transparencia"])


def load_demo_publications(area_id: int, unit_id: int) -> None:
    """Demo data: the first quarter of 2026 opened, its contracts record returned once with observations,
    corrected, validated and published (the other formats stay in drafting, past their due date)."""
    open_quarter(2026, 1)
    case = db.session.scalars(
        select(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(
            ObligationPublication.format_code == "contratos",
            ObligationPublication.year == 2026,
            ObligationPublication.quarter == 1,
        )
    ).one()
    if case.state != "drafting":
        return
    result = save_record(case.id, area_id, rows=[DEMO_CONTRACTS[0]], note="", expected_version=case.version)
    result = submit_record(case.id, area_id, expected_version=result.version)
    result = decide(
        case.id,
        "return_record",
        unit_id,
        expected_version=result.version,
        idempotency_key=secrets.token_hex(16),
        comment="Faltan los contratos firmados en marzo.",
    )
    result = save_record(case.id, area_id, rows=list(DEMO_CONTRACTS), note="", expected_version=result.version)
    result = submit_record(case.id, area_id, expected_version=result.version)
    for trigger in ("validate", "publish"):
        result = decide(
            case.id,
            trigger,
            unit_id,
            expected_version=result.version,
            idempotency_key=secrets.token_hex(16),
            comment=None,
        )


def publication_triggers(case_id: int, user_id: int) -> list[AvailableTrigger]:
    """The steps ``user_id`` may take on a publication now, judged with what the system computes for them
    (what would be published), as the case page does. Raises ``NotFound``."""
    session = db.session()
    case, _period = _publication(session, case_id)
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(Msg("El usuario no existe o está inactivo."))
    engine = get_engine()
    workflow = engine.definition(case.workflow, case.workflow_version)
    params = case.params or workflow.params
    view = case_view(session, case)
    computed = {name: compute(case.data, params) for name, compute in workflow.computed_fields.items()}
    view = dataclasses.replace(view, data={**view.data, **computed})
    return engine.available(view, actor_for(user), today=local_today(), params=params)


ATTACHMENT_KIND = "anexo"
MAX_ATTACHMENTS = 20


def attach_file(case_id: int, original_name: str, content: bytes, actor_id: int, *, expected_version: int) -> int:
    """Attach a PDF to the area's record (as saving the draft does: same people, same states) and return the
    document's id. The file is checked and stored by its SHA-256; the record lists it (name, hash, size), so
    that it is published with the record. Raises ``InvalidData`` (not a plain PDF, too large, too many), and
    what ``cases.fire`` raises (role, department, state, stale version)."""
    check_pdf(content, int(current_app.config["MAX_DOCUMENT_BYTES"]))
    name = clean_file_name(original_name)
    with unit_of_work() as session:
        case, _period = _publication(session, case_id)
        refuse_stale(case, expected_version)  # the attachments listed are kept from this read
        current = list(case.data.get("attachments") or [])
        if len(current) >= MAX_ATTACHMENTS:
            raise InvalidData(Msg("Un registro admite a lo sumo %(n)s anexos.", {"n": str(MAX_ATTACHMENTS)}))
        key, digest = store_file(session, content)
        if any(item.get("sha256") == digest for item in current):
            raise InvalidData(Msg("Ese archivo ya está anexado al registro."))
        document = Document(
            case_id=case.id,
            kind=ATTACHMENT_KIND,
            original_name=name,
            size_bytes=len(content),
            media_type="application/pdf",
            sha256=digest,
            storage_key=key,
            uploaded_by_id=actor_id,
        )
        session.add(document)
        session.flush()
        listed = {"document_id": document.id, "name": name, "sha256": digest, "size": len(content)}
        data = {
            "rows": list(case.data.get("rows") or []),
            "note": str(case.data.get("note") or ""),
            "attachments": [*current, listed],
        }
        fire(case_id, "save_draft", actor_id, expected_version=expected_version, data=data)
        log_attached(session, case, document, actor_id, Role.AREA)
        return document.id


def _attachment_bytes(listed: list[Any], sha256: str) -> tuple[str, bytes]:
    for item in listed:
        if isinstance(item, Mapping) and item.get("sha256") == sha256:
            document = db.session.get(Document, int(item["document_id"]))
            if document is None:
                break
            content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(document.storage_key)
            return str(item.get("name") or "anexo.pdf"), content
    raise NotFound(Msg("El anexo no existe."))


def record_attachment(case_id: int, sha256: str) -> tuple[str, bytes]:
    """An attachment of the record as it stands (for the staff who validate it). Raises ``NotFound``."""
    case, _period = _publication(db.session(), case_id)
    return _attachment_bytes(list(case.data.get("attachments") or []), sha256)


def published_attachment(case_id: int, sha256: str) -> tuple[str, bytes]:
    """An attachment of a published record, as published (for anyone). Raises ``NotFound`` for anything
    that is not public."""
    case, _period = _publication(db.session(), case_id)
    if case.state not in PUBLISHED_STATES:
        raise NotFound(Msg("El anexo no existe."))
    published = case.data.get("published_record") or {}
    return _attachment_bytes(list(published.get("attachments") or []), sha256)
