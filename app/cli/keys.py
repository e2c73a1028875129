"""``flask --app wsgi keys …``: key material."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.services.keys import init_keys

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
