"""``UTCDateTime``'s one-step conversion of stored instants gives what SQLAlchemy's composed conversion gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import TypeDecorator, select
from sqlalchemy.dialects import postgresql, sqlite

from app.database import FixedStatement
from app.extensions import db
from app.models import Case, Role
from app.models.base import UTCDateTime
from tests.support.factories import make_user, vecs_case

SQLITE = sqlite.dialect()
POSTGRESQL = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


def conversions(dialect: Any) -> tuple[Any, Any]:
    """The type's conversion for ``dialect`` and SQLAlchemy's composed one (the dialect's, then
    ``process_result_value``)."""
    kind = UTCDateTime().dialect_impl(dialect)
    return kind.result_processor(dialect, None), TypeDecorator.result_processor(kind, dialect, None)


def outcome(convert: Any, value: Any) -> Any:
    try:
        converted = convert(value)
    except (TypeError, ValueError) as error:
        return type(error)
    return converted, None if converted is None else converted.tzinfo


EARLIEST = datetime(1900, 1, 1)  # noqa: DTZ001 - hypothesis takes naive bounds
LATEST = datetime(2200, 1, 1)  # noqa: DTZ001
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=offsets)


@given(instants)
def test_sqlite_text_as_the_type_stores_it(instant: datetime) -> None:
    fast, composed = conversions(SQLITE)
    stored = UTCDateTime().process_bind_param(instant, SQLITE)
    text = SQLITE.type_descriptor(UTCDateTime().impl).bind_processor(SQLITE)(stored)  # type: ignore[misc]
    assert outcome(fast, text) == outcome(composed, text)
    assert fast(text) == instant
    assert fast(text).tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "2026-12-04 17:23:37.123456",
        "2026-12-04 17:23:37",
        "2026-12-04 17:23",
        "2026-12-04",  # a date alone: midnight UTC, not a naive midnight
        "2026-12-04T01:02:03+05:00",  # an offset of its own
        "2026-12-04T17:23:37Z",
        "not an instant",
        "",
        1733333333,
    ],
)
def test_sqlite_other_forms_take_the_composed_conversion(value: Any) -> None:
    fast, composed = conversions(SQLITE)
    assert outcome(fast, value) == outcome(composed, value)


def bind_conversions(dialect: Any) -> tuple[Any, Any]:
    """The type's conversion of a value to store for ``dialect`` and SQLAlchemy's composed one."""
    kind = UTCDateTime().dialect_impl(dialect)
    return kind.bind_processor(dialect), TypeDecorator.bind_processor(kind, dialect)


def stored(convert: Any, value: Any) -> Any:
    try:
        converted = convert(value)
    except (TypeError, ValueError) as error:
        return type(error), str(error)
    return converted, getattr(converted, "tzinfo", None)


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
@given(instant=instants)
def test_values_to_store_as_sqlalchemy_gives_them(dialect: Any, instant: datetime) -> None:
    fast, composed = bind_conversions(dialect)
    assert fast is not composed  # the one-step conversion passed its check against the samples
    assert stored(fast, instant) == stored(composed, instant)
    assert stored(fast, instant.replace(tzinfo=None)) == stored(composed, instant.replace(tzinfo=None))
    assert fast(None) is None


@given(instants)
def test_postgresql_aware_values(instant: datetime) -> None:
    fast, composed = conversions(POSTGRESQL)
    assert outcome(fast, instant) == outcome(composed, instant)
    assert fast(instant).tzinfo is UTC


@given(st.datetimes(min_value=EARLIEST, max_value=LATEST))
def test_postgresql_naive_values_are_taken_as_utc(naive: datetime) -> None:
    fast, composed = conversions(POSTGRESQL)
    assert outcome(fast, naive) == outcome(composed, naive) == (naive.replace(tzinfo=UTC), UTC)
    assert outcome(fast, None) == (None, None)


def test_instants_read_back_from_the_database(app: Flask) -> None:
    case = vecs_case(make_user(Role.APPLICANT))
    db.session.remove()
    loaded = db.session.get(Case, case.case_id)
    assert loaded is not None
    created = loaded.created_at
    assert created.tzinfo is UTC
    assert abs(datetime.now(UTC) - created) < timedelta(hours=1)
    row = FixedStatement(select(Case.created_at, Case.closed_at).where(Case.id == case.case_id)).read(db.session(), {})
    assert list(row) == [(created, None)]
