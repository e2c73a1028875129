"""The one business-day calendar every workflow uses.

Weekends never count; the statutory holidays (Ley Federal del Trabajo art. 74, from the ``holidays``
package, country MX) never count; nor do the days the authority declares non-working (held in the
database and passed in). A term of *n* business days starts the day after notification and ends on
the *n*-th business day, so a term can never end on a non-working day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("America/Mexico_City")


@lru_cache(maxsize=64)
def _statutory(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("MX", years=year).keys())


class BusinessCalendar:
    """Business days for one authority: weekends, statutory holidays and declared non-working days."""

    def __init__(self, declared: Iterable[date] = ()) -> None:
        self.declared = frozenset(declared)

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
        day = self.effective_day(notified_on)
        for _ in range(days):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in the half-open interval (start, end]: how many are left from ``start`` to ``end``."""
        if end <= start:
            return -sum(1 for i in range((start - end).days) if self.is_business_day(end + timedelta(days=i + 1)))
        return sum(1 for i in range((end - start).days) if self.is_business_day(start + timedelta(days=i + 1)))


def local_today(now: datetime | None = None) -> date:
    """Today's date in Mexico City."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()


def deadline_instant(last_day: date) -> datetime:
    """The UTC instant a term ending on ``last_day`` lapses: midnight that ends the day in Mexico City."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
