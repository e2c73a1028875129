"""Every page's frame: the sections' links follow the signed-in user's roles and the footer the language and the
script root, although both are kept per process (``app.web.layout``)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.access_rules import rule_of
from app.models import Role
from app.plugins import public_links
from tests.support.factories import make_user
from tests.web.helpers import login_as, logout, set_language

ADMIN_LINKS = [
    "/admin/tramites",
    "/admin/areas",
    "/admin/usuarios",
    "/admin/calendario",
    "/admin/correo",
    "/admin/datos-personales",
    "/admin/seguridad",
]


def _frame(client: FlaskClient, root: str = "", path: str = "/inicio") -> tuple[list[str], list[str], str]:
    """A page's section links, its footer's links and the footer's text."""
    page = client.get(path, environ_overrides={"SCRIPT_NAME": root} if root else None)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    nav = re.search(r'<nav class="sections"[^>]*>(.*?)</nav>', body, re.S)
    footer = re.search(r"<footer>(.*?)</footer>", body, re.S)
    assert footer is not None
    sections = re.findall(r'href="([^"]+)"', nav.group(1)) if nav else []
    return sections, re.findall(r'href="([^"]+)"', footer.group(1)), re.sub(r"<[^>]+>", "", footer.group(1))


def test_the_sections_follow_each_user_s_roles(app: Flask, client: FlaskClient) -> None:
    users = {
        "applicant": (make_user(Role.APPLICANT), ["/inicio", "/tramites"]),
        "clerk": (make_user((Role.INTAKE_CLERK, "ventanilla")), ["/inicio", "/bandeja"]),
        "treasury": (make_user(Role.TREASURY), ["/inicio", "/tesoreria"]),
        "admin": (make_user(Role.ADMIN), ["/inicio", *ADMIN_LINKS]),
        "auditor": (make_user(Role.AUDITOR), ["/inicio"]),
        "clerk and applicant": (
            make_user(Role.APPLICANT, (Role.INTAKE_CLERK, "ventanilla")),
            ["/inicio", "/tramites", "/bandeja"],
        ),
    }
    for _ in range(2):  # each again after the others: what was kept is each set of roles' own
        for user_id, expected in users.values():
            login_as(client, user_id)
            assert _frame(client)[0] == expected
            logout(client)
    assert _frame(client, path="/login")[0] == []  # signed out: no sections


def test_the_footer_follows_the_language_and_the_script_root(app: Flask, client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    _, links, spanish = _frame(client)
    assert links == [
        "/consulta",
        "/sorteos",
        "/verificar",
        "/transparencia/solicitar",
        "/transparencia/obligaciones",
        "/aviso-de-privacidad",
    ]
    assert "Consulta pública de expedientes" in spanish
    sections, rooted, _ = _frame(client, "/tramites")
    assert rooted == [f"/tramites{link}" for link in links]
    assert sections == ["/tramites/inicio", "/tramites/tramites"]
    assert _frame(client)[1] == links
    set_language(client, "en", "/inicio")
    english = _frame(client)[2]
    assert "Consulta pública" not in english
    assert "Public case lookup" in english
    set_language(client, "es_MX", "/inicio")
    assert _frame(client)[2] == spanish


def test_anyone_finds_the_access_request_form_from_the_login_page_and_every_footer(client: FlaskClient) -> None:
    """An access-to-information request needs no account: the login page and the footer lead to its form."""
    page = client.get("/login").get_data(as_text=True)
    main = re.search(r"<main[^>]*>(.*?)</main>", page, re.S)
    assert main is not None
    link = '<a href="/transparencia/solicitar">Presentar una solicitud de acceso a la información</a>'
    assert link in main.group(1)
    for path in ("/login", "/verificar", "/consulta"):
        assert "/transparencia/solicitar" in _frame(client, path=path)[1], path
    assert client.get("/transparencia/solicitar").status_code == 200


def test_the_procedures_link_every_page_only_to_pages_for_anyone(app: Flask, client: FlaskClient) -> None:
    assert public_links(), "no installed procedure offers a page to anyone"
    for link in public_links():
        rule = rule_of(app.view_functions[link.endpoint])
        assert rule is not None, link.endpoint
        assert rule.public, link.endpoint


def test_the_site_icon_is_named_by_every_page_and_answers_at_favicon_ico(app: Flask, client: FlaskClient) -> None:
    """Browsers ask for ``/favicon.ico`` on every page load whatever the page names: it answered 404."""
    icon = (Path(app.static_folder or "") / "favicon.svg").read_bytes()
    for visitor in ("anonymous", "applicant"):
        if visitor == "applicant":
            login_as(client, make_user(Role.APPLICANT))
        page = client.get("/login" if visitor == "anonymous" else "/inicio").get_data(as_text=True)
        named = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
        assert named is not None, visitor
        for path in (named.group(1), "/favicon.ico"):
            answer = client.get(path)
            assert answer.status_code == 200, (visitor, path)
            assert answer.mimetype == "image/svg+xml"
            assert answer.get_data() == icon


def test_the_account_links_are_everyone_s_in_their_language(app: Flask, client: FlaskClient) -> None:
    """Everyone reaches their password, address, sessions and second factor's page (anyone may turn one on)."""
    mine = ["/cuenta/contrasena", "/cuenta/correo", "/cuenta/sesiones", "/cuenta/verificacion"]
    users = [(make_user(Role.APPLICANT), mine), (make_user(Role.AUDITOR), mine)]
    for _ in range(2):  # each again after the other
        for user_id, expected in users:
            login_as(client, user_id)
            header = re.search(r"<header[^>]*>(.*?)</header>", client.get("/inicio").get_data(as_text=True), re.S)
            assert header is not None
            assert [link for link in re.findall(r'href="([^"]+)"', header.group(1)) if "/cuenta/" in link] == expected
            logout(client)
    login_as(client, users[1][0])
    set_language(client, "en", "/inicio")
    assert "Two-step verification" in client.get("/inicio").get_data(as_text=True)
