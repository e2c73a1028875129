"""Hypothesis strategies shared by the fuzz tests: JSON values, byte mutations, near-miss values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "0" * 64, "f" * 64, "F" * 64, "2026-11-27T11:00:00.000000Z", "draft", "\u202e", "\x00"]),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
"""Any JSON value (integers beyond what JSON readers agree on included)."""


@st.composite
def near(draw: st.DrawFn, value: Any) -> Any:
    """A value like ``value`` but different: off by one, one hex digit changed, a character added or dropped,
    a type swapped; or any JSON value at all."""
    if isinstance(value, bool):
        return draw(st.sampled_from([not value, None, 0, 1, "true"]))
    if isinstance(value, int):
        return draw(st.sampled_from([value + 1, value - 1, -value, str(value), float(value), value * 2, 0, 2**63]))
    if isinstance(value, str) and value:
        position = draw(st.integers(0, len(value) - 1))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            replacement = draw(st.sampled_from("0123456789abcdefABCDEF ZÑ"))
            return value[:position] + replacement + value[position + 1 :]
        if choice == 1:
            return value[:position] + value[position + 1 :]
        if choice == 2:
            return value + draw(st.sampled_from(["0", " ", "\n", "=", "a"]))
        return value.upper() if value != value.upper() else value.lower() + "x"
    return draw(JSON)


@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes, max_changes: int = 4) -> bytes:
    """``original`` with one to ``max_changes`` bit flips, cuts, insertions, deletions or duplicated slices."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_changes))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate", "replace"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete" and data:
            del data[position : position + draw(st.integers(1, 16))]
        elif action == "duplicate" and data:
            end = min(len(data), position + draw(st.integers(1, 64)))
            data[position:position] = data[position:end]
        elif action == "replace" and data:
            data[position] = draw(st.integers(0, 255))
    return bytes(data)
