"""The public verification page and the downloads, on SQLite and PostgreSQL.

Every answer is a clear page: authentic, revoked, expired, superseded, not found (unknown folio and wrong
code alike), identical or altered upload, and refusals for empty, oversized and non-PDF uploads. Never a 500.
"""

from __future__ import annotations

import html
import importlib.util
import io
import re
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.calendar import local_today
from app.extensions import db
from app.keys import load_log_key
from app.models import Certificate, CertificateStatus, User
from app.services.audit_log import sign_checkpoint
from app.services.cases import FireResult
from app.storage import get_storage
from tests.certificates.conftest import People, csrf_from, licensed, login
from tests.support.factories import advance


def _page(response: TestResponse) -> str:
    """The page's HTML, entities decoded and white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def _text(response: TestResponse) -> str:
    """The page's text as a person reads it (tags removed)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _certificate(case: FireResult) -> Certificate:
    db.session.rollback()
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == case.case_id, Certificate.kind != "payment_order")
    ).one()
    db.session.expunge(certificate)
    return certificate


def _url(certificate: Certificate, code: str | None = None) -> str:
    return f"/verificar/{certificate.folio}?c={code or certificate.verification_code}"


def _pdf(app: Flask, certificate: Certificate) -> bytes:
    return get_storage(Path(app.config["DOCUMENTS_DIR"])).get(certificate.storage_key)


def _upload(client: FlaskClient, certificate: Certificate, content: bytes, name: str = "licencia.pdf") -> TestResponse:
    token = csrf_from(client.get(_url(certificate)).get_data(as_text=True))
    return client.post(
        _url(certificate),
        data={"csrf_token": token, "archivo": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def issued(app: Flask, people: People) -> tuple[FireResult, Certificate]:
    case = licensed(people)
    return case, _certificate(case)


def test_authentic_certificate_shows_status_data_seal_and_audit_entry(
    client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    case, certificate = issued
    response = client.get(_url(certificate))
    assert response.status_code == 200
    page = _page(response)
    assert "Documento auténtico y vigente" in page
    assert "Licencia de construcción" in page
    assert certificate.number in page
    assert certificate.folio in page
    for expected in ("LC-2026-0001", "José Ángel Muñoz Peñaloza", "Av. Hidalgo 123, Centro", "$8,420.00 MXN"):
        assert expected in page
    assert certificate.cadena_original in page
    assert certificate.sello in page
    assert "El sello digital corresponde a la cadena original" in page
    # the issuing audit entry, whose recorded hash matches the document
    assert f"<td>{case.audit_seq}</td>" in page
    # the entry's action as the workflow declares the transition, never the trigger's code
    assert "<td>Aprobar y emitir la licencia</td>" in page
    assert "approve_licence" not in page
    assert certificate.sha256 in page
    assert "(coincide con el documento)" in page
    # nothing personal beyond what the document prints: no e-mail addresses, no internal ids
    assert "@example.test" not in page
    assert "user" not in page.lower().split("<main>")[1].split("</main>")[0]


def test_verification_code_is_forgiving_about_case_and_separators(
    client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    _, certificate = issued
    typed = certificate.verification_code.lower()
    typed = f"{typed[:5]}-{typed[5:]}"
    response = client.get(f"/verificar/{certificate.folio.lower()}?c={typed}")
    assert response.status_code == 200
    assert "Documento auténtico y vigente" in _page(response)


def test_unknown_folio_and_wrong_code_get_the_same_answer(
    client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    _, certificate = issued
    wrong_code = client.get(_url(certificate, "ZZZZZZZZZZ"))
    unknown_folio = client.get(f"/verificar/VECS-1999-000001?c={certificate.verification_code}")
    no_code = client.get(f"/verificar/{certificate.folio}")
    for response in (wrong_code, unknown_folio, no_code):
        assert response.status_code == 404
        assert "No encontramos un documento con ese folio y ese código de verificación" in _page(response)

    # the two answers differ only by the folio echoed back in the form, the address the language switch returns
    # to (the folio and code asked for) and the CSRF token's timestamp
    def same(page: str, folio: str) -> str:
        page = re.sub(r'<input type="hidden" name="next" value="[^"]*">', "", page)
        return re.sub(r"<input[^>]*csrf_token[^>]*>", "", page.replace(folio, "F"))

    assert same(_page(wrong_code), certificate.folio) == same(_page(unknown_folio), "VECS-1999-000001")


def test_lookup_form_leads_to_the_result(client: FlaskClient, issued: tuple[FireResult, Certificate]) -> None:
    _, certificate = issued
    form = client.get("/verificar")
    assert form.status_code == 200
    assert "Verificar un documento" in _page(form)
    response = client.get(
        "/verificar", query_string={"folio": certificate.folio, "codigo": certificate.verification_code}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(certificate))
    missing = client.get("/verificar", query_string={"folio": "", "codigo": ""})
    assert missing.status_code == 200
    assert "Escriba el folio del documento." in _page(missing)
    bad = client.get("/verificar", query_string={"folio": "<script>", "codigo": "x"})
    assert "El folio solo contiene letras, números y guiones." in _page(bad)


def test_uploads_identical_altered_and_refused(
    app: Flask, client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    _, certificate = issued
    pdf = _pdf(app, certificate)

    same = _upload(client, certificate, pdf)
    assert same.status_code == 200
    assert "Idéntico: el archivo es exactamente el documento emitido." in _text(same)

    altered = bytearray(pdf)
    altered[len(pdf) // 2] ^= 0x01
    different = _upload(client, certificate, bytes(altered))
    assert different.status_code == 200
    assert "No coincide: el archivo no es el documento emitido" in _text(different)

    not_pdf = _upload(client, certificate, b"GIF89a not a pdf", "foto.gif")
    assert not_pdf.status_code == 400
    assert "El archivo no es un PDF válido." in _page(not_pdf)

    empty = _upload(client, certificate, b"")
    assert empty.status_code == 400
    assert "El archivo está vacío." in _page(empty)

    app.config["VERIFICATION_MAX_UPLOAD_BYTES"] = 1024 * 1024 // 2
    oversized = _upload(client, certificate, b"%PDF-1.7\n" + b"0" * (1024 * 1024))
    assert oversized.status_code == 400
    assert "El archivo excede el tamaño máximo de 0.5 MB." in _page(oversized)

    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    beyond_server_limit = _upload(client, certificate, b"%PDF-1.7\n" + b"0" * (1024 * 1024))
    assert beyond_server_limit.status_code == 413
    assert "Archivo demasiado grande" in _page(beyond_server_limit)


def test_upload_without_csrf_token_is_refused_cleanly(
    client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    _, certificate = issued
    response = client.post(
        _url(certificate), data={"archivo": (io.BytesIO(b"%PDF-1.7"), "x.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "El formulario caducó" in _page(response)


def test_revoked_certificate_says_so_with_the_reason(
    client: FlaskClient, people: People, issued: tuple[FireResult, Certificate]
) -> None:
    case, certificate = issued
    advance(case, [("revoke", people.land_use_reviewer, None, "El título de propiedad presentado es falso.")])
    page = _text(client.get(_url(certificate)))
    assert "Documento revocado" in page
    assert "Motivo de la revocación: El título de propiedad presentado es falso." in page
    assert "Documento auténtico y vigente" not in page
    # the revoking audit entry is shown too, named as the workflow declares the transition
    assert "Revocar por datos falsos o incumplimiento" in page
    assert "revoke" not in page


def test_expired_and_superseded(app: Flask, client: FlaskClient, issued: tuple[FireResult, Certificate]) -> None:
    _, certificate = issued
    stored = db.session.get(Certificate, certificate.id)
    assert stored is not None
    assert stored.valid_until is not None
    # The product reads validity against today's date in Mexico City: expire the day before it
    # (a UTC date would be tomorrow's between 00:00 and 06:00 UTC and the document still valid).
    stored.valid_until = local_today() - timedelta(days=1)
    db.session.commit()
    page = _page(client.get(_url(certificate)))
    assert "Documento vencido" in page

    successor = Certificate(
        **{c.name: getattr(stored, c.name) for c in Certificate.__table__.columns if c.name != "id"}
    )
    successor.number = "CERT-2099-000001"
    successor.verification_code = "0000000000"
    db.session.add(successor)
    db.session.flush()
    stored.status = CertificateStatus.SUPERSEDED
    stored.superseded_by_id = successor.id
    db.session.commit()
    page = _page(client.get(_url(certificate)))
    assert "Documento sustituido" in page
    assert "CERT-2099-000001" in page


def test_verification_page_speaks_english_when_asked(
    client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    _, certificate = issued
    page = _page(client.get(_url(certificate), headers={"Accept-Language": "en"}))
    assert "Authentic and valid document" in page
    assert "Exactly as printed on the document." in page
    assert "Número de licencia" in page  # the certified data stays as printed, in Spanish
    assert "<td>Approve and issue the license</td>" in page  # the issuing entry's action, translated
    missing = _page(client.get(_url(certificate, "ZZZZZZZZZZ"), headers={"Accept-Language": "en"}))
    assert "We could not find a document with that folio number and verification code" in missing


# -- downloads --------------------------------------------------------------------------------------------


def test_the_applicant_and_staff_download_the_stored_bytes(
    app: Flask, client: FlaskClient, people: People, issued: tuple[FireResult, Certificate]
) -> None:
    case, certificate = issued
    url = f"/expedientes/{case.case_id}/documentos/{certificate.id}.pdf"
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]

    login(client, people.owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{certificate.number}.pdf"'
    assert response.data == _pdf(app, certificate)
    listing = _page(client.get(f"/expedientes/{case.case_id}/documentos"))
    assert certificate.number in listing
    assert url in listing
    assert "Vigente" in listing

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/inicio").get_data(as_text=True))})
    login(client, people.auditor)
    assert client.get(url).data == _pdf(app, certificate)


def test_other_applicants_cannot_download_and_unknown_documents_are_not_found(
    client: FlaskClient, people: People, issued: tuple[FireResult, Certificate]
) -> None:
    case, certificate = issued
    login(client, people.other_applicant)
    # someone else's case answers as one that does not exist
    assert client.get(f"/expedientes/{case.case_id}/documentos/{certificate.id}.pdf").status_code == 404
    assert client.get(f"/expedientes/{case.case_id}/documentos").status_code == 404
    assert client.get(f"/expedientes/{case.case_id}/documentos/{certificate.id + 99}.pdf").status_code == 404
    assert client.get(f"/expedientes/{case.case_id + 99}/documentos/{certificate.id}.pdf").status_code == 404


def test_staff_get_not_found_for_a_certificate_of_another_case(
    client: FlaskClient, people: People, issued: tuple[FireResult, Certificate]
) -> None:
    case, certificate = issued
    user = db.session.get(User, people.approver)
    assert user is not None
    login(client, people.approver)
    assert client.get(f"/expedientes/{case.case_id}/documentos/{certificate.id + 1}.pdf").status_code == 404


def _standalone_verifier() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "verifier" / "verify_bundle.py"
    spec = importlib.util.spec_from_file_location("certificates_verify_bundle", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_inclusion_proof_appears_once_a_checkpoint_covers_the_entry(
    app: Flask, client: FlaskClient, issued: tuple[FireResult, Certificate]
) -> None:
    case, certificate = issued
    proof_url = f"/verificar/{certificate.folio}/prueba-de-inclusion.json?c={certificate.verification_code}"
    before = _text(client.get(_url(certificate)))
    assert "La prueba de inclusión estará disponible cuando se firme el siguiente punto de control" in before
    assert client.get(proof_url).status_code == 404

    sign_checkpoint(app.config)
    page = _text(client.get(_url(certificate)))
    assert "La entrada está incluida en la bitácora cuya raíz firmó la institución" in page
    download = client.get(proof_url)
    assert download.status_code == 200
    document = download.get_json()
    assert document["seq"] == case.audit_seq
    assert document["entry"]["details"]["certificate"]["sha256"] == certificate.sha256

    verifier = _standalone_verifier()
    log_key = load_log_key(app.config).public_key()
    assert verifier.verify_inclusion_document(document, [log_key]).ok
    assert client.get(proof_url.replace(certificate.verification_code, "ZZZZZZZZZZ")).status_code == 404
