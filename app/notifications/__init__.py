"""Outgoing notifications: written to the outbox inside the causing transaction, delivered later."""

from app.notifications.mail import SmtpSettings, build_message, send
from app.notifications.outbox import enqueue, enqueue_rows
from app.notifications.render import CaseNotice, RenderedMail, render_case_notice

__all__ = [
    "CaseNotice",
    "RenderedMail",
    "SmtpSettings",
    "build_message",
    "enqueue",
    "enqueue_rows",
    "render_case_notice",
    "send",
]
