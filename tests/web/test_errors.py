"""Error pages: translated, with the status code, and never a stack trace or internal detail."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text as sql

from app.extensions import db
from app.models import Role
from app.web.access import authenticated, public
from tests.support.factories import make_user
from tests.web.helpers import login_as, logout, text

EN = {"Accept-Language": "en"}


@pytest.mark.parametrize(
    ("headers", "title", "code", "detail"),
    [
        ({}, "No encontrado", "Código: 404", "contacte a la mesa de ayuda"),
        (EN, "Not found", "Code: 404", "contact the help desk"),
    ],
    ids=["es", "en"],
)
def test_an_unknown_address_gives_a_translated_404_page(
    client: FlaskClient, headers: dict[str, str], title: str, code: str, detail: str
) -> None:
    response = client.get("/no-existe/ni-aqui", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = text(response)
    assert f"<h1>{title}</h1>" in body
    assert code in body
    assert detail in body
    assert "Traceback" not in body
    assert "werkzeug" not in body.lower()


def test_an_api_client_gets_the_404_as_translated_json(client: FlaskClient) -> None:
    response = client.get("/no-existe", headers={"Accept": "application/json", **EN})
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {
        "error": "Not found",
        "detail": "If the problem persists, contact the help desk.",
        "status": 404,
    }


@pytest.mark.parametrize(
    ("headers", "title", "detail"),
    [
        ({}, "Error del sistema", "No se mostraron detalles técnicos."),
        (EN, "System error", "No technical details are shown."),
    ],
    ids=["es", "en"],
)
def test_an_unexpected_error_gives_a_translated_500_page_without_details(
    app: Flask, client: FlaskClient, headers: dict[str, str], title: str, detail: str
) -> None:
    def broken() -> str:
        raise RuntimeError("detalle-interno-secreto")

    app.add_url_rule("/prueba/falla", view_func=public(broken))  # every route declares its access rule
    response = client.get("/prueba/falla", headers=headers)
    assert response.status_code == 500
    body = text(response)
    assert f"<h1>{title}</h1>" in body
    assert detail in body
    assert "detalle-interno-secreto" not in body
    assert "Traceback" not in body


def test_a_database_error_still_gives_the_500_page_to_a_logged_in_user(app: Flask, client: FlaskClient) -> None:
    def broken_query() -> str:
        db.session.execute(sql("SELECT * FROM tabla_que_no_existe"))
        return "inalcanzable"

    app.add_url_rule("/prueba/consulta", view_func=authenticated(broken_query))
    user_id = make_user(Role.APPLICANT, name="Nora Núñez")
    login_as(client, user_id)
    response = client.get("/prueba/consulta")
    assert response.status_code == 500
    body = text(response)
    assert "<h1>Error del sistema</h1>" in body
    assert "tabla_que_no_existe" not in body
    assert "Nora Núñez" in body
    assert client.get("/inicio").status_code == 200


def test_a_403_for_a_role_says_which_role_the_page_needs_and_which_the_account_has(client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    login_as(client, applicant)
    response = client.get("/admin/calendario")
    assert response.status_code == 403
    body = text(response)
    assert "Esta página es para quien tiene el rol" in body
    assert "Administrador" in body
    assert "su cuenta tiene: Solicitante" in body


def test_a_403_on_a_case_tells_staff_who_acts_next(client: FlaskClient) -> None:
    from tests.support.factories import advance, vecs_case

    owner = make_user(Role.APPLICANT)
    reviewer = make_user((Role.REVIEWER, "obras_publicas"))  # acts in the procedure, not on this case now
    case = advance(vecs_case(owner), [("submit", owner, None, None)])
    login_as(client, reviewer)
    response = client.get(f"/expedientes/{case.case_id}")
    assert response.status_code == 403
    body = text(response)
    assert "no es suyo ni le corresponde por su rol o su área" in body
    assert "Ahora le toca actuar a:" in body
    assert "Ventanilla" in body
    assert case.folio not in body


def test_someone_elses_case_is_not_found_for_an_applicant(client: FlaskClient) -> None:
    from tests.support.factories import advance, vecs_case

    owner = make_user(Role.APPLICANT)
    case = advance(vecs_case(owner), [("submit", owner, None, None)])
    login_as(client, make_user(Role.APPLICANT))
    response = client.get(f"/expedientes/{case.case_id}")
    assert response.status_code == 404
    body = text(response)
    assert "No encontrado" in body
    for told in ("no es suyo", "Ahora le toca actuar", "Acceso denegado", case.folio):
        assert told not in body


def test_a_403_on_a_case_awaiting_payment_says_the_applicant_pays_and_the_treasury_confirms(
    client: FlaskClient,
) -> None:
    from tests.support.factories import advance, vecs_case

    owner, stranger = make_user(Role.APPLICANT), make_user((Role.INSPECTOR, "obras_publicas"))
    clerk, ruler, finance = make_user(Role.INTAKE_CLERK), make_user(Role.REVIEWER), make_user(Role.REVIEWER)
    from app.services.case_actions import act
    from app.services.config import update_config
    from tests.support.demo_data import VECS_SETTINGS

    update_config("vecs", {"fee_table": VECS_SETTINGS["fee_table"]}, make_user(Role.ADMIN))
    case = advance(
        vecs_case(owner),
        [
            ("submit", owner, None, None),
            ("start_intake", clerk, None, None),
            ("accept_intake", clerk, None, None),
            ("rule_land_use", ruler, {"land_use_ruling": "Compatible"}, None),
        ],
    )
    case = act(case.case_id, "assess_fees", finance, expected_version=case.version, idempotency_key="fees-403")
    assert case.to_state == "awaiting_payment"
    login_as(client, stranger)
    response = client.get(f"/expedientes/{case.case_id}")
    assert response.status_code == 403
    body = text(response)
    assert "Solicitante: paga la orden de pago" in body
    assert "Tesorería: confirma el pago" in body
    logout(client)
    login_as(client, owner)
    page = text(client.get(f"/expedientes/{case.case_id}"))
    acting = page.split("Le toca actuar", 1)[1].split("</dd>", 1)[0]
    assert "Solicitante: paga la orden de pago" in acting
    assert "Tesorería: confirma el pago" in acting


@pytest.mark.parametrize("path", ["/transparencia/obligaciones/%00.csv", "/transparencia/obligaciones/a%00b.json"])
def test_a_nul_in_the_address_is_refused_in_words_as_in_a_form(client: FlaskClient, path: str) -> None:
    """A part of the address is a view's argument (a format's code here, looked up in the database): with a NUL
    in it, PostgreSQL refused the query and the page answered 500."""
    for headers, expected in (({}, "carácter nulo (NUL)"), (EN, "null character (NUL)")):
        response = client.get(path, headers=headers)
        assert response.status_code == 400
        assert expected in text(response)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/login", {"email": 5, "password": "x"}),
        ("/login", "x"),
        ("/transparencia/solicitar", {"pseudonym": "Jua\u0000n", "email": "a@example.test", "delivery_format": 1}),
        ("/registro", [1, 2]),
    ],
)
def test_a_pages_form_sent_as_json_is_refused_in_words(client: FlaskClient, path: str, body: object) -> None:
    """The form library takes a JSON body's values for the form's: a number or a list where text is read
    answered 500 (even before login), and a NUL in a JSON value went past the NUL check (stored on SQLite, 500 on
    PostgreSQL). Only the API takes JSON; a page refuses it, in the person's language, and keeps nothing."""
    page = client.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(page))
    assert token is not None
    for headers, expected in (({}, "no datos en JSON"), (EN, "not JSON data")):
        response = client.post(path, json=body, headers={"X-CSRFToken": token.group(1), **headers})
        assert response.status_code == 415
        assert expected in text(response)
