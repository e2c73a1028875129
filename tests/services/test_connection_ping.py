"""A pooled connection is checked with a ping only when it lay unused for ``DATABASE_PING_AFTER_IDLE`` seconds
(issue 16: ``pool_pre_ping`` cost a round trip on every request, though under load the previous request had
just used the connection). A dead idle connection is replaced before the request sees it:
``tests/web/test_database_outage.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db


@pytest.fixture
def pings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The connections the pool pinged, in order (the dialect's ``do_ping`` wrapped)."""
    dialect = db.engine.dialect
    seen: list[object] = []
    original = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return seen


def _use_a_connection() -> None:
    db.session.remove()  # each time a checkout, as each request does
    assert db.session.execute(text("SELECT 1")).scalar_one() == 1
    db.session.remove()


def test_a_connection_used_a_moment_ago_is_not_pinged_one_idle_longer_is(
    app: Flask, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert app.config["DATABASE_PING_AFTER_IDLE"] == 1.0
    assert not db.engine.pool._pre_ping  # the pool's own ping on every checkout is off
    now = [1000.0]
    monkeypatch.setattr("app.database.monotonic", lambda: now[0])
    _use_a_connection()  # a new connection: never pinged
    for _ in range(3):
        now[0] += 0.5
        _use_a_connection()
    assert pings == []
    now[0] += 1.0  # unused for exactly the limit
    _use_a_connection()
    assert len(pings) == 1
    now[0] += 30
    _use_a_connection()
    assert len(pings) == 2
    now[0] += 0.2
    _use_a_connection()
    assert len(pings) == 2


def test_zero_pings_on_every_checkout(
    app: Flask, monkeypatch: pytest.MonkeyPatch, other_app: Callable[..., Flask]
) -> None:
    """``DATABASE_PING_AFTER_IDLE=0`` restores a ping on every checkout (but a connection just made)."""
    eager = other_app(
        "test",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        DATABASE_PING_AFTER_IDLE=0,
        DOCUMENTS_DIR=app.config["DOCUMENTS_DIR"],
    )
    with eager.app_context():
        seen: list[object] = []
        original = db.engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            seen.append(dbapi_connection)
            return original(dbapi_connection)

        monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
        for _ in range(4):
            _use_a_connection()
        assert len(seen) == 3
        db.engine.dispose()


def test_the_setting_is_read_from_the_environment() -> None:
    from app.config import from_environment

    assert from_environment({"DATABASE_PING_AFTER_IDLE": "2.5"}) == {"DATABASE_PING_AFTER_IDLE": 2.5}
    with pytest.raises(ValueError, match="DATABASE_PING_AFTER_IDLE must be a number"):
        from_environment({"DATABASE_PING_AFTER_IDLE": "soon"})
