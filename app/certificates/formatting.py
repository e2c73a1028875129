"""How values are printed on documents: Spanish (Mexico), whatever the reader's interface language.

The cadena original carries each value in its canonical form (``workflows.procedure.canonical_value``: ISO
dates, decimals with their fixed places and no grouping, text with white space collapsed); the page prints
these forms, and :func:`canonical_of_printed` reads a printed value back into the canonical one, so that
anyone can rebuild the cadena from the printed document alone (docs/certificates.md).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

LOCALE = "es_MX"
LOCAL_ZONE = ZoneInfo("America/Mexico_City")


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_ZONE).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def long_date(value: date | str | None) -> str:
    """``27 de noviembre de 2026`` (empty for no date)."""
    if value is None or value == "":
        return ""
    return str(format_date(_as_date(value), format="long", locale=LOCALE))


def printed_date(value: Any) -> str:
    """An ISO date in words (:func:`long_date`); any other value is printed as given."""
    try:
        return long_date(value)
    except (TypeError, ValueError):
        return str(value)


def long_datetime(value: datetime) -> str:
    """``27 de noviembre de 2026, 10:15:03 h`` in Mexico City time (to the second, as the cadena holds it)."""
    local = value.astimezone(LOCAL_ZONE)
    return f"{long_date(local.date())}, {format_time(local, 'HH:mm:ss', locale=LOCALE)} h"


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(value: Any) -> str:
    """``$8,420.00 MXN``; a value that is not a number is printed as given."""
    number = _decimal(value)
    if number is None:
        return str(value or "")
    return f"{format_currency(number, 'MXN', format='¤#,##0.00', locale=LOCALE, currency_digits=False)} MXN"


def area(value: Any) -> str:
    """``420.50 m²``; a value that is not a number is printed as given."""
    number = _decimal(value)
    if number is None:
        return str(value or "")
    return f"{format_decimal(number, format='#,##0.00', locale=LOCALE)} m²"


def plain_decimal(value: Any) -> str:
    """A number as it goes into the cadena: ``8420.00``, ``420.5`` (no grouping, point as separator)."""
    number = _decimal(value)
    return "" if number is None else format(number, "f")


FORMATTERS = {"text": lambda v: "" if v is None else str(v), "date": long_date, "money": money, "area": area}
"""Display formatters by name, used by the document definitions and as template filters."""


MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
_LONG_DATE = re.compile(r"\A(\d{1,2}) de (" + "|".join(MONTHS) + r") de (\d{4})\Z")
_PRINTED_NUMBER = re.compile(r"\A\$?\s*(-?[\d,]+(?:\.\d+)?)\s*(?:MXN|m²)?\Z")


def canonical_of_printed(format_name: str, printed: str) -> str:
    """The canonical value (as sealed in the cadena) of a value printed in ``format_name``: a date in words
    back to ISO 8601 (``27 de noviembre de 2026`` → ``2026-11-27``), money and areas without currency, unit or
    grouping (``$8,420.00 MXN`` → ``8420.00``, ``1,500.00 m²`` → ``1500.00``), text with its white space
    collapsed. Raises ``ValueError`` when the printed value is not of its format."""
    text = " ".join(printed.split())
    if format_name == "text":
        return text
    if format_name == "date":
        if not text:
            return ""
        match = _LONG_DATE.match(text)
        if match is None:
            raise ValueError(f"not a printed date: {printed!r}")
        day, month, year = int(match[1]), MONTHS.index(match[2]) + 1, int(match[3])
        return date(year, month, day).isoformat()
    if format_name in {"money", "area"}:
        if not text:
            return ""
        match = _PRINTED_NUMBER.match(text)
        if match is None:
            raise ValueError(f"not a printed {format_name}: {printed!r}")
        return match[1].replace(",", "")
    raise ValueError(f"unknown format {format_name!r}")
