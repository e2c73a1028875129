"""Certificates: documents rendered from HTML, sealed (cadena original + sello), signed (PAdES), verifiable."""

from app.certificates.documents import display, public_rows, spec
from app.certificates.issuance import (
    IssuedDocument,
    IssueRequest,
    Office,
    issue,
    new_verification_code,
    normalise_code,
    verification_url,
)
from app.certificates.pades import SignatureCheck, SignatureError, sign_pdf, validate_pdf
from app.certificates.render import RenderError, render_html, render_pdf
from app.certificates.seal import SealError, cadena_fields, cadena_original, document_type, verify_sello

__all__ = [
    "IssueRequest",
    "IssuedDocument",
    "Office",
    "RenderError",
    "SealError",
    "SignatureCheck",
    "SignatureError",
    "cadena_fields",
    "cadena_original",
    "display",
    "document_type",
    "issue",
    "new_verification_code",
    "normalise_code",
    "public_rows",
    "render_html",
    "render_pdf",
    "sign_pdf",
    "spec",
    "validate_pdf",
    "verification_url",
    "verify_sello",
]
