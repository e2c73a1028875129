"""Access-to-information pages on both databases: the public filing form and tracking, the requester's secret
page, the unit's queue, the area's answer, the committee and the guarantor. Bad input gets clear errors and
loses nothing; someone else's request is a 404 that leaks nothing; never a 500."""

from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Case, Document, Role
from app.procedures.access_request import services as svc
from app.procedures.access_request.models import AccessRequest
from app.services.demo import demo_pdf
from tests.support.access_requests import appealed_on, close_instruction
from tests.support.clock import noon
from tests.support.factories import case_version, make_user
from tests.web.helpers import csrf_token, field_errors, flashes, hidden_value, login_as, logout, text
from workflows import access_request as wf


def _requests() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(AccessRequest)) or 0)


def _form(page: str, action: str) -> dict[str, str]:
    data = {"csrf_token": csrf_token(page, action)}
    with contextlib.suppress(AssertionError):
        data["version"] = hidden_value(page, "version", action)
    return data


def _post(client: FlaskClient, page_url: str, action: str, **values: Any) -> TestResponse:
    page = text(client.get(page_url))
    return client.post(action, data={**_form(page, action), **values})


FILING = "/transparencia/solicitar"
REQUEST = {
    "pseudonym": "Lector Curioso",
    "email": "lector@example.test",
    "information_requested": "Contratos de alumbrado público de 2025",
    "delivery_format": "electronic",
}


def _file(client: FlaskClient, **changes: str) -> TestResponse:
    return _post(client, FILING, FILING, **{**REQUEST, **changes})


def _token(response: TestResponse) -> str:
    match = re.search(r"/transparencia/seguimiento/([A-Za-z0-9_-]+)", response.headers.get("Location", ""))
    assert match, response.headers
    return match.group(1)


def test_filing_without_an_account_gives_folio_receipt_and_link(app: Flask, client: FlaskClient):
    page = client.get(FILING)
    assert page.status_code == 200
    assert "seudónimo" in text(page)
    response = _file(client)
    assert response.status_code == 302
    token = _token(response)
    receipt = client.get(response.headers["Location"])
    body = text(receipt)
    assert receipt.status_code == 200
    assert "Acuse de recibo" in body
    db.session.rollback()
    case = db.session.scalars(select(Case)).one()
    assert case.folio in body
    assert token in body
    assert "Contratos de alumbrado" in body
    # the public page by folio shows state and dates, nothing personal
    public = client.get("/transparencia/consulta", query_string={"folio": case.folio})
    assert public.status_code == 200
    assert case.folio in text(public)
    assert "Vence el" in text(public)
    assert "Lector" not in text(public)
    assert "lector@example.test" not in text(public)
    assert "alumbrado" not in text(public)


def test_the_filing_form_sent_twice_files_one_request_and_shows_its_receipt_twice(app: Flask, client: FlaskClient):
    page = text(client.get(FILING))
    form = {**_form(page, FILING), "filing_key": hidden_value(page, "filing_key", FILING), **REQUEST}
    assert len(form["filing_key"]) >= 32
    assert hidden_value(text(client.get(FILING)), "filing_key", FILING) != form["filing_key"]  # fresh each time

    first = client.post(FILING, data=form)
    again = client.post(FILING, data=form)  # the double click, or the back button and the same form

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _requests() == 1
    receipt = client.get(again.headers["Location"])
    assert receipt.status_code == 200
    assert "Acuse de recibo" in text(receipt)

    changed = client.post(FILING, data={**form, "information_requested": "Contratos de bacheo de 2025"})
    assert changed.status_code == 409
    folio = db.session.scalars(select(Case.folio)).one()
    assert any(folio in message and "presentar otra" in message for message in flashes(changed))
    assert "Contratos de bacheo de 2025" in text(changed)  # the new text is kept to send again
    fresh = hidden_value(text(changed), "filing_key", FILING)
    assert fresh != form["filing_key"]
    assert _requests() == 1

    second = client.post(
        FILING, data={**form, "information_requested": "Contratos de bacheo de 2025", "filing_key": fresh}
    )
    assert second.status_code == 302
    assert second.headers["Location"] != first.headers["Location"]
    assert _requests() == 2


def test_a_filing_form_sent_again_in_english_is_told_so_in_english(app: Flask, client: FlaskClient):
    page = text(client.get(FILING))
    form = {**_form(page, FILING), "filing_key": hidden_value(page, "filing_key", FILING), **REQUEST}
    assert client.post(FILING, data=form).status_code == 302

    changed = client.post(FILING, data={**form, "pseudonym": "Otro Lector"}, headers={"Accept-Language": "en"})

    assert changed.status_code == 409
    assert any("This form already filed request" in message for message in flashes(changed)), flashes(changed)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"pseudonym": "  "}, "obligatorio"),
        ({"email": "no-es-correo"}, "correo electrónico válido"),
        ({"email": ""}, "correo electrónico"),
        ({"information_requested": ""}, "obligatorio"),
        ({"delivery_format": "fax"}, "Opción inválida"),
        ({"information_requested": "x" * 5001}, "5000"),
    ],
)
def test_bad_filing_input_is_explained_and_kept(
    app: Flask, client: FlaskClient, changes: dict[str, str], expected: str
):
    response = _file(client, **changes)
    assert response.status_code == 422
    assert any(expected.lower() in e.lower() for e in field_errors(response)) or any(
        expected.lower() in f.lower() for f in flashes(response)
    ), (field_errors(response), flashes(response))
    assert _requests() == 0
    kept = changes.get("information_requested", REQUEST["information_requested"])
    assert kept[:40] in text(response)  # what was typed is still there


def test_filing_without_csrf_is_refused(app: Flask, client: FlaskClient):
    response = client.post(FILING, data=REQUEST)
    assert response.status_code in (400, 422)
    assert _requests() == 0


def test_e_mail_of_an_existing_account_gets_the_same_answer_as_a_new_one(app: Flask, client: FlaskClient):
    user = make_user(Role.APPLICANT)
    from tests.support.factories import email_of

    response = _file(client, email=email_of(user))
    fresh = _file(app.test_client(), email="nadie-aun@example.test")
    assert response.status_code == fresh.status_code == 302
    assert response.headers["Location"].split("/seguimiento/")[0] == fresh.headers["Location"].split("/seguimiento/")[0]
    assert _requests() == 2


SHAPE = (
    "El folio solo contiene letras, números y guiones.",
    "The folio number contains only letters, digits and hyphens.",
)
LONG = ("El folio es demasiado largo.", "The folio number is too long.")
BLANK = ("Escriba el folio de la solicitud.", "Enter the request's folio number.")
NUL = (
    "Lo que envió contiene un carácter nulo (NUL), que no puede guardarse.",
    "What you sent contains a null character (NUL), which cannot be stored.",
)


@pytest.mark.parametrize(
    ("folio", "message"),
    [
        ("\x00", NUL),
        ("SAI-2026-\x00001", NUL),
        ("SAI 2026", SHAPE),
        ("<b>", SHAPE),
        ("A" * 41, LONG),
        ("   ", BLANK),
    ],
)
def test_a_folio_that_cannot_be_one_is_a_clear_error_not_a_server_error(
    app: Flask, client: FlaskClient, folio: str, message: tuple[str, str]
) -> None:
    # a NUL byte reached PostgreSQL's text comparison and failed there (a 500), found by fuzzing the forms
    for headers, expected in (({}, message[0]), ({"Accept-Language": "en"}, message[1])):
        answer = client.get("/transparencia/consulta", query_string={"folio": folio}, headers=headers)
        assert answer.status_code == 400
        assert str(escape(expected)) in answer.get_data(as_text=True)  # as the page escapes it


def test_unknown_folio_and_bad_links_are_404(app: Flask, client: FlaskClient):
    assert client.get("/transparencia/consulta", query_string={"folio": "SAI-2026-999999"}).status_code == 404
    assert client.get("/transparencia/seguimiento/" + "A" * 43).status_code == 404
    assert client.get("/transparencia/seguimiento/" + "A" * 300).status_code == 404
    assert client.post("/transparencia/seguimiento/abc/turn").status_code in (400, 404)


@pytest.fixture
def office(app: Flask) -> dict[str, int]:
    return {
        "unit": make_user(Role.TRANSPARENCY_UNIT),
        "obras": make_user((Role.AREA, "obras")),
        "tesoreria": make_user((Role.AREA, "tesoreria")),
        "committee": make_user(Role.COMMITTEE_MEMBER),
        "guarantor": make_user(Role.GUARANTOR),
    }


def test_the_whole_path_through_the_pages(app: Flask, client: FlaskClient, office: dict[str, int]):
    token = _token(_file(client))
    db.session.rollback()
    case_id = db.session.scalars(select(Case.id)).one()
    case_url = f"/transparencia/solicitudes/{case_id}"

    login_as(client, office["unit"])
    queue = client.get("/transparencia/unidad")
    assert queue.status_code == 200
    assert db.session.get(Case, case_id).folio in text(queue)
    bad = _post(client, case_url, f"{case_url}/turnar")
    assert bad.status_code == 422
    assert field_errors(bad)
    turned = _post(client, case_url, f"{case_url}/turnar", departments=["obras"])
    assert turned.status_code == 302, flashes(turned)
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})

    login_as(client, office["obras"])
    assert db.session.get(Case, case_id).folio in text(client.get("/transparencia/areas"))
    action = f"{case_url}/turno/obras"
    refused = _post(client, case_url, action, kind="reserved", legal_basis="Art. 113", answer_text="Se reserva")
    assert refused.status_code == 422
    assert any("prueba de daño" in f for f in flashes(refused))
    assert "Se reserva" in text(refused)  # kept
    upload = client.post(
        f"{case_url}/turno/obras/documento",
        data={
            **_form(text(client.get(case_url)), f"{case_url}/turno/obras/documento"),
            "kind": "respuesta_area",
            "file": (io.BytesIO(b"not a pdf"), "x.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422
    assert any("PDF" in f for f in flashes(upload))
    upload = client.post(
        f"{case_url}/turno/obras/documento",
        data={
            **_form(text(client.get(case_url)), f"{case_url}/turno/obras/documento"),
            "kind": "respuesta_area",
            "file": (io.BytesIO(demo_pdf("contratos")), "contratos.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    answered = _post(client, case_url, action, kind="available", answer_text="Se anexan")
    assert answered.status_code == 302, flashes(answered)
    # the unit's pages are not the area's
    assert client.get("/transparencia/unidad").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})

    login_as(client, office["unit"])
    assert _post(client, case_url, f"{case_url}/unidad/consolidate").status_code == 302
    empty = _post(client, case_url, f"{case_url}/responder", response_summary="")
    assert empty.status_code == 422
    db.session.rollback()
    document_id = db.session.scalars(select(Document.id).where(Document.case_id == case_id)).one()
    done = _post(
        client, case_url, f"{case_url}/responder", response_summary="Se entregan los contratos", documents=[document_id]
    )
    assert done.status_code == 302, flashes(done)
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})

    # the requester sees the answer and the document, and appeals choosing grounds
    tracking = f"/transparencia/seguimiento/{token}"
    page = text(client.get(tracking))
    assert "Se entregan los contratos" in page
    assert "contratos.pdf" in page
    links = re.findall(r'href="(/transparencia/seguimiento/[^"]+/(?:documentos|resoluciones)/\d+)"', page)
    assert len(links) == 2  # the area's answer and the sealed response
    for link in links:
        pdf = client.get(link)
        assert pdf.status_code == 200
        assert pdf.data.startswith(b"%PDF-")
    other = svc.file_request("Otra", "otra@example.test", "Otra cosa", "electronic")
    for link in links:  # another requester's link does not reach these files
        assert client.get(link.replace(token, other.token)).status_code == 404
    no_grounds = _post(client, tracking, f"{tracking}/appeal", appeal_statement="Incompleta")
    assert no_grounds.status_code == 422
    assert "Incompleta" in text(no_grounds)
    appealed = _post(client, tracking, f"{tracking}/appeal", appeal_grounds=["incomplete"], appeal_statement="x")
    assert appealed.status_code == 302, flashes(appealed)
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "appeal_filed"
    assert "decidirá si lo admite" in text(client.get(tracking))

    login_as(client, office["guarantor"])
    assert db.session.get(Case, case_id).folio in text(client.get("/transparencia/garante"))
    unreasoned = _post(client, case_url, f"{case_url}/garante/dismiss_appeal", comment="")
    assert unreasoned.status_code == 422  # a dismissal says why the appeal is improper
    assert "improcedente" in text(unreasoned)
    admitted = _post(client, case_url, f"{case_url}/garante/admit_appeal")
    assert admitted.status_code == 302, flashes(admitted)
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "appeal_pleadings"
    staff = text(client.get(case_url))
    assert 'id="form-resolve"' not in staff  # resolved only once the instruction is closed (art. 150, fr. VII)
    assert 'id="form-close-instruction"' not in staff  # the parties' term runs and neither pleaded
    extension_form = _form(staff, f"{case_url}/garante/extend_resolution")  # its token and version serve
    early = client.post(f"{case_url}/garante/close_instruction", data=extension_form)
    assert early.status_code == 422
    assert any("Aún corre el plazo de las partes" in f for f in flashes(early))
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})

    # the parties plead: the unit with its evidence on the request's page, the requester on the tracking page
    login_as(client, office["unit"])
    pleadings_url = f"{case_url}/alegatos"
    assert 'id="form-unit-pleadings"' in text(client.get(case_url))
    blank = _post(client, case_url, pleadings_url, unit_pleadings=" ")
    assert blank.status_code == 422
    assert field_errors(blank)
    pleaded = client.post(
        pleadings_url,
        data={
            **_form(text(client.get(case_url)), pleadings_url),
            "unit_pleadings": "La respuesta entregó todos los contratos.",
            "file": (io.BytesIO(demo_pdf("pruebas")), "pruebas.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert pleaded.status_code == 302, flashes(pleaded)
    staff = text(client.get(case_url))
    assert "La respuesta entregó todos los contratos." in staff
    assert "pruebas.pdf" in staff
    assert 'id="form-unit-pleadings"' not in staff  # once
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})
    page = text(client.get(tracking))
    assert "Pruebas y alegatos" in page
    assert "Artículo 150, fracciones II y III" in page
    assert "La respuesta entregó todos los contratos." not in page  # the unit's pleadings go to the guarantor
    assert "pruebas.pdf" not in page
    pleadings_of_requester = f"{tracking}/alegatos"

    def plead(evidence: tuple[bytes, str]) -> TestResponse:
        return client.post(
            pleadings_of_requester,
            data={
                **_form(text(client.get(tracking)), pleadings_of_requester),
                "requester_pleadings": "Faltan contratos.",
                "file": (io.BytesIO(evidence[0]), evidence[1]),
            },
            content_type="multipart/form-data",
        )

    not_pdf = plead((b"MZ not a PDF", "contratos.pdf"))
    assert not_pdf.status_code == 422
    assert flashes(not_pdf)
    assert "Faltan contratos." in text(not_pdf)  # kept
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "appeal_pleadings"
    mine = plead((demo_pdf("contratos"), "contratos-omitidos.pdf"))
    assert mine.status_code == 302, flashes(mine)
    page = text(client.get(tracking))
    assert "Faltan contratos." in page
    assert "contratos-omitidos.pdf" in page  # their own evidence
    assert "pruebas.pdf" not in page  # never the unit's
    assert 'id="form-file_requester_pleadings"' not in page
    db.session.rollback()
    (evidence_id,) = db.session.get(Case, case_id).data["requester_pleadings_documents"]
    evidence = db.session.get(Document, evidence_id)
    assert (evidence.kind, evidence.original_name) == ("pruebas_alegatos", "contratos-omitidos.pdf")
    assert client.get(f"{tracking}/documentos/{evidence_id}").status_code == 404  # not a delivered document

    login_as(client, office["guarantor"])
    staff = text(client.get(case_url))
    assert "Faltan contratos." in staff
    assert "pruebas.pdf" in staff
    assert "contratos-omitidos.pdf" in staff
    assert client.get(f"/expedientes/{case_id}/archivos/{evidence_id}").status_code == 200
    closed = _post(client, case_url, f"{case_url}/garante/close_instruction")
    assert closed.status_code == 302, flashes(closed)
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "appealed"
    assert "decretó el cierre de instrucción" in text(client.get(tracking))
    resolved = _post(
        client,
        case_url,
        f"{case_url}/garante/resolve_appeal",
        appeal_decision="revoke",
        appeal_resolution="Entréguese completa",
    )
    assert resolved.status_code == 302, flashes(resolved)
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "compliance"

    # the compliance report, the appellant's view of it (LGTAIP 2015 art. 197) and the guarantor's ruling (art. 198)
    logout(client)
    login_as(client, office["unit"])
    reported = _post(client, case_url, f"{case_url}/unidad/report_compliance", compliance_report="Se entregó completa")
    assert reported.status_code == 302, flashes(reported)
    logout(client)
    login_as(client, office["guarantor"])
    staff = text(client.get(case_url))
    assert 'id="form-accept-compliance"' not in staff  # the appellant's term runs
    assert 'id="form-reject-compliance"' not in staff
    assert 'id="vista-cumplimiento"' in staff
    assert "No se ha manifestado." in staff
    logout(client)
    page = text(client.get(tracking))
    assert "Se entregó completa" in page
    remarks_url = f"{tracking}/file_compliance_remarks"
    assert f'action="{remarks_url}"' in page
    blank = client.post(remarks_url, data={**_form(page, remarks_url), "compliance_remarks": "   "})
    assert blank.status_code == 422
    assert field_errors(blank)
    remarked = client.post(
        remarks_url, data={**_form(page, remarks_url), "compliance_remarks": "Falta el anexo 3 del contrato."}
    )
    assert remarked.status_code == 302, flashes(remarked)
    page = text(client.get(tracking))
    assert "Falta el anexo 3 del contrato." in page
    assert f'action="{remarks_url}"' not in page  # once
    login_as(client, office["guarantor"])
    staff = text(client.get(case_url))
    assert "Falta el anexo 3 del contrato." in staff
    assert 'id="vista-cumplimiento"' not in staff
    rejected = _post(client, case_url, f"{case_url}/garante/reject_compliance", comment="Entregue el anexo 3")
    assert rejected.status_code == 302, flashes(rejected)
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "compliance"


def test_committee_session_and_decision_pages(app: Flask, client: FlaskClient, office: dict[str, int]):
    filed = svc.file_request("Observatorio", "obs@example.test", "Planos", "electronic")
    svc.turn_request(filed.case_id, ["obras"], office["unit"], expected_version=1)
    db.session.rollback()
    version = db.session.get(Case, filed.case_id).version
    svc.answer_turn(
        filed.case_id,
        "obras",
        svc.AreaAnswer("confidential", legal_basis="Art. 116"),
        office["obras"],
        expected_version=version,
    )
    db.session.rollback()
    svc.unit_act(
        filed.case_id, "consolidate", office["unit"], expected_version=db.session.get(Case, filed.case_id).version
    )

    login_as(client, office["committee"])
    bad = _post(client, "/transparencia/comite", "/transparencia/comite", number="", held_on="ayer")
    assert bad.status_code == 422
    assert field_errors(bad)
    created = _post(client, "/transparencia/comite", "/transparencia/comite", number="CT-01", held_on="2026-11-30")
    assert created.status_code == 302
    again = _post(client, "/transparencia/comite", "/transparencia/comite", number="CT-01", held_on="2026-11-30")
    assert again.status_code == 422
    assert any("Ya existe" in f for f in flashes(again))
    db.session.rollback()
    session_id = svc.sessions()[0].id
    svc.submit_to_committee(
        filed.case_id, session_id, office["unit"], expected_version=db.session.get(Case, filed.case_id).version
    )
    session_url = f"/transparencia/comite/{session_id}"
    page = text(client.get(session_url))
    assert filed.folio in page
    item_id = int(re.search(r"/asuntos/(\d+)", page).group(1))  # type: ignore[union-attr]
    action = f"{session_url}/asuntos/{item_id}"
    prefix = f"item{item_id}-"
    token = re.search(rf'name="{prefix}csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    second = make_user(Role.COMMITTEE_MEMBER)
    page = text(client.get(session_url))
    votes = {f"{prefix}vote_{office['committee']}": "favor", f"{prefix}vote_{second}": "favor"}

    def decide(**values: str) -> TestResponse:
        fields = {f"{prefix}{k}": v for k, v in values.items()}
        return client.post(action, data={f"{prefix}csrf_token": token, **votes, **fields})

    wrong = decide(decision="approve", resolution_text="Se aprueba")
    assert wrong.status_code == 422
    assert "Se aprueba" in text(wrong)
    ok = decide(decision="confirm", resolution_text="Se confirma la confidencialidad")
    assert ok.status_code == 302, flashes(ok)
    assert "Se confirma la confidencialidad" in text(client.get(session_url))
    assert client.post(f"{session_url}/asuntos/999999", data={f"{prefix}csrf_token": token}).status_code == 404


def test_someone_elses_request_leaks_nothing(app: Flask, client: FlaskClient, office: dict[str, int]):
    mine = svc.file_request("Uno", "uno@example.test", "Secreto de uno", "electronic")
    theirs = svc.file_request("Dos", "dos@example.test", "Secreto de dos", "electronic")
    svc.turn_request(mine.case_id, ["obras"], office["unit"], expected_version=1)
    # a requester's link shows only their own request
    body = text(client.get(f"/transparencia/seguimiento/{mine.token}"))
    assert "Secreto de uno" in body
    assert "Secreto de dos" not in body
    # an area sees only what was turned to it, and cannot act on others' turns
    login_as(client, office["tesoreria"])
    response = client.get(f"/transparencia/solicitudes/{mine.case_id}")
    assert response.status_code == 404
    assert "Secreto" not in text(response)
    generic = client.get(f"/expedientes/{mine.case_id}")  # nor through the generic case page
    assert generic.status_code in (403, 404)
    assert "Secreto" not in text(generic)
    forged = client.post(
        f"/transparencia/solicitudes/{mine.case_id}/turno/obras",
        data={"kind": "available", "version": "2", "csrf_token": csrf_token(text(client.get("/inicio")), "/logout")},
    )
    assert forged.status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})
    login_as(client, office["obras"])
    assert client.get(f"/expedientes/{mine.case_id}").status_code == 200  # turned to obras
    assert client.get(f"/expedientes/{theirs.case_id}").status_code in (403, 404)
    # an applicant account is no staff
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/inicio")), "/logout")})
    applicant = make_user(Role.APPLICANT)
    login_as(client, applicant)
    assert client.get(f"/transparencia/solicitudes/{theirs.case_id}").status_code == 403
    assert client.get(f"/transparencia/mis-solicitudes/{theirs.case_id}").status_code == 404
    assert client.get("/transparencia/unidad").status_code == 403
    db.session.rollback()
    assert db.session.scalars(select(Document)).all() == []


def test_logged_in_applicant_files_under_the_account(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT, name="Ana Cuenta")
    login_as(client, applicant)
    page = text(client.get(FILING))
    assert 'name="email"' not in page
    response = _post(client, FILING, FILING, pseudonym="Ana", information_requested="Padrón", delivery_format="usb")
    assert response.status_code == 302, flashes(response)
    db.session.rollback()
    case = db.session.scalars(select(Case)).one()
    assert case.applicant_id == applicant
    action = f"/transparencia/mis-solicitudes/{case.id}"
    own = client.post(action, data={"csrf_token": csrf_token(text(client.get(action)), action)})
    assert own.status_code == 302
    assert client.get(own.headers["Location"]).status_code == 200
    assert "Acceso a la información" in text(client.get("/inicio"))


def test_prevention_answer_through_the_link_with_a_stale_form(app: Flask, client: FlaskClient, office: dict[str, int]):
    filed = svc.file_request("Uno", "uno@example.test", "Contratos", "electronic")
    tracking = f"/transparencia/seguimiento/{filed.token}"
    svc.unit_act(filed.case_id, "prevent", office["unit"], expected_version=1, comment="Precise el año")
    page = text(client.get(tracking))
    action = f"{tracking}/answer_prevention"
    stale = client.post(action, data={**_form(page, action), "version": "1", "clarification": "El año 2025"})
    assert stale.status_code == 422
    assert any("recargue" in f for f in flashes(stale))
    assert "El año 2025" in text(stale)
    ok = client.post(action, data={**_form(page, action), "clarification": "El año 2025"})
    assert ok.status_code == 302, flashes(ok)
    db.session.rollback()
    assert db.session.get(Case, filed.case_id).state == "received"


def _settings(client: FlaskClient) -> dict[str, Any]:
    page = text(client.get("/admin/tramites/access_request"))
    data: dict[str, Any] = {"csrf_token": csrf_token(page, "")}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        data.setdefault(name, value)
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', page, re.S):
        data[name] = value
    data.pop("submit", None)
    return data


def test_terms_and_fees_are_settings_that_apply_to_new_requests(app: Flask, client: FlaskClient):
    login_as(client, make_user(Role.ADMIN))
    page = client.get("/admin/tramites/access_request")
    assert page.status_code == 200
    assert "Plazo de respuesta a la solicitud" in text(page)
    data = _settings(client)
    negative = '{"usb": {"unit": "medium", "fee": "-5"}}'
    bad = client.post("/admin/tramites/access_request", data={**data, "reproduction_fees": negative})
    assert bad.status_code == 422
    assert "la cuota de «usb» debe ser un importe en pesos, cero o mayor" in text(bad), field_errors(bad)
    flat = client.post("/admin/tramites/access_request", data={**data, "reproduction_fees": '{"usb": "5"}'})
    assert flat.status_code == 422
    assert "«usb» debe ser" in text(flat)
    broken = client.post("/admin/tramites/access_request", data={**data, "reproduction_fees": '{"usb": '})
    assert broken.status_code == 422
    assert "No es JSON válido" in text(broken)
    too_long = client.post("/admin/tramites/access_request", data={**data, "payment_days": "31"})
    assert too_long.status_code == 422
    assert "de uno a treinta días" in text(too_long)
    fees = '{"electronic": {"unit": "free"}, "usb": {"unit": "medium", "fee": "12.5"}}'
    saved = client.post(
        "/admin/tramites/access_request",
        data={**data, "response_days": "15", "reproduction_fees": fees},
    )
    assert saved.status_code == 302, field_errors(saved) or flashes(saved)
    filed = svc.file_request("Uno", "uno@example.test", "Padrón", "usb")
    db.session.rollback()
    case = db.session.get(Case, filed.case_id)
    assert case.params["response_days"] == 15
    assert case.params["reproduction_fees"] == {
        "electronic": {"unit": "free", "fee": "0.00"},
        "usb": {"unit": "medium", "fee": "12.50"},
    }
    assert db.session.scalars(select(func.count()).select_from(AccessRequest)).one() == 1


def test_the_administrator_sets_the_citations_of_the_cost_sheet_with_the_other_acts(app: Flask, client: FlaskClient):
    """The cost sheet's rows cite acts of ``legal_bases`` the settings page shows and checks like the others."""
    login_as(client, make_user(Role.ADMIN))
    data = _settings(client)
    bases = json.loads(data["legal_bases"])
    assert bases["reproduction_costs"].startswith("Artículo 141 de la Ley General de Transparencia")
    assert bases["late_response"].startswith("Artículo 134 de la Ley General de Transparencia")
    assert bases["cost_waiver"].startswith("Artículo 141, último párrafo, de la Ley General de Transparencia")
    empty = json.dumps({**bases, "cost_waiver": " "}, ensure_ascii=False)
    refused = client.post("/admin/tramites/access_request", data={**data, "legal_bases": empty})
    assert refused.status_code == 422
    assert "Valor no válido para «legal_bases»" in text(refused), field_errors(refused)
    state = {**bases, "reproduction_costs": "Artículo 88 de la Ley de Transparencia del Estado de Ejemplo"}
    saved = client.post(
        "/admin/tramites/access_request", data={**data, "legal_bases": json.dumps(state, ensure_ascii=False)}
    )
    assert saved.status_code == 302, field_errors(saved) or flashes(saved)
    filed = svc.file_request("Uno", "uno@example.test", "Padrón", "simple_copies")
    db.session.rollback()
    case = db.session.get(Case, filed.case_id)
    assert case is not None
    sheet = wf.cost_sheet({"delivery_format": "simple_copies", "page_count": 25}, case.params)
    assert {r["legal_basis"] for r in sheet.rows} == {"Artículo 88 de la Ley de Transparencia del Estado de Ejemplo"}


def _consolidated_by_service(office: dict[str, int], fmt: str) -> svc.Filed:
    filed = svc.file_request("Lector", "lector@example.test", "Planos", fmt)
    version = lambda: db.session.get(Case, filed.case_id).version  # noqa: E731
    svc.turn_request(filed.case_id, ["obras"], office["unit"], expected_version=version())
    svc.answer_turn(filed.case_id, "obras", svc.AreaAnswer("available"), office["obras"], expected_version=version())
    svc.unit_act(filed.case_id, "consolidate", office["unit"], expected_version=version())
    db.session.rollback()
    return filed


def test_the_unit_answers_with_the_page_count_and_the_cost_sheet_follows(
    app: Flask, client: FlaskClient, office: dict[str, int]
):
    filed = _consolidated_by_service(office, "certified_copies")
    case_url = f"/transparencia/solicitudes/{filed.case_id}"
    login_as(client, office["unit"])
    page = text(client.get(case_url))
    assert "Número de hojas reproducidas" in page
    negative = _post(client, case_url, f"{case_url}/responder", response_summary="Copias", page_count="-3")
    assert negative.status_code == 422
    no_reason = _post(client, case_url, f"{case_url}/responder", response_summary="Copias", page_count="4", waived="y")
    assert no_reason.status_code == 422
    assert any("motivo de la exención" in f for f in flashes(no_reason))
    done = _post(client, case_url, f"{case_url}/responder", response_summary="Copias", page_count="4")
    assert done.status_code == 302, flashes(done) or field_errors(done)
    db.session.rollback()
    case = db.session.get(Case, filed.case_id)
    assert case.data["reproduction_cost"] == "80.00"  # 4 certified pages at 20.00
    assert [r["quantity"] for r in case.data["cost_sheet"]] == ["4"]
    staff = text(client.get(case_url))
    assert "Copia certificada (por hoja)" in staff
    assert "Pendiente: la información se entrega cuando la Tesorería confirme el pago." in staff


@time_machine.travel(datetime(2025, 7, 8, 18, 0, tzinfo=UTC), tick=False)  # Tuesday, noon in Mexico City
def test_a_consulta_directa_on_a_past_or_non_working_day_is_refused_in_words(
    app: Flask, client: FlaskClient, office: dict[str, int]
):
    filed = _consolidated_by_service(office, "consulta_directa")
    case_url = f"/transparencia/solicitudes/{filed.case_id}"
    login_as(client, office["unit"])
    page = text(client.get(case_url))
    assert "Cita para la consulta directa" in page
    fields = {"response_summary": "Consulta", "consultation_time": "10:00", "consultation_place": "Archivo"}
    for day, words in (("2025-07-01", "ya pasó"), ("2025-07-12", "no es día hábil"), ("el martes", "")):
        refused = _post(client, case_url, f"{case_url}/responder", consultation_on=day, **fields)
        assert refused.status_code == 422
        assert not words or any(words in f for f in flashes(refused)), flashes(refused)
    done = _post(client, case_url, f"{case_url}/responder", consultation_on="2025-07-15", **fields)
    assert done.status_code == 302, flashes(done) or field_errors(done)
    tracking = text(client.get(f"/transparencia/seguimiento/{filed.token}"))
    assert "Cita para la consulta directa" in tracking
    assert "15 de julio de 2025" in tracking


def test_the_committees_sessions_come_a_page_at_a_time_newest_first(
    app: Flask, client: FlaskClient, office: dict[str, int]
):
    """The committee's page lists the latest sessions (by the day held) and links to the older ones; a request's
    page offers only the latest to submit a matter to: neither grows with the years of sessions kept."""
    filed = svc.file_request("Observatorio", "obs@example.test", "Planos", "electronic")
    svc.turn_request(filed.case_id, ["obras"], office["unit"], expected_version=1)
    db.session.rollback()
    svc.answer_turn(
        filed.case_id,
        "obras",
        svc.AreaAnswer("confidential", legal_basis="Art. 116"),
        office["obras"],
        expected_version=db.session.get(Case, filed.case_id).version,
    )
    db.session.rollback()
    svc.unit_act(
        filed.case_id, "consolidate", office["unit"], expected_version=db.session.get(Case, filed.case_id).version
    )
    total = svc.SESSIONS_PAGE + 3
    for n in range(total):  # convened out of order: the list follows the day held, not the order convened
        held = date(2020, 1, 1) + timedelta(days=(n * 37) % total)
        svc.open_session(f"CT-{n:03d}", held, office["committee"])
    by_day = sorted(range(total), key=lambda n: (n * 37) % total, reverse=True)

    login_as(client, office["committee"])
    first = text(client.get("/transparencia/comite"))
    numbers = re.findall(r">(CT-\d{3})</a>", first)
    assert numbers == [f"CT-{n:03d}" for n in by_day[: svc.SESSIONS_PAGE]]
    older = re.search(r'href="(/transparencia/comite\?antes=\d+)"', first)
    assert older, first
    second = client.get(older.group(1))
    assert second.status_code == 200
    assert re.findall(r">(CT-\d{3})</a>", text(second)) == [f"CT-{n:03d}" for n in by_day[svc.SESSIONS_PAGE :]]
    assert "Sesiones anteriores" not in text(second)
    assert "Sesiones más recientes" in text(second)
    nothing = client.get("/transparencia/comite?antes=999999")  # a session that does not exist: none after it
    assert nothing.status_code == 200
    assert "No hay sesiones anteriores" in text(nothing)
    assert client.get("/transparencia/comite?antes=x").status_code == 200  # not a session: the first page

    logout(client)
    login_as(client, office["unit"])
    page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    offered = re.findall(r"<option[^>]*>(CT-\d{3}) ·", page)
    assert offered[: svc.SESSIONS_OFFERED] == [f"CT-{n:03d}" for n in by_day[: svc.SESSIONS_OFFERED]]
    assert len(set(offered)) == svc.SESSIONS_OFFERED  # the same choices in both of the page's forms


def test_the_unit_opens_an_areas_document_from_the_requests_page(
    app: Flask, client: FlaskClient, office: dict[str, int]
):
    """The unit delivers what the areas attach: their page listed the files as plain text, under the kind's code
    («respuesta_area»), with no way to read one before delivering it."""
    filed = svc.file_request("Uno", "uno@example.test", "Contratos", "electronic")
    svc.turn_request(filed.case_id, ["obras"], office["unit"], expected_version=1)
    content = demo_pdf("contratos del área")
    document = svc.attach_area_document(
        filed.case_id, "obras", "respuesta_area", "contratos.pdf", content, office["obras"]
    )
    login_as(client, office["unit"])
    page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    link = f"/expedientes/{filed.case_id}/archivos/{document}"
    assert f'href="{link}"' in page
    assert "Documento del área · " in page
    assert "respuesta_area" not in page
    served = client.get(link)
    assert served.status_code == 200
    assert served.get_data() == content


def test_a_refused_withdrawal_of_a_turn_says_why_beside_its_own_area(
    app: Flask, client: FlaskClient, office: dict[str, int]
):
    """Two areas were turned the request; the unit withdraws one with reasons too long: the message is shown
    under that area's reasons (it said "Revise los datos marcados" with nothing marked), not the other's."""
    filed = svc.file_request("Observatorio", "obs@example.test", "Planos", "electronic")
    svc.turn_request(filed.case_id, ["obras", "tesoreria"], office["unit"], expected_version=1)
    case_url = f"/transparencia/solicitudes/{filed.case_id}"
    login_as(client, office["unit"])
    action = f"{case_url}/turnos/obras/retirar"
    form = text(client.get(case_url))
    sent = {name: hidden_value(form, name, action) for name in ("withdraw-csrf_token", "withdraw-version")}
    refused = client.post(action, data={**sent, "withdraw-comment": "x" * 5001})
    assert refused.status_code == 422
    page = text(refused)
    (message,) = field_errors(refused)
    assert "5000" in message
    assert 'aria-describedby="withdraw-comment-obras-error"' in page
    assert 'id="withdraw-comment-obras-error"' in page
    assert 'aria-describedby="withdraw-comment-tesoreria-error"' not in page
    tesoreria = re.search(r'<textarea id="withdraw-comment-tesoreria"[^>]*>(.*?)</textarea>', page, re.S)
    assert tesoreria is not None
    assert tesoreria.group(1).strip() == ""  # the other area's reasons are not filled with these


def test_the_remarks_on_a_compliance_report_refuse_bad_input_clearly_and_keep_it(
    app: Flask, client: FlaskClient, mailbox: Any
) -> None:
    """The requester's remarks (LGTAIP 2015 art. 197) sent before the report, too long, or over a page the request
    has moved past: each a clear refusal (no server error) that keeps what was typed where the form still applies."""
    filed, unit, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    tracking = f"/transparencia/seguimiento/{filed.token}"
    remarks_url = f"{tracking}/file_compliance_remarks"
    early = text(client.get(tracking))
    assert f'action="{remarks_url}"' not in early
    token = csrf_token(text(client.get(FILING)), FILING)  # the session's token, from a form the page lacks
    version = str(case_version(filed.case_id))
    refused = client.post(
        remarks_url, data={"csrf_token": token, "version": version, "compliance_remarks": "Antes de tiempo"}
    )
    assert refused.status_code == 422
    assert any("no es posible en el estado" in message for message in flashes(refused)), flashes(refused)
    with time_machine.travel(noon(date(2025, 7, 14)), tick=False):
        svc.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        close_instruction(filed, unit, guarantor)
        svc.guarantor_act(
            filed.case_id,
            "resolve_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            data={"appeal_decision": "revoke", "appeal_resolution": "Entréguense los anexos"},
        )
        svc.unit_act(
            filed.case_id,
            "report_compliance",
            unit,
            expected_version=case_version(filed.case_id),
            data={"compliance_report": "Se entregaron los anexos"},
        )
        page = text(client.get(tracking))
        long = client.post(remarks_url, data={**_form(page, remarks_url), "compliance_remarks": "x" * 5001})
        assert long.status_code == 422
        assert field_errors(long)
        assert "x" * 5001 in text(long)  # kept
        # the remarks made meanwhile (another tab): the page the requester sends from no longer stands
        stale = _form(page, remarks_url)
        svc.requester_act(
            filed.token,
            wf.COMPLIANCE_REMARKS,
            expected_version=case_version(filed.case_id),
            data={"compliance_remarks": "Faltan anexos"},
        )
        again = client.post(remarks_url, data={**stale, "compliance_remarks": "Faltan más anexos"})
        assert again.status_code == 422
        assert any("cambió mientras lo consultaba" in message for message in flashes(again)), flashes(again)
    db.session.rollback()
    assert db.session.get(Case, filed.case_id).data["compliance_remarks"] == "Faltan anexos"
