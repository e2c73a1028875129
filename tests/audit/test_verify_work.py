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

import base64
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask

from app.audit import tree
from app.audit.canonical import format_instant
from app.audit.checkpoints import checkpoint_message, public_key_pem
from app.audit.verification import VerifyResult, verify
from app.extensions import db
from app.keys import public_fingerprint
from app.models import AuditCheckpoint, utcnow
from app.services.audit_log import sign_checkpoint
from app.services.uow import unit_of_work
from bench.engine_bench import counted_calls
from tests.audit.helpers import append_entries, bundle_file, load_verifier
from tests.support.tamper import raw_write, rewrite_consistently

SIZES = (160, 280, 400)
"""The log's sizes, with a checkpoint after each entry: the same 120 entries and checkpoints more each time."""
MARGINAL = 1.15
"""How much more the second 120 may cost than the first: 0.93–0.95 times as much when the work is linear; work
that grows with the checkpoints' square costs them about 1.3 times as much at these sizes."""
REWRITTEN = 1.1
"""The most that rewriting the log from its middle may multiply the work of verifying it (1.00–1.02 when the
checkpoints that no longer match are judged as cheaply as the others; 1.3 when each looks for the last good one
among all)."""


def _log_with_a_checkpoint_per_entry(app: Flask, entries: int) -> None:
    for _ in range(entries):
        append_entries(1)
        sign_checkpoint(app.config)


def _work(key: ed25519.Ed25519PrivateKey, folder: Path) -> tuple[int, int]:
    """The live verifier's and the standalone verifier's work on the log as it stands."""
    db.session.rollback()
    live, _ = counted_calls(lambda: verify(db.session(), trusted_keys=[key.public_key()]))
    db.session.rollback()
    bundle = bundle_file(folder)
    verifier = load_verifier()

    def standalone() -> None:
        with bundle.open("rb") as handle:
            verifier.verify_bundle(handle, [key.public_key()])

    return int(live), int(counted_calls(standalone)[0])


def test_verifying_grows_linearly_with_the_checkpoints(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path
) -> None:
    work: list[tuple[int, int]] = []
    for size in SIZES:
        _log_with_a_checkpoint_per_entry(app, size - (SIZES[len(work) - 1] if work else 0))
        if not work:
            _work(log_key, tmp_path)  # what the first verification does once (statements compiled, modules read)
        work.append(_work(log_key, tmp_path))
    with raw_write() as conn:
        rewrite_consistently(conn, SIZES[-1] // 2)  # as many checkpoints before the change as after it
    rewritten = _work(log_key, tmp_path)
    for verifier in (0, 1):  # the live verifier, the standalone one
        first, second = (work[n + 1][verifier] - work[n][verifier] for n in (0, 1))
        assert second <= MARGINAL * first  # as many more entries and checkpoints cost as much more
        # a log rewritten with recomputed hashes costs no more than the intact one: the checkpoints that no
        # longer match are judged as cheaply as those that do
        assert rewritten[verifier] <= REWRITTEN * work[-1][verifier]


def _sign_each_size(key: ed25519.Ed25519PrivateKey, sizes: range, copies: int, start: datetime) -> None:
    """Store ``copies`` checkpoints of every size in ``sizes``, signed by ``key`` over the stored tree's roots (as
    the schedule would sign them, without a transaction each)."""
    fingerprint = public_fingerprint(key.public_key())
    pem = public_key_pem(key.public_key())
    with unit_of_work() as session:
        rows = []
        for size in sizes:
            root = tree.root_at(session, size).hex()
            for copy in range(copies):
                at = start + timedelta(seconds=size, microseconds=copy)
                signature = key.sign(checkpoint_message(size, root, format_instant(at), fingerprint))
                rows.append(
                    AuditCheckpoint(
                        tree_size=size,
                        root_hash=root,
                        created_at=at,
                        key_fingerprint=fingerprint,
                        public_key=pem,
                        signature=base64.b64encode(signature).decode(),
                    )
                )
        session.add_all(rows)


def _peak(run: Callable[[], VerifyResult]) -> tuple[VerifyResult, int]:
    db.session.rollback()
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_live_verifier_keeps_no_checkpoint(app: Flask, log_key: ed25519.Ed25519PrivateKey) -> None:
    """The live verifier meets the stored checkpoints as the entries reach them, read a page at a time: ten times
    the checkpoints take it no more memory at its peak (keeping each, as a compact record, took some 450 bytes a
    checkpoint: 1.2 MB more here, 70 MB for a year's log)."""
    append_entries(300)
    start = utcnow() - timedelta(days=1)
    _sign_each_size(log_key, range(1, 301), 1, start)

    def run() -> VerifyResult:
        return verify(db.session(), batch=100, trusted_keys=[log_key.public_key()])

    _peak(run)  # what the first verification does once (statements compiled, modules read)
    few, few_peak = _peak(run)
    _sign_each_size(log_key, range(1, 301), 9, start + timedelta(microseconds=10))
    many, many_peak = _peak(run)
    assert few.ok, few.problems
    assert many.ok, many.problems
    assert (few.checkpoints_verified, many.checkpoints_verified) == (300, 3000)
    assert many_peak < few_peak + 256 * 1024, (few_peak, many_peak)
