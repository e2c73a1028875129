"""Storage and backup tests: development keys made once per run, shared by every test's application."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.keys import init_development_keys


@pytest.fixture(scope="session")
def storage_dev_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development root CA, signing certificate and audit log key, generated once for the whole run."""
    folder = tmp_path_factory.mktemp("storage-keys")
    init_development_keys(folder, "Municipio de Ejemplo")
    return folder


@pytest.fixture(autouse=True)
def _keys_for_the_app(request: pytest.FixtureRequest, storage_dev_keys: Path) -> None:
    if "app" in request.fixturenames:
        application: Flask = request.getfixturevalue("app")
        application.config["KEYS_DIR"] = str(storage_dev_keys)
