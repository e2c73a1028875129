"""Health endpoints: liveness without the database, readiness with the database and the migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db


def test_healthz_answers_json_without_a_session(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_on_a_migrated_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["migrations"]["head"], "the migrations define no head"
    assert body["migrations"]["current"] == body["migrations"]["head"]
    assert "error" not in body


@pytest.fixture
def app_without_schema(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application on a database that exists but holds no tables at all."""
    application = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path / "d"))
    yield application
    with application.app_context():
        db.engine.dispose()


def test_readyz_refuses_a_database_without_schema(app_without_schema: Flask) -> None:
    response = app_without_schema.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] is True
    assert body["migrations"]["current"] == []
    assert body["migrations"]["head"]
    assert body["error"] == "migrations pending"


def test_readyz_refuses_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}"
    application = create_app("test", SQLALCHEMY_DATABASE_URI=url, DOCUMENTS_DIR=str(tmp_path / "d"))
    try:
        response = application.test_client().get("/readyz")
    finally:
        with application.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] is False
    assert body["error"] == "OperationalError"
