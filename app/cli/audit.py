"""``flask --app wsgi audit …``: the audit log."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.audit import verify
from app.extensions import db

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain; exit 1 naming the first bad entry."""
    result = verify(db.session())
    if result.ok:
        click.echo(f"OK: {result.checked} entries verified; head {result.head_hash}")
        return
    click.echo(
        f"FAILED at entry {result.first_bad}: {result.reason} ({result.checked} entries verified before it)", err=True
    )
    raise SystemExit(1)
