"""Throttling of login, second factor and password reset (Flask-Limiter): failures are counted per account
and per client address, the refusal is a clear translated page, and access comes back after the window."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from flask_limiter.util import get_qualified_name

from app.extensions import limiter
from app.models import Role
from app.web.throttling import _without_limits, guard_limiter
from tests.security.helpers import events
from tests.support.factories import email_of, make_user
from tests.web.helpers import LOGIN_ERROR_ES, csrf_token, flashes, login, text

Browsers = Callable[[], FlaskClient]
WINDOW_SECONDS = 2


def test_failed_logins_on_one_account_are_throttled_then_recover(app: Flask, browsers: Browsers) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = f"3 per {WINDOW_SECONDS * 3} seconds"
    user_id = make_user(Role.APPLICANT)
    other = make_user(Role.APPLICANT)
    client = browsers()
    for _ in range(3):
        response = login(client, email_of(user_id), "contraseña-equivocada")
        assert response.status_code == 200
        assert flashes(response) == [LOGIN_ERROR_ES]
    blocked = login(client, email_of(user_id))  # even the right password, for now
    assert blocked.status_code == 429
    body = text(blocked)
    assert "Demasiados intentos" in body
    assert "espere unos minutos y vuelva a intentarlo" in body
    assert "Retry-After" in blocked.headers
    english = login(browsers(), email_of(user_id), headers={"Accept-Language": "en"})
    assert english.status_code == 429
    assert "Too many attempts" in text(english)
    # another account from the same address is not affected
    assert login(browsers(), email_of(other)).status_code == 302
    assert len(events("throttled")) == 2
    assert events("throttled")[0].path == "/login"
    time.sleep(WINDOW_SECONDS * 3 + 0.1)
    assert login(client, email_of(user_id)).status_code == 302


def test_failed_logins_from_one_address_are_throttled_across_accounts(app: Flask, browsers: Browsers) -> None:
    app.config["LOGIN_LIMIT_PER_IP"] = "4 per 1 hour"
    client = browsers()
    for n in range(4):
        assert login(client, f"nadie{n}@example.test", "contraseña-equivocada").status_code == 200
    assert login(client, "otra-persona@example.test", "contraseña-equivocada").status_code == 429
    # the address is blocked for now, even with a correct password
    user_id = make_user(Role.APPLICANT)
    assert login(browsers(), email_of(user_id)).status_code == 429


def test_successful_logins_are_not_counted(app: Flask, browsers: Browsers) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 1 hour"
    user_id = make_user(Role.APPLICANT)
    for _ in range(5):
        assert login(browsers(), email_of(user_id)).status_code == 302


def test_reset_requests_are_throttled(app: Flask, browsers: Browsers) -> None:
    app.config["RESET_LIMIT_PER_IP"] = "2 per 1 hour"
    client = browsers()
    statuses = []
    for _ in range(3):
        page = text(client.get("/contrasena/olvide"))
        response = client.post(
            "/contrasena/olvide",
            data={"csrf_token": csrf_token(page, "/contrasena/olvide"), "email": "alguien@example.test"},
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]


def test_reset_links_per_address_are_limited(app: Flask, browsers: Browsers) -> None:
    app.config["RESET_LIMIT_PER_ACCOUNT"] = "1 per 1 hour"
    client = browsers()

    def ask(email: str) -> int:
        page = text(client.get("/contrasena/olvide"))
        token = csrf_token(page, "/contrasena/olvide")
        return client.post("/contrasena/olvide", data={"csrf_token": token, "email": email}).status_code

    assert ask("alguien@example.test") == 302
    assert ask("ALGUIEN@example.test ") == 429
    assert ask("otra.persona@example.test") == 302


def test_a_new_application_starts_with_no_throttling_state(
    app: Flask, browsers: Browsers, other_app: Callable[..., Flask]
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "1 per 1 hour"
    user_id = make_user(Role.APPLICANT)
    login(browsers(), email_of(user_id), "contraseña-equivocada")
    assert login(browsers(), email_of(user_id)).status_code == 429
    fresh = other_app(
        "test",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        LOGIN_LIMIT_PER_ACCOUNT="1 per 1 hour",
    )
    with fresh.app_context():
        assert login(fresh.test_client(), email_of(user_id)).status_code == 302


def _limiters_own_limits(app: Flask, endpoint: str) -> bool:
    """Whether Flask-Limiter itself finds a limit for ``endpoint`` (its resolution, as on a request)."""
    view = app.view_functions[endpoint]
    name = get_qualified_name(view)
    manager = limiter.limit_manager
    marked = name in limiter._marked_for_limiting or manager.has_hints(endpoint)
    blueprint = endpoint.rpartition(".")[0] or None
    defaults, decorated = manager.resolve_limits(app, endpoint, blueprint, name, False, marked)
    return bool(defaults or decorated)


def test_only_endpoints_without_limits_skip_the_limiter(app: Flask, client: FlaskClient) -> None:
    limited = set()
    with app.test_request_context():
        for endpoint in app.view_functions:
            assert _without_limits(app, endpoint) is not _limiters_own_limits(app, endpoint), endpoint
            if not _without_limits(app, endpoint):
                limited.add(endpoint)
    assert {"auth.login", "auth.second_factor", "account.forgot_password", "registration.register"} <= limited
    assert "cases.show" not in limited
    # the limiter's check before each request runs through the guard (not found a second time)
    assert not [hook for hook in app.before_request_funcs[None] if getattr(hook, "__self__", None) is limiter]
    assert guard_limiter(app) is False
    # a limited page is still counted through the guard: the fourth failed login from one address is refused
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per 1 hour"
    for n in range(3):
        assert login(client, f"nadie{n}@example.test", "contraseña-equivocada").status_code == 200
    assert login(client, "nadie@example.test", "contraseña-equivocada").status_code == 429


def test_a_default_limit_applies_to_every_page(
    database_url: str, tmp_path: Path, other_app: Callable[..., Flask]
) -> None:
    # Flask-Limiter keeps the first default limits it is given on its one limiter, for every later application
    manager = limiter.limit_manager
    before = list(manager._default_limits)
    try:
        limited = other_app(
            "test", SQLALCHEMY_DATABASE_URI=database_url, DOCUMENTS_DIR=str(tmp_path), RATELIMIT_DEFAULT="2 per 1 hour"
        )
        browser = limited.test_client()
        with limited.app_context():
            assert not _without_limits(limited, "privacy.notice")
        assert [browser.get("/aviso-de-privacidad").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        manager.set_default_limits(before)
    assert not manager.default_limits
