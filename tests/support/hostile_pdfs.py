"""Hostile PDF files built from raw bytes for the upload checks: decompression bombs and unwanted actions."""

from __future__ import annotations

import functools
import zlib

MIB = 1024 * 1024


def pdf_from_objects(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF with a classic cross-reference table; ``objects[0]`` is object 1 (the catalog, pages as 2)."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer_extra
    out += f">>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def stream(data: bytes, dictionary: bytes = b"") -> bytes:
    """An object body holding ``data`` as a stream (its length filled in)."""
    return b"<< /Length %d " % len(data) + dictionary + b" >>\nstream\n" + data + b"\nendstream"


def one_page(
    page_extra: bytes = b"", catalog_extra: bytes = b"", extra: tuple[bytes, ...] = (), resources: bytes = b"<< >>"
) -> bytes:
    """A one-page PDF; ``extra`` objects are numbered from 5 on."""
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources "
            + resources
            + b" "
            + page_extra
            + b" >>",
            stream(b"BT /F1 12 Tf 72 720 Td (Planos) Tj ET"),
            *extra,
        ]
    )


def object_stream_bomb(inflated: int = 20 * MIB) -> bytes:
    """A PDF whose document information lives in one object stream of about 20 KB that inflates to
    ``inflated`` bytes of white space before the object (the parser crawls through all of it)."""
    header = f"6 {inflated} ".encode()
    body = header + b" " * inflated + b"<< /Producer (bomba) >>"
    packed = zlib.compress(body, 9)
    parts = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>",
        stream(b""),
        stream(packed, b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header)),
    ]
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body_bytes in enumerate(parts, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body_bytes + b"\nendobj\n"
    xref_at = len(out)
    rows = [bytes([0]) + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")]
    rows += [bytes([1]) + offset.to_bytes(4, "big") + (0).to_bytes(2, "big") for offset in offsets]
    rows.append(bytes([2]) + (5).to_bytes(4, "big") + (0).to_bytes(2, "big"))  # object 6: in stream 5, index 0
    rows.append(bytes([1]) + xref_at.to_bytes(4, "big") + (0).to_bytes(2, "big"))  # object 7: this stream
    table = b"".join(rows)
    out += b"7 0 obj\n" + stream(table, b"/Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Info 6 0 R") + b"\nendobj\n"
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


@functools.cache
def deflated_zeros(size: int) -> bytes:
    """``size`` zero bytes, deflated (1 GiB becomes about 1 MB); built once per test process."""
    packer = zlib.compressobj(9)
    block = b"\0" * (16 * MIB)
    parts = [packer.compress(block[: min(len(block), size - done)]) for done in range(0, size, len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


def content_stream_bomb(inflated: int = 1024 * MIB) -> bytes:
    """A page whose content stream is about 1 MB and inflates to ``inflated`` bytes."""
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>",
            stream(deflated_zeros(inflated), b"/Filter /FlateDecode"),
        ]
    )


def image_bomb(inflated: int = 1024 * MIB, width: int = 100, height: int = 100) -> bytes:
    """A page showing a ``width`` × ``height`` grey image whose data inflates to ``inflated`` bytes."""
    return one_page(
        resources=b"<< /XObject << /Im1 5 0 R >> >>",
        extra=(
            stream(
                deflated_zeros(inflated),
                b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Filter /FlateDecode" % (width, height),
            ),
        ),
    )
