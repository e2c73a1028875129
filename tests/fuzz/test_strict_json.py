"""The strict JSON reader skips its walk over the parsed value when the text cannot hold what the walk looks
for (the audit verifier reads every entry's details with it). Differential fuzzing against a reference that
always walks and checks every integer as it is read (the reader as it was before the shortcut): both accept
the same texts with the same values, and refuse the same texts, always with ``ValueError``."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.audit.canonical import MAX_NESTING, MAX_SAFE_INTEGER, strict_loads
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import JSON, mutated_bytes


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate key")
        result[name] = value
    return result


def _int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError("integer too large")
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("overflow")
    return value


def _constant(name: str) -> Any:
    raise ValueError(name)


REFERENCE = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_constant, parse_int=_int, parse_float=_float)


def reference_loads(data: bytes) -> Any:
    """Every check on every value, unconditionally."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("bom")
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        raise ValueError("bom")
    try:
        value = REFERENCE.decode(text)
    except RecursionError:
        raise ValueError("nested") from None
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict | list):
            if depth >= MAX_NESTING:
                raise ValueError("nested")
            members = list(item.items()) if isinstance(item, dict) else [("", m) for m in item]
            for name, member in members:
                name.encode("utf-8")
                stack.append((member, depth + 1))
    return value


def _outcome(read: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "value", read(data)
    except ValueError:
        return "refused", None


TRICKY = st.sampled_from(
    [
        b'{"a": 9007199254740991}',
        b'{"a": -9007199254740992}',
        b'{"a": 12345678901234567890}',
        b'{"a": "12345678901234567890"}',
        b'{"a": 1, "a": 1}',
        b'{"a": {"b": [1, {"c": 2, "c": 3}]}}',
        b'{"a": "\\ud800"}',
        b'{"\\udfff": 1}',
        b'{"a": "\\u00f1 \xc3\xb1"}',
        b'{"a": NaN}',
        b'{"a": 1e400}',
        b'{"a": true, "b": false, "c": null}',
        ("[" * MAX_NESTING + "]" * MAX_NESTING).encode(),
        ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)).encode(),
        ('{"a":' * (MAX_NESTING + 1) + "1" + "}" * (MAX_NESTING + 1)).encode(),
    ]
)
TEXTS = st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    JSON.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    TRICKY,
    TRICKY.flatmap(lambda data: mutated_bytes(data)),
    st.integers(-(2**70), 2**70).map(lambda n: json.dumps({"n": n, "s": str(n)}).encode()),
)


@fuzz(600)
@given(TEXTS)
def test_strict_reader_agrees_with_the_reference(data: bytes):
    expected = _outcome(reference_loads, data)
    assert _outcome(strict_loads, data) == expected
