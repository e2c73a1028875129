"""Entries no checkpoint covers: signed after `demo load` and by the worker, shown to auditors, and `audit verify`
fails when they are too old, when there is no checkpoint at all, or when the log was rewound behind the
checkpoint kept outside the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditCheckpoint, AuditHead, Role
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries, bundle_file, run_verifier, write_public_key
from tests.support.factories import make_user
from tests.support.tamper import raw_write
from tests.web.helpers import login_as

START = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def _verify(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


@pytest.fixture
def kept_file(app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "instance" / "audit_checkpoint.json"
    app.config["AUDIT_KEPT_CHECKPOINT_FILE"] = str(path)
    return path


def test_a_log_without_any_checkpoint_fails_unless_allowed(app: Flask, log_key: ed25519.Ed25519PrivateKey):
    append_entries(6)
    code, output = _verify(app)
    assert code == 1, output
    assert "no verified checkpoint covers the log: its 6 entries" in output
    assert "uncovered: entries 1–6" in output
    code, output = _verify(app, "--allow-uncovered")
    assert code == 0, output
    assert "uncovered: entries 1–6 are covered by no checkpoint yet" in output


def test_deleting_every_checkpoint_fails(app: Flask, log_key: ed25519.Ed25519PrivateKey):
    append_entries(4)
    sign_checkpoint(app.config)
    append_entries(2)
    sign_checkpoint(app.config)
    code, output = _verify(app)
    assert code == 0, output
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
    code, output = _verify(app)
    assert code == 1, output
    assert "no verified checkpoint covers the log" in output


def test_entries_left_uncovered_beyond_the_tolerance_fail(app: Flask, log_key: ed25519.Ed25519PrivateKey):
    app.config["AUDIT_UNCOVERED_TOLERANCE"] = 900
    with time_machine.travel(START, tick=False):
        append_entries(5)
        sign_checkpoint(app.config)
        append_entries(3)
        code, output = _verify(app)
        assert code == 0, output
        assert "uncovered: entries 6–8 are covered by no checkpoint yet (the oldest since 2026-11-30T18:00:00" in output
    with time_machine.travel(START + timedelta(minutes=16), tick=False):
        code, output = _verify(app)
        assert code == 1, output
        assert "entries 6–8 are covered by no checkpoint, the oldest since 2026-11-30T18:00:00.000000Z" in output
        assert _verify(app, "--uncovered-tolerance", "3600")[0] == 0
        assert _verify(app, "--allow-uncovered")[0] == 0
        sign_checkpoint(app.config)
        code, output = _verify(app)
        assert code == 0, output
        assert "uncovered: none (checkpoints cover all 8 entries)" in output


def test_signing_keeps_a_copy_outside_the_database(app: Flask, log_key: ed25519.Ed25519PrivateKey, kept_file: Path):
    append_entries(3)
    first = sign_checkpoint(app.config)
    assert json.loads(kept_file.read_text()) == first
    append_entries(2)
    second = sign_checkpoint(app.config)
    assert json.loads(kept_file.read_text()) == second
    code, output = _verify(app)
    assert code == 0, output
    assert "the log still contains what the kept checkpoint (5 entries) signed" in output


def _rewind_to(size: int) -> None:
    """What a database administrator does to remove the latest entries without a trace in the database."""
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints WHERE tree_size > :n"), {"n": size})
        conn.execute(text("DELETE FROM audit_tree_nodes WHERE ((idx + 1) << level) > :n"), {"n": size})
        conn.execute(text("DELETE FROM audit_entries WHERE seq > :n"), {"n": size})
        conn.execute(
            text("UPDATE audit_head SET seq = :n, hash = (SELECT entry_hash FROM audit_entries WHERE seq = :n)"),
            {"n": size},
        )


def test_a_database_rewound_behind_the_kept_checkpoint_fails(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, kept_file: Path, tmp_path: Path
):
    append_entries(4)
    sign_checkpoint(app.config)
    append_entries(3)
    kept = sign_checkpoint(app.config)
    _rewind_to(4)
    db.session.expire_all()
    # Without the kept copy the database alone looks consistent and fully covered.
    app.config["AUDIT_KEPT_CHECKPOINT_FILE"] = ""
    assert _verify(app)[0] == 0
    app.config["AUDIT_KEPT_CHECKPOINT_FILE"] = str(kept_file)
    for extra in ((), ("--allow-uncovered",)):
        code, output = _verify(app, *extra)
        assert code == 1, output
        assert "entries 5–7 were removed" in output
    # Signing over the rewound log does not overwrite the copy with the smaller log.
    append_entries(1)
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1, result.output
    assert "was rewound or replaced" in result.output
    assert json.loads(kept_file.read_text()) == kept
    # The standalone verifier: the auditor's kept checkpoint against a bundle of the rewound log.
    bundle = bundle_file(tmp_path)
    key_file = write_public_key(log_key, tmp_path / "institution.pem")
    code, output = run_verifier(bundle, "--public-key", key_file, "--trusted-checkpoint", kept_file)
    assert code == 1, output
    assert "the log was truncated after you kept that checkpoint" in output or "do not hash" in output


def test_the_worker_signs_and_keeps_checkpoints(app: Flask, log_key: ed25519.Ed25519PrivateKey, kept_file: Path):
    assert app.config["AUDIT_CHECKPOINT_INTERVAL"] <= 60  # a short default interval
    append_entries(3)
    result = app.test_cli_runner().invoke(args=["permits", "worker", "--passes", "1"])
    assert result.exit_code == 0, result.output
    # the three entries, and this quarter's and the next's assignment seed commitments the pass made before signing
    assert "audit checkpoint signed: tree size 5" in result.output
    assert json.loads(kept_file.read_text())["tree_size"] == 5


def test_demo_load_ends_with_a_checkpoint(app: Flask, tmp_path: Path, kept_file: Path):
    app.config["KEYS_DIR"] = str(tmp_path / "keys")  # the demo creates development keys on demand
    result = app.test_cli_runner().invoke(args=["demo", "load", "--quiet"])
    assert result.exit_code == 0, result.output
    size = db.session.scalar(select(AuditHead.seq))
    assert size
    assert db.session.scalar(select(func.max(AuditCheckpoint.tree_size))) == size
    assert f"firmado: {size} entradas" in result.output
    assert json.loads(kept_file.read_text())["tree_size"] == size
    code, output = _verify(app)
    assert code == 0, output


def test_auditors_see_the_uncovered_window(app: Flask, client: FlaskClient, log_key: ed25519.Ed25519PrivateKey):
    auditor = make_user(Role.AUDITOR)  # entry 1
    append_entries(3)
    sign_checkpoint(app.config)
    append_entries(2)
    login_as(client, auditor)
    page = client.get("/supervision/").get_data(as_text=True)
    assert "Entradas sin punto de control: de la 5 a la 6" in page
    sign_checkpoint(app.config)
    page = client.get("/supervision/").get_data(as_text=True)
    assert "Todas las entradas están cubiertas por un punto de control firmado." in page


def test_the_bundle_reports_the_uncovered_window(app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path):
    append_entries(4)
    sign_checkpoint(app.config)
    append_entries(3)
    bundle = bundle_file(tmp_path)
    header = json.loads(bundle.read_text(encoding="utf-8").splitlines()[0])
    assert (header["tree_size"], header["log_size"], header["uncovered"]) == (4, 7, 3)
    code, output = run_verifier(bundle, "--public-key", write_public_key(log_key, tmp_path / "k.pem"))
    assert code == 0, output
    assert "the latest 3 were covered by no checkpoint yet" in output


def test_a_missing_kept_copy_is_reported(app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path):
    append_entries(3)
    sign_checkpoint(app.config)  # signed while no copy is kept
    app.config["AUDIT_KEPT_CHECKPOINT_FILE"] = str(tmp_path / "elsewhere" / "audit_checkpoint.json")
    code, output = _verify(app)
    assert code == 0, output
    assert "warning: no checkpoint kept outside the database at" in output
