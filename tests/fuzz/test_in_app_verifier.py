"""Fuzzing the in-app verifier (``app.audit.verification``): the kept checkpoints auditors hand in, and the
stored log itself as an attacker with database access could change it.

Properties: parsing a kept checkpoint raises nothing but ``ValueError`` and accepts no changed signed field;
any change to a stored entry's canonical content, its hashes, a stored subtree or a checkpoint makes
``verify`` fail (never crash); an unchanged log verifies after every example.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from app.audit import KeptCheckpoint, verify
from app.audit.canonical import CANONICAL_FIELDS, canonical_entry, strict_loads
from app.extensions import db
from app.models import AuditCheckpoint, AuditEntry, AuditTreeNode
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries, install_log_key
from tests.audit.test_verifier_robustness import KEY, _checkpoint
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import JSON, mutated_bytes, near
from tests.support.tamper import LOG_TABLES, SQLITE_TRIGGERS, _unprotect

KEPT = _checkpoint(6, bytes(range(32)), 2)
KEPT_BYTES = json.dumps(KEPT).encode()
SIGNED = ("tree_size", "root_hash", "timestamp", "key_fingerprint", "signature")


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


RAW_DOCUMENTS = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda value: json.dumps(value).encode()),
    mutated_bytes(KEPT_BYTES),
    st.integers(1, 200_000).map(lambda n: deep(n).encode()),
    st.integers(1, 50_000).map(lambda n: ('{"a":' * n + "1" + "}" * n).encode()),
)


def test_strict_json_refuses_deep_nesting_with_a_value_error():
    """Found by fuzzing: deeply nested brackets raised RecursionError (a kept checkpoint file; stored details,
    which made ``verify`` crash instead of reporting the tampering), and details nested just below the reader's
    limit could be read but not written back in canonical form (RecursionError while encoding)."""
    for depth in (257, 990, 1_000, 100_000):
        with pytest.raises(ValueError, match="nested"):
            strict_loads(deep(depth))
    assert strict_loads(deep(256)) == json.loads(deep(256))


@fuzz(300)
@given(RAW_DOCUMENTS)
def test_kept_checkpoints_parse_or_raise_value_error(data: bytes):
    try:
        kept = KeptCheckpoint.from_json(strict_loads(data))
    except ValueError:
        return
    if kept.signed_by(KEY.public_key()):
        assert tuple(getattr(kept, name) for name in SIGNED) == tuple(KEPT[name] for name in SIGNED)


# -- the stored log ---------------------------------------------------------------------------------------

ENTRY_COLUMNS = (*CANONICAL_FIELDS[1:], "prev_hash", "entry_hash", "leaf_hash")
"""The stored columns of an entry a mutation may touch (all but its sequence number)."""
ENTRIES = 12


@pytest.fixture
def stored_log(app: Flask, tmp_path: Path) -> ed25519.Ed25519PrivateKey:
    key = install_log_key(app, tmp_path / "keys")
    append_entries(5)
    append_entries(3, comment="Falta el plano estructural.")
    sign_checkpoint(app.config)
    append_entries(ENTRIES - 8)
    sign_checkpoint(app.config)
    return key


@contextmanager
def tampering() -> Iterator[Connection]:
    """A connection with the log's protections off, whose changes are always rolled back."""
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        if conn.dialect.name == "sqlite":
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            if conn.dialect.name == "postgresql":
                _unprotect(conn)
            else:
                for table in LOG_TABLES:
                    for trigger in SQLITE_TRIGGERS:
                        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_{trigger}"))
            yield conn
        finally:
            conn.rollback()
            if conn.dialect.name == "sqlite":
                raw.execute("PRAGMA foreign_keys=ON")


def _verifies(conn: Connection, key: ed25519.Ed25519PrivateKey) -> bool:
    with Session(bind=conn) as session:
        return bool(verify(session, trusted_keys=[key.public_key()]).ok)


def _new_value(data: st.DataObject, column: str, old: Any) -> Any:
    if column == "at":
        shift = data.draw(st.integers(-(10**12), 10**12).filter(bool), label="microseconds")
        return old + timedelta(microseconds=shift)
    if column == "details":
        return data.draw(st.one_of(near(old), JSON.filter(lambda v: isinstance(v, dict))), label="details")
    if column in ("case_id", "workflow_version", "actor_id", "case_version"):
        return data.draw(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), label=column)
    return data.draw(st.one_of(near(old) if old else st.text(min_size=1, max_size=20), st.none()), label=column)


@fuzz(20, deadline_seconds=20)
@given(data=st.data())
def test_a_changed_stored_entry_never_verifies(stored_log: ed25519.Ed25519PrivateKey, data: st.DataObject):
    seq = data.draw(st.integers(1, ENTRIES), label="seq")
    column = data.draw(st.sampled_from(ENTRY_COLUMNS), label="column")
    row = db.session.execute(select(AuditEntry.__table__).where(AuditEntry.seq == seq)).mappings().one()
    db.session.rollback()
    new = _new_value(data, column, row[column])
    with tampering() as conn:
        try:
            conn.execute(update(AuditEntry.__table__).where(AuditEntry.seq == seq).values({column: new}))
        except (DBAPIError, StatementError, OverflowError):
            assume(False)  # the database refuses the value itself (type, length, constraint)
        stored = conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq == seq)).mappings().one()
        # what the database kept (PostgreSQL drops trailing spaces past a column's length, for one)
        if column in ("prev_hash", "entry_hash", "leaf_hash"):
            assume(stored[column] != row[column])
        else:
            try:
                changed = canonical_entry(stored) != canonical_entry(row)
            except (TypeError, ValueError, AttributeError):
                changed = True  # it cannot even be put in canonical form
            assume(changed)
        assert not _verifies(conn, stored_log)
    with tampering() as conn:
        assert _verifies(conn, stored_log)


@fuzz(15, deadline_seconds=20)
@given(data=st.data())
def test_stored_details_that_are_not_plain_json_never_verify(
    stored_log: ed25519.Ed25519PrivateKey, data: st.DataObject
) -> None:
    """Details stored as raw text a JSON reader could read differently, or not at all (deep nesting)."""
    seq = data.draw(st.integers(1, ENTRIES), label="seq")
    raw = data.draw(
        st.one_of(
            st.integers(2, 20_000).map(lambda n: '{"a":' + deep(n) + "}"),
            st.sampled_from(['{"n": 1, "n": 1}', '{"n": 1e400}', '{"n": NaN}', '{"n": 9007199254740993}']),
        ),
        label="details",
    )
    with tampering() as conn:
        cast = "CAST(:raw AS json)" if conn.dialect.name == "postgresql" else ":raw"
        try:
            statement = text(f"UPDATE audit_entries SET details = {cast} WHERE seq = :seq")  # noqa: S608
            conn.execute(statement, {"raw": raw, "seq": seq})
        except DBAPIError:
            assume(False)
        assert not _verifies(conn, stored_log)


@fuzz(15, deadline_seconds=20)
@given(data=st.data())
def test_changed_subtrees_and_checkpoints_never_verify(stored_log: ed25519.Ed25519PrivateKey, data: st.DataObject):
    target = data.draw(st.sampled_from(["node", "checkpoint"]), label="target")
    if target == "node":
        nodes = db.session.execute(select(AuditTreeNode.level, AuditTreeNode.idx, AuditTreeNode.hash)).all()
        db.session.rollback()
        level, idx, old = data.draw(st.sampled_from(nodes), label="node")
        table, column = AuditTreeNode.__table__, "hash"
        where = (AuditTreeNode.level == level, AuditTreeNode.idx == idx)
        new = data.draw(near(old), label="hash")
    else:
        checkpoints = db.session.scalars(select(AuditCheckpoint)).all()
        chosen = data.draw(st.sampled_from(checkpoints), label="checkpoint")
        column = data.draw(st.sampled_from(["tree_size", "root_hash", "created_at", "signature"]), label="column")
        old = getattr(chosen, column)
        db.session.rollback()
        table, where = AuditCheckpoint.__table__, (AuditCheckpoint.id == chosen.id,)
        if column == "created_at":
            new = old + timedelta(seconds=data.draw(st.integers(1, 10**6)))
        elif column == "signature":
            signatures = st.binary(min_size=64, max_size=64).map(lambda b: base64.b64encode(b).decode())
            new = data.draw(st.one_of(near(old), signatures), label="signature")
        else:
            new = data.draw(near(old), label="value")
    with tampering() as conn:
        try:
            conn.execute(update(table).where(*where).values({column: new}))
        except (DBAPIError, StatementError, OverflowError):
            assume(False)
        assume(conn.execute(select(table.c[column]).where(*where)).scalar_one() != old)  # what the database kept
        assert not _verifies(conn, stored_log)


def test_the_fixture_log_verifies(stored_log: ed25519.Ed25519PrivateKey) -> None:
    result = verify(db.session(), trusted_keys=[stored_log.public_key()])
    assert result.ok, result
    assert result.checked == ENTRIES
    assert datetime.now(UTC) > datetime(2000, 1, 1, tzinfo=UTC)
