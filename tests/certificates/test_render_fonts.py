"""Documents are laid out with one fonts' configuration per thread, not a new one per document.

WeasyPrint builds a configuration for every document it is not given one for, and does not give back all of
its native memory when the configuration is released: a worker issuing licences grew with every document.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.certificates.render import (
    TEMPLATES_DIR,
    TemplateFilesFetcher,
    document_stylesheet,
    font_configuration,
    html_to_pdf,
)

BODY = (
    "<body><h1>Licencia</h1><p>Párrafo con <strong>negritas</strong>, <em>cursivas</em> y acentos: ñáéíóú.</p></body>"
)
PAGE = f"<html><head></head>{BODY}</html>"
LINKED = f'<html><head><link rel="stylesheet" href="document.css"></head>{BODY}</html>'
"""The same page as WeasyPrint lays it out by itself: the stylesheet linked, read and parsed for the document."""


def test_documents_reuse_one_font_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[FontConfiguration] = []
    build = FontConfiguration.__init__

    def counted(self: FontConfiguration, *args: Any, **kwargs: Any) -> None:
        created.append(self)
        build(self, *args, **kwargs)

    parsed: list[CSS] = []
    parse = CSS.__init__

    def counted_css(self: CSS, *args: Any, **kwargs: Any) -> None:
        parsed.append(self)
        parse(self, *args, **kwargs)

    monkeypatch.setattr(FontConfiguration, "__init__", counted)
    monkeypatch.setattr(CSS, "__init__", counted_css)
    for _ in range(3):
        html_to_pdf(PAGE)
    assert len(created) <= 1  # none when an earlier test of this thread already built it
    assert len(parsed) <= 1  # the documents' stylesheet, parsed once, and no other
    assert font_configuration() is font_configuration()
    assert document_stylesheet() is document_stylesheet()


def test_each_thread_has_its_own_font_configuration() -> None:
    seen: list[FontConfiguration] = []
    thread = threading.Thread(target=lambda: seen.append(font_configuration()))
    thread.start()
    thread.join()
    assert seen[0] is not font_configuration()


def test_a_kept_configuration_and_stylesheet_lay_out_the_same_document_as_new_ones() -> None:
    html_to_pdf(PAGE)  # the kept configuration has registered the fonts already
    kept = html_to_pdf(PAGE)
    fresh = HTML(string=LINKED, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=TemplateFilesFetcher()).write_pdf(
        finisher=lambda _document, pdf: pdf.info.pop("Producer", None), pdf_variant="pdf/a-2u"
    )
    assert kept == fresh
