"""``flask --app wsgi users …``: user accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.engine import DomainError
from app.models import Locale, Role
from app.services.auth import (
    deactivate_by_email,
    end_everyones_sessions,
    end_sessions_by_email,
    reset_second_factor_by_email,
)
from app.services.confirmation import confirm_by_administrator
from app.services.roles import grant_role, revoke_role
from app.services.users import RoleGrant, create_user

users_cli = AppGroup("users", help="User accounts.")


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


@users_cli.command("grant")
@click.argument("email")
@click.argument("role")
def users_grant(email: str, role: str) -> None:
    """Give an account a role (role or role:department), at once; logged in the audit log."""
    try:
        user_id, changed = grant_role(email, _parse_grant(role))
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"user {user_id}: {role} granted" if changed else f"user {user_id} already has {role}; nothing changed")


@users_cli.command("revoke")
@click.argument("email")
@click.argument("role")
def users_revoke(email: str, role: str) -> None:
    """Take a role (role or role:department) from an account, at once; refused while open cases assigned to it need
    the role (reassign them first) and for the last administrator; logged in the audit log."""
    try:
        user_id, changed = revoke_role(email, _parse_grant(role))
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(
        f"user {user_id}: {role} revoked" if changed else f"user {user_id} does not have {role}; nothing changed"
    )


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Deactivate an account: it can no longer log in and all its sessions end at once."""
    try:
        user_id, changed = deactivate_by_email(email)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    if changed:
        click.echo(f"user {user_id} deactivated; its sessions were ended")
    else:
        click.echo(f"user {user_id} was already inactive; nothing changed")


@users_cli.command("confirm")
@click.argument("email")
def users_confirm(email: str) -> None:
    """Count an account's address as proven without its mailed link (identity seen at the counter, or no mail
    server yet): a self-registered account logs in from then on."""
    try:
        user_id, changed = confirm_by_administrator(email)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    if changed:
        click.echo(f"user {user_id}: address confirmed; the account can log in")
    else:
        click.echo(f"user {user_id}: the address was already confirmed; nothing changed")


@users_cli.command("end-sessions")
@click.argument("email")
def users_end_sessions(email: str) -> None:
    """End every session of an account at once (it may log in again)."""
    try:
        count = end_sessions_by_email(email)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{count} session(s) ended")


@users_cli.command("end-all-sessions")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def users_end_all_sessions(yes: bool) -> None:
    """End every session of every account at once (after a suspected compromise: everyone logs in again)."""
    if not yes:
        click.confirm("End every session of every account? Everyone will have to log in again", abort=True)
    sessions, accounts = end_everyones_sessions()
    click.echo(f"{sessions} session(s) of {accounts} account(s) ended")


@users_cli.command("reset-second-factor")
@click.argument("email")
def users_reset_second_factor(email: str) -> None:
    """Remove an account's second factor after proving the person's identity; they enrol again at next login."""
    try:
        user_id, changed = reset_second_factor_by_email(email)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    if changed:
        click.echo(f"user {user_id}: second factor removed and sessions ended; enrolment is asked at the next login")
    else:
        click.echo(f"user {user_id} has no second factor; nothing removed")
