"""The cadena original rebuilt from what the document prints, and its sello checked with openssl.

Nothing needed to rebuild the sealed string lives only on the verification page: the certified rows are
printed in forms that read back to the canonical ones, and the issue instant is printed exactly as sealed.
The test reads the issued PDF's text (pdftotext), never the printed cadena itself, rebuilds the cadena,
and verifies the printed sello against the signing certificate's public key with the ``openssl`` command.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from sqlalchemy import select

from app.certificates.formatting import canonical_of_printed
from app.certificates.seal import SealError, cadena_from_printed
from app.extensions import db
from app.models import Case, Certificate
from app.storage import get_storage
from tests.certificates.conftest import People, licensed
from workflows import REGISTRY
from workflows.procedure import Field, canonical_value


def _lines(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "issued.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, timeout=60)
    return [line.strip() for line in out.stdout.decode("utf-8").splitlines()]


def _after(lines: list[str], label: str) -> str:
    """The first non-empty line after the line ``label``."""
    index = lines.index(label)
    return next(line for line in lines[index + 1 :] if line)


def _between(lines: list[str], start: str, end: str) -> list[str]:
    first = lines.index(start)
    last = next(i for i in range(first + 1, len(lines)) if lines[i].startswith(end))
    return [line for line in lines[first + 1 : last] if line]


def rebuild(kind: str, lines: list[str]) -> tuple[str, str, str]:
    """(cadena, sello, certificate serial) read from the printed document's text lines."""
    document = REGISTRY.document(kind)
    printed = {row.label: _after(lines, row.label) for row in document.rows}
    text = "\n".join(lines)
    signed_at = re.search(r"\(UTC\): (\S+)\.", text)
    assert signed_at, "the issue instant as sealed is printed"
    signature = next(i for i, line in enumerate(lines) if line.startswith("Firmado electrónicamente"))
    name, position = [line for line in lines[:signature] if line][-2:]
    serial = _after(lines, "NO. DE CERTIFICADO DEL SELLO DIGITAL")
    code = re.search(r"c=([0-9A-Z]+)", text)
    assert code
    common = {
        "numero": re.search(r"^Certificado (\S+)$", text, re.MULTILINE)[1],  # type: ignore[index]
        "folio": re.search(r"^Folio (\S+)$", text, re.MULTILINE)[1],  # type: ignore[index]
        "fecha_emision": signed_at[1],
        "emisor": re.search(r"con el sello digital de (.+?)\.\s*CADENA ORIGINAL", text, re.DOTALL)[1],  # type: ignore[index]
        "servidor_publico": name,
        "cargo": position,
        "no_certificado": serial,
        "codigo_verificacion": code[1],
    }
    # the QR column (code and link) sits beside the sello: keep the lines made only of base64 characters
    block = _between(lines, "SELLO DIGITAL", "NO. DE CERTIFICADO")
    qr_column = {code[1], "c=" + code[1]}
    sello = "".join(
        line for line in block if re.fullmatch(r"[A-Za-z0-9+/=]+", line) and line.replace(" ", "") not in qr_column
    )
    return cadena_from_printed(kind, common, printed), sello, serial


def test_the_licence_cadena_rebuilt_from_the_printed_pdf_verifies_with_openssl(
    app: Flask, people: People, tmp_path: Path
) -> None:
    result = licensed(people)
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == result.case_id, Certificate.kind != "payment_order")
    ).one()
    pdf = get_storage(Path(app.config["DOCUMENTS_DIR"])).get(certificate.storage_key)
    lines = _lines(pdf, tmp_path)

    cadena, sello, serial = rebuild("licence", lines)

    assert cadena == certificate.cadena_original
    assert "|420.50|" in cadena  # the area as stored and printed (typed "420.5")
    assert serial == format(x509.load_pem_x509_certificate(certificate.signing_certificate.encode()).serial_number, "X")
    public_key = (
        x509.load_pem_x509_certificate(certificate.signing_certificate.encode())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (tmp_path / "key.pem").write_bytes(public_key)
    (tmp_path / "cadena.txt").write_bytes(cadena.encode("utf-8"))
    (tmp_path / "sello.bin").write_bytes(base64.b64decode(sello))
    checked = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature", "sello.bin", "cadena.txt"],
        cwd=tmp_path,
        capture_output=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert b"Verified OK" in checked.stdout

    # one changed printed value no longer verifies
    (tmp_path / "cadena.txt").write_bytes(cadena.replace("|420.50|", "|420.5|").encode("utf-8"))
    tampered = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature", "sello.bin", "cadena.txt"],
        cwd=tmp_path,
        capture_output=True,
        timeout=30,
    )
    assert tampered.returncode != 0


def test_typed_values_are_stored_in_their_canonical_form(app: Flask, people: People) -> None:
    result = licensed(people)
    data = db.session.get(Case, result.case_id).data  # type: ignore[union-attr]
    assert data["built_area_m2"] == "420.50"
    assert data["lot_area_m2"] == "600.00"


@pytest.mark.parametrize(
    ("kind", "value", "places", "canonical"),
    [
        ("area", "850", None, "850.00"),
        ("area", "1,500.5", None, "1500.50"),
        ("money", "8420", None, "8420.00"),
        ("money", "0.125", None, "0.13"),
        ("integer", "12", None, "12"),
        ("decimal", "0.20", None, "0.20"),
        ("decimal", "3.14159", 3, "3.142"),
        ("date", "2026-11-27", None, "2026-11-27"),
        ("text", "  José   Ángel\tMuñoz ", None, "José Ángel Muñoz"),
        ("area", "no es número", None, "no es número"),
    ],
)
def test_one_canonical_form_per_field_type(kind: str, value: str, places: int | None, canonical: str) -> None:
    assert canonical_value(Field("x", "x", kind, places=places), value) == canonical


@pytest.mark.parametrize(
    ("format_name", "printed", "canonical"),
    [
        ("area", "1,500.00 m²", "1500.00"),
        ("money", "$8,420.00 MXN", "8420.00"),
        ("date", "1 de enero de 2027", "2027-01-01"),
        ("date", "27 de noviembre de 2026", "2026-11-27"),
        ("text", "Av. Hidalgo  123,\nCentro", "Av. Hidalgo 123, Centro"),
        ("date", "", ""),
    ],
)
def test_printed_values_read_back_to_their_canonical_form(format_name: str, printed: str, canonical: str) -> None:
    assert canonical_of_printed(format_name, printed) == canonical


def test_a_value_not_of_its_format_cannot_be_read_back() -> None:
    with pytest.raises(ValueError, match="not a printed date"):
        canonical_of_printed("date", "2026-13-45")
    with pytest.raises(SealError, match="missing"):
        cadena_from_printed("licence", {}, {})
