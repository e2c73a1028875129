"""``flask --app wsgi departments …``: the departments, and what the installed procedures need of them."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from app.engine import DomainError
from app.services.departments import (
    MissingDepartment,
    create_department,
    delete_department,
    ensure_declared_departments,
    list_departments,
    missing_departments,
    rename_department,
)

departments_cli = AppGroup("departments", help="Departments (administrative units) and the procedures' needs.")

logger = logging.getLogger("app.departments")


def _fail(exc: DomainError) -> click.ClickException:
    reasons = [str(reason) for reason in exc.reasons if str(reason) != str(exc.message)]
    return click.ClickException(" ".join([str(exc.message), *reasons]))


def describe(item: MissingDepartment) -> str:
    """One line saying which procedure needs which missing department, and why."""
    if item.source == "declared":
        return f"{item.procedure}: needs department {item.code!r} ({item.name}), which does not exist"
    return f"{item.procedure}: its settings name department {item.code!r}, which does not exist"


@departments_cli.command("list")
def departments_list() -> None:
    """List the departments: code, name (and English name), role grants, cases awaiting each and the procedures
    that need each."""
    rows = list_departments()
    if not rows:
        click.echo("no departments")
    for row in rows:
        needed = ", ".join(row.needed_by) or "-"
        english = f" [en: {row.name_en}]" if row.name_en else ""
        click.echo(f"{row.code:24} {row.name:40}{english} grants={row.grants} awaiting={row.cases} needed by: {needed}")


@departments_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--english", "name_en", default=None, metavar="NAME", help="Its name in English (optional).")
def departments_create(code: str, name: str, name_en: str | None) -> None:
    """Create department CODE named NAME, and in English --english NAME (logged)."""
    try:
        create_department(code, name, None, name_en=name_en)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"department {code} created")


@departments_cli.command("rename")
@click.argument("code")
@click.argument("name")
@click.option(
    "--english",
    "name_en",
    default=None,
    metavar="NAME",
    help='Its name in English ("" removes it; left out, the English name stays).',
)
def departments_rename(code: str, name: str, name_en: str | None) -> None:
    """Rename department CODE to NAME, and in English to --english NAME; its code stays (logged)."""
    try:
        changed = rename_department(code, name, None, name_en=name_en)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"department {code} renamed" if changed else f"department {code} already has that name")


@departments_cli.command("delete")
@click.argument("code")
def departments_delete(code: str) -> None:
    """Delete department CODE; refused while anything names it (logged)."""
    try:
        delete_department(code, None)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"department {code} deleted")


def report_missing(*, log: bool) -> int:
    """Report every department an installed procedure needs that does not exist, as a warning in the logs
    (``log``) or one line each on stderr; return how many there are."""
    missing = missing_departments()
    for item in missing:
        if log:
            logger.warning("missing department: %s", describe(item))
        else:
            click.echo(describe(item), err=True)
    return len(missing)


def check_after_upgrade(app: Flask) -> None:
    """Make ``flask db upgrade`` end with the departments check: the missing ones are logged as warnings
    (the upgrade itself succeeds; ``--sql`` only prints SQL and checks nothing)."""
    group = app.cli.commands.get("db")
    if not isinstance(group, click.Group) or "upgrade" not in group.commands:
        return
    original = group.commands["upgrade"]

    @with_appcontext
    def upgrade_then_check(**kwargs: Any) -> None:
        click.get_current_context().invoke(original, **kwargs)
        if not kwargs.get("sql") and report_missing(log=True):
            logger.warning("create them with `flask departments create CODE NAME` or `flask departments ensure`")

    command = click.Command(
        "upgrade",
        params=original.params,
        callback=upgrade_then_check,
        help=original.help,
        short_help=original.short_help,
    )
    wrapped = click.Group(
        "db",
        commands={**group.commands, "upgrade": command},
        callback=group.callback,  # (sets the migrations directory the subcommands read)
        params=group.params,
        help=group.help,
    )
    app.cli.add_command(wrapped, "db")


@departments_cli.command("check")
@click.option("--warn-only", is_flag=True, help="Log the missing departments as warnings and exit 0.")
def departments_check(warn_only: bool) -> None:
    """Report every department an installed procedure needs (declared, or named by its current settings)
    that does not exist; exit 1 when there is one (unless --warn-only)."""
    count = report_missing(log=warn_only)
    if not count:
        click.echo("every department the installed procedures need exists")
        return
    hint = "create them with `flask departments create CODE NAME` or `flask departments ensure`"
    if warn_only:
        logger.warning("%s missing department(s); %s", count, hint)
        return
    raise click.ClickException(f"{count} missing department(s); {hint}")


@departments_cli.command("ensure")
def departments_ensure() -> None:
    """Create the departments the installed procedures declare and that do not exist, with their declared
    names (logged); existing ones keep their names."""
    result = ensure_declared_departments(None)
    for code, name in result.created:
        click.echo(f"department {code} created ({name})")
    if not result.created:
        click.echo("every declared department exists")
    for item in missing_departments():
        click.echo(describe(item), err=True)
