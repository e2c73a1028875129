"""Acts that ask something of someone carry their text, legal basis and term as a date, read from the real
SMTP server of the suite, on SQLite and PostgreSQL: the payment of reproduction costs (LGTAIP 2015 arts. 134
and 141) and the guarantor's term to resolve an appeal (art. 146). Dated against hand-counted calendars."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

import time_machine
from flask import Flask, current_app

from app.calendar import LOCAL_TZ
from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as ar
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.payments import confirm_payment
from tests.support.factories import email_of, make_user


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=LOCAL_TZ).astimezone(UTC)


def _version(case_id: int) -> int:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case.version


def _confirm(mailbox: Any, address: str = "lector@example.test") -> None:
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    links = [found.group(1) for body in bodies if (found := re.search(r"/confirmar-correo/([A-Za-z0-9_-]+)", body))]
    assert links, "no confirmation link was mailed"
    confirm(links[-1])


def test_the_payment_and_the_guarantors_term_are_told_with_dates(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    guarantor = make_user(Role.GUARANTOR)
    with time_machine.travel(_noon(date(2025, 7, 7)), tick=False):
        filed = ar.file_request("Lector", "lector@example.test", "Planos impresos", "simple_copies")
        _confirm(mailbox)
    with time_machine.travel(_noon(date(2025, 7, 8)), tick=False):  # Tuesday
        ar.turn_request(filed.case_id, ["obras"], unit, expected_version=_version(filed.case_id))
        ar.answer_turn(
            filed.case_id, "obras", ar.AreaAnswer("available"), obras, expected_version=_version(filed.case_id)
        )
        ar.unit_act(filed.case_id, "consolidate", unit, expected_version=_version(filed.case_id))
        ar.deliver_response(
            filed.case_id,
            "Copias listas",
            unit,
            expected_version=_version(filed.case_id),
            costs=ar.Costs(page_count=70),
        )
        # 30 business days from Wednesday 9 July 2025: 9–11 July (3), 14 July–15 August (25), 18 and 19 August
        view = ar.requester_view(filed.token)
        assert view.payment is not None
        assert view.payment.due_on == date(2025, 8, 19)
        assert "Artículos 134 y 141" in view.payment.legal_basis
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert "$50.00 MXN" in page
        assert "19 de agosto de 2025" in page
        deliver_pending()
    body = [m for m in mailbox.messages if m["To"] == "lector@example.test"][-1].get_content()
    assert "Costos de reproducción y envío: $50.00 MXN" in body
    assert "Plazo para pagar: a más tardar el 19 de agosto de 2025" in body
    assert "Artículos 134 y 141 de la Ley General de Transparencia" in body
    with time_machine.travel(_noon(date(2025, 7, 10)), tick=False):
        assert view.payment.reference
        paid = confirm_payment(view.payment.reference, "50.00", date(2025, 7, 10), "OP-77", make_user(Role.TREASURY))
        assert paid.applied, paid.detail
        assert ar.requester_view(filed.token).payment is None  # paid: nothing more is asked
        ar.requester_act(
            filed.token,
            "appeal",
            expected_version=_version(filed.case_id),
            data={"appeal_grounds": ["costs"]},
        )
        deliver_pending()
    # 40 business days from Friday 11 July 2025 (no holiday until 16 September): 4 September 2025
    to_guarantor = [m for m in mailbox.messages if m["To"] == email_of(guarantor)]
    assert len(to_guarantor) == 1
    notice = to_guarantor[0].get_content()
    assert filed.folio in notice
    assert "Plazo para resolver el recurso de revisión: a más tardar el 4 de septiembre de 2025" in notice
    assert "Artículo 146 de la Ley General de Transparencia" in notice
