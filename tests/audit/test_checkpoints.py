"""Signed checkpoints (on demand, on schedule, from `permits tick`) and logged rotations of the log key."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from sqlalchemy import event, select

from app.audit import KeptCheckpoint, verify
from app.audit.checkpoints import (
    CheckpointError,
    checkpoint_json,
    checkpoint_message,
    create_checkpoint,
    public_key_pem,
)
from app.audit.export import bundle_lines, dumps_line
from app.extensions import db
from app.keys import load_log_key, public_fingerprint
from app.models import AuditCheckpoint, AuditEntry, utcnow
from app.services.audit_log import checkpoint_if_due, sign_checkpoint
from app.services.keys import LogKeyRotation, rotate_log_key
from app.services.oversight import log_public_keys
from app.services.uow import unit_of_work
from tests.audit.helpers import append_entries, bundle_file, install_log_key, run_verifier, write_public_key
from tests.support.concurrency import assert_log_verifies, logged, race, slow_flushes


def test_on_demand_checkpoint_is_signed_and_verifiable(app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path):
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["audit", "checkpoint"])
    assert empty.exit_code == 1
    assert "empty" in empty.output
    append_entries(5)
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    checkpoint = json.loads(result.output)
    assert checkpoint["tree_size"] == 5
    assert checkpoint["key_fingerprint"] == public_fingerprint(log_key.public_key())
    kept = KeptCheckpoint.from_json(checkpoint)
    assert kept.signed_by(log_key.public_key())
    message = checkpoint_message(5, checkpoint["root_hash"], checkpoint["timestamp"], checkpoint["key_fingerprint"])
    assert message.decode().splitlines()[0] == "tramites audit checkpoint v1"

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "OK: 5 entries verified" in verified.output
    assert "1 checkpoints verified" in verified.output

    # The CLI bundle export verifies with the standalone verifier and the published key.
    out = tmp_path / "cli-bundle.jsonl"
    exported = runner.invoke(args=["audit", "bundle", str(out)])
    assert exported.exit_code == 0, exported.output
    key_file = write_public_key(log_key, tmp_path / "key.pem")
    code, output = run_verifier(out, "--public-key", key_file)
    assert code == 0, output
    # a folder that does not exist is said in words, not with a traceback
    missing = runner.invoke(args=["audit", "bundle", str(tmp_path / "no-such-folder" / "b.jsonl")])
    assert missing.exit_code == 1
    assert "cannot write" in missing.output
    assert "Traceback" not in missing.output


def test_a_key_that_is_not_the_logs_key_cannot_sign(app: Flask, log_key: ed25519.Ed25519PrivateKey):
    append_entries(2)
    sign_checkpoint(app.config)
    intruder = ed25519.Ed25519PrivateKey.generate()
    with unit_of_work() as session, pytest.raises(CheckpointError, match="not the log's current key"):
        create_checkpoint(session, intruder)
    assert db.session.scalar(select(AuditCheckpoint.id).order_by(AuditCheckpoint.id.desc())) == 1


def test_scheduled_checkpoints_only_when_grown_and_due(app: Flask, log_key: ed25519.Ed25519PrivateKey):
    app.config["AUDIT_CHECKPOINT_INTERVAL"] = 600
    assert checkpoint_if_due(app.config).skipped == "not due"  # empty log
    append_entries(3)
    first = checkpoint_if_due(app.config)
    assert first.checkpoint is not None
    assert first.checkpoint["tree_size"] == 3
    append_entries(1)
    assert checkpoint_if_due(app.config).checkpoint is None  # grew, but the last one is recent
    later = utcnow() + timedelta(minutes=11)
    assert checkpoint_if_due(app.config, now=later).checkpoint["tree_size"] == 4
    assert checkpoint_if_due(app.config, now=later + timedelta(hours=1)).checkpoint is None  # did not grow
    app.config["AUDIT_CHECKPOINT_INTERVAL"] = 0
    assert checkpoint_if_due(app.config).skipped == "disabled"
    app.config["AUDIT_CHECKPOINT_INTERVAL"] = 1
    app.config["KEYS_DIR"] = "/nonexistent"
    assert "not found" in (checkpoint_if_due(app.config).skipped or "")


def test_permits_tick_signs_a_checkpoint_when_due(app: Flask, log_key: ed25519.Ed25519PrivateKey):
    append_entries(2)
    result = app.test_cli_runner().invoke(args=["permits", "tick"])
    assert result.exit_code == 0, result.output
    # the two entries, and this quarter's and the next's assignment seed commitments the pass made before signing
    assert "audit checkpoint signed: tree size 4" in result.output
    again = app.test_cli_runner().invoke(args=["permits", "tick"])
    assert "audit checkpoint" not in again.output


def test_rotating_the_log_key_is_logged_and_old_checkpoints_stay_verifiable(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path
):
    old_pem = write_public_key(log_key, tmp_path / "old.pem")
    append_entries(4)
    before = sign_checkpoint(app.config)
    kept_file = tmp_path / "kept.json"
    kept_file.write_text(json.dumps(before))

    result = app.test_cli_runner().invoke(args=["keys", "rotate-log", "--yes"])
    assert result.exit_code == 0, result.output
    new_key = load_log_key(app.config)
    new_pem = write_public_key(new_key, tmp_path / "new.pem")
    old_fp, new_fp = public_fingerprint(log_key.public_key()), public_fingerprint(new_key.public_key())
    assert old_fp != new_fp
    rotation = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "key_rotated")).one()
    assert rotation.seq == 5
    assert rotation.details == {"purpose": "audit_log", "old_fingerprint": old_fp, "new_fingerprint": new_fp}
    handover = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    assert (handover.tree_size, handover.key_fingerprint) == (5, old_fp)
    archived = list((tmp_path / "keys" / "archive").glob("*.pem"))
    assert len(archived) == 1
    assert archived[0].stat().st_mode & 0o777 == 0o600
    assert not list((tmp_path / "keys").glob("*.new"))

    append_entries(3)
    after = sign_checkpoint(app.config)
    assert after["key_fingerprint"] == new_fp
    with unit_of_work() as session, pytest.raises(CheckpointError, match="not the log's current key"):
        create_checkpoint(session, log_key)  # the retired key may not sign any more

    # Trusting either key, both verifiers follow the rotation; old checkpoints still verify.
    kept = KeptCheckpoint.from_json(before)
    for trusted in (log_key.public_key(), new_key.public_key()):
        result = verify(db.session(), trusted_keys=[trusted], kept=[kept])
        assert result.ok, result.problems
        assert result.checkpoints_verified == 3
    stranger = write_public_key(ed25519.Ed25519PrivateKey.generate(), tmp_path / "stranger.pem")
    for version in (1, 2):
        bundle = bundle_file(tmp_path, name=f"bundle-{version}.jsonl", version=version)
        for pem in (old_pem, new_pem):
            code, output = run_verifier(bundle, "--public-key", pem, "--trusted-checkpoint", kept_file)
            assert code == 0, output
            assert "3 checkpoints verified" in output
        # A key nobody endorsed is refused.
        code, output = run_verifier(bundle, "--public-key", stranger)
        assert code == 1
        assert "which you do not trust" in output
    assert not verify(db.session(), trusted_keys=[ed25519.Ed25519PrivateKey.generate().public_key()]).ok


def test_rotation_refuses_a_configured_key_that_is_not_current(app: Flask, log_key, tmp_path: Path):
    append_entries(1)
    sign_checkpoint(app.config)
    other = tmp_path / "other"
    install_log_key(app, other)
    with pytest.raises(CheckpointError, match="not the log's current key"):
        rotate_log_key(app.config)
    assert db.session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "key_rotated")) is None
    assert not list(other.glob("*.new"))


def test_two_rotations_at_once_rotate_once_and_install_the_key_they_logged(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path
):
    append_entries(2)
    sign_checkpoint(app.config)

    with slow_flushes():
        results = race(app, [lambda: rotate_log_key(app.config)] * 2)

    rotated = [r for r in results if isinstance(r, LogKeyRotation)]
    refused = [r for r in results if isinstance(r, CheckpointError)]
    assert (len(rotated), len(refused)) == (1, 1), results
    assert "not the log's current key" in str(refused[0])
    installed = public_fingerprint(load_log_key(app.config).public_key())
    assert installed == rotated[0].new_fingerprint  # the key in place is the one the log names
    assert [d["new_fingerprint"] for d in logged("key_rotated")] == [installed]
    assert not list((tmp_path / "keys").glob("*.new"))
    append_entries(1)
    assert sign_checkpoint(app.config)["key_fingerprint"] == installed  # the next checkpoint signs as usual
    assert_log_verifies()


def _signed_under_three_keys(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, *, entries: int
) -> list[ed25519.Ed25519PrivateKey]:
    """Three checkpoints under the log's key, a rotation, three under the new key, another rotation (each
    checkpoint after ``entries`` more entries); the three keys, oldest first."""
    keys = [log_key]
    for _ in range(2):
        for _ in range(3):
            append_entries(entries)
            sign_checkpoint(app.config)
        rotate_log_key(app.config)
        keys.append(load_log_key(app.config))
    return keys


def test_the_keys_that_signed_are_listed_in_order_of_first_use_a_key_at_a_time(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, backend: str
):
    """A checkpoint is signed every minute the log grows: the public keys' list (the checkpoints' page, the API)
    finds the few keys through an index, never reading the checkpoints themselves."""
    keys = _signed_under_three_keys(app, log_key, entries=1)
    append_entries(1)
    sign_checkpoint(app.config)
    plans: list[list[str]] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if conn.dialect.name == "sqlite" and "audit_checkpoints" in statement:
            rows = conn.connection.dbapi_connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.append([str(row[3]) for row in rows])

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        listed = log_public_keys()
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    expected = [(public_fingerprint(k.public_key()), public_key_pem(k.public_key())) for k in keys]
    assert [(k["fingerprint"], k["pem"]) for k in listed] == expected  # by first use, not by fingerprint
    if backend == "sqlite":
        (plan,) = plans
        checkpoint_steps = [
            s for s in plan if any(f" {alias}" in s for alias in ("audit_checkpoints", "later", "used"))
        ]
        assert checkpoint_steps, plan
        assert all(s.startswith("SEARCH") for s in checkpoint_steps), plan  # no scan of the checkpoints


def test_the_bundles_header_streams_every_checkpoint_and_key_as_one_json_line(
    app: Flask, log_key: ed25519.Ed25519PrivateKey
):
    """The header lists every checkpoint up to the bundle's (read a batch at a time: one is signed every minute
    the log grows) and the keys that signed them, in order of first use; its text is the compact, sorted JSON
    line of that header, as the standalone verifier reads it."""
    keys = _signed_under_three_keys(app, log_key, entries=2)
    append_entries(1)
    target = sign_checkpoint(app.config)
    append_entries(1)
    sign_checkpoint(app.config)  # later than the bundle's: not in it
    db.session.remove()
    checkpoint = db.session.get(AuditCheckpoint, target["id"])
    pieces = list(bundle_lines(db.session(), checkpoint, batch=2))
    lines = "".join(pieces).splitlines(keepends=True)
    header = json.loads(lines[0])
    assert lines[0] == dumps_line(header)
    expected = db.session.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.tree_size <= target["tree_size"]).order_by(AuditCheckpoint.id)
    ).all()
    assert header["checkpoints"] == [checkpoint_json(c) for c in expected]
    # the header's checkpoints came a batch (2) at a time, between its opening and its closing pieces
    header_pieces = len(pieces) - header["tree_size"]
    assert header_pieces == 2 + -(-len(expected) // 2)
    assert header["checkpoint"] == target
    assert [k["fingerprint"] for k in header["public_keys"]] == [public_fingerprint(k.public_key()) for k in keys]
    assert header["tree_size"] == target["tree_size"] == len(lines) - 1
    assert header["uncovered"] == 0
