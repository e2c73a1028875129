"""Security headers on every kind of response: pages, error pages (403, 404, 405, 413, 500), static files,
JSON, downloaded files; HSTS only in production."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Blueprint, Flask, abort, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.models import Role
from app.web.access import public
from app.web.headers import CONTENT_SECURITY_POLICY
from tests.support.factories import make_user
from tests.web.helpers import login_as, logout

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def directives(response: TestResponse) -> dict[str, str]:
    """The response's content security policy as {directive: sources}."""
    policy = response.headers.get("Content-Security-Policy", "")
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}


def assert_hardened(response: TestResponse) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["base-uri"] in {"'none'", "'self'"}
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "'unsafe-inline'" not in csp.get("script-src", csp["default-src"])
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # not outside production


@pytest.fixture
def raising_app(app: Flask) -> Flask:
    """The app with a test-only blueprint whose views fail in the ways error pages must handle."""
    bp = Blueprint("failing_for_tests", __name__)

    @bp.get("/prueba/prohibido")
    @public
    def forbidden() -> str:
        abort(403)

    @bp.post("/prueba/subida")
    @public
    def upload() -> str:
        return f"recibido: {len(request.files)}"

    @bp.get("/prueba/propias")
    @public
    def own_headers() -> tuple[str, int, dict[str, str]]:
        # a view's own policy and framing rule, named in another case than the defaults
        return "propias", 200, {"content-security-policy": "sandbox", "x-frame-options": "SAMEORIGIN"}

    @bp.get("/prueba/explota")
    @public
    def explode() -> str:
        raise RuntimeError("detalle-interno")

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/aviso-de-privacidad", 200),
        ("GET", "/no-existe", 404),
        ("GET", "/prueba/prohibido", 403),
        ("GET", "/prueba/subida", 405),
        ("GET", "/prueba/explota", 500),
        ("GET", "/static/style.css", 200),
    ],
)
def test_every_kind_of_response_carries_the_headers(
    raising_app: Flask, client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_hardened(response)


def test_an_oversized_request_gets_a_translated_413_page_with_the_headers(
    raising_app: Flask, client: FlaskClient
) -> None:
    raising_app.config.update(MAX_CONTENT_LENGTH=1024)
    body = {"archivo": (io.BytesIO(b"%PDF-" + b"0" * 4096), "a.pdf")}
    response = client.post("/prueba/subida", data=body, content_type="multipart/form-data")
    assert response.status_code == 413
    assert_hardened(response)
    page = response.get_data(as_text=True)
    assert "Archivo demasiado grande" in page
    assert "1 KB" in page
    english = client.post(
        "/prueba/subida",
        data={"archivo": (io.BytesIO(b"0" * 4096), "a.pdf")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 413
    assert "File too large" in english.get_data(as_text=True)


def test_a_view_keeps_its_own_headers_and_gets_the_rest_once(raising_app: Flask, client: FlaskClient) -> None:
    response = client.get("/prueba/propias")
    assert response.status_code == 200
    assert response.headers.getlist("Content-Security-Policy") == ["sandbox"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    for name in ("X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy"):
        assert len(response.headers.getlist(name)) == 1, name


def test_json_answers_carry_the_headers(client: FlaskClient) -> None:
    response = client.get("/no-existe", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.is_json
    assert_hardened(response)


def test_pages_of_a_logged_in_user_are_not_cached(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    response = client.get("/inicio")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert_hardened(response)


def test_logging_out_clears_what_the_browser_kept(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    response = logout(client)
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert_hardened(response)
    assert "Clear-Site-Data" not in client.get("/login").headers


def test_trace_is_not_served(client: FlaskClient) -> None:
    response = client.open("/login", method="TRACE")
    assert response.status_code == 405
    assert_hardened(response)


def test_the_policy_has_no_inline_allowance_at_all() -> None:
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_templates_have_no_inline_script_style_or_event_handler() -> None:
    """The policy forbids inline code, so the templates must not rely on any."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    offending = []
    pattern = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    for template in root.rglob("templates/**/*.html"):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line):
                offending.append(f"{template.relative_to(root)}:{number}")
    assert offending == []


def test_production_adds_hsts(database_url: str, other_app: Callable[..., Flask]) -> None:
    application = other_app(
        "production",
        SQLALCHEMY_DATABASE_URI=database_url,
        SECRET_KEY="x" * 40,
    )
    response = application.test_client().get("/aviso-de-privacidad", base_url="https://tramites.example")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts
    assert response.headers["X-Frame-Options"] == "DENY"
