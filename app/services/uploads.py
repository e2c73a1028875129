"""Checks on uploaded files: size, real PDF content, no active content, and harmless display names.

A document is accepted only when it *is* a PDF, not when it is named like one: it must start with the
PDF header, end with the end-of-file marker (nothing but padding after it, so that a ZIP or HTML file
glued to a PDF is refused), parse with pypdf, have at least one page and not be encrypted. PDFs with
active content (JavaScript, launch actions, embedded files, rich media), with actions that run without
a click, reach other files or servers or send form data, or with XFA forms are refused too: the
documents of a case are evidence to be read, not programs, and reviewers open them on the
institution's computers. Parsing happens in a child process with CPU, memory, time, decoded-bytes and
object-count limits (``app.services.pdf_probe``), so that a decompression bomb costs seconds, not the
server. The original file name is kept only as a label; it never becomes a path (files are stored
under their SHA-256, see ``app/storage``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import subprocess
import sys
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app, has_app_context

from app.engine import InvalidData, Msg

if TYPE_CHECKING:
    from app.services.pdf_probe import Limits

PDF_HEADER = b"%PDF-"
EOF_MARKER = b"%%EOF"
PADDING = b" \t\r\n\x00\x0c"
MAX_NAME_LENGTH = 120
DEFAULT_NAME = "documento.pdf"
PROBE = Path(__file__).with_name("pdf_probe.py")
"""The inspection program, run by the interpreter in isolated mode in a child process."""

DEFAULT_WALL_SECONDS = 15.0
"""How long the child process may take, in real time, before it is killed and the file refused."""

NOT_PDF = Msg("El archivo no es un PDF válido.")
ENCRYPTED = Msg("El PDF está cifrado o protegido con contraseña; adjunte una versión sin protección.")
ACTIVE = Msg(
    "El PDF contiene código o archivos incrustados (JavaScript, acciones de ejecución o adjuntos); "
    "guárdelo de nuevo como PDF simple (por ejemplo, con «Imprimir como PDF») e intente otra vez."
)
ACTIONS = Msg(
    "El PDF contiene acciones automáticas, vínculos a otros archivos o formularios que envían o importan "
    "datos (acciones al abrir, formularios XFA); guárdelo de nuevo como PDF simple (por ejemplo, con "
    "«Imprimir como PDF») e intente otra vez."
)
COSTLY = Msg(
    "El PDF es demasiado costoso de revisar (datos comprimidos que se expanden de más, demasiados objetos "
    "o demasiado tiempo); guárdelo de nuevo como PDF simple (por ejemplo, con «Imprimir como PDF») e "
    "intente otra vez."
)
VERDICTS = {"invalid": NOT_PDF, "encrypted": ENCRYPTED, "active": ACTIVE, "actions": ACTIONS, "costly": COSTLY}

log = logging.getLogger(__name__)


def size_text(size: int) -> str:
    """A byte count as people read a limit: ``20 MB``, ``1.5 MB``, ``500 KB``, ``800 bytes``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{size} bytes"


def _probe_limits() -> tuple[Limits, float]:
    """The child's bounds and wall-clock limit, from the configuration (``PDF_CHECK_*``) when there is one."""
    # imported here: the module imports pypdf, which only the child process needs (some 10 MB of every process
    # otherwise); its bounds' definition is the one the child reads
    from app.services.pdf_probe import Limits

    config = current_app.config if has_app_context() else {}
    base = Limits()
    limits = Limits(
        cpu_seconds=int(config.get("PDF_CHECK_CPU_SECONDS", base.cpu_seconds)),
        memory_bytes=int(config.get("PDF_CHECK_MEMORY_BYTES", base.memory_bytes)),
        max_objects=int(config.get("PDF_CHECK_MAX_OBJECTS", base.max_objects)),
        max_structure_bytes=int(config.get("PDF_CHECK_MAX_STRUCTURE_BYTES", base.max_structure_bytes)),
        max_decoded=int(config.get("PDF_CHECK_MAX_DECODED_BYTES", base.max_decoded)),
        ratio=int(config.get("PDF_CHECK_MAX_RATIO", base.ratio)),
        ratio_floor=int(config.get("PDF_CHECK_RATIO_FLOOR_BYTES", base.ratio_floor)),
        max_image_bytes=int(config.get("PDF_CHECK_MAX_IMAGE_BYTES", base.max_image_bytes)),
    )
    return limits, float(config.get("PDF_CHECK_WALL_SECONDS", DEFAULT_WALL_SECONDS))


_VERDICTS_SEEN: OrderedDict[tuple[bytes, Limits], str] = OrderedDict()
_VERDICTS_LOCK = threading.Lock()
VERDICT_CACHE_SIZE = 512
"""Verdicts kept per process, by SHA-256 of the content and the limits: the same bytes are parsed once
(a retried upload, the same file in several cases). Only verdicts the child gave are kept, never a kill
or a crash, which may depend on the load of the moment."""


def probe_pdf(content: bytes) -> str:
    """The verdict of the limited child process on ``content`` (see ``app.services.pdf_probe``).

    A child that passes its CPU, memory or wall-clock limit, or dies, gives ``costly``.
    """
    limits, wall = _probe_limits()
    key = (hashlib.sha256(content).digest(), limits)
    with _VERDICTS_LOCK:
        known = _VERDICTS_SEEN.get(key)
        if known is not None:
            _VERDICTS_SEEN.move_to_end(key)
            return known
    verdict = _run_probe(content, limits, wall)
    if verdict is not None:
        with _VERDICTS_LOCK:
            _VERDICTS_SEEN[key] = verdict
            while len(_VERDICTS_SEEN) > VERDICT_CACHE_SIZE:
                _VERDICTS_SEEN.popitem(last=False)
    return verdict or "costly"


def _run_probe(content: bytes, limits: Limits, wall: float) -> str | None:
    """Run the child; its verdict, or ``None`` when it was killed or gave none."""
    command = [sys.executable, "-I", str(PROBE), json.dumps(dataclasses.asdict(limits))]
    try:
        done = subprocess.run(  # noqa: S603 - our own program, no shell, bytes on standard input
            command, input=content, capture_output=True, timeout=wall, check=False, close_fds=True
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        log.warning("PDF check killed after %.1f s (%d bytes)", wall, len(content))
        return None
    except OSError:  # no process could be started (limits of the host): refuse, never a 500
        log.exception("PDF check could not start")
        return None
    try:
        verdict = str(json.loads(done.stdout.decode("ascii").strip().splitlines()[-1])["verdict"])
    except (ValueError, KeyError, IndexError, UnicodeDecodeError, TypeError):
        log.warning(
            "PDF check ended without a verdict (exit %s, %d bytes): %s",
            done.returncode,
            len(content),
            done.stderr[-300:].decode("utf-8", "replace"),
        )
        return None
    return verdict if verdict in VERDICTS or verdict == "ok" else None


def check_pdf(content: bytes, max_bytes: int) -> None:
    """Refuse anything but a plain, readable PDF of at most ``max_bytes``.

    The cheap checks run here; the file is parsed in a limited child process (``probe_pdf``). Raises
    ``InvalidData`` naming the problem: empty, too large, not a PDF (wrong or disguised type, damaged,
    data appended after the end of the PDF), encrypted, with active content, with automatic actions,
    links to other files or forms that send data, or too costly to inspect (a decompression bomb).
    """
    if not content:
        raise InvalidData(Msg("El archivo está vacío."))
    if len(content) > max_bytes:
        raise InvalidData(Msg("El archivo excede el tamaño máximo de %(size)s.", {"size": size_text(max_bytes)}))
    end = content.rfind(EOF_MARKER)
    if not content.startswith(PDF_HEADER) or end < 0 or content[end + len(EOF_MARKER) :].strip(PADDING):
        raise InvalidData(NOT_PDF)
    verdict = probe_pdf(content)
    if verdict != "ok":
        raise InvalidData(VERDICTS[verdict])


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
