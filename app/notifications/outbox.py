"""Writing outbox rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from app.models import OutboxMessage

_INSERT_MESSAGES = insert(cast(Table, OutboxMessage.__table__))


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


def enqueue_rows(session: Session, messages: Sequence[Mapping[str, Any]]) -> None:
    """Write outbox messages in the caller's transaction at once, as one Core ``INSERT`` (no objects, no flush):
    each a mapping of :func:`enqueue`'s keywords (``topic``, ``dedup_key``, ``payload``, ``recipient_id``,
    ``case_id``); the other columns take their defaults. A repeated ``dedup_key`` fails the transaction."""
    if messages:
        rows = [
            {
                "topic": m["topic"],
                "dedup_key": m["dedup_key"],
                "payload": dict(m["payload"]),
                "recipient_id": m.get("recipient_id"),
                "case_id": m.get("case_id"),
            }
            for m in messages
        ]
        session.connection().execute(_INSERT_MESSAGES, rows)
