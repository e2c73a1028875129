"""``url_for`` in templates, kept per process.

Werkzeug builds a URL by matching the endpoint's rules and converting every value (8-10 µs each); a case page
builds about twenty and a queue one per row, always the same ones. The application declares no URL defaults
and no subdomains, so a relative URL depends only on the endpoint, its values and the script root the
request is served under: the templates' ``url_for`` keeps what it built under that key. URLs with options
(``_external``, ``_anchor``…), relative endpoints (``.index``) and unhashable values are built every time.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, request
from flask import url_for as flask_url_for
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1
"""The largest id or sequence number a record can have (their columns are 32-bit integers)."""


class RecordIdConverter(IntegerConverter):
    """The ``int`` converter of the application's URLs (ids and sequence numbers), bounded to what a record can
    have: a larger number matches no route and is answered 404, as an id that does not exist. Unbounded, a
    number past 64 bits reached the database, and SQLite refused to bind it with an error (a server error)."""

    def __init__(
        self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID, signed: bool = False
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else builtins.min(max, MAX_ID), signed)


def record_id(value: str) -> int:
    """A record's id or sequence number given in a query string (``request.args.get(name, type=record_id)``):
    ASCII digits only, 1 to :data:`MAX_ID`. Anything else raises ``ValueError``, so that Werkzeug takes the
    argument as absent, as it does with ``type=int`` for a value that is not a number. ``int`` alone accepted
    numbers past 64 bits (SQLite then refused to bind them: a server error), signs, and digits of other scripts."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)) or not 1 <= int(text) <= MAX_ID:
        raise ValueError(f"not a record id: {value!r}")
    return int(text)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant_token(instant: datetime) -> str:
    """An instant as a list's cursor writes it in an address: microseconds since 1970, UTC (digits only)."""
    return str((instant - _EPOCH) // timedelta(microseconds=1))


def token_instant(text: str) -> datetime:
    """The instant of :func:`instant_token`; anything but 1 to 18 ASCII digits, or an instant past year 9999,
    raises ``ValueError``."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ValueError(f"not an instant: {text!r}")
    try:
        return _EPOCH + timedelta(microseconds=int(text))
    except OverflowError as exc:
        raise ValueError(f"not an instant: {text!r}") from exc


def cursor_parts(text: str, pattern: re.Pattern[str]) -> re.Match[str]:
    """A list's cursor given in a query string (the page after which to go on), split by ``pattern``, which
    must match it whole (ASCII, surrounding spaces ignored); anything else raises ``ValueError``, so that
    Werkzeug takes the argument as absent and the list shows its first page."""
    match = pattern.fullmatch(text.strip()) if text.isascii() else None
    if match is None:
        raise ValueError(f"not a cursor: {text!r}")
    return match


MAX_KEPT = 20_000
"""URLs kept per process before the memo starts afresh (a queue adds one per case shown)."""

_URLS: dict[tuple[Any, ...], str] = {}


def url_for(endpoint: str, /, **values: Any) -> str:
    """Flask's ``url_for``, kept per (script root, endpoint, values) for relative URLs."""
    if endpoint.startswith(".") or any(name.startswith("_") for name in values):
        return flask_url_for(endpoint, **values)
    try:
        key = (request.script_root, endpoint, *sorted(values.items()))
        url = _URLS.get(key)
    except (TypeError, RuntimeError):  # an unhashable value (a repeated argument's list); no request
        return flask_url_for(endpoint, **values)
    if url is None:
        if len(_URLS) >= MAX_KEPT:
            _URLS.clear()
        url = _URLS[key] = flask_url_for(endpoint, **values)
    return url


_PLAIN_INTEGERS = (IntegerConverter, RecordIdConverter)
"""Converters that write an integer as ``str(value)``."""

_ID_URLS: dict[tuple[str, str, str], tuple[str, str] | None] = {}

_SAMPLE_ID = 9_876_543_210
"""An identifier no test or list reaches, built once to learn where a rule puts its integer."""


def _id_parts(endpoint: str, name: str) -> tuple[str, str] | None:
    """What precedes and follows the integer ``name`` in the URL of ``endpoint``, when its only rule takes
    that one value through a plain integer converter (no fixed digits): Werkzeug writes such a value as
    ``str(value)``, so the URL of any id is the two parts around it. ``None`` when that does not hold."""
    rules = list(current_app.url_map.iter_rules(endpoint))
    if len(rules) != 1 or rules[0].arguments != {name} or rules[0].defaults:
        return None
    converter = rules[0]._converters.get(name)  # Werkzeug's only record of a rule's converters
    # exactly these two (a subclass may write its values otherwise), without fixed digits
    if not isinstance(converter, IntegerConverter) or type(converter) not in _PLAIN_INTEGERS or converter.fixed_digits:
        return None
    before, found, after = flask_url_for(endpoint, **dict[str, Any]({name: _SAMPLE_ID})).partition(str(_SAMPLE_ID))
    if not found or str(_SAMPLE_ID) in after:
        return None
    return before, after


def id_url(endpoint: str, name: str) -> Callable[[int], str]:
    """A function giving ``url_for(endpoint, **{name: value})`` for integer values (a list's links to its
    cases), without Werkzeug's matching and conversion per value: the URL's parts around the integer are kept
    per (script root, endpoint, name). Falls back to ``url_for`` for a rule where that would not be exact."""
    key = (request.script_root, endpoint, name)
    if key not in _ID_URLS:
        _ID_URLS[key] = _id_parts(endpoint, name)
    parts = _ID_URLS[key]
    if parts is None:
        return lambda value: url_for(endpoint, **{name: value})
    before, after = parts
    return lambda value: f"{before}{int(value)}{after}"


def install_urls(app: Flask) -> None:
    """Give the templates the kept ``url_for``; refuses an application that declares URL defaults, whose
    URLs would depend on more than the key."""
    if app.url_default_functions:
        raise RuntimeError("URL defaults are declared: the templates' kept url_for would ignore them")
    app.jinja_env.globals["url_for"] = url_for
