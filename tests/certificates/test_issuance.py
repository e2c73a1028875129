"""Issuing inside the transition: render once, seal, sign, store, record the PDF's SHA-256 in the audit entry.

Every test here runs on SQLite and on PostgreSQL through the real services.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from flask import Flask
from sqlalchemy import func, select

import app.services.certificates as certificates_service
from app import audit
from app.audit import EntryInput, verify
from app.certificates import RenderError, validate_pdf, verify_sello
from app.engine import GuardRefused
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Certificate, CertificateStatus, User, utcnow
from app.services.cases import fire
from app.services.certificates import CertificateEffects, issue_for_case
from app.services.uow import unit_of_work
from app.storage import get_storage
from tests.certificates.conftest import People, licensed, pdf_text, squeeze, to_licence_review
from tests.support.factories import advance


def _certificates(case_id: int) -> list[Certificate]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.case_id == case_id, Certificate.kind != "payment_order")
            .order_by(Certificate.id)
        )
    )


def _stored(app: Flask, certificate: Certificate) -> bytes:
    return get_storage(Path(app.config["DOCUMENTS_DIR"])).get(certificate.storage_key)


def test_approving_the_licence_issues_a_sealed_signed_pdf_recorded_in_the_audit_log(
    app: Flask, people: People, root: x509.Certificate, tmp_path: Path
) -> None:
    result = licensed(people)
    (certificate,) = _certificates(result.case_id)
    assert certificate.kind == "licence"
    assert certificate.status is CertificateStatus.VALID
    assert certificate.folio == result.folio
    assert certificate.issued_by_id == people.approver
    assert len(certificate.verification_code) == 10

    pdf = _stored(app, certificate)
    assert hashlib.sha256(pdf).hexdigest() == certificate.sha256
    assert len(pdf) == certificate.size_bytes

    # the issuing transition's audit entry carries the PDF's hash, and the certificate points at that entry
    entry = db.session.get(AuditEntry, result.audit_seq)
    assert entry is not None
    assert entry.action == "approve_licence"
    assert certificate.audit_seq == entry.seq
    recorded = entry.details["certificate"]
    assert recorded["sha256"] == certificate.sha256
    assert recorded["number"] == certificate.number
    assert recorded["kind"] == "licence"
    assert recorded["verification_code_sha256"] == hashlib.sha256(certificate.verification_code.encode()).hexdigest()
    assert certificate.verification_code not in str(entry.details)  # the code itself never enters the log
    assert verify(db.session()).ok

    # what the PDF says, read back
    text = pdf_text(pdf, tmp_path)
    for expected in (
        result.folio,
        certificate.number,
        "LC-2026-0001",
        "José Ángel Muñoz Peñaloza",
        "Av. Hidalgo 123, Centro",
        "001-002-003",
        "420.50 m²",
        "Comercio de abarrotes",
        "Arq. Daniel Responsable",
        "DRO-0421",
        "$8,420.00 MXN",
        "SPEI-2026-0001",  # the operation the treasury confirmed
        "Arq. María José Peña Núñez",
        "Dictaminador(a) — Desarrollo Urbano",
        "Diario Oficial de la Federación el 20 de mayo de 2019",
        certificate.verification_code,
    ):
        assert expected in text, expected
    assert squeeze(certificate.cadena_original) in squeeze(text)
    assert squeeze(certificate.sello) in squeeze(text)

    signer = x509.load_pem_x509_certificate(certificate.signing_certificate.encode())
    assert verify_sello(signer, certificate.cadena_original, certificate.sello)
    assert validate_pdf(pdf, [root]).valid


def test_a_missing_licence_number_is_generated(app: Flask, people: People) -> None:
    result = licensed(people, data={})
    (certificate,) = _certificates(result.case_id)
    number = certificate.public_data["fields"]["numero_licencia"]
    assert number.startswith("LC-20")
    assert number.endswith("-000001")
    assert f"|{number}|" in certificate.cadena_original


def test_when_issuing_fails_the_whole_transition_rolls_back(
    app: Flask, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = to_licence_review(people)
    db.session.rollback()
    entries_before = db.session.scalar(select(func.count()).select_from(AuditEntry))

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RenderError("template exploded")

    with monkeypatch.context() as patch:
        patch.setattr(certificates_service, "issue", broken)
        with pytest.raises(RenderError):
            fire(case.case_id, "approve_licence", people.approver, expected_version=case.version, data={})
    db.session.rollback()
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert (stored.state, stored.version) == ("licence_review", case.version)
    assert _certificates(case.case_id) == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before

    assert fire(case.case_id, "approve_licence", people.approver, expected_version=case.version).to_state == "licensed"


def test_four_eyes_still_applies_before_anything_is_rendered(app: Flask, people: People) -> None:
    case = to_licence_review(people)
    with pytest.raises(GuardRefused):
        fire(case.case_id, "approve_licence", people.land_use_reviewer, expected_version=case.version)
    assert _certificates(case.case_id) == []


def test_revoking_marks_the_certificate_revoked_with_the_reason(app: Flask, people: People) -> None:
    result = licensed(people)
    reason = "Se comprobó que el título de propiedad es falso."
    revoked = advance(result, [("revoke", people.land_use_reviewer, None, reason)])
    (certificate,) = _certificates(result.case_id)
    assert certificate.status is CertificateStatus.REVOKED
    assert certificate.revocation_reason == reason
    assert certificate.revoked_seq == revoked.audit_seq
    entry = db.session.get(AuditEntry, revoked.audit_seq)
    assert entry is not None
    assert entry.details["revoked_certificates"] == [certificate.number]
    # the payment order stays what it was: the fees were assessed and paid all the same
    order = db.session.scalars(
        select(Certificate).where(Certificate.case_id == result.case_id, Certificate.kind == "payment_order")
    ).one()
    assert order.status is not CertificateStatus.REVOKED
    assert verify(db.session()).ok


def test_occupancy_authorization_cites_the_licence(
    app: Flask, people: People, root: x509.Certificate, tmp_path: Path
) -> None:
    result = licensed(people)
    # Filing the completion notice draws whether the works are inspected (recorded, reproducible).
    completion = advance(result, [("file_completion", people.owner, None, None)])
    inspected = completion.to_state == "inspection"
    if inspected:
        completion = advance(completion, [("pass_inspection", people.inspector, None, None)])
    assert completion.to_state == "occupancy_review"
    authorized = advance(completion, [("authorize_occupancy", people.land_use_reviewer, None, None)])
    assert authorized.to_state == "occupancy_authorized"

    licence, occupancy = _certificates(result.case_id)
    assert occupancy.kind == "occupancy"
    assert licence.status is CertificateStatus.VALID  # a different kind: not superseded
    assert occupancy.public_data["fields"]["numero_licencia"] == "LC-2026-0001"
    pdf = _stored(app, occupancy)
    text = pdf_text(pdf, tmp_path)
    assert "Autorización de uso y ocupación".upper() in text.upper()
    assert "LC-2026-0001" in text
    if inspected:
        assert "La obra fue inspeccionada sin observaciones" in text
    else:
        assert "La obra no fue sorteada para inspección" in text
    assert validate_pdf(pdf, [root]).valid

    # revoking the case revokes both
    advance(authorized, [("revoke", people.approver, None, "Datos falsos en el aviso de terminación.")])
    assert {c.status for c in _certificates(result.case_id)} == {CertificateStatus.REVOKED}


def test_a_new_certificate_of_the_same_kind_supersedes_the_previous_one(app: Flask, people: People) -> None:
    result = licensed(people)
    (first,) = _certificates(result.case_id)
    with unit_of_work() as session:
        case = session.get(Case, result.case_id)
        actor = session.get(User, people.approver)
        assert case is not None
        assert actor is not None
        reissued = issue_for_case(session, case, "licence", actor, "reviewer", utcnow())
        effects = CertificateEffects(issued=[reissued])
        entry = audit.append(
            session,
            EntryInput(kind=AuditKind.ADMIN, action="reissue", actor_id=actor.id, actor_role="reviewer", case=case),
        )
        effects.record(session, entry.seq)
    old, new = _certificates(result.case_id)
    assert old.id == first.id
    assert old.status is CertificateStatus.SUPERSEDED
    assert old.superseded_by_id == new.id
    assert new.status is CertificateStatus.VALID
