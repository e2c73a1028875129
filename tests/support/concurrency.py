"""Service calls raced against each other on a real database, each in its own thread and application context."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.audit import verify
from app.extensions import db
from app.models import AuditEntry


def race(app: Flask, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released at once; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    done = [False] * len(calls)

    def worker(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                results[index] = calls[index]()
            except BaseException as exc:
                results[index] = exc
            finally:
                done[index] = True
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert all(done)
    return results


@contextmanager
def slow_flushes(seconds: float = 0.2) -> Iterator[None]:
    """Make every flush of the threads' sessions wait ``seconds`` first: concurrent units of work then all
    read what they decide on before any of them writes, the interleaving that a lost update or a doubled log
    entry needs (a unit that locks what it reads goes on one at a time, only slower)."""
    main = threading.main_thread()

    def wait(session: Session, context: Any, instances: Any) -> None:
        if threading.current_thread() is not main:
            time.sleep(seconds)

    event.listen(Session, "before_flush", wait)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", wait)


def logged(action: str, case_id: int | None = None) -> list[dict[str, Any]]:
    """The details of the audit log's entries of ``action`` (of ``case_id`` when given), in order, read afresh."""
    db.session.rollback()
    stmt = select(AuditEntry.details).where(AuditEntry.action == action).order_by(AuditEntry.seq)
    if case_id is not None:
        stmt = stmt.where(AuditEntry.case_id == case_id)
    return [dict(d or {}) for d in db.session.scalars(stmt)]


def assert_log_verifies() -> None:
    """The audit log, read afresh, verifies whole."""
    db.session.rollback()
    result = verify(db.session())
    assert result.ok, result
