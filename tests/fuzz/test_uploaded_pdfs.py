"""Fuzzing the checks of uploaded PDFs (``app.services.uploads`` and the probe in ``app.services.pdf_probe``).

Properties: the probe's inspection gives one of its documented verdicts for any bytes, within the deadline,
never an exception; a PDF with active content or a refused action anywhere reachable — in the catalog, a
page, an annotation, nested arrays and dictionaries, behind indirect references, its name written with
``#xx`` escapes — is never ``ok``; ``check_pdf`` (the child process included) raises only ``InvalidData``.
"""

from __future__ import annotations

import contextlib
import zlib

from hypothesis import given
from hypothesis import strategies as st

from app.engine import InvalidData
from app.services.demo import demo_pdf
from app.services.pdf_probe import ACTIVE_CONTENT, REFUSED_ACTIONS, REFUSED_KEYS, Limits, inspect
from app.services.uploads import VERDICTS, check_pdf
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import mutated_bytes
from tests.support.hostile_pdfs import one_page, stream

LIMITS = Limits(max_decoded=64 * 1024 * 1024, max_structure_bytes=4 * 1024 * 1024)
KNOWN = {"ok", *VERDICTS}
SEEDS = [
    demo_pdf("Planos arquitectónicos"),
    one_page(extra=(stream(zlib.compress(b"BT (texto) Tj ET" * 200), b"/Filter /FlateDecode"),)),
    one_page(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
    one_page(page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /A << /S /Launch /F (cmd.exe) >> >>]"),
    one_page(catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 5 0 R] >> >>", extra=(b"<< >>",)),
    one_page(catalog_extra=b"/AcroForm << /XFA 5 0 R >>", extra=(stream(b"<xdp/>"),)),
]


@fuzz(150)
@given(st.sampled_from(range(len(SEEDS))).flatmap(lambda n: mutated_bytes(SEEDS[n], max_changes=6)))
def test_any_bytes_get_a_documented_verdict(content: bytes):
    assert inspect(content, LIMITS) in KNOWN


@fuzz(60)
@given(st.binary(max_size=2048))
def test_random_bytes_between_a_header_and_an_end_marker(body: bytes):
    assert inspect(b"%PDF-1.7\n" + body + b"\n%%EOF\n", LIMITS) in {"invalid", "costly", "encrypted", "ok"}


def _escaped(draw: st.DrawFn, name: str) -> bytes:
    """A PDF name, some of its characters written as ``#xx`` (the same name to every reader)."""
    out = bytearray(b"/")
    for char in name[1:]:
        out += f"#{ord(char):02X}".encode() if draw(st.booleans()) else char.encode()
    return bytes(out)


@st.composite
def hostile_pdfs(draw: st.DrawFn) -> tuple[bytes, str]:
    """A one-page PDF with one refused thing placed somewhere reachable; the verdict it must get."""
    kind = draw(st.sampled_from(["active key", "active action", "refused action", "refused key", "open action"]))
    if kind == "active key":
        name = draw(st.sampled_from(sorted(ACTIVE_CONTENT)))
        thing, expected = _escaped(draw, name) + b" (x)", "active"
    elif kind == "active action":
        name = draw(st.sampled_from(sorted(ACTIVE_CONTENT)))
        thing, expected = b"/A << /S " + _escaped(draw, name) + b" >>", "active"
    elif kind == "refused action":
        name = draw(st.sampled_from(sorted(REFUSED_ACTIONS)))
        thing, expected = b"/A << /S " + _escaped(draw, name) + b" /F (\\\\\\\\server\\\\x) >>", "actions"
    elif kind == "refused key":
        name = draw(st.sampled_from(sorted(REFUSED_KEYS)))
        thing, expected = _escaped(draw, name) + b" << >>", "actions"
    else:
        thing, expected = b"/OpenAction << /S /URI /URI (https://example.test) >>", "actions"
    holder = b"<< " + thing + b" >>"
    indirect = draw(st.booleans())
    extra: list[bytes] = []
    for _ in range(draw(st.integers(0, 6))):  # nested in arrays and dictionaries
        wrap = draw(st.sampled_from(["array", "dict", "indirect"]))
        if wrap == "array":
            holder = b"[ 0 " + holder + b" /Fit ]"
        elif wrap == "dict":
            holder = b"<< /Kid " + holder + b" /N 1 >>"
        elif not holder.endswith(b" R"):  # an object whose whole value is another reference is not a thing
            extra.append(holder)
            holder = b"%d 0 R" % (4 + len(extra))
    if indirect and not holder.endswith(b" R"):
        extra.append(holder)
        holder = b"%d 0 R" % (4 + len(extra))
    where = draw(st.sampled_from(["catalog", "page", "annotation", "resources"]))
    if where == "catalog":
        pdf = one_page(catalog_extra=b"/Extra " + holder, extra=tuple(extra))
    elif where == "page":
        pdf = one_page(page_extra=b"/Extra " + holder, extra=tuple(extra))
    elif where == "annotation":
        pdf = one_page(
            page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /Extra " + holder + b" >>]",
            extra=tuple(extra),
        )
    else:
        pdf = one_page(resources=b"<< /Extra " + holder + b" >>", extra=tuple(extra))
    return pdf, expected


@fuzz(120)
@given(hostile_pdfs())
def test_refused_content_anywhere_is_never_ok(sample: tuple[bytes, str]):
    pdf, expected = sample
    verdict = inspect(pdf, LIMITS)
    assert verdict != "ok"
    assert verdict == expected


@fuzz(6, deadline_seconds=30)
@given(st.sampled_from(range(len(SEEDS))).flatmap(lambda n: mutated_bytes(SEEDS[n], max_changes=3)))
def test_check_pdf_raises_only_invalid_data(content: bytes):
    """The whole check, the limited child process included."""
    with contextlib.suppress(InvalidData):
        check_pdf(content, 1024 * 1024)
