"""The one CSV writer of every export (open data, oversight): RFC 4180 text that spreadsheets cannot run.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or with a tab or carriage
return before one of them) as a formula, and a formula can fetch URLs or run commands on the reader's
computer (CSV injection). Text cells that start with any of these characters are written with a leading
apostrophe, which spreadsheets show as text and do not evaluate; numbers (``int``, ``float``,
``Decimal``) are written as numbers, so that ``-12.5`` stays a negative number. Lines end in CRLF; an
optional UTF-8 byte order mark lets spreadsheet programs recognise the encoding.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""

BOM = "\ufeff"
"""The UTF-8 byte order mark, for spreadsheet programs that guess the encoding otherwise."""


def safe_cell(value: Any) -> str | int | float | Decimal:
    """``value`` as a CSV cell that a spreadsheet shows and never evaluates.

    ``None`` is empty, numbers stay numbers, mappings and lists become compact JSON, everything else text;
    text starting like a formula gets a leading apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[Sequence[Any]], *, bom: bool = False) -> Iterator[str]:
    """Each row as one CSV line (CRLF, cells through :func:`safe_cell`), for streaming a large export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    first = True
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(value) for value in row])
        line = buffer.getvalue()
        if first and bom:
            line = BOM + line
        first = False
        yield line


def csv_text(rows: Iterable[Sequence[Any]], *, bom: bool = False) -> str:
    """All rows as one CSV document (see :func:`csv_lines`)."""
    return "".join(csv_lines(rows, bom=bom))


_YES = frozenset({"1", "si", "sí", "true", "yes"})
_NO = frozenset({"", "0", "no", "false"})


def parse_bom(value: str | None) -> bool:
    """Whether the ``bom`` query parameter asks for a byte order mark (``1``/``sí``/``true`` or
    ``0``/``no``/``false``/absent). Raises ``ValueError`` for anything else."""
    text = (value or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"bad bom parameter {value!r}")
