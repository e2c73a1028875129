"""The security log: authentication and access events, in the ``security_events`` table and as JSON lines.

Every event goes to the table (for the administrators' page) and to the ``security`` logger as one JSON
object per line (for the institution's log collector). Passwords, tokens, codes and secrets never enter it:
details whose key names such a thing are dropped, and an e-mail address that matches no account is kept only
as a keyed digest (enough to see an attack on one address, useless to read the address back).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import SecurityEvent, SecurityEventKind, User, utcnow
from app.services.uow import unit_of_work

logger = logging.getLogger("security")

_SECRET_WORDS = ("password", "contrase", "token", "code", "codigo", "secret", "otp", "cookie")
_MAX_DETAIL = 200


def email_digest(email: str) -> str:
    """A keyed digest of a normalised e-mail address (the same address always gives the same digest)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]


def _clean(details: Mapping[str, Any] | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            continue
        if isinstance(value, bool | int | float) or value is None:
            clean[key] = value
        else:
            clean[key] = str(value)[:_MAX_DETAIL]
    return clean


def _write(session: Session, event: SecurityEvent) -> None:
    session.add(event)
    session.flush()
    _log_line(event.kind, event.occurred_at, event.user_id, event.ip, event.path, event.details)


def _log_line(
    kind: SecurityEventKind, at: datetime, user_id: int | None, ip: str, path: str, details: Mapping[str, Any]
) -> None:
    line = {"event": kind.value, "at": at.isoformat(), "user_id": user_id, "ip": ip, "path": path, **details}
    logger.info(json.dumps(line, sort_keys=True, ensure_ascii=False))


def _storable(text: str) -> str:
    """``text`` as a text column can store it: a NUL character (which PostgreSQL refuses, and which a refused
    request's address may hold: the API answers such addresses itself) written as U+FFFD. Without this the event
    was lost, and with it the trace of the refusal."""
    return text.replace("\x00", "\ufffd")


def record(
    kind: SecurityEventKind,
    *,
    user_id: int | None = None,
    ip: str = "",
    path: str = "",
    details: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> None:
    """Write one security event. Joins ``session`` (the caller's transaction) when given, otherwise commits
    its own; details that could hold a secret are dropped."""
    event = SecurityEvent(
        occurred_at=utcnow(),
        kind=kind,
        user_id=user_id,
        ip=_storable(ip)[:45],
        path=_storable(path)[:200],
        details=_clean(details),
    )
    if session is not None:
        _write(session, event)
        return
    with unit_of_work() as own:
        _write(own, event)


def record_for_each(kind: SecurityEventKind, details_of: Mapping[int, Mapping[str, Any]], *, session: Session) -> None:
    """Write one event of ``kind`` for each user of ``details_of`` (their details), in the caller's transaction,
    as :func:`record` would one by one, but in one statement whatever their number."""
    if not details_of:
        return
    now = utcnow()
    cleaned = {user_id: _clean(details) for user_id, details in details_of.items()}
    session.execute(
        insert(SecurityEvent),
        [
            {"occurred_at": now, "kind": kind, "user_id": user_id, "ip": "", "path": "", "details": details}
            for user_id, details in cleaned.items()
        ],
    )
    for user_id, details in cleaned.items():
        _log_line(kind, now, user_id, "", "", details)


def record_login_failure(email: str, *, ip: str, path: str, reason: str = "credentials") -> None:
    """A failed password login: names the account when the address belongs to one, else its digest."""
    with unit_of_work() as session:
        user_id = session.scalars(select(User.id).where(User.email == email.strip().lower())).first()
        details: dict[str, Any] = {"reason": reason}
        if user_id is None:
            details["account"] = email_digest(email)
        record(SecurityEventKind.LOGIN_FAILED, user_id=user_id, ip=ip, path=path, details=details, session=session)


def recent_events(
    limit: int = 200, kind: SecurityEventKind | None = None, before: datetime | None = None
) -> list[SecurityEvent]:
    """The latest security events, newest first (optionally of one kind, or older than ``before``).

    Events of one kind are read through the ``(kind, id)`` index, newest first, and no further than the limit:
    the kind is written as the range of its one value and the events are ordered by it first (the same order).
    Written as an equality, PostgreSQL finds the log's own order (its key) as good and, in the plan it keeps for
    a statement run often (made without the value, from an average), read the log backwards and filtered it:
    for a kind with few events, every event of every other kind since (each login, each refused page)."""
    stmt = select(SecurityEvent).limit(limit)
    if kind is None:
        stmt = stmt.order_by(SecurityEvent.id.desc())
    else:
        stmt = stmt.where(SecurityEvent.kind >= kind, SecurityEvent.kind <= kind)
        stmt = stmt.order_by(SecurityEvent.kind.desc(), SecurityEvent.id.desc())
    if before is not None:
        stmt = stmt.where(SecurityEvent.occurred_at < before)
    return list(db.session.scalars(stmt))
