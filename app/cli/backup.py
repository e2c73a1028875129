"""``flask --app wsgi backup …``: back up and restore the database, the documents and the keys."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.services.backup import BackupError, BackupSummary, create_backup, restore_backup

backup_cli = AppGroup("backup", help="Back up and restore the database, the stored documents and the keys.")


def _counts(summary: BackupSummary) -> str:
    return ", ".join(f"{count} {name}" for name, count in summary.counts.items())


@backup_cli.command("create")
@click.argument("destination", type=click.Path(path_type=Path))
@click.option("--no-keys", is_flag=True, help="Leave the key material out (back it up separately).")
def backup_create(destination: Path, no_keys: bool) -> None:
    """Write a backup to the new folder DESTINATION (see docs/backup.md)."""
    try:
        summary = create_backup(destination, include_keys=not no_keys)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup of the {summary.backend} database (schema {summary.revision}) written to {summary.path}")
    click.echo(f"  {_counts(summary)}; {summary.files} stored files; {summary.key_files} key files")
    if summary.key_files:
        click.echo("  it holds private keys: keep it encrypted and where only the administrators can read it")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--no-keys", is_flag=True, help="Do not restore the key material (it is restored separately).")
def backup_restore(source: Path, no_keys: bool) -> None:
    """Restore the backup in SOURCE into the configured empty database and documents directory, then check
    it: the audit log verifies and every document is present with its hash. Exits 1 when a check fails."""
    try:
        summary = restore_backup(source, include_keys=not no_keys)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored the {summary.backend} database (schema {summary.revision}) from {source}")
    click.echo(f"  {_counts(summary)}; {summary.files} stored files; {summary.key_files} key files")
    for problem in summary.problems:
        click.echo(f"problem: {problem}")
    if summary.problems:
        sys.exit(1)
    click.echo("  the audit log verifies and every document is present with its hash")
