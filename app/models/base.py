"""Shared column helpers for the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, TypeDecorator
from sqlalchemy.engine import Dialect

_UTC_SUFFIX = "+00:00"
_from_text = datetime.fromisoformat
_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
"""SQLAlchemy's text of an instant on SQLite (its default storage format), as a positional format."""
_SAMPLES = (
    datetime(2026, 12, 4, 17, 23, 37, 123456, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-6))),
    datetime(1, 1, 1, 0, 0, tzinfo=UTC),
)
"""Instants the one-step conversion of a bound value is checked against SQLAlchemy's with, once per dialect."""


def utcnow() -> datetime:
    """The current instant in UTC (timezone-aware)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants in UTC and always returns timezone-aware UTC datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """SQLAlchemy's conversion of a value to store (:meth:`process_bind_param`, then the dialect's), with the
        common case, an aware instant, done in one step: moved to UTC (one ``astimezone``) and, on SQLite, written
        as the text SQLAlchemy writes. Used only when it gives SQLAlchemy's value for sample instants; ``None`` stays
        ``None``, anything else (a naive value, which is refused) takes the composed conversion."""
        composed = super().bind_processor(dialect)
        if composed is None:
            return None
        generic = composed
        if dialect.name == "sqlite":

            def to_sqlite(value: Any) -> Any:
                if value is None:
                    return None
                if value.__class__ is datetime and value.tzinfo is not None:
                    utc = value.astimezone(UTC)
                    return _SQLITE_TEXT % (
                        utc.year,
                        utc.month,
                        utc.day,
                        utc.hour,
                        utc.minute,
                        utc.second,
                        utc.microsecond,
                    )
                return generic(value)

            fast = to_sqlite
        else:

            def to_aware(value: Any) -> Any:
                if value is None:
                    return None
                if value.__class__ is datetime and value.tzinfo is not None:
                    return value.astimezone(UTC)
                return generic(value)

            fast = to_aware
        if all(fast(sample) == generic(sample) for sample in _SAMPLES):
            return fast
        return generic  # a storage format of the dialect's own: SQLAlchemy's conversion

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None] | None:
        """SQLAlchemy's conversion of a stored value (the dialect's, then :meth:`process_result_value`), with the
        common case done in one step: a list of cases converts three instants per row, and the composed
        conversion costs four or five calls each. SQLite's text of a naive UTC instant, as this type stores it,
        is read with the UTC offset appended (one ``fromisoformat``); PostgreSQL's aware value is moved to UTC
        (one ``astimezone``). ``None`` stays ``None``; anything else (another form of text, a naive value) takes the
        composed conversion, so the result is always the one it gives."""
        composed = super().result_processor(dialect, coltype)
        if composed is None:
            return None
        generic = composed
        if dialect.name == "sqlite":

            def from_sqlite(value: Any) -> datetime | None:
                if value is None:
                    return None
                if value.__class__ is str:
                    try:
                        parsed = _from_text(value + _UTC_SUFFIX)
                    except ValueError:  # text with an offset of its own, or not an instant
                        return generic(value)
                    if parsed.tzinfo is not None:  # a date alone reads as a naive midnight
                        return parsed
                return generic(value)

            return from_sqlite

        def from_aware(value: Any) -> datetime | None:
            if value is None:
                return None
            if value.__class__ is datetime and value.tzinfo is not None:
                return value.astimezone(UTC)
            return generic(value)

        return from_aware


def str_enum(enum_cls: type[StrEnum], length: int = 32) -> Enum:
    """A portable column type for a ``StrEnum``: stores the values and checks them with a constraint."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        name=enum_cls.__name__.lower(),
        validate_strings=True,
    )
