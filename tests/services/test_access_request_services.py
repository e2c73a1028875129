"""Access-to-information requests through the services, on SQLite and PostgreSQL: every path of the
workflow from filing to the appeal's compliance, with the wrong actors refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select, update

from app.audit import verify
from app.calendar import local_today
from app.certificates.formatting import long_date
from app.engine import GuardRefused, IllegalTrigger, InvalidData, NotAllowed, NotFound, UnknownTrigger
from app.extensions import db
from app.models import AuditEntry, Case, OutboxMessage, Role, User
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import PASSWORDLESS, AccessRequest, AreaTurn, CommitteeItem
from app.services.confirmation import confirm
from app.services.deadlines import case_clocks, pending_terms
from app.services.delivery import deliver_pending
from app.services.demo import demo_pdf
from app.services.payments import confirm_payment
from app.services.timers import fire_due_timers
from app.services.users import authenticate
from tests.support.access_requests import close_instruction, issued_pdf_text
from tests.support.clock import noon
from tests.support.factories import case_version, make_user, quorum, stored_case
from workflows import access_request as wf


@dataclass
class Office:
    unit: int
    obras: int
    tesoreria: int
    committee: int
    guarantor: int


@pytest.fixture
def office(app: Flask) -> Office:
    return Office(
        unit=make_user(Role.TRANSPARENCY_UNIT),
        obras=make_user((Role.AREA, "obras")),
        tesoreria=make_user((Role.AREA, "tesoreria")),
        committee=make_user(Role.COMMITTEE_MEMBER),
        guarantor=make_user(Role.GUARANTOR),
    )


def _file(fmt: str = "electronic", email: str = "lector@example.test") -> ar.Filed:
    return ar.file_request("Lector Curioso", email, "Contratos de obra pública de 2025", fmt)


def _turned(filed: ar.Filed, office: Office, areas: tuple[str, ...] = ("obras",)) -> int:
    return ar.turn_request(
        filed.case_id, list(areas), office.unit, expected_version=case_version(filed.case_id)
    ).version


def _answer(filed: ar.Filed, office: Office, dept: str, answer: ar.AreaAnswer) -> None:
    actor = office.obras if dept == "obras" else office.tesoreria
    ar.answer_turn(filed.case_id, dept, answer, actor, expected_version=case_version(filed.case_id))


def _unit(filed: ar.Filed, office: Office, trigger: str, **kw):
    return ar.unit_act(filed.case_id, trigger, office.unit, expected_version=case_version(filed.case_id), **kw)


RESERVED_PARTIAL = ar.AreaAnswer(
    "reserved",
    partial=True,
    legal_basis="Art. 113, fracción V, LGTAIP",
    harm_test="Divulgar los planos pone en riesgo la seguridad del inmueble",
    reservation_years=5,
    redactions="Planos estructurales testados",
)


def test_answered_in_time_without_an_account(app: Flask, office: Office, mailbox):
    filed = _file()
    assert filed.folio.startswith("SAI-")
    requester = db.session.scalars(select(User).where(User.email == "lector@example.test")).one()
    assert requester.password_hash == PASSWORDLESS
    assert authenticate("lector@example.test", PASSWORDLESS) is None  # the row can never log in
    stored = db.session.get(AccessRequest, filed.case_id)
    assert stored is not None
    assert filed.token not in stored.token_sha256  # only the digest is kept
    # the public view shows state and dates only
    status = ar.public_status(filed.folio.lower())
    assert status is not None
    assert status.response_due_on is not None
    assert not status.overdue
    _turned(filed, office, ("obras", "tesoreria"))
    _answer(filed, office, "obras", ar.AreaAnswer("available", answer_text="Se anexan los contratos"))
    with pytest.raises(GuardRefused, match="Faltan respuestas"):
        _unit(filed, office, "consolidate")
    contracts = ar.attach_area_document(
        filed.case_id, "obras", "respuesta_area", "contratos.pdf", demo_pdf("c"), office.obras
    )
    _answer(filed, office, "tesoreria", ar.AreaAnswer("available"))
    _unit(filed, office, "consolidate")
    done = ar.deliver_response(
        filed.case_id,
        "Se entregan los contratos",
        office.unit,
        expected_version=case_version(filed.case_id),
        document_ids=[contracts],
    )
    assert done.to_state == "answered"
    case = stored_case(filed.case_id)
    assert case.data["reproduction_cost"] == "0.00"
    view = ar.requester_view(filed.token)
    assert [d.kind for d in view.public_documents] == ["respuesta_area"]
    assert view.actions == frozenset({"appeal"})  # nothing to pay
    # the answers are in the log as a digest; the turn rows keep who answered
    turns = db.session.scalars(select(AreaTurn).where(AreaTurn.case_id == filed.case_id)).all()
    assert {t.answered_by_id for t in turns} == {office.obras, office.tesoreria}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == filed.case_id)).all()
    assert [e.action for e in entries if e.action == "answer_turn"] == ["answer_turn", "answer_turn"]
    assert all("lector@example.test" not in str(e.details) and "Lector" not in str(e.details) for e in entries)
    assert verify(db.session()).ok
    # the address is unproven: only the confirmation link went to it, and nothing typed by the filer
    report = deliver_pending()
    assert (report.sent, report.skipped) == (1, 1)
    to_requester = [m for m in mailbox.messages if m["To"] == "lector@example.test"]
    assert len(to_requester) == 1
    body = to_requester[0].get_content()
    assert filed.folio in body
    assert "Lector" not in body
    assert "Contratos de obra" not in body
    assert filed.token not in body
    link = re.search(r"/confirmar-correo/(\S+)", body)
    assert link is not None
    confirm(link.group(1))
    # once confirmed, the receipt carries the secret tracking link, once
    assert deliver_pending().sent == 1
    receipt = [m for m in mailbox.messages if m["To"] == "lector@example.test"][-1]
    assert f"/transparencia/seguimiento/{filed.token}" in receipt.get_content()
    assert "Lector" not in receipt.get_content()


def test_an_account_holder_files_under_the_account_and_costs_are_paid(app: Flask, office: Office):
    account = make_user(Role.APPLICANT)
    filed = ar.file_request("Ana", "", "Nómina del área de obras", "simple_copies", account_id=account)
    assert stored_case(filed.case_id).applicant_id == account
    assert [c.id for c, _ in ar.own_requests(account)] == [filed.case_id]
    _turned(filed, office)
    _answer(filed, office, "obras", ar.AreaAnswer("available"))
    _unit(filed, office, "consolidate")
    ar.deliver_response(
        filed.case_id,
        "Copias listas",
        office.unit,
        expected_version=case_version(filed.case_id),
        costs=ar.Costs(page_count=70),
    )
    assert stored_case(filed.case_id).data["reproduction_cost"] == "50.00"
    view = ar.requester_view_for_account(filed.case_id, account)
    assert view.actions == frozenset({"appeal"})  # the treasury, not the requester, records the payment
    assert view.payment is not None
    with pytest.raises(NotAllowed):
        ar.requester_act(filed.token, "pay", expected_version=view.version, data={"payment_reference": "TES-1"})
    paid = confirm_payment(view.payment.reference, "50.00", local_today(), "TES-1", make_user(Role.TREASURY))
    assert paid.applied, paid.detail
    assert ar.requester_view_for_account(filed.case_id, account).payment is None
    with pytest.raises(NotFound):
        ar.requester_view_for_account(filed.case_id, make_user(Role.APPLICANT))


def test_filing_refuses_bad_input_and_keeps_out_of_existing_accounts(app: Flask):
    with pytest.raises(InvalidData) as bad:
        ar.file_request(" ", "no-es-correo", " ", "fax")
    assert len(bad.value.reasons) == 4
    owner = make_user(Role.APPLICANT)
    existing = db.session.scalars(select(User.email).where(User.id == owner)).one()
    # an account's e-mail: filed like any other, but outside that account, and nothing is mailed
    foreign = ar.file_request("Yo", existing, "Algo", "electronic")
    assert stored_case(foreign.case_id).applicant_id != owner
    assert ar.own_requests(owner) == []
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == foreign.case_id)).all() == []
    # the same e-mail files twice without an account: one passwordless row, two requests
    first, second = _file(), _file()
    assert stored_case(first.case_id).applicant_id == stored_case(second.case_id).applicant_id
    assert first.token != second.token


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


def test_prevention_answered_resumes_the_request(app: Flask, office: Office):
    filed = _file()
    _unit(filed, office, "prevent", comment="Indique el periodo de los contratos")
    assert stored_case(filed.case_id).state == "prevention"
    assert ar.public_status(filed.folio).paused
    view = ar.requester_view(filed.token)
    assert view.actions == frozenset({"answer_prevention"})
    ar.requester_act(filed.token, "answer_prevention", expected_version=view.version, data={"clarification": "2025"})
    assert stored_case(filed.case_id).state == "received"
    with pytest.raises(GuardRefused, match="una prevención"):
        _unit(filed, office, "prevent", comment="Otra")


def test_unanswered_prevention_ends_as_not_filed(app: Flask, office: Office):
    with _on(date(2026, 3, 2)):
        filed = _file()
        _unit(filed, office, "prevent", comment="Precise la información")
    with _on(date(2026, 3, 16)):  # 10 business days end on 17 March (16 March is a holiday)
        fire_due_timers()
    assert stored_case(filed.case_id).state == "prevention"
    with _on(date(2026, 3, 18)):
        fire_due_timers()
    case = stored_case(filed.case_id)
    assert case.state == "not_filed"
    assert case.closed_at is not None
    with pytest.raises(IllegalTrigger):
        ar.requester_act(filed.token, "answer_prevention", expected_version=case.version, data={"clarification": "x"})


def _to_committee(filed: ar.Filed, office: Office) -> int:
    session_id = ar.open_session(f"CT-{filed.case_id}", date(2026, 11, 20), office.committee)
    ar.submit_to_committee(filed.case_id, session_id, office.unit, expected_version=case_version(filed.case_id))
    return session_id


def _item(case_id: int) -> CommitteeItem:
    db.session.rollback()
    return db.session.scalars(select(CommitteeItem).where(CommitteeItem.case_id == case_id)).all()[-1]


def test_partial_classification_confirmed_with_public_version(app: Flask, office: Office):
    filed = _file()
    _turned(filed, office)
    with pytest.raises(GuardRefused, match="prueba de daño"):
        _answer(filed, office, "obras", ar.AreaAnswer("reserved", partial=True, legal_basis="Art. 113"))
    _answer(filed, office, "obras", RESERVED_PARTIAL)
    _unit(filed, office, "consolidate")
    with pytest.raises(GuardRefused, match="comité"):
        ar.deliver_response(filed.case_id, "x", office.unit, expected_version=case_version(filed.case_id))
    session_id = _to_committee(filed, office)
    item = _item(filed.case_id)
    assert item.matter.value == "classification"
    with pytest.raises(NotAllowed):
        ar.decide_item(item.id, "confirm", "Se confirma", office.unit, votes=quorum(office.committee))
    with pytest.raises(InvalidData, match="sentido"):
        ar.decide_item(item.id, "approve", "Se aprueba", office.committee, votes=quorum(office.committee))
    ar.decide_item(
        item.id,
        "confirm",
        "Se confirma la reserva parcial por 5 años",
        office.committee,
        votes=quorum(office.committee),
    )
    assert stored_case(filed.case_id).data["committee_decision"] == "confirm"
    with pytest.raises(InvalidData, match="ya resolvió"):
        ar.decide_item(item.id, "revoke", "Otra", office.committee, votes=quorum(office.committee))
    with pytest.raises(GuardRefused, match="versión pública"):
        ar.deliver_response(filed.case_id, "x", office.unit, expected_version=case_version(filed.case_id))
    vp = ar.attach_area_document(filed.case_id, "obras", "version_publica", "vp.pdf", demo_pdf("vp"), office.obras)
    ar.deliver_response(
        filed.case_id,
        "Versión pública",
        office.unit,
        expected_version=case_version(filed.case_id),
        document_ids=[vp],
    )
    assert stored_case(filed.case_id).state == "answered"
    view = ar.session_view(session_id)
    assert [(i.decision.value if i.decision else None, folio) for i, folio in view.items] == [("confirm", filed.folio)]
    # the committee's resolution and the response are sealed PDFs, read back here
    acta = issued_pdf_text(filed.case_id, "committee_resolution")
    assert "RESOLUCIÓN DEL COMITÉ DE TRANSPARENCIA" in acta
    assert "Se confirma la reserva parcial por 5 años" in acta
    assert "Art. 113, fracción V, LGTAIP" in acta
    response = issued_pdf_text(filed.case_id, "access_response")
    assert "Versión pública" in response
    assert "Lector Curioso" in response
    # the appeal, as the law asks it be told: before whom, its term, its last day (the case's own appeal term)
    # and its legal basis (the PDF said only "within 15 business days")
    (appeal,) = [t for t in pending_terms([filed.case_id])[filed.case_id] if t.state == "answered"]
    assert "recurso de revisión ante el organismo garante dentro de los 15 días hábiles" in response
    assert f"a más tardar el {long_date(appeal.due_on)}" in response
    assert "Artículos 142 y 143 de la Ley General de Transparencia" in response
    assert [d.kind for d in ar.requester_view(filed.token).public_documents] == ["version_publica"]


def test_inexistence_confirmed_and_incompetence_then_refused(app: Flask, office: Office):
    filed = _file()
    _turned(filed, office)
    _answer(filed, office, "obras", ar.AreaAnswer("inexistent", answer_text="Búsqueda exhaustiva sin resultados"))
    with pytest.raises(GuardRefused, match="inexistencia"):
        _unit(filed, office, "declare_incompetent", data={"competent_body": "SEP"}, comment="No es nuestra")
    _unit(filed, office, "consolidate")
    _to_committee(filed, office)
    item = _item(filed.case_id)
    assert item.matter.value == "inexistence"
    ar.decide_item(item.id, "confirm", "Se confirma la inexistencia", office.committee, votes=quorum(office.committee))
    # the requester is told the inexistence's legal basis (LGTAIP 2015 arts. 138 and 139), not classification's
    (notice,) = ar.committee_notices(stored_case(filed.case_id))
    assert notice.legal_basis.startswith("Artículos 44, fracción II, 138 y 139 de la Ley General de Transparencia")
    ar.deliver_response(filed.case_id, "Inexistencia", office.unit, expected_version=case_version(filed.case_id))
    assert stored_case(filed.case_id).state == "answered"


def test_incompetence(app: Flask, office: Office):
    filed = _file()
    _unit(filed, office, "declare_incompetent", data={"competent_body": "Secretaría de Educación"}, comment="Oriente")
    case = stored_case(filed.case_id)
    assert case.state == "incompetent"
    assert case.data["competent_body"] == "Secretaría de Educación"
    assert ar.requester_view(filed.token).actions == frozenset({"appeal"})


def test_extension_approved_moves_the_deadline_and_only_once(app: Flask, office: Office):
    filed = _file()
    _turned(filed, office)
    before = ar.public_status(filed.folio).response_due_on
    session_id = ar.open_session("CT-EXT", date(2026, 11, 20), office.committee)
    ar.request_extension(
        filed.case_id,
        session_id,
        "Volumen de información",
        office.unit,
        expected_version=case_version(filed.case_id),
    )
    with pytest.raises(GuardRefused, match="una vez"):
        ar.request_extension(
            filed.case_id, session_id, "Otra", office.unit, expected_version=case_version(filed.case_id)
        )
    item = _item(filed.case_id)
    assert item.matter.value == "extension"
    ar.decide_item(
        item.id,
        "approve",
        "Se aprueba la ampliación por 10 días hábiles",
        office.committee,
        votes=quorum(office.committee),
    )
    after = ar.public_status(filed.folio)
    assert after.extended
    assert before is not None
    assert after.response_due_on is not None
    assert after.response_due_on > before


def test_appeal_revokes_the_classification_and_compliance_follows(app: Flask, office: Office):
    filed = _file()
    _turned(filed, office)
    _answer(filed, office, "obras", ar.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP"))
    _unit(filed, office, "consolidate")
    _to_committee(filed, office)
    ar.decide_item(
        _item(filed.case_id).id,
        "confirm",
        "Se confirma la confidencialidad",
        office.committee,
        votes=quorum(office.committee),
    )
    ar.deliver_response(filed.case_id, "Clasificada", office.unit, expected_version=case_version(filed.case_id))
    with pytest.raises(GuardRefused, match="Causas del recurso"):
        ar.requester_act(
            filed.token, "appeal", expected_version=case_version(filed.case_id), data={"appeal_grounds": []}
        )
    ar.requester_act(
        filed.token,
        "appeal",
        expected_version=case_version(filed.case_id),
        data={"appeal_grounds": ["classification"], "appeal_statement": "La información es pública"},
    )
    assert stored_case(filed.case_id).state == "appeal_filed"
    (row,) = ar.guarantor_queue()  # the appeal to admit is the guarantor's; no term runs yet (art. 146)
    assert (row.case_id, row.due_on) == (filed.case_id, None)
    assert "resolution" not in case_clocks([filed.case_id]).get(filed.case_id, {})
    with pytest.raises(NotAllowed):
        ar.guarantor_act(filed.case_id, "admit_appeal", office.unit, expected_version=case_version(filed.case_id))
    ar.guarantor_act(filed.case_id, "admit_appeal", office.guarantor, expected_version=case_version(filed.case_id))
    assert stored_case(filed.case_id).state == "appeal_pleadings"
    (row,) = ar.guarantor_queue()
    assert row.case_id == filed.case_id
    # the guarantor's queue shows the guarantor's term to resolve (art. 146: 40 business days), not the
    # response term long past (it showed none)
    resolution = case_clocks([filed.case_id])[filed.case_id]["resolution"]
    assert resolution.due_on is not None
    assert (row.due_on, row.business_days_left, row.overdue) == (
        resolution.due_on,
        resolution.business_days_left,
        False,
    )
    close_instruction(filed, office.unit, office.guarantor)
    assert stored_case(filed.case_id).state == "appealed"
    with pytest.raises(NotAllowed):
        ar.guarantor_act(filed.case_id, "resolve_appeal", office.unit, expected_version=case_version(filed.case_id))
    ar.guarantor_act(
        filed.case_id,
        "resolve_appeal",
        office.guarantor,
        expected_version=case_version(filed.case_id),
        data={"appeal_decision": "revoke", "appeal_resolution": "Se revoca la clasificación; entréguese"},
    )
    assert stored_case(filed.case_id).state == "compliance"
    _unit(filed, office, "report_compliance", data={"compliance_report": "Se entregó la información completa"})
    (row,) = ar.guarantor_queue()  # the appellant's term to make remarks on the report (art. 197)
    assert (row.case_id, row.state, row.overdue) == (filed.case_id, "compliance_review", False)
    assert row.due_on is not None
    ar.requester_act(
        filed.token,
        wf.COMPLIANCE_REMARKS,
        expected_version=case_version(filed.case_id),
        data={"compliance_remarks": "Conforme con la entrega"},
    )
    ar.guarantor_act(filed.case_id, "accept_compliance", office.guarantor, expected_version=case_version(filed.case_id))
    case = stored_case(filed.case_id)
    assert case.state == "concluded"
    assert case.closed_at is not None


def test_wrong_actors_and_other_peoples_requests(app: Flask, office: Office):
    filed, other = _file(), _file(email="otra@example.test")
    _turned(filed, office)
    with pytest.raises(NotAllowed, match="esa área"):
        ar.answer_turn(
            filed.case_id,
            "obras",
            ar.AreaAnswer("available"),
            office.tesoreria,
            expected_version=case_version(filed.case_id),
        )
    with pytest.raises(NotAllowed, match="no se turnó"):
        ar.answer_turn(
            filed.case_id,
            "tesoreria",
            ar.AreaAnswer("available"),
            office.tesoreria,
            expected_version=case_version(filed.case_id),
        )
    with pytest.raises(NotAllowed):
        ar.unit_act(filed.case_id, "consolidate", office.obras, expected_version=case_version(filed.case_id))
    with pytest.raises(NotAllowed):
        ar.unit_act(filed.case_id, "deliver", office.unit, expected_version=case_version(filed.case_id))
    with pytest.raises(InvalidData, match="no existe"):
        ar.turn_request(other.case_id, ["inventada"], office.unit, expected_version=case_version(other.case_id))
    with pytest.raises(NotFound):
        ar.requester_view("x" * 43)
    # an area sees only what was turned to it; the unit sees everything
    assert ar.staff_view(filed.case_id, office.obras).own_departments == {"obras"}
    with pytest.raises(NotFound):
        ar.staff_view(other.case_id, office.obras)
    with pytest.raises(NotFound):
        ar.staff_view(filed.case_id, make_user(Role.APPLICANT))
    assert {r.case_id for r in ar.unit_queue()} == {filed.case_id, other.case_id}
    assert [r.case_id for r in ar.area_queue(office.obras)] == [filed.case_id]
    assert ar.area_queue(office.tesoreria) == []
    # a tracking link only allows the requester's own steps
    with pytest.raises(NotAllowed, match="solicitante"):
        ar.requester_act(other.token, "turn", expected_version=1, data={"turned_to": ["obras"]})
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 2  # the two receipts


def test_an_area_cannot_answer_for_another_through_the_generic_case_page(app: Flask, office: Office):
    """The engine does not know which area a member answers for; the answer goes through the area's own
    service, which checks it, and the generic case page neither offers nor accepts it."""
    from app.services.case_actions import act
    from app.services.case_pages import case_page

    filed = _file()
    _turned(filed, office, ("obras", "tesoreria"))
    forged = {"tesoreria": {"kind": "inexistent"}}
    with pytest.raises(NotAllowed, match="página propia"):
        act(
            filed.case_id,
            "answer_turn",
            office.obras,
            expected_version=case_version(filed.case_id),
            idempotency_key="forja-1",
            inputs={"answers": forged},
        )
    assert "answers" not in stored_case(filed.case_id).data
    page = case_page(filed.case_id, office.obras)
    assert "answer_turn" not in {t.trigger for t in page.triggers}


def test_a_request_filed_under_the_first_version_finishes_on_it(app: Flask, office: Office) -> None:
    """A request filed before version 2 keeps its definition: its appeal goes straight to the guarantor's
    resolution, whose term started at the filing, as it was told when it was filed."""
    filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    db.session.execute(update(Case).where(Case.id == filed.case_id).values(workflow_version=1))
    db.session.commit()
    ar.turn_request(filed.case_id, ["obras"], office.unit, expected_version=case_version(filed.case_id))
    _answer(filed, office, "obras", ar.AreaAnswer("available"))
    _unit(filed, office, "consolidate")
    ar.deliver_response(filed.case_id, "Se entrega", office.unit, expected_version=case_version(filed.case_id))
    ar.requester_act(
        filed.token, "appeal", expected_version=case_version(filed.case_id), data={"appeal_grounds": ["incomplete"]}
    )
    case = stored_case(filed.case_id)
    assert (case.workflow_version, case.state) == (1, "appealed")
    assert case_clocks([filed.case_id])[filed.case_id]["resolution"].due_on is not None
    with pytest.raises(UnknownTrigger):  # the first version has no admission
        ar.guarantor_act(filed.case_id, "admit_appeal", office.guarantor, expected_version=case_version(filed.case_id))
