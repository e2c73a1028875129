"""A kind of document is what a procedure declares: issued, stored and verified with no migration and no
edit to generic code, on SQLite and PostgreSQL.

The throw-away kind below exists only in this file: it is added to a copy of the VECS declaration installed
in place of the registry for one test.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

import workflows
from app import audit
from app.audit import EntryInput
from app.calendar import local_today
from app.certificates import cadena_fields, verify_sello
from app.certificates.render import TEMPLATES_DIR
from app.engine import NotFound
from app.extensions import db
from app.models import AuditKind, Case, Certificate, CertificateStatus, User, utcnow
from app.services import document_context
from app.services.certificates import CertificateEffects, issue_for_case
from app.services.uow import unit_of_work
from app.storage import get_storage
from tests.certificates.conftest import People, licensed, pdf_text, to_licence_review
from tests.support.factories import advance
from workflows import vecs
from workflows.procedure import Document, Procedure, Registry, Row

KIND = "constancia_de_prueba"


def _build(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    data = context["data"]
    licence = context["previous"]["licence"]["fields"]
    return (
        {
            "numero_licencia": licence["numero_licencia"],
            "titular": context["applicant"],
            "ubicacion": data.get("property_address"),
            "resultado_inspeccion": "La obra se revisó para esta constancia",
            "vence": context["valid_until"],
        },
        {"fecha_licencia": context["previous"]["licence"]["issued_on"]},
    )


THROW_AWAY = Document(
    kind=KIND,
    title="Constancia de prueba",
    template="occupancy.html",
    tipo="CONSTANCIA_PRUEBA",
    cadena=("numero_licencia", "titular", "ubicacion", "resultado_inspeccion", "vence"),
    rows=(
        Row("numero_licencia", "Licencia de construcción"),
        Row("titular", "Titular"),
        Row("ubicacion", "Ubicación del predio"),
        Row("resultado_inspeccion", "Revisión"),
        Row("vence", "Vigente hasta", "date"),
    ),
    legal_basis="Reglamento de prueba, artículo 1.",
    validity="licence_validity_days",
    build=_build,
)


def _with_throw_away() -> Registry:
    procedures = tuple(
        dataclasses.replace(p, documents=(*p.documents, THROW_AWAY)) if p.name == "vecs" else p
        for p in workflows.PROCEDURES
    )
    return Registry(procedures)


def _issue(case_id: int, actor_id: int) -> Certificate:
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        actor = session.get(User, actor_id)
        assert case is not None
        assert actor is not None
        certificate = issue_for_case(session, case, KIND, actor, "reviewer", utcnow())
        entry = audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN, action="issue_test_document", actor_id=actor.id, actor_role="reviewer", case=case
            ),
        )
        CertificateEffects(issued=[certificate]).record(session, entry.seq)
        certificate_id = certificate.id
    db.session.rollback()
    stored = db.session.get(Certificate, certificate_id)
    assert stored is not None
    return stored


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_a_kind_declared_only_here_is_issued_and_verified_on_the_public_page(
    app: Flask, client: FlaskClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = licensed(people)
    monkeypatch.setattr(workflows, "REGISTRY", _with_throw_away())

    certificate = _issue(case.case_id, people.approver)

    assert certificate.kind == KIND  # stored as is: the database no longer limits the kinds
    assert certificate.status is CertificateStatus.VALID
    assert certificate.valid_until == local_today(certificate.issued_at) + timedelta(days=365)
    assert cadena_fields(KIND)[6:-4] == THROW_AWAY.cadena
    assert certificate.cadena_original.startswith(f"||1.0|CONSTANCIA_PRUEBA|{certificate.number}|{case.folio}|")
    assert "|LC-2026-0001|José Ángel Muñoz Peñaloza|Av. Hidalgo 123, Centro|" in certificate.cadena_original
    signer = x509.load_pem_x509_certificate(certificate.signing_certificate.encode())
    assert verify_sello(signer, certificate.cadena_original, certificate.sello)

    response = client.get(f"/verificar/{certificate.folio}?c={certificate.verification_code}")
    assert response.status_code == 200
    page = _text(response.get_data(as_text=True))
    assert "Documento auténtico y vigente" in page
    assert "Constancia de prueba" in page  # the declared title, from the registry
    assert "El sello digital corresponde a la cadena original" in page
    assert certificate.cadena_original in html.unescape(response.get_data(as_text=True))
    assert "Vigente hasta" in page

    # once the kind is no longer installed, its documents still verify (named by their kind)
    monkeypatch.setattr(workflows, "REGISTRY", Registry(workflows.PROCEDURES))
    response = client.get(f"/verificar/{certificate.folio}?c={certificate.verification_code}")
    assert response.status_code == 200
    page = _text(response.get_data(as_text=True))
    assert "Documento auténtico y vigente" in page
    assert KIND in page
    assert "El sello digital corresponde a la cadena original" in page


def test_a_kind_the_case_procedure_does_not_declare_is_refused(app: Flask, people: People) -> None:
    case = licensed(people)
    with pytest.raises(NotFound):
        _issue(case.case_id, people.approver)  # declared nowhere
    with unit_of_work() as session:
        row = session.get(Case, case.case_id)
        actor = session.get(User, people.approver)
        assert row is not None
        with pytest.raises(NotFound):
            issue_for_case(session, row, "access_response", actor, "reviewer", utcnow())  # another procedure's
    db.session.rollback()
    assert db.session.scalars(
        select(Certificate.kind).where(Certificate.case_id == case.case_id, Certificate.kind != "payment_order")
    ).all() == ["licence"]


def _set_params(case_id: int, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Change the case's copy of the settings as if the jurisdiction had them when it was opened (the
    case's version is left alone: nothing happened to the case itself)."""
    with unit_of_work() as session:
        params = session.scalars(select(Case.params).where(Case.id == case_id)).one()
        session.execute(update(Case).where(Case.id == case_id).values(params=change(dict(params))))


def test_the_licence_lasts_what_the_case_settings_say(app: Flask, people: People) -> None:
    case = to_licence_review(people)
    _set_params(case.case_id, lambda params: {**params, "licence_validity_days": 90})
    licensed_case = advance(case, [("approve_licence", people.approver, {"licence_number": "LC-2026-0090"}, None)])
    db.session.rollback()
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == licensed_case.case_id, Certificate.kind != "payment_order")
    ).one()
    issued_on = local_today(certificate.issued_at)
    assert certificate.valid_until == issued_on + timedelta(days=90)
    assert f"|{issued_on.isoformat()}|{(issued_on + timedelta(days=90)).isoformat()}|" in certificate.cadena_original


def test_a_case_opened_before_the_validity_setting_existed_keeps_the_workflow_default(
    app: Flask, people: People
) -> None:
    case = to_licence_review(people)
    _set_params(case.case_id, lambda params: {k: v for k, v in params.items() if k != "licence_validity_days"})
    licensed_case = advance(case, [("approve_licence", people.approver, {"licence_number": "LC-2026-0091"}, None)])
    db.session.rollback()
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == licensed_case.case_id, Certificate.kind != "payment_order")
    ).one()
    assert vecs.DEFAULT_PARAMS["licence_validity_days"] == 365
    assert certificate.valid_until == local_today(certificate.issued_at) + timedelta(days=365)


def test_a_kind_may_print_the_legal_basis_the_case_settings_give(
    app: Flask, people: People, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``legal_basis_of`` reads the case's settings (here, a jurisdiction's validity) for the *Fundamento
    legal*; the installation's ``CERTIFICATE_LEGAL_BASIS`` still replaces it for the kind."""
    case = licensed(people)
    _set_params(case.case_id, lambda params: {**params, "licence_validity_days": 180})
    cited = dataclasses.replace(
        THROW_AWAY, legal_basis_of=lambda params: f"Reglamento de prueba, artículo {params['licence_validity_days']}."
    )
    assert cited.legal_basis_for(vecs.DEFAULT_PARAMS) == "Reglamento de prueba, artículo 365."
    assert THROW_AWAY.legal_basis_for({"licence_validity_days": 180}) == THROW_AWAY.legal_basis
    procedures = tuple(
        dataclasses.replace(p, documents=(*p.documents, cited)) if p.name == "vecs" else p for p in workflows.PROCEDURES
    )
    monkeypatch.setattr(workflows, "REGISTRY", Registry(procedures))
    storage = get_storage(Path(app.config["DOCUMENTS_DIR"]))

    text = pdf_text(storage.get(_issue(case.case_id, people.approver).storage_key), tmp_path, "settings")
    assert "Reglamento de prueba, artículo 180." in text

    monkeypatch.setitem(app.config, "CERTIFICATE_LEGAL_BASIS", {KIND: "Ley de la instalación, artículo 9."})
    text = pdf_text(storage.get(_issue(case.case_id, people.approver).storage_key), tmp_path, "installation")
    assert "Ley de la instalación, artículo 9." in text
    assert "Reglamento de prueba" not in text


def _procedure_with(*documents: Document, issues: str = "licence") -> Procedure:
    workflow = vecs.VECS_V1
    transitions = tuple(
        dataclasses.replace(t, issues=issues) if t.trigger == "approve_licence" else t for t in workflow.transitions
    )
    order = vecs.PROCEDURE.find_document("payment_order")  # the fee assessment issues it
    assert order is not None
    return dataclasses.replace(
        vecs.PROCEDURE,
        workflows=(dataclasses.replace(workflow, transitions=transitions),),
        documents=(order, *documents),
    )


def test_declarations_are_checked() -> None:
    _, licence, occupancy = vecs.DOCUMENTS
    with pytest.raises(ValueError, match="issues undeclared document 'licence'"):
        _procedure_with(occupancy)
    with pytest.raises(ValueError, match="duplicate document kinds"):
        _procedure_with(licence, licence, occupancy)
    with pytest.raises(ValueError, match="not in the cadena"):
        _procedure_with(dataclasses.replace(licence, rows=(Row("otro", "Otro"),)), occupancy)
    with pytest.raises(ValueError, match="repeats a common field"):
        _procedure_with(dataclasses.replace(licence, cadena=(*licence.cadena, "folio")), occupancy)
    with pytest.raises(ValueError, match="validity parameter 'no_such_days' missing"):
        _procedure_with(dataclasses.replace(licence, validity="no_such_days"), occupancy)
    with pytest.raises(ValueError, match="unknown format"):
        _procedure_with(dataclasses.replace(licence, rows=(Row("titular", "Titular", "roman"),)), occupancy)
    # a kind is unique across the installed procedures
    other = dataclasses.replace(
        workflows.procedure("cdmx_tipo_b"), documents=(dataclasses.replace(occupancy, build=_build),)
    )
    with pytest.raises(ValueError, match="declared by two procedures"):
        Registry((vecs.PROCEDURE, other))


def test_every_declared_document_has_its_template_and_its_gatherer() -> None:
    for document in workflows.REGISTRY.documents():
        assert (TEMPLATES_DIR / document.template).is_file(), document.template
        if document.gatherer is not None:
            importlib.import_module(document.gatherer)
            assert document.kind in document_context._GATHERERS, document.kind


def test_a_declared_gatherer_that_registers_nothing_is_a_clear_error(app: Flask, people: People) -> None:
    case = licensed(people)
    orphan = dataclasses.replace(THROW_AWAY, gatherer="app.services.document_context")
    with unit_of_work() as session:
        row = session.get(Case, case.case_id)
        assert row is not None
        with pytest.raises(LookupError, match="registers no gatherer"):
            document_context.gather(session, row, orphan)
