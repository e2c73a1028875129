"""Logging in and out: credentials, deactivated accounts, CSRF, redirects after login and the session."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Role
from app.services.auth import deactivate_user
from tests.support.factories import PASSWORD, email_of, make_user
from tests.web.helpers import (
    LOGIN_ERROR_EN,
    LOGIN_ERROR_ES,
    flashes,
    login,
    login_as,
    logout,
    page_token,
    session_user_id,
    set_language,
    text,
)

EN = {"Accept-Language": "en"}


def deactivate(user_id: int) -> None:
    """Switch an account off, as an administrator does (the service also ends its sessions)."""
    deactivate_user(user_id)


# -- logging in -----------------------------------------------------------------------------------


def test_login_redirects_to_the_home_page_and_remembers_the_user(client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT, name="Ana Pérez")
    response = login(client, email_of(user_id))
    assert response.status_code == 302
    assert response.headers["Location"] == "/inicio"
    assert session_user_id(client) == str(user_id)
    home = client.get("/inicio")
    assert home.status_code == 200
    assert "Ana Pérez" in text(home)


def test_login_ignores_case_and_surrounding_spaces_in_the_email(client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT)
    response = login(client, f"  {email_of(user_id).upper()} ")
    assert response.status_code == 302
    assert session_user_id(client) == str(user_id)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, LOGIN_ERROR_ES), (EN, LOGIN_ERROR_EN)],
    ids=["es", "en"],
)
def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: FlaskClient, headers: dict[str, str], expected: str
) -> None:
    user_id = make_user(Role.APPLICANT)
    wrong_password = login(client, email_of(user_id), "Otra-Contrasena-Larga", headers=headers)
    unknown_email = login(client, "nadie@example.test", PASSWORD, headers=headers)
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert flashes(response) == [expected]
        assert session_user_id(client) is None
    assert client.get("/inicio").status_code == 302


def test_a_deactivated_user_cannot_log_in(client: FlaskClient) -> None:
    user_id = make_user(Role.REVIEWER)
    deactivate(user_id)
    response = login(client, email_of(user_id))
    assert response.status_code == 200
    assert flashes(response) == [LOGIN_ERROR_ES]
    assert session_user_id(client) is None


def test_a_user_deactivated_during_the_session_is_logged_out(client: FlaskClient) -> None:
    user_id = make_user(Role.REVIEWER)
    login_as(client, user_id)
    assert client.get("/inicio").status_code == 200
    deactivate(user_id)
    response = client.get("/inicio")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_login_page_sends_a_logged_in_user_home(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/inicio"


def test_another_browser_is_not_logged_in(app: Flask, client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    assert client.get("/inicio").status_code == 200
    stranger = app.test_client()
    response = stranger.get("/inicio")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Finicio"


@pytest.mark.parametrize(
    ("headers", "notice"),
    [({}, "Inicie sesión para continuar."), (EN, "Please log in to continue.")],
    ids=["es", "en"],
)
def test_a_protected_page_sends_visitors_to_the_login_page_and_back(
    client: FlaskClient, headers: dict[str, str], notice: str
) -> None:
    user_id = make_user(Role.APPLICANT)
    response = client.get("/inicio", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Finicio"
    page = client.get(response.headers["Location"], headers=headers)
    assert flashes(page) == [notice]
    answer = login(client, email_of(user_id), next_url="/inicio", headers=headers)
    assert answer.headers["Location"] == "/inicio"


# -- where to go after logging in -----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/inicio",
        "https://evil.example",
        "https://evil.example/inicio",
        "http:evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leads_off_site(client: FlaskClient, target: str) -> None:
    user_id = make_user(Role.APPLICANT)
    response = login(client, email_of(user_id), next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/inicio"


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: session=x", "/inicio\n", "/a\tb", "/a\u2028b", "/\x0b/x"])
def test_next_with_a_character_no_address_holds_goes_home_without_an_error(client: FlaskClient, target: str) -> None:
    """A line break cannot go into the ``Location`` header: such a ``next`` answered 500 after the login had been
    saved. Any character that is not printable makes ``next`` no path of the site."""
    user_id = make_user(Role.APPLICANT)
    response = login(client, email_of(user_id), next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/inicio"
    again = client.get("/login", query_string={"next": target})  # logged in: sent on at once
    assert again.status_code == 302
    assert again.headers["Location"] == "/inicio"


def test_next_off_site_is_refused_for_a_user_already_logged_in(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    response = client.get("/login", query_string={"next": "//evil.example"})
    assert response.headers["Location"] == "/inicio"


def test_next_within_the_site_is_followed(client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT)
    response = login(client, email_of(user_id), next_url="/healthz?detalle=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/healthz?detalle=1"


# -- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "title", "detail"),
    [
        ({}, "El formulario caducó", "vuelva a cargar la página"),
        (EN, "The form has expired", "reload the page"),
    ],
    ids=["es", "en"],
)
def test_login_without_csrf_token_is_refused_with_a_translated_page(
    client: FlaskClient, headers: dict[str, str], title: str, detail: str
) -> None:
    user_id = make_user(Role.APPLICANT)
    client.get("/login", headers=headers)
    response = client.post("/login", data={"email": email_of(user_id), "password": PASSWORD}, headers=headers)
    assert response.status_code == 400
    body = text(response)
    assert f"<h1>{title}</h1>" in body
    assert detail in body
    assert "Traceback" not in body
    assert session_user_id(client) is None


def test_a_csrf_token_from_another_session_is_refused(app: Flask, client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT)
    other = app.test_client()
    foreign_token = page_token(other)
    client.get("/login")
    response = client.post(
        "/login", data={"email": email_of(user_id), "password": PASSWORD, "csrf_token": foreign_token}
    )
    assert response.status_code == 400
    assert session_user_id(client) is None


def test_language_switch_needs_the_csrf_token(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 400
    assert "Iniciar sesión" in text(client.get("/login"))


# -- logging out ----------------------------------------------------------------------------------


def test_logout_ends_the_session(client: FlaskClient) -> None:
    login_as(client, make_user(Role.REVIEWER))
    response = logout(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert session_user_id(client) is None
    page = client.get("/login")
    assert flashes(page) == ["Sesión cerrada."]
    home = client.get("/inicio")
    assert home.status_code == 302
    assert home.headers["Location"] == "/login?next=%2Finicio"


def test_logout_keeps_the_language_of_the_page_that_was_left(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    set_language(client, "en", "/inicio")
    logout(client)
    page = client.get("/login")
    assert flashes(page) == ["You have logged out."]
    assert "<h1>Log in</h1>" in text(page)


def test_logout_is_post_only(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    response = client.get("/logout")
    assert response.status_code == 405
    assert "<h1>Método no permitido</h1>" in text(response)
    assert client.get("/inicio").status_code == 200


def test_logout_without_csrf_token_is_refused_and_the_session_survives(client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT)
    login_as(client, user_id)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "<h1>El formulario caducó</h1>" in text(response)
    assert session_user_id(client) == str(user_id)
    assert client.get("/inicio").status_code == 200


# -- the session cookie ---------------------------------------------------------------------------


def _session_cookie_header(headers: list[str], name: str) -> str:
    matching = [h for h in headers if h.startswith(f"{name}=")]
    assert len(matching) == 1, headers
    return matching[0]


def test_session_cookie_is_http_only_and_same_site_lax(app: Flask, client: FlaskClient) -> None:
    name = app.config["SESSION_COOKIE_NAME"]
    page = client.get("/login")
    answer = login(client, email_of(make_user(Role.APPLICANT)))
    for response in (page, answer):
        cookie = _session_cookie_header(response.headers.getlist("Set-Cookie"), name)
        attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
