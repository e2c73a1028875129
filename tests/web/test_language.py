"""Choosing the interface language: browser preference, explicit choice, and translated form errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.web.layout import return_address
from tests.web.helpers import csrf_token, field_errors, set_language, text

SPANISH_LOGIN = ('<html lang="es-MX">', "<h1>Iniciar sesión</h1>", "Correo electrónico", "Contraseña", 'value="Entrar"')
ENGLISH_LOGIN = ('<html lang="en">', "<h1>Log in</h1>", "E-mail address", "Password", 'value="Log in"')


def assert_spanish(body: str) -> None:
    for fragment in SPANISH_LOGIN:
        assert fragment in body
    assert "Log in" not in body


def assert_english(body: str) -> None:
    for fragment in ENGLISH_LOGIN:
        assert fragment in body
    assert "Iniciar sesión" not in body
    assert "Correo electrónico" not in body


@pytest.mark.parametrize("accept", [None, "es-MX", "es", "es-ES,es;q=0.9", "fr-FR", "de, ja;q=0.5"])
def test_login_page_speaks_spanish_by_default(client: FlaskClient, accept: str | None) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/login", headers=headers)
    assert response.status_code == 200
    assert_spanish(text(response))


@pytest.mark.parametrize("accept", ["en", "en-US", "en-GB,en;q=0.9", "fr, en;q=0.8", "en;q=0.9, es;q=0.5"])
def test_login_page_speaks_english_when_the_browser_prefers_it(client: FlaskClient, accept: str) -> None:
    response = client.get("/login", headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert_english(text(response))


def test_the_chosen_language_is_remembered_and_beats_the_browser(client: FlaskClient) -> None:
    response = set_language(client, "en")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert_english(text(client.get("/login")))
    assert_english(text(client.get("/login", headers={"Accept-Language": "es-MX"})))
    set_language(client, "es_MX")
    assert_spanish(text(client.get("/login", headers={"Accept-Language": "en"})))


@pytest.mark.parametrize("path", ["/login?next=%2Fbandeja", "/login?next=%2Fexpedientes%2F7&lang=x"])
def test_the_switch_comes_back_to_the_page_with_its_query(client: FlaskClient, path: str) -> None:
    """A verification code, a folio looked up, a queue's filter are in the query: the switch dropped it (a
    verification page then said "Document not found" of a genuine licence)."""
    response = set_language(client, "en", path)
    assert response.status_code == 302
    assert response.headers["Location"] == path


def test_after_a_form_sent_with_post_the_switch_comes_back_to_the_forms_page(app: Flask) -> None:
    """A page of errors answers a POST: the switch cannot send the form again, so it goes back to the page
    of the form (its address when it answers GET, else the page that showed it, when it is of this site)."""
    with app.test_request_context("/login", method="POST"):
        assert return_address() == "/login"
    referred = {"Referer": "http://localhost/transparencia/consulta?folio=SAI-2026-000001"}
    with app.test_request_context("/language", method="POST", headers=referred):
        assert return_address() == "/transparencia/consulta?folio=SAI-2026-000001"
    with app.test_request_context("/language", method="POST", headers={"Referer": "https://evil.example/x"}):
        assert return_address() == "/"
    with app.test_request_context("/language", method="POST"):
        assert return_address() == "/"


def test_an_unknown_language_is_ignored(client: FlaskClient) -> None:
    body = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/language", data={"csrf_token": csrf_token(body, "/language"), "locale": "fr", "next": "/login"}
    )
    assert response.status_code == 302
    assert_spanish(text(client.get("/login")))


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example", "/\\evil.example", "/\r\nSet-Cookie: x=y", "/a\tb"]
)
def test_the_language_switch_does_not_redirect_off_site(client: FlaskClient, target: str) -> None:
    body = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/language", data={"csrf_token": csrf_token(body, "/language"), "locale": "en", "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inicio"


FIELD_ERRORS = [
    pytest.param(
        {"email": "", "password": "una-contrasena"},
        "Escriba su correo electrónico.",
        "Enter your e-mail address.",
        id="email-missing",
    ),
    pytest.param(
        {"email": "sin-arroba.example.test", "password": "una-contrasena"},
        "El correo electrónico no es válido.",
        "The e-mail address is not valid.",
        id="email-invalid",
    ),
    pytest.param(
        {"email": "a" * 250 + "@example.test", "password": "una-contrasena"},
        "El correo electrónico es demasiado largo.",
        "The e-mail address is too long.",
        id="email-too-long",
    ),
    pytest.param(
        {"email": "alguien@example.test", "password": ""},
        "Escriba su contraseña.",
        "Enter your password.",
        id="password-missing",
    ),
    pytest.param(
        {"email": "alguien@example.test", "password": "x" * 1025},
        "La contraseña es demasiado larga.",
        "The password is too long.",
        id="password-too-long",
    ),
]


@pytest.mark.parametrize(("data", "spanish", "english"), FIELD_ERRORS)
@pytest.mark.parametrize("language", ["es", "en"])
def test_every_login_field_error_is_translated(
    client: FlaskClient, data: dict[str, str], spanish: str, english: str, language: str
) -> None:
    headers = {"Accept-Language": language}
    body = client.get("/login", headers=headers).get_data(as_text=True)
    response = client.post("/login", data={**data, "csrf_token": csrf_token(body, "/login")}, headers=headers)
    assert response.status_code == 200
    errors = field_errors(response)
    assert errors == [spanish if language == "es" else english]
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_every_validator_message_of_the_login_form_has_an_english_translation(client: FlaskClient) -> None:
    """Guards the parametrised cases above against a new validator nobody thought of."""
    from flask_babel import force_locale

    from forms.auth import LanguageForm, LoginForm

    with client.application.test_request_context("/login"):
        form = LoginForm()
        language_form = LanguageForm(("es_MX", "en"))
        messages = [
            validator.message
            for field in (form.email, form.password, language_form.locale)
            for validator in field.validators
        ]
        assert all(message is not None for message in messages)
        with force_locale("es_MX"):
            spanish = [str(message) for message in messages]
        with force_locale("en"):
            english = [str(message) for message in messages]
    covered = {param.values[1] for param in FIELD_ERRORS}
    assert set(spanish) - {"Idioma no disponible."} == covered
    for es, en in zip(spanish, english, strict=True):
        assert en != es, f"{es!r} has no English translation"
