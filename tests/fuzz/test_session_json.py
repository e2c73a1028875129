"""The session's tagged JSON (``app.web.cookie_session.FastTaggedJSON``) writes and reads exactly what Flask's
own ``TaggedJSONSerializer`` does, for any mix of the values a session may hold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.json.tag import JSONTag, TaggedJSONSerializer
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from app.web.cookie_session import FastTaggedJSON
from tests.fuzz.profiles import fuzz

TAG_KEYS = [" t", " di", " b", " m", " u", " d", " t__", "t"]

leaves = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.binary(max_size=8),
    st.text(max_size=8).map(Markup),
    st.uuids(),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(  # noqa: DTZ001 - bounds of naive values, given UTC
        lambda moment: moment.replace(microsecond=0)
    ),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(TAG_KEYS)), inner, max_size=4),
    ),
    max_leaves=20,
)


@fuzz(300)
@given(value=st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(TAG_KEYS)), values, max_size=6))
def test_the_session_json_is_flasks(app: Flask, value: dict[str, Any]) -> None:
    stock, fast = TaggedJSONSerializer(), FastTaggedJSON()
    written = stock.dumps(value)
    assert fast.dumps(value) == written
    read_back = stock.loads(written)
    assert fast.loads(written) == read_back
    assert type(fast.loads(written)) is type(read_back)


def test_a_session_with_messages_reads_back_as_flask_reads_it(app: Flask) -> None:
    session = {
        "_user_id": "7",
        "csrf_token": "a" * 40,
        "locale": "en",
        "_fresh": True,
        "_flashes": [("success", "Listo: «Iniciar revisión»."), ("error", Markup("<b>no</b>"))],
        "kept": {" t": ["not a tuple"]},
        "when": datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
        "id": uuid.UUID(int=5),
    }
    fast, stock = FastTaggedJSON(), TaggedJSONSerializer()
    assert fast.dumps(session) == stock.dumps(session)
    assert fast.loads(stock.dumps(session)) == stock.loads(stock.dumps(session)) == session


class _TagSecret(JSONTag):
    """A tag of an application's own that applies to a plain value: texts starting with ``secret:``."""

    key = " s"

    def check(self, value: Any) -> bool:
        return isinstance(value, str) and value.startswith("secret:")

    def to_json(self, value: Any) -> Any:
        return value.removeprefix("secret:")

    def to_python(self, value: Any) -> Any:
        return f"secret:{value}"


def test_a_tag_of_one_s_own_is_honoured_as_flask_honours_it(app: Flask) -> None:
    stock, fast = TaggedJSONSerializer(), FastTaggedJSON()
    for serializer in (stock, fast):
        serializer.register(_TagSecret, index=0)
    value = {"a": "secret:x", "b": ["secret:y", ("secret:z", 1)], "c": "plain"}
    written = stock.dumps(value)
    assert '" s"' in written
    assert fast.dumps(value) == written
    assert fast.loads(written) == stock.loads(written) == value
