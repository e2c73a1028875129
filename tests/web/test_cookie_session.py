"""The signed cookie session served with kept signing keys (``app.web.cookie_session``): the same cookie as
Flask's own interface, the current key and its fallbacks honoured, a forged or foreign cookie refused."""

from __future__ import annotations

import time

import pytest
from flask import Flask, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.testing import FlaskClient

from app.web.access import public
from app.web.cookie_session import KeptKeySessionInterface


def _name(client: FlaskClient) -> str:
    return str(client.application.config["SESSION_COOKIE_NAME"])


def _with_session_views(app: Flask) -> Flask:
    @app.get("/prueba/sesion/guardar")
    @public
    def save() -> str:
        session["prueba"] = "valor-guardado"
        return "ok"

    @app.get("/prueba/sesion/leer")
    @public
    def read() -> str:
        return str(session.get("prueba", "vacía"))

    return app


def _cookie(client: FlaskClient) -> str:
    stored = client.get_cookie(_name(client))
    assert stored is not None
    return stored.value


def test_the_application_serves_the_kept_key_interface(app: Flask) -> None:
    assert isinstance(app.session_interface, KeptKeySessionInterface)


def test_its_cookie_is_flasks_own_both_ways(app: Flask, client: FlaskClient) -> None:
    _with_session_views(app)
    client.get("/prueba/sesion/guardar")
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    interface = app.session_interface
    assert isinstance(interface, KeptKeySessionInterface)
    kept = interface.get_signing_serializer(app)
    assert stock is not None
    assert kept is not None
    # what this interface signed, Flask's reads; what Flask's signs, this one reads (the same key, salt, format)
    assert stock.loads(_cookie(client))["prueba"] == "valor-guardado"
    client.set_cookie(_name(client), stock.dumps({"prueba": "de-flask"}))
    assert client.get("/prueba/sesion/leer").get_data(as_text=True) == "de-flask"
    # the serializer is kept while the keys stay
    assert interface.get_signing_serializer(app) is kept


def test_a_new_key_reads_the_old_cookie_only_from_the_fallbacks(app: Flask, client: FlaskClient) -> None:
    _with_session_views(app)
    old = SecureCookieSessionInterface().get_signing_serializer(app)
    assert old is not None
    signed_before = old.dumps({"prueba": "con-la-clave-anterior"})
    old_key = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "una-clave-nueva-de-prueba-" + "x" * 32
    client.set_cookie(_name(client), signed_before)
    assert client.get("/prueba/sesion/leer").get_data(as_text=True) == "vacía"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    client.set_cookie(_name(client), signed_before)
    assert client.get("/prueba/sesion/leer").get_data(as_text=True) == "con-la-clave-anterior"
    app.config["SECRET_KEY_FALLBACKS"] = []
    client.set_cookie(_name(client), signed_before)
    assert client.get("/prueba/sesion/leer").get_data(as_text=True) == "vacía"


def test_a_forged_cookie_is_an_empty_session(app: Flask, client: FlaskClient) -> None:
    _with_session_views(app)
    client.get("/prueba/sesion/guardar")
    value = _cookie(client)
    payload, _, signature = value.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    client.set_cookie(_name(client), forged)
    assert client.get("/prueba/sesion/leer").get_data(as_text=True) == "vacía"
    other = SecureCookieSessionInterface()
    other_app = Flask("otra")
    other_app.secret_key = "otra-clave-" + "y" * 40
    foreign = other.get_signing_serializer(other_app)
    assert foreign is not None
    client.set_cookie(_name(client), foreign.dumps({"prueba": "ajena"}))
    assert client.get("/prueba/sesion/leer").get_data(as_text=True) == "vacía"


def _opened(app: Flask, value: str) -> SecureCookieSession:
    """The session this application's interface opens for a request carrying the cookie ``value``."""
    name = str(app.config["SESSION_COOKIE_NAME"])
    with app.test_request_context("/", headers={"Cookie": f"{name}={value}"}):
        opened = app.session_interface.open_session(app, request)
    assert opened is not None
    return opened


def _signed(app: Flask, values: dict[str, object]) -> str:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return serializer.dumps(values)


def test_a_cookie_checked_once_is_remembered_and_each_request_gets_its_own_copy(app: Flask) -> None:
    value = _signed(app, {"prueba": "valor", "_fresh": True, "n": 3})
    first = _opened(app, value)
    first["prueba"] = "cambiado en una petición"
    first.pop("n")
    for _ in range(2):
        assert dict(_opened(app, value)) == {"prueba": "valor", "_fresh": True, "n": 3}
    # a session holding a list (flashed messages) is checked every time: its list is never shared
    flashed = _signed(app, {"_flashes": [["info", "Listo"]]})
    _opened(app, flashed)["_flashes"].append(["error", "otro"])
    assert _opened(app, flashed)["_flashes"] == [["info", "Listo"]]


def test_a_remembered_cookie_still_expires_with_the_session_lifetime(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    signed_at = time.time()
    monkeypatch.setattr(time, "time", lambda: signed_at)
    value = _signed(app, {"prueba": "valor"})
    assert dict(_opened(app, value)) == {"prueba": "valor"}
    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime - 1)
    assert dict(_opened(app, value)) == {"prueba": "valor"}
    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime + 2)
    assert dict(_opened(app, value)) == {}  # as Flask's own interface: too old
    monkeypatch.setattr(time, "time", lambda: signed_at - 5)
    assert dict(_opened(app, value)) == {}  # signed in the future: refused as itsdangerous refuses it


def test_a_remembered_cookie_is_refused_once_its_key_is_retired(app: Flask) -> None:
    old_key = app.secret_key
    value = _signed(app, {"prueba": "con-la-clave-anterior"})
    assert dict(_opened(app, value)) == {"prueba": "con-la-clave-anterior"}
    app.secret_key = app.config["SECRET_KEY"] = "una-clave-nueva-de-prueba-" + "z" * 32
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert dict(_opened(app, value)) == {"prueba": "con-la-clave-anterior"}
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert dict(_opened(app, value)) == {}
