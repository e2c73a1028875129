"""The acts of an access request as the requester and the public see them, on SQLite and PostgreSQL: the
committee's resolutions are separate acts (a later one never makes an earlier one "sustituido")."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import time_machine
from flask import Flask, current_app
from sqlalchemy import select

from app.calendar import local_today
from app.certificates.formatting import long_date
from app.extensions import db
from app.models import Certificate, CertificateStatus, Role
from app.procedures.access_request import services as ar
from app.services.certificates import verify_certificate
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.payments import confirm_payment
from tests.support.access_requests import close_instruction
from tests.support.clock import noon
from tests.support.factories import case_version, make_user, quorum


def _decide_last_item(case_id: int, decision: str, text: str, committee: int) -> None:
    db.session.rollback()
    item = db.session.scalars(
        select(ar.CommitteeItem).where(ar.CommitteeItem.case_id == case_id).order_by(ar.CommitteeItem.id.desc())
    ).first()
    assert item is not None
    ar.decide_item(item.id, decision, text, committee, votes=quorum(committee))


def test_the_classification_resolution_does_not_supersede_the_extension_resolution(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    committee = make_user(Role.COMMITTEE_MEMBER)
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    session_id = ar.open_session("CT-01", date(2026, 11, 20), committee)
    ar.request_extension(filed.case_id, session_id, "Volumen", unit, expected_version=case_version(filed.case_id))
    _decide_last_item(filed.case_id, "approve", "Se aprueba la ampliación", committee)
    answer = ar.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP")
    ar.answer_turn(filed.case_id, "obras", answer, obras, expected_version=case_version(filed.case_id))
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
    ar.submit_to_committee(filed.case_id, session_id, unit, expected_version=case_version(filed.case_id))
    _decide_last_item(filed.case_id, "confirm", "Se confirma la confidencialidad", committee)
    db.session.rollback()
    resolutions = db.session.scalars(
        select(Certificate)
        .where(Certificate.case_id == filed.case_id, Certificate.kind == "committee_resolution")
        .order_by(Certificate.id)
    ).all()
    assert len(resolutions) == 2
    assert [c.status for c in resolutions] == [CertificateStatus.VALID, CertificateStatus.VALID]
    for certificate in resolutions:
        verification = verify_certificate(filed.folio, certificate.verification_code)
        assert verification is not None
        assert verification.status == CertificateStatus.VALID
        assert verification.superseded_by is None
    client = current_app.test_client()
    page = client.get(f"/verificar/{filed.folio}?c={resolutions[0].verification_code}")
    assert page.status_code == 200
    assert "sustituido" not in page.get_data(as_text=True).lower()


def _confirm(mailbox: Any, address: str = "lector@example.test") -> None:
    """The requester proves the address with the link of the confirmation mail (only then is anything else
    mailed to it)."""
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    links = [found.group(1) for body in bodies if (found := re.search(r"/confirmar-correo/([A-Za-z0-9_-]+)", body))]
    assert links, "no confirmation link was mailed"
    confirm(links[-1])


def test_the_prevencion_reaches_the_requester_with_its_text_basis_and_term(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    with time_machine.travel(noon(date(2025, 6, 2)), tick=False):  # Monday
        filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
        _confirm(mailbox)
    text = "Indique el periodo y el mercado de los contratos que solicita"
    with time_machine.travel(noon(date(2025, 6, 9)), tick=False):  # Monday: notified today
        ar.unit_act(filed.case_id, "prevent", unit, expected_version=case_version(filed.case_id), comment=text)
        # 10 business days from Tuesday 10 June: 10–13, 16–20 and 23 June 2025
        act = ar.requester_view(filed.token).pending_act
        assert act is not None
        assert act.text == text
        assert act.due_on == date(2025, 6, 23)
        assert "Artículo 128" in act.legal_basis
        assert "2015" in act.legal_basis
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert text in page
        assert "Artículo 128" in page
        assert "23 de junio de 2025" in page
        deliver_pending()
    to_requester = [m for m in mailbox.messages if m["To"] == "lector@example.test"]
    assert len(to_requester) == 3  # the confirmation link, the receipt and the prevención
    body = to_requester[-1].get_content()
    assert text in body
    assert "Artículo 128 de la Ley General de Transparencia" in body
    assert "23 de junio de 2025" in body
    assert filed.token not in body  # the secret link goes out once, in the receipt
    assert "/transparencia/consulta" in body
    # once answered, nothing is pending on the requester
    with time_machine.travel(noon(date(2025, 6, 12)), tick=False):
        ar.requester_act(
            filed.token,
            "answer_prevention",
            expected_version=case_version(filed.case_id),
            data={"clarification": "x"},
        )
        assert ar.requester_view(filed.token).pending_act is None


def test_incompetence_tells_the_requester_its_reasons_the_competent_body_and_the_appeal_term(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    with time_machine.travel(noon(date(2025, 6, 2)), tick=False):
        filed = ar.file_request("Lector", "lector@example.test", "Calificaciones escolares", "electronic")
        _confirm(mailbox)
    reasons = "La información sobre calificaciones la genera la autoridad educativa estatal, no el municipio"
    with time_machine.travel(noon(date(2025, 6, 3)), tick=False):  # Tuesday
        ar.unit_act(
            filed.case_id,
            "declare_incompetent",
            unit,
            expected_version=case_version(filed.case_id),
            data={"competent_body": "Secretaría de Educación del Estado"},
            comment=reasons,
        )
        act = ar.requester_view(filed.token).pending_act
        assert act is not None
        assert (act.kind, act.text, act.competent_body) == (
            "incompetence",
            reasons,
            "Secretaría de Educación del Estado",
        )
        assert "Artículo 136" in act.legal_basis
        # 15 business days from Wednesday 4 June: 4–6, 9–13, 16–20, 23 and 24 June 2025
        status = ar.public_status(filed.folio)
        assert status is not None
        assert status.appeal_due_on == date(2025, 6, 24)
        client = current_app.test_client()
        page = client.get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert reasons in page
        assert "Artículo 136" in page
        assert "24 de junio de 2025" in page
        lookup = client.get(f"/transparencia/consulta?folio={filed.folio}").get_data(as_text=True)
        assert "24 de junio de 2025" in lookup
        assert reasons not in lookup  # the public lookup shows dates, not the request's contents
        deliver_pending()
    body = [m for m in mailbox.messages if m["To"] == "lector@example.test"][-1].get_content()
    assert reasons in body
    assert "Secretaría de Educación del Estado" in body
    assert "Artículo 136 de la Ley General de Transparencia" in body
    assert "Plazo para interponer el recurso de revisión: a más tardar el 24 de junio de 2025" in body


def test_appeal_resolution_and_compliance_terms_are_shown(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    guarantor = make_user(Role.GUARANTOR)
    with time_machine.travel(noon(date(2025, 7, 7)), tick=False):
        filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
        _confirm(mailbox)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
        ar.answer_turn(
            filed.case_id,
            "obras",
            ar.AreaAnswer("available"),
            obras,
            expected_version=case_version(filed.case_id),
        )
        ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
        ar.deliver_response(filed.case_id, "Se entrega", unit, expected_version=case_version(filed.case_id))
        # 15 business days from Wednesday 9 July: 9–11, 14–18, 21–25, 28 and 29 July 2025
        assert ar.requester_view(filed.token).status.appeal_due_on == date(2025, 7, 29)
        page = current_app.test_client().get(f"/transparencia/consulta?folio={filed.folio}").get_data(as_text=True)
        assert "29 de julio de 2025" in page
        deliver_pending()
    response_mail = [m for m in mailbox.messages if m["To"] == "lector@example.test"][-1].get_content()
    assert "Se entrega" in response_mail
    assert "Artículos 142 y 143 de la Ley General de Transparencia" in response_mail
    assert "Plazo para interponer el recurso de revisión: a más tardar el 29 de julio de 2025" in response_mail
    with time_machine.travel(noon(date(2025, 7, 10)), tick=False):
        ar.requester_act(
            filed.token,
            "appeal",
            expected_version=case_version(filed.case_id),
            data={"appeal_grounds": ["incomplete"], "appeal_statement": "Faltan anexos"},
        )
        # filed, not yet admitted: the term to resolve does not run (LGTAIP 2015 art. 146: from the admission)
        status = ar.staff_view(filed.case_id, guarantor).status
        assert status.resolution_due_on is None
        assert status.appeal_due_on is None
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        # admitted on Thursday 10 July: 40 business days from Friday 11 July 2025 (no holiday until 16 September)
        assert ar.staff_view(filed.case_id, guarantor).status.resolution_due_on == date(2025, 9, 4)
    with time_machine.travel(noon(date(2025, 7, 14)), tick=False):
        close_instruction(filed, unit, guarantor)
        # the term to resolve kept running from the admission through the instruction (art. 146)
        assert ar.staff_view(filed.case_id, guarantor).status.resolution_due_on == date(2025, 9, 4)
        ar.guarantor_act(
            filed.case_id,
            "resolve_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            data={"appeal_decision": "modify", "appeal_resolution": "Entregue los anexos"},
        )
        # 10 business days from Tuesday 15 July: 15–18, 21–25 and 28 July 2025 (LGTAIP 2015 art. 196)
        status = ar.requester_view(filed.token).status
        assert status.compliance_due_on == date(2025, 7, 28)
        assert status.resolution_due_on is None
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert "28 de julio de 2025" in page
    with time_machine.travel(noon(date(2025, 7, 21)), tick=False):
        ar.unit_act(
            filed.case_id,
            "report_compliance",
            unit,
            expected_version=case_version(filed.case_id),
            data={"compliance_report": "Se entregaron los anexos el 18 de julio"},
        )
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert "Se entregaron los anexos el 18 de julio" in page


def test_the_requester_sees_the_payment_the_treasury_confirmed(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    filed = ar.file_request("Lector", "lector@example.test", "Contratos", "simple_copies")
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    ar.answer_turn(
        filed.case_id, "obras", ar.AreaAnswer("available"), obras, expected_version=case_version(filed.case_id)
    )
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
    ar.deliver_response(
        filed.case_id,
        "Copias listas",
        unit,
        expected_version=case_version(filed.case_id),
        costs=ar.Costs(page_count=30),
    )
    notice = ar.requester_view(filed.token).payment
    assert notice is not None
    paid_on = local_today()
    paid = confirm_payment(notice.reference, "10.00", paid_on, "OP-2026-0042", make_user(Role.TREASURY))
    assert paid.applied, paid.detail
    page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert notice.reference in page
    assert "OP-2026-0042" in page
    # the day paid, written as every other date of the page (it printed the stored ISO form, 2026-03-02)
    assert ar.requester_view(filed.token).paid_on == paid_on
    assert long_date(paid_on) in page
    assert paid_on.isoformat() not in page
