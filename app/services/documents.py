"""Attaching documents to cases: checked, stored by content hash, logged, previous version kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.engine import ConflictError, InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import AuditKind, Case, Document, Role, User, utcnow
from app.services.cases import record_due_lapses
from app.services.files import store_file
from app.services.uow import unit_of_work
from app.services.uploads import check_pdf, clean_file_name
from app.storage import get_storage
from workflows.base import documents_for

PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True, slots=True)
class AttachResult:
    """The stored document and the case's new version."""

    document_id: int
    sha256: str
    case_version: int
    replaced_id: int | None


__all__ = ["AttachResult", "add_pdf", "attach_document", "check_pdf", "read_document"]


def add_pdf(
    session: Session, case_id: int, kind: str, original_name: str, content: bytes, uploader_id: int
) -> Document:
    """Store the PDF ``content`` (by its SHA-256, for the transaction of ``session``) and add its row as a document
    ``kind`` of the case, flushed so that it has its id; the caller links and logs it (:func:`log_attached`).
    Raises ``StorageUnavailable``."""
    key, digest = store_file(session, content)
    document = Document(
        case_id=case_id,
        kind=kind,
        original_name=clean_file_name(original_name),
        size_bytes=len(content),
        media_type=PDF_MEDIA_TYPE,
        sha256=digest,
        storage_key=key,
        uploaded_by_id=uploader_id,
    )
    session.add(document)
    session.flush()
    return document


def _uploadable_kinds(case: Case) -> frozenset[str]:
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    params = case.params or workflow.params
    return frozenset(
        kind for t in workflow.transitions_from(case.state) if t.owner_only for kind in documents_for(t, params)
    )


def attach_document(
    case_id: int,
    kind: str,
    original_name: str,
    content: bytes,
    uploader_id: int,
    *,
    expected_version: int | None = None,
) -> AttachResult:
    """Store a PDF for ``kind`` on the case and supersede the previous one of that kind.

    Only the case's applicant may upload, and only kinds that a step of the current state requires. The case's
    deadlines already due are recorded first (``cases.record_due_lapses``): a document for the answer to a
    prevención whose term ended is refused, the request then not presented (LFPA art. 17-A).
    Bumps the case version and writes an audit entry (ids and hashes only). Raises ``NotFound``,
    ``NotAllowed``, ``InvalidData`` and ``ConflictError``.
    """
    check_pdf(content, int(current_app.config["MAX_DOCUMENT_BYTES"]))
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        user = session.get(User, uploader_id)
        if case is None or user is None:
            raise NotFound(Msg("El expediente no existe."))
        if case.applicant_id != user.id or not user.has_role(Role.APPLICANT):
            raise NotAllowed(Msg("Solo quien presentó la solicitud puede adjuntar documentos."))
        if expected_version is not None and expected_version != case.version:
            raise ConflictError(
                Msg("El expediente cambió mientras lo consultaba; recargue la página e intente de nuevo.")
            )
        record_due_lapses(session, case, utcnow())  # a term that ended (to answer a prevención) is over
        if kind not in _uploadable_kinds(case):
            raise InvalidData(Msg("No se puede adjuntar «%(kind)s» en esta etapa.", {"kind": kind}))
        previous = session.scalars(
            select(Document).where(
                Document.case_id == case.id, Document.kind == kind, Document.superseded_by_id.is_(None)
            )
        ).first()
        document = add_pdf(session, case.id, kind, original_name, content, user.id)
        if previous is not None:
            previous.superseded_by_id = document.id
        case.updated_at = utcnow()
        session.flush()
        log_attached(session, case, document, user.id, Role.APPLICANT, previous.id if previous is not None else None)
        return AttachResult(document.id, document.sha256, case.version, previous.id if previous is not None else None)


def log_attached(
    session: Session, case: Case, document: Document, actor_id: int, role: Role, replaces: int | None = None
) -> None:
    """Append the audit entry of a document attached to ``case`` (ids and hashes only, never its name)."""
    details = {
        "document_id": document.id,
        "kind": document.kind,
        "sha256": document.sha256,
        "size": document.size_bytes,
        "replaces": replaces,
    }
    audit.append(
        session,
        EntryInput(
            kind=AuditKind.DOCUMENT,
            action="document_attached",
            actor_id=actor_id,
            actor_role=role.value,
            case=case,
            from_state=case.state,
            to_state=case.state,
            documents_digest=audit.documents_digest([(document.kind, document.sha256)]),
            details=details,
        ),
    )


def read_document(document_id: int) -> tuple[Document, bytes]:
    """The document row and its stored bytes. Raises ``NotFound``."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound(Msg("El documento no existe."))
    content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(document.storage_key)
    return document, content
