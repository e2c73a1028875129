"""The one business-day calendar every workflow uses.

Weekends never count; the statutory holidays (Ley Federal del Trabajo art. 74, from the ``holidays``
package, country MX) never count; nor do the days the authority declares non-working (held in the
database and passed in). A term of *n* business days starts the day after notification and ends on
the *n*-th business day, so a term can never end on a non-working day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("America/Mexico_City")

_K = TypeVar("_K")
_V = TypeVar("_V")

MAX_COUNTS_KEPT = 4096
"""Business-day counts (and terms' last days) a calendar keeps before starting afresh."""


@lru_cache(maxsize=64)
def _statutory(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("MX", years=year).keys())


def load_statutory_holidays(today: date) -> None:
    """Work out the statutory holidays of the year before ``today``'s, its own and the next, as the first term
    counted would: the ``holidays`` package loads its country tables then (about 300 modules, 8 MB, some 40 ms). A
    server that forks its workers calls this first, so that they share those tables instead of each loading its own
    on its first transition."""
    for year in (today.year - 1, today.year, today.year + 1):
        _statutory(year)


class BusinessCalendar:
    """Business days for one authority: weekends, statutory holidays and declared non-working days."""

    def __init__(self, declared: Iterable[date] = ()) -> None:
        self.declared = frozenset(declared)
        # the declared days that would otherwise count (weekdays that are no statutory holiday), sorted: what
        # counting a long interval subtracts besides weekends and holidays
        self._declared_weekdays = sorted(
            day for day in self.declared if day.weekday() < 5 and day not in _statutory(day.year)
        )
        # counts already made: a calendar is kept per process while its days stand, and a list of cases asks
        # the same few (today, last day) pairs again and again
        self._between: dict[tuple[date, date], int] = {}
        self._last_days: dict[tuple[date, int], date] = {}

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` counts towards a term."""
        return day.weekday() < 5 and day not in _statutory(day.year) and day not in self.declared

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def effective_day(self, day: date) -> date:
        """The day an act done on ``day`` takes effect: ``day`` itself when it is a business day, else the next
        business day (a filing or notification on a weekend, holiday or declared day counts as made on the next
        business day)."""
        return day if self.is_business_day(day) else self.next_business_day(day)

    def first_counting_day(self, notified_on: date) -> date:
        """The first day of a term notified on ``notified_on``: the business day after the notification took
        effect."""
        return self.next_business_day(self.effective_day(notified_on))

    def add_business_days(self, notified_on: date, days: int) -> date:
        """The last day of a term of ``days`` business days notified on ``notified_on``.

        The term starts the day after the notification takes effect (see :meth:`effective_day`), counts only
        business days, and so always ends on one. Raises ``ValueError`` for a term shorter than one day.
        """
        if days < 1:
            raise ValueError("a term has at least one business day")
        key = (notified_on, days)
        last = self._last_days.get(key)
        if last is None:  # a transition starts its terms from today: the same few (day, length) pairs all day
            last = self.effective_day(notified_on)
            for _ in range(days):
                last = self.next_business_day(last)
            _keep(self._last_days, key, last)
        return last

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in the half-open interval (start, end]: how many are left from ``start`` to ``end``
        (negative, the business days in (end, start], when ``end`` is earlier)."""
        key = (start, end)
        count = self._between.get(key)
        if count is None:
            count = -self._counted(end, start) if end <= start else self._counted(start, end)
            _keep(self._between, key, count)
        return count

    def _counted(self, start: date, end: date) -> int:
        """Business days in (start, end], ``start <= end``: the weekdays (whole weeks, then the rest), less
        the statutory holidays and the declared days that fall on weekdays in it."""
        weeks, rest = divmod((end - start).days, 7)
        first = start.weekday()
        count = weeks * 5 + sum(1 for i in range(1, rest + 1) if (first + i) % 7 < 5)
        for year in range(start.year, end.year + 1):
            count -= sum(1 for day in _statutory(year) if start < day <= end and day.weekday() < 5)
        declared = self._declared_weekdays
        return count - (bisect_right(declared, end) - bisect_right(declared, start))


def _keep(store: dict[_K, _V], key: _K, value: _V) -> None:
    """Keep ``value`` under ``key`` in one of a calendar's stores, which starts afresh at ``MAX_COUNTS_KEPT``."""
    if len(store) >= MAX_COUNTS_KEPT:
        store.clear()
    store[key] = value


def local_today(now: datetime | None = None) -> date:
    """Today's date in Mexico City."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()


def deadline_instant(last_day: date) -> datetime:
    """The UTC instant a term ending on ``last_day`` lapses: midnight that ends the day in Mexico City."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
