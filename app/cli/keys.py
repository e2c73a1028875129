"""``flask --app wsgi keys …``: key material."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit.checkpoints import CheckpointError
from app.keys import KeyMaterialError
from app.services.keys import init_keys, rotate_log_key

keys_cli = AppGroup("keys", help="Signing keys.")


@keys_cli.command("init")
def keys_init() -> None:
    """Create the development audit-log key and certificate-signing chain (never overwrites)."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("production keys are managed outside the application; see the README")
    folder = Path(current_app.config["KEYS_DIR"])
    created = init_keys(folder, str(current_app.config["INSTITUTION_NAME"]))
    if not created:
        click.echo(f"Keys already present in {folder}")
    for key in created:
        click.echo(f"created {key.purpose}: {key.path} (fingerprint {key.fingerprint})")


@keys_cli.command("rotate-log")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def keys_rotate_log(yes: bool) -> None:
    """Replace the audit log key with a new one; the rotation is logged and the old key archived."""
    if not yes:
        click.confirm("Rotate the audit log key now?", abort=True)
    try:
        rotation = rotate_log_key(current_app.config)
    except (KeyMaterialError, CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"audit log key rotated at entry {rotation.entry_seq}")
    click.echo(f"  old fingerprint {rotation.old_fingerprint} (archived as {rotation.archived_key})")
    click.echo(f"  new fingerprint {rotation.new_fingerprint}")
    click.echo(f"  hand-over checkpoint signed by the old key: tree size {rotation.handover_checkpoint['tree_size']}")
    click.echo("Publish the new public key (GET /api/v1/audit/public-keys) so auditors can check the hand-over.")
