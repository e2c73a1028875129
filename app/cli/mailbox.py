"""``flask --app wsgi permits mailbox``: a local mail server for trying the product without one.

`make run` starts it beside the application and the timers' worker, and points the application's mail at it
(unless ``MAIL_SERVER`` is set): every message the product sends (an address's confirmation link, a notice of a
step, a term about to lapse) is kept as a ``.eml`` file in a folder and announced on the console with the links it
carries, so that a person trying the product can follow them. It listens on the loopback interface only and
relays nothing. A deployment sets ``MAIL_SERVER`` to its own server instead.
"""

from __future__ import annotations

import re
import signal
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import click

from app.config import INSTANCE_DIR

_LINK = re.compile(r"https?://[^\s<>\"')]+")


class LocalMailbox:
    """What the local server does with each message: kept as a file, announced with its links."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message (``<time>-<n>.eml``) and print who it is for, its subject and its links."""
        content: bytes = envelope.original_content or envelope.content
        message = message_from_bytes(content, policy=policy.default)
        with self._lock:
            self._count += 1
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{self._count:04d}.eml"
        (self.folder / name).write_bytes(content)
        click.echo(announcement(message, list(envelope.rcpt_tos), self.folder / name))
        return "250 Message accepted for delivery"


def announcement(message: EmailMessage, recipients: list[str], path: Path) -> str:
    """The console's lines for one message: recipients and subject, then each distinct link of its text."""
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    links = list(dict.fromkeys(_LINK.findall(text)))
    lines = [f"correo para {', '.join(recipients)}: {message.get('Subject', '')} ({path.name})"]
    lines += [f"    {link}" for link in links]
    return "\n".join(lines)


@click.command("mailbox")
@click.option("--port", default=8025, show_default=True, help="Loopback port to listen on.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=INSTANCE_DIR / "correo",
    show_default=True,
    help="Where each message is kept as a .eml file.",
)
def mailbox_command(port: int, folder: Path) -> None:
    """Receive the application's mail on a loopback port and keep it in a folder (for trying the product
    without a mail server; `make run` starts it). Runs until interrupted."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:  # installed with the development extras, as `make run` does
        raise click.ClickException("aiosmtpd is not installed: pip install -e '.[dev]'") from exc
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(LocalMailbox(folder), hostname="127.0.0.1", port=port)
    controller.start()
    click.echo(f"correo local en 127.0.0.1:{port}; mensajes en {folder}")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()
