"""The construction pages with bad input, on both databases: every field says what is wrong in Spanish; wrong,
oversized, empty and corrupt files; double submits; stale forms; forged requests. Never a 500, nothing lost,
nothing stored twice."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

import app.services.cases as cases_service
from app.extensions import db
from app.models import AuditEntry, Case, Document, OutboxMessage, Role, User, WorkflowConfigChange
from app.services.auth import decrypt
from app.services.certificates import CertificateEffects
from app.services.demo import demo_pdf
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import (
    csrf_token,
    field_errors,
    flashes,
    form_fields,
    hidden_value,
    login,
    login_as,
    settings_form,
    text,
)


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick password hashing, and no certificate rendering (these tests are about forms)."""
    monkeypatch.setattr(cases_service, "transition_effects", lambda *args, **kwargs: CertificateEffects())


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def post_action(
    client: FlaskClient, case_id: int, trigger: str, page: str | None = None, **values: Any
) -> TestResponse:
    """Use a trigger's form on the case page as a browser would (``page`` is the page the form came from)."""
    action = f"/expedientes/{case_id}/acciones/{trigger}"
    page = page if page is not None else text(client.get(f"/expedientes/{case_id}"))
    data: dict[str, Any] = form_fields(page, action)
    data.update({f"{trigger}-{name}": value for name, value in values.items()})
    return client.post(action, data=data)


def assert_no_500(response: TestResponse) -> None:
    assert response.status_code < 500, response.status_code


# -- registration --------------------------------------------------------------------------------------


def register(client: FlaskClient, **values: str) -> TestResponse:
    page = text(client.get("/registro"))
    data = {"csrf_token": csrf_token(page, "/registro"), **values}
    return client.post("/registro", data=data)


def confirmation_link(email: str) -> str:
    """The last confirmation link mailed to ``email`` (read from the outbox, as the mail would carry it)."""
    db.session.rollback()
    user_id = db.session.scalars(select(User.id).where(User.email == email)).one()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_id == user_id, OutboxMessage.topic == "email_confirmation")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None
    token = decrypt(str(message.payload["sealed"]))
    assert token is not None
    return f"/confirmar-correo/{token}"


def confirm_address(client: FlaskClient, email: str) -> TestResponse:
    """Open the confirmation link mailed to ``email`` and press its button."""
    action = confirmation_link(email)
    page = text(client.get(action))
    return client.post(action, data={"csrf_token": csrf_token(page, action)})


def test_registration_validates_every_field(client: FlaskClient) -> None:
    empty = register(client, display_name="", email="", password="", confirm="")
    assert empty.status_code == 422
    assert field_errors(empty) == [
        "Escriba su nombre completo.",
        "Escriba su correo electrónico.",
        "Escriba una contraseña.",
        "Escriba de nuevo la contraseña.",
    ]
    bad = register(client, display_name="x" * 201, email="no-es-correo", password="corta", confirm="otra")
    assert field_errors(bad) == [
        "Máximo 200 caracteres.",
        "El correo electrónico no es válido.",
        "La contraseña debe tener entre 12 y 1024 caracteres.",
        "Las contraseñas no coinciden.",
    ]
    same = register(
        client,
        display_name="Ana",
        email="ana.larga@example.test",
        password="ana.larga@example.test",
        confirm="ana.larga@example.test",
    )
    assert "La contraseña no puede ser igual a su correo electrónico." in field_errors(same)
    assert count(User) == 0


def test_registration_creates_an_applicant_without_revealing_taken_addresses(client: FlaskClient) -> None:
    taken = make_user(Role.APPLICANT)
    db.session.rollback()
    email = db.session.get(User, taken).email  # type: ignore[union-attr]
    duplicate = register(
        client, display_name="Ana", email=email.upper(), password="una-contraseña-larga", confirm="una-contraseña-larga"
    )
    created = register(
        client,
        display_name="Ana Solicitante",
        email="ana@example.test",
        password="una-contraseña-larga",
        confirm="una-contraseña-larga",
    )
    # the same answer whether or not the address had an account (its owner is told by mail instead)
    assert duplicate.status_code == created.status_code == 302
    assert duplicate.headers["Location"] == created.headers["Location"] == "/login?next=/tramites"
    # the new account, like the one taken, does not log in before its address is proven: the same answer
    for address, password in ((email, "una-contraseña-larga"), ("ana@example.test", "una-contraseña-larga")):
        refused = login(client, address, password, next_url="/tramites")
        assert refused.status_code == 200
        assert "confirme primero su correo electrónico" in text(refused)
    confirmed = confirm_address(client, "ana@example.test")
    assert confirmed.status_code == 302
    assert login(client, "ana@example.test", "una-contraseña-larga", next_url="/tramites").status_code == 302
    page = client.get("/tramites")
    assert page.status_code == 200
    assert "Ventanilla de Construcción Simplificada" in text(page)
    assert "Registro de Manifestación de Construcción Tipo B" in text(page)
    db.session.rollback()
    user = db.session.scalars(select(User).where(User.email == "ana@example.test")).one()
    assert user.role_names == {"applicant"}
    assert client.get("/registro").status_code == 302  # already logged in


def test_the_registration_form_sent_twice_registers_once_and_warns_nobody(client: FlaskClient) -> None:
    page = text(client.get("/registro"))
    form = {
        "csrf_token": csrf_token(page, "/registro"),
        "form_key": hidden_value(page, "form_key", "/registro"),
        "display_name": "Ana Solicitante",
        "email": "ana@example.test",
        "password": "una-contraseña-larga",
        "confirm": "una-contraseña-larga",
    }
    assert len(form["form_key"]) >= 32

    first = client.post("/registro", data=form)
    again = client.post("/registro", data=form)  # a double click

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert flashes(client.get(again.headers["Location"]))  # the same answer, as the first time
    db.session.rollback()
    topics = [m.topic for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert topics == ["email_confirmation"]  # no "someone tried to register with your address" to oneself
    assert confirm_address(client, "ana@example.test").status_code == 302
    other = register(
        client,
        display_name="Otra",
        email="ana@example.test",
        password="lluvia-sobre-el-tejado",
        confirm="lluvia-sobre-el-tejado",
    )
    assert other.status_code == 302  # another form with that address: its owner is told, as before
    db.session.rollback()
    topics = [m.topic for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert topics == ["email_confirmation", "account_created", "account_exists"]


# -- eligibility -------------------------------------------------------------------------------------

ELIGIBLE = {
    "built_area_m2": "1,500.00",
    "new_construction": "si",
    "works_started": "no",
    "lot_vacant": "si",
    "land_use": "papeleria",
    "building_type": "local_comercial",
}


def check(client: FlaskClient, **values: str) -> TestResponse:
    page = text(client.get("/tramites/vecs/elegibilidad"))
    data = {"csrf_token": csrf_token(page, "/tramites/vecs/elegibilidad"), **values}
    return client.post("/tramites/vecs/elegibilidad", data=data)


def test_eligibility_questions_are_all_validated(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    empty = check(client)
    assert empty.status_code == 422
    assert field_errors(empty) == [
        "Indique la superficie construida en m².",
        "Indique si es obra nueva.",
        "Indique si la obra ya inició.",
        "Indique si el predio está baldío.",
        "Elija el giro o uso.",
        "Elija el tipo de edificación.",
    ]
    for area, message in (
        ("abc", "Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50."),
        ("1.234", "Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50."),
        ("1,50", "Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50."),
        ("-5", "Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50."),
        ("0", "La superficie debe ser mayor que cero."),
        ("99999999", "La superficie es demasiado grande."),
    ):
        assert field_errors(check(client, **{**ELIGIBLE, "built_area_m2": area})) == [message], area
    forged = check(client, **{**ELIGIBLE, "land_use": "<script>", "new_construction": "tal vez"})
    assert forged.status_code == 422
    assert len(field_errors(forged)) == 2


def test_eligible_and_ineligible_answers(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    yes = check(client, **ELIGIBLE)
    assert yes.status_code == 200
    assert "Su solicitud puede tramitarse por esta vía" in text(yes)
    no = check(client, **{**ELIGIBLE, "built_area_m2": "1500.01", "building_type": "escuela"})
    page = text(no)
    assert "Su solicitud no puede tramitarse por esta vía" in page
    assert "excede el máximo de la ventanilla simplificada" in page
    assert "excluido de la ventanilla" in page
    assert "Iniciar solicitud" not in page


def test_starting_twice_opens_one_draft_and_staff_cannot_start(client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    login_as(client, owner)
    page = text(check(client, **ELIGIBLE))
    data = form_fields(page, "/tramites/vecs/iniciar")
    for name in ELIGIBLE:
        data[name] = hidden_value(page, name, "/tramites/vecs/iniciar")
    first = client.post("/tramites/vecs/iniciar", data=data)
    again = client.post("/tramites/vecs/iniciar", data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert "ya se había iniciado" in " ".join(flashes(client.get(again.headers["Location"])))
    assert count(Case) == 1
    tampered = client.post(
        "/tramites/vecs/iniciar", data={**data, "idempotency_key": "otra-clave-123", "works_started": "si"}
    )
    assert tampered.status_code == 422
    assert "no debe haber iniciado" in text(tampered)
    assert count(Case) == 1
    staff = client.application.test_client()
    login_as(staff, make_user(Role.REVIEWER))
    assert staff.get("/tramites/vecs/elegibilidad").status_code == 403


# -- the applicant's steps --------------------------------------------------------------------------


def step(client: FlaskClient, case_id: int, name: str, **values: str) -> TestResponse:
    action = f"/expedientes/{case_id}/pasos/{name}"
    page = text(client.get(action))
    data = {**form_fields(page, action), **values}
    return client.post(action, data=data)


STEP_ERRORS: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "predio",
        {"property_address": "", "cadastral_key": "", "lot_area_m2": "", "lot_vacant": ""},
        [
            "Indique el domicilio del predio.",
            "Indique la clave catastral.",
            "Indique la superficie del predio en m².",
            "Indique si el predio está baldío.",
        ],
    ),
    (
        "predio",
        {"property_address": "x" * 301, "cadastral_key": "12#34", "lot_area_m2": "mucho", "lot_vacant": "si"},
        [
            "Máximo 300 caracteres.",
            "La clave catastral solo admite letras, números, guiones y puntos.",
            "Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50.",
        ],
    ),
    (
        "proyecto",
        {"built_area_m2": "", "building_type": "", "new_construction": "", "works_started": ""},
        [
            "Indique la superficie construida en m².",
            "Elija el tipo de edificación.",
            "Indique si es obra nueva.",
            "Indique si la obra ya inició.",
        ],
    ),
    ("uso", {"land_use": ""}, ["Elija el giro o uso."]),
    (
        "dro",
        {"dro_name": "", "dro_registration": "", "cse_name": "Ing. Sin Registro", "ci_registration": "CI-1"},
        [
            "Indique el nombre del DRO.",
            "Indique el número de registro del DRO.",
            "Indique nombre y registro del corresponsable, o deje ambos vacíos.",
            "Indique nombre y registro del corresponsable, o deje ambos vacíos.",
        ],
    ),
    (
        "dro",
        {"dro_name": "Arq. X", "dro_registration": "DRO 12", "cse_name": "", "cse_registration": ""},
        ["El registro solo admite letras, números, guiones y puntos."],
    ),
]


def test_every_step_field_is_validated_and_nothing_is_saved(client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    before = count(AuditEntry)
    for name, values, errors in STEP_ERRORS:
        response = step(client, case.case_id, name, **values)
        assert response.status_code == 422, name
        assert field_errors(response) == errors, (name, values)
    assert count(AuditEntry) == before


def test_a_step_saves_once_and_a_stale_step_keeps_what_was_typed(client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    action = f"/expedientes/{case.case_id}/pasos/dro"
    page = text(client.get(action))
    data = {**form_fields(page, action), "dro_name": "Arq. Nueva", "dro_registration": "DRO-0100"}
    saved = client.post(action, data=data)
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith("/pasos/documentos")
    repeated = client.post(action, data=data)  # the same form sent again (double click)
    assert repeated.status_code == 302
    assert "ya se habían guardado" in " ".join(flashes(client.get(repeated.headers["Location"])))
    db.session.rollback()
    edits = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case.case_id, AuditEntry.action == "edit")
    )
    assert len(edits.all()) == 1
    stale = client.post(action, data={**data, "idempotency_key": "otra-clave-456", "dro_name": "Arq. Tardía"})
    assert stale.status_code == 409
    body = text(stale)
    assert "La solicitud cambió mientras usted editaba estos datos" in body
    assert "recargue" not in body  # a reload would lose what was typed
    assert 'value="Arq. Tardía"' in body  # nothing typed is lost; the form now carries the new version
    db.session.rollback()
    assert db.session.get(Case, case.case_id).data["dro_name"] == "Arq. Nueva"  # type: ignore[union-attr]
    again = {name: hidden_value(body, name, action) for name in ("csrf_token", "expected_version", "idempotency_key")}
    resent = client.post(action, data={**again, "dro_name": "Arq. Tardía", "dro_registration": "DRO-0100"})
    assert resent.status_code == 302  # sent again as shown, it saves
    db.session.rollback()
    assert db.session.get(Case, case.case_id).data["dro_name"] == "Arq. Tardía"  # type: ignore[union-attr]
    # a form whose hidden version came broken is shown again whole at the case's version: sent again, it saves
    page = text(client.get(action))
    broken = {**form_fields(page, action), "expected_version": "x", "dro_name": "Arq. Tercera"}
    refused = client.post(action, data={**broken, "dro_registration": "DRO-0100"})
    assert refused.status_code == 422
    assert "El formulario llegó incompleto; envíelo de nuevo." in flashes(refused)
    shown = text(refused)
    assert 'value="Arq. Tercera"' in shown
    fixed = {name: hidden_value(shown, name, action) for name in ("csrf_token", "expected_version", "idempotency_key")}
    assert (
        client.post(action, data={**fixed, "dro_name": "Arq. Tercera", "dro_registration": "DRO-0100"}).status_code
        == 302
    )


# -- uploads -------------------------------------------------------------------------------------------


def upload(client: FlaskClient, case_id: int, kind: str, name: str, content: bytes) -> TestResponse:
    page = text(client.get(f"/expedientes/{case_id}/pasos/documentos"))
    action = f"/expedientes/{case_id}/pasos/documentos/{kind}"
    data: dict[str, Any] = form_fields(page, action)
    data[f"{kind}-document"] = (io.BytesIO(content), name)
    return client.post(action, data=data, content_type="multipart/form-data")


BAD_FILES: list[tuple[str, bytes, str]] = [
    ("planos.docx", b"PK\x03\x04 not a pdf", "Solo se aceptan archivos PDF."),
    ("planos.pdf", b"", "El archivo está vacío."),
    ("planos.pdf", b"GIF89a this is an image", "El archivo no es un PDF válido."),
    ("planos.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n", "El archivo no es un PDF válido."),
    ("planos.pdf", b"%PDF-1.4\n" + b"0" * 1_100_000 + b"\n%%EOF\n", "El archivo excede el tamaño máximo de 1 MB."),
]


def test_bad_files_are_refused_clearly_and_nothing_is_stored(app: Flask, client: FlaskClient) -> None:
    """Wrong type, empty, not a PDF, corrupt (no end marker) and oversized."""
    app.config["MAX_DOCUMENT_BYTES"] = 1024 * 1024
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    for name, content, message in BAD_FILES:
        response = upload(client, case.case_id, "planos", name, content)
        assert response.status_code == 422, message
        assert message in flashes(response)
    assert count(Document) == 0


def test_a_missing_file_and_a_request_over_the_server_limit(app: Flask, client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    action = f"/expedientes/{case.case_id}/pasos/documentos/planos"
    page = text(client.get(f"/expedientes/{case.case_id}/pasos/documentos"))
    none = client.post(action, data=form_fields(page, action), content_type="multipart/form-data")
    assert none.status_code == 422
    assert "Elija un archivo PDF." in flashes(none)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    huge = upload(client, case.case_id, "planos", "planos.pdf", b"%PDF-1.4\n" + b"0" * 8192 + b"%%EOF")
    assert huge.status_code == 413
    assert "Archivo demasiado grande" in text(huge)
    assert count(Document) == 0


def test_upload_twice_and_replace_with_history(client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    page = text(client.get(f"/expedientes/{case.case_id}/pasos/documentos"))
    action = f"/expedientes/{case.case_id}/pasos/documentos/planos"
    fields = form_fields(page, action)
    for _ in range(2):  # the same form and file sent twice
        data: dict[str, Any] = {**fields, "planos-document": (io.BytesIO(demo_pdf("planos")), "planos.pdf")}
        assert client.post(action, data=data, content_type="multipart/form-data").status_code == 302
    assert count(Document) == 1
    replaced = upload(client, case.case_id, "planos", "planos-v2.pdf", demo_pdf("planos v2"))
    assert replaced.status_code == 302
    documents = text(client.get(f"/expedientes/{case.case_id}/pasos/documentos"))
    assert "planos-v2.pdf" in documents
    assert "1 versión anterior" in documents
    other = client.application.test_client()
    login_as(other, make_user(Role.APPLICANT))
    first_id = db.session.scalars(select(Document.id).order_by(Document.id)).first()
    assert other.get(f"/expedientes/{case.case_id}/archivos/{first_id}").status_code == 404  # as if none
    shown = client.get(f"/expedientes/{case.case_id}/archivos/{first_id}")
    assert shown.status_code == 200
    assert shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/expedientes/{case.case_id}/archivos/999999").status_code == 404


# -- actions on the case page -------------------------------------------------------------------------


@pytest.fixture
def in_intake(app: Flask) -> tuple[int, int, int]:
    owner, clerk = make_user(Role.APPLICANT), make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(vecs_case(owner), [("submit", owner, None, None), ("start_intake", clerk, None, None)])
    return case.case_id, owner, clerk


def test_reasoned_actions_need_their_inputs(client: FlaskClient, in_intake: tuple[int, int, int]) -> None:
    case_id, _, clerk = in_intake
    login_as(client, clerk)
    response = post_action(client, case_id, "issue_prevention", comment="  ")
    assert response.status_code == 422
    assert field_errors(response) == ["Elija al menos un punto a corregir.", "Escriba la fundamentación y motivación."]
    before = count(AuditEntry)
    forged = post_action(client, case_id, "issue_prevention", prevention_items="inventado", comment="x")
    assert forged.status_code == 422
    assert count(AuditEntry) == before
    issued = post_action(
        client, case_id, "issue_prevention", prevention_items=["planos", "datos_dro"], comment="Faltan cotas."
    )
    assert issued.status_code == 302
    db.session.rollback()
    assert db.session.get(Case, case_id).data["prevention_items"] == ["planos", "datos_dro"]  # type: ignore[union-attr]


def test_double_submit_and_stale_forms_on_the_case_page(client: FlaskClient, in_intake: tuple[int, int, int]) -> None:
    case_id, _owner, clerk = in_intake
    login_as(client, clerk)
    page = text(client.get(f"/expedientes/{case_id}"))
    first = post_action(client, case_id, "accept_intake", page=page)
    again = post_action(client, case_id, "accept_intake", page=page)
    assert first.status_code == again.status_code == 302
    assert "Esta acción ya se había registrado; no se repitió." in flashes(client.get(again.headers["Location"]))
    db.session.rollback()
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "accept_intake")).all()) == 1
    # a form shown before someone else acted: a clear message, what was typed is kept, nothing changes
    stale = post_action(
        client, case_id, "issue_prevention", page=page, prevention_items="planos", comment="Texto largo"
    )
    assert stale.status_code == 409
    body = text(stale)
    assert "«Prevenir al solicitante (una sola vez)» no se registró" in body
    assert "el expediente cambió: ahora está en «Dictamen de uso de suelo y alineamiento»" in body
    assert "Lo que escribió no se perdió" in body
    assert "Texto largo" in body
    assert "Planos arquitectónicos y memoria descriptiva" in body[: body.index('id="acciones"')]  # the point ticked
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "land_use_review"  # type: ignore[union-attr]
    no_token = post_action(client, case_id, "deny", page=page, comment="x")  # no such form on the page: no token
    assert no_token.status_code == 400
    assert "El formulario caducó" in text(no_token)
    tampered = client.post(
        f"/expedientes/{case_id}/acciones/accept_intake",
        data={
            **form_fields(page, f"/expedientes/{case_id}/acciones/accept_intake"),
            "accept_intake-expected_version": "x",
        },
    )
    assert tampered.status_code == 422
    assert "El formulario llegó incompleto; envíelo de nuevo." in field_errors(tampered) + flashes(tampered)
    assert client.post(f"/expedientes/{case_id}/acciones/no_existe", data={}).status_code in {400, 404}
    assert client.get("/expedientes/999999").status_code == 404


def test_a_stale_version_with_the_action_still_possible(client: FlaskClient, in_intake: tuple[int, int, int]) -> None:
    case_id, _owner, clerk = in_intake
    login_as(client, clerk)
    page = text(client.get(f"/expedientes/{case_id}"))
    # someone changes the case without moving it (as a concurrent document upload would): the version moves on
    db.session.rollback()
    db.session.execute(Case.__table__.update().where(Case.id == case_id).values(version=Case.version + 1))
    db.session.commit()
    stale = post_action(client, case_id, "issue_prevention", page=page, prevention_items="planos", comment="Cotas")
    assert stale.status_code == 409
    assert (
        "El expediente cambió mientras usted preparaba «Prevenir al solicitante (una sola vez)»: revise cómo está "
        "ahora. El formulario conserva lo que escribió y marcó; si lo envía de nuevo, actuará sobre el expediente "
        "tal como lo ve."
    ) in flashes(stale)
    body = text(stale)
    assert "Cotas" in body
    retried = post_action(client, case_id, "issue_prevention", page=body, prevention_items="planos", comment="Cotas")
    assert retried.status_code == 302


def test_people_without_access_are_refused(client: FlaskClient, in_intake: tuple[int, int, int]) -> None:
    case_id, owner, clerk = in_intake
    login_as(client, make_user(Role.APPLICANT))  # someone else's case: as for one that does not exist
    assert client.get(f"/expedientes/{case_id}").status_code == 404
    assert client.get(f"/expedientes/{case_id}/pasos/predio").status_code == 404
    staff = client.application.test_client()
    login_as(staff, clerk)
    assert staff.get(f"/expedientes/{case_id}/pasos/predio").status_code == 403
    owner_client = client.application.test_client()
    login_as(owner_client, owner)
    submitted = owner_client.get(f"/expedientes/{case_id}/pasos/predio")
    assert submitted.status_code == 302  # no longer editable
    page = text(owner_client.get(f"/expedientes/{case_id}"))
    assert "accion-accept_intake" not in page
    db.session.rollback()
    version = db.session.get(Case, case_id).version  # type: ignore[union-attr]
    forged = owner_client.post(
        f"/expedientes/{case_id}/acciones/accept_intake",
        data={
            "accept_intake-csrf_token": csrf_token(page, "/language"),
            "accept_intake-expected_version": str(version),
            "accept_intake-idempotency_key": "forged-by-the-owner",
        },
    )
    assert forged.status_code == 403
    assert "No puede actuar como servidor público sobre una solicitud que usted presentó." in flashes(forged) or (
        "Su rol no le permite" in " ".join(flashes(forged))
    )


# -- administration -------------------------------------------------------------------------------------


def test_settings_are_validated_saved_audited_and_for_admins_only(client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    data = settings_form(client, "/admin/tramites/vecs")
    unchanged = client.post("/admin/tramites/vecs", data=data)
    assert unchanged.status_code == 302
    assert "No hubo cambios." in flashes(client.get(unchanged.headers["Location"]))
    bad = client.post(
        "/admin/tramites/vecs",
        data={
            **data,
            "low_risk_uses": "Comercio Abarrotes\npapeleria",
            "requirements": "planos sin descripción",
            "fee_table-0-concept": "Licencia",
            "fee_table-0-rate": "mucho",
            "inspection_rate": "150",
            "payment_days": "-1",
            "max_built_area_m2": "cero",
        },
    )
    assert bad.status_code == 422
    errors = field_errors(bad)
    for message in (
        "Cada renglón debe ser un código en minúsculas, sin espacios ni acentos (p. ej. comercio_abarrotes): "
        "Comercio Abarrotes",
        "Cada renglón debe tener la forma «código | Descripción»: planos sin descripción",
        "Escriba la tarifa en pesos, p. ej. 12.50.",
        "Cite el fundamento legal de la tarifa.",
        "Escriba un porcentaje de 0 a 100 (p. ej. 20 o 12.5).",
        "Escriba un número entero de 0 a 3650.",
        "Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50.",
    ):
        assert message in errors, message
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).all()
    good = client.post(
        "/admin/tramites/vecs",
        data={
            **data,
            "fee_table-0-concept": "Licencia de construcción",
            "fee_table-0-unit": "m2",
            "fee_table-0-rate": "18.5",
            "fee_table-0-legal_basis": "Ley de Ingresos 2026, art. 25",
            "inspection_rate": "12.5",
        },
    )
    assert good.status_code == 302, (field_errors(good), flashes(good), re.findall(r'class="error[^<]*<', text(good)))
    db.session.rollback()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).all()
    assert len(entries) == 1
    assert set(entries[0].details["changes"]) == {"fee_table", "inspection_rate"}
    change = db.session.get(WorkflowConfigChange, entries[0].details["change_id"])
    assert change is not None
    assert change.changes["inspection_rate"]["to"] == "0.125"
    reviewer = client.application.test_client()
    login_as(reviewer, make_user(Role.REVIEWER))
    assert reviewer.get("/admin/tramites/vecs").status_code == 403
    assert client.get("/admin/tramites/no_existe").status_code == 404
    assert client.get("/admin/tramites/cdmx_tipo_b").status_code == 200
