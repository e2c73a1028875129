"""Delivering the outbox: at least once, deduplicated by key, retried with back-off, failures visible."""

from __future__ import annotations

import dataclasses
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import end_read, is_constant
from app.engine import Msg, NotAllowed, NotFound
from app.extensions import db
from app.models import Case, OutboxMessage, OutboxStatus, Role, User, utcnow
from app.notifications import CaseNotice, SmtpSettings, build_message, render_case_notice, send
from app.notifications.account import ACCOUNT_TEMPLATES
from app.notifications.render import TEMPLATES
from app.services.auth import compose_account_mail
from app.services.cases import transition_texts
from app.services.deadlines import ClockView, legal_terms
from app.services.personal_data import suppressed
from app.services.uow import unit_of_work
from workflows import REGISTRY

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
"""Wait after the n-th failed attempt; after the last one the message is marked failed for an admin."""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def _due_ids(now: datetime, limit: int) -> list[int]:
    stmt = (
        select(OutboxMessage.id)
        .where(is_constant(OutboxMessage.status, OutboxStatus.PENDING), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(stmt))
    end_read(db.session())
    return ids


def compose(
    session: Session, message: OutboxMessage, legal: Mapping[int, ClockView] | None = None
) -> tuple[str, str, str] | None:
    """(to, subject, body) for the message, or ``None`` when it has nobody or nothing to go to. ``legal``: the
    legal terms of the cases of a list of messages (:func:`app.services.deadlines.legal_terms`), read once for
    all of them; else this message's case's is read."""
    if message.topic in ACCOUNT_TEMPLATES:
        return compose_account_mail(session, message)
    recipient = session.get(User, message.recipient_id) if message.recipient_id is not None else None
    if recipient is None or not recipient.active:
        return None
    case = session.get(Case, message.case_id) if message.case_id is not None else None
    if message.topic not in TEMPLATES or case is None:
        return None
    trigger = str(message.payload.get("trigger", ""))
    title, action_text, state_text = transition_texts(case, trigger, str(message.payload.get("state", case.state)))
    due = message.payload.get("due_on")
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    notice = CaseNotice(
        topic=message.topic,
        recipient_name=recipient.display_name if recipient.has_password else "",  # never a typed pseudonym
        folio=case.folio,
        workflow_title=title,
        action_description=action_text,
        state_description=state_text,
        url=f"{base}{REGISTRY.get(case.workflow).notice_path if case.workflow in REGISTRY else '/inicio'}",
        due_on=date.fromisoformat(str(due)) if due else None,
        text=str(message.payload.get("text") or ""),
        legal_basis=str(message.payload.get("legal_basis") or ""),
        due_label=str(message.payload.get("due_label") or ""),
    )
    term: ClockView | None = None
    if message.topic == "case_transition":
        term = (legal if legal is not None else legal_terms([case.id])).get(case.id)
    if term is not None and term.days_remaining is not None:  # the procedure's legal term, as it stands now
        notice = dataclasses.replace(
            notice, legal_term=term.description, legal_due_on=term.due_on, legal_days_left=term.days_remaining
        )
    mail = render_case_notice(notice, recipient.locale.value)
    return recipient.email, mail.subject, mail.body


def unconfirmed(session: Session, message: OutboxMessage) -> bool:
    """Whether the message would go to a requester's address that nobody proved they read (only the
    confirmation link itself goes there before that)."""
    if message.topic == "email_confirmation" or message.recipient_id is None:
        return False
    recipient = session.get(User, message.recipient_id)
    return recipient is not None and not recipient.has_password and recipient.email_confirmed_at is None


def deliver_one(message_id: int, settings: SmtpSettings, now: datetime | None = None) -> str:
    """Deliver one outbox message in its own transaction, holding its row lock while sending.

    Returns ``sent``, ``retrying``, ``failed`` or ``skipped`` (another worker has it, or it is no
    longer due). A crash between sending and committing sends it again later: delivery is at least
    once, and the Message-ID derived from the dedup key lets mail clients drop the repeat.
    """
    now = now or utcnow()
    with unit_of_work() as session:
        message = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                is_constant(OutboxMessage.status, OutboxStatus.PENDING),
                OutboxMessage.next_attempt_at <= now,
            )
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            return "skipped"
        if suppressed(session, message):
            message.status = OutboxStatus.FAILED
            message.last_error = "not sent: the recipient opposed non-essential notices"
            return "skipped"
        if unconfirmed(session, message):
            message.status = OutboxStatus.FAILED
            message.last_error = "not sent: nobody confirmed the address yet"
            return "skipped"
        composed = compose(session, message)
        if composed is None:
            message.status = OutboxStatus.FAILED
            message.last_error = "no deliverable recipient"
            return "failed"
        to, subject, body = composed
        message.attempts += 1
        try:
            send(settings, build_message(settings, to, subject, body, message.dedup_key))
        except (smtplib.SMTPException, OSError) as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts > len(RETRY_DELAYS):
                message.status = OutboxStatus.FAILED
                return "failed"
            message.next_attempt_at = now + RETRY_DELAYS[message.attempts - 1]
            return "retrying"
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = None
        return "sent"


def deliver_pending(limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Deliver the due outbox messages (oldest first, at most ``limit``); safe to run on several servers."""
    now = now or utcnow()
    settings = SmtpSettings.from_config(current_app.config)
    counts = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
    for message_id in _due_ids(now, limit):
        counts[deliver_one(message_id, settings, now)] += 1
    return DeliveryReport(**counts)


def failed_messages(limit: int = 100) -> list[OutboxMessage]:
    """Messages that could not be delivered, newest first (for the administrators' view)."""
    stmt = (
        select(OutboxMessage)
        .where(is_constant(OutboxMessage.status, OutboxStatus.FAILED))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def retrying_messages(limit: int = 100) -> list[OutboxMessage]:
    """Pending messages whose last attempt failed (they will be tried again), soonest retry first."""
    stmt = (
        select(OutboxMessage)
        .where(is_constant(OutboxMessage.status, OutboxStatus.PENDING), OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def retry_failed(message_id: int, actor_id: int) -> None:
    """Queue a failed message again (after an administrator fixed the mail settings or the address).

    Raises ``NotAllowed`` for non-administrators and ``NotFound`` when the message is not failed.
    """
    with unit_of_work() as session:
        user = session.get(User, actor_id)
        if user is None or not user.active or not user.has_role(Role.ADMIN):
            raise NotAllowed(Msg("Solo la administración puede reenviar avisos."))
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status != OutboxStatus.FAILED:
            raise NotFound(Msg("Ese aviso no está marcado como fallido."))
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = utcnow()
