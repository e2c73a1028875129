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

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask

from app.audit.verification import verify
from app.extensions import db
from app.services.audit_log import sign_checkpoint
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
