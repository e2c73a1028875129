"""Certificates as use cases: issued and revoked inside transitions, downloaded, verified by anyone.

Issuing happens inside the issuing transition's unit of work (``cases.fire`` calls
:func:`transition_effects` after the state change and before the audit append): the document is
rendered once, sealed, PAdES-signed and stored by content hash, and the transition's audit entry records
its SHA-256, number and a digest of its verification code. If any of it fails the whole transition rolls
back. Downloads serve the stored bytes; nothing is ever re-rendered.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import workflows
from app.audit import merkle
from app.calendar import local_today
from app.certificates import (
    IssueRequest,
    Office,
    issue,
    new_verification_code,
    normalise_code,
    verify_sello,
)
from app.database import FixedStatement
from app.engine import DomainError, InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.keys import CERT_NAME, SigningMaterial, key_dir, load_signing_material
from app.models import (
    AuditEntry,
    Case,
    Certificate,
    CertificateStatus,
    Department,
    FolioCounter,
    Role,
    User,
)
from app.services import document_context
from app.services.deadlines import calendar
from app.services.files import store_file
from app.services.oversight import inclusion_proof
from app.services.visibility import readable_case
from app.storage import get_storage
from workflows.base import Transition
from workflows.procedure import Document

NUMBER_PREFIX = "CERT"

POSITIONS = {
    "reviewer": "Dictaminador(a)",
    "inspector": "Inspector(a)",
    "intake_clerk": "Ventanilla única",
    "transparency_unit": "Unidad de Transparencia",
    "area": "Área responsable",
    "committee_member": "Integrante del Comité de Transparencia",
    "guarantor": "Órgano garante",
    "admin": "Administración",
    "system": "Sistema de trámites (resolución automática)",
}
"""How the issuing official's role is printed (documents are always in Spanish)."""

# -- key material -------------------------------------------------------------------------------

_material_cache: dict[tuple[Any, ...], SigningMaterial] = {}


def _material_files(config: Mapping[str, Any]) -> tuple[Any, ...]:
    names = ("CERT_P12_FILE", "CERT_KEY_FILE", "CERT_FILE", "CERT_CHAIN_FILE")
    folder = key_dir(config)
    paths = [str(config.get(n) or "") for n in names] + [str(folder)]
    stamps = []
    for candidate in [*paths[:4], str(folder / CERT_NAME)]:
        try:
            stamps.append(os.stat(candidate).st_mtime_ns if candidate else None)
        except OSError:
            stamps.append(None)
    return (*paths, *stamps)


def signing_material(config: Mapping[str, Any]) -> SigningMaterial:
    """The certificate-signing key and chain, loaded once per process (again when the files change).

    With ``CERT_DEV_KEYS_ON_DEMAND`` (development and tests) and no configured key files, missing
    development keys are created and logged as ``keys init`` would. Raises ``KeyMaterialError``.
    """
    cache_key = _material_files(config)
    material = _material_cache.get(cache_key)
    if material is not None:
        return material
    configured = any(config.get(n) for n in ("CERT_P12_FILE", "CERT_KEY_FILE", "CERT_FILE"))
    if (
        config.get("CERT_DEV_KEYS_ON_DEMAND")
        and config.get("ENV_NAME") != "production"
        and not configured
        and not (key_dir(config) / CERT_NAME).exists()
    ):
        from app.services.keys import init_keys

        init_keys(key_dir(config), str(config["INSTITUTION_NAME"]))
        cache_key = _material_files(config)
    material = load_signing_material(config)  # parsing an RSA key runs its (slow) consistency checks: once
    if len(_material_cache) >= 4:
        _material_cache.pop(next(iter(_material_cache)))
    _material_cache[cache_key] = material
    return material


def office(config: Mapping[str, Any]) -> Office:
    """What the institution prints on every document, from the configuration."""
    return Office(
        institution=str(config["INSTITUTION_NAME"]),
        complaints=str(config["COMPLAINT_CHANNELS"]),
        public_base_url=str(config["PUBLIC_BASE_URL"]),
        logo=str(config.get("INSTITUTION_LOGO") or ""),
    )


# -- issuing and revoking inside a transition ------------------------------------------------------


def _revoked_with_case(kind: str) -> bool:
    """Whether revoking a case's documents revokes those of ``kind`` (a kind no longer declared: yes)."""
    try:
        return workflows.document(kind).revoked_with_case
    except KeyError:
        return True


@dataclass
class CertificateEffects:
    """What a transition did to certificates: ``details`` go into its audit entry; :meth:`record` then
    stores that entry's sequence number on the certificates issued or revoked."""

    details: dict[str, Any] = field(default_factory=dict)
    issued: list[Certificate] = field(default_factory=list)
    """New certificates, added to the session by :meth:`record` (their row needs the entry's seq)."""
    revoked: list[Certificate] = field(default_factory=list)

    def audit_details(self, other: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """``other`` (the transition's own details) with the certificate details added."""
        if not self.details:
            return dict(other) if other else None
        return {**(other or {}), **self.details}

    def record(self, session: Session, seq: int) -> None:
        """Store the issued certificates and link them, and the revoked ones, to the audit entry ``seq``.

        An issued certificate supersedes the case's earlier valid one of the same kind and the same act (a
        kind whose spec names no ``act_field`` has one act per case): separate acts never supersede each other.
        """
        for certificate in self.revoked:
            certificate.revoked_seq = seq
        for certificate in self.issued:
            previous = [
                old
                for old in session.scalars(
                    select(Certificate).where(
                        Certificate.case_id == certificate.case_id,
                        Certificate.kind == certificate.kind,
                        Certificate.status == CertificateStatus.VALID,
                    )
                )
                if _same_act(old, certificate)
            ]
            certificate.audit_seq = seq
            session.add(certificate)
            session.flush()
            for old in previous:
                old.status = CertificateStatus.SUPERSEDED
                old.superseded_by_id = certificate.id
        if self.issued or self.revoked:
            session.flush()


def _same_act(old: Certificate, new: Certificate) -> bool:
    try:
        declared = workflows.document(new.kind)
    except KeyError:
        return True
    if declared.act_field is None:
        return True
    return _certified(old).get(declared.act_field) == _certified(new).get(declared.act_field)


def _certified(certificate: Certificate) -> dict[str, Any]:
    fields = (certificate.public_data or {}).get("fields")
    return dict(fields) if isinstance(fields, dict) else {}


def _next_number(session: Session, prefix: str, year: int) -> str:
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
    return f"{prefix}-{year}-{session.execute(stmt).scalar_one():06d}"


def _unique_code(session: Session) -> str:
    for _ in range(8):
        code = new_verification_code()
        if session.scalars(select(Certificate.id).where(Certificate.verification_code == code)).first() is None:
            return code
    raise RuntimeError("could not draw an unused verification code")  # 2^50 codes: never in practice


def _official(session: Session, actor: User | None, role: str) -> tuple[str, str, str]:
    """(name, printed position, issuing unit) of whoever fired the transition."""
    if actor is None:
        return POSITIONS["system"], POSITIONS["system"], ""
    position = POSITIONS.get(role, role)
    unit = ""
    try:
        departments = sorted(actor.departments(Role(role)))
    except ValueError:
        departments = []
    if departments:
        unit = session.scalars(select(Department.name).where(Department.code == departments[0])).first() or ""
    return actor.display_name, f"{position} — {unit}" if unit else position, unit


def _previous(session: Session, case_id: int) -> dict[str, dict[str, Any]]:
    """The case's latest certificate of each kind, as plain data: its certified fields and its issue date."""
    latest: dict[str, dict[str, Any]] = {}
    rows = session.scalars(select(Certificate).where(Certificate.case_id == case_id).order_by(Certificate.id.desc()))
    for certificate in rows:
        latest.setdefault(
            certificate.kind,
            {
                "fields": dict(certificate.public_data.get("fields") or {}),
                "issued_on": local_today(certificate.issued_at).isoformat(),
                "number": certificate.number,
            },
        )
    return latest


def declared_document(case: Case, kind: str) -> Document:
    """The declaration of the document ``kind`` by the case's procedure; raises ``NotFound`` when the
    procedure (as installed) does not issue it."""
    try:
        document = workflows.procedure(case.workflow).find_document(kind)
    except KeyError:
        document = None
    if document is None:
        raise NotFound(Msg("Este trámite aún no emite documentos de este tipo."))
    return document


def document_title(kind: str) -> str:
    """The declared title of the document ``kind`` (an ``N_`` msgid, translated on display), or the kind
    itself when no installed procedure declares it any more (certificates outlive uninstalled procedures)."""
    try:
        return workflows.document(kind).title
    except KeyError:
        return kind


def _validity_days(case: Case, document: Document) -> int | None:
    """The days ``document`` is valid under the case's settings (its workflow's default for cases opened
    before the parameter existed); ``None`` when the document does not expire."""
    if document.validity is None:
        return None
    value = (case.params or {}).get(document.validity)
    if value is None:
        try:
            value = get_engine().definition(case.workflow, case.workflow_version).params.get(document.validity)
        except KeyError:
            value = None
    days = int(value) if value not in (None, "") else 0
    return days if days > 0 else None


def issue_for_case(
    session: Session, case: Case, kind: str, actor: User | None, role: str, now: datetime
) -> Certificate:
    """Render, seal, sign and store the PDF of a ``kind`` certificate for ``case``; return its row, not yet
    added to the session: it needs the issuing audit entry's seq (see :meth:`CertificateEffects.record`).

    Everything about the kind comes from the procedure that declares it: its builder fills the fields from
    plain data (the case's, and what the procedure's own service gathers), its validity parameter says how
    long it lasts. Raises ``NotFound`` for a kind the case's procedure does not issue or a case without an
    applicant, ``KeyMaterialError``, ``RenderError``, ``SealError`` and ``SignatureError``.
    """
    config = current_app.config
    document = declared_document(case, kind)
    applicant = session.get(User, case.applicant_id)
    if applicant is None:
        raise NotFound(Msg("El usuario no existe o está inactivo."))
    issued_on = local_today(now)
    validity = _validity_days(case, document)
    valid_until = issued_on + timedelta(days=validity) if validity else None
    if validity and document.validity_business:  # lasts as long as a term of that many business days
        valid_until = calendar(session).add_business_days(issued_on, validity)
    data = dict(case.data or {})
    series_number = ""
    if document.series is not None and not str(data.get(document.number_field or "") or "").strip():
        series_number = _next_number(session, document.series, issued_on.year)
    params = dict(case.params or {})
    context = {
        "data": data,
        "params": params,
        "folio": case.folio,
        "applicant": applicant.display_name,
        "issued_on": issued_on.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else "",
        "previous": _previous(session, case.id),
        "series_number": series_number,
        "gathered": document_context.gather(session, case, document),
    }
    fields, extra = document.build(context)
    overrides = dict(config.get("CERTIFICATE_LEGAL_BASIS") or {})  # the installation's text wins over both
    name, position, unit = _official(session, actor, role)
    number = _next_number(session, NUMBER_PREFIX, issued_on.year)
    code = _unique_code(session)
    issued = issue(
        IssueRequest(
            kind=document.kind,
            number=number,
            folio=case.folio,
            verification_code=code,
            issued_at=now,
            official_name=name,
            official_position=position,
            issuing_unit=unit,
            legal_basis=str(overrides.get(kind) or document.legal_basis_for(params)),
            fields=dict(fields),
            extra=dict(extra),
            valid_until=valid_until,
        ),
        office(config),
        signing_material(config),
    )
    key, digest = store_file(session, issued.pdf, get_storage(Path(config["DOCUMENTS_DIR"])))
    return Certificate(
        case_id=case.id,
        kind=document.kind,
        number=number,
        folio=case.folio,
        verification_code=code,
        sha256=digest,
        storage_key=key,
        size_bytes=len(issued.pdf),
        issued_at=now,
        issued_by_id=actor.id if actor is not None else None,
        status=CertificateStatus.VALID,
        valid_until=valid_until,
        cadena_original=issued.cadena,
        sello=issued.sello,
        signing_certificate=issued.signing_certificate_pem,
        public_data={"fields": dict(fields), "rows": issued.public_rows},
    )


def transition_effects(
    session: Session,
    case: Case,
    transition: Transition,
    actor_id: int | None,
    role: str,
    now: datetime,
    comment: str | None,
) -> CertificateEffects:
    """Issue or revoke the case's certificates as ``transition`` says (nothing for most transitions).

    Called by ``fire`` inside its unit of work, after the state change and before the audit append;
    any failure rolls the transition back.
    """
    effects = CertificateEffects()
    if transition.issues:
        actor = session.get(User, actor_id) if actor_id is not None else None
        certificate = issue_for_case(session, case, transition.issues, actor, role, now)
        effects.issued.append(certificate)
        effects.details["certificate"] = {
            "kind": certificate.kind,
            "number": certificate.number,
            "sha256": certificate.sha256,
            "size": certificate.size_bytes,
            "verification_code_sha256": hashlib.sha256(certificate.verification_code.encode()).hexdigest(),
        }
    elif transition.revokes:
        valid = [
            certificate
            for certificate in session.scalars(
                select(Certificate)
                .where(Certificate.case_id == case.id, Certificate.status == CertificateStatus.VALID)
                .order_by(Certificate.id)
            )
            if _revoked_with_case(certificate.kind)
        ]
        for certificate in valid:
            certificate.status = CertificateStatus.REVOKED
            certificate.revoked_at = now
            certificate.revocation_reason = (comment or "").strip()
            effects.revoked.append(certificate)
        if valid:
            session.flush()
            effects.details["revoked_certificates"] = [c.number for c in valid]
    return effects


# -- downloads ------------------------------------------------------------------------------------


def _readable_case(session: Session, case_id: int, user_id: int) -> Case:
    try:
        case, _ = readable_case(case_id, user_id, session)
    except NotAllowed:
        raise NotAllowed(Msg("No tiene acceso a los documentos de este expediente.")) from None
    return case


def case_certificates(case_id: int, user_id: int) -> tuple[Case, list[Certificate]]:
    """The case and its certificates, newest first. Raises ``NotFound`` and ``NotAllowed``."""
    session = db.session()
    case = _readable_case(session, case_id, user_id)
    rows = session.scalars(select(Certificate).where(Certificate.case_id == case.id).order_by(Certificate.id.desc()))
    return case, list(rows)


@dataclass(frozen=True, slots=True)
class CertificateItem:
    """A certificate as a case page lists it (its cadena, sello and certified data stay in the database)."""

    id: int
    kind: str
    number: str
    issued_at: datetime
    status: CertificateStatus


_LISTED = FixedStatement(
    select(Certificate.id, Certificate.kind, Certificate.number, Certificate.issued_at, Certificate.status)
    .where(Certificate.case_id == bindparam("case_id"))
    .order_by(Certificate.id.desc())
)


def listed_certificates(case_id: int) -> list[CertificateItem]:
    """The certificates of a case, newest first, as a case page lists them: for a reader whose access to the
    case was already checked (the case page's own check; :func:`case_certificates` checks it)."""
    return [CertificateItem(*row) for row in _LISTED.read(db.session(), {"case_id": case_id})]


def case_certificates_with_status(
    case_id: int, user_id: int
) -> tuple[Case, list[tuple[Certificate, CertificateStatus]]]:
    """Like :func:`case_certificates`, each certificate with its status today (``expired`` included)."""
    case, certificates = case_certificates(case_id, user_id)
    today = local_today()
    return case, [(c, effective_status(c, today)) for c in certificates]


@dataclass(frozen=True, slots=True)
class CertificateFile:
    """An issued PDF as stored, with what a download needs to name it."""

    number: str
    sha256: str
    content: bytes


def certificate_file(case_id: int, certificate_id: int, user_id: int) -> CertificateFile:
    """The issued PDF exactly as stored (its hash checked). Raises ``NotFound`` and ``NotAllowed``.

    Reads only the columns a download needs (the row's cadena, sello and certified data are not loaded).
    """
    session = db.session()
    row = session.execute(
        select(Certificate.number, Certificate.sha256, Certificate.storage_key).where(
            Certificate.id == certificate_id, Certificate.case_id == case_id
        )
    ).first()
    if row is None or session.get(User, user_id) is None:
        raise NotFound(Msg("El documento no existe."))
    _readable_case(session, case_id, user_id)
    content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(row.storage_key)
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise RuntimeError(f"stored PDF of certificate {row.number} does not match its recorded hash")
    return CertificateFile(row.number, row.sha256, content)


# -- public verification ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditReference:
    """The audit entry that issued (or revoked) a certificate, as shown to the public."""

    seq: int
    at: datetime
    description: str
    """What the entry records, as its workflow declares the transition (a msgid), not the trigger's code."""
    entry_hash: str
    prev_hash: str
    recorded_sha256: str | None


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That the issuing entry is in the log whose head the institution signed (RFC 9162 inclusion proof).

    ``document`` is the proof in the form the standalone verifier (``verifier/verify_bundle.py``) reads;
    ``verified`` says whether the audit path leads from the entry's leaf hash to the checkpoint's root.
    """

    tree_size: int
    leaf_index: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str
    checkpoint_at: str
    key_fingerprint: str
    verified: bool
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Verification:
    """What the public verification page shows: no personal data beyond what the document itself prints."""

    folio: str
    kind: str
    number: str
    status: CertificateStatus
    issued_at: datetime
    valid_until: date | None
    revoked_at: datetime | None
    revocation_reason: str | None
    superseded_by: str | None
    rows: list[dict[str, str]]
    cadena: str
    sello: str
    sello_valid: bool
    certificate_serial: str
    signer: str
    sha256: str
    size_bytes: int
    issued_entry: AuditReference | None
    revoked_entry: AuditReference | None
    inclusion: InclusionProof | None = None
    """``None`` until a signed checkpoint covers the issuing entry (checkpoints are signed periodically)."""


def effective_status(certificate: Certificate, today: date) -> CertificateStatus:
    """The stored status, or ``expired`` for a valid certificate whose validity has ended."""
    if (
        certificate.status is CertificateStatus.VALID
        and certificate.valid_until is not None
        and certificate.valid_until < today
    ):
        return CertificateStatus.EXPIRED
    return certificate.status


def _find(session: Session, folio: str, code: str) -> Certificate | None:
    canonical = normalise_code(code)
    if not canonical or len(canonical) > 16:
        return None
    certificate = session.scalars(select(Certificate).where(Certificate.verification_code == canonical)).first()
    # Same answer for an unknown folio and for a wrong code, so the page never tells which folios exist.
    if certificate is None or not hmac.compare_digest(certificate.folio.encode(), folio.strip().upper().encode()):
        return None
    return certificate


def _action_description(entry: AuditEntry) -> str:
    """The description (a msgid) the entry's workflow version declares for the transition it records, as the
    case page's history names it; the action's code only for an entry no loaded workflow describes."""
    if entry.workflow is None or entry.workflow_version is None:
        return entry.action
    try:
        workflow = get_engine().definition(entry.workflow, entry.workflow_version)
    except KeyError:
        return entry.action
    matches = workflow.find(entry.action, entry.from_state or "")
    if matches:
        return matches[0].description
    return next((t.description for t in workflow.transitions if t.trigger == entry.action), entry.action)


def _reference(session: Session, seq: int | None) -> AuditReference | None:
    if seq is None:
        return None
    entry = session.get(AuditEntry, seq)
    if entry is None:
        return None
    recorded = (entry.details or {}).get("certificate") or {}
    return AuditReference(
        seq=entry.seq,
        at=entry.at,
        description=_action_description(entry),
        entry_hash=entry.entry_hash,
        prev_hash=entry.prev_hash,
        recorded_sha256=recorded.get("sha256") if isinstance(recorded, Mapping) else None,
    )


def _inclusion(seq: int | None) -> InclusionProof | None:
    if seq is None:
        return None
    try:
        document = inclusion_proof(seq)
        checkpoint = document["checkpoint"]
        path = [str(node) for node in document["audit_path"]]
        verified = merkle.verify_inclusion(
            int(document["leaf_index"]),
            int(document["tree_size"]),
            bytes.fromhex(str(document["leaf_hash"])),
            [bytes.fromhex(node) for node in path],
            bytes.fromhex(str(checkpoint["root_hash"])),
        )
    except (DomainError, KeyError, TypeError, ValueError):
        return None  # no signed checkpoint covers the entry yet, or the proof cannot be built
    return InclusionProof(
        tree_size=int(document["tree_size"]),
        leaf_index=int(document["leaf_index"]),
        leaf_hash=str(document["leaf_hash"]),
        audit_path=path,
        root_hash=str(checkpoint["root_hash"]),
        checkpoint_at=str(checkpoint["timestamp"]),
        key_fingerprint=str(checkpoint["key_fingerprint"]),
        verified=verified,
        document=document,
    )


def inclusion_proof_document(folio: str, code: str) -> dict[str, Any] | None:
    """The inclusion proof of the entry that issued this certificate, for the standalone verifier; ``None``
    when there is no such certificate or no signed checkpoint covers the entry yet."""
    certificate = _find(db.session(), folio, code)
    proof = _inclusion(certificate.audit_seq) if certificate is not None else None
    return proof.document if proof is not None else None


def verify_certificate(folio: str, code: str, today: date | None = None) -> Verification | None:
    """The public view of the certificate with this folio and verification code, or ``None`` when there is
    none (unknown folio and wrong code alike). The sello is re-checked against the stored certificate."""
    session = db.session()
    certificate = _find(session, folio, code)
    if certificate is None:
        return None
    signer_cert = x509.load_pem_x509_certificate(certificate.signing_certificate.encode())
    successor = session.get(Certificate, certificate.superseded_by_id) if certificate.superseded_by_id else None
    return Verification(
        folio=certificate.folio,
        kind=certificate.kind,
        number=certificate.number,
        status=effective_status(certificate, today or local_today()),
        issued_at=certificate.issued_at,
        valid_until=certificate.valid_until,
        revoked_at=certificate.revoked_at,
        revocation_reason=certificate.revocation_reason,
        superseded_by=successor.number if successor is not None else None,
        rows=list(certificate.public_data.get("rows") or []),
        cadena=certificate.cadena_original,
        sello=certificate.sello,
        sello_valid=verify_sello(signer_cert, certificate.cadena_original, certificate.sello),
        certificate_serial=format(signer_cert.serial_number, "X"),
        signer=signer_cert.subject.rfc4514_string(),
        sha256=certificate.sha256,
        size_bytes=certificate.size_bytes,
        issued_entry=_reference(session, certificate.audit_seq),
        revoked_entry=_reference(session, certificate.revoked_seq),
        inclusion=_inclusion(certificate.audit_seq),
    )


@dataclass(frozen=True, slots=True)
class UploadComparison:
    """Whether an uploaded file is byte for byte the issued PDF."""

    identical: bool
    uploaded_sha256: str
    issued_sha256: str


def compare_upload(folio: str, code: str, content: bytes) -> UploadComparison | None:
    """Compare an uploaded file with the issued PDF (``None`` when no certificate matches folio and code).

    Raises ``InvalidData`` for an empty file, one over ``VERIFICATION_MAX_UPLOAD_BYTES`` and one that is not
    a PDF.
    """
    limit = int(current_app.config["VERIFICATION_MAX_UPLOAD_BYTES"])
    if not content:
        raise InvalidData(Msg("El archivo está vacío."))
    if len(content) > limit:
        megabytes = f"{limit / (1024 * 1024):.2f}".rstrip("0").rstrip(".")
        raise InvalidData(Msg("El archivo excede el tamaño máximo de %(mb)s MB.", {"mb": megabytes}))
    if not content.startswith(b"%PDF-"):
        raise InvalidData(Msg("El archivo no es un PDF válido."))
    certificate = _find(db.session(), folio, code)
    if certificate is None:
        return None
    uploaded = hashlib.sha256(content).hexdigest()
    return UploadComparison(hmac.compare_digest(uploaded, certificate.sha256), uploaded, certificate.sha256)
