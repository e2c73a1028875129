"""Verifying the log is linear in its checkpoints as in its entries, for both verifiers, whether the log is intact
or was rewritten with recomputed hashes.

The schedule signs a checkpoint every minute the log grows (``AUDIT_CHECKPOINT_INTERVAL``): a year of working
days leaves some 150,000 of them. A verifier that looks for the next checkpoint among all of them at each one
(or, for each checkpoint that does not match, for the last one that did) does work that grows with their square:
hours for a few years' log, and most when the log was rewritten, which is when an auditor needs the answer.

The work is counted, not timed (Python and C function calls, the same at any load): each further entry and its
checkpoint must cost as much as the ones before, not more the longer the log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from sqlalchemy import Connection, text

from app.audit import merkle
from app.audit.canonical import GENESIS_HASH, canonical_entry, chain_hash
from app.audit.verification import verify
from app.extensions import db
from app.models import AuditEntry
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries, bundle_file, load_verifier
from tests.support.tamper import raw_write

SIZES = (40, 160, 280)
"""The log's sizes, with a checkpoint after each entry: the same 120 entries and checkpoints more each time."""
MARGINAL = 1.45
"""How much more the second 120 may cost than the first: about 1.25 times as much when the work is linear (a
checkpoint's root is computed from the tree's peaks, which grow with the log's logarithm); work that grows with the
checkpoints' square costs them 1.75 times as much at these sizes."""
REWRITTEN = 1.1
"""The most that rewriting the log from its middle may multiply the work of verifying it (1.02 when the
checkpoints that no longer match are judged as cheaply as the others; 1.2–1.3 when each looks for the last good
one among all)."""


def calls(action: Callable[[], Any]) -> int:
    """Python and C function calls ``action`` makes."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def _log_with_a_checkpoint_per_entry(app: Flask, entries: int) -> None:
    for _ in range(entries):
        append_entries(1)
        sign_checkpoint(app.config)


def _rewrite_from(seq: int) -> Callable[[Connection], None]:
    """Change entry ``seq`` and recompute every stored hash and subtree: only the signatures can tell."""

    def rewrite(conn: Connection) -> None:
        conn.execute(text("UPDATE audit_entries SET actor_role = 'admin' WHERE seq = :seq"), {"seq": seq})
        rows = conn.execute(AuditEntry.__table__.select().order_by(AuditEntry.seq)).mappings().all()
        running = GENESIS_HASH
        growing = merkle.CompactRange()
        nodes = []
        for row in rows:
            canonical = canonical_entry(row)
            leaf = merkle.leaf_hash(canonical)
            new_chain = chain_hash(running, canonical)
            conn.execute(
                text(
                    "UPDATE audit_entries SET prev_hash = :prev, entry_hash = :chain, leaf_hash = :leaf "
                    "WHERE seq = :seq"
                ),
                {"prev": running, "chain": new_chain, "leaf": leaf.hex(), "seq": row["seq"]},
            )
            running = new_chain
            nodes += [{"level": lv, "idx": ix, "hash": h.hex()} for lv, ix, h in growing.append(leaf)]
        conn.execute(text("DELETE FROM audit_tree_nodes"))
        conn.execute(text("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (:level, :idx, :hash)"), nodes)
        conn.execute(text("UPDATE audit_head SET hash = :hash WHERE id = 1"), {"hash": running})

    return rewrite


def _work(key: ed25519.Ed25519PrivateKey, folder: Path) -> tuple[int, int]:
    """The live verifier's and the standalone verifier's work on the log as it stands."""
    db.session.rollback()
    live = calls(lambda: verify(db.session(), trusted_keys=[key.public_key()]))
    db.session.rollback()
    bundle = bundle_file(folder)
    verifier = load_verifier()

    def standalone() -> None:
        with bundle.open("rb") as handle:
            verifier.verify_bundle(handle, [key.public_key()])

    return live, calls(standalone)


def test_verifying_grows_linearly_with_the_checkpoints(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path
) -> None:
    work: list[tuple[int, int]] = []
    for size in SIZES:
        _log_with_a_checkpoint_per_entry(app, size - (SIZES[len(work) - 1] if work else 0))
        work.append(_work(log_key, tmp_path))
    with raw_write() as conn:
        _rewrite_from(SIZES[-1] // 2)(conn)  # as many checkpoints before the change as after it
    rewritten = _work(log_key, tmp_path)
    print(f"work at {SIZES}: {work}; rewritten {rewritten}")
    for verifier in (0, 1):  # the live verifier, the standalone one
        first, second = (work[n + 1][verifier] - work[n][verifier] for n in (0, 1))
        assert second <= MARGINAL * first  # as many more entries and checkpoints cost as much more
        # a log rewritten with recomputed hashes costs no more than the intact one: the checkpoints that no
        # longer match are judged as cheaply as those that do
        assert rewritten[verifier] <= REWRITTEN * work[-1][verifier]
