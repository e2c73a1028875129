"""What reaches the requester of an access request, on SQLite and PostgreSQL: only the documents the unit
chose to deliver, and of classified information (reserved or confidential, fully or partly) only its versión
pública, through every path (the tracking page, a download by id, the case page of an account, the mail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from app.engine import InvalidData, NotFound
from app.extensions import db
from app.models import Document, Role, User
from app.procedures.access_request import services as ar
from app.services.case_pages import case_document, case_page
from app.services.delivery import deliver_pending
from app.services.demo import demo_pdf
from app.services.payments import confirm_payment
from tests.support.factories import case_version, make_user, quorum, stored_case

ORIGINAL = demo_pdf("planos estructurales sin testar")
PUBLIC = demo_pdf("planos con los datos testados")


@dataclass
class Office:
    unit: int
    obras: int
    committee: int


@pytest.fixture
def office(app: Flask) -> Office:
    return Office(
        unit=make_user(Role.TRANSPARENCY_UNIT),
        obras=make_user((Role.AREA, "obras")),
        committee=make_user(Role.COMMITTEE_MEMBER),
    )


def _classified_and_confirmed(filed: ar.Filed, office: Office, kind: str = "reserved", partial: bool = True) -> None:
    ar.turn_request(filed.case_id, ["obras"], office.unit, expected_version=case_version(filed.case_id))
    answer = ar.AreaAnswer(
        kind,
        partial=partial,
        legal_basis="Art. 113, fracción V, LGTAIP" if kind == "reserved" else "Art. 116 LGTAIP",
        harm_test="Los planos exponen la seguridad del inmueble" if kind == "reserved" else "",
        reservation_years=5 if kind == "reserved" else None,
    )
    ar.answer_turn(filed.case_id, "obras", answer, office.obras, expected_version=case_version(filed.case_id))
    ar.unit_act(filed.case_id, "consolidate", office.unit, expected_version=case_version(filed.case_id))
    session_id = ar.open_session(f"CT-{filed.case_id}", date(2026, 11, 20), office.committee)
    ar.submit_to_committee(filed.case_id, session_id, office.unit, expected_version=case_version(filed.case_id))
    db.session.rollback()
    item = db.session.scalars(select(ar.CommitteeItem).where(ar.CommitteeItem.case_id == filed.case_id)).one()
    ar.decide_item(item.id, "confirm", "Se confirma la clasificación", office.committee, votes=quorum(office.committee))


def _attach(filed: ar.Filed, office: Office) -> tuple[int, int]:
    original = ar.attach_area_document(
        filed.case_id, "obras", "respuesta_area", "planos-originales.pdf", ORIGINAL, office.obras
    )
    public = ar.attach_area_document(
        filed.case_id, "obras", "version_publica", "version-publica.pdf", PUBLIC, office.obras
    )
    return original, public


def _deliver(filed: ar.Filed, office: Office, ids: list[int]) -> None:
    ar.deliver_response(
        filed.case_id, "Se entrega", office.unit, expected_version=case_version(filed.case_id), document_ids=ids
    )


@pytest.mark.parametrize(("kind", "partial"), [("reserved", True), ("confidential", True), ("confidential", False)])
def test_a_classified_original_can_never_be_chosen_for_delivery(app: Flask, office: Office, kind: str, partial: bool):
    filed = ar.file_request("Lector", "lector@example.test", "Planos del mercado", "electronic")
    _classified_and_confirmed(filed, office, kind, partial)
    original, public = _attach(filed, office)
    assert [d.id for d in ar.deliverable_documents(filed.case_id)] == [public]
    with pytest.raises(InvalidData, match="versión pública"):
        _deliver(filed, office, [original, public])
    assert stored_case(filed.case_id).state == "consolidated"
    _deliver(filed, office, [public])
    case = stored_case(filed.case_id)
    assert case.state == "answered"
    assert case.data["delivered_documents"] == [public]


def test_no_path_serves_the_classified_original(app: Flask, office: Office, mailbox):
    account = make_user(Role.APPLICANT)
    filed = ar.file_request("Lectora", "", "Planos del mercado", "electronic", account_id=account)
    _classified_and_confirmed(filed, office)
    original, public = _attach(filed, office)
    _deliver(filed, office, [public])
    # the tracking page lists the versión pública only, and a download by the original's id is refused
    view = ar.requester_view(filed.token)
    assert [d.id for d in view.public_documents] == [public]
    assert ar.requester_file(filed.token, document_id=public).content == PUBLIC
    with pytest.raises(NotFound):
        ar.requester_file(filed.token, document_id=original)
    # the sealed PDFs of the request are not the original either
    for certificate in ar.requester_certificates(filed.token):
        assert ar.requester_file(filed.token, certificate_id=certificate.id).content != ORIGINAL
    # the account's own case page neither lists nor serves it; staff still read it
    page = case_page(filed.case_id, account)
    listed = {row.current.id for row in page.requirements if row.current} | {
        old.id for row in page.requirements for old in row.history
    }
    assert original not in listed
    assert public in listed
    with pytest.raises(NotFound):
        case_document(filed.case_id, original, account)
    assert case_document(filed.case_id, public, account)[1] == PUBLIC
    assert case_document(filed.case_id, original, office.unit)[1] == ORIGINAL
    # the mail carries the link, never the file nor its name
    deliver_pending()
    address = db.session.get(User, account).email
    to_requester = [m for m in mailbox.messages if m["To"] == address]
    assert to_requester
    for message in to_requester:
        assert "planos-originales" not in message.as_string()
        assert not [part for part in message.walk() if part.get_content_maintype() == "application"]


def test_a_forged_delivery_record_still_serves_no_classified_original(app: Flask, office: Office):
    account = make_user(Role.APPLICANT)
    filed = ar.file_request("Lectora", "", "Planos del mercado", "electronic", account_id=account)
    _classified_and_confirmed(filed, office)
    original, public = _attach(filed, office)
    _deliver(filed, office, [public])
    case = stored_case(filed.case_id)
    case.data = {**case.data, "delivered_documents": [original, public]}  # written past the service
    db.session.commit()
    assert [d.id for d in ar.requester_view(filed.token).public_documents] == [public]
    with pytest.raises(NotFound):
        ar.requester_file(filed.token, document_id=original)
    # nor does the account's case page (it read the recorded ids alone)
    with pytest.raises(NotFound):
        case_document(filed.case_id, original, account)
    assert case_document(filed.case_id, public, account)[1] == PUBLIC


def _consolidated_with(filed: ar.Filed, office: Office, name: str) -> int:
    """Turn the request to obras, which attaches one document (``ORIGINAL``, public information) and answers;
    the unit consolidates. The document's id."""
    ar.turn_request(filed.case_id, ["obras"], office.unit, expected_version=case_version(filed.case_id))
    document = ar.attach_area_document(filed.case_id, "obras", "respuesta_area", name, ORIGINAL, office.obras)
    version = case_version(filed.case_id)
    ar.answer_turn(filed.case_id, "obras", ar.AreaAnswer("available"), office.obras, expected_version=version)
    ar.unit_act(filed.case_id, "consolidate", office.unit, expected_version=case_version(filed.case_id))
    return document


def _listed(case_id: int, user_id: int) -> set[int]:
    page = case_page(case_id, user_id)
    return {row.current.id for row in page.requirements if row.current} | {
        old.id for row in page.requirements for old in row.history
    }


def test_an_account_reads_nothing_delivered_before_its_costs_are_paid(app: Flask, office: Office):
    """LGTAIP 2015 art. 141: reproduction costs are paid before the information is delivered. The tracking page
    held the documents back; the case page of a requester with an account listed and served them at once."""
    with time_machine.travel(datetime(2025, 7, 8, 18, 0, tzinfo=UTC), tick=False):  # Tuesday, noon in Mexico City
        account = make_user(Role.APPLICANT)
        treasurer = make_user(Role.TREASURY)
        filed = ar.file_request("Lectora", "", "Contratos de obra", "simple_copies", account_id=account)
        document = _consolidated_with(filed, office, "contratos.pdf")
        ar.deliver_response(
            filed.case_id,
            "Se entregan los contratos",
            office.unit,
            expected_version=case_version(filed.case_id),
            document_ids=[document],
            costs=ar.Costs(page_count=45),
        )
        case = stored_case(filed.case_id)
        assert case.data["delivered_documents"] == [document]
        assert case.data["reproduction_cost"] != "0.00"
        assert ar.requester_view(filed.token).public_documents == []
        assert document not in _listed(filed.case_id, account)
        with pytest.raises(NotFound):
            case_document(filed.case_id, document, account)
        assert case_document(filed.case_id, document, office.unit)[1] == ORIGINAL  # staff read it meanwhile
        order = ar.payment_notice(stored_case(filed.case_id))
        assert order is not None
        paid = confirm_payment(order.reference, case.data["reproduction_cost"], date(2025, 7, 10), "OP-7", treasurer)
        assert paid.applied, paid.detail
        assert document in _listed(filed.case_id, account)
        assert case_document(filed.case_id, document, account)[1] == ORIGINAL
        assert [d.id for d in ar.requester_view(filed.token).public_documents] == [document]


def test_nothing_goes_out_that_the_unit_did_not_choose(app: Flask, office: Office):
    filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    kept = _consolidated_with(filed, office, "borrador.pdf")
    assert [d.id for d in ar.deliverable_documents(filed.case_id)] == [kept]  # public information: offered
    with pytest.raises(InvalidData, match="no es de esta solicitud"):
        _deliver(filed, office, [kept + 1000])
    _deliver(filed, office, [])
    assert ar.requester_view(filed.token).public_documents == []
    with pytest.raises(NotFound):
        ar.requester_file(filed.token, document_id=kept)


def test_revoked_classification_lets_the_original_go(app: Flask, office: Office):
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    ar.turn_request(filed.case_id, ["obras"], office.unit, expected_version=case_version(filed.case_id))
    answer = ar.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP")
    ar.answer_turn(filed.case_id, "obras", answer, office.obras, expected_version=case_version(filed.case_id))
    ar.unit_act(filed.case_id, "consolidate", office.unit, expected_version=case_version(filed.case_id))
    session_id = ar.open_session("CT-REV", date(2026, 11, 20), office.committee)
    ar.submit_to_committee(filed.case_id, session_id, office.unit, expected_version=case_version(filed.case_id))
    db.session.rollback()
    item = db.session.scalars(select(ar.CommitteeItem).where(ar.CommitteeItem.case_id == filed.case_id)).one()
    ar.decide_item(item.id, "revoke", "La información es pública", office.committee, votes=quorum(office.committee))
    original = ar.attach_area_document(filed.case_id, "obras", "respuesta_area", "o.pdf", ORIGINAL, office.obras)
    _deliver(filed, office, [original])
    assert ar.requester_file(filed.token, document_id=original).content == ORIGINAL


def test_only_the_tracking_link_and_the_case_page_serve_documents(app: Flask):
    """Every route that serves a stored document or sealed PDF by id is one checked above; the JSON API
    serves none (a new one must be added here, and to the checks)."""
    serving = sorted(
        rule.rule for rule in app.url_map.iter_rules() if {"document_id", "certificate_id"} & set(rule.arguments)
    )
    assert serving == [
        "/expedientes/<int:case_id>/archivos/<int:document_id>",
        "/expedientes/<int:case_id>/documentos/<int:certificate_id>.pdf",
        "/transparencia/seguimiento/<token>/documentos/<int:document_id>",
        "/transparencia/seguimiento/<token>/resoluciones/<int:certificate_id>",
    ]
    assert not [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/") and "document" in r.rule]
    assert db.session.scalars(select(Document)).first() is None
