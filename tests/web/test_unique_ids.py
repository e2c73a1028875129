"""No page repeats an element id: logged in as each demo user (and anonymously), every page the navigation
and the lists reach, and the page of every demo case in each state the demo data has, through the generic case
page and the procedures' own pages. A repeated id breaks labels (``for=``), fragment links and assistive
technology; several forms on one page carry ids of their own."""

from __future__ import annotations

from collections import Counter, deque
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.keys import init_development_keys
from app.models import Case, User
from app.services.deadlines import declare_non_working_days
from app.services.demo import load_demo
from tests.conftest import DATABASES, IsolatedClient
from tests.web.helpers import login

PUBLIC = (
    "/",
    "/login",
    "/registro",
    "/tramites",
    "/transparencia/solicitar",
    "/transparencia/consulta",
    "/transparencia/obligaciones",
    "/verificar",
    "/aviso-de-privacidad",
)
LISTS = (
    "/inicio",
    "/avisos",
    "/bandeja",
    "/tesoreria",
    "/cuenta/contrasena",
    "/transparencia/unidad",
    "/transparencia/areas",
    "/transparencia/garante",
    "/transparencia/comite",
    "/transparencia/publicaciones",
    "/transparencia/publicaciones/muestreo",
    "/supervision/",
    "/admin/tramites",
    "/admin/areas",
    "/admin/calendario",
    "/admin/calendario?anio=2031",
    "/admin/asignaciones",
    "/admin/correo",
    "/admin/datos-personales",
    "/admin/seguridad",
)
"""The pages the navigation and the home page lead to (those a role may not open answer 403 and are skipped)."""
SKIPPED = ("/logout", "/static/", ".csv", ".json", ".pdf", "/archivos/", "/anexos/", "/descargar", "/exportar")
LINKED_PAGES = 60
"""Pages each visitor opens by following links, beyond the lists and the case pages."""


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id") is not None:
            self.ids[str(values["id"])] += 1
        href = values.get("href") or ""
        if tag == "a" and href.startswith("/"):
            self.links.append(href.split("#")[0])


@pytest.fixture(params=DATABASES[:1])
def backend(request: pytest.FixtureRequest) -> str:
    """One database is enough: ids are the templates' business (the demo costs seconds to load)."""
    return str(request.param)


@pytest.fixture
def demo(app: Flask, tmp_path: Path) -> list[str]:
    init_development_keys(tmp_path / "keys", "Municipio de Ejemplo")
    app.config["KEYS_DIR"] = str(tmp_path / "keys")
    app.test_client_class = IsolatedClient
    logins = [entry.email for entry in load_demo().logins]
    admin = db.session.scalars(
        select(User.id).where(User.email == next(e for e in logins if e.startswith("admin@")))
    ).one()
    for day in (date(2031, 4, 10), date(2031, 4, 11)):  # a list with a form per row
        declare_non_working_days(day, None, "Semana Santa", "Gaceta Municipal 12/2031", admin)
    db.session.rollback()
    return logins


def _case_pages() -> list[str]:
    rows = db.session.execute(select(Case.id, Case.workflow)).all()
    db.session.rollback()
    pages = []
    for case_id, workflow in rows:
        pages.append(f"/expedientes/{case_id}")
        if workflow == "access_request":
            pages.append(f"/transparencia/solicitudes/{case_id}")
            pages.append(f"/transparencia/mis-solicitudes/{case_id}")  # the requester's tracking page
        if workflow == "obligation_publication":
            pages.append(f"/transparencia/publicaciones/{case_id}")
    return pages


def _walk(client: FlaskClient, start: list[str]) -> tuple[int, dict[str, list[str]]]:
    """Open ``start`` and then pages they link to; the repeated ids of each page, and how many were opened."""
    repeated: dict[str, list[str]] = {}
    queue: deque[str] = deque(start)
    seen: set[str] = set()
    budget = len(start) + LINKED_PAGES
    while queue and len(seen) < budget:
        path = queue.popleft()
        if path in seen or any(skip in path for skip in SKIPPED):
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        assert response.status_code < 500, (path, response.status_code)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = _Ids()
        parser.feed(response.get_data(as_text=True))
        twice = sorted(name for name, n in parser.ids.items() if n > 1)
        if twice:
            repeated[urlsplit(response.request.path).path] = twice
        queue.extend(link for link in parser.links if link not in seen)
    return len(seen), repeated


def test_no_page_repeats_an_element_id(app: Flask, demo: list[str]) -> None:
    cases = _case_pages()
    found: dict[str, dict[str, list[str]]] = {}
    opened = 0
    for email in ["", *demo]:
        client = app.test_client()
        if email:
            response = login(client, email, "Demo-Tramites-2026")
            assert response.status_code == 302, email
        count, repeated = _walk(client, [*PUBLIC, *LISTS, *cases] if email else list(PUBLIC))
        opened += count
        if repeated:
            found[email or "anonymous"] = repeated
    assert opened > 100
    assert found == {}
