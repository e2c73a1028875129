"""Service calls raced against each other on a real database, each in its own thread and application context."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db


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
