"""What people do on a case page: fire a trigger from a form, upload a required document."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.engine import ConflictError, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import Case, Document
from app.services.cases import FireResult, fire
from app.services.documents import AttachResult, attach_document


def act(
    case_id: int,
    trigger: str,
    user_id: int,
    *,
    expected_version: int,
    idempotency_key: str,
    inputs: Mapping[str, Any] | None = None,
    comment: str | None = None,
) -> FireResult:
    """Fire ``trigger`` as a person using the case page: the fields the workflow computes (e.g. fees from
    the published table) are filled by the system, never typed; the rest comes from ``inputs``.

    A repeated ``idempotency_key`` (double submit) returns the first result; a stale
    ``expected_version`` raises ``ConflictError``. Raises what ``cases.fire`` raises.
    """
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(Msg("El expediente no existe."))
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if any(t.dedicated for t in workflow.transitions if t.trigger == trigger):
        raise NotAllowed(Msg("Esta acción se realiza desde la página propia del trámite, no desde el expediente."))
    data = dict(inputs or {})
    params = case.params or workflow.params
    for transition in workflow.find(trigger, case.state):
        for field_name in transition.fields:
            compute = workflow.computed_fields.get(field_name)
            if compute is not None:
                data[field_name] = compute(case.data, params)
    return fire(
        case_id,
        trigger,
        user_id,
        expected_version=expected_version,
        data=data or None,
        comment=(comment or "").strip() or None,
        idempotency_key=idempotency_key,
    )


@dataclass(frozen=True, slots=True)
class UploadResult:
    """The stored document; ``repeated`` when the same file was already the current one (double submit)."""

    document_id: int
    sha256: str
    repeated: bool


def upload_requirement(
    case_id: int, kind: str, original_name: str, content: bytes, uploader_id: int, *, expected_version: int
) -> UploadResult:
    """Attach a required document (see ``documents.attach_document``: PDF checks, hash, history).

    When the case changed since the form was shown but the current document of ``kind`` already has
    exactly these bytes (the same upload sent twice), that document is returned instead of a conflict,
    so nothing is stored twice. Raises what ``attach_document`` raises.
    """
    try:
        result: AttachResult = attach_document(
            case_id, kind, original_name, content, uploader_id, expected_version=expected_version
        )
    except ConflictError:
        digest = hashlib.sha256(content).hexdigest()
        current = db.session.scalars(
            select(Document).where(
                Document.case_id == case_id,
                Document.kind == kind,
                Document.superseded_by_id.is_(None),
                Document.uploaded_by_id == uploader_id,
            )
        ).first()
        if current is not None and current.sha256 == digest:
            return UploadResult(current.id, current.sha256, True)
        raise
    return UploadResult(result.document_id, result.sha256, False)
