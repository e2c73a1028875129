"""Fuzzing the standalone verifier (``verifier/verify_bundle.py``), the auditors' security boundary.

Properties: whatever the input, it ends with a report or ``Malformed`` (exit status 0, 1 or 2), never an
exception; it finishes within the deadline; and no change to what a bundle or proof says is ever accepted —
a mutated bundle verifies only when its entries and signed checkpoints are exactly the original ones (a
change of the header's white space, say), and a change to an entry, a hash or a signed field never does.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.audit.helpers import public_pem, verifier
from tests.audit.test_verifier_robustness import KEY, _proofs, make_bundle
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import JSON, mutated_bytes, near

TRUSTED = [KEY.public_key()]
HEADER, LINES = make_bundle(6, (3, 6))
SIGNED = ("tree_size", "root_hash", "timestamp", "key_fingerprint", "signature")


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _text(header: Any, lines: list[Any]) -> bytes:
    return (json.dumps(header) + "\n" + "".join(_canonical(line) + "\n" for line in lines)).encode()


ORIGINAL = _text(HEADER, LINES)


def _verdict(data: bytes) -> bool | None:
    """True when the bundle verifies, False when it fails, None when it is refused as malformed."""
    try:
        report = verifier.verify_bundle(io.BytesIO(data), TRUSTED)
    except verifier.Malformed:
        return None
    return bool(report.ok)


def _signed(header: dict[str, Any]) -> list[tuple[Any, ...]]:
    points = [header["checkpoint"], *header["checkpoints"]]
    return [tuple(point.get(name) for name in SIGNED) for point in points]


def test_the_unmutated_bundle_verifies():
    assert _verdict(ORIGINAL) is True


@fuzz(300)
@given(mutated_bytes(ORIGINAL))
def test_byte_mutations_never_crash_and_change_nothing_that_verifies(data: bytes):
    if _verdict(data) is not True:
        return
    # lines as a bundle has them (and the verifier reads them): split at "\n" only; a "\r" inside a line is
    # JSON whitespace, where ``splitlines`` would cut the line in two
    rows = data.decode("utf-8").split("\n")
    header = json.loads(rows[0])
    assert header["tree_size"] == HEADER["tree_size"]
    assert _signed(header) == _signed(HEADER)
    entries = [json.loads(row) for row in rows[1:] if row.strip()]
    assert entries == LINES


def _entry_targets() -> list[tuple[int, str, str | None]]:
    targets: list[tuple[int, str, str | None]] = []
    for index, line in enumerate(LINES):
        targets += [(index, "entry", name) for name in line["entry"]]
        targets += [(index, name, None) for name in ("leaf_hash", "chain_hash")]
    return targets


@fuzz(200)
@given(st.sampled_from(_entry_targets()), st.data())
def test_a_changed_entry_or_hash_never_verifies(target: tuple[int, str, str | None], data: st.DataObject):
    index, name, field = target
    lines = copy.deepcopy(LINES)
    holder = lines[index]["entry"] if field is not None else lines[index]
    key = field if field is not None else name
    old = holder[key]
    new = data.draw(st.one_of(near(old), JSON), label="new value")
    assume(_canonical(new) != _canonical(old))
    holder[key] = new
    assert _verdict(_text(HEADER, lines)) is not True


@fuzz(60)
@given(st.sampled_from(["drop", "duplicate", "swap", "truncate"]), st.integers(0, len(LINES) - 1))
def test_missing_repeated_or_reordered_entries_never_verify(action: str, index: int):
    lines = copy.deepcopy(LINES)
    if action == "drop":
        del lines[index]
    elif action == "duplicate":
        lines.insert(index, lines[index])
    elif action == "swap":
        other = (index + 1) % len(lines)
        lines[index], lines[other] = lines[other], lines[index]
    else:
        lines = lines[:index]
    assert _verdict(_text(HEADER, lines)) is not True


def _header_targets() -> list[tuple[str, int | None, str]]:
    targets: list[tuple[str, int | None, str]] = [("tree_size", None, "")]
    targets += [("checkpoint", None, name) for name in SIGNED]
    targets += [("checkpoints", n, name) for n in range(len(HEADER["checkpoints"])) for name in SIGNED]
    return targets


@fuzz(200)
@given(st.sampled_from(_header_targets()), st.data())
def test_a_changed_signed_field_never_verifies(target: tuple[str, int | None, str], data: st.DataObject):
    part, number, name = target
    header = copy.deepcopy(HEADER)
    holder = header if part == "tree_size" else header[part] if number is None else header[part][number]
    key = name or "tree_size"
    old = holder[key]
    new = data.draw(st.one_of(near(old), JSON), label="new value")
    assume(_canonical(new) != _canonical(old))
    holder[key] = new
    assert _verdict(_text(header, LINES)) is not True


def _same_bytes_other_text(signature: str) -> str:
    """``signature`` (base64 of 64 bytes, ``==`` padded) with the unused low bits of its last character set:
    a lenient decoder reads the same bytes from it."""
    last = signature.rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other = alphabet[alphabet.index(last) | 0b1111]
    assert other != last
    assert base64.b64decode(signature[:-3] + other + "==") == base64.b64decode(signature)
    return signature[:-3] + other + "=="


@pytest.mark.parametrize("part", ["checkpoint", "checkpoints"])
def test_a_signature_in_another_encoding_of_the_same_bytes_does_not_verify(part: str) -> None:
    # found by the fuzzing above: a lenient base64 read accepted a changed signature field
    header = copy.deepcopy(HEADER)
    holder = header[part] if part == "checkpoint" else header[part][0]
    holder["signature"] = _same_bytes_other_text(holder["signature"])
    assert _verdict(_text(header, LINES)) is not True


@fuzz(150)
@given(JSON, st.lists(JSON, max_size=3))
def test_arbitrary_json_documents_are_refused_cleanly(tmp_path_factory: Any, header: Any, lines: list[Any]) -> None:
    folder: Path = tmp_path_factory.mktemp("fuzz-json")
    key_file = folder / "key.pem"
    key_file.write_bytes(public_pem(KEY))
    path = folder / "input.json"
    path.write_text("\n".join(json.dumps(item) for item in [header, *lines]) + "\n")
    out = io.StringIO()
    assert verifier.main([str(path), "--public-key", str(key_file)], out=out) in (1, 2), out.getvalue()
    assert "Traceback" not in out.getvalue()


INCLUSION, CONSISTENCY = _proofs()


def _paths(document: dict[str, Any], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a proof document whose value the proof depends on (not its labels or spare copies)."""
    places: list[tuple[Any, ...]] = []
    for key, value in document.items():
        if not prefix and key in ("format", "public_key", "public_keys", "chain_hash"):
            continue
        if key == "id":
            continue
        if isinstance(value, dict):
            places += _paths(value, (*prefix, key))
        elif isinstance(value, list):
            places += [(*prefix, key, n) for n in range(len(value))]
        else:
            places.append((*prefix, key))
    return places


def _verify_proof(document: dict[str, Any]) -> bool | None:
    check = verifier.verify_inclusion_document if "audit_path" in document else verifier.verify_consistency_document
    try:
        return bool(check(document, TRUSTED).ok)
    except verifier.Malformed:
        return None


def test_the_unmutated_proofs_verify():
    assert _verify_proof(copy.deepcopy(INCLUSION)) is True
    assert _verify_proof(copy.deepcopy(CONSISTENCY)) is True


@fuzz(200)
@given(
    st.sampled_from([("inclusion", p) for p in _paths(INCLUSION)] + [("consistency", p) for p in _paths(CONSISTENCY)]),
    st.data(),
)
def test_a_changed_proof_never_verifies(target: tuple[str, tuple[Any, ...]], data: st.DataObject):
    which, place = target
    document = copy.deepcopy(INCLUSION if which == "inclusion" else CONSISTENCY)
    holder: Any = document
    for step in place[:-1]:
        holder = holder[step]
    old = holder[place[-1]]
    new = data.draw(st.one_of(near(old), JSON), label="new value")
    assume(_canonical(new) != _canonical(old))
    holder[place[-1]] = new
    assert _verify_proof(document) is not True


@fuzz(60)
@given(st.integers(1, 5_000), st.integers(0, len(LINES) - 1), st.booleans())
def test_deeply_nested_entries_are_refused_cleanly(depth: int, index: int, raw_line: bool):
    """Nesting around the JSON reader's and writer's stack limits, in an entry's details."""
    lines = copy.deepcopy(LINES)
    nested = "[" * depth + "]" * depth
    if raw_line:  # written by hand: the line is read, then must be re-encoded to check its canonical form
        rows = [_canonical(line) for line in lines]
        rows[index] = rows[index].replace(_canonical(LINES[index]["entry"]["details"]), '{"a":' + nested + "}", 1)
        data = (json.dumps(HEADER) + "\n" + "\n".join(rows) + "\n").encode()
    else:
        lines[index]["entry"]["details"] = {"a": json.loads(nested)} if depth < 500 else {"a": []}
        data = _text(HEADER, lines)
    assert _verdict(data) is not True
