"""SMTP delivery of rendered messages (settings from the configuration, never hard-coded)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send mail."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        """Read ``MAIL_*`` settings from a Flask configuration mapping."""
        return cls(
            host=str(config["MAIL_SERVER"]),
            port=int(config["MAIL_PORT"]),
            sender=str(config["MAIL_SENDER"]),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            starttls=bool(config.get("MAIL_USE_TLS")),
            ssl=bool(config.get("MAIL_USE_SSL")),
            timeout=float(config.get("MAIL_TIMEOUT", 20.0)),
        )


def build_message(settings: SmtpSettings, to: str, subject: str, body: str, message_key: str) -> EmailMessage:
    """A plain-text UTF-8 message whose Message-ID derives from ``message_key`` (so receivers can drop repeats)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.sender.rpartition("@")[2].strip(">") or "localhost"
    local = "".join(c if c.isalnum() or c in "-." else "." for c in message_key)
    message["Message-ID"] = f"<{local}@{domain}>"
    message.set_content(body, charset="utf-8")
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message; raises ``smtplib.SMTPException`` or ``OSError`` when delivery fails."""
    if settings.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls and not settings.ssl:
            client.starttls(context=ssl.create_default_context())
        if settings.username and settings.password:
            client.login(settings.username, settings.password)
        client.send_message(message)
