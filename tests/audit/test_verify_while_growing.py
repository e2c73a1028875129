"""``audit verify`` on a live log: the log grows while it is read (a transition, the schedule's checkpoint), and the
verification must not take what was appended meanwhile for a removed tail or a tampered head.

The verifier reads the entries through one cursor; on PostgreSQL, at READ COMMITTED, each of its other statements
(the checkpoints a page at a time, the head, the stored subtrees' count) sees what was committed before it started,
later than the cursor's snapshot. Each test lets another connection append entries and sign a checkpoint once the
entries' cursor is open.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from sqlalchemy import text

from app.audit import verification
from app.audit.verification import verify
from app.extensions import db
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries
from tests.support.tamper import raw_write


def _grow_elsewhere(app: Flask, entries: int) -> None:
    """Append ``entries`` entries and sign a checkpoint through another connection (another thread's session)."""
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                append_entries(entries)
                sign_checkpoint(app.config)
                db.session.remove()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert not failures, failures


@pytest.fixture
def grows_while_read(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the verifier's entries cursor has read its first row, the log grows by 7 entries and a checkpoint."""
    original = verification._stream_entries

    @contextmanager
    def growing(session: Any, batch: int) -> Iterator[Iterator[Sequence[Any]]]:
        with original(session, batch) as rows:
            first = next(rows)
            _grow_elsewhere(app, 7)
            yield itertools.chain([first], rows)

    monkeypatch.setattr(verification, "_stream_entries", growing)


def test_a_log_that_grows_while_it_is_verified_verifies(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, grows_while_read: None
) -> None:
    append_entries(30)
    sign_checkpoint(app.config)
    append_entries(5)
    sign_checkpoint(app.config)
    db.session.remove()
    result = verify(db.session(), batch=1, trusted_keys=[log_key.public_key()])
    db.session.rollback()
    assert result.ok, result.problems
    assert result.checkpoints_verified == 2  # the one signed meanwhile covers entries the cursor does not see
    assert result.checked in (35, 42)  # SQLite's read transaction sees the log as it was; PostgreSQL's cursor too


def test_a_removed_tail_is_still_found_while_the_log_grows(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, grows_while_read: None
) -> None:
    """Growth meanwhile hides nothing: entries removed before the verification began are still named."""
    append_entries(30)
    sign_checkpoint(app.config)
    append_entries(5)
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq > 33"))
    db.session.remove()
    result = verify(db.session(), batch=1, trusted_keys=[log_key.public_key()])
    db.session.rollback()
    assert not result.ok
    assert result.first_bad == 34, result.problems


def test_subtrees_left_after_a_tail_cut_with_its_head_are_still_found(
    app: Flask, log_key: ed25519.Ed25519PrivateKey
) -> None:
    """Only subtrees within the entries read count towards those they make: ones after the head (the entries and
    the head cut back, the subtrees left) are still named, as they were when every stored subtree was counted."""
    append_entries(16)
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq > 12"))
        head = conn.execute(text("SELECT entry_hash FROM audit_entries WHERE seq = 12")).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = 12, hash = :hash WHERE id = 1"), {"hash": head})
    db.session.remove()
    result = verify(db.session(), trusted_keys=[log_key.public_key()])
    db.session.rollback()
    assert not result.ok
    assert any(
        p.message == "15 tree subtrees are stored where 12 entries make 10 (entries removed?)" and p.first_bad == 13
        for p in result.problems
    ), result.problems
