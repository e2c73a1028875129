"""``flask --app wsgi permits …``: deadlines and notifications."""

from __future__ import annotations

import time
from contextlib import suppress

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.cli.mailbox import mailbox_command
from app.extensions import db
from app.plugins import installed
from app.services.audit_log import checkpoint_if_due
from app.services.delivery import DeliveryReport, deliver_pending
from app.services.health import database_unavailable
from app.services.seeds import commit_assignment_ahead, reveal_ended
from app.services.timers import TimerReport, fire_due_timers

permits_cli = AppGroup("permits", help="Deadlines and notifications.")
permits_cli.add_command(mailbox_command)


@permits_cli.command("tick")
@click.option("--limit", default=200, show_default=True, help="At most this many timers and messages per pass.")
def permits_tick(limit: int) -> None:
    """Fire due timers and deliver pending mail once (idempotent; safe from cron on several servers)."""
    timers, mail = _tick(limit)
    click.echo(
        f"timers: {timers.fired} fired, {timers.cancelled} cancelled, {timers.failed} failed, "
        f"{timers.skipped} skipped; mail: {mail.sent} sent, {mail.retrying} retrying, {mail.failed} failed"
    )


@permits_cli.command("worker")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between passes.")
@click.option("--passes", default=0, help="Stop after this many passes (0: run until stopped).")
def permits_worker(interval: float, passes: int) -> None:
    """Run `tick` in a loop, for deployments without cron or a systemd timer.

    While the database is unreachable (stopped, restarting) a pass is skipped with a warning and the loop
    goes on: each timer and message is its own transaction, so a pass cut short leaves nothing half-done.
    """
    done = 0
    while passes == 0 or done < passes:
        try:
            timers, mail = _tick(200)
        except SQLAlchemyError as exc:
            if not database_unavailable(exc):
                raise
            with suppress(SQLAlchemyError):
                db.session.rollback()
            click.echo(
                f"database unavailable ({type(exc.__cause__ or exc).__name__}); next pass in {interval} s", err=True
            )
        else:
            if timers.fired or mail.sent or mail.failed:
                click.echo(f"timers fired: {timers.fired}; mail sent: {mail.sent}, failed: {mail.failed}")
        done += 1
        if passes == 0 or done < passes:
            time.sleep(interval)


def _tick(limit: int) -> tuple[TimerReport, DeliveryReport]:
    for plugin in installed():  # before the timers: cases the procedures open now have their terms start today
        for hook in plugin.tick:
            for line in hook():
                click.echo(line)
    timers = fire_due_timers(limit)
    commit_assignment_ahead()  # the assignment draws' seeds of this quarter and the next, public before their draws
    revealed = reveal_ended()  # the seeds of the quarters whose draws are over
    if revealed:
        click.echo(f"draw seeds revealed: {revealed}")
    mail = deliver_pending(limit)
    scheduled = checkpoint_if_due(current_app.config)  # after the timers, so it covers what they fired
    if scheduled.checkpoint is not None:
        click.echo(f"audit checkpoint signed: tree size {scheduled.checkpoint['tree_size']}")
    if scheduled.problem is not None:
        click.echo(f"audit checkpoint NOT signed: {scheduled.problem}", err=True)
    return timers, mail
