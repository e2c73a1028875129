"""Browser-like helpers for the web tests: read forms, log in and out, switch the language."""

from __future__ import annotations

import hashlib
import html
import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Role, UserSession
from tests.support.factories import PASSWORD, email_of, make_user, submitted_case

LOGIN_ERROR_ES = (
    "Correo electrónico o contraseña incorrectos. Si acaba de crear su cuenta, confirme primero su correo "
    "electrónico con el enlace que le enviamos."
)
LOGIN_ERROR_EN = (
    "Incorrect e-mail address or password. If you have just created your account, first confirm your e-mail "
    "address with the link we sent you."
)


class _Forms(HTMLParser):
    """Collects the ``<input>`` elements of a page with the ``action`` of the form holding them."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[tuple[str | None, dict[str, str]]] = []
        self._action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self._action = dict(attrs).get("action") or ""
        elif tag == "input":
            self.inputs.append((self._action, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None


def hidden_value(page: str, name: str, action: str) -> str:
    """The value of the hidden input ``name`` in the form posting to ``action``; fails if there is none."""
    parser = _Forms()
    parser.feed(page)
    for form_action, attrs in parser.inputs:
        if form_action == action and attrs.get("type") == "hidden" and attrs.get("name") == name:
            return attrs.get("value", "")
    raise AssertionError(f"no hidden input {name!r} in a form posting to {action!r}")


def step_form(client: FlaskClient, case_id: int, trigger: str) -> tuple[str, dict[str, str]]:
    """Where ``trigger``'s form on the case page posts, and the hidden values it would send (its CSRF token,
    the expected version and the idempotency key), read from the page as the client sees it."""
    action = f"/expedientes/{case_id}/acciones/{trigger}"
    page = text(client.get(f"/expedientes/{case_id}"))
    names = (f"{trigger}-csrf_token", f"{trigger}-expected_version", f"{trigger}-idempotency_key")
    return action, {name: hidden_value(page, name, action) for name in names}


def clerk_at_intake(client: FlaskClient) -> tuple[int, str, dict[str, str]]:
    """A submitted VECS case and the client logged in as an intake clerk: the case's id, and where its
    ``start_intake`` form posts with the hidden values it would send (:func:`step_form`)."""
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    case_id = submitted_case(owner)
    login_as(client, clerk)
    return case_id, *step_form(client, case_id, "start_intake")


def csrf_token(page: str, action: str = "/login") -> str:
    """The CSRF token of the form posting to ``action``."""
    token = hidden_value(page, "csrf_token", action)
    assert token, "empty CSRF token"
    return token


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``action`` (CSRF token, version, idempotency key)."""
    fields: dict[str, str] = {}
    for name in re.findall(r'name="([^"]+)" type="hidden"', page) + re.findall(r'type="hidden" name="([^"]+)"', page):
        try:
            fields[name] = hidden_value(page, name, action)
        except AssertionError:
            continue
    return fields


def settings_form(client: FlaskClient, path: str) -> dict[str, Any]:
    """What a browser sends back from the settings page at ``path`` unchanged: every input, text area and
    selected option (a select with none selected sends its first option)."""
    page = text(client.get(path))
    data: dict[str, Any] = {"csrf_token": csrf_token(page, "")}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        data.setdefault(name, value)
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', page, re.S):
        data[name] = value
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = (
            re.search(r'<option selected value="([^"]*)"', options)
            or re.search(r'value="([^"]*)" selected', options)
            or re.search(r'<option value="([^"]*)"', options)
        )
        data[name] = chosen.group(1) if chosen else ""
    data.pop("submit", None)
    return data


def text(response: TestResponse) -> str:
    """The response body as text, with HTML entities decoded (``&#39;`` → ``'``)."""
    return html.unescape(response.get_data(as_text=True))


def kept_text(response: TestResponse) -> str:
    """The section of a page that shows back what was typed and ticked in a form that was not recorded (HTML
    entities decoded); fails if there is none."""
    body = text(response)
    start = body.index('id="texto-conservado"')
    return body[start : body.index("</section>", start)]


def flashes(response: TestResponse) -> list[str]:
    """The flashed messages shown on a page."""
    return [
        html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', response.get_data(as_text=True))
    ]


def field_errors(response: TestResponse) -> list[str]:
    """The error messages shown under form fields."""
    return [html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True))]


def login(
    client: FlaskClient,
    email: str,
    password: str = PASSWORD,
    *,
    next_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """Open the login page (with ``?next=`` when given), then submit it as a browser would: the CSRF token
    and the hidden ``next`` field come from the page. Returns the answer to the POST (not followed)."""
    page = client.get("/login", query_string={"next": next_url} if next_url is not None else None, headers=headers)
    assert page.status_code == 200, page.status_code
    body = page.get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(body, "/login"),
        "next": hidden_value(body, "next", "/login"),
        "email": email,
        "password": password,
    }
    return client.post("/login", data=data, headers=headers)


def login_as(
    client: FlaskClient, user_id: int, *, next_url: str | None = None, headers: dict[str, str] | None = None
) -> TestResponse:
    """Log in as the factory user ``user_id`` with the factories' password; asserts it worked."""
    response = login(client, email_of(user_id), next_url=next_url, headers=headers)
    assert response.status_code == 302, f"login failed: {flashes(response) or field_errors(response)}"
    return response


def page_token(client: FlaskClient, path: str = "/login", action: str = "/language") -> str:
    """A CSRF token for this client's session, read from the form posting to ``action`` on ``path``."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return csrf_token(page.get_data(as_text=True), action)


def logout(client: FlaskClient) -> TestResponse:
    """Press the logout button of the home page (a POST carrying the page's CSRF token)."""
    return client.post("/logout", data={"csrf_token": page_token(client, "/inicio", "/logout")})


def set_language(client: FlaskClient, locale: str, path: str = "/login") -> TestResponse:
    """Use the language selector on ``path``, as a browser would (``next`` is the page's own)."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    body = page.get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(body, "/language"),
        "next": hidden_value(body, "next", "/language"),
        "locale": locale,
    }
    return client.post("/language", data=data)


def session_user_id(client: FlaskClient) -> str | None:
    """The user whose live server-side session this client's cookie names, if any (the cookie itself carries
    only the session identifier)."""
    with client.session_transaction() as session:
        value = session.get("_user_id")
    if value is None:
        return None
    with db.engine.connect() as connection:  # a fresh snapshot, leaving the test's session alone
        owner = connection.scalar(
            select(UserSession.user_id).where(
                UserSession.token_hash == hashlib.sha256(str(value).encode()).hexdigest(),
                UserSession.revoked_at.is_(None),
            )
        )
    return None if owner is None else str(owner)
