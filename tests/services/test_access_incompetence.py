"""The notice of incompetence reaches the requester as a sealed PDF with its fundamento y motivación and the
competent body (LGTAIP 2015 art. 136), on SQLite and PostgreSQL; the PDF is read back."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from flask import Flask, current_app
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Certificate, Role
from app.procedures.access_request import services as ar
from app.services.certificates import verify_certificate
from app.storage import get_storage
from tests.support.factories import make_user

REASONS = "Las calificaciones escolares las genera y resguarda la autoridad educativa estatal, no el municipio"


def test_the_incompetence_notice_is_a_sealed_pdf_the_requester_downloads(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    filed = ar.file_request("Lector", "lector@example.test", "Calificaciones escolares", "electronic")
    db.session.rollback()
    version = db.session.get(Case, filed.case_id).version  # type: ignore[union-attr]
    ar.unit_act(
        filed.case_id,
        "declare_incompetent",
        unit,
        expected_version=version,
        data={"competent_body": "Secretaría de Educación del Estado"},
        comment=REASONS,
    )
    db.session.rollback()
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == filed.case_id, Certificate.kind == "incompetence_notice")
    ).one()
    content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(certificate.storage_key)
    assert hashlib.sha256(content).hexdigest() == certificate.sha256
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(content)).pages)
    assert "NOTIFICACIÓN DE INCOMPETENCIA" in text
    assert REASONS in text
    assert "Secretaría de Educación del Estado" in text
    assert "Artículo 136 de la Ley General de Transparencia" in text
    assert "recurso de revisión" in text
    verification = verify_certificate(filed.folio, certificate.verification_code)
    assert verification is not None
    # the requester finds it on the tracking page and downloads it through the secret link
    client = current_app.test_client()
    page = client.get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    link = re.search(rf'href="(/transparencia/seguimiento/[^"]+/\w+/{certificate.id})"', page)
    assert link is not None, page
    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.data == content
