"""QR codes for the verification link, embedded in the document as an SVG ``data:`` URL."""

from __future__ import annotations

import segno


def qr_data_uri(text: str) -> str:
    """An SVG QR code of ``text`` as a ``data:`` URL (error correction M, quiet zone of four modules)."""
    code = segno.make_qr(text, error="m", boost_error=False)
    return str(code.svg_data_uri(scale=4, border=4, dark="#000", light="#fff"))
