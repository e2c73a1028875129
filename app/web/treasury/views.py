"""The treasury's page: payment orders awaiting payment, confirming one at the cashier, importing the bank's file."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.models import Role
from app.services.payments import (
    TREASURY_PAGE,
    ImportReport,
    OrdersCursor,
    Outcome,
    PaymentResult,
    confirm_payment,
    import_bank_file,
    pending_orders_page,
)
from app.web.access import roles_required
from app.web.labels import message_text
from app.web.urls import cursor_parts, record_id
from forms.treasury import BankFileForm, ConfirmPaymentForm

bp = Blueprint("treasury", __name__, url_prefix="/tesoreria")

MAX_FILE_BYTES = 2 * 1024 * 1024

OUTCOME_LABELS = {
    Outcome.APPLIED: _l("Aplicado"),
    Outcome.DUPLICATE: _l("Duplicado"),
    Outcome.UNKNOWN: _l("Referencia desconocida"),
    Outcome.WRONG_AMOUNT: _l("Importe distinto"),
    Outcome.LATE: _l("Pago extemporáneo"),
    Outcome.NOT_AWAITING: _l("El expediente no espera el pago"),
    Outcome.INVALID: _l("Renglón inválido"),
}


_ORDERS_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{1,10})")


def orders_cursor_text(cursor: OrdersCursor) -> str:
    """A page's cursor as the ``tras`` parameter of the next page's address: the last order's last day to pay
    and its case's id."""
    return f"{cursor.due_on.isoformat()}_{cursor.case_id}"


def orders_cursor(text: str) -> OrdersCursor:
    """The cursor of :func:`orders_cursor_text` (``request.args.get(name, type=orders_cursor)``); anything else
    raises ``ValueError``, so that the argument is taken as absent and the first page is shown."""
    match = cursor_parts(text, _ORDERS_CURSOR)
    return OrdersCursor(date.fromisoformat(match[1]), record_id(match[2]))


def _page(
    confirm: ConfirmPaymentForm | None = None,
    upload: BankFileForm | None = None,
    report: ImportReport | None = None,
    status: int = 200,
    after: OrdersCursor | None = None,
) -> tuple[str, int]:
    page = pending_orders_page(current_user.id, after=after, limit=TREASURY_PAGE)
    return (
        render_template(
            "treasury/index.html",
            orders=page.orders,
            paged=after is not None,
            following=None if page.following is None else orders_cursor_text(page.following),
            confirm=confirm or ConfirmPaymentForm(),
            upload=upload or BankFileForm(),
            report=report,
            outcome_label=lambda outcome: str(OUTCOME_LABELS[outcome]),
            detail=lambda line: message_text(line.detail) if line.detail is not None else "",
        ),
        status,
    )


@bp.get("")
@roles_required(Role.TREASURY)
def index() -> tuple[str, int]:
    """The payment orders awaiting payment, soonest due first, a page at a time, with the two ways to confirm
    payments."""
    return _page(after=request.args.get("tras", type=orders_cursor))


def _said(result: PaymentResult) -> str:
    if result.applied:
        return str(_("Pago aplicado al expediente %(folio)s.", folio=result.folio or ""))
    detail = message_text(result.detail) if result.detail is not None else ""
    return f"{OUTCOME_LABELS[result.outcome]}: {detail}"


@bp.post("/confirmar")
@roles_required(Role.TREASURY)
def confirm() -> Response | tuple[str, int]:
    """Confirm one payment received at the cashier."""
    form = ConfirmPaymentForm()
    if not form.validate_on_submit():
        return _page(confirm=form, status=422)
    result = confirm_payment(
        form.reference.data or "",
        form.amount.data or "",
        form.paid_on.data or "",
        form.operation.data or "",
        current_user.id,
        source="cashier",
    )
    if not result.applied:
        flash(_said(result), "error")
        return _page(confirm=form, status=422)
    flash(_said(result), "info")
    return redirect("/tesoreria")


@bp.post("/importar")
@roles_required(Role.TREASURY)
def upload() -> tuple[str, int]:
    """Apply the bank's reconciliation file and show what became of each row."""
    form = BankFileForm()
    if not form.validate_on_submit():
        return _page(upload=form, status=422)
    content = form.file.data.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        flash(_("El archivo excede el tamaño máximo de 2 MB."), "error")
        return _page(upload=form, status=422)
    try:
        report = import_bank_file(content, current_user.id)
    except DomainError as exc:
        for message in exc.reasons:
            flash(message_text(message), "error")
        return _page(upload=form, status=422)
    flash(
        _(
            "Archivo procesado. Pagos aplicados: %(applied)s; renglones reportados sin aplicar: %(other)s.",
            applied=report.count(Outcome.APPLIED),
            other=len(report.lines) - report.count(Outcome.APPLIED),
        ),
        "info",
    )
    return _page(report=report)
