"""Fixtures of the security tests: several browsers (isolated clients) against one application."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import IsolatedClient


@pytest.fixture
def browsers(app: Flask) -> Callable[[], FlaskClient]:
    """Make a new browser: its own cookies, each request in its own application context."""
    app.test_client_class = IsolatedClient
    return app.test_client
