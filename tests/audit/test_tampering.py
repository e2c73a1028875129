"""Mutation tests: any single change to the stored log is caught by both verifiers, which name the first bad entry.

The log has 20 entries and two checkpoints (sizes 8 and 20); the auditor kept the one of size 20. Each case
corrupts the database as an attacker with direct access would (triggers off), then runs `flask audit verify`
against the live database and the standalone verifier against a bundle exported from the same database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from sqlalchemy import Connection, select, text

from app.audit.canonical import format_instant
from app.audit.checkpoints import checkpoint_message, public_key_pem
from app.extensions import db
from app.keys import public_fingerprint
from app.models import AuditCheckpoint
from app.services.audit_log import sign_checkpoint
from app.services.oversight import inclusion_proof
from tests.audit.helpers import append_entries, bundle_file, run_verifier, write_public_key
from tests.support.tamper import raw_write, rewrite_consistently

COLUMNS = (
    "at, kind, case_id, folio, workflow, workflow_version, action, from_state, to_state, actor_id, actor_role, "
    "case_version, comment, comment_salt, comment_digest, data_digest, documents_digest, details, prev_hash, "
    "entry_hash, leaf_hash"
)


@dataclass
class Log:
    key: ed25519.Ed25519PrivateKey
    key_file: Path
    kept_file: Path
    folder: Path


@pytest.fixture
def kept_log(app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path) -> Log:
    append_entries(4)
    append_entries(4, comment="Se previene al solicitante: falta el plano estructural.")
    sign_checkpoint(app.config)  # checkpoint 1: 8 entries
    append_entries(12)
    kept = sign_checkpoint(app.config)  # checkpoint 2: 20 entries, kept by the auditor
    kept_file = tmp_path / "kept.json"
    kept_file.write_text(json.dumps(kept))
    return Log(log_key, write_public_key(log_key, tmp_path / "institution.pem"), kept_file, tmp_path)


def _edit(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entries SET action = 'license_issued' WHERE seq = 5"))


def _delete(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_entries WHERE seq = 6"))


def _insert(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 7"))
    conn.execute(text("UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1007"))
    conn.execute(
        text(f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 7, {COLUMNS} FROM audit_entries WHERE seq = 6")  # noqa: S608
    )


def _reorder(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entries SET seq = 1000 WHERE seq = 7"))
    conn.execute(text("UPDATE audit_entries SET seq = 7 WHERE seq = 8"))
    conn.execute(text("UPDATE audit_entries SET seq = 8 WHERE seq = 1000"))


def _forge_checkpoint_root(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_checkpoints SET root_hash = :root WHERE id = 1"), {"root": "ab" * 32})


def _resign_checkpoint_with_own_key(conn: Connection) -> None:
    """Replace checkpoint 1's signature with the attacker's own (same size, root and time)."""
    table = AuditCheckpoint.__table__
    row = conn.execute(select(table.c.tree_size, table.c.root_hash, table.c.created_at).where(table.c.id == 1)).one()
    attacker = ed25519.Ed25519PrivateKey.generate()
    fingerprint = public_fingerprint(attacker.public_key())
    message = checkpoint_message(row.tree_size, row.root_hash, format_instant(row.created_at), fingerprint)
    conn.execute(
        text("UPDATE audit_checkpoints SET key_fingerprint = :fp, public_key = :pem, signature = :sig WHERE id = 1"),
        {
            "fp": fingerprint,
            "pem": public_key_pem(attacker.public_key()),
            "sig": base64.b64encode(attacker.sign(message)).decode(),
        },
    )


def _reencode_checkpoint_signature(conn: Connection) -> None:
    """Write checkpoint 1's signature with the unused low bits of its last base64 character set: the same
    bytes to a lenient decoder, a changed signed field to a verifier."""
    stored = conn.execute(text("SELECT signature FROM audit_checkpoints WHERE id = 1")).scalar_one()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    changed = stored[:-3] + alphabet[alphabet.index(stored[-3]) | 0b1111] + "=="
    assert changed != stored
    assert base64.b64decode(changed) == base64.b64decode(stored)
    conn.execute(text("UPDATE audit_checkpoints SET signature = :sig WHERE id = 1"), {"sig": changed})


def _truncate_after_kept(conn: Connection) -> None:
    # Remove entries 13-20 and every trace of them (subtrees, the checkpoint that covered them, the head).
    conn.execute(text("DELETE FROM audit_entries WHERE seq > 12"))
    for level in range(1, 6):
        conn.execute(
            text("DELETE FROM audit_tree_nodes WHERE level = :level AND (idx + 1) * :width > 12"),
            {"level": level, "width": 1 << level},
        )
    conn.execute(text("DELETE FROM audit_checkpoints WHERE tree_size > 12"))
    head = conn.execute(text("SELECT entry_hash FROM audit_entries WHERE seq = 12")).scalar_one()
    conn.execute(text("UPDATE audit_head SET seq = 12, hash = :hash WHERE id = 1"), {"hash": head})


def _rewrite_consistently(conn: Connection) -> None:
    """Change entry 10 and recompute every stored hash and subtree after it: only the signatures can tell."""
    rewrite_consistently(conn, 10)


@dataclass(frozen=True)
class Case:
    mutate: Callable[[Connection], None] | None
    expected: str  # what both verifiers print first
    resign: bool = False  # the institution's scheduler signs again after the attack


def _edit_first(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entries SET details = '{\"n\": 99}' WHERE seq = 1"))


def _edit_last(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entries SET actor_id = NULL, actor_role = 'auditor' WHERE seq = 20"))


def _delete_last(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_entries WHERE seq = 20"))


CASES = {
    "untouched": Case(None, "OK"),
    "edit": Case(_edit, "FAILED at entry 5:"),
    "edit-first": Case(_edit_first, "FAILED at entry 1:"),
    "edit-last": Case(_edit_last, "FAILED at entry 20:"),
    "delete-last": Case(_delete_last, "FAILED at entry 20:"),
    "delete": Case(_delete, "FAILED at entry 6:"),
    "insert": Case(_insert, "FAILED at entry 7:"),
    "reorder": Case(_reorder, "FAILED at entry 7:"),
    "replaced-checkpoint": Case(
        _forge_checkpoint_root, "FAILED: checkpoint 1 (tree size 8): its signature does not verify"
    ),
    "checkpoint-signature-in-another-encoding": Case(
        _reencode_checkpoint_signature, "FAILED: checkpoint 1 (tree size 8): its signature does not verify"
    ),
    "checkpoint-signed-by-another-key": Case(
        _resign_checkpoint_with_own_key, "FAILED: checkpoint 1 (tree size 8): signed by key"
    ),
    "truncated-after-kept-checkpoint": Case(_truncate_after_kept, "FAILED at entry 13:", resign=True),
    "rewritten-with-recomputed-hashes": Case(_rewrite_consistently, "FAILED at entry 9:"),
}


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("name", list(CASES))
def test_both_verifiers_catch_and_name_it(app: Flask, kept_log: Log, name: str, version: int):
    case = CASES[name]
    if case.mutate is not None:
        with raw_write() as conn:
            case.mutate(conn)
    if case.resign:
        sign_checkpoint(app.config)  # the server, unaware, keeps signing what it now has
    db.session.rollback()

    live = app.test_cli_runner().invoke(
        args=[
            "audit",
            "verify",
            "--public-key",
            str(kept_log.key_file),
            "--trusted-checkpoint",
            str(kept_log.kept_file),
        ]
    )
    bundle = bundle_file(kept_log.folder, version=version)
    code, output = run_verifier(bundle, "--public-key", kept_log.key_file, "--trusted-checkpoint", kept_log.kept_file)
    if case.mutate is None:
        assert live.exit_code == 0, live.output
        assert live.output.startswith("OK: 20 entries verified")
        assert code == 0, output
        assert output.startswith("VERIFIED")
        return
    assert live.exit_code == 1, live.output
    assert code == 1, output
    assert live.output.startswith(case.expected), live.output
    assert output.startswith(case.expected), output
    if name == "rewritten-with-recomputed-hashes":
        # Only the signed roots know: both name the range the changed entry 10 lies in.
        assert "entries 9–20 do not hash to the root signed in" in live.output + output
        # the checkpoint the auditor kept is named on its own, whatever the bundle's say
        assert "entries 9–20 do not hash to the root signed in your kept checkpoint 2 (tree size 20)" in output


@pytest.mark.parametrize("version", [1, 2])
def test_verifiers_without_the_kept_checkpoint_still_see_a_sloppy_truncation(app: Flask, kept_log: Log, version: int):
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq > 15"))
    live = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert live.exit_code == 1
    assert live.output.startswith("FAILED at entry 16:"), live.output
    code, output = run_verifier(bundle_file(kept_log.folder, version=version), "--public-key", kept_log.key_file)
    assert code == 1
    assert output.startswith("FAILED at entry 16:"), output


def test_damaged_stored_subtrees_are_named_and_proofs_from_them_fail_offline(app: Flask, kept_log: Log):
    with raw_write() as conn:
        conn.execute(text("UPDATE audit_tree_nodes SET hash = :h WHERE level = 2 AND idx = 1"), {"h": "cd" * 32})
    live = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert live.exit_code == 1
    assert live.output.startswith("FAILED at entry 5: entries 5–8 no longer match the tree stored"), live.output
    proof = kept_log.folder / "proof.json"
    proof.write_text(json.dumps(inclusion_proof(1, 20)))
    code, output = run_verifier(proof, "--public-key", kept_log.key_file)
    assert code == 1
    assert "does not lead from entry 1 to the root" in output
