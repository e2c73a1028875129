"""The inspection of an uploaded PDF, run in a separate, limited process (see ``app.services.uploads``).

Parsing a hostile PDF can cost a lot: a 20 KB object stream may inflate to 20 MB of white space that
the parser then crawls through, a 1 MB stream to 1 GiB. So the web process never parses uploads itself:
it starts this file with the interpreter in isolated mode (``python -I``; it imports nothing but the
standard library and pypdf), hands it the bytes on standard input and reads one JSON line back. Before
parsing, the process limits its own CPU time and address space (``RLIMIT_CPU``, ``RLIMIT_AS``); the
parent adds a wall-clock limit and kills it when that passes. Inside, every decoded stream is bounded:

- streams pypdf decodes to find objects (object and cross-reference streams) stop at
  ``max_structure_bytes``;
- every other Flate stream is inflated here, chunk by chunk, and counted, never kept: an image may not
  inflate past its declared raster size (width × height × components × bits, plus predictor bytes), and
  other streams not past ``max(ratio_floor, ratio × encoded length)`` nor, all together,
  ``max_decoded``; ASCII, LZW and run-length filters are decoded by pypdf (the last two within
  ``max_structure_bytes``), so that a Flate stream behind them is measured too;
- at most ``max_objects`` objects are visited.

The verdict is one of ``ok``, ``invalid`` (not a readable PDF), ``encrypted``, ``active`` (JavaScript,
launch actions, embedded files, rich media), ``actions`` (actions run without a click, links to other
files or servers, forms that send or import data, XFA forms) or ``costly`` (a bound above was passed).
"""

from __future__ import annotations

import io
import json
import logging
import resource
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

ACTIVE_CONTENT = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia"})
"""Names that mark active content in a PDF, as a key (``/JS``) or as an action type (``/S /Launch``)."""

REFUSED_ACTIONS = frozenset(
    {
        "/SubmitForm",  # sends the form's data to a server
        "/ImportData",  # reads a file from the reader's disk
        "/GoToR",  # opens another file, e.g. on a UNC path (leaks the Windows credentials' hash)
        "/GoToE",  # opens an embedded or remote file
        "/Rendition",
        "/Sound",
        "/Movie",
        "/RichMediaExecute",
    }
)
"""Action types refused wherever they are, even behind a click."""

REFUSED_KEYS = frozenset({"/AA", "/XFA"})
"""Keys refused anywhere: additional actions (run on open, close, page view, focus…) and XFA forms."""

SAFE_OPEN_ACTIONS = frozenset({"/GoTo"})
"""The only action a document may run by itself when opened: going to a page of its own."""

IMAGE_FILTERS = frozenset({"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"})
"""Image codecs: the data after them is an image for the viewer, not something to inflate here."""

FLATE = frozenset({"/FlateDecode", "/Fl"})
OTHER_FILTERS: dict[str, Any] = {
    "/ASCIIHexDecode": ASCIIHexDecode,
    "/AHx": ASCIIHexDecode,
    "/ASCII85Decode": ASCII85Decode,
    "/A85": ASCII85Decode,
    "/LZWDecode": LZWDecode,  # bounded by pypdf's configured output limit
    "/LZW": LZWDecode,
    "/RunLengthDecode": RunLengthDecode,
    "/RL": RunLengthDecode,
}
"""Filters decoded here (by pypdf, LZW and run-length within ``max_structure_bytes``), so that they are
bounded too and a Flate stream behind them is measured."""
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one inspection (see the module documentation)."""

    cpu_seconds: int = 5
    memory_bytes: int = 1024 * 1024 * 1024
    max_objects: int = 200_000
    max_structure_bytes: int = 16 * 1024 * 1024
    max_decoded: int = 256 * 1024 * 1024
    ratio: int = 100
    ratio_floor: int = 2 * 1024 * 1024
    max_image_bytes: int = 512 * 1024 * 1024


class Refused(Exception):  # a verdict, not an error of this program
    """The file gets ``verdict``."""

    def __init__(self, verdict: str) -> None:
        super().__init__(verdict)
        self.verdict = verdict


def _names(value: Any) -> list[str]:
    if isinstance(value, NameObject):
        return [str(value)]
    if isinstance(value, ArrayObject):
        return [str(v) for v in value if isinstance(v, NameObject)]
    return []


def _open_action_runs(value: Any) -> bool:
    """Whether an ``/OpenAction`` does more than show a page of the document itself (a destination, or a
    chain of ``/GoTo`` actions): anything else runs without the reader's consent."""
    seen = 0
    stack = [value]
    while stack:
        item = stack.pop()
        item = item.get_object() if isinstance(item, IndirectObject) else item
        seen += 1
        if seen > 1000:
            raise Refused("costly")
        if isinstance(item, ArrayObject):
            continue  # a destination: [page /Fit] and the like
        if not isinstance(item, DictionaryObject) or str(item.get("/S", "")) not in SAFE_OPEN_ACTIONS:
            return True
        following = item.get("/Next")
        if following is not None:
            following = following.get_object()
            stack.extend(following if isinstance(following, ArrayObject) else [following])
    return False


def walk(reader: Any, limits: Limits) -> None:
    """Refuse active content and unwanted actions anywhere reachable from the trailer.

    Active content (``active``) is named in preference to other actions (``actions``) when a file has both.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    actions = False
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > limits.max_objects:
            raise Refused("costly")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in ACTIVE_CONTENT:
                    raise Refused("active")
                if key in REFUSED_KEYS or (key == "/OpenAction" and _open_action_runs(value)):
                    actions = True
                if isinstance(value, NameObject) and key in ("/S", "/Type", "/Subtype"):
                    if value in ACTIVE_CONTENT:
                        raise Refused("active")
                    if value in REFUSED_ACTIONS:
                        actions = True
                if isinstance(value, DictionaryObject | ArrayObject | IndirectObject):
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(v for v in item if isinstance(v, DictionaryObject | ArrayObject | IndirectObject))
    if actions:
        raise Refused("actions")


def _inflate_count(data: bytes, limit: int, keep: bool) -> tuple[int, bytes]:
    """Inflate ``data`` in chunks; refuse past ``limit`` bytes. Returns the size (and the data if ``keep``)."""
    inflater = zlib.decompressobj()
    produced = 0
    kept: list[bytes] = []
    pending = data
    try:
        while pending:
            chunk = inflater.decompress(pending, CHUNK)
            produced += len(chunk)
            if produced > limit:
                raise Refused("costly")
            if keep:
                kept.append(chunk)
            pending = inflater.unconsumed_tail
            if inflater.eof or (not chunk and not pending):
                break
    except zlib.error:
        pass  # a damaged stream: viewers show what inflates, and so do we count it
    return produced, b"".join(kept)


def _raster_bytes(stream: Any, limits: Limits) -> int:
    """What an image's declared size allows its data to inflate to (rows, predictor bytes, some slack)."""

    def number(key: str, default: int) -> int:
        value = stream.get(key, default)
        value = value.get_object() if hasattr(value, "get_object") else value
        try:
            return max(0, int(value))
        except (TypeError, ValueError):
            return default

    width, height = number("/Width", 0), number("/Height", 0)
    bits = number("/BitsPerComponent", 8) or 8
    colour = stream.get("/ColorSpace")
    colour = colour.get_object() if hasattr(colour, "get_object") else colour
    # four components unless plainly grey: counting too much only loosens the bound a little
    components = 1 if str(colour) in ("/DeviceGray", "/CalGray", "/G") else 4
    if stream.get("/ImageMask"):
        components, bits = 1, 1
    row = (width * components * bits + 7) // 8 + 1  # one predictor byte per row
    raster = row * height + 4096
    if raster > limits.max_image_bytes:
        raise Refused("costly")
    return raster


def streams(reader: Any, limits: Limits) -> Iterator[Any]:
    """Every stream stored directly in the file (streams never live inside object streams)."""
    count = 0
    for generation, entries in reader.xref.items():
        for idnum in list(entries):
            count += 1
            if count > limits.max_objects:
                raise Refused("costly")
            try:
                item = IndirectObject(idnum, generation, reader).get_object()
            except Exception:  # noqa: S112 - a damaged object: the walk decides whether the file is readable
                continue
            if isinstance(item, StreamObject):
                yield item


def measure_streams(reader: Any, limits: Limits) -> None:
    """Inflate every Flate-compressed stream (without keeping it) and refuse one that inflates too much."""
    total = 0
    for stream in streams(reader, limits):
        filters = _names(stream.get("/Filter"))
        data = stream._data  # the encoded bytes as stored in the file
        image = str(stream.get("/Subtype", "")) == "/Image"
        for position, name in enumerate(filters):
            if name in IMAGE_FILTERS:
                break
            if name not in FLATE:
                decoder = OTHER_FILTERS.get(name)
                if decoder is None:
                    break  # a filter no viewer knows: nothing more to measure
                data = decoder.decode(data)  # LZW and run-length stop at the structure bound
                continue
            later = [f for f in filters[position + 1 :] if f not in IMAGE_FILTERS]
            if image:
                limit = _raster_bytes(stream, limits)
            else:
                limit = min(max(limits.ratio_floor, limits.ratio * len(data)), limits.max_decoded - total)
            produced, data = _inflate_count(data, limit, keep=bool(later))
            if not image:
                total += produced
            if not later:
                break


def inspect(content: bytes, limits: Limits) -> str:
    """The verdict on ``content`` (see the module documentation)."""
    bound = limits.max_structure_bytes
    try:
        with apply_configuration(
            maximum_declared_stream_length=max(bound, len(content)),
            array_based_stream_maximum_output_length=bound,
            jbig2_maximum_output_length=bound,
            lzw_maximum_output_length=bound,
            run_length_maximum_output_length=bound,
            zlib_maximum_output_length=bound,
            brotli_maximum_output_length=bound,
            stream_decoding_work_maximum_length=bound,
            xfa_decoding_work_maximum_length=bound,
            jbig2dec_binary=None,
        ):
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                return "encrypted"
            if len(reader.pages) < 1:
                return "invalid"
            walk(reader, limits)
            measure_streams(reader, limits)
    except Refused as refused:
        return refused.verdict
    except (LimitReachedError, MemoryError, RecursionError):
        return "costly"
    except Exception:  # any parser failure means the file is not a readable PDF
        return "invalid"
    return "ok"


def _limit_self(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    """Read the limits (JSON, first argument) and the PDF (standard input); print ``{"verdict": …}``."""
    limits = Limits(**json.loads(sys.argv[1])) if len(sys.argv) > 1 else Limits()
    _limit_self(limits)
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    logging.disable(logging.CRITICAL)
    content = sys.stdin.buffer.read()
    verdict = inspect(content, limits)
    sys.stdout.write(json.dumps({"verdict": verdict}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
