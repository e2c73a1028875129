"""Production settings: a real secret key is required, and the session cookie is locked down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.config import DEFAULT_SECRET_KEY
from app.extensions import db

STRONG_KEY = "k" * 16 + "-produccion-" + "9" * 16


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production reads the environment: start from one without the settings under test."""
    for name in ("SECRET_KEY", "DATABASE_URL", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    "overrides",
    [{}, {"SECRET_KEY": DEFAULT_SECRET_KEY}, {"SECRET_KEY": ""}, {"SECRET_KEY": "x" * 31}],
    ids=["unset", "default", "empty", "short"],
)
def test_production_refuses_a_missing_default_or_short_secret_key(overrides: dict[str, str]) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", **overrides)


@pytest.mark.usefixtures("clean_environment")
def test_production_refuses_a_short_secret_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "demasiado-corta")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


@pytest.fixture
def production_app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    application = create_app(
        "production", SQLALCHEMY_DATABASE_URI=database_url, DOCUMENTS_DIR=str(tmp_path / "documents")
    )
    yield application
    with application.app_context():
        db.engine.dispose()


def test_production_starts_with_a_strong_key_and_locks_the_session_cookie(production_app: Flask) -> None:
    assert production_app.config["SECRET_KEY"] == STRONG_KEY
    assert production_app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    response = production_app.test_client().get("/login", base_url="https://tramites.example.gob.mx")
    assert response.status_code == 200
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    attributes = [part.strip().lower() for part in cookies[0].split(";")[1:]]
    # A __Host- cookie is only accepted by browsers when Secure, on path / and without a Domain.
    assert "secure" in attributes
    assert "path=/" in attributes
    assert not any(attribute.startswith("domain=") for attribute in attributes)
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
