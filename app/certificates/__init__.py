"""Certificates: documents rendered from HTML, sealed (cadena original + sello), signed (PAdES), verifiable.

The renderer (WeasyPrint) and the signer (pyHanko) take seconds to import and tens of megabytes: their
names here are loaded on first use (PEP 562), so that starting the application, or a request that issues
nothing, does not pay for them.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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
from app.certificates.seal import SealError, cadena_fields, cadena_original, document_type, verify_sello

if TYPE_CHECKING:
    from app.certificates.pades import SignatureCheck, SignatureError, sign_pdf, validate_pdf
    from app.certificates.render import RenderError, render_html, render_pdf

_LAZY = {
    "SignatureCheck": "app.certificates.pades",
    "SignatureError": "app.certificates.pades",
    "sign_pdf": "app.certificates.pades",
    "validate_pdf": "app.certificates.pades",
    "RenderError": "app.certificates.render",
    "render_html": "app.certificates.render",
    "render_pdf": "app.certificates.render",
}


def __getattr__(name: str) -> Any:
    """The renderer's and the signer's names, imported when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
