"""Reproduction costs of an access request through the services, on SQLite and PostgreSQL: the cost sheet and
the payment order issued with the response, the treasury's confirmation (cashier and bank file) before the
information is delivered, the answer mail read from the suite's SMTP server, the tracking page (the sheet, the
order downloaded as an attachment) and the appointment of a consulta directa (LGTAIP 2015 arts. 133, 134 and
141). Dated against hand-counted calendars."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

import pytest
import time_machine
from flask import Flask, current_app
from sqlalchemy import select

from app.engine import InvalidData
from app.extensions import db
from app.models import Case, Certificate, Role
from app.procedures.access_request import services as ar
from app.services.delivery import deliver_pending
from app.services.payments import Outcome, confirm_payment, import_bank_file, pending_orders
from app.services.timers import fire_due_timers
from tests.support.access_requests import ADDRESS, consolidated, deliver
from tests.support.clock import noon
from tests.support.factories import case_version, email_of, make_user, stored_case
from workflows import access_request as wf
from workflows.payments import folio_of, valid_reference


def _order(case_id: int) -> Certificate:
    db.session.rollback()
    orders = db.session.scalars(
        select(Certificate).where(Certificate.case_id == case_id, Certificate.kind == wf.PAYMENT_ORDER)
    ).all()
    assert len(orders) == 1
    return orders[0]


def _answered(fmt: str, costs: ar.Costs, mailbox: Any = None) -> tuple[ar.Filed, int]:
    """A request in ``fmt`` answered with ``costs`` (its area's one document delivered): (filed, document)."""
    filed, unit, document = consolidated(fmt, mailbox)
    deliver(filed, unit, document, costs)
    return filed, document


def test_the_order_is_issued_with_the_response_and_the_treasury_confirms_it(app: Flask):
    treasurer = make_user(Role.TREASURY)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):  # Tuesday
        filed, document = _answered("simple_copies", ar.Costs(page_count=25))
        case = db.session.get(Case, filed.case_id)
        assert case is not None
        assert case.data["reproduction_cost"] == "5.00"  # 25 pages, 20 free, 1.00 a page
        assert [r["quantity"] for r in case.data["cost_sheet"]] == ["20", "5"]
        order = _order(filed.case_id)
        fields = order.public_data["fields"]
        reference = fields["referencia"]
        assert valid_reference(reference)
        assert folio_of(reference) == filed.folio
        assert fields["importe_total"] == "5.00"
        # 30 business days from Wednesday 9 July 2025: 9–11 July (3), 14 July–15 August (25), 18 and 19 August
        assert order.valid_until == date(2025, 8, 19)
        pending = pending_orders(treasurer)
        assert [(o.folio, o.reference, o.amount, o.due_on) for o in pending] == [
            (filed.folio, reference, "5.00", date(2025, 8, 19))
        ]
        view = ar.requester_view(filed.token)
        assert view.public_documents == []  # the information waits for the payment (art. 141)
        assert view.payment is not None
        assert view.payment.reference == reference
        assert view.actions == frozenset({"appeal"})  # the requester no longer types a reference
        wrong = confirm_payment(reference, "4.00", date(2025, 7, 10), "OP-1", treasurer)
        assert wrong.outcome is Outcome.WRONG_AMOUNT
        paid = confirm_payment(reference, "5.00", date(2025, 7, 10), "OP-1", treasurer)
        assert paid.applied, paid.detail
        assert pending_orders(treasurer) == []
        view = ar.requester_view(filed.token)
        assert [d.id for d in view.public_documents] == [document]
        assert view.payment is None
        assert view.data["payment_operation"] == "OP-1"
        again = confirm_payment(reference, "5.00", date(2025, 7, 10), "OP-2", treasurer)
        assert again.outcome is Outcome.DUPLICATE


def test_the_bank_file_confirms_an_access_order_and_refuses_a_late_one(app: Flask):
    treasurer = make_user(Role.TREASURY)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, document = _answered("certified_copies", ar.Costs(page_count=2))
        reference = _order(filed.case_id).public_data["fields"]["referencia"]
        late = f"referencia,importe,fecha,operacion\n{reference},40.00,2025-08-20,B-1\n".encode()
        report = import_bank_file(late, treasurer)
        assert [line.outcome for line in report.lines] == [Outcome.LATE]
        ok = f"referencia,importe,fecha,operacion\n{reference},40.00,2025-08-19,B-2\n".encode()
        report = import_bank_file(ok, treasurer)
        assert [line.outcome for line in report.lines] == [Outcome.APPLIED]
        assert [d.id for d in ar.requester_view(filed.token).public_documents] == [document]


def test_nothing_to_pay_issues_no_order_and_a_waiver_keeps_its_reason(app: Flask):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, unit, document = consolidated("certified_copies")
        with pytest.raises(InvalidData):
            ar.deliver_response(
                filed.case_id,
                "Copias",
                unit,
                expected_version=case_version(filed.case_id),
                costs=ar.Costs(page_count=2, waived=True),
            )
        ar.deliver_response(
            filed.case_id,
            "Copias",
            unit,
            expected_version=case_version(filed.case_id),
            document_ids=[document],
            costs=ar.Costs(page_count=2, waived=True, waiver_reason="Persona en situación de calle"),
        )
        case = db.session.get(Case, filed.case_id)
        assert case is not None
        assert case.data["reproduction_cost"] == "0.00"
        assert "Persona en situación de calle" in case.data["cost_sheet"][-1]["concept"]
        assert not db.session.scalars(select(Certificate).where(Certificate.kind == wf.PAYMENT_ORDER)).all()
        assert [d.id for d in ar.requester_view(filed.token).public_documents] == [document]


def test_the_answer_mail_and_the_tracking_page_carry_the_sheet_the_reference_and_the_due_date(app: Flask, mailbox):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, _document = _answered("simple_copies", ar.Costs(page_count=23), mailbox)
        order = _order(filed.case_id)
        reference = order.public_data["fields"]["referencia"]
        deliver_pending()
        body = [m for m in mailbox.messages if m["To"] == ADDRESS][-1].get_content()
        assert reference in body
        assert "19 de agosto de 2025" in body
        assert "Hojas simples sin costo (hasta 20) | 20 | $1.00 | $0.00" in body
        assert "Copia simple (por hoja) | 3 | $1.00 | $3.00" in body
        assert "Total: $3.00 MXN" in body
        assert "Artículos 134 y 141 de la Ley General de Transparencia" in body
        client = current_app.test_client()
        page = client.get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert reference in page
        assert "Copia simple (por hoja)" in page
        assert "19 de agosto de 2025" in page
        link = re.search(rf'href="(/transparencia/seguimiento/[^"]+/resoluciones/{order.id})"', page)
        assert link is not None, "the payment order is not offered for download"
        download = client.get(link.group(1))
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.data.startswith(b"%PDF")
        assert "planos.pdf" not in page  # delivered after the payment


def test_consulta_directa_is_free_and_its_appointment_is_told(app: Flask, mailbox):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, unit, document = consolidated(wf.CONSULTATION, mailbox)
        for day, why in ((date(2025, 7, 7), "ya pasó"), (date(2025, 7, 13), "no es día hábil")):
            with pytest.raises(InvalidData, match=why):
                ar.deliver_response(
                    filed.case_id,
                    "Consulta",
                    unit,
                    expected_version=case_version(filed.case_id),
                    costs=ar.Costs(consultation_at=datetime.combine(day, time(10, 0)), consultation_place="Archivo"),
                )
        with pytest.raises(InvalidData, match="lugar"):
            ar.deliver_response(
                filed.case_id,
                "Consulta",
                unit,
                expected_version=case_version(filed.case_id),
                costs=ar.Costs(consultation_at=datetime.combine(date(2025, 7, 15), time(10, 0))),
            )
        ar.deliver_response(
            filed.case_id,
            "Puede consultar los planos en el archivo",
            unit,
            expected_version=case_version(filed.case_id),
            document_ids=[document],
            costs=ar.Costs(
                page_count=300,
                consultation_at=datetime.combine(date(2025, 7, 15), time(10, 30)),
                consultation_place="Archivo municipal, Av. Juárez 10",
            ),
        )
        case = db.session.get(Case, filed.case_id)
        assert case is not None
        assert case.data["reproduction_cost"] == "0.00"
        view = ar.requester_view(filed.token)
        assert view.consultation is not None
        assert view.consultation.due_on == date(2025, 7, 15)
        assert "Artículo 133" in view.consultation.legal_basis
        assert "10:30" in view.consultation.text
        assert "Archivo municipal, Av. Juárez 10" in view.consultation.text
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert "Archivo municipal, Av. Juárez 10" in page
        assert "15 de julio de 2025" in page
        deliver_pending()
        body = [m for m in mailbox.messages if m["To"] == ADDRESS][-1].get_content()
        assert "Consulta directa: el 15 de julio de 2025 a las 10:30 horas" in body
        assert "Archivo municipal, Av. Juárez 10" in body
        assert "Artículo 133 de la Ley General de Transparencia" in body


def test_the_command_line_lists_and_confirms_an_access_order(app: Flask):
    treasurer = make_user(Role.TREASURY)
    runner = app.test_cli_runner()
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, _document = _answered("usb", ar.Costs(media_count=1))
        reference = _order(filed.case_id).public_data["fields"]["referencia"]
        listed = runner.invoke(args=["payments", "pending", "--as", email_of(treasurer)])
        assert listed.exit_code == 0, listed.output
        assert f"{filed.folio}\t{reference}\t30.00\t2025-08-19" in listed.output
        done = runner.invoke(
            args=["payments", "confirm", reference, "30.00", "2025-07-09", "CLI-9", "--as", email_of(treasurer)]
        )
        assert done.exit_code == 0, done.output
        assert "applied" in done.output
        empty = runner.invoke(args=["payments", "pending", "--as", email_of(treasurer)])
        assert reference not in empty.output


def _state(case_id: int) -> str:
    return stored_case(case_id).state


# The appeal term: 15 business days from Wednesday 9 July 2025: 9–11 July (3), 14–18 (8), 21–25 (13), 28 and
# 29 July (15). The payment term: 30 business days, the order's due date, Tuesday 19 August 2025 (see above).
APPEAL_LAPSED = date(2025, 7, 30)


def test_a_request_with_costs_owed_waits_for_the_payment_after_the_appeal_term(app: Flask):
    """The appeal term (art. 142, 15 days) ends before the payment term (art. 134, up to 30 days): the request
    does not conclude with the payment pending; the treasury still confirms it and the information goes out."""
    treasurer = make_user(Role.TREASURY)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, document = _answered("simple_copies", ar.Costs(page_count=25))
        reference = _order(filed.case_id).public_data["fields"]["referencia"]
    with time_machine.travel(noon(date(2025, 7, 29)), tick=False):
        fire_due_timers()
        assert _state(filed.case_id) == "answered"  # the appeal term's last day
    with time_machine.travel(noon(APPEAL_LAPSED), tick=False):
        fire_due_timers()
        assert _state(filed.case_id) == "awaiting_payment"
        view = ar.requester_view(filed.token)
        assert "appeal" not in view.actions
        assert view.payment is not None
        assert view.payment.due_on == date(2025, 8, 19)
        assert [o.reference for o in pending_orders(treasurer)] == [reference]
    with time_machine.travel(noon(date(2025, 8, 19)), tick=False):
        fire_due_timers()
        assert _state(filed.case_id) == "awaiting_payment"  # the due date itself is still in time
        paid = confirm_payment(reference, "5.00", date(2025, 8, 19), "OP-9", treasurer)
        assert paid.applied, paid.detail
        assert _state(filed.case_id) == "concluded"
        assert [d.id for d in ar.requester_view(filed.token).public_documents] == [document]


def test_an_order_left_unpaid_concludes_the_request_the_day_after_its_due_date(app: Flask):
    treasurer = make_user(Role.TREASURY)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, _document = _answered("simple_copies", ar.Costs(page_count=25))
    with time_machine.travel(noon(APPEAL_LAPSED), tick=False):
        fire_due_timers()
        assert _state(filed.case_id) == "awaiting_payment"
    with time_machine.travel(noon(date(2025, 8, 20)), tick=False):
        fire_due_timers()
        assert _state(filed.case_id) == "concluded"
        assert ar.requester_view(filed.token).public_documents == []
        assert pending_orders(treasurer) == []


def test_a_request_with_nothing_owed_concludes_when_the_appeal_term_lapses(app: Flask):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, document = _answered("simple_copies", ar.Costs(page_count=20))  # within the 20 free pages
    with time_machine.travel(noon(APPEAL_LAPSED), tick=False):
        fire_due_timers()
        assert _state(filed.case_id) == "concluded"
        assert [d.id for d in ar.requester_view(filed.token).public_documents] == [document]
