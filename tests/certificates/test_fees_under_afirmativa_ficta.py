"""Fees under afirmativa ficta: when the legal term lapses while the order is unpaid and the jurisdiction's
silence rule grants the request, the licence is issued all the same, but the fees stay owed: the licence prints
them as pending with their order's reference, prints no payment it does not have, and the treasury can still
confirm the order afterwards (logged; the case stays where it is).

The dates are counted by hand from the 2026 calendar (holiday: 2 February), the clock frozen at Mexico City noon.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path

import time_machine
from flask import Flask
from sqlalchemy import select

from app.calendar import LOCAL_TZ
from app.extensions import db
from app.models import AuditEntry, Case, Certificate, Role
from app.services.cases import FireResult
from app.services.certificates import certificate_file
from app.services.config import update_config
from app.services.payments import Outcome, confirm_payment, pending_orders
from app.services.timers import fire_due_timers
from tests.certificates.conftest import People, pdf_text, squeeze
from tests.support.factories import advance, make_user, stored_case, vecs_case

FEES = [
    {"concept": "Licencia de construcción", "amount": "7569.00"},
    {"concept": "Alineamiento y número oficial", "amount": "851.00"},
]


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(datetime.combine(day, time(12, 0), tzinfo=LOCAL_TZ).astimezone(UTC), tick=False):
        yield


def _certificate(case_id: int, kind: str) -> Certificate:
    db.session.rollback()
    return db.session.scalars(
        select(Certificate).where(Certificate.case_id == case_id, Certificate.kind == kind).order_by(Certificate.id)
    ).all()[-1]


def _granted_unpaid(people: People) -> FireResult:
    """Filed Wednesday 4 February 2026 under a law whose term keeps running while the applicant holds the case:
    5 6 | 9 10 11 12 13 | 16 17 18 → last day Wednesday 18 February; fees assessed on Monday 9 February and
    never paid; the system grants it by afirmativa ficta on Thursday 19 February."""
    admin = make_user(Role.ADMIN)
    with _on(date(2026, 2, 3)):
        update_config("vecs", {"resolution_interruption": "run", "resolution_silence": "grant_ficta"}, admin)
    with _on(date(2026, 2, 4)):
        case = advance(vecs_case(people.owner), [("submit", people.owner, None, None)])
    with _on(date(2026, 2, 9)):
        case = advance(
            case,
            [
                ("start_intake", people.clerk, None, None),
                ("accept_intake", people.clerk, None, None),
                ("rule_land_use", people.land_use_reviewer, {"land_use_ruling": "Compatible con H3-C"}, None),
                ("assess_fees", people.land_use_reviewer, {"fees": FEES}, None),
            ],
        )
    assert case.to_state == "awaiting_payment"
    with _on(date(2026, 2, 18)):
        fire_due_timers()
    assert stored_case(case.case_id).state == "awaiting_payment"
    with _on(date(2026, 2, 19)):
        assert fire_due_timers().fired >= 1
    stored = stored_case(case.case_id)
    assert stored.state == "granted_ficta"
    assert stored.data["resolution_lapsed_on"] == "2026-02-18"
    with _on(date(2026, 2, 20)):
        return advance(
            FireResult(case.case_id, case.folio, "grant_ficta", None, stored.state, stored.version, 0),
            [("approve_licence", people.approver, {"licence_number": "LC-2026-0077"}, None)],
        )


def test_the_licence_granted_by_silence_prints_its_fees_as_owed_with_the_order(
    app: Flask, people: People, tmp_path: Path
) -> None:
    case = _granted_unpaid(people)
    assert case.to_state == "licensed"
    reference = _certificate(case.case_id, "payment_order").public_data["fields"]["referencia"]
    licence = _certificate(case.case_id, "licence")
    fields = licence.public_data["fields"]
    assert fields["derechos_pagados"] == "8420.00"
    assert fields["situacion_derechos"].startswith("Pendientes de pago")
    assert reference in fields["situacion_derechos"]
    assert fields["referencia_pago"] == reference
    assert fields["operacion_pago"] == ""
    assert fields["fecha_pago"] == ""
    cadena = licence.cadena_original
    assert f"|8420.00|{fields['situacion_derechos']}|{reference}|||" in cadena
    text = squeeze(pdf_text(certificate_file(case.case_id, licence.id, people.owner).content, tmp_path))
    assert "DERECHOSPENDIENTESDEPAGO" in text  # headings print in capitals
    assert "DERECHOSPAGADOS" not in text.upper()
    assert "Operaciónconfirmada(Tesorería)" in text  # the row is printed, empty
    assert "SPEI" not in text
    assert "afirmativaficta" in text
    assert reference in text


def test_the_treasury_confirms_the_owed_order_later_and_it_is_logged(app: Flask, people: People) -> None:
    case = _granted_unpaid(people)
    order = _certificate(case.case_id, "payment_order")
    reference = order.public_data["fields"]["referencia"]
    assert order.valid_until is not None
    assert order.valid_until < date(2026, 3, 9)
    treasurer = make_user(Role.TREASURY)
    with _on(date(2026, 3, 9)):  # after the order's due date: under afirmativa ficta it stays payable
        listed = [o for o in pending_orders(treasurer) if o.case_id == case.case_id]
        assert [(o.reference, o.granted_by_silence, o.overdue) for o in listed] == [(reference, True, False)]
        wrong = confirm_payment(reference, "8000.00", date(2026, 3, 9), "SPEI-2026-0300", treasurer)
        assert wrong.outcome is Outcome.WRONG_AMOUNT
        paid = confirm_payment(reference, "8420.00", date(2026, 3, 9), "SPEI-2026-0300", treasurer)
        assert paid.outcome is Outcome.APPLIED, paid
        again = confirm_payment(reference, "8420.00", date(2026, 3, 9), "SPEI-2026-0301", treasurer)
        assert again.outcome is Outcome.DUPLICATE
        assert not [o for o in pending_orders(treasurer) if o.case_id == case.case_id]
    stored = stored_case(case.case_id)
    assert stored.state == "licensed"
    assert stored.data["payment_operation"] == "SPEI-2026-0300"
    assert stored.data["payment_paid_on"] == "2026-03-09"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case.case_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    assert entry.action == "confirm_payment_after_ficta"
    assert entry.actor_id == treasurer


def test_a_paid_licence_still_prints_the_confirmed_payment(app: Flask, people: People) -> None:
    from tests.certificates.conftest import licensed

    case = licensed(people)
    fields = _certificate(case.case_id, "licence").public_data["fields"]
    assert fields["situacion_derechos"] == "Pagados; pago confirmado por la Tesorería"
    assert fields["operacion_pago"] == "SPEI-2026-0001"
    assert fields["fecha_pago"]


def test_the_treasury_list_reads_no_licensed_work_that_paid(app: Flask, people: People) -> None:
    """Licensed works rest in a state from which the treasury may still confirm a fee owed after afirmativa
    ficta, for years: the list of pending orders reads, among them, only those whose data record no payment
    (issue 16: pages flat as the data grow), and the current orders in one statement of the list's columns."""
    from sqlalchemy import event

    case = _granted_unpaid(people)
    stored = stored_case(case.case_id)
    assert stored.payment_owed  # kept by the transition that licensed it without its fees paid
    paid = {**stored.data, "payment_operation": "SPEI-2025-0001", "payment_paid_on": "2025-06-02"}
    db.session.add_all(
        Case(
            folio=f"VECS-2025-{n:06d}",
            workflow="vecs",
            workflow_version=stored.workflow_version,
            state="licensed",
            applicant_id=stored.applicant_id,
            data=paid,
            params=stored.params,
        )
        for n in range(40)
    )
    db.session.commit()
    treasurer = make_user(Role.TREASURY)
    db.session.remove()
    loaded: list[int] = []
    sent: list[tuple[str, object]] = []

    def on_load(target: Case, _context: object) -> None:
        loaded.append(target.id)

    def on_statement(*args: object) -> None:
        sent.append((str(args[2]), args[3]))

    event.listen(Case, "load", on_load)
    event.listen(db.engine, "before_cursor_execute", on_statement)
    try:
        with _on(date(2026, 3, 9)):
            listed = pending_orders(treasurer)
    finally:
        event.remove(Case, "load", on_load)
        event.remove(db.engine, "before_cursor_execute", on_statement)
    assert [(o.case_id, o.granted_by_silence) for o in listed] == [(case.case_id, True)]
    assert loaded == []  # no case is loaded whole: the database chose the unpaid ones and sent their columns
    (orders,) = [(sql, params) for sql, params in sent if re.search(r"\b(FROM|JOIN) certificates\b", sql)]
    # the list's columns of the orders, not their seals, chains and signing certificates; the database joins each
    # case to its current order: no list of the cases is sent, however many owe
    assert not re.search(r"sello|cadena_original|signing_certificate", orders[0]), orders[0]
    values = orders[1].values() if isinstance(orders[1], dict) else orders[1]
    assert not [value for value in values if isinstance(value, list | tuple)], orders
    (chosen,) = [(sql, params) for sql, params in sent if "FROM cases" in sql and "payment_owed" in sql]
    if db.engine.dialect.name == "sqlite":  # the licensed works that paid are not read: the partial index holds one
        with db.engine.connect() as conn:
            plan = " ".join(str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {chosen[0]}", chosen[1]))
        assert "ix_cases_payment_owed" in plan, plan
    reference = _certificate(case.case_id, "payment_order").public_data["fields"]["referencia"]
    with _on(date(2026, 3, 9)):
        paid_late = confirm_payment(reference, "8420.00", date(2026, 3, 9), "SPEI-2026-0300", treasurer)
    assert paid_late.outcome is Outcome.APPLIED
    assert not stored_case(case.case_id).payment_owed  # the confirmation's transition cleared it
