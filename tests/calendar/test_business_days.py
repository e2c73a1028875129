"""Business-day arithmetic with concrete dates (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar import BusinessCalendar, deadline_instant, local_today

HOLY_WEEK_2026 = (date(2026, 4, 2), date(2026, 4, 3))


@pytest.mark.parametrize(
    ("notified", "days", "declared", "expected"),
    [
        (date(2026, 11, 13), 1, (), date(2026, 11, 17)),  # Friday; Monday 16 is Revolution Day
        (date(2026, 12, 24), 1, (), date(2026, 12, 28)),  # Christmas on Friday
        (date(2026, 3, 9), 10, (), date(2026, 3, 24)),  # crosses Benito Juárez's birthday (Mon 16)
        (date(2026, 4, 1), 1, HOLY_WEEK_2026, date(2026, 4, 6)),  # declared Holy Week
        (date(2026, 4, 1), 1, (), date(2026, 4, 2)),  # same term without the declaration
        (date(2026, 9, 15), 1, (), date(2026, 9, 17)),  # Independence Day
        # notified on Sunday: takes effect on Tuesday 3 (Monday 2 is Constitution Day), counts from Wednesday 4
        (date(2026, 2, 1), 1, (), date(2026, 2, 4)),
        (date(2026, 5, 1), 10, (), date(2026, 5, 18)),  # notified on Labour Day (Friday): effect Mon 4, counts from 5
        (date(2026, 4, 2), 1, HOLY_WEEK_2026, date(2026, 4, 7)),  # notified on a declared day: effect Mon 6
        (date(2026, 12, 31), 1, (), date(2027, 1, 4)),  # New Year's Day on Friday, across years
        (date(2030, 9, 30), 1, (), date(2030, 10, 2)),  # change of federal government (every six years)
        (date(2026, 11, 27), 20, (), date(2026, 12, 28)),  # 20 business days across Christmas
    ],
)
def test_add_business_days(notified: date, days: int, declared: tuple[date, ...], expected: date):
    assert BusinessCalendar(declared).add_business_days(notified, days) == expected


def test_term_never_ends_on_a_non_working_day():
    cal = BusinessCalendar(HOLY_WEEK_2026)
    start = date(2026, 1, 1)
    for offset in range(0, 400, 3):
        notified = date.fromordinal(start.toordinal() + offset)
        for days in (1, 3, 5, 10, 20):
            end = cal.add_business_days(notified, days)
            assert cal.is_business_day(end)
            assert cal.business_days_between(cal.effective_day(notified), end) == days
            assert cal.first_counting_day(notified) > cal.effective_day(notified) >= notified


def test_zero_day_term_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        BusinessCalendar().add_business_days(date(2026, 1, 5), 0)


def test_deadline_lapses_at_local_midnight():
    assert deadline_instant(date(2026, 11, 17)) == datetime(2026, 11, 18, 6, 0, tzinfo=UTC)


def test_local_today_uses_mexico_city():
    assert local_today(datetime(2026, 11, 28, 5, 59, tzinfo=UTC)) == date(2026, 11, 27)
    assert local_today(datetime(2026, 11, 28, 6, 0, tzinfo=UTC)) == date(2026, 11, 28)


def _counted_day_by_day(cal: BusinessCalendar, start: date, end: date) -> int:
    if end <= start:
        return -sum(1 for i in range((start - end).days) if cal.is_business_day(end + timedelta(days=i + 1)))
    return sum(1 for i in range((end - start).days) if cal.is_business_day(start + timedelta(days=i + 1)))


@settings(max_examples=300, deadline=None)
@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(min_value=-800, max_value=800),
    st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)), max_size=40),
)
def test_business_days_between_counts_what_walking_the_days_counts(start: date, span: int, declared: set[date]) -> None:
    cal = BusinessCalendar(declared)
    end = start + timedelta(days=span)
    assert cal.business_days_between(start, end) == _counted_day_by_day(cal, start, end)


def test_a_calendar_answers_a_count_it_kept_as_it_first_counted_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.calendar.business_days as business_days

    monkeypatch.setattr(business_days, "MAX_COUNTS_KEPT", 7)  # the kept counts start afresh several times
    cal = BusinessCalendar({date(2026, 3, 18), date(2026, 12, 24)})
    pairs = [(date(2026, 3, 2), date(2026, 3, 2) + timedelta(days=span)) for span in range(-40, 40, 3)]
    for _ in range(2):
        for start, end in pairs:
            assert cal.business_days_between(start, end) == _counted_day_by_day(cal, start, end)
            assert cal.business_days_between(end, start) == _counted_day_by_day(cal, end, start)
    # another calendar keeps its own counts: a declared day counts differently there
    other = BusinessCalendar()
    assert other.business_days_between(date(2026, 3, 17), date(2026, 3, 18)) == 1
    assert cal.business_days_between(date(2026, 3, 17), date(2026, 3, 18)) == 0


def _last_day_walked(cal: BusinessCalendar, notified: date, days: int) -> date:
    """A term's last day found by walking the calendar day by day (what the kept answers must equal)."""
    day, counted = notified, 0
    while not cal.is_business_day(day):  # the notification takes effect on a business day
        day += timedelta(days=1)
    while counted < days:
        day += timedelta(days=1)
        counted += cal.is_business_day(day)
    return day


def test_a_calendar_answers_a_terms_last_day_it_kept_as_it_first_found_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.calendar.business_days as business_days

    monkeypatch.setattr(business_days, "MAX_COUNTS_KEPT", 5)  # the kept days start afresh several times
    cal = BusinessCalendar({date(2026, 3, 18), date(2026, 12, 24)})
    terms = [(date(2026, 3, 13) + timedelta(days=shift), days) for shift in range(0, 12, 2) for days in (1, 3, 10, 20)]
    terms += [(date(2026, 12, 18), 15)]  # across the year's end and its holidays
    for _ in range(2):
        for notified, days in terms:
            assert cal.add_business_days(notified, days) == _last_day_walked(cal, notified, days)
    # another calendar keeps its own days: a declared day counts there
    assert BusinessCalendar().add_business_days(date(2026, 3, 17), 1) == date(2026, 3, 18)
    assert cal.add_business_days(date(2026, 3, 17), 1) == date(2026, 3, 19)
    with pytest.raises(ValueError, match="at least one"):
        cal.add_business_days(date(2026, 3, 17), 0)
