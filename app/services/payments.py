"""Payment orders the treasury confirms: at its cashier (its page), by the command line, from the bank's file.

Generic: every procedure that declares a :class:`workflows.procedure.Payment` is served the same way. The
authority issues the payment order (a sealed document whose reference carries MOD 97-10 check digits, see
:mod:`workflows.payments`) when it assesses the fees; the applicant downloads it and pays; the treasury, not the
applicant, confirms the payment. Each confirmation is the procedure's dedicated transition, fired as the
treasury user who confirmed it and logged with where it came from (``cashier``, ``cli`` or ``bank_file``).

A payment is applied only when its reference is the case's current order, the amount is the order's total, it
was paid by the order's due date and the case still awaits it, or, for a case the authority's silence granted
before its order was paid (afirmativa ficta: the fees remain owed), any time afterwards through the procedure's
``late_trigger`` (the case stays where it is); anything else is reported (unknown reference,
wrong amount, late, duplicate) and changes nothing. A payment is never applied twice: a case that no longer
awaits payment refuses it, and two confirmations racing for one case meet the case's optimistic lock.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple
from typing import cast as cast_type

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from app.calendar import local_today
from app.database import constant, is_constant, one_of
from app.engine import ConflictError, DomainError, InvalidData, Msg, NotAllowed, NotFound
from app.extensions import db
from app.models import Case, Certificate, CertificateStatus, Role, User
from app.services.cases import fire
from app.services.uow import SettleFirst
from workflows import REGISTRY
from workflows.payments import folio_of, normalise_reference, valid_reference
from workflows.procedure import Payment, Procedure, canonical_number, canonical_text

MAX_FILE_ROWS = 5000
HEADERS = {
    "reference": ("reference", "referencia", "linea_captura", "línea de captura"),
    "amount": ("amount", "importe", "monto"),
    "date": ("date", "fecha", "fecha_pago"),
    "operation": ("operation", "operacion", "operación", "numero_operacion"),
}
"""The columns of a bank's reconciliation file (CSV, header row first), by any of their usual names."""


class Outcome(StrEnum):
    """What became of one payment."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    WRONG_AMOUNT = "wrong_amount"
    LATE = "late"
    NOT_AWAITING = "not_awaiting"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """One payment and what became of it (``detail`` says why it was not applied)."""

    reference: str
    amount: str
    paid_on: str
    operation: str
    outcome: Outcome
    folio: str | None = None
    detail: Msg | None = None

    @property
    def applied(self) -> bool:
        """Whether the payment was applied to its case now."""
        return self.outcome is Outcome.APPLIED


@dataclass(frozen=True, slots=True)
class ImportReport:
    """A reconciliation file's rows, each with its outcome, in file order."""

    lines: tuple[PaymentResult, ...]

    def count(self, outcome: Outcome) -> int:
        """How many rows ended with ``outcome``."""
        return sum(1 for line in self.lines if line.outcome is outcome)


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """A payment order waiting to be paid, as the treasury sees it."""

    case_id: int
    folio: str
    title: str
    reference: str
    amount: str
    due_on: date | None
    overdue: bool
    granted_by_silence: bool = False
    """The case was granted by the authority's silence (afirmativa ficta) before the order was paid: the fees
    are still owed and the order stays payable after its due date."""


def _payments() -> list[tuple[Procedure, Payment]]:
    return [(p, p.payment) for p in REGISTRY if p.payment is not None]


def _require_treasury(session: Session, actor_id: int) -> User:
    user = session.get(User, actor_id)
    if user is None or not user.active or not user.has_role(Role.TREASURY):
        raise NotAllowed(Msg("Solo la Tesorería confirma pagos."))
    return user


def current_order(session: Session, case: Case, kind: str) -> Certificate | None:
    """The case's latest valid payment order of document ``kind`` (an earlier one is superseded by a new
    assessment)."""
    return session.scalars(
        select(Certificate)
        .where(
            Certificate.case_id == case.id,
            Certificate.kind == kind,
            Certificate.status == CertificateStatus.VALID,
        )
        .order_by(Certificate.id.desc())
    ).first()


class _ListedOrder(NamedTuple):
    """What the treasury's list shows of a payment order: its case, kind, last day to pay and sealed fields."""

    case_id: int
    kind: str
    valid_until: date | None
    public_data: dict[str, Any] | None


def _sealed(order: Certificate | _ListedOrder, name: str) -> str:
    fields = (order.public_data or {}).get("fields") or {}
    return str(fields.get(name) or "")


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    """How a case's fees stand, as its applicant is told on the case page: paid (the treasury's confirmation:
    day and operation), or owed under the current payment order (its reference, amount and last day to pay)."""

    paid: bool
    reference: str
    amount: str
    due_on: date | None = None
    """The order's last day to pay (owed)."""
    paid_on: date | None = None
    """The day the treasury recorded as paid (paid)."""
    operation: str = ""


def payment_status(session: Session, case: Case) -> PaymentStatus | None:
    """How the case's fees stand (:class:`PaymentStatus`): paid once the treasury confirmed the payment; owed
    while the case awaits it (or owes it after the authority's silence) under a valid payment order; ``None``
    when its procedure takes no fees or nothing is owed or paid."""
    procedure = REGISTRY.get(case.workflow) if case.workflow in REGISTRY else None
    payment = procedure.payment if procedure is not None else None
    if payment is None:
        return None
    data = case.data or {}
    if data.get(payment.reference_field):
        return PaymentStatus(
            True,
            str(data[payment.reference_field]),
            str(data.get(payment.amount_field) or ""),
            paid_on=_day(data.get(payment.paid_on_field)),
            operation=str(data.get(payment.operation_field) or ""),
        )
    if case.state not in payment.awaiting_states and not case.payment_owed:
        return None
    order = current_order(session, case, payment.order)
    if order is None:
        return None
    return PaymentStatus(
        False, _sealed(order, payment.reference_row), _sealed(order, payment.amount_row), order.valid_until
    )


def _day(value: object) -> date | None:
    """A day the case data records (ISO), or ``None``."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _text_field(name: str) -> ColumnElement[str | None]:
    """The case data's field ``name`` as text, read by the database (``NULL`` when absent)."""
    return cast_type("ColumnElement[str | None]", Case.data[name].as_string())


TREASURY_PAGE = 50
"""Payment orders on a page of the treasury's list."""


class OrdersCursor(NamedTuple):
    """Where a page of the treasury's list ends: its last order's last day to pay (:data:`datetime.date.max` for
    one without) and its case (whose folio comes next in the list's order)."""

    due_on: date
    case_id: int


class OrdersPage(NamedTuple):
    """A page of the unpaid payment orders and, when more follow, where the next page starts."""

    orders: list[PendingOrder]
    following: OrdersCursor | None


def _unpaid(index: int, procedure: Procedure, payment: Payment) -> list[Select[Any]]:
    """The unpaid current orders of ``procedure``'s cases that await payment, and of those that owe it after the
    authority's silence (``payment_owed``: a partial index of the few, not every licensed work resting where
    such a fee could still be confirmed), each with the list's columns and ``index`` to say whose they are.

    The current order is the case's latest valid document of the order's kind (as :func:`current_order`); it is
    paid when the case records its reference (a procedure may keep the case in its awaiting state after payment)."""
    latest = aliased(Certificate, name="latest")
    current = (
        select(func.max(latest.id))
        .where(
            latest.case_id == Case.id,
            latest.kind == constant(payment.order),
            is_constant(latest.status, CertificateStatus.VALID),
        )
        .correlate(Case)
        .scalar_subquery()
    )
    paid_reference = _text_field(payment.reference_field)
    sealed = cast_type(
        "ColumnElement[str | None]", Certificate.public_data[("fields", payment.reference_row)].as_string()
    )
    columns = (
        Case.id,
        Case.folio,
        Case.state,
        literal(index, Integer).label("procedure"),
        Certificate.valid_until,
        Certificate.public_data,
        func.coalesce(Certificate.valid_until, literal(date.max, Date), type_=Date).label("sort_day"),
    )
    unpaid = (
        Case.workflow == constant(procedure.name),  # from the declarations: planned for the values
        or_(paid_reference.is_(None), paid_reference != func.coalesce(sealed, "")),
    )
    awaiting = one_of(Case.state, [constant(s) for s in payment.awaiting_states])
    chosen = [select(*columns).join(Certificate, Certificate.id == current).where(*unpaid, awaiting)]
    if payment.late_trigger is not None:
        owing = (Case.payment_owed == true(), ~awaiting)  # a case awaiting payment is listed as such, once
        chosen.append(select(*columns).join(Certificate, Certificate.id == current).where(*unpaid, *owing))
    return chosen


def _orders_select(after: bool) -> Select[Any]:
    """The unpaid orders of every procedure, soonest due first (those without a last day last), then by folio;
    at most ``limit`` and one more, past the case ``after_id`` (its order's last day ``after_day``) with ``after``."""
    parts = [
        part for index, (procedure, payment) in enumerate(_payments()) for part in _unpaid(index, procedure, payment)
    ]
    listed = union_all(*parts).subquery("orders")
    order = (listed.c.sort_day, listed.c.folio, listed.c.id)
    statement = select(*listed.c).order_by(*order).limit(bindparam("limit", type_=Integer))
    if after:
        last = bindparam("after_id", type_=Integer)
        folio = select(Case.folio).where(Case.id == last).scalar_subquery()
        statement = statement.where(tuple_(*order) > tuple_(bindparam("after_day", type_=Date), folio, last))
    return statement


def pending_orders_page(
    actor_id: int, today: date | None = None, *, after: OrdersCursor | None = None, limit: int = TREASURY_PAGE
) -> OrdersPage:
    """A page of the unpaid payment orders of the cases that await payment, every procedure's, soonest due first,
    starting after ``after``. The database finds, sorts and pages them: the application receives and shows a page
    however many are waiting (the database still reads every awaiting case's order to sort them; they are the
    few awaiting payment, through the (workflow, state) index and the partial index of those that owe it).
    Raises ``NotAllowed``."""
    session = db.session()
    _require_treasury(session, actor_id)
    today = today or local_today()
    payments = _payments()
    if not payments:
        return OrdersPage([], None)
    params: dict[str, Any] = {"limit": limit + 1}
    if after is not None:
        params.update(after_day=after.due_on, after_id=after.case_id)
    rows = session.execute(_orders_select(after is not None), params).all()
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = OrdersCursor(rows[-1].sort_day, rows[-1].id)
    orders: list[PendingOrder] = []
    for case_id, folio, state, index, valid_until, public_data, _day in rows:
        procedure, payment = payments[index]
        owed = state not in payment.awaiting_states  # then it came from the owed cases (``payment_owed``)
        order = _ListedOrder(case_id, payment.order, valid_until, public_data)
        orders.append(
            PendingOrder(
                case_id,
                folio,
                procedure.title,
                _sealed(order, payment.reference_row),
                _sealed(order, payment.amount_row),
                valid_until,
                not owed and valid_until is not None and valid_until < today,
                owed,
            )
        )
    return OrdersPage(orders, following)


def pending_orders(actor_id: int, today: date | None = None) -> list[PendingOrder]:
    """Every unpaid payment order, soonest due first (:func:`pending_orders_page`, page after page): for the
    command line and the reconciliation's tools. Raises ``NotAllowed``."""
    orders: list[PendingOrder] = []
    after: OrdersCursor | None = None
    while True:
        page = pending_orders_page(actor_id, today, after=after)
        orders += page.orders
        if page.following is None:
            return orders
        after = page.following


def _refused(
    typed: tuple[str, str, str, str], outcome: Outcome, detail: Msg, folio: str | None = None
) -> PaymentResult:
    reference, amount, paid_on, operation = typed
    return PaymentResult(reference, amount, paid_on, operation, outcome, folio, detail)


def confirm_payment(
    reference: str, amount: str, paid_on: date | str, operation: str, actor_id: int, *, source: str = "cashier"
) -> PaymentResult:
    """Confirm, as the treasury user ``actor_id``, that the order ``reference`` was paid ``amount`` on
    ``paid_on`` in the operation ``operation``; ``source`` says where the confirmation came from (``cashier``,
    ``cli``, ``bank_file``) and goes into the transition's audit entry.

    Returns the outcome: applied, or why not (nothing changes then). Raises ``NotAllowed`` for someone who is
    not the treasury. A term of the case that lapsed before the payment was applied (the term to pay, which the
    timers' worker had not recorded yet) is recorded first, and the payment judged on the case as it then
    stands: no longer awaiting it, or owing it after the authority's silence."""
    try:
        return _confirm(reference, amount, paid_on, operation, actor_id, source, again=False)
    except SettleFirst:
        return _confirm(reference, amount, paid_on, operation, actor_id, source, again=True)


def _confirm(
    reference: str, amount: str, paid_on: date | str, operation: str, actor_id: int, source: str, *, again: bool
) -> PaymentResult:
    """:func:`confirm_payment`; raises ``SettleFirst`` (the lapse then recorded) unless it is ``again``."""
    session = db.session()
    _require_treasury(session, actor_id)
    typed_reference = normalise_reference(reference or "")
    typed_amount = canonical_number(amount, 2) or str(amount or "").strip()
    typed_day = paid_on.isoformat() if isinstance(paid_on, date) else str(paid_on or "").strip()
    typed_operation = canonical_text(operation or "")
    typed = (typed_reference, typed_amount, typed_day, typed_operation)
    try:
        day = date.fromisoformat(typed_day)
    except ValueError:
        return _refused(typed, Outcome.INVALID, Msg("La fecha de pago no es una fecha (AAAA-MM-DD)."))
    if canonical_number(amount, 2) is None:
        return _refused(typed, Outcome.INVALID, Msg("El importe no es un número."))
    if not typed_operation or len(typed_operation) > 40:
        return _refused(typed, Outcome.INVALID, Msg("Indique el número de operación (hasta 40 caracteres)."))
    if not typed_operation.isprintable():
        # a control or invisible character (a NUL in a bank file's cell): on PostgreSQL the case data could not be
        # read back as text, and the treasury's page answered 500 from then on
        return _refused(
            typed,
            Outcome.INVALID,
            Msg("El número de operación contiene caracteres de control o invisibles; revise el archivo o lo escrito."),
        )
    if not valid_reference(typed_reference):
        return _refused(
            typed, Outcome.UNKNOWN, Msg("La línea de captura no es válida: sus dígitos verificadores no coinciden.")
        )
    folio = folio_of(typed_reference)
    case = session.scalars(select(Case).where(Case.folio == folio)).first()
    declared = next(((p, pay) for p, pay in _payments() if case is not None and p.name == case.workflow), None)
    if case is None or declared is None:
        return _refused(typed, Outcome.UNKNOWN, Msg("Ningún expediente tiene esa línea de captura."))
    _, payment = declared
    order = current_order(session, case, payment.order)
    data = case.data or {}
    if data.get(payment.reference_field) == typed_reference:
        return _refused(
            typed,
            Outcome.DUPLICATE,
            Msg(
                "Esa orden ya se pagó (operación %(operation)s); no se aplica dos veces.",
                {"operation": str(data.get(payment.operation_field) or "")},
            ),
            case.folio,
        )
    if order is None or _sealed(order, payment.reference_row) != typed_reference:
        return _refused(
            typed, Outcome.UNKNOWN, Msg("Esa línea de captura no es la orden de pago vigente del expediente."), folio
        )
    trigger = payment.confirm_trigger
    if case.state not in payment.awaiting_states:
        if not case.payment_owed:  # granted by silence with the fee unpaid: kept by every transition
            return _refused(typed, Outcome.NOT_AWAITING, Msg("El expediente ya no espera este pago."), case.folio)
        trigger = str(payment.late_trigger)
    expected = _sealed(order, payment.amount_row)
    if typed_amount != expected:
        return _refused(
            typed,
            Outcome.WRONG_AMOUNT,
            Msg("El importe pagado no es el de la orden (%(expected)s).", {"expected": expected}),
            case.folio,
        )
    if trigger == payment.confirm_trigger and order.valid_until is not None and day > order.valid_until:
        return _refused(
            typed,
            Outcome.LATE,
            Msg("Pago posterior a la fecha límite (%(due)s): no se aplica.", {"due": order.valid_until.isoformat()}),
            case.folio,
        )
    try:
        result = fire(
            case.id,
            trigger,
            actor_id,
            expected_version=case.version,
            data={
                payment.reference_field: typed_reference,
                payment.amount_field: typed_amount,
                payment.paid_on_field: typed_day,
                payment.operation_field: typed_operation,
            },
            idempotency_key=f"payment:{typed_reference}",
            reason={"source": source},
        )
    except ConflictError as exc:
        if isinstance(exc, SettleFirst) and not again:
            raise
        return _refused(typed, Outcome.DUPLICATE, Msg("El expediente cambió mientras se aplicaba el pago."), case.folio)
    except DomainError as exc:
        return _refused(typed, Outcome.INVALID, exc.reasons[0] if exc.reasons else Msg(str(exc)), case.folio)
    if result.replayed:
        return _refused(typed, Outcome.DUPLICATE, Msg("Esa orden ya se pagó; no se aplica dos veces."), case.folio)
    return PaymentResult(*typed, Outcome.APPLIED, case.folio)


def _column(header: Sequence[str], name: str) -> int:
    names = [" ".join(h.strip().lower().split()) for h in header]
    for alias in HEADERS[name]:
        if alias in names:
            return names.index(alias)
    raise InvalidData(
        Msg(
            "Al archivo le falta la columna «%(column)s» (encabezados: referencia, importe, fecha, operación).",
            {"column": HEADERS[name][1]},
        )
    )


def import_bank_file(content: bytes, actor_id: int) -> ImportReport:
    """Apply a bank's or treasury's reconciliation file (CSV with a header row: reference, amount, date and
    operation number, in any order, Spanish or English names), each row as :func:`confirm_payment` from
    ``bank_file``. A row repeating an earlier row's reference or operation is reported as a duplicate.

    Raises ``InvalidData`` (not UTF-8 text, no header, a column missing, over :data:`MAX_FILE_ROWS` rows) and
    ``NotAllowed``."""
    _require_treasury(db.session(), actor_id)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidData(Msg("El archivo no es texto CSV en UTF-8.")) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:  # a cell beyond the reader's limit, a stray NUL: not a bank file
        raise InvalidData(Msg("El archivo no es un CSV válido: revise que sea el archivo del banco.")) from None
    if not rows:
        raise InvalidData(Msg("El archivo está vacío."))
    header, body = rows[0], [row for row in rows[1:] if any(cell.strip() for cell in row)]
    if len(body) > MAX_FILE_ROWS:
        raise InvalidData(Msg("El archivo excede %(rows)s renglones.", {"rows": str(MAX_FILE_ROWS)}))
    columns = {name: _column(header, name) for name in HEADERS}
    seen: set[str] = set()
    lines: list[PaymentResult] = []
    for row in body:
        cells = {name: row[index].strip() if index < len(row) else "" for name, index in columns.items()}
        reference = normalise_reference(cells["reference"])
        keys = {f"r:{reference}", f"o:{canonical_text(cells['operation'])}"}
        if seen & keys:
            lines.append(
                _refused(
                    (reference, cells["amount"], cells["date"], cells["operation"]),
                    Outcome.DUPLICATE,
                    Msg("Renglón repetido en el archivo: no se aplica dos veces."),
                )
            )
            continue
        seen |= keys
        lines.append(
            confirm_payment(
                cells["reference"], cells["amount"], cells["date"], cells["operation"], actor_id, source="bank_file"
            )
        )
    return ImportReport(tuple(lines))


def treasury_user(email: str) -> int:
    """The id of the active treasury user with ``email`` (for the command line). Raises ``NotFound`` and
    ``NotAllowed``."""
    session = db.session()
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(Msg("El usuario no existe o está inactivo."))
    return _require_treasury(session, user.id).id
