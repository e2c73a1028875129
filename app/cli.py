"""``flask --app wsgi …`` commands: demo data, users, audit verification."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from app.engine import DomainError
from app.extensions import db
from app.models import Locale, Role
from app.services.delivery import DeliveryReport, deliver_pending
from app.services.demo import load_demo
from app.services.timers import TimerReport, fire_due_timers
from app.services.users import RoleGrant, create_user

demo_cli = AppGroup("demo", help="Demo data.")
users_cli = AppGroup("users", help="User accounts.")
audit_cli = AppGroup("audit", help="The audit log.")
permits_cli = AppGroup("permits", help="Deadlines and notifications.")


@demo_cli.command("load")
@click.option("--quiet", is_flag=True, help="Do not print the demo logins.")
def demo_load(quiet: bool) -> None:
    """Load demo users and cases on first start; later runs change nothing."""
    result = load_demo()
    click.echo("Datos de demostración cargados." if result.created else "Datos de demostración ya presentes.")
    if not quiet:
        click.echo("Usuarios de demostración (correo / contraseña / roles):")
        for login in result.logins:
            click.echo(f"  {login.email:32} {login.password:20} {login.roles}")


def _parse_grant(value: str) -> RoleGrant:
    role, _, department = value.partition(":")
    try:
        return RoleGrant(Role(role), department or None)
    except ValueError:
        raise click.BadParameter(f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}") from None


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", "roles", multiple=True, required=True, help="role or role:department (repeatable).")
@click.option("--locale", type=click.Choice([loc.value for loc in Locale]), default=Locale.ES_MX.value)
@click.password_option(help="Password (prompted when omitted; at least 12 characters).")
def users_create(email: str, name: str, roles: tuple[str, ...], locale: str, password: str) -> None:
    """Create a user account with one or more roles."""
    grants = [_parse_grant(r) for r in roles]
    try:
        user_id = create_user(email, name, password, grants, locale=Locale(locale))
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"user {user_id} created")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain; exit 1 naming the first bad entry."""
    from app.audit import verify

    result = verify(db.session())
    if result.ok:
        click.echo(f"OK: {result.checked} entries verified; head {result.head_hash}")
        return
    click.echo(
        f"FAILED at entry {result.first_bad}: {result.reason} ({result.checked} entries verified before it)", err=True
    )
    raise SystemExit(1)


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
    """Run `tick` in a loop, for deployments without cron or a systemd timer."""
    done = 0
    while passes == 0 or done < passes:
        timers, mail = _tick(200)
        if timers.fired or mail.sent or mail.failed:
            click.echo(f"timers fired: {timers.fired}; mail sent: {mail.sent}, failed: {mail.failed}")
        done += 1
        if passes == 0 or done < passes:
            time.sleep(interval)


def _tick(limit: int) -> tuple[TimerReport, DeliveryReport]:
    timers = fire_due_timers(limit)
    mail = deliver_pending(limit)
    return timers, mail


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(permits_cli)
