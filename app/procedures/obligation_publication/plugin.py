"""Transparency-obligation publications plug in their pages, the command that opens a quarter, the tick that
opens due quarters, and their home-page links."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from app.engine import DomainError
from app.plugins import Link, Plugin
from app.procedures.obligation_publication.services import open_due_quarters, open_quarter
from app.procedures.obligation_publication.views import bp

publications_cli = AppGroup("publications", help="Transparency-obligation publications.")


@publications_cli.command("open")
@click.option("--year", type=int, required=True, help="Fiscal year of the data.")
@click.option("--quarter", type=click.IntRange(1, 4), required=True, help="Quarter of the data (1-4).")
def open_publications(year: int, quarter: int) -> None:
    """Open the transparency-obligation publication cases of a quarter (idempotent)."""
    try:
        report = open_quarter(year, quarter)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"publications {year}-Q{quarter}: {len(report.opened)} opened, {report.existing} already open; "
        f"due {report.due_on.isoformat()}"
    )
    for reason in report.refused:
        click.echo(f"publications {year}-Q{quarter}: {reason}", err=True)
    if report.refused:
        click.get_current_context().exit(1)


def open_due() -> list[str]:
    """Open the quarters whose publication window has begun (run by the tick before the timers, so that the
    new cases' terms start today); a format refused (its department does not exist) is reported at each tick
    until it is fixed."""
    lines: list[str] = []
    for report in open_due_quarters():
        if report.opened:
            lines.append(f"publications {report.year}-Q{report.quarter}: {len(report.opened)} opened")
        lines.extend(f"publications {report.year}-Q{report.quarter}: {reason}" for reason in report.refused)
    return lines


_STAFF = frozenset({"area", "transparency_unit", "guarantor", "auditor"})

PLUGIN = Plugin(
    procedure="obligation_publication",
    blueprints=(bp,),
    commands=(publications_cli,),
    tick=(open_due,),
    title=_l("Obligaciones de transparencia"),
    links=(
        Link("publications.staff_index", _l("Publicaciones de obligaciones"), _STAFF),
        Link("publications.public_index", _l("Página pública"), _STAFF),
        Link("publications.sample", _l("Sorteo de verificación"), frozenset({"guarantor"})),
    ),
    public_links=(Link("publications.public_index", _l("Obligaciones de transparencia publicadas")),),
)
