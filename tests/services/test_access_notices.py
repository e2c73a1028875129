"""Acts that ask something of someone carry their text, legal basis and term as a date, read from the real
SMTP server of the suite, on SQLite and PostgreSQL: the payment of reproduction costs (LGTAIP 2015 arts. 134
and 141) and the guarantor's term to resolve an appeal (art. 146). Dated against hand-counted calendars."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engine import GuardRefused, InvalidData
from app.extensions import db
from app.models import AuditEntry, Role
from app.procedures.access_request import services as ar
from app.services.delivery import deliver_pending
from app.services.payments import confirm_payment
from app.services.timers import fire_due_timers
from tests.support.access_requests import appealed_on, close_instruction, confirm_address, mails_to
from tests.support.clock import noon
from tests.support.factories import case_version, email_of, make_user, stored_case
from tests.web.helpers import csrf_token, hidden_value, login_as, text
from workflows import access_request as ar_wf


def test_the_payment_and_the_guarantors_term_are_told_with_dates(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    guarantor = make_user(Role.GUARANTOR)
    with time_machine.travel(noon(date(2025, 7, 7)), tick=False):
        filed = ar.file_request("Lector", "lector@example.test", "Planos impresos", "simple_copies")
        confirm_address(mailbox)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):  # Tuesday
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
    with time_machine.travel(noon(date(2025, 7, 10)), tick=False):
        assert view.payment.reference
        paid = confirm_payment(view.payment.reference, "50.00", date(2025, 7, 10), "OP-77", make_user(Role.TREASURY))
        assert paid.applied, paid.detail
        assert ar.requester_view(filed.token).payment is None  # paid: nothing more is asked
        ar.requester_act(
            filed.token,
            "appeal",
            expected_version=case_version(filed.case_id),
            data={"appeal_grounds": ["costs"]},
        )
        deliver_pending()
    # the guarantor is told of the appeal to admit: its term to resolve runs from the admission (art. 146)
    to_guarantor = [m for m in mailbox.messages if m["To"] == email_of(guarantor)]
    assert len(to_guarantor) == 1
    notice = to_guarantor[0].get_content()
    assert filed.folio in notice
    assert "Plazo para resolver el recurso de revisión" not in notice
    assert "Artículos 146 y 150, fracción I, de la Ley General de Transparencia" in notice
    with time_machine.travel(noon(date(2025, 7, 14)), tick=False):  # Monday
        before = len(mails_to(mailbox))
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        admitted = mails_to(mailbox)[before:]
    # 40 business days from Tuesday 15 July 2025 (no holiday until 16 September): 8 September 2025
    assert len(admitted) == 1
    assert "Plazo para resolver el recurso de revisión: a más tardar el 8 de septiembre de 2025" in admitted[0]
    assert "Artículo 146 de la Ley General de Transparencia" in admitted[0]


def test_the_appeal_its_resolution_and_the_compliance_follow_up_are_told_with_dates(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    guarantor = make_user(Role.GUARANTOR)
    with time_machine.travel(noon(date(2025, 7, 7)), tick=False):
        filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
        confirm_address(mailbox)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
        ar.answer_turn(
            filed.case_id, "obras", ar.AreaAnswer("available"), obras, expected_version=case_version(filed.case_id)
        )
        ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
        ar.deliver_response(filed.case_id, "Se entrega", unit, expected_version=case_version(filed.case_id))
    with time_machine.travel(noon(date(2025, 7, 10)), tick=False):  # Thursday
        before = len(mails_to(mailbox))
        ar.requester_act(
            filed.token,
            "appeal",
            expected_version=case_version(filed.case_id),
            data={"appeal_grounds": ["incomplete"], "appeal_statement": "Faltan anexos"},
        )
        filed_notice = mails_to(mailbox)[before:]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    # filed: the guarantor decides on its admission, from which the term to resolve runs (arts. 146 and 150)
    assert len(filed_notice) == 1
    assert "Plazo para resolver el recurso de revisión" not in filed_notice[0]
    assert "Artículos 146 y 150, fracción I, de la Ley General de Transparencia" in filed_notice[0]
    assert 'id="recurso"' in page
    assert "decidirá si lo admite" in page
    with time_machine.travel(noon(date(2025, 7, 11)), tick=False):  # Friday
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        admitted = mails_to(mailbox)[before + 1 :]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    # 40 business days from Monday 14 July 2025 (no holiday until 16 September): 5 September 2025 (art. 146)
    assert len(admitted) == 1
    assert "Plazo para resolver el recurso de revisión: a más tardar el 5 de septiembre de 2025" in admitted[0]
    assert "Artículo 146 de la Ley General de Transparencia" in admitted[0]
    assert "Su recurso de revisión fue admitido" in page
    assert "5 de septiembre de 2025" in page

    with time_machine.travel(noon(date(2025, 7, 14)), tick=False):  # Monday
        close_instruction(filed, unit, guarantor)  # version 3: the parties plead, the instruction is closed
        before = len(mails_to(mailbox)) - 2  # the notices below are counted after those three
        ar.guarantor_act(
            filed.case_id,
            "resolve_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            data={"appeal_decision": "modify", "appeal_resolution": "Entregue los anexos del contrato"},
        )
        resolved = mails_to(mailbox)[before + 2 :]
    # 10 business days from Tuesday 15 July: 15–18, 21–25 and 28 July 2025 (LGTAIP 2015 arts. 196–197)
    assert len(resolved) == 1
    assert "Entregue los anexos del contrato" in resolved[0]
    assert "Artículo 146" in resolved[0]
    assert "Artículos 196 y 197 de la Ley General de Transparencia" in resolved[0]
    assert "Plazo del sujeto obligado para cumplir la resolución: a más tardar el 28 de julio de 2025" in resolved[0]

    with time_machine.travel(noon(date(2025, 7, 21)), tick=False):  # Monday
        before = len(mails_to(mailbox))
        ar.unit_act(
            filed.case_id,
            "report_compliance",
            unit,
            expected_version=case_version(filed.case_id),
            data={"compliance_report": "Se entregaron los anexos"},
        )
        view = mails_to(mailbox)[before:]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    # version 4: the appellant is given a view of the report (art. 197), five business days from Tuesday 22 July
    assert len(view) == 1
    assert "Se entregaron los anexos" in view[0]
    assert "exprese las causas específicas" in view[0]
    assert "Artículos 196 y 197 de la Ley General de Transparencia" in view[0]
    assert "Plazo para manifestarse sobre el informe de cumplimiento: a más tardar el 28 de julio de 2025" in view[0]
    assert 'id="cumplimiento"' in page
    assert 'id="form-file_compliance_remarks"' in page
    assert "28 de julio de 2025" in page
    with time_machine.travel(noon(date(2025, 7, 22)), tick=False):  # Tuesday
        with pytest.raises(GuardRefused, match="Aún corre el plazo del recurrente"):
            ar.guarantor_act(
                filed.case_id,
                "reject_compliance",
                guarantor,
                expected_version=case_version(filed.case_id),
                comment="Faltan los anexos del segundo contrato",
            )
        ar.requester_act(
            filed.token,
            ar_wf.COMPLIANCE_REMARKS,
            expected_version=case_version(filed.case_id),
            data={"compliance_remarks": "  Faltan los anexos del segundo contrato  "},
        )
        with pytest.raises(GuardRefused, match="una sola vez"):
            ar.requester_act(
                filed.token,
                ar_wf.COMPLIANCE_REMARKS,
                expected_version=case_version(filed.case_id),
                data={"compliance_remarks": "Otra vez"},
            )
        remarked = mails_to(mailbox)[before + 1 :]
        to_guarantor = [m.get_content() for m in mailbox.messages if m["To"] != "lector@example.test"]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        ar.guarantor_act(
            filed.case_id,
            "reject_compliance",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="Faltan los anexos del segundo contrato",
        )
        rejected = mails_to(mailbox)[before + 2 :]
    assert stored_case(filed.case_id).data["compliance_remarks"] == "Faltan los anexos del segundo contrato"
    assert len(remarked) == 1  # the appellant's own remarks acknowledged
    assert "Faltan los anexos del segundo contrato" in remarked[0]
    assert any("Faltan los anexos del segundo contrato" in body for body in to_guarantor)  # art. 198
    assert 'id="form-file_compliance_remarks"' not in page  # once
    assert 'class="compliance-remarks">Faltan los anexos del segundo contrato<' in page
    # a new term of 10 business days from Wednesday 23 July: 23–25, 28 July–1 August, 4 and 5 August 2025
    assert len(rejected) == 1
    assert "Requerir el cumplimiento" in rejected[0]
    assert "Faltan los anexos del segundo contrato" in rejected[0]
    assert "Artículos 196 y 197 de la Ley General de Transparencia" in rejected[0]
    assert "Plazo del sujeto obligado para cumplir la resolución: a más tardar el 5 de agosto de 2025" in rejected[0]
    page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert "El órgano garante requirió el cumplimiento de la resolución" in page
    assert "Faltan los anexos del segundo contrato" in page
    assert "5 de agosto de 2025" in page

    with time_machine.travel(noon(date(2025, 7, 28)), tick=False):
        before = len(mails_to(mailbox))
        ar.unit_act(
            filed.case_id,
            "report_compliance",
            unit,
            expected_version=case_version(filed.case_id),
            data={"compliance_report": "Se entregaron todos los anexos"},
        )
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    # the new report opens a view of its own (five business days from Tuesday 29 July: 4 August)
    assert 'id="form-file_compliance_remarks"' in page
    assert 'class="compliance-remarks"' not in page  # the earlier report's remarks are not this one's
    with time_machine.travel(noon(date(2025, 8, 5)), tick=False):  # the term ran out without remarks
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert 'id="form-file_compliance_remarks"' not in page
        assert "Venció el 4 de agosto de 2025" in page
        ar.guarantor_act(  # the lapse, not recorded yet by the timers' worker, is recorded first
            filed.case_id,
            "accept_compliance",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="Se entregó lo ordenado",
        )
        told = mails_to(mailbox)[before:]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert len(told) == 2
    assert "Plazo para manifestarse sobre el informe de cumplimiento: a más tardar el 4 de agosto de 2025" in told[0]
    accepted = told[1:]
    assert "Tener por cumplida la resolución" in accepted[0]
    assert "Se entregó lo ordenado" in accepted[0]
    assert "Artículos 196 y 197 de la Ley General de Transparencia" in accepted[0]
    assert "El órgano garante tuvo por cumplida la resolución" in page
    assert "Se entregó lo ordenado" in page
    db.session.rollback()
    history = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.case_id == filed.case_id).order_by(AuditEntry.seq)
    ).all()
    assert list(history[-2:]) == [ar_wf.COMPLIANCE_VIEW_LAPSED, "accept_compliance"]


def test_the_extension_and_the_classification_are_told_with_their_basis_and_the_response_term(app: Flask, mailbox):
    from sqlalchemy import select

    from tests.support.factories import quorum

    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    committee = make_user(Role.COMMITTEE_MEMBER)

    def decide_last(decision: str, text: str) -> None:
        db.session.rollback()
        item = db.session.scalars(
            select(ar.CommitteeItem)
            .where(ar.CommitteeItem.case_id == filed.case_id)
            .order_by(ar.CommitteeItem.id.desc())
        ).first()
        assert item is not None
        ar.decide_item(item.id, decision, text, committee, votes=quorum(committee))

    with time_machine.travel(noon(date(2025, 7, 7)), tick=False):  # Monday
        filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
        confirm_address(mailbox)
        before = len(mails_to(mailbox))
        ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
        session_id = ar.open_session("CT-01", date(2025, 7, 7), committee)
        ar.request_extension(filed.case_id, session_id, "Volumen", unit, expected_version=case_version(filed.case_id))
        decide_last("approve", "Se aprueba la ampliación por el volumen de planos")
        extended = mails_to(mailbox)[before:]
        response_due = ar.requester_view(filed.token).status.response_due_on
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert "Ampliación del plazo de respuesta" in page
    assert "Artículo 132, segundo párrafo" in page
    assert "18 de agosto de 2025" in page
    # 20 business days from Tuesday 8 July end on Monday 4 August 2025; 10 more end on Monday 18 August
    assert response_due == date(2025, 8, 18)
    assert len(extended) == 1
    assert "Aprobar la ampliación del plazo" in extended[0]
    assert "Se aprueba la ampliación por el volumen de planos" in extended[0]
    assert "Artículo 132, segundo párrafo, de la Ley General de Transparencia" in extended[0]
    assert "Plazo de respuesta: a más tardar el 18 de agosto de 2025" in extended[0]

    with time_machine.travel(noon(date(2025, 7, 9)), tick=False):
        answer = ar.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP")
        ar.answer_turn(filed.case_id, "obras", answer, obras, expected_version=case_version(filed.case_id))
        ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
        ar.submit_to_committee(filed.case_id, session_id, unit, expected_version=case_version(filed.case_id))
        decide_last("confirm", "Se confirma la confidencialidad de los datos personales")
        classified = mails_to(mailbox)[before + 1 :]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert len(classified) == 1
    assert "Se confirma la confidencialidad de los datos personales" in classified[0]
    assert "Artículos 44, fracción II, y 137 de la Ley General de Transparencia" in classified[0]
    assert "Plazo de respuesta: a más tardar el 18 de agosto de 2025" in classified[0]
    assert "Se confirma la confidencialidad de los datos personales" in page
    assert "Artículos 44, fracción II, y 137" in page


def test_an_improper_appeal_is_dismissed_with_its_reasons_and_no_term_ever_runs(app: Flask, mailbox):
    """LGTAIP 2015 art. 155: the guarantor dismisses an improper appeal (filed out of term, say); the requester is
    told why and on which basis, and the request concludes without a term to resolve it ever running."""
    filed, _, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    before = len(mails_to(mailbox))
    with time_machine.travel(noon(date(2025, 7, 9)), tick=False):
        with pytest.raises(InvalidData, match="improcedente"):
            ar.guarantor_act(filed.case_id, "dismiss_appeal", guarantor, expected_version=case_version(filed.case_id))
        ar.guarantor_act(
            filed.case_id,
            "dismiss_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="El recurrente amplía su solicitud en el recurso (art. 155, fr. VII).",
        )
        dismissed = mails_to(mailbox)[before:]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert len(dismissed) == 1
    assert "El recurrente amplía su solicitud en el recurso" in dismissed[0]
    assert "Artículos 150, fracción I, y 155 de la Ley General de Transparencia" in dismissed[0]
    assert "Plazo para resolver" not in dismissed[0]
    assert "El órgano garante desechó su recurso de revisión" in page
    assert "El recurrente amplía su solicitud en el recurso" in page
    db.session.rollback()
    assert ar.staff_view(filed.case_id, guarantor).status.closed
    assert ar.guarantor_queue() == []


def test_the_guarantors_prevention_of_an_appeal_is_told_with_its_last_day_and_answered_on_the_tracking_page(
    app: Flask, client: FlaskClient, mailbox
):
    """LGTAIP 2015 art. 145: the guarantor prevents the appellant once; the requester is told what to complete,
    the basis and the last day (five business days from the day after the notice), and answers through the
    tracking link; the appeal is back before the guarantor, who is told."""
    filed, _, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):  # Tuesday
        before = len(mails_to(mailbox))
        with pytest.raises(InvalidData, match="completar"):
            ar.guarantor_act(filed.case_id, "prevent_appeal", guarantor, expected_version=case_version(filed.case_id))
        ar.guarantor_act(
            filed.case_id,
            "prevent_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="Señale qué parte de la respuesta considera incompleta.",
        )
        told = mails_to(mailbox)[before:]
        tracking = f"/transparencia/seguimiento/{filed.token}"
        page = current_app.test_client().get(tracking).get_data(as_text=True)
    # five business days from Wednesday 9 July 2025: 9–11, 14 and 15 July
    assert len(told) == 1
    assert "Señale qué parte de la respuesta considera incompleta." in told[0]
    assert "Artículos 145 y 155, fracción IV, de la Ley General de Transparencia" in told[0]
    assert "Plazo para atender la prevención del órgano garante: a más tardar el 15 de julio de 2025" in told[0]
    assert "Prevención del órgano garante: lo que debe completar de su recurso" in page
    assert "15 de julio de 2025" in page
    assert 'id="form-answer_appeal_prevention"' in page
    # answered through the tracking page within the term (after it, the lapse is recorded first: see
    # tests/services/test_lapses_first.py), the browser's whole visit on that day
    action = f"{tracking}/answer_appeal_prevention"
    with time_machine.travel(noon(date(2025, 7, 10)), tick=False):
        page = client.get(tracking).get_data(as_text=True)
        form = {"csrf_token": csrf_token(page, action), "version": hidden_value(page, "version", action)}
        empty = client.post(action, data={**form, "appeal_clarification": " "})
        assert empty.status_code == 422
        answered = client.post(action, data={**form, "appeal_clarification": "La falta del anexo 3 del contrato."})
        assert answered.status_code == 302
        deliver_pending()
    case = stored_case(filed.case_id)
    assert case.state == "appeal_filed"
    assert case.data["appeal_clarification"] == "La falta del anexo 3 del contrato."
    to_guarantor = [m for m in mailbox.messages if m["To"] == email_of(guarantor)]
    assert len(to_guarantor) == 2  # the appeal, then the answer to the prevention
    with time_machine.travel(noon(date(2025, 7, 11)), tick=False):
        staff = current_app.test_client()
        login_as(staff, guarantor)
        assert 'id="form-prevent-appeal"' not in text(staff.get(f"/transparencia/solicitudes/{filed.case_id}"))
        with pytest.raises(GuardRefused, match="una vez"):
            ar.guarantor_act(
                filed.case_id, "prevent_appeal", guarantor, expected_version=case.version, comment="Otra vez"
            )


def test_an_unanswered_prevention_of_the_appeal_dismisses_it(app: Flask, mailbox):
    filed, _, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        staff = current_app.test_client()
        login_as(staff, guarantor)
        page = text(staff.get(f"/transparencia/solicitudes/{filed.case_id}"))
        assert 'id="form-prevent-appeal"' in page
        ar.guarantor_act(
            filed.case_id,
            "prevent_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="Señale el acto que recurre.",
        )
    with time_machine.travel(noon(date(2025, 7, 15)), tick=False):  # the last day: nothing happens yet
        fire_due_timers()
        assert stored_case(filed.case_id).state == "appeal_prevention"
    with time_machine.travel(noon(date(2025, 7, 16)), tick=False):
        before = len(mails_to(mailbox))
        fire_due_timers()
        lapsed = mails_to(mailbox)[before:]
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    assert stored_case(filed.case_id).state == "concluded"
    assert len(lapsed) == 1
    assert "el recurso se desecha" in lapsed[0]
    assert "Su recurso se desechó: no atendió la prevención del órgano garante en su plazo" in page
    assert "Artículos 145 y 155, fracción IV" in page
