"""Shared by the security tests: read the database afresh, tamper with stored times, count password work."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.models import SecurityEvent, UserSession


def cookie_session_id(client: FlaskClient) -> str | None:
    """The server-side session identifier this client's cookie carries."""
    with client.session_transaction() as session:
        value = session.get("_user_id")
    return None if value is None else str(value)


def stored_session(token: str) -> UserSession:
    """The stored row of session ``token`` (read in a fresh transaction)."""
    db.session.rollback()
    row = db.session.scalars(
        select(UserSession).where(UserSession.token_hash == hashlib.sha256(token.encode()).hexdigest())
    ).one()
    return row


def set_session_times(token: str, **values: datetime) -> None:
    """Move a stored session's ``created_at``/``last_seen_at`` (to make it idle or old)."""
    db.session.rollback()
    digest = hashlib.sha256(token.encode()).hexdigest()
    db.session.execute(update(UserSession).where(UserSession.token_hash == digest).values(**values))
    db.session.commit()


def events(kind: str | None = None) -> list[SecurityEvent]:
    """Security events in order (optionally of one kind), read afresh."""
    db.session.rollback()
    stmt = select(SecurityEvent).order_by(SecurityEvent.id)
    rows = list(db.session.scalars(stmt))
    return [e for e in rows if kind is None or e.kind.value == kind]


def replay(client: FlaskClient, cookie_value: str, path: str = "/inicio") -> Any:
    """Send a request with a captured session cookie, as an attacker holding a copy of it would."""
    name = client.application.config["SESSION_COOKIE_NAME"]
    client.set_cookie(name, cookie_value)
    return client.get(path)


def session_cookie(client: FlaskClient) -> str:
    """The raw value of this client's session cookie."""
    name = client.application.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    return cookie.value


class CountingHasher(PasswordHasher):
    """The tests' fast hasher, counting the argon2 verifications it is asked for (a hash it cannot read is
    refused at once, without any argon2 work: not counted). The work a login does, whatever the load."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        if str(hash).startswith("$argon2"):
            self.verified += 1
        return super().verify(hash, password)
