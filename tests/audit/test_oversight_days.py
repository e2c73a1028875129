"""The oversight area's selections of days, on SQLite: the entries of those days, read without walking the rest
of the log (issue 16: pages flat as the log grows).

SQLite keeps no statistics of the instants. For one day that is not the log's last, its search for a next entry
walked the log in sequence order from the page's end to the log's end; for a year, it read the year through the
instants' index and sorted it for one page. A selection led by its days is now bounded by the first and last
sequence numbers its days hold (read through the instants' index, whatever the entries' order), or, when they
hold too many, read in sequence order. The work is counted in SQLite's virtual-machine steps, which do not depend
on the machine's speed; the results are checked against the log filtered in Python."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.services.oversight import EntryFilter, EntryPage, export_jsonl, search_entries
from tests.services.test_list_indexes import plans

LOCAL = ZoneInfo("America/Mexico_City")
FIRST_DAY = date(2025, 3, 10)
SPAN_LIMIT = 10_000
PER_DAY = 80
"""Entries appended each day (every 18 minutes, from local midnight): more than a page."""


@pytest.fixture
def sqlite_app(app: Flask, backend: str) -> Flask:
    """The application, on SQLite only (PostgreSQL chooses its plans by its statistics of the instants)."""
    if backend != "sqlite":
        pytest.skip("SQLite plans without statistics; PostgreSQL's date ranges are planned by its statistics")
    return app


def _head() -> int:
    return int(db.session.execute(text("SELECT coalesce(max(seq), 0) FROM audit_entries")).scalar_one())


def _append_days(first_day: date, days: int, per_day: int = PER_DAY) -> None:
    """``days`` days of ``per_day`` entries each from ``first_day``, after the log's last entry, in one statement.
    The search reads them as stored; it does not verify them."""
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=LOCAL).astimezone(ZoneInfo("UTC"))
    minutes = 24 * 60 // per_day
    db.session.execute(
        text(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)"
            " INSERT INTO audit_entries (seq, at, kind, action, actor_role, details, prev_hash, entry_hash, leaf_hash)"
            " SELECT :head + 1 + i,"
            " strftime('%Y-%m-%d %H:%M:%S.000000', :start, '+' || ((i / :per_day) * 1440 + (i % :per_day) * :minutes)"
            " || ' minutes'), 'admin', 'settings_changed', 'admin', '{}', :zeros, :ones, :twos FROM n"
        ),
        {
            "count": days * per_day,
            "head": _head(),
            "start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "per_day": per_day,
            "minutes": minutes,
            "zeros": "0" * 64,
            "ones": "1" * 64,
            "twos": "2" * 64,
        },
    )
    db.session.commit()


def _seqs_of(first: date, last: date) -> list[int]:
    """The sequence numbers of the entries of those local days, filtered in Python from every entry."""
    rows = db.session.execute(text("SELECT seq, at FROM audit_entries ORDER BY seq")).all()
    db.session.rollback()
    found = []
    for seq, at in rows:
        instant = datetime.fromisoformat(str(at)).replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL)
        if first <= instant.date() <= last:
            found.append(int(seq))
    return found


def _walk(selection: EntryFilter) -> list[int]:
    """Every entry of the selection, page by page from the latest back to the first and forward again; asserts
    that both directions list the same entries."""
    backwards: list[int] = []
    page = search_entries(selection)
    pages = [page]
    while page.before is not None:
        page = search_entries(selection, before=page.before)
        pages.append(page)
    for page in reversed(pages):
        backwards.extend(entry.seq for entry in page.entries)
    forwards: list[int] = []
    page = search_entries(selection, after=0)
    forwards.extend(entry.seq for entry in page.entries)
    while page.after is not None:
        page = search_entries(selection, after=page.after)
        forwards.extend(entry.seq for entry in page.entries)
    db.session.rollback()
    assert backwards == forwards
    return forwards


@contextmanager
def steps() -> Iterator[list[int]]:
    """SQLite's virtual-machine steps of the statements run inside the block, by hundreds (its progress
    handler, called every hundred steps of a statement, on the session's connection)."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    connection = db.session.connection().connection.dbapi_connection
    assert isinstance(connection, sqlite3.Connection)
    connection.set_progress_handler(tick, 100)
    try:
        yield counted
    finally:
        connection.set_progress_handler(None, 100)


def _day_page_steps(day: date) -> int:
    """The steps of a day's first page, its previous page and a page after an entry before the day."""
    selection = EntryFilter(date_from=day, date_to=day)
    db.session.rollback()
    with steps() as counted:
        page: EntryPage = search_entries(selection)
        assert page.before is not None
        search_entries(selection, before=page.before)
        search_entries(selection, after=1)
    db.session.rollback()
    return counted[0]


def test_a_day_is_read_without_the_entries_after_it(sqlite_app: Flask) -> None:
    """A day in the middle of the log costs the same whether 20 or 200 days of entries follow it."""
    _append_days(FIRST_DAY, 5)
    day = FIRST_DAY + timedelta(days=2)
    _append_days(FIRST_DAY + timedelta(days=5), 20)
    few_after = _day_page_steps(day)
    _append_days(FIRST_DAY + timedelta(days=25), 180)
    many_after = _day_page_steps(day)
    assert many_after <= few_after * 1.2, (few_after, many_after)
    assert _walk(EntryFilter(date_from=day, date_to=day)) == _seqs_of(day, day)


def test_the_statements_of_a_day_read_its_range_of_sequence_numbers(sqlite_app: Flask) -> None:
    """Each statement of a day's page reads the log between the day's first and last entries, or the day's
    instants through their index (the span itself); none sorts the day or walks the log from a single bound."""
    _append_days(FIRST_DAY, 10)
    day = FIRST_DAY + timedelta(days=4)
    selection = EntryFilter(date_from=day, date_to=day)
    with plans() as seen:
        page = search_entries(selection)
        search_entries(selection, after=page.entries[0].seq)
    reads = [(sql, plan) for sql, plan in seen if "audit_entries.at" in sql]
    assert len(reads) >= 6, seen
    for sql, plan in reads:
        assert not [step for step in plan if "TEMP B-TREE" in step or step == "SCAN audit_entries"], (sql, plan)
        bounded = any("rowid>? AND rowid<?" in step for step in plan)
        span = any("COVERING INDEX ix_audit_entries_at" in step for step in plan)
        assert bounded or span, (sql, plan)
    assert page.total == PER_DAY
    assert page.total_exact
    counts = [sql for sql, _ in seen if "count(*)" in sql]
    assert len(counts) == 2, counts  # each page's span, which is also its count: the days are its only filter


def test_days_with_another_filter_are_counted_with_it(sqlite_app: Flask) -> None:
    """The span counts the days' entries; a selection that also filters by a value is counted on its own."""
    _append_days(FIRST_DAY, 3)
    day = FIRST_DAY + timedelta(days=1)
    matching = search_entries(EntryFilter(date_from=day, date_to=day, action="settings_changed"))
    other = search_entries(EntryFilter(date_from=day, date_to=day, action="rarely_done"))
    assert (matching.total, matching.total_exact) == (PER_DAY, True)
    assert (other.total, other.total_exact, other.entries) == (0, True, ())


def test_days_are_found_whatever_the_order_of_their_instants(sqlite_app: Flask) -> None:
    """Entries whose instants do not follow their sequence numbers (a clock set back, a log begun with a later
    day) are each found in their day, every entry of the day and no other, on every page."""
    _append_days(FIRST_DAY + timedelta(days=30), 2)
    _append_days(FIRST_DAY, 6)
    _append_days(FIRST_DAY + timedelta(days=2), 1)  # the third day again, after later days
    _append_days(FIRST_DAY + timedelta(days=30), 1, per_day=70)
    for first, last in (
        (FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=2)),
        (FIRST_DAY + timedelta(days=30), FIRST_DAY + timedelta(days=30)),
        (FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=3)),
        (FIRST_DAY - timedelta(days=9), FIRST_DAY - timedelta(days=1)),
    ):
        selection = EntryFilter(date_from=first, date_to=last)
        expected = _seqs_of(first, last)
        assert _walk(selection) == expected, (first, last)
        page = search_entries(selection)
        assert (page.total, page.total_exact) == (len(expected), True)
        assert [json.loads(line)["entry"]["seq"] for line in export_jsonl(selection)] == expected
        db.session.rollback()
    only_from = EntryFilter(date_from=FIRST_DAY + timedelta(days=3))
    assert _walk(only_from) == _seqs_of(FIRST_DAY + timedelta(days=3), date(2100, 1, 1))
    only_to = EntryFilter(date_to=FIRST_DAY + timedelta(days=1))
    assert _walk(only_to) == _seqs_of(date(2000, 1, 1), FIRST_DAY + timedelta(days=1))


def test_days_of_more_entries_than_the_span_bounds_are_read_in_sequence_order(sqlite_app: Flask) -> None:
    """Days that hold more than SPAN_LIMIT entries: their pages walk the log in sequence order and stop at the
    page (no read of every entry of the days through the instants' index, no sort of them), and list the same
    entries as the log filtered in Python."""
    days = SPAN_LIMIT // 400 + 5
    _append_days(FIRST_DAY, days, per_day=400)
    _append_days(FIRST_DAY + timedelta(days=days), 20)
    first, last = FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=days - 1)
    selection = EntryFilter(date_from=first, date_to=last)
    expected = _seqs_of(first, last)
    assert len(expected) > SPAN_LIMIT
    with plans() as seen:
        page = search_entries(selection)
        earlier = search_entries(selection, before=page.before)
    assert [entry.seq for entry in page.entries] == expected[-50:]
    assert [entry.seq for entry in earlier.entries] == expected[-100:-50]
    assert page.after is None
    assert (page.total, page.total_exact) == (10_000, False)
    # counted by the span alone: a count of its own would walk the log from its first entry to the days' 10,001st
    assert len([sql for sql, _ in seen if "count(*)" in sql]) == 2, seen
    reads = [(sql, plan) for sql, plan in seen if "audit_entries.at" in sql and "min(" not in sql]
    assert reads, seen
    for sql, plan in reads:
        assert not [step for step in plan if "TEMP B-TREE" in step or "ix_audit_entries_at" in step], (sql, plan)
