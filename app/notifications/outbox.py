"""Writing outbox rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.models import OutboxMessage


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
