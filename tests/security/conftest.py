"""Fixtures of the security tests: several browsers (isolated clients) against one application; the clock held at
one instant for the second factor's codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import IsolatedClient


@pytest.fixture
def browsers(app: Flask) -> Callable[[], FlaskClient]:
    """Make a new browser: its own cookies, each request in its own application context."""
    app.test_client_class = IsolatedClient
    return app.test_client


FACTOR_START = datetime(2026, 3, 10, 17, 0, 0, tzinfo=UTC)
"""The instant the second factor's tests start at (``factor_clock``)."""


@pytest.fixture
def factor_clock() -> Iterator[time_machine.Coordinates]:
    """The clock held at :data:`FACTOR_START`, moved by the test (``shift``) to reach the app's next code."""
    with time_machine.travel(FACTOR_START, tick=False) as traveller:
        yield traveller
