"""Uploads: only real, plain PDFs are accepted; everything else is refused with a clear, translated message
and nothing is lost (the case, its version and its earlier documents stay as they were); the uploader's file
name is never used as a path; stored files are served as sandboxed attachments under generated names."""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfWriter
from sqlalchemy import func, select
from werkzeug.test import TestResponse

import app.services.cases as cases_service
from app.engine import InvalidData
from app.extensions import db
from app.models import Case, Document, Role
from app.services.certificates import CertificateEffects
from app.services.demo import demo_pdf
from app.services.uploads import check_pdf, clean_file_name, size_text
from tests.support.factories import make_user, vecs_case
from tests.support.hostile_pdfs import content_stream_bomb, object_stream_bomb
from tests.web.helpers import flashes, form_fields, login_as, set_language, text


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick password hashing, and no certificate rendering (these tests are about uploads)."""
    monkeypatch.setattr(cases_service, "transition_effects", lambda *args, **kwargs: CertificateEffects())


def raw_pdf(catalog_extra: bytes = b"", extra: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF written by hand, with ``catalog_extra`` inside its catalog and ``extra`` objects (6, 7…)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        b"<< /Producer (pruebas) >>",
        *extra,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt(user_password="secreto", owner_password="dueño", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("planos.html", "<script>alert(1)</script>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOT_PDF = "El archivo no es un PDF válido."
ACTIVE = "El PDF contiene código o archivos incrustados"
ENCRYPTED = "El PDF está cifrado o protegido con contraseña"

REFUSED: list[tuple[str, bytes, str]] = [
    ("html", b"<!doctype html><html><script>alert(document.cookie)</script></html>", NOT_PDF),
    ("png", PNG, NOT_PDF),
    ("zip", zip_bytes(), NOT_PDF),
    ("html-with-pdf-header", b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n", NOT_PDF),
    ("pdf-then-zip", raw_pdf() + zip_bytes(), NOT_PDF),
    ("pdf-then-html", raw_pdf() + b"<html><script>alert(1)</script></html>", NOT_PDF),
    ("truncated", raw_pdf()[:-200], NOT_PDF),
    ("encrypted", encrypted_pdf(), ENCRYPTED),
    ("javascript", raw_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), ACTIVE),
    ("javascript-hex-name", raw_pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), ACTIVE),
    ("javascript-elsewhere", raw_pdf(b"/AA 6 0 R", (b"<< /O << /S /JavaScript /JS (x) >> >>",)), ACTIVE),
    ("launch", raw_pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), ACTIVE),
    (
        "embedded-file",
        raw_pdf(b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>", (b"<< /Type /Filespec >>",)),
        ACTIVE,
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_the_content_check_refuses_disguised_encrypted_and_active_files(
    name: str, content: bytes, message: str
) -> None:
    with pytest.raises(InvalidData) as info:
        check_pdf(content, 10 * 1024 * 1024)
    assert info.value.message.msgid.startswith(message), name


@pytest.mark.parametrize("content", [raw_pdf(), demo_pdf("planos"), raw_pdf() + b"\r\n\x00\x00 \n"])
def test_plain_pdfs_pass(content: bytes) -> None:
    check_pdf(content, 10 * 1024 * 1024)


def test_real_pdfs_written_by_a_library_pass() -> None:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_metadata({"/Title": "Planos arquitectónicos"})
    buffer = io.BytesIO()
    writer.write(buffer)
    check_pdf(buffer.getvalue(), 10 * 1024 * 1024)


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (20 * 1024 * 1024, "20 MB"),
        (1024 * 1024, "1 MB"),
        (1536 * 1024, "1.5 MB"),
        (500 * 1024, "500 KB"),
        (900, "900 bytes"),
    ],
)
def test_size_limits_read_as_people_read_them(limit: int, shown: str) -> None:
    assert size_text(limit) == shown
    with pytest.raises(InvalidData) as info:
        check_pdf(raw_pdf() + b"%" + b"x" * limit, limit)
    assert info.value.message.params == {"size": shown}


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\System32\\planos.pdf", "planos.pdf"),
        ("/var/www/static/x.pdf", "x.pdf"),
        ("pla\tnos\x7f\x1b.pdf", "planos.pdf"),
        ("factura\u202efdp.exe.pdf", "facturafdp.exe.pdf"),
        ('a<b>c:"d|e?f*.pdf', "a_b_c__d_e_f_.pdf"),
        ("....pdf", "documento.pdf"),
        ("", "documento.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_file_names_are_neutralised(given: str, kept: str) -> None:
    assert clean_file_name(given) == kept


# -- through the web pages, on both databases ----------------------------------------------------------


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def upload(client: FlaskClient, case_id: int, name: str, content: bytes) -> TestResponse:
    page = text(client.get(f"/expedientes/{case_id}/pasos/documentos"))
    action = f"/expedientes/{case_id}/pasos/documentos/planos"
    data: dict[str, Any] = form_fields(page, action)
    data["planos-document"] = (io.BytesIO(content), name)
    return client.post(action, data=data, content_type="multipart/form-data")


def snapshot(case_id: int) -> tuple[int, list[tuple[int, str, str, int | None]]]:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    documents = db.session.execute(
        select(Document.id, Document.kind, Document.sha256, Document.superseded_by_id)
        .where(Document.case_id == case_id)
        .order_by(Document.id)
    ).all()
    return case.version, [tuple(d) for d in documents]  # type: ignore[misc]


def test_refused_uploads_lose_nothing_and_say_why(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    first = upload(client, case.case_id, "planos.pdf", demo_pdf("planos originales"))
    assert first.status_code == 302
    before = snapshot(case.case_id)
    assert len(before[1]) == 1
    for name, content, message in REFUSED:
        response = upload(client, case.case_id, "planos.pdf", content)
        assert response.status_code == 422, name
        assert any(m.startswith(message) for m in flashes(response)), (name, flashes(response))
        assert snapshot(case.case_id) == before, name
    renamed = upload(client, case.case_id, "planos.exe", demo_pdf("x"))
    assert renamed.status_code == 422
    assert "Solo se aceptan archivos PDF." in flashes(renamed)
    app.config["MAX_DOCUMENT_BYTES"] = 500 * 1024
    big = upload(client, case.case_id, "planos.pdf", raw_pdf() + b"%" + b"x" * (600 * 1024))
    assert big.status_code == 422
    assert "El archivo excede el tamaño máximo de 500 KB." in flashes(big)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    huge = upload(client, case.case_id, "planos.pdf", raw_pdf() + b"%" + b"x" * (128 * 1024))
    assert huge.status_code == 413
    assert "Archivo demasiado grande" in text(huge)
    assert "64 KB" in text(huge)
    assert snapshot(case.case_id) == before
    assert set_language(client, "en", f"/expedientes/{case.case_id}/pasos/documentos").status_code == 302
    english = upload(client, case.case_id, "planos.pdf", encrypted_pdf())
    assert english.status_code == 422
    assert any("encrypted or password-protected" in m for m in flashes(english)), flashes(english)
    assert snapshot(case.case_id) == before


def test_path_traversal_names_are_neutralised_and_never_used_as_paths(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    documents_dir = Path(app.config["DOCUMENTS_DIR"])
    response = upload(client, case.case_id, "../../../../tmp/evil\t.pdf", demo_pdf("traversal"))
    assert response.status_code == 302
    db.session.rollback()
    document = db.session.scalars(select(Document).where(Document.case_id == case.case_id)).one()
    assert document.original_name == "evil.pdf"
    stored = [p for p in documents_dir.rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [document.sha256]
    assert not list(tmp_path.rglob("*evil*"))
    target = Path(tempfile.gettempdir())
    assert not (target / "evil\t.pdf").exists()
    assert not (target / "evil.pdf").exists()
    served = client.get(f"/expedientes/{case.case_id}/archivos/{document.id}")
    assert served.status_code == 200
    assert served.data == demo_pdf("traversal")
    disposition = served.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="expediente-{case.case_id}-planos-{document.id}.pdf"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in served.headers["Cache-Control"]


def test_bombs_and_unwanted_actions_are_refused_through_the_page_in_both_languages(
    app: Flask, client: FlaskClient
) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    before = snapshot(case.case_id)
    started = time.monotonic()
    bomb = upload(client, case.case_id, "planos.pdf", object_stream_bomb())
    assert time.monotonic() - started < 10
    assert bomb.status_code == 422
    assert any(m.startswith("El PDF es demasiado costoso de revisar") for m in flashes(bomb)), flashes(bomb)
    uri = upload(client, case.case_id, "planos.pdf", raw_pdf(b"/OpenAction << /S /URI /URI (https://x.example) >>"))
    assert uri.status_code == 422
    assert any(m.startswith("El PDF contiene acciones automáticas") for m in flashes(uri)), flashes(uri)
    assert set_language(client, "en", f"/expedientes/{case.case_id}/pasos/documentos").status_code == 302
    english = upload(client, case.case_id, "planos.pdf", content_stream_bomb())
    assert english.status_code == 422
    assert any(m.startswith("The PDF is too costly to check") for m in flashes(english)), flashes(english)
    english = upload(client, case.case_id, "planos.pdf", raw_pdf(b"/AA << /WC << /S /GoTo /D [3 0 R /Fit] >> >>"))
    assert any(m.startswith("The PDF contains automatic actions") for m in flashes(english)), flashes(english)
    assert snapshot(case.case_id) == before


def test_uploads_are_throttled_per_account(app: Flask, client: FlaskClient) -> None:
    app.config["UPLOAD_LIMIT_PER_ACCOUNT"] = "3 per hour"
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    for number in range(3):
        assert upload(client, case.case_id, "planos.pdf", demo_pdf(f"versión {number}")).status_code == 302
    throttled = upload(client, case.case_id, "planos.pdf", demo_pdf("una más"))
    assert throttled.status_code == 429
    assert "Demasiados intentos" in text(throttled)
    assert set_language(client, "en", f"/expedientes/{case.case_id}/pasos/documentos").status_code == 302
    english = upload(client, case.case_id, "planos.pdf", demo_pdf("una más"))
    assert english.status_code == 429
    assert "Too many attempts" in text(english)
    # another account is not affected by the first one's uploads
    other = make_user(Role.APPLICANT)
    other_case = vecs_case(other, documents=False)
    other_client = app.test_client()
    login_as(other_client, other)
    assert upload(other_client, other_case.case_id, "planos.pdf", demo_pdf("otra cuenta")).status_code == 302
