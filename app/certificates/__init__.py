"""Certificates: documents rendered from HTML, sealed (cadena original + sello), signed (PAdES), verifiable."""

from app.certificates.documents import SPECS, DocumentSpec, spec
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
from app.certificates.seal import CADENA_FIELDS, SealError, cadena_original, verify_sello

__all__ = [
    "CADENA_FIELDS",
    "SPECS",
    "DocumentSpec",
    "IssueRequest",
    "IssuedDocument",
    "Office",
    "RenderError",
    "SealError",
    "SignatureCheck",
    "SignatureError",
    "cadena_original",
    "issue",
    "new_verification_code",
    "normalise_code",
    "render_html",
    "render_pdf",
    "sign_pdf",
    "spec",
    "validate_pdf",
    "verification_url",
    "verify_sello",
]
