"""While the database is unreachable the app answers a clear, translated 503 with ``Retry-After`` (JSON for API
clients) instead of a 500, and recovers by itself when the database is back: no restart, nothing lost.

The outage is real: PostgreSQL is reached through a loopback relay that the test cuts (clients see the refused
and dropped connections of a stopped server) while the server itself keeps serving the other tests. The
whole-system version (PostgreSQL itself stopped under load, several servers) is in tests/reliability.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from app import create_app
from app.extensions import db
from app.models import AuditEntry, Role
from app.services.health import database_unavailable
from app.web.access import public
from tests.conftest import IsolatedClient
from tests.support.factories import make_user, vecs_case
from tests.support.forms import hidden_fields
from tests.support.outage import Relay
from tests.web.helpers import login_as
from tests.web.helpers import text as page_text

EN = {"Accept-Language": "en"}
TITLE_ES = "Servicio no disponible por un momento"
TITLE_EN = "Service unavailable for a moment"


@pytest.fixture
def backend() -> str:
    """A network outage needs a database server: these tests run on PostgreSQL."""
    return "postgresql"


@pytest.fixture
def relay(database_url: str) -> Iterator[Relay]:
    """A relay in front of the test database's server, listening."""
    port = make_url(database_url).port
    assert port is not None
    relayed = Relay(port)
    relayed.start()
    yield relayed
    relayed.cut()


@pytest.fixture
def outage_app(database_url: str, relay: Relay, tmp_path: Path) -> Iterator[Flask]:
    """The application reaching its database through the relay (in its own app context per request)."""
    url = make_url(database_url).set(port=relay.port).render_as_string(hide_password=False)
    application = create_app("test", SQLALCHEMY_DATABASE_URI=url, DOCUMENTS_DIR=str(tmp_path / "documents"))
    application.test_client_class = IsolatedClient

    def probe() -> str:
        return str(db.session.execute(text("SELECT 'la base responde'")).scalar_one())

    application.add_url_rule("/prueba/consulta", view_func=public(probe))
    with application.app_context():
        yield application
        with suppress(SQLAlchemyError):  # the test's own session may hold a connection the cut broke
            db.session.remove()
        db.engine.dispose()


def _assert_unavailable_page(response, title: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    body = page_text(response)
    assert f"<h1>{title}</h1>" in body
    for leak in ("Traceback", "psycopg", "OperationalError", "127.0.0.1", "connection"):
        assert leak not in body, leak


def test_a_page_answers_503_with_retry_after_while_the_database_is_down(outage_app: Flask, relay: Relay) -> None:
    client = outage_app.test_client()
    assert client.get("/prueba/consulta").get_data(as_text=True) == "la base responde"
    relay.cut()
    _assert_unavailable_page(client.get("/prueba/consulta"), TITLE_ES)
    _assert_unavailable_page(client.get("/prueba/consulta", headers=EN), TITLE_EN)
    api = client.get("/prueba/consulta", headers={"Accept": "application/json", **EN})
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.get_json()["error"] == TITLE_EN
    assert api.get_json()["status"] == 503
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json(), ready.headers["Retry-After"]) == (503, {"status": "unavailable"}, "5")

    relay.restore()  # the same application, not restarted: the pool drops the dead connections and reconnects
    assert client.get("/prueba/consulta").get_data(as_text=True) == "la base responde"
    assert client.get("/readyz").status_code == 200


def test_a_logged_in_user_gets_the_503_page_and_keeps_the_session(outage_app: Flask, relay: Relay) -> None:
    user_id = make_user(Role.APPLICANT, name="Olga Ortiz")
    client: FlaskClient = outage_app.test_client()
    login_as(client, user_id)
    assert "Olga Ortiz" in page_text(client.get("/inicio"))
    relay.cut()
    down = client.get("/inicio")
    _assert_unavailable_page(down, TITLE_ES)  # the header needs no query: the page shows nobody's name
    assert "Olga Ortiz" not in page_text(down)
    relay.restore()
    back = client.get("/inicio")
    assert back.status_code == 200
    assert "Olga Ortiz" in page_text(back)  # still logged in: the server-side session survived


def test_a_transition_sent_during_the_outage_is_applied_once_when_sent_again(outage_app: Flask, relay: Relay) -> None:
    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant)
    client = outage_app.test_client()
    login_as(client, applicant)
    action = f"/expedientes/{case.case_id}/acciones/submit"
    page = client.get(f"/expedientes/{case.case_id}").get_data(as_text=True)
    form = hidden_fields(page, action)
    assert {"submit-csrf_token", "submit-expected_version", "submit-idempotency_key"} <= set(form)
    relay.cut()
    assert client.post(action, data=form).status_code == 503
    relay.restore()
    first = client.post(action, data=form)  # the browser sends the same form again
    again = client.post(action, data=form)
    assert first.status_code == again.status_code == 302
    with suppress(SQLAlchemyError):  # this test's own session held a connection the cut broke
        db.session.remove()
    submits = db.session.scalars(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.case_id == case.case_id, AuditEntry.action == "submit")
    ).one()
    assert submits == 1


def test_the_tick_worker_skips_passes_while_the_database_is_down(outage_app: Flask, relay: Relay) -> None:
    relay.cut()
    result = outage_app.test_cli_runner().invoke(args=["permits", "worker", "--passes", "2", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.count("database unavailable") == 2
    relay.restore()
    result = outage_app.test_cli_runner().invoke(args=["permits", "worker", "--passes", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert "database unavailable" not in result.output


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (OperationalError("SELECT 1", {}, _Orig("connection refused")), True),
        (OperationalError("SELECT 1", {}, _Orig("terminating connection", "57P01")), True),
        (OperationalError("SELECT 1", {}, _Orig("the database system is starting up", "57P03")), True),
        (OperationalError("SELECT 1", {}, _Orig("connection failure", "08006")), True),
        (ProgrammingError("SELECT x", {}, _Orig('relation "x" does not exist', "42P01")), False),
        (IntegrityError("INSERT", {}, _Orig("duplicate key", "23505")), False),
        (ValueError("not a database error"), False),
    ],
)
def test_only_an_unreachable_database_counts_as_an_outage(error: BaseException, outage: bool) -> None:
    assert database_unavailable(error) is outage


def test_sqlite_that_cannot_be_opened_is_an_outage_but_a_missing_table_is_a_bug(tmp_path: Path) -> None:
    missing = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    missing.add_url_rule(
        "/prueba/consulta", view_func=public(lambda: str(db.session.execute(text("SELECT 1")).scalar()))
    )
    response = missing.test_client().get("/prueba/consulta")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    with missing.app_context():
        db.engine.dispose()
    empty = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    empty.add_url_rule(
        "/prueba/consulta", view_func=public(lambda: str(db.session.execute(text("SELECT * FROM nada")).scalar()))
    )
    assert empty.test_client().get("/prueba/consulta").status_code == 500
    with empty.app_context():
        db.engine.dispose()


def test_a_page_already_made_is_served_when_the_database_goes_away_before_the_request_ends(
    outage_app: Flask, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view read what it needed; the database stops before the request's session is ended: the page is still
    served. On PostgreSQL the reads were their own transactions, so ending the session sends nothing and the
    connection goes back to the pool unaware; the next request, a moment later (no ping), meets it dead and answers
    the translated 503 once, as after any restart in that moment, and the request after it is served."""

    def read_then_lose_the_database() -> str:
        value = str(db.session.execute(text("SELECT 'leído'")).scalar_one())
        relay.cut()
        return value

    outage_app.add_url_rule("/prueba/corte", view_func=public(read_then_lose_the_database))
    client = outage_app.test_client()
    now = time.monotonic()
    monkeypatch.setattr("app.database.monotonic", lambda: now)
    response = client.get("/prueba/corte")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "leído")
    relay.restore()
    _assert_unavailable_page(client.get("/prueba/consulta"), TITLE_ES)
    assert client.get("/prueba/consulta").get_data(as_text=True) == "la base responde"


def test_a_dead_connection_idle_for_a_while_is_replaced_before_the_request_uses_it(
    outage_app: Flask, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went away and came back while the pool held a connection nobody used: the ping on checkout
    (the connection lay unused longer than ``DATABASE_PING_AFTER_IDLE``) finds it dead, and the request is
    served on a new connection instead of answering 503."""
    client = outage_app.test_client()
    assert client.get("/prueba/consulta").get_data(as_text=True) == "la base responde"
    relay.cut()  # the pooled connection's socket is closed
    relay.restore()
    later = time.monotonic() + outage_app.config["DATABASE_PING_AFTER_IDLE"] + 1
    monkeypatch.setattr("app.database.monotonic", lambda: later)
    response = client.get("/prueba/consulta")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "la base responde")


def test_a_connection_used_a_moment_before_the_database_went_away_answers_503_once(
    outage_app: Flask, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What not pinging a connection used within the last second costs: when the database restarted in that
    second, the next request meets the dead connection and answers the translated 503 (nothing was done);
    every connection of the pool is dropped with it, and the request after that is served."""
    client = outage_app.test_client()
    assert client.get("/prueba/consulta").get_data(as_text=True) == "la base responde"
    relay.cut()
    relay.restore()
    now = time.monotonic()
    monkeypatch.setattr("app.database.monotonic", lambda: now)
    _assert_unavailable_page(client.get("/prueba/consulta"), TITLE_ES)
    assert client.get("/prueba/consulta").get_data(as_text=True) == "la base responde"
