"""``flask --app wsgi demo …``: demo data."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.services.audit_log import checkpoint_after_load
from app.services.demo import load_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--quiet", is_flag=True, help="Do not print the demo logins.")
def demo_load(quiet: bool) -> None:
    """Load demo users and cases on first start; later runs change nothing."""
    result = load_demo()
    click.echo("Datos de demostración cargados." if result.created else "Datos de demostración ya presentes.")
    if result.created:  # no demo entry stays uncovered until the first scheduled checkpoint
        signed = checkpoint_after_load(current_app.config)
        if signed.checkpoint is not None:
            click.echo(f"Punto de control de la bitácora firmado: {signed.checkpoint['tree_size']} entradas.")
        else:
            click.echo(f"Punto de control de la bitácora NO firmado: {signed.problem or signed.skipped}", err=True)
    if not quiet:
        click.echo("Usuarios de demostración (correo / contraseña / roles):")
        for login in result.logins:
            click.echo(f"  {login.email:32} {login.password:20} {login.roles}")
