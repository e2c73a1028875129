"""Every document template, rendered once per run from sample data and read back like a person or a PDF reader.

Text (pdftotext), the QR code (decoded from a 150 dpi rendering of the page), the PAdES signature (pyHanko,
against the development trust root), the sello over the cadena original, PDF/A markers and the fonts.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from PIL import Image
from pypdf import PdfReader

from app.certificates import (
    IssuedDocument,
    RenderError,
    cadena_fields,
    cadena_original,
    document_type,
    normalise_code,
    render_html,
    sign_pdf,
    validate_pdf,
    verification_url,
    verify_sello,
)
from app.certificates.issuance import CODE_ALPHABET, new_verification_code
from app.certificates.render import html_to_pdf
from app.certificates.seal import SealError, sello
from app.keys import SigningMaterial, init_development_keys, trust_root
from tests.certificates.conftest import KINDS, OUTPUT, pdf_text, squeeze
from tests.certificates.samples import CODE, FIELDS, FOLIOS, OFFICE, OFFICIALS
from workflows import DEFINITIONS, REGISTRY

EXPECTED_TEXT = {
    "payment_order": [
        "ORDEN DE PAGO DE DERECHOS",
        "VECS20260000170179",
        "José Ángel Muñoz Peñaloza",
        "$8,420.00 MXN",
        "$7,569.00 MXN",
        "Ley de Ingresos del Municipio 2026, art. 25, fracc. I",
        "11 de diciembre de 2026",
    ],
    "business_licence": [
        "LICENCIA DE FUNCIONAMIENTO",
        "LF-2026-000004",
        "Beatriz Comerciante Ñúñez",
        "Cafetería El Portal",
        "Portal Hidalgo 4, Centro",
        "60.00 m²",
        "27 de noviembre de 2027",
    ],
    "licence": [
        "LICENCIA DE CONSTRUCCIÓN",
        "LC-2026-000017",
        "José Ángel Muñoz Peñaloza",
        "Av. Hidalgo 123, Col. Centro, San Andrés Cholula, Pue.",
        "420.50 m²",
        "$8,420.00 MXN",
        "Vigente hasta 27 de noviembre de 2027",
        "SPEI-2026-0088123",
        "20 de noviembre de 2026",
        "Arq. Daniel Responsable Güémez",
    ],
    "occupancy": [
        "AUTORIZACIÓN DE USO Y OCUPACIÓN",
        "LC-2026-000009",
        "Sofía Ramírez Ñeco",
        "Farmacia",
        "310.00 m²",
        "La obra no fue sorteada para inspección",
    ],
    "reproduction_payment_order": [
        "ORDEN DE PAGO DE COSTOS DE REPRODUCCIÓN",
        "SAI20260003110143",
        "Ciudadano Transparente (seudónimo)",
        "$25.00 MXN",
        "Copias simples (las primeras 20 hojas sin costo)",
        "14 de enero de 2027",
    ],
    "access_response": [
        "RESPUESTA A SOLICITUD DE ACCESO A LA INFORMACIÓN",
        "Ciudadano Transparente (seudónimo)",
        "30 de octubre de 2026",
        "Información pública entregada",
        "$0.00 MXN",
        "recurso de revisión",
    ],
    "committee_resolution": [
        "RESOLUCIÓN DEL COMITÉ DE TRANSPARENCIA",
        "CT/2026/037",
        "Décima Sesión Extraordinaria",
        "20 de noviembre de 2026",
        "Confirma la clasificación",
        "C.P. Ana Ochoa Zúñiga",
    ],
    "incompetence_notice": [
        "NOTIFICACIÓN DE INCOMPETENCIA",
        "Secretaría de Educación del Estado",
        "3 de noviembre de 2026",
        "autoridad educativa estatal",
        "Artículo 136",
        "recurso de revisión",
    ],
}


@pytest.fixture(scope="module")
def texts(samples: dict[str, IssuedDocument], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("texts")
    return {kind: pdf_text(document.pdf, folder, kind) for kind, document in samples.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_text_read_back_has_folio_names_dates_and_legal_basis(
    kind: str, texts: dict[str, str], samples: dict[str, IssuedDocument]
) -> None:
    text = texts[kind]
    pages = len(PdfReader(io.BytesIO(samples[kind].pdf)).pages)  # a document near a page's end may take one
    common = [
        OFFICE.institution,
        FOLIOS[kind],
        "CERT-2026-000042",
        "27 de noviembre de 2026",  # issue date in es-MX
        "27 de noviembre de 2026, 10:05:12 h",  # 16:05:12 UTC in Mexico City, to the second
        OFFICIALS[kind][0],
        OFFICIALS[kind][1],
        "FUNDAMENTO LEGAL",
        "Artículo 115, fracción V, de la Constitución Política de los Estados Unidos Mexicanos",
        "Lineamientos de la Ventanilla de Construcción Simplificada (DOF 20/05/2019)",
        "CADENA ORIGINAL",
        "SELLO DIGITAL",
        "Código de verificación",
        CODE,
        "Quejas y denuncias",
        "Puede denunciar de forma anónima",
        f"Página 1 de {pages}",
        f"Página {pages} de {pages}",
    ]
    for expected in common + EXPECTED_TEXT[kind]:
        assert expected in text, f"{kind}: {expected!r} not in the PDF text"


@pytest.mark.parametrize("kind", KINDS)
def test_cadena_and_sello_are_printed_and_the_sello_verifies_over_the_cadena(
    kind: str, samples: dict[str, IssuedDocument], texts: dict[str, str], material: SigningMaterial
) -> None:
    document = samples[kind]
    version = REGISTRY.document(kind).cadena_version
    assert document.cadena.startswith(f"||{version}|{document_type(kind)}|CERT-2026-000042|{FOLIOS[kind]}|")
    assert document.cadena.endswith(f"|{document.certificate_serial}|{CODE}||")
    assert document.cadena.count("|") == len(cadena_fields(kind)) - 1 + 4
    assert squeeze(document.cadena) in squeeze(texts[kind])
    assert squeeze(document.sello) in squeeze(texts[kind])
    assert document.certificate_serial in texts[kind]

    assert verify_sello(material.certificate, document.cadena, document.sello)
    assert not verify_sello(material.certificate, document.cadena.replace(f"|{version}|", "|9.9|", 1), document.sello)
    flipped = ("A" if document.sello[0] != "A" else "B") + document.sello[1:]
    assert not verify_sello(material.certificate, document.cadena, flipped)
    assert not verify_sello(material.certificate, document.cadena, "not base64!")


def test_a_sello_in_another_text_of_the_same_bytes_does_not_verify() -> None:
    # a 2048-bit key (an office's own certificate may well have one) signs 256 bytes: base64 with "==" and four
    # unused low bits in the last character, which a lenient read ignores (the development keys are 3072-bit:
    # 384 bytes, written without padding, have no other text)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Prueba")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cadena = "||1.0|LICENCIA|CERT-2026-000042||"
    written = sello(key, cadena)
    assert written.endswith("==")
    assert verify_sello(certificate, cadena, written)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other = written[:-3] + alphabet[alphabet.index(written[-3]) | 0b1111] + "=="
    assert other != written
    assert base64.b64decode(other) == base64.b64decode(written)
    assert not verify_sello(certificate, cadena, other)


def test_cadena_field_order_is_fixed_and_values_are_normalised() -> None:
    fields = dict.fromkeys(cadena_fields("occupancy"), "")
    fields.update({"version": "1.0", "tipo": "AUTORIZACION_OCUPACION", "titular": "  Ana |  María\n López "})
    cadena = cadena_original("occupancy", fields)
    parts = cadena[2:-2].split("|")
    assert len(parts) == len(cadena_fields("occupancy"))
    assert parts[0] == "1.0"
    assert parts[cadena_fields("occupancy").index("titular")] == "Ana / María López"
    with pytest.raises(SealError, match="missing"):
        cadena_original("occupancy", {"version": "1.0"})
    with pytest.raises(SealError, match="unexpected"):
        cadena_original("occupancy", {**fields, "extra": "x"})
    with pytest.raises(SealError, match="unknown"):
        cadena_original("passport", fields)


def _qr_texts(pdf: bytes, folder: Path) -> list[str]:
    path = folder / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(folder / "page")], check=True, timeout=60)
    found = []
    for image in sorted(folder.glob("page-*.png")):
        found += [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(image))]
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_qr_decoded_from_the_rendered_page_points_at_the_verification_url(
    kind: str, samples: dict[str, IssuedDocument], tmp_path: Path
) -> None:
    expected = f"https://tramites.municipio.example/verificar/{FOLIOS[kind]}?c={CODE}"
    assert samples[kind].verification_url == expected
    assert _qr_texts(samples[kind].pdf, tmp_path) == [expected]


@pytest.mark.parametrize("kind", KINDS)
def test_pades_signature_validates_against_the_development_root(
    kind: str, samples: dict[str, IssuedDocument], root: x509.Certificate
) -> None:
    check = validate_pdf(samples[kind].pdf, [root])
    assert check.valid, check
    assert check.pades
    assert check.whole_file
    assert check.signer is not None
    assert OFFICE.institution in check.signer


def test_signature_fails_after_any_byte_changes(samples: dict[str, IssuedDocument], root: x509.Certificate) -> None:
    """One changed byte anywhere breaks validation: in the signed ranges (the digest), inside the signature
    container (signature value, signed attributes, the signer's certificate) and in its zero padding."""
    pdf = samples["licence"].pdf
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    signature_end = start + len(pdf[start:end].rstrip(b"0"))
    positions = [
        *range(0, len(pdf), len(pdf) // 40),  # across the whole file
        *range(start, signature_end, (signature_end - start) // 60),  # across the signature container
        signature_end + 7,  # padding
        len(pdf) - 1,
    ]
    for position in positions:
        altered = bytearray(pdf)
        altered[position] = ord("1") if altered[position] != ord("1") else ord("2")
        assert not validate_pdf(bytes(altered), [root]).valid, position
    assert not validate_pdf(pdf + b"\n% appended\n", [root]).valid
    assert not validate_pdf(pdf[:-200], [root]).valid


def test_signature_is_not_trusted_under_another_root(
    samples: dict[str, IssuedDocument], tmp_path: Path, root: x509.Certificate
) -> None:
    init_development_keys(tmp_path, "Otra institución")
    other_root = trust_root({"KEYS_DIR": str(tmp_path)})
    check = validate_pdf(samples["licence"].pdf, [other_root])
    assert check.intact
    assert not check.trusted
    assert not check.valid


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_is_archival_and_uses_only_the_shipped_fonts(
    kind: str, samples: dict[str, IssuedDocument], tmp_path: Path
) -> None:
    pdf = samples[kind].pdf
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part="2"', xmp)
    assert re.search(r'pdfaid:conformance="U"', xmp)
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert "/Encrypt" not in reader.trailer
    # PDF/A: the information dictionary agrees with the XMP packet (the signer touched both)
    producer = str(reader.trailer["/Info"]["/Producer"])
    assert f'pdf:Producer="{producer}"' in xmp or f"<pdf:Producer>{producer}</pdf:Producer>" in xmp
    # the signature widget is invisible (zero rectangle) but printable, as PDF/A-2 allows
    (field,) = root["/AcroForm"]["/Fields"]
    widget = field.get_object()
    assert [float(v) for v in widget["/Rect"]] == [0, 0, 0, 0]
    assert int(widget["/F"]) & 4
    assert "/NeedAppearances" not in root["/AcroForm"]

    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, timeout=30).stdout.decode()
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows
    for row in rows:
        assert re.match(r"[A-Z]{6}\+Doc-(Sans|Serif)", row[0]), row  # subsets of the shipped fonts only
        assert row[-5] == "yes", row  # embedded


def test_screenshots_are_kept_for_people(samples: dict[str, IssuedDocument]) -> None:
    for kind in KINDS:
        first_page = OUTPUT / f"{kind}-1.png"
        assert first_page.exists()
        with Image.open(first_page) as image:
            assert image.size[0] > 900  # letter at 110 dpi


def test_templates_refuse_undefined_variables_and_non_plain_context() -> None:
    with pytest.raises(RenderError, match=r"undefined|has no attribute"):
        render_html("licence.html", {"doc": {}})

    class Lazy:
        pass

    with pytest.raises(RenderError, match=r"context\.x\.case: Lazy is not plain data"):
        render_html("licence.html", {"x": {"case": Lazy()}})
    with pytest.raises(RenderError):
        render_html("no-such-template.html", {})


@pytest.mark.parametrize(
    "resource",
    [
        '<img src="file:///etc/passwd">',
        '<img src="../app/config.py">',
        '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css">',
        '<img src="https://example.invalid/logo.png">',
        '<img src="fonts/missing.png">',
    ],
)
def test_the_url_fetcher_serves_only_files_inside_pdf_templates(resource: str) -> None:
    with pytest.raises(RenderError, match="refused"):
        html_to_pdf(f"<html><body>{resource}<p>x</p></body></html>", variant=None)


def test_the_url_fetcher_serves_template_files_and_data_urls() -> None:
    pdf = html_to_pdf(
        '<html><head><link rel="stylesheet" href="document.css"></head><body>'
        '<img src="images/escudo.svg"><img src="data:image/svg+xml;base64,'
        'PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxIiBoZWlnaHQ9IjEiLz4=">'
        "<p>Árbol</p></body></html>",
        variant=None,
    )
    assert pdf.startswith(b"%PDF-")


def test_verification_codes_are_random_base32_and_typing_slips_are_forgiven() -> None:
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert normalise_code(" k7q2-m9xa 3f ") == CODE
    assert normalise_code("O1IL") == "0111"
    assert verification_url("https://x.example/", "VECS-2026-000001", "ABC") == (
        "https://x.example/verificar/VECS-2026-000001?c=ABC"
    )


def test_sample_fields_match_the_cadena_definition() -> None:
    common = {"version", "tipo", "numero", "folio", "fecha_emision", "emisor"}
    tail = {"servidor_publico", "cargo", "no_certificado", "codigo_verificacion"}
    for kind in KINDS:
        assert set(FIELDS[kind]) | common | tail == set(cadena_fields(kind))


def test_every_issuing_transition_names_a_known_kind_and_revoking_ones_need_a_reason() -> None:
    issuing = {}
    for workflow in DEFINITIONS:
        for transition in workflow.transitions:
            if transition.issues:
                assert transition.issues in {d.kind for d in REGISTRY.documents()}
                issuing[(workflow.name, transition.trigger)] = transition.issues
            if transition.revokes:
                assert transition.comment_required
    assert issuing[("vecs", "approve_licence")] == "licence"
    assert issuing[("vecs", "authorize_occupancy")] == "occupancy"
    assert any(t.revokes and t.trigger == "revoke" for w in DEFINITIONS for t in w.transitions)


def test_signing_works_where_an_event_loop_is_already_running(
    material: SigningMaterial, root: x509.Certificate
) -> None:
    """Browser-automation sessions and async servers run an event loop in the calling thread; pyHanko's own
    synchronous wrappers would fail there."""
    pdf = html_to_pdf("<html><body><p>Prueba de firma</p></body></html>")

    async def inside_a_loop() -> bool:
        return validate_pdf(sign_pdf(pdf, material, reason="prueba", location="aquí"), [root]).valid

    # in a thread of its own: a browser test run before in this process may have left its loop running in this
    # one, where asyncio.run() refuses to start another
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(inside_a_loop())))
    thread.start()
    thread.join()
    assert results == [True]


CADENA_ORDER = {
    "licence": (
        "numero_licencia",
        "titular",
        "ubicacion",
        "clave_catastral",
        "superficie_construida_m2",
        "uso_suelo",
        "dro_nombre",
        "dro_registro",
        "derechos_pagados",
        "situacion_derechos",
        "referencia_pago",
        "operacion_pago",
        "fecha_pago",
        "vigencia_desde",
        "vigencia_hasta",
    ),
    "occupancy": (
        "numero_licencia",
        "titular",
        "ubicacion",
        "clave_catastral",
        "superficie_construida_m2",
        "uso_autorizado",
        "resultado_inspeccion",
    ),
    "access_response": (
        "solicitante",
        "fecha_solicitud",
        "informacion_solicitada",
        "sentido_respuesta",
        "areas",
        "modalidad_entrega",
        "costo",
    ),
    "committee_resolution": ("numero_resolucion", "sesion", "fecha_sesion", "asunto", "sentido", "votacion"),
    "incompetence_notice": ("solicitante", "fecha_solicitud", "informacion_solicitada", "sujeto_obligado_competente"),
    "payment_order": ("referencia", "contribuyente", "importe_total", "fecha_limite"),
    "reproduction_payment_order": ("referencia", "contribuyente", "importe_total", "fecha_limite"),
}
TIPOS = {
    "licence": "LICENCIA_CONSTRUCCION",
    "occupancy": "AUTORIZACION_OCUPACION",
    "access_response": "RESPUESTA_ACCESO_INFORMACION",
    "committee_resolution": "RESOLUCION_COMITE_TRANSPARENCIA",
    "incompetence_notice": "NOTIFICACION_INCOMPETENCIA",
    "payment_order": "ORDEN_PAGO",
    "reproduction_payment_order": "ORDEN_PAGO_REPRODUCCION",
}


@pytest.mark.parametrize("kind", sorted(CADENA_ORDER))
def test_issued_kinds_keep_their_published_cadena_order_and_tipo(kind: str) -> None:
    """Documents already issued are verified by rebuilding their cadena: the declared order and tipo of the
    shipped kinds are a published format and must never change."""
    head = ("version", "tipo", "numero", "folio", "fecha_emision", "emisor")
    tail = ("servidor_publico", "cargo", "no_certificado", "codigo_verificacion")
    assert cadena_fields(kind) == (*head, *CADENA_ORDER[kind], *tail)
    assert document_type(kind) == TIPOS[kind]


LICENCE_1_0 = (
    "numero_licencia",
    "titular",
    "ubicacion",
    "clave_catastral",
    "superficie_construida_m2",
    "uso_suelo",
    "dro_nombre",
    "dro_registro",
    "derechos_pagados",
    "referencia_pago",
    "operacion_pago",
    "fecha_pago",
    "vigencia_desde",
    "vigencia_hasta",
)
FORMER_ORDER = {("licence", "1.0"): LICENCE_1_0}
"""Earlier published formats of the shipped kinds: the documents issued under them are rebuilt with them."""
CURRENT_VERSION = {"licence": "1.1"}


@pytest.mark.parametrize(("kind", "version"), sorted(FORMER_ORDER))
def test_former_formats_stay_published(kind: str, version: str) -> None:
    head = ("version", "tipo", "numero", "folio", "fecha_emision", "emisor")
    tail = ("servidor_publico", "cargo", "no_certificado", "codigo_verificacion")
    assert cadena_fields(kind, version) == (*head, *FORMER_ORDER[kind, version], *tail)
    assert cadena_fields(kind) != cadena_fields(kind, version)


@pytest.mark.parametrize("kind", sorted(CADENA_ORDER))
def test_each_kind_seals_its_current_format_version(kind: str) -> None:
    document = REGISTRY.document(kind)
    assert document.cadena_version == CURRENT_VERSION.get(kind, "1.0")
    assert cadena_fields(kind, document.cadena_version) == cadena_fields(kind)
    with pytest.raises(SealError, match="format version"):
        cadena_fields(kind, "0.9")


def test_a_licence_issued_under_the_former_format_is_rebuilt_from_its_own_print() -> None:
    """A licence of format 1.0 printed «Derechos pagados» and «Línea de captura pagada» and sealed no
    situación de los derechos: rebuilt with the current rows it would not even be found; with its own it
    gives exactly the cadena it was sealed over."""
    from app.certificates.seal import cadena_from_printed

    common = {
        "version": "1.0",
        "numero": "C-2026-000001",
        "folio": "VECS-2026-000017",
        "fecha_emision": "2026-11-27T16:05:12Z",
        "emisor": "Municipio de San Andrés Cholula",
        "servidor_publico": "Arq. María José Peña Núñez",
        "cargo": "Dictaminadora",
        "no_certificado": "00001000000712345678",
        "codigo_verificacion": CODE,
    }
    sealed = {name: value for name, value in FIELDS["licence"].items() if name in LICENCE_1_0}
    original = cadena_original("licence", {**common, "tipo": "LICENCIA_CONSTRUCCION", **sealed})
    assert original.startswith("||1.0|LICENCIA_CONSTRUCCION|C-2026-000001|")
    printed = {
        "Número de licencia": "LC-2026-000017",
        "Titular": sealed["titular"],
        "Ubicación del predio": sealed["ubicacion"],
        "Clave catastral": sealed["clave_catastral"],
        "Superficie de construcción autorizada": "420.50 m²",
        "Uso o giro autorizado": sealed["uso_suelo"],
        "Director Responsable de Obra": sealed["dro_nombre"],
        "Registro del DRO": sealed["dro_registro"],
        "Derechos pagados": "$8,420.00 MXN",
        "Línea de captura pagada": sealed["referencia_pago"],
        "Operación confirmada (Tesorería)": sealed["operacion_pago"],
        "Fecha de pago": "20 de noviembre de 2026",
        "Vigente desde": "27 de noviembre de 2026",
        "Vigente hasta": "27 de noviembre de 2027",
    }
    assert cadena_from_printed("licence", common, printed) == original
    with pytest.raises(SealError, match="missing"):
        cadena_from_printed("licence", {**common, "version": "1.1"}, printed)
    with pytest.raises(SealError, match="format version"):
        cadena_from_printed("licence", {**common, "version": "0.9"}, printed)


def test_an_unknown_kind_has_no_cadena() -> None:
    with pytest.raises(SealError, match="unknown document kind"):
        cadena_fields("passport")
    with pytest.raises(SealError, match="unknown document kind"):
        document_type("passport")
