"""How values are printed on documents: Spanish (Mexico), whatever the reader's interface language.

The cadena original carries the raw value (ISO dates, plain decimals); the page shows these forms.
"""

from __future__ import annotations

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
    """``27 de noviembre de 2026, 10:15 h`` in Mexico City time."""
    local = value.astimezone(LOCAL_ZONE)
    return f"{long_date(local.date())}, {format_time(local, 'HH:mm', locale=LOCALE)} h"


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
