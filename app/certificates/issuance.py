"""Issuing a document: cadena original, sello, PDF/A rendering, QR, PAdES signature. No database here."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization

from app.certificates.documents import display, public_rows, spec
from app.certificates.formatting import long_date, long_datetime
from app.certificates.qr import qr_data_uri
from app.certificates.seal import cadena_original, certificate_number, sello
from app.keys import SigningMaterial

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: no I, L, O or U, so that a code read aloud or typed by hand survives."""
CODE_LENGTH = 10
_TYPED_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_verification_code() -> str:
    """A random verification code: 10 base32 characters, 50 bits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """A code as typed (any case, with spaces or hyphens, O for 0, I or L for 1) in its canonical form."""
    return "".join(c for c in typed.upper() if c.isalnum()).translate(_TYPED_FIXES)


def verification_url(base_url: str, folio: str, code: str) -> str:
    """Where the QR code leads: ``{base}/verificar/{folio}?c={code}``."""
    return f"{base_url.rstrip('/')}/verificar/{quote(folio, safe='')}?c={quote(code, safe='')}"


@dataclass(frozen=True, slots=True)
class Office:
    """What the issuing institution prints on every document."""

    institution: str
    complaints: str
    public_base_url: str
    logo: str = ""
    """A path inside ``pdf_templates/`` (e.g. ``images/escudo.svg``); empty for none."""


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One document to issue. ``fields`` are the kind's own cadena fields (raw values, in any order);
    ``extra`` is data printed but not sealed (fee breakdowns, narrative paragraphs)."""

    kind: str
    number: str
    folio: str
    verification_code: str
    issued_at: datetime
    official_name: str
    official_position: str
    legal_basis: str
    fields: Mapping[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)
    valid_until: date | None = None
    issuing_unit: str = ""
    """The office that issues it (a department), printed under the institution's name."""


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    """A signed PDF and what was sealed into it."""

    pdf: bytes
    sha256: str
    cadena: str
    sello: str
    certificate_serial: str
    signing_certificate_pem: str
    verification_url: str
    public_rows: list[dict[str, str]]


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(request: IssueRequest, office: Office, material: SigningMaterial) -> IssuedDocument:
    """Seal, render, sign: the document's bytes and metadata, ready to be stored.

    The kind's template, title, ``tipo``, cadena order and printed rows come from the procedure that declares
    it. Raises ``KeyError`` for a kind no installed procedure issues, ``SealError`` when the fields do not
    match the kind, ``RenderError`` and ``SignatureError``.
    """
    if request.issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    document = spec(request.kind)
    serial = certificate_number(material.certificate)
    cadena = cadena_original(
        request.kind,
        {
            "version": document.cadena_version,
            "tipo": document.tipo,
            "numero": request.number,
            "folio": request.folio,
            "fecha_emision": _instant(request.issued_at),
            "emisor": office.institution,
            **request.fields,
            "servidor_publico": request.official_name,
            "cargo": request.official_position,
            "no_certificado": serial,
            "codigo_verificacion": request.verification_code,
        },
    )
    seal = sello(material.key, cadena)
    url = verification_url(office.public_base_url, request.folio, request.verification_code)
    rows = public_rows(document, request.fields)
    context = {
        "doc": {
            "kind": request.kind,
            "title": document.title,
            "number": request.number,
            "folio": request.folio,
            "issued_on": long_date(request.issued_at),
            "issued_at": long_datetime(request.issued_at),
            "issued_iso": _instant(request.issued_at),
            "valid_until": long_date(request.valid_until),
            "issuing_unit": request.issuing_unit,
            "verification_url": url,
            "verification_code": request.verification_code,
            "qr": qr_data_uri(url),
        },
        "institution": {"name": office.institution, "logo": office.logo},
        "official": {"name": request.official_name, "position": request.official_position},
        "rows": rows,
        "f": display(document, request.fields),
        "x": dict(request.extra),
        "legal_basis": request.legal_basis,
        "seal": {
            "cadena": cadena,
            "sello": seal,
            "certificate_serial": serial,
            "version": document.cadena_version,
            "tipo": document.tipo,
        },
        "complaints": office.complaints,
    }
    # Imported here: the renderer and the signer are heavy and only issuing needs them.
    from app.certificates.pades import sign_pdf
    from app.certificates.render import render_pdf

    pdf = render_pdf(document.template, context)
    signed = sign_pdf(
        pdf,
        material,
        reason=f"{document.title} {request.number}",
        location=office.institution,
    )
    return IssuedDocument(
        pdf=signed,
        sha256=hashlib.sha256(signed).hexdigest(),
        cadena=cadena,
        sello=seal,
        certificate_serial=serial,
        signing_certificate_pem=material.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        verification_url=url,
        public_rows=rows,
    )
