"""Run the whole suite as if it were another instant: ``TEST_CLOCK=<name or ISO instant> pytest``.

A test that passes at noon can fail at 00:30 UTC (when the UTC date is already tomorrow's in Mexico City),
on a Friday night, on 31 December or on a holiday. With ``TEST_CLOCK`` set, every test starts at that
instant (the clock then runs on normally, so waits and timeouts still work); tests that travel in time
themselves nest inside it. The named instants are computed from today's real date so that they always lie
a little ahead (certificates and keys made by the session fixtures are then already valid):

- ``utc-midnight-`` / ``utc-midnight+``: ten seconds before and after midnight UTC (18:00 in Mexico City,
  the window in which the two dates differ begins);
- ``mx-midnight-`` / ``mx-midnight+``: ten seconds before and after midnight in Mexico City, on a Friday
  night into Saturday;
- ``friday-evening``: 19:30 on a Friday in Mexico City (01:30 UTC on Saturday);
- ``new-year``: 23:59:50 on 31 December in Mexico City (05:59:50 UTC on 1 January);
- ``holiday``: noon on 1 January in Mexico City, a federal holiday (LFT art. 74).

``make test-clocks`` runs the suite at each of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MEXICO_CITY = ZoneInfo("America/Mexico_City")


def noon(day: date) -> datetime:
    """Noon of ``day`` in Mexico City, as a UTC instant: a time to travel to for a test counting days by hand."""
    return _local(day, time(12, 0))


def _next_weekday(start: date, weekday: int) -> date:
    """The first day after ``start`` (at least a week ahead for margin) falling on ``weekday`` (Monday = 0)."""
    day = start + timedelta(days=7)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=MEXICO_CITY).astimezone(UTC)


def _named(today: date) -> dict[str, Callable[[], datetime]]:
    friday = _next_weekday(today, 4)
    utc_day = today + timedelta(days=8)
    new_year_eve = date(today.year, 12, 31)
    if new_year_eve - today < timedelta(days=1):
        new_year_eve = date(today.year + 1, 12, 31)
    return {
        "utc-midnight-": lambda: datetime.combine(utc_day, time(23, 59, 50), tzinfo=UTC),
        "utc-midnight+": lambda: datetime.combine(utc_day + timedelta(days=1), time(0, 0, 10), tzinfo=UTC),
        "mx-midnight-": lambda: _local(friday, time(23, 59, 50)),
        "mx-midnight+": lambda: _local(friday + timedelta(days=1), time(0, 0, 10)),
        "friday-evening": lambda: _local(friday, time(19, 30)),
        "new-year": lambda: _local(new_year_eve, time(23, 59, 50)),
        "holiday": lambda: _local(new_year_eve + timedelta(days=1), time(12, 0)),
    }


NAMES = tuple(_named(date(2026, 1, 1)))
"""The named instants, in the order ``make test-clocks`` runs them."""


def resolve(value: str, today: date | None = None) -> datetime:
    """The UTC instant ``value`` names: one of :data:`NAMES` or an ISO 8601 instant with its offset.

    Raises ``ValueError`` for anything else (a naive instant is refused: it would mean a different moment
    on every machine)."""
    named = _named(today or datetime.now(UTC).date())
    if value in named:
        return named[value]()
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"TEST_CLOCK={value!r}: not one of {', '.join(NAMES)} nor an ISO instant") from None
    if instant.tzinfo is None:
        raise ValueError(f"TEST_CLOCK={value!r}: give the instant's UTC offset")
    return instant.astimezone(UTC)


def configured() -> datetime | None:
    """The instant ``TEST_CLOCK`` asks for, or ``None`` when the suite runs on the real clock."""
    value = os.environ.get("TEST_CLOCK", "").strip()
    return resolve(value) if value else None
