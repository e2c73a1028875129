"""``flask --app wsgi storage …``: the document store against the database."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.services.storage_check import DEFAULT_GRACE_SECONDS, check_storage

storage_cli = AppGroup("storage", help="Stored documents: consistency with the database.")


@storage_cli.command("check")
@click.option("--delete-orphans", is_flag=True, help="Remove orphan files and leftovers of interrupted writes.")
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=DEFAULT_GRACE_SECONDS,
    show_default=True,
    help="Seconds an orphan or leftover must have been left alone before it is removed.",
)
def storage_check(delete_orphans: bool, grace: int) -> None:
    """Find rows whose file is missing, files whose bytes do not match their hash, orphan files and leftovers.

    Exits with status 1 when anything is missing or damaged, or when orphans or leftovers remain.
    """
    report = check_storage(delete_orphans=delete_orphans, grace_seconds=grace)
    removed = set(report.removed)
    for ref in report.missing:
        click.echo(f"missing: {ref.table} {ref.row_id} names {ref.key}, which is not in the store")
    for ref in report.damaged:
        click.echo(f"damaged: {ref.table} {ref.row_id}: the bytes of {ref.key} do not match SHA-256 {ref.sha256}")
    for path in report.orphans:
        click.echo(f"{'removed orphan' if path in removed else 'orphan'}: {path} (no row names it)")
    for path in report.leftovers:
        click.echo(f"{'removed leftover' if path in removed else 'leftover'}: {path} (an interrupted write)")
    for path in report.kept_young:
        click.echo(f"kept (younger than {grace} s): {path}")
    click.echo(
        f"{report.files} files, {report.rows} rows: {len(report.missing)} missing, {len(report.damaged)} damaged, "
        f"{len(report.orphans)} orphans, {len(report.leftovers)} leftovers, {len(report.removed)} removed"
    )
    if not report.ok:
        sys.exit(1)
