"""Payment orders the treasury confirms: issued sealed when fees are assessed, confirmed at the cashier, by the
command line or from the bank's reconciliation file; never applied twice; the licence prints the operation.

Every test runs on SQLite and PostgreSQL through the real services, pages and commands.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.calendar import local_today
from app.engine import NotAllowed
from app.extensions import db
from app.models import AuditEntry, Case, Certificate, CertificateStatus, Role, Timer
from app.services.cases import FireResult
from app.services.certificates import certificate_file
from app.services.deadlines import calendar
from app.services.payments import Outcome, confirm_payment, import_bank_file, pending_orders, pending_orders_page
from tests.certificates.conftest import People, csrf_from, login, pdf_text
from tests.support.factories import advance, email_of, make_user, stored_case, vecs_case
from tests.support.paging import walked
from tests.web.helpers import set_language
from workflows.payments import folio_of, payment_reference, valid_reference

FEES = [
    {
        "concept": "Licencia de construcción de obra nueva",
        "unit": "m2",
        "quantity": "420.50",
        "rate": "18.00",
        "amount": "7569.00",
        "legal_basis": "Ley de Ingresos del Municipio 2026, art. 25, fracc. I",
    },
    {
        "concept": "Constancia de alineamiento y número oficial",
        "unit": "fixed",
        "quantity": "1",
        "rate": "851.00",
        "amount": "851.00",
        "legal_basis": "Ley de Ingresos del Municipio 2026, art. 27",
    },
]


def awaiting_payment(people: People) -> FireResult:
    return advance(
        vecs_case(people.owner),
        [
            ("submit", people.owner, None, None),
            ("start_intake", people.clerk, None, None),
            ("accept_intake", people.clerk, None, None),
            ("rule_land_use", people.land_use_reviewer, {"land_use_ruling": "Compatible con H3-C"}, None),
            ("assess_fees", people.land_use_reviewer, {"fees": FEES}, None),
        ],
    )


def _order(case_id: int) -> Certificate:
    db.session.rollback()
    return db.session.scalars(
        select(Certificate).where(Certificate.case_id == case_id, Certificate.kind == "payment_order")
    ).one()


def _state(case_id: int) -> str:
    return stored_case(case_id).state


def test_a_payment_confirmed_after_the_term_to_pay_finds_the_request_not_presented(app: Flask, people: People) -> None:
    """Paid at the bank on the last day, confirmed by the treasury after the term to pay lapsed and before the
    timers' worker ran: the lapse is recorded first (the request is not presented, as the worker would have
    left it) and the payment is refused as no longer awaited, saying so; nothing of it is applied."""
    case = awaiting_payment(people)
    reference = _order(case.case_id).public_data["fields"]["referencia"]
    term = db.session.scalars(
        select(Timer).where(Timer.case_id == case.case_id, Timer.trigger == "lapse_payment")
    ).one()
    treasurer = make_user(Role.TREASURY)
    with time_machine.travel(term.due_at + timedelta(hours=1), tick=False):
        result = confirm_payment(reference, "8420.00", term.due_on, "SPEI 884213", treasurer)
    assert result.outcome is Outcome.NOT_AWAITING
    assert result.detail is not None
    assert result.detail.msgid == "El expediente ya no espera este pago."
    stored = stored_case(case.case_id)
    assert stored.state == "not_presented"
    assert "payment_reference" not in stored.data
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.case_id == case.case_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert actions == "lapse_payment"


def test_the_reference_carries_mod_97_check_digits() -> None:
    reference = payment_reference("VECS-2026-000017")
    assert reference.startswith("VECS202600001701")
    assert valid_reference(reference)
    assert folio_of(reference) == "VECS-2026-000017"
    typo = reference[:8] + ("1" if reference[8] != "1" else "2") + reference[9:]
    assert not valid_reference(typo)
    swapped = reference[:10] + reference[11] + reference[10] + reference[12:]
    assert swapped == reference or not valid_reference(swapped)
    assert payment_reference("VECS-2026-000017", 2) != reference


def test_assessing_fees_issues_a_sealed_payment_order_the_applicant_downloads(
    app: Flask, people: People, tmp_path: Path
) -> None:
    case = awaiting_payment(people)
    order = _order(case.case_id)
    fields = order.public_data["fields"]
    assert valid_reference(fields["referencia"])
    assert folio_of(fields["referencia"]) == case.folio
    assert fields["importe_total"] == "8420.00"
    # due on the last day of the payment term (business days, from the settings)
    expected_due = calendar(db.session()).add_business_days(local_today(), 10)
    assert order.valid_until == expected_due
    assert fields["fecha_limite"] == expected_due.isoformat()
    downloaded = certificate_file(case.case_id, order.id, people.owner)
    text = pdf_text(downloaded.content, tmp_path)
    for expected in (
        "ORDEN DE PAGO DE DERECHOS",
        fields["referencia"],
        "$8,420.00 MXN",
        "$7,569.00 MXN",
        "Ley de Ingresos del Municipio 2026, art. 25, fracc. I",
        "Ley de Ingresos del Municipio 2026, art. 27",
        "Fecha límite de pago",
    ):
        assert expected in text, expected


def test_the_treasury_confirms_at_the_cashier_and_nothing_else_is_applied(app: Flask, people: People) -> None:
    case = awaiting_payment(people)
    reference = _order(case.case_id).public_data["fields"]["referencia"]
    due = _order(case.case_id).valid_until
    assert due is not None
    treasurer = make_user(Role.TREASURY)
    today = local_today()

    with pytest.raises(NotAllowed):
        confirm_payment(reference, "8420.00", today, "OP-1", people.owner)
    with pytest.raises(NotAllowed):
        confirm_payment(reference, "8420.00", today, "OP-1", people.approver)

    refused = {
        "bad check digits": (reference[:-1] + str((int(reference[-1]) + 1) % 10), "8420.00", today, Outcome.UNKNOWN),
        "unknown folio": (payment_reference("VECS-2099-999999"), "8420.00", today, Outcome.UNKNOWN),
        "wrong amount": (reference, "8400.00", today, Outcome.WRONG_AMOUNT),
        "late": (reference, "8420.00", due + timedelta(days=1), Outcome.LATE),
        "not a number": (reference, "ocho mil", today, Outcome.INVALID),
    }
    for name, (ref, amount, day, outcome) in refused.items():
        result = confirm_payment(ref, amount, day, "OP-1", treasurer)
        assert result.outcome is outcome, name
        assert result.detail is not None, name
        assert _state(case.case_id) == "awaiting_payment", name

    applied = confirm_payment(reference.lower(), "8,420", today, " SPEI  884213 ", treasurer)
    assert applied.outcome is Outcome.APPLIED
    assert _state(case.case_id) == "licence_review"
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert stored.data["payment_reference"] == reference
    assert stored.data["payment_amount"] == "8420.00"
    assert stored.data["payment_operation"] == "SPEI 884213"
    assert stored.data["payment_paid_on"] == today.isoformat()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case.case_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    assert entry.action == "confirm_payment"
    assert entry.actor_id == treasurer
    assert entry.actor_role == "treasury"
    assert entry.details["source"] == "cashier"

    again = confirm_payment(reference, "8420.00", today, "SPEI 884213", treasurer)
    assert again.outcome is Outcome.DUPLICATE
    other = confirm_payment(reference, "8420.00", today, "OTRA-1", make_user(Role.TREASURY))
    assert other.outcome is Outcome.DUPLICATE
    assert pending_orders(treasurer) == [] or all(o.case_id != case.case_id for o in pending_orders(treasurer))

    # the licence prints the confirmed operation, not anything the applicant typed
    licensed = advance(
        FireResult(case.case_id, case.folio, "", None, "licence_review", stored.version, 0),
        [("approve_licence", people.approver, {"licence_number": "LC-2026-0042"}, None)],
    )
    licence = db.session.scalars(
        select(Certificate).where(Certificate.case_id == licensed.case_id, Certificate.kind == "licence")
    ).one()
    assert f"|8420.00|Pagados; pago confirmado por la Tesorería|{reference}|SPEI 884213|{today.isoformat()}|" in (
        licence.cadena_original
    )
    assert licence.status is CertificateStatus.VALID


def test_the_bank_file_reports_every_row_and_applies_each_payment_once(app: Flask, people: People) -> None:
    first = awaiting_payment(people)
    second = awaiting_payment(people)
    third = awaiting_payment(people)
    ref1, ref2, ref3 = (_order(c.case_id).public_data["fields"]["referencia"] for c in (first, second, third))
    due = _order(third.case_id).valid_until
    assert due is not None
    today = local_today().isoformat()
    late = (due + timedelta(days=3)).isoformat()
    content = (
        "\ufeffReferencia,Importe,Fecha,Operación\n"
        f"{ref1},8420.00,{today},BNK-1\n"
        f"{ref1},8420.00,{today},BNK-1\n"
        f"{payment_reference('VECS-2026-999999')},8420.00,{today},BNK-2\n"
        f"{ref2},842.00,{today},BNK-3\n"
        f"{ref3},8420.00,{late},BNK-4\n"
        f"{ref1[:-2]}00,8420.00,{today},BNK-5\n"
    ).encode()
    treasurer = make_user(Role.TREASURY)
    report = import_bank_file(content, treasurer)
    assert [line.outcome for line in report.lines] == [
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.UNKNOWN,
        Outcome.WRONG_AMOUNT,
        Outcome.LATE,
        Outcome.UNKNOWN,  # a typo in the check digits: caught before anything is looked up
    ]
    assert [_state(c.case_id) for c in (first, second, third)] == [
        "licence_review",
        "awaiting_payment",
        "awaiting_payment",
    ]
    # the same file again applies nothing
    again = import_bank_file(content, treasurer)
    assert again.count(Outcome.APPLIED) == 0
    assert again.lines[0].outcome is Outcome.DUPLICATE
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == first.case_id, AuditEntry.action == "confirm_payment")
    ).all()
    assert len(entries) == 1
    assert entries[0].details["source"] == "bank_file"


def test_a_file_without_its_columns_is_refused_with_words(app: Flask, people: People) -> None:
    from app.engine import InvalidData

    with pytest.raises(InvalidData, match="columna"):
        import_bank_file(b"ref,monto\nX,1\n", make_user(Role.TREASURY))
    with pytest.raises(InvalidData, match="UTF-8"):
        import_bank_file(b"\xff\xfe\x00r", make_user(Role.TREASURY))


def test_the_treasury_page_lists_orders_and_confirms_and_imports(
    app: Flask, people: People, client: FlaskClient
) -> None:
    case = awaiting_payment(people)
    second = awaiting_payment(people)
    reference = _order(case.case_id).public_data["fields"]["referencia"]
    reference2 = _order(second.case_id).public_data["fields"]["referencia"]
    treasurer = make_user(Role.TREASURY)
    login(client, treasurer)
    page = client.get("/tesoreria")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert reference in body
    assert case.folio in body

    wrong = client.post(
        "/tesoreria/confirmar",
        data={
            "csrf_token": csrf_from(body),
            "reference": reference,
            "amount": "1.00",
            "paid_on": local_today().isoformat(),
            "operation": "CAJA-1",
        },
    )
    assert wrong.status_code == 422, wrong.get_data(as_text=True)[-3000:]
    assert "Importe distinto" in wrong.get_data(as_text=True)
    assert _state(case.case_id) == "awaiting_payment"

    body = client.get("/tesoreria").get_data(as_text=True)
    done = client.post(
        "/tesoreria/confirmar",
        data={
            "csrf_token": csrf_from(body),
            "reference": reference,
            "amount": "8420.00",
            "paid_on": local_today().isoformat(),
            "operation": "CAJA-1",
        },
    )
    assert done.status_code == 302
    assert _state(case.case_id) == "licence_review"

    body = client.get("/tesoreria").get_data(as_text=True)
    csv_file = f"referencia,importe,fecha,operacion\n{reference2},8420.00,{local_today().isoformat()},BNK-9\n"
    imported = client.post(
        "/tesoreria/importar",
        data={"csrf_token": csrf_from(body), "file": (io.BytesIO(csv_file.encode()), "conciliacion.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200
    assert "Aplicado" in imported.get_data(as_text=True)
    assert "Pagos aplicados: 1; renglones reportados sin aplicar: 0." in imported.get_data(as_text=True)
    assert _state(second.case_id) == "licence_review"

    applicant = client.application.test_client()
    login(applicant, people.owner)
    refused = applicant.get("/tesoreria")
    assert refused.status_code == 403
    assert "Tesorería" in refused.get_data(as_text=True)


def test_the_treasury_page_lists_its_orders_a_page_at_a_time(
    app: Flask, people: People, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.web.treasury.views.TREASURY_PAGE", 2)
    folios = [awaiting_payment(people).folio for _ in range(3)]
    login(client, make_user(Role.TREASURY))
    seen: list[str] = []
    pages: list[str] = []
    following: str | None = "/tesoreria"
    while following is not None and len(pages) < 5:
        response = client.get(following)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        pages.append(body)
        seen += [folio for folio in folios if f"<td>{folio}</td>" in body]
        found = re.search(r'<a rel="next" href="([^"]+)"', body)
        following = None if found is None else found[1].replace("&amp;", "&")
    assert seen == folios  # issued the same day: by folio, each once
    assert len(pages) == 2
    assert "Primera página" in pages[1]
    assert "Confirmar un pago recibido en caja" in pages[1]  # the cashier's form on every page
    hostile = client.get("/tesoreria", query_string={"tras": "2026-02-30_1"})
    assert hostile.status_code == 200
    assert "Primera página" not in hostile.get_data(as_text=True)
    assert 'rel="next"' in hostile.get_data(as_text=True)
    beyond = client.get("/tesoreria", query_string={"tras": "9999-12-31_2147483647"})
    assert beyond.status_code == 200
    assert "No hay más órdenes de pago pendientes." in beyond.get_data(as_text=True)
    set_language(client, "en", "/tesoreria")
    english = client.get("/tesoreria", query_string={"tras": "9999-12-31_2147483647"}).get_data(as_text=True)
    assert "There are no more pending payment orders." in english
    assert "First page" in english


def test_the_command_line_confirms_and_imports(app: Flask, people: People, tmp_path: Path) -> None:
    case = awaiting_payment(people)
    second = awaiting_payment(people)
    reference = _order(case.case_id).public_data["fields"]["referencia"]
    reference2 = _order(second.case_id).public_data["fields"]["referencia"]
    treasurer = make_user(Role.TREASURY)
    runner = app.test_cli_runner()
    today = local_today().isoformat()
    refused = runner.invoke(
        args=["payments", "confirm", reference, "1.00", today, "CLI-1", "--as", email_of(treasurer)]
    )
    assert refused.exit_code == 1
    assert "wrong_amount" in refused.output
    done = runner.invoke(
        args=["payments", "confirm", reference, "8420.00", today, "CLI-1", "--as", email_of(treasurer)]
    )
    assert done.exit_code == 0, done.output
    assert "applied" in done.output
    assert _state(case.case_id) == "licence_review"
    not_treasury = runner.invoke(
        args=["payments", "confirm", reference, "8420", today, "X", "--as", email_of(people.owner)]
    )
    assert not_treasury.exit_code != 0
    path = tmp_path / "banco.csv"
    path.write_text(
        f"reference,amount,date,operation\n{reference2},8420.00,{today},B-1\n{reference},8420.00,{today},B-2\n"
    )
    imported = runner.invoke(args=["payments", "import", str(path), "--as", email_of(treasurer)])
    assert imported.exit_code == 0, imported.output
    assert "applied: 1; reported: 1" in imported.output
    assert _state(second.case_id) == "licence_review"


def test_the_treasury_s_list_pages_give_every_unpaid_order_soonest_due_first(app: Flask, people: People) -> None:
    """The database finds, sorts and pages the unpaid orders: the pages, each after the last, give the whole list
    in its order (the last day to pay, then the folio), once; a paid order leaves it."""
    cases = []
    for day in (date(2026, 3, 10), date(2026, 3, 3), date(2026, 3, 10), date(2026, 3, 3), date(2026, 3, 5)):
        with time_machine.travel(datetime.combine(day, time(17), tzinfo=UTC), tick=False):
            cases.append(awaiting_payment(people))
    treasurer = make_user(Role.TREASURY)
    today = date(2026, 3, 12)
    whole = pending_orders_page(treasurer, today, limit=100)
    assert whole.following is None
    assert sorted(o.case_id for o in whole.orders) == sorted(c.case_id for c in cases)
    keys = [(o.due_on or date.max, o.folio) for o in whole.orders]
    assert keys == sorted(keys)
    assert len({o.due_on for o in whole.orders}) == 3  # orders issued on three days: three last days to pay
    pages = [o.case_id for o in walked(lambda after: pending_orders_page(treasurer, today, after=after, limit=2), 2)]
    assert pages == [o.case_id for o in whole.orders]
    assert [o.case_id for o in pending_orders(treasurer, today)] == pages

    first = whole.orders[0]
    with time_machine.travel(datetime.combine(date(2026, 3, 5), time(17), tzinfo=UTC), tick=False):
        paid = confirm_payment(first.reference, first.amount, date(2026, 3, 5), "CAJA-7", treasurer)
    assert paid.applied, paid
    assert [o.case_id for o in pending_orders(treasurer, today)] == pages[1:]


def test_pending_orders_are_for_the_treasury(app: Flask, people: People) -> None:
    awaiting_payment(people)
    with pytest.raises(NotAllowed):
        pending_orders(people.owner)
    orders = pending_orders(make_user(Role.TREASURY), today=date(2000, 1, 1))
    assert len(orders) == 1
    assert not orders[0].overdue


def test_the_applicants_case_page_says_how_to_pay_and_then_that_it_was_paid(
    app: Flask, client: FlaskClient, people: People
) -> None:
    """The page said who acts next ("pays the payment order") but not what to pay, with which reference or by
    when (only the order's PDF did), and kept "Derechos a pagar" after the treasury confirmed the payment."""
    case = awaiting_payment(people)
    order = _order(case.case_id)
    fields = order.public_data["fields"]
    login(client, people.owner)
    page = client.get(f"/expedientes/{case.case_id}").get_data(as_text=True)
    assert 'id="pago"' in page
    assert f"con la línea de captura {fields['referencia']}" in page
    assert "Pague $8,420.00" in page
    assert "Derechos a pagar" in page
    treasurer = make_user(Role.TREASURY)
    paid = confirm_payment(fields["referencia"], "8420.00", local_today(), "OP-55", treasurer)
    assert paid.outcome is Outcome.APPLIED, paid.detail
    page = client.get(f"/expedientes/{case.case_id}").get_data(as_text=True)
    assert "Derechos pagados" in page
    assert "Derechos a pagar" not in page
    assert "La tesorería confirmó el pago de $8,420.00" in page
    assert "operación OP-55" in page
