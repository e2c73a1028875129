"""Writing outbox rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.database import FixedStatement, insert_of, session_connection
from app.models import OutboxMessage, OutboxStatus, utcnow

_OUTBOX_TABLE = cast(Table, OutboxMessage.__table__)
_INSERT_MESSAGES = FixedStatement(
    insert_of(_OUTBOX_TABLE, [column.key for column in _OUTBOX_TABLE.columns if column.key != "id"])
)


def enqueue(
    session: Session,
    *,
    topic: str,
    dedup_key: str,
    payload: Mapping[str, Any],
    recipient_id: int | None = None,
    case_id: int | None = None,
) -> OutboxMessage:
    """Add one message to the outbox in the caller's transaction; ``dedup_key`` makes delivery idempotent."""
    message = OutboxMessage(
        topic=topic,
        dedup_key=dedup_key,
        payload=dict(payload),
        recipient_id=recipient_id,
        case_id=case_id,
    )
    session.add(message)
    return message


def message_row(message: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The outbox row of a message (a mapping of :func:`enqueue`'s keywords) queued at ``now``: every column but
    the key, as the model's defaults give them (a pending message, never tried, due at once)."""
    return {
        "topic": message["topic"],
        "dedup_key": message["dedup_key"],
        "payload": dict(message["payload"]),
        "recipient_id": message.get("recipient_id"),
        "case_id": message.get("case_id"),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "sent_at": None,
        "last_error": None,
        "read_at": None,
    }


def enqueue_rows(session: Session, messages: Sequence[Mapping[str, Any]]) -> None:
    """Write outbox messages in the caller's transaction at once, as one Core ``INSERT`` (no objects, no flush):
    each a mapping of :func:`enqueue`'s keywords (``topic``, ``dedup_key``, ``payload``, ``recipient_id``,
    ``case_id``); the other columns take their defaults (:func:`message_row`). A repeated ``dedup_key`` fails the
    transaction (on PostgreSQL when the transaction's held writes go out: ``FixedStatement.send_later``)."""
    if messages:
        now = utcnow()
        rows = [message_row(m, now) for m in messages]
        _INSERT_MESSAGES.send_many_later(session_connection(session), rows)
