"""``flask --app wsgi payments …``: the treasury confirms payment orders from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.engine import DomainError
from app.services.payments import (
    Outcome,
    PaymentResult,
    confirm_payment,
    import_bank_file,
    pending_orders,
    treasury_user,
)

payments_cli = AppGroup("payments", help="Payment orders confirmed by the treasury.")


def _line(result: PaymentResult) -> str:
    detail = result.detail.render(str) if result.detail is not None else ""
    return f"{result.reference}\t{result.amount}\t{result.paid_on}\t{result.operation}\t{result.outcome}\t" + (
        f"{result.folio or ''}\t{detail}"
    )


def _actor(email: str) -> int:
    try:
        return treasury_user(email)
    except DomainError as exc:
        raise click.ClickException(exc.reasons[0].render(str) if exc.reasons else str(exc)) from None


@payments_cli.command("pending")
@click.option("--as", "email", required=True, help="E-mail of the treasury user who lists them.")
def payments_pending(email: str) -> None:
    """List the unpaid payment orders of every procedure, soonest due first: folio, reference, amount, due
    date, procedure (and OVERDUE past the due date)."""
    try:
        orders = pending_orders(_actor(email))
    except DomainError as exc:
        raise click.ClickException(exc.reasons[0].render(str) if exc.reasons else str(exc)) from None
    for order in orders:
        due = order.due_on.isoformat() if order.due_on else "-"
        click.echo(
            f"{order.folio}\t{order.reference}\t{order.amount}\t{due}\t{order.title}"
            + ("\tOVERDUE" if order.overdue else "")
        )
    click.echo(f"pending: {len(orders)}")


@payments_cli.command("confirm")
@click.argument("reference")
@click.argument("amount")
@click.argument("paid_on")
@click.argument("operation")
@click.option("--as", "email", required=True, help="E-mail of the treasury user who confirms.")
def payments_confirm(reference: str, amount: str, paid_on: str, operation: str, email: str) -> None:
    """Confirm that the order REFERENCE was paid AMOUNT on PAID_ON (YYYY-MM-DD) in OPERATION."""
    result = confirm_payment(reference, amount, paid_on, operation, _actor(email), source="cli")
    click.echo(_line(result))
    if not result.applied:
        raise SystemExit(1)


@payments_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", required=True, help="E-mail of the treasury user who confirms.")
def payments_import(path: Path, email: str) -> None:
    """Apply a bank's reconciliation file (CSV: reference, amount, date, operation); one line per row."""
    try:
        report = import_bank_file(path.read_bytes(), _actor(email))
    except DomainError as exc:
        raise click.ClickException(exc.reasons[0].render(str) if exc.reasons else str(exc)) from None
    for result in report.lines:
        click.echo(_line(result))
    click.echo(
        f"applied: {report.count(Outcome.APPLIED)}; reported: {len(report.lines) - report.count(Outcome.APPLIED)}"
    )
