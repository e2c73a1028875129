"""Who reads which case: a role reads only the procedures it acts in and the cases brought to it; the
requester's identity never reaches areas and the committee; administrators read no case comments."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.calendar import local_today
from app.extensions import db
from app.models import Case, Document, Role, SecurityEvent, SecurityEventKind, User
from app.procedures.access_request import services as ar
from app.services.cases import fire
from app.services.config import update_config
from app.services.visibility import may_read_case
from tests.conftest import IsolatedClient
from tests.support.demo_data import VECS_SETTINGS
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import csrf_token, login_as, text

LAND_USE = {"land_use_ruling": "Compatible con H3-C"}
COMMENT = "Falta la carta responsiva del DRO; se previene al solicitante."


def test_administrators_read_no_comments_in_the_oversight_timeline(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(vecs_case(applicant), [("submit", applicant, None, None), ("start_intake", clerk, None, COMMENT)])
    login_as(client, make_user(Role.ADMIN))
    page = client.get(f"/supervision/expedientes/{case.case_id}")
    assert page.status_code == 200
    assert case.folio in text(page)
    assert "start_intake" in text(page)
    assert COMMENT not in text(page)

    auditor = app.test_client()
    login_as(auditor, make_user(Role.AUDITOR))
    assert COMMENT in text(auditor.get(f"/supervision/expedientes/{case.case_id}"))


def _vecs_at_fee_assessment() -> tuple[int, int, str]:
    """A VECS case waiting for the finance office's fee assessment: (case id, applicant id, folio)."""
    admin = make_user(Role.ADMIN)
    for role, department in (
        (Role.INTAKE_CLERK, "ventanilla"),
        (Role.REVIEWER, "desarrollo_urbano"),
        (Role.REVIEWER, "finanzas"),
        (Role.INSPECTOR, "obras_publicas"),
    ):
        make_user((role, department))
    update_config("vecs", {"departments": VECS_SETTINGS["departments"], "fee_table": VECS_SETTINGS["fee_table"]}, admin)
    owner = make_user(Role.APPLICANT, name="Aurelia Confidencial Mendoza")
    case = advance(vecs_case(owner), [("submit", owner, None, None)])
    for trigger, data in (("start_intake", None), ("accept_intake", None), ("rule_land_use", LAND_USE)):
        db.session.rollback()
        assignee = db.session.get(Case, case.case_id).assignee_id  # type: ignore[union-attr]
        case = fire(case.case_id, trigger, assignee, expected_version=case.version, data=data)
    db.session.rollback()
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert stored.department_code == "finanzas"
    return case.case_id, owner, case.folio


def test_a_finance_area_reads_no_construction_case_of_its_department(app: Flask, client: FlaskClient):
    case_id, _, folio = _vecs_at_fee_assessment()
    document_id = db.session.scalars(select(Document.id).where(Document.case_id == case_id)).first()
    area = make_user((Role.AREA, "finanzas"))
    db.session.rollback()
    assert not may_read_case(db.session(), db.session.get(Case, case_id), db.session.get(User, area))  # type: ignore[arg-type]
    login_as(client, area)
    for path in (
        f"/expedientes/{case_id}",
        f"/expedientes/{case_id}/documentos",
        f"/expedientes/{case_id}/archivos/{document_id}",
        "/bandeja",
        "/inicio",
    ):
        answer = client.get(path)
        assert answer.status_code in (403, 404) or path in ("/bandeja", "/inicio"), path
        assert folio not in text(answer)
        assert "Aurelia Confidencial" not in text(answer)

    reviewer = app.test_client()  # the finance reviewer, whose role acts in VECS, still reads it
    login_as(reviewer, make_user((Role.REVIEWER, "finanzas")))
    assert reviewer.get(f"/expedientes/{case_id}").status_code == 200


def _version(case_id: int) -> int:
    db.session.rollback()
    return db.session.get(Case, case_id).version  # type: ignore[union-attr]


def test_areas_and_the_committee_see_the_pseudonym_never_the_requester(app: Flask, client: FlaskClient):
    requester = make_user(Role.APPLICANT, name="Rosa Nombre Verdadero")
    unit = make_user(Role.TRANSPARENCY_UNIT)
    area = make_user((Role.AREA, "obras"))
    filed = ar.file_request(
        "Lector Seudónimo", "", "Contratos de obra pública de 2025", "electronic", account_id=requester
    )
    db.session.rollback()
    version = db.session.get(Case, filed.case_id).version  # type: ignore[union-attr]
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=version)
    db.session.rollback()
    requester_email = db.session.get(User, requester).email  # type: ignore[union-attr]
    for reader in (area, unit):
        browser = app.test_client()
        login_as(browser, reader)
        for path in (f"/expedientes/{filed.case_id}", f"/transparencia/solicitudes/{filed.case_id}"):
            page = browser.get(path)
            if page.status_code == 404:
                continue  # not every route shows the request to every reader
            assert page.status_code == 200, (reader, path)
            assert "Rosa Nombre Verdadero" not in text(page), (reader, path)
            assert requester_email not in text(page), (reader, path)
        assert "Lector Seudónimo" in text(browser.get(f"/expedientes/{filed.case_id}"))
    # the committee, once the request is brought to it
    committee = make_user(Role.COMMITTEE_MEMBER)
    reserved = ar.AreaAnswer(
        "reserved",
        partial=True,
        legal_basis="Art. 113, fracción V, LGTAIP",
        harm_test="Divulgar los planos pone en riesgo la seguridad del inmueble",
        reservation_years=5,
        redactions="Planos estructurales testados",
    )
    ar.answer_turn(filed.case_id, "obras", reserved, area, expected_version=_version(filed.case_id))
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=_version(filed.case_id))
    session_id = ar.open_session("CT-1", local_today(), committee)
    ar.submit_to_committee(filed.case_id, session_id, unit, expected_version=_version(filed.case_id))
    member = app.test_client()
    login_as(member, committee)
    page = member.get(f"/expedientes/{filed.case_id}")
    assert page.status_code == 200
    assert "Rosa Nombre Verdadero" not in text(page)
    assert "Lector Seudónimo" in text(page)
    login_as(client, requester)  # the requester reads their own name
    assert "Rosa Nombre Verdadero" in text(client.get(f"/expedientes/{filed.case_id}"))


# -- someone else's case answers as one that does not exist ----------------------------------------------

CASE_ROUTES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("GET", "/expedientes/{id}", {}),
    ("GET", "/expedientes/{id}/pasos/predio", {}),
    ("GET", "/expedientes/{id}/pasos/documentos", {}),
    ("GET", "/expedientes/{id}/archivos/{document}", {}),
    ("GET", "/expedientes/{id}/documentos", {}),
    ("GET", "/expedientes/{id}/documentos/1.pdf", {}),
    ("POST", "/expedientes/{id}/acciones/withdraw", {"withdraw-comment": "Desisto"}),
    ("POST", "/expedientes/{id}/acciones/start_intake", {}),
    ("POST", "/expedientes/{id}/pasos/predio", {"property_address": "Calle 1"}),
    ("POST", "/expedientes/{id}/pasos/documentos/planos", {}),
    ("POST", "/expedientes/{id}/excusa", {"reason": "Conflicto de interés"}),
    ("GET", "/mis-solicitudes/{id}", {}),
    ("POST", "/mis-solicitudes/{id}", {}),
)
"""Every route taking a case id that an applicant's account may reach (the staff-only pages refuse the
applicant's role before any case is looked up), with what a form of it would send."""
APPLICANTS_ONLY = "/mis-solicitudes/"
"""Routes for the applicant's role alone: other roles are refused by the route, whatever the id."""

_TOKEN = re.compile(r'(name="[\w-]*csrf_token" type="hidden" value=")[^"]*(")|(name="csrf_token" value=")[^"]*(")')


def _answer(client: FlaskClient, method: str, path: str, data: dict[str, str], token: str) -> tuple[int, str, str]:
    """The status, content type and body of an answer, the body with the case's id and the CSRF token (signed
    anew each minute) taken out."""
    response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token, **data})
    body = response.get_data(as_text=True)
    body = _TOKEN.sub(lambda m: (m.group(1) or m.group(3)) + "…" + (m.group(2) or m.group(4)), body)
    return response.status_code, response.mimetype, body


def test_someone_elses_case_answers_an_applicant_as_a_case_that_does_not_exist(app: Flask) -> None:
    owner = make_user(Role.APPLICANT, name="Aurelia Confidencial Mendoza")
    filed = advance(vecs_case(owner), [("submit", owner, None, None)])
    draft = vecs_case(owner)
    request = ar.file_request("Lectora", "", "Contratos de obra pública de 2025", "electronic", account_id=owner)
    document = db.session.scalars(select(Document.id).where(Document.case_id == filed.case_id)).first()
    cases = {filed.case_id: filed.folio, draft.case_id: draft.folio, request.case_id: request.folio}
    missing = max(cases) + 1000
    app.test_client_class = IsolatedClient  # each request on its own, as a browser talking to a real server
    construction = {filed.case_id: filed.folio, draft.case_id: draft.folio}
    readers = {  # who asks, and the cases they may be told nothing of
        "applicant": (make_user(Role.APPLICANT), cases),
        "area of another procedure": (make_user((Role.AREA, "obras")), construction),  # acts in access requests
    }
    for who, (reader, hidden) in readers.items():
        client = app.test_client()
        login_as(client, reader)
        token = csrf_token(text(client.get("/inicio")), "/logout")
        for method, route, data in CASE_ROUTES:
            if route.startswith(APPLICANTS_ONLY) and who != "applicant":
                continue
            unknown = route.format(id=missing, document=document)
            expected = _answer(client, method, unknown, data, token)
            assert expected[0] == 404, (who, method, unknown, expected[0])
            for case_id, folio in hidden.items():
                path = route.format(id=case_id, document=document)
                status, mimetype, body = _answer(client, method, path, data, token)
                where = f"{method} {path} as {who}"
                assert (status, mimetype) == expected[:2], where
                assert body.replace(path, unknown) == expected[2], where
                assert folio not in body, where
                assert "Aurelia Confidencial" not in body, where
    db.session.rollback()
    assert db.session.get(Case, filed.case_id).state == "submitted"  # type: ignore[union-attr]
    assert db.session.get(Case, draft.case_id).state == "draft"  # type: ignore[union-attr]
    assert db.session.get(Case, request.case_id).applicant_id == owner  # type: ignore[union-attr]


def test_staff_of_the_procedure_are_still_told_why_and_who_acts_next(client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    filed = advance(vecs_case(owner), [("submit", owner, None, None)])
    login_as(client, make_user((Role.REVIEWER, "obras_publicas")))  # a role of the procedure, not this case now
    response = client.get(f"/expedientes/{filed.case_id}")
    assert response.status_code == 403
    assert "Ahora le toca actuar a:" in text(response)
    assert filed.folio not in text(response)
    assert client.get(f"/expedientes/{filed.case_id + 1000}").status_code == 404


def test_case_ids_tried_by_a_signed_in_person_are_in_the_security_log_alike(client: FlaskClient) -> None:
    """Someone else's case answered as a missing id is recorded as a missing id is: one access-denied event each,
    with the 404 and the route, so an administrator sees a person trying case ids (the 403 used to be recorded;
    the 404 that replaced it was not), and the record does not tell the two apart."""
    owner = make_user(Role.APPLICANT)
    filed = advance(vecs_case(owner), [("submit", owner, None, None)])
    prober = make_user(Role.APPLICANT)
    login_as(client, prober)
    before = _denied(prober)
    assert client.get(f"/expedientes/{filed.case_id}").status_code == 404
    assert client.get(f"/expedientes/{filed.case_id + 1000}").status_code == 404
    assert client.get("/no-existe").status_code == 404  # not a case's route: not recorded
    events = _denied(prober)[len(before) :]
    assert [(e.path, e.details) for e in events] == [
        (f"/expedientes/{filed.case_id}", {"method": "GET", "endpoint": "cases.show", "status": 404}),
        (f"/expedientes/{filed.case_id + 1000}", {"method": "GET", "endpoint": "cases.show", "status": 404}),
    ]


def _denied(user_id: int) -> list[SecurityEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.user_id == user_id, SecurityEvent.kind == SecurityEventKind.ACCESS_DENIED)
            .order_by(SecurityEvent.id)
        )
    )
