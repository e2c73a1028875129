"""The one way a certificate becomes a PDF: Jinja (``StrictUndefined``) over ``pdf_templates/``, then WeasyPrint.

Safety rules, enforced here rather than hoped for in each template:

- the template context is plain data (strings, numbers, booleans, dates, lists, dicts); anything else, such
  as an ORM object that could load more rows while the template runs, is refused before rendering;
- a variable the template names but the context lacks is an error, never an empty string;
- the only resources a document may load are files inside ``pdf_templates/`` (fonts, stylesheet, images) and
  inline ``data:`` URLs (the QR code). Any other URL, a path escaping the folder and a missing file stop
  the rendering with :class:`RenderError` instead of silently producing a different document.

Documents are PDF/A-2u (archival, every glyph mapped to Unicode so that text can be read back).
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import threading
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import jinja2
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

from app.certificates.formatting import area, money, printed_date

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "pdf_templates"
"""The folder of the document templates and of every file they may load."""

PDF_VARIANT = "pdf/a-2u"
"""PDF/A-2, level U: archival, fonts embedded, text extractable. Incremental signatures keep it valid."""

_PLAIN_SCALARS = (str, int, float, bool, Decimal, date, datetime, type(None))


class RenderError(RuntimeError):
    """A document could not be rendered (bad context, missing template or resource, refused URL)."""


def check_plain(value: Any, path: str = "context") -> None:
    """Refuse anything but plain data in a template context; raises :class:`RenderError` naming the path."""
    if isinstance(value, _PLAIN_SCALARS):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise RenderError(f"{path}: keys must be strings, not {type(key).__name__}")
            check_plain(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_plain(item, f"{path}[{index}]")
        return
    raise RenderError(f"{path}: {type(value).__name__} is not plain data; pass strings, numbers, lists and dicts")


class TemplateFilesFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``file:`` URLs inside ``root`` and ``data:`` URLs; refuses everything else (fatally)."""

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=True)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the resource at ``url`` or raise ``FatalURLFetchingError`` (which stops the rendering)."""
        parts = urlsplit(url)
        if parts.scheme == "data":
            return self._data(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise FatalURLFetchingError(f"refused to load {url!r}: documents only use files from pdf_templates/")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FatalURLFetchingError(f"refused to load {url!r}: not a file inside pdf_templates/")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": media_type})

    @staticmethod
    def _data(url: str) -> URLFetcherResponse:
        header, sep, payload = url[len("data:") :].partition(",")
        if not sep:
            raise FatalURLFetchingError("malformed data: URL")
        params = header.split(";")
        media_type = params[0] or "text/plain"
        try:
            body = base64.b64decode(payload, validate=True) if "base64" in params[1:] else unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            raise FatalURLFetchingError(f"malformed data: URL: {exc}") from None
        return URLFetcherResponse("data:", body, {"Content-Type": media_type})


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja environment of the document templates (built once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Builders hand raw values (ISO dates, plain decimals) to templates, which print them these ways.
    env.filters.update({"money": money, "area": area, "long_date": printed_date})
    return env


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The HTML of ``template`` (a file name inside ``pdf_templates/``) with ``context``.

    Raises :class:`RenderError` for a context that is not plain data, an unknown template or a variable the
    context lacks.
    """
    check_plain(context)
    try:
        return environment().get_template(template).render(**context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{template}: {exc}") from exc


_FONTS = threading.local()


def font_configuration() -> FontConfiguration:
    """The fonts' configuration documents are laid out with, one per thread, kept for the process's life.

    WeasyPrint builds a new one for each document it is not given one for, and releasing it does not give
    back all of its native memory (fontconfig's configuration and font set, about 220 KB each with WeasyPrint
    70): a worker issuing licences grew by that much per document. The ``@font-face`` fonts of
    ``pdf_templates/`` are registered in it once (WeasyPrint keys them by their declaration), and the same
    document comes out byte for byte the same. Pango's font maps are not to be shared between threads, hence
    one per thread."""
    config: FontConfiguration | None = getattr(_FONTS, "config", None)
    if config is None:
        config = _FONTS.config = FontConfiguration()
    return config


STYLESHEET = TEMPLATES_DIR / "document.css"
"""The documents' stylesheet, applied to every document :func:`html_to_pdf` lays out."""


def document_stylesheet() -> CSS:
    """:data:`STYLESHEET` parsed, its ``@font-face`` fonts registered in this thread's :func:`font_configuration`;
    kept with it. A ``<link>`` to it in each document had WeasyPrint read and parse it again for every document
    (about a tenth of a licence's layout)."""
    stylesheet: CSS | None = getattr(_FONTS, "stylesheet", None)
    if stylesheet is None:
        stylesheet = _FONTS.stylesheet = CSS(
            filename=str(STYLESHEET), url_fetcher=TemplateFilesFetcher(), font_config=font_configuration()
        )
    return stylesheet


def _drop_producer(_document: Any, pdf: Any) -> None:
    # The signer later writes its own producer into both the info dictionary and the XMP packet; an
    # existing info entry would make it append to one and replace the other, and PDF/A requires the two
    # to agree. The XMP packet keeps the renderer's name until then.
    pdf.info.pop("Producer", None)


def html_to_pdf(html: str, *, variant: str | None = PDF_VARIANT) -> bytes:
    """Lay out ``html`` with the documents' stylesheet (:func:`document_stylesheet`; resources resolved against
    ``pdf_templates/``) as a PDF; raises :class:`RenderError`."""
    base_url = TEMPLATES_DIR.as_uri() + "/"
    try:
        stylesheet = document_stylesheet()
        document = HTML(string=html, base_url=base_url, url_fetcher=TemplateFilesFetcher())
        options: dict[str, Any] = {"pdf_variant": variant} if variant else {}
        pdf = document.write_pdf(
            stylesheets=[stylesheet], finisher=_drop_producer, font_config=font_configuration(), **options
        )
    except FatalURLFetchingError as exc:  # a BaseException: never let it escape as one
        raise RenderError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise RenderError(f"rendering failed: {exc}") from exc
    if not isinstance(pdf, bytes):
        raise RenderError("renderer returned no PDF")
    return pdf


def render_pdf(template: str, context: Mapping[str, Any], *, variant: str | None = PDF_VARIANT) -> bytes:
    """Render ``template`` with ``context`` to PDF/A bytes: the single entry point for documents.

    Raises :class:`RenderError` (bad context, template error, refused or missing resource).
    """
    return html_to_pdf(render_html(template, context), variant=variant)
