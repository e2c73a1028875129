"""The acts of an access request as the requester and the public see them, on SQLite and PostgreSQL: the
committee's resolutions are separate acts (a later one never makes an earlier one "sustituido")."""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Certificate, CertificateKind, CertificateStatus, Role
from app.services import access_requests as ar
from app.services.certificates import verify_certificate
from tests.support.factories import make_user


def _case(case_id: int) -> Case:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


def _decide_last_item(case_id: int, decision: str, text: str, committee: int) -> None:
    db.session.rollback()
    item = db.session.scalars(
        select(ar.CommitteeItem).where(ar.CommitteeItem.case_id == case_id).order_by(ar.CommitteeItem.id.desc())
    ).first()
    assert item is not None
    ar.decide_item(item.id, decision, text, committee)


def test_the_classification_resolution_does_not_supersede_the_extension_resolution(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    committee = make_user(Role.COMMITTEE_MEMBER)
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=_case(filed.case_id).version)
    session_id = ar.open_session("CT-01", date(2026, 11, 20), committee)
    ar.request_extension(filed.case_id, session_id, "Volumen", unit, expected_version=_case(filed.case_id).version)
    _decide_last_item(filed.case_id, "approve", "Se aprueba la ampliación", committee)
    answer = ar.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP")
    ar.answer_turn(filed.case_id, "obras", answer, obras, expected_version=_case(filed.case_id).version)
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=_case(filed.case_id).version)
    ar.submit_to_committee(filed.case_id, session_id, unit, expected_version=_case(filed.case_id).version)
    _decide_last_item(filed.case_id, "confirm", "Se confirma la confidencialidad", committee)
    db.session.rollback()
    resolutions = db.session.scalars(
        select(Certificate)
        .where(Certificate.case_id == filed.case_id, Certificate.kind == CertificateKind.COMMITTEE_RESOLUTION)
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
