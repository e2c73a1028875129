"""The signed cookie session served with kept signing keys (``app.web.cookie_session``): the same cookie as
Flask's own interface, the current key and its fallbacks honoured, a forged or foreign cookie refused."""

from __future__ import annotations

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
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
