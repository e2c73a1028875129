"""Checks on uploaded files: size, real PDF content, no active content, and harmless display names.

A document is accepted only when it *is* a PDF, not when it is named like one: it must start with the
PDF header, end with the end-of-file marker (nothing but padding after it, so that a ZIP or HTML file
glued to a PDF is refused), parse with pypdf, have at least one page and not be encrypted. PDFs with
active content (JavaScript, launch actions, embedded files, rich media) are refused too: the documents
of a case are evidence to be read, not programs, and reviewers open them on the institution's
computers. The original file name is kept only as a label; it never becomes a path (files are stored
under their SHA-256, see ``app/storage``).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from app.engine import InvalidData, Msg

PDF_HEADER = b"%PDF-"
EOF_MARKER = b"%%EOF"
PADDING = b" \t\r\n\x00\x0c"
ACTIVE_CONTENT = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia"})
"""Names that mark active content in a PDF, as a key (``/JS``) or as an action type (``/S /Launch``)."""
MAX_OBJECTS = 500_000
"""More objects than this is treated as a malformed file (it would take too long to inspect)."""
MAX_NAME_LENGTH = 120
DEFAULT_NAME = "documento.pdf"

logging.getLogger("pypdf").setLevel(logging.ERROR)


def size_text(size: int) -> str:
    """A byte count as people read a limit: ``20 MB``, ``1.5 MB``, ``500 KB``, ``800 bytes``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{size} bytes"


def _has_active_content(reader: PdfReader) -> bool:
    """Whether any object reachable from the trailer marks active content (walks dictionaries and arrays)."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in ACTIVE_CONTENT:
                    return True
                if isinstance(value, NameObject) and value in ACTIVE_CONTENT and key in ("/S", "/Type", "/Subtype"):
                    return True
                if isinstance(value, DictionaryObject | ArrayObject | IndirectObject):
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(v for v in item if isinstance(v, DictionaryObject | ArrayObject | IndirectObject))
    return False


def check_pdf(content: bytes, max_bytes: int) -> None:
    """Refuse anything but a plain, readable PDF of at most ``max_bytes``.

    Raises ``InvalidData`` naming the problem: empty, too large, not a PDF (wrong or disguised type,
    damaged, data appended after the end of the PDF), encrypted, or with active content.
    """
    if not content:
        raise InvalidData(Msg("El archivo está vacío."))
    if len(content) > max_bytes:
        raise InvalidData(Msg("El archivo excede el tamaño máximo de %(size)s.", {"size": size_text(max_bytes)}))
    end = content.rfind(EOF_MARKER)
    if not content.startswith(PDF_HEADER) or end < 0 or content[end + len(EOF_MARKER) :].strip(PADDING):
        raise InvalidData(Msg("El archivo no es un PDF válido."))
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise InvalidData(
                Msg("El PDF está cifrado o protegido con contraseña; adjunte una versión sin protección.")
            )
        if len(reader.pages) < 1:
            raise InvalidData(Msg("El archivo no es un PDF válido."))
        active = _has_active_content(reader)
    except InvalidData:
        raise
    except Exception:  # any parser failure means the file is not a readable PDF
        raise InvalidData(Msg("El archivo no es un PDF válido.")) from None
    if active:
        raise InvalidData(
            Msg(
                "El PDF contiene código o archivos incrustados (JavaScript, acciones de ejecución o adjuntos); "
                "guárdelo de nuevo como PDF simple (por ejemplo, con «Imprimir como PDF») e intente otra vez."
            )
        )


_UNSAFE = re.compile(r'[<>:"|?*]')


def clean_file_name(name: str) -> str:
    """The uploaded file's name as a harmless label: its last path component only, without control or
    direction-changing characters or characters that are special in file systems, at most 120 characters
    and ending in ``.pdf``; ``documento.pdf`` when nothing usable is left. Never used as a path."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip()
    stem, suffix = (text[:-4], text[-4:]) if text.lower().endswith(".pdf") else (text, ".pdf")
    stem = stem.strip(" .")[: MAX_NAME_LENGTH - len(suffix)].rstrip(" .")
    return f"{stem}{suffix}" if stem else DEFAULT_NAME


def download_name(folio: str, kind: str, document_id: int) -> str:
    """A generated ASCII file name for serving a stored document (the uploader's name is never sent back)."""
    raw = f"{folio}-{kind}-{document_id}"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or "documento"
    return f"{safe}.pdf"
