"""Fuzzing every form of the web interface: settings (JSON included), the applicant's steps, staff actions,
public filing, tracking and verification, filters, account forms, uploads.

The demo data is loaded, then each persona (anonymous, an applicant, staff of each kind, the administrator)
walks the pages it can reach and every form found is collected. Hypothesis then submits collected forms with
hostile values — empty, huge, NUL bytes, deep JSON, numbers past every range, impossible dates, markup,
direction-changing characters, random choices and hidden fields — anonymous ones from varying addresses.

Property: every answer is a page or a redirect with a status below 500 (a refusal is fine; a 500 on user
input is a bug), within the deadline. Each form carries the CSRF token its page gave (rarely another value),
so that the values reach the forms.
"""

from __future__ import annotations

import io
import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.keys import init_development_keys
from app.models import Case, Certificate, User
from app.services.demo import DEMO_DOMAIN, DEMO_PASSWORD, load_demo
from tests.conftest import DATABASES, IsolatedClient
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import JSON, mutated_bytes
from tests.support.html_forms import Form, parse_page
from workflows import REGISTRY

STAFF = ("/inicio", "/bandeja", "/avisos")
UNIT = (
    "/inicio",
    "/transparencia/unidad",
    "/transparencia/areas",
    "/transparencia/comite",
    "/transparencia/publicaciones",
)
PERSONAS: dict[str, tuple[str, ...]] = {
    "": (
        "/",
        "/transparencia/solicitar",
        "/transparencia/consulta",
        "/transparencia/obligaciones",
        "/verificar",
        "/registro",
        "/contrasena/olvide",
        "/tramites",
        "/aviso-de-privacidad",
    ),
    "solicitante": ("/inicio", "/tramites", "/avisos", "/cuenta/contrasena"),
    "ventanilla": STAFF,
    "dictaminador": STAFF,
    "transparencia": (*UNIT, "/transparencia/publicaciones/muestreo"),
    "area": UNIT,
    "comite": UNIT,
    "auditor": (
        "/supervision/",
        "/supervision/puntos-de-control",
        "/supervision/pruebas/inclusion",
        "/supervision/pruebas/consistencia",
    ),
    "admin": (
        "/admin/tramites",
        "/admin/areas",
        "/admin/calendario",
        "/admin/datos-personales",
        "/admin/asignaciones",
        "/admin/correo",
        "/admin/seguridad",
    ),
}
"""Who walks the site, and the pages each starts from (the cases, settings and certificates are added)."""
PAGES_PER_PERSONA = 8
"""Pages each persona opens beyond its start pages, following links (breadth first)."""
FOCUS = ("/admin/tramites/", "/pasos/", "/transparencia/solicitar", "/elegibilidad", "/registro")
"""The forms of the brief's untrusted input (settings, the applicant's steps, public filing), tried more."""
SKIPPED = ("/logout", "/static/", ".csv", ".jsonl", ".pdf", "/archivos/", "/anexos/")

NASTY = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "0",
            "-1",
            "1e999999",
            "-0",
            "NaN",
            "Infinity",
            "9" * 400,
            "99999999999999999999",
            "[" * 5000 + "]" * 5000,
            '{"a":' * 3000 + "1" + "}" * 3000,
            '{"a": NaN}',
            "[1e400]",
            "2026-02-30",
            "0000-00-00",
            "31/12/2026",
            "<script>alert(1)</script>",
            "%s%n%x",
            "../../etc/passwd",
            "\u202eFDP.exe",
            "𝕏" * 80,
            "x" * 70_000,
            "true",
            "on",
            "a@b",
            "VECS-2026-000001",
            "ABCD-EFGH",
            "\r\n\r\n",
            "código | Descripción\notro|",
            "1.5e3",
            "١٢٣",
            "²",
            "7²",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


def _log_in(client: FlaskClient, handle: str) -> None:
    page = client.get("/login")
    token = next(form for form in _forms(page.get_data(as_text=True), "/login") if form.action == "/login")
    data = {"email": f"{handle}@{DEMO_DOMAIN}", "password": DEMO_PASSWORD, "next": ""}
    response = client.post("/login", data={**data, "csrf_token": token.fields["csrf_token"][0]})
    assert response.status_code == 302, (handle, response.status_code)


def _forms(body: str, page: str) -> list[Form]:
    return parse_page(body, page).forms


def _start_pages(persona: str) -> list[str]:
    pages = list(PERSONAS[persona])
    if persona == "":
        pages += [f"/verificar/{folio}" for folio in db.session.scalars(select(Certificate.folio))]
    elif persona == "solicitante":
        owner = select(User.id).where(User.email == f"{persona}@{DEMO_DOMAIN}").scalar_subquery()
        pages += [f"/expedientes/{n}" for n in db.session.scalars(select(Case.id).where(Case.applicant_id == owner))]
    elif persona == "admin":
        pages += [f"/admin/tramites/{procedure.name}" for procedure in REGISTRY]
    db.session.rollback()
    return pages


def _crawl(client: FlaskClient, persona: str, start: list[str]) -> list[Form]:
    forms: dict[tuple[str, str], Form] = {}
    # the start pages first, then the links to the forms this test tries most, then the others (the site's
    # navigation grows; the brief's forms must not fall beyond the page budget)
    queues: tuple[deque[str], deque[str], deque[str]] = (deque(start), deque(), deque())
    seen: set[str] = set()

    def walk(limit: int) -> None:
        while any(queues) and len(seen) < limit:
            path = next(queue for queue in queues if queue).popleft()
            if path in seen or any(skip in path for skip in SKIPPED):
                continue
            seen.add(path)
            response = client.get(path)
            assert response.status_code < 500, (persona, path, response.status_code)
            if "text/html" not in response.content_type:
                continue
            parser = parse_page(response.get_data(as_text=True), path)
            for link in (link.split("#")[0] for link in parser.links):
                if link not in seen:
                    queues[1 if any(part in link for part in FOCUS) else 2].append(link)
            for form in parser.forms:
                target = urlsplit(form.action).path
                if any(skip in target for skip in SKIPPED):
                    continue
                form.persona, form.action = persona, target
                forms.setdefault((form.method, target + "?" + ",".join(sorted(form.fields))), form)

    walk(len(start))  # every start page once, then what they link to
    walk(len(start) + PAGES_PER_PERSONA)
    return list(forms.values())


@pytest.fixture(params=["postgresql"] if "postgresql" in DATABASES else DATABASES[:1])
def backend(request: pytest.FixtureRequest) -> str:
    """One database here (PostgreSQL when there is one: it refuses more, NUL bytes in text for one); the
    demo data this test needs costs seconds to load."""
    request.node.user_properties.append(("database", request.param))
    return str(request.param)


@dataclass
class Site:
    clients: dict[str, FlaskClient]
    forms: list[Form]


@pytest.fixture(scope="session")
def fuzz_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Development keys made once (the demo issues certificates and signs checkpoints)."""
    folder = tmp_path_factory.mktemp("fuzz-keys")
    init_development_keys(folder, "Municipio de Ejemplo")
    return folder


@pytest.fixture
def site(app: Flask, fuzz_keys: Path) -> Site:
    app.test_client_class = IsolatedClient  # each request in its own application context, as on a server
    app.config["KEYS_DIR"] = str(fuzz_keys)
    load_demo()
    clients: dict[str, FlaskClient] = {}
    forms: list[Form] = []
    for persona in PERSONAS:
        client = app.test_client()
        if persona:
            _log_in(client, persona)
        clients[persona] = client
        forms += _crawl(client, persona, _start_pages(persona))
    return Site(clients, forms)


@st.composite
def json_like(draw: st.DrawFn, shown: str) -> str:
    """A JSON text like the one the page showed: mutated, nested past every limit, or any JSON at all."""
    choice = draw(st.sampled_from(range(4)))
    if choice == 0:
        depth = draw(st.sampled_from([2, 64, 257, 990, 1_000, 1_500, 20_000]) | st.integers(1, 20_000))
        return draw(st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "0" + "}" * depth]))
    if choice == 1:
        return draw(mutated_bytes(shown.encode(), max_changes=3)).decode("utf-8", "replace")
    if choice == 2:
        return draw(st.sampled_from(['{"a": NaN}', "[1e400]", "9" * 5000, '{"a": 1, "a": 2}', "null", '"x"', "[]"]))
    return json.dumps(draw(JSON))


@st.composite
def submissions(draw: st.DrawFn, forms: list[Form]) -> tuple[Form, dict[str, Any], str]:
    form = draw(st.sampled_from(forms), label="form")
    data: dict[str, Any] = {}
    for name, offered in form.fields.items():
        if name.endswith("csrf_token"):  # the page's token, rarely another value (then a plain 400)
            data[name] = draw(st.sampled_from([offered[0]] * 9 + [""]), label=name)
            continue
        json_shown = any(value.strip()[:1] in ("{", "[") for value in offered)
        # hostile first: Hypothesis starts from, and shrinks towards, the first choice
        how = draw(st.sampled_from(["json" if json_shown else "nasty", "nasty", "offered", "several", "omit"]))
        if how == "json":
            data[name] = draw(json_like(offered[0]), label=name)  # the JSON the page showed, changed
        elif how == "nasty" or (how == "offered" and not any(offered)):
            data[name] = draw(NASTY, label=name)
        elif how == "offered":
            data[name] = draw(st.sampled_from(offered), label=name)
        elif how == "several":
            data[name] = draw(st.lists(NASTY, min_size=2, max_size=3), label=name)
    for name in form.files:
        if draw(st.booleans()):
            content = draw(st.one_of(st.binary(max_size=300), st.just(b"%PDF-1.7\n%%EOF\n")))
            data[name] = (io.BytesIO(content), draw(st.sampled_from(["a.pdf", "../../x.pdf", "\x00.pdf", "𝕏.exe"])))
    address = draw(st.ip_addresses(v=4).map(str), label="client address")
    return form, data, address


def test_hostile_form_values_never_give_a_server_error(site: Site):
    actions = {form.action for form in site.forms}
    assert len(site.forms) >= 40, sorted(actions)
    for expected in ("/admin/tramites/", "/pasos/", "/acciones/", "/transparencia/solicitar", "/login", "/verificar"):
        assert any(expected in action for action in actions), (expected, sorted(actions))

    def send(sample: tuple[Form, dict[str, Any], str]) -> None:
        form, data, address = sample
        client = site.clients[form.persona]
        # a logged-in session is bound to its client's address: only anonymous visitors come from anywhere
        environ = {"REMOTE_ADDR": address if not form.persona else "127.0.0.1"}
        if form.method == "post":
            response = client.post(
                form.action,
                data=data,
                environ_base=environ,
                content_type="multipart/form-data" if form.multipart or form.files else None,
            )
        else:
            query = {k: v for k, v in data.items() if not isinstance(v, tuple)}
            response = client.get(form.action, query_string=query, environ_base=environ)
        assert response.status_code < 500, (form.persona, form.method, form.action, response.status_code)

    @fuzz(50, deadline_seconds=30)
    @given(submissions(site.forms))
    def any_form(sample: tuple[Form, dict[str, Any], str]) -> None:
        send(sample)

    focused = [form for form in site.forms if any(part in form.action for part in FOCUS)]

    @fuzz(50, deadline_seconds=30)
    @given(submissions(focused))
    def settings_steps_and_filing(sample: tuple[Form, dict[str, Any], str]) -> None:
        send(sample)

    any_form()
    settings_steps_and_filing()
