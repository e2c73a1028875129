"""The verifier vouches for good entries the fast way (``fast_entry_check``: the canonical form written without a
dictionary and a sort, details remembered by their stored text, stored subtrees read through the bare driver)
and asks the general way (``_entry_problem``) about every other entry. Differential fuzzing holds the fast way
to the general one: whenever it vouches for an entry, the general way finds that entry good, with the same chain
and leaf hashes; and it does vouch for the entries the application writes, so the speed is not only on paper.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Table, text, update
from sqlalchemy.orm import Session

from app.audit import verification, verify
from app.audit.canonical import (
    CANONICAL_FIELDS,
    ENTRY_TEMPLATE,
    GENESIS_HASH,
    SORTED_FIELDS,
    canonical_details,
    canonical_json,
    chain_hash,
    json_values,
    leaf_hash_hex,
    salted_digest,
    strict_loads,
)
from app.audit.verification import _NAMES, _entry_problem, _instant, fast_canonical, fast_entry_check
from app.extensions import db
from app.models import AuditEntry, AuditTreeNode
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries, install_log_key
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import JSON
from tests.fuzz.test_in_app_verifier import tampering

ODD_TEXT = st.sampled_from(
    ["", "\x1f", "a\x1fb", "a,b", '"', "\\", "%s", "%(x)s", "{}", "\n", "\u2028", "\ud800", "ñ", "\x00", " ", "null"]
)
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=30),
    ODD_TEXT,
    st.binary(max_size=8),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-6))])),
    st.lists(st.integers(), max_size=2),
)
"""Whatever a driver could hand back for a column, and more."""

SQLITE_INSTANT = st.datetimes().map(lambda at: at.strftime("%Y-%m-%d %H:%M:%S.%f"))
"""How SQLAlchemy stores an instant on SQLite (UTC, no zone)."""
INSTANT = st.one_of(
    SQLITE_INSTANT,
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-6))])),
    st.datetimes(),  # naive: read as UTC
    SQLITE_INSTANT.map(lambda at: at.replace(" ", "T")),
    SQLITE_INSTANT.map(lambda at: at[:-1] + "\x1f"),
    SQLITE_INSTANT.map(lambda at: at[:19]),
    st.text(max_size=30),
)
NULLABLE_TEXT = st.one_of(st.none(), st.text(max_size=40), ODD_TEXT, st.sampled_from(["0" * 64, "vecs", "draft"]))
NULLABLE_INT = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
PLAIN = {
    "kind": st.sampled_from(["transition", "admin", "document"]),
    "action": st.text(min_size=1, max_size=20),
    "actor_role": st.text(min_size=1, max_size=20),
    **dict.fromkeys(("case_id", "workflow_version", "actor_id", "case_version"), NULLABLE_INT),
}
DETAILS = st.one_of(
    JSON.map(json.dumps),
    JSON.map(lambda value: json.dumps(value, ensure_ascii=False)),
    st.dictionaries(st.text(max_size=8), JSON, max_size=4).map(json.dumps),
    st.sampled_from(['{"a": 1, "a": 2}', '{"a": NaN}', '{"a": 9007199254740993}', '{"a": "\\ud800"}', "[[1, 2]]"]),
    st.sampled_from(["null", "0", "false", "[]", '""', "{}", '{"b": 1, "a": [1, {"d": 2, "c": 3}]}', "", "{"]),
    st.binary(max_size=20),
    st.text(max_size=20),
)


def general_canonical(values: dict[str, Any]) -> bytes | None:
    """The canonical form the general way computes (``_entry_problem``), or ``None`` where it reports a problem."""
    try:
        fields = {name: values[name] for name in CANONICAL_FIELDS}
        fields["at"] = _instant(values["at"])
        fields["kind"] = str(values["kind"])
        fields["details"] = dict(strict_loads(values["details"]) or {})
        return canonical_json(fields)
    except (TypeError, ValueError, AttributeError):
        return None


@st.composite
def stored_rows(draw: st.DrawFn) -> tuple[tuple[Any, ...], int, str, bool, str]:
    """A row as the verifier reads it, the sequence number and chain hash it should continue, whether all its
    values are of the types the databases return for their columns, and what its stored hashes are of."""
    plain = draw(st.booleans(), label="plain types")
    values: dict[str, Any] = {}
    for name in CANONICAL_FIELDS:
        if name == "at":
            strategy = INSTANT if not plain else st.one_of(SQLITE_INSTANT, st.datetimes(timezones=st.just(UTC)))
        elif name == "details":
            strategy = DETAILS if not plain else st.dictionaries(st.text(max_size=8), JSON, max_size=4).map(json.dumps)
        elif name == "seq":
            strategy = st.integers(1, 2**40)
        else:
            strategy = PLAIN.get(name, NULLABLE_TEXT)
            if not plain:
                strategy = st.one_of(strategy, ANY_VALUE)
        values[name] = draw(strategy, label=name)
    seq = values["seq"] if draw(st.integers(0, 9), label="seq in place") else values["seq"] + 1
    running = draw(st.sampled_from([GENESIS_HASH, "ab" * 32]), label="running")
    values["prev_hash"] = running if draw(st.integers(0, 9), label="prev in place") else "cd" * 32
    comment = draw(st.one_of(st.none(), st.text(max_size=20)), label="comment")
    values["comment"], values["comment_salt"] = comment, "00" * 16 if comment is not None else None
    if comment is not None and not plain and not draw(st.integers(0, 4)):
        values["comment_salt"] = draw(st.one_of(st.none(), st.just("zz")), label="salt")
    good_digest = salted_digest("00" * 16, comment) if comment is not None else None
    values["comment_digest"] = good_digest if draw(st.integers(0, 9), label="digest kept") else "ef" * 32
    values["details_place"], values["entry_hash"], values["leaf_hash"] = None, "", ""
    # The stored hashes: of the canonical form the general way computes, of the one the fast way computes (what an
    # attacker would aim at if the fast way read an entry differently), or of nothing.
    row = tuple(values[name] for name in _NAMES)
    hashed = draw(st.sampled_from(["general", "fast", "none"]), label="hashed")
    canonical = general_canonical(values) if hashed == "general" else fast_canonical()(row)
    if canonical is not None and hashed != "none":
        values["entry_hash"], values["leaf_hash"] = chain_hash(running, canonical), leaf_hash_hex(canonical)
    else:
        values["entry_hash"], values["leaf_hash"] = draw(st.sampled_from([("1" * 64, "2" * 64), ("", "")]))
    return tuple(values[name] for name in _NAMES), seq, running, plain, hashed


@fuzz(600)
@given(stored_rows())
def test_the_fast_way_vouches_only_for_entries_the_general_way_finds_good(case: tuple[Any, ...]) -> None:
    row, seq, running, plain, hashed = case
    fast = fast_entry_check()(row, seq, running)
    try:
        problem, recomputed, leaf = _entry_problem(row, seq, running)
    except ValueError:  # the general way raises for a comment salt that is not hexadecimal: so must the caller
        assert fast is None
        return
    if fast is not None:
        assert problem is None
        assert fast == (recomputed, leaf)
    elif plain and hashed == "general":  # values of the types the databases return: a good entry is vouched for
        assert problem is not None


@fuzz(400)
@given(st.lists(st.one_of(ANY_VALUE, NULLABLE_TEXT), min_size=len(SORTED_FIELDS), max_size=len(SORTED_FIELDS)))
def test_values_written_in_one_call_are_written_as_in_the_object(values: list[Any]) -> None:
    try:
        whole = canonical_json(dict(zip(SORTED_FIELDS, values, strict=True)))
    except (TypeError, ValueError):
        whole = None
    try:
        parts = json_values(values)
        if len(parts) != len(SORTED_FIELDS):  # a list among the values: the fast way gives up
            return
        fast = (ENTRY_TEMPLATE % tuple(parts)).encode()
    except (TypeError, ValueError):  # a lone surrogate fails when encoded, as in canonical_json
        assert whole is None
        return
    assert fast == whole


@fuzz(400)
@given(DETAILS)
def test_canonical_details_are_the_details_of_the_canonical_form(stored: str | bytes) -> None:
    try:
        fields = dict(strict_loads(stored) or {})
        expected: str | None = canonical_json({"details": fields}).decode()[len('{"details":') : -1]
    except (TypeError, ValueError, AttributeError):
        expected = None
    try:
        written = canonical_details(stored)
    except (TypeError, ValueError):
        return  # the general way decides
    assert written == expected


# -- the whole verification, both ways ----------------------------------------------------------------------


@pytest.fixture
def small_log(app: Flask, tmp_path: Path) -> ed25519.Ed25519PrivateKey:
    """21 entries (some with comments) and two checkpoints."""
    key = install_log_key(app, tmp_path / "keys")
    append_entries(6)
    append_entries(4, comment="Falta el plano estructural.")
    sign_checkpoint(app.config)
    append_entries(11)
    sign_checkpoint(app.config)
    return key


def _both_ways(
    session: Session, key: ed25519.Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> tuple[verification.VerifyResult, verification.VerifyResult, int]:
    """The result of ``verify`` as it is, how many entries went the general way then, and the result when every
    entry goes the general way."""
    general = _entry_problem
    calls = 0

    def counted(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return general(*args)

    with monkeypatch.context() as patch:
        patch.setattr(verification, "_entry_problem", counted)
        fast = verify(session, batch=4, trusted_keys=[key.public_key()])
    with monkeypatch.context() as patch:
        patch.setattr(verification, "fast_entry_check", lambda: lambda *args: None)
        slow = verify(session, batch=4, trusted_keys=[key.public_key()])
    return fast, slow, calls


def test_a_good_log_verifies_the_fast_way_alone(
    small_log: ed25519.Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow, general = _both_ways(db.session(), small_log, monkeypatch)
    assert fast.ok
    assert fast == slow
    assert general == 0  # every entry the application wrote, on this database, was vouched for the fast way


@pytest.mark.parametrize(
    "change",
    ["details", "details_text", "at", "comment", "folio", "node", "missing_node", "entry_hash"],
)
def test_a_changed_log_gives_the_same_result_both_ways(
    small_log: ed25519.Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    table = cast(Table, AuditEntry.__table__)
    with tampering() as conn:
        where = table.c.seq == 9
        if change == "details":
            conn.execute(update(table).where(where).values(details={"n": 3, "texto": "año señal ✓", "x": 1}))
        elif change == "details_text":  # the same object written another way: the canonical form is unchanged
            read = text("SELECT CAST(details AS TEXT) FROM audit_entries WHERE seq = 9")
            stored = json.loads(str(conn.execute(read).scalar_one()))
            raw = json.dumps(dict(reversed(stored.items())), indent=1)
            placeholder = "CAST(:raw AS json)" if conn.dialect.name == "postgresql" else ":raw"
            conn.execute(text(f"UPDATE audit_entries SET details = {placeholder} WHERE seq = 9"), {"raw": raw})  # noqa: S608
        elif change == "at":
            conn.execute(update(table).where(where).values(at=datetime(2026, 1, 2, tzinfo=UTC)))
        elif change == "comment":
            conn.execute(update(table).where(where).values(comment="Otro texto."))
        elif change == "folio":
            conn.execute(update(table).where(where).values(folio="VECS-2026-000001"))
        elif change == "entry_hash":
            conn.execute(update(table).where(where).values(entry_hash="0" * 64))
        else:
            nodes = cast(Table, AuditTreeNode.__table__)
            at_node = (nodes.c.level == 2) & (nodes.c.idx == 1)
            if change == "node":
                conn.execute(update(nodes).where(at_node).values(hash="0" * 64))
            else:
                conn.execute(nodes.delete().where(at_node))
        with Session(bind=conn) as session:
            fast, slow, _general = _both_ways(session, small_log, monkeypatch)
    assert fast == slow
    assert fast.ok == (change == "details_text")
