"""The security log: logins, failures, logout, throttling, second factor, password changes and refusals
(403) are recorded in the table and as JSON lines, never with passwords, tokens or codes."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Role
from tests.security.helpers import events
from tests.support.factories import PASSWORD, email_of, make_user
from tests.support.smtp import Mailbox
from tests.web.helpers import csrf_token, login, login_as, logout, set_language, text

Browsers = Callable[[], FlaskClient]
WRONG = "contraseña-equivocada-7731"


def test_events_are_recorded_without_secrets(
    app: Flask, browsers: Browsers, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="security")
    app.config.update(STAFF_TOTP_REQUIRED=True, LOGIN_LIMIT_PER_ACCOUNT="2 per 1 hour")
    staff = make_user(Role.AUDITOR)
    applicant = make_user(Role.APPLICANT)
    secrets_seen: list[str] = [PASSWORD, WRONG]

    client = browsers()
    login(client, email_of(applicant), WRONG)
    login(client, "desconocido@example.test", WRONG)
    login_as(client, applicant)
    assert client.get("/admin/seguridad").status_code == 403  # access denied is logged too
    logout(client)
    login(browsers(), email_of(applicant), WRONG)
    assert login(browsers(), email_of(applicant), WRONG).status_code == 429

    officer = browsers()
    login(officer, email_of(staff))
    page = text(officer.get("/login/activar-verificacion"))
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert match is not None
    secret = match.group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    secrets_seen += [secret, code]
    done = officer.post(
        "/login/activar-verificacion",
        data={"csrf_token": csrf_token(page, "/login/activar-verificacion"), "code": code},
    )
    secrets_seen += re.findall(r"<li><code>([a-z2-9-]+)</code></li>", text(done))

    kinds = [e.kind.value for e in events()]
    for expected in (
        "login_failed",
        "login_succeeded",
        "access_denied",
        "logout",
        "throttled",
        "totp_enrolled",
    ):
        assert expected in kinds, (expected, kinds)
    failures = events("login_failed")
    assert failures[0].user_id == applicant
    assert failures[1].user_id is None
    assert "account" in failures[1].details
    assert "desconocido" not in json.dumps(failures[1].details)
    denied = events("access_denied")[0]
    assert denied.user_id == applicant
    assert denied.path == "/admin/seguridad"

    stored = " ".join(f"{e.path} {e.ip} {json.dumps(e.details, ensure_ascii=False)}" for e in events())
    logged = caplog.text
    lines = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert len(lines) == len(events())
    assert all(json.loads(line)["event"] for line in lines)
    for secret_value in secrets_seen:
        assert secret_value not in stored
        assert secret_value not in logged


def test_administrators_see_the_security_log(app: Flask, client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    login(app.test_client(), email_of(admin), WRONG)
    login_as(client, admin)
    page = client.get("/admin/seguridad")
    assert page.status_code == 200
    body = text(page)
    assert "Registro de seguridad" in body
    assert "login_failed" in body
    assert "login_succeeded" in body
    only_failures = text(client.get("/admin/seguridad?tipo=login_failed"))
    assert "login_failed" in only_failures
    assert "<code>login_succeeded</code>" not in only_failures
    # each kind is named in words, in the reader's language, beside the code the log keeps
    assert "<td>Inicio de sesión fallido <code>login_failed</code></td>" in only_failures
    assert '<option value="login_failed" selected>Inicio de sesión fallido</option>' in only_failures
    set_language(client, "en", "/admin/seguridad")
    english = text(client.get("/admin/seguridad?tipo=login_failed"))
    assert "Failed login <code>login_failed</code>" in english


def test_behind_a_trusted_proxy_the_client_address_is_logged(app: Flask, other_app: Callable[..., Flask]) -> None:
    proxied = other_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXY_HOPS=1)
    with proxied.app_context():
        client = proxied.test_client()
        headers = {"X-Forwarded-For": "203.0.113.7"}
        assert login(client, "nadie@example.test", WRONG, headers=headers).status_code == 200
    assert events("login_failed")[-1].ip == "203.0.113.7"
    direct = app.test_client()
    login(direct, "nadie@example.test", WRONG, headers={"X-Forwarded-For": "198.51.100.1"})
    assert events("login_failed")[-1].ip == "127.0.0.1"  # not trusted without TRUSTED_PROXY_HOPS


def test_a_refusal_whose_address_holds_a_nul_is_still_recorded(app: Flask, client: FlaskClient) -> None:
    """A NUL cannot go into a text column on PostgreSQL: the event of a refused address that held one was lost,
    and with it the trace of the refusal (the API answers such addresses itself; the pages refuse them first).
    It is stored with U+FFFD in its place."""
    applicant = make_user(Role.APPLICANT)
    login_as(client, applicant)
    assert client.get("/api/v1/audit/entries/%00").status_code == 403
    denied = events("access_denied")[-1]
    assert denied.user_id == applicant
    assert denied.path == "/api/v1/audit/entries/\ufffd"
