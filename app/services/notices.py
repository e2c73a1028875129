"""The in-app list of notices: the same messages the outbox mails, readable in the application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from app.extensions import db
from app.models import Case, OutboxMessage, User, utcnow
from app.services.deadlines import legal_terms
from app.services.delivery import compose
from app.services.uow import unit_of_work


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice as its recipient sees it."""

    id: int
    created_at: datetime
    subject: str
    body: str
    read: bool


def notices_for(user_id: int, limit: int = 50) -> list[Notice]:
    """The user's newest notices, in the user's language."""
    session = db.session()
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_id == user_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    # the reader, the cases and their legal terms read once for the list (compose would read them message by
    # message): the objects are held here, the session's identity map holds them only while someone does
    case_ids = sorted({message.case_id for message in messages if message.case_id is not None})
    held = [
        session.get(User, user_id),
        *(session.scalars(select(Case).where(Case.id.in_(case_ids))) if case_ids else ()),
    ]
    transitions = any(message.topic == "case_transition" for message in messages)
    legal = legal_terms(case_ids) if transitions else {}
    result = []
    for message in messages:
        composed = compose(session, message, legal)
        if composed is None:
            continue
        _, subject, body = composed
        result.append(Notice(message.id, message.created_at, subject, body, message.read_at is not None))
    del held
    return result


def mark_all_read(user_id: int) -> int:
    """Mark every notice of the user as read; returns how many changed.

    One ``UPDATE`` whatever their number: the notices are not listed first, so a person with more unread notices
    than a statement takes parameters (65,535 on PostgreSQL) is served as anyone else."""
    with unit_of_work() as session:
        marked = cast(
            CursorResult[Any],
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.recipient_id == user_id, OutboxMessage.read_at.is_(None))
                .values(read_at=utcnow())
                .execution_options(synchronize_session=False)
            ),
        )
        return marked.rowcount
