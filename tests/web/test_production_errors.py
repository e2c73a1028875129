"""In production, a failing view gives the generic, translated 500 page: no stack trace, no exception text,
debug off; the error is logged for the operators instead."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Blueprint, Flask

from app.web.access import public


def test_a_failing_view_in_production_shows_a_generic_page(
    database_url: str, caplog: pytest.LogCaptureFixture, other_app: Callable[..., Flask]
) -> None:
    application = other_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="k" * 40)
    assert application.debug is False
    assert application.config["PROPAGATE_EXCEPTIONS"] is False
    failing = Blueprint("failing_for_tests", __name__)

    @failing.get("/prueba/falla")
    @public
    def fail() -> str:
        raise KeyError("columna-secreta-interna")

    application.register_blueprint(failing)
    client = application.test_client()
    with caplog.at_level(logging.ERROR):
        spanish = client.get("/prueba/falla", base_url="https://tramites.example")
        english = client.get("/prueba/falla", base_url="https://tramites.example", headers={"Accept-Language": "en"})
    assert spanish.status_code == english.status_code == 500
    for response, title in ((spanish, "Error del sistema"), (english, "System error")):
        body = response.get_data(as_text=True)
        assert title in body
        for leak in ("columna-secreta-interna", "Traceback", "KeyError", "File &#34;", 'File "', "werkzeug"):
            assert leak not in body, leak
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" in response.headers
    assert "columna-secreta-interna" in caplog.text  # the operators still see what happened
