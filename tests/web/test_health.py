"""Health endpoints: liveness without the database, readiness with the database and the migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient

from app import MIGRATIONS_DIR, create_app
from app.extensions import db
from app.services import health
from app.services.health import readiness


def test_healthz_answers_json_without_a_session(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_on_a_migrated_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_reads_the_migration_scripts_once_per_process(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An orchestrator sends the probe every few seconds: the scripts (parsed to find the head, tens of
    milliseconds) are read on the first probe only; the database's revision is read on every one."""
    health.migration_heads.cache_clear()
    reads: list[str] = []

    class Counted(ScriptDirectory):
        def __init__(self, directory: str) -> None:
            reads.append(directory)
            super().__init__(directory)

    monkeypatch.setattr(health, "ScriptDirectory", Counted)
    try:
        for _ in range(3):
            assert client.get("/readyz").get_json() == {"status": "ok"}
    finally:
        health.migration_heads.cache_clear()
    assert reads == [str(MIGRATIONS_DIR)]


def test_readyz_reveals_no_revision_nor_error_details(client: FlaskClient) -> None:
    """The public answer says ready or not, nothing an outsider could use to fingerprint the release."""
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert heads
    body = client.get("/readyz").get_data(as_text=True)
    for head in heads:
        assert head not in body
    assert "migrations" not in body


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
    assert response.get_json() == {"status": "unavailable"}
    with app_without_schema.app_context():  # the details stay available inside (logs, operators' tools)
        detail = readiness(MIGRATIONS_DIR)
    assert (detail.database, detail.current, detail.error) == (True, (), "migrations pending")
    assert detail.heads


def test_readyz_refuses_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}"
    application = create_app("test", SQLALCHEMY_DATABASE_URI=url, DOCUMENTS_DIR=str(tmp_path / "d"))
    try:
        response = application.test_client().get("/readyz")
    finally:
        with application.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
