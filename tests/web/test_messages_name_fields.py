"""Validation and guard errors name fields by their translated label, never by an internal key such as
``information_requested`` or ``derechos_pagados``: every form each demo user reaches (the procedures' steps,
the case pages' actions, the transparency unit's, areas', committee's and guarantor's forms, the publication
record) is sent blank, then with a plausible but wrong value in each input, and no message shown afterwards
(flashes, errors under fields, the lines saying why a step is not available) holds a snake_case key. Then the
guards of each procedure are met head-on: a VECS request filed with a datum missing, an access request's
appeal without grounds and a publication before its quarter ends."""

from __future__ import annotations

import html
import re
from collections import deque
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.keys import init_development_keys
from app.models import Case, Role
from app.services.demo import load_demo
from tests.conftest import DATABASES, IsolatedClient
from tests.support.factories import make_user, vecs_case
from tests.support.html_forms import Form, parse_page
from tests.web.helpers import login, login_as

KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
"""An internal key: lower-case words joined by underscores (``built_area_m2``, ``appeal_grounds``)."""
START = (
    "/inicio",
    "/bandeja",
    "/tesoreria",
    "/transparencia/unidad",
    "/transparencia/areas",
    "/transparencia/garante",
    "/transparencia/comite",
    "/transparencia/publicaciones",
)
SKIPPED = ("/logout", "/language", "/static/", ".csv", ".json", ".pdf", "/archivos/", "/anexos/", "/admin/")
PAGES = 40


def _posted_forms(body: str, path: str) -> tuple[list[str], list[Form]]:
    """A page's links (without their fragment) and its POST forms."""
    parser = parse_page(body, path)
    return [link.split("#")[0] for link in parser.links], [f for f in parser.forms if f.method == "post"]


def messages(response: TestResponse) -> list[str]:
    """What the page says about the last action: flashes, errors under fields, steps not available."""
    body = response.get_data(as_text=True)
    found = re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', body, re.S)
    found += re.findall(r'<p class="error"[^>]*>(.*?)</p>', body, re.S)
    found += re.findall(r'<li id="no-disponible-[^"]+">(.*?)</li>', body, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in found]


def raw_keys(texts: list[str]) -> list[str]:
    # folios and e-mail addresses are not keys; a document's own file name is what the person uploaded
    cleaned = [re.sub(r"\S+@\S+|[\w.-]+\.pdf", "", t) for t in texts]
    return [t for t in cleaned if KEY.search(t)]


def _filled(form: Form, blank: bool) -> dict[str, Any]:
    data: dict[str, Any] = {name: form.fields[name][0] for name in form.hidden}
    for name, offered in form.fields.items():
        if name in form.hidden:
            continue
        if blank:
            data[name] = ""
        else:
            choices = [v for v in offered if v]
            data[name] = choices[0] if choices else "x"
    return data


@pytest.fixture(params=DATABASES[:1])
def backend(request: pytest.FixtureRequest) -> str:
    """One database is enough for the words of the messages (the demo costs seconds to load)."""
    return str(request.param)


@pytest.fixture
def demo(app: Flask, tmp_path: Path) -> list[str]:
    init_development_keys(tmp_path / "keys", "Municipio de Ejemplo")
    app.config["KEYS_DIR"] = str(tmp_path / "keys")
    app.test_client_class = IsolatedClient
    return [entry.email for entry in load_demo().logins]


def _case_pages() -> list[str]:
    rows = db.session.execute(select(Case.id, Case.workflow)).all()
    db.session.rollback()
    pages: list[str] = []
    for case_id, workflow in rows:
        pages.append(f"/expedientes/{case_id}")
        if workflow == "access_request":
            pages += [f"/transparencia/solicitudes/{case_id}", f"/transparencia/mis-solicitudes/{case_id}"]
        if workflow == "obligation_publication":
            pages.append(f"/transparencia/publicaciones/{case_id}")
    return pages


def _forms_of(client: FlaskClient, start: list[str]) -> list[Form]:
    forms: dict[tuple[str, tuple[str, ...]], Form] = {}
    queue, seen = deque(start), set()
    while queue and len(seen) < len(start) + PAGES:
        path = queue.popleft()
        if path in seen or any(skip in path for skip in SKIPPED):
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        links, posted = _posted_forms(response.get_data(as_text=True), urlsplit(response.request.path).path)
        queue.extend(link for link in links if link not in seen)
        for form in posted:
            if not any(skip in form.action for skip in SKIPPED):
                forms.setdefault((form.action, tuple(sorted(form.fields))), form)
    return list(forms.values())


def test_no_form_answers_with_an_internal_key(app: Flask, demo: list[str]) -> None:
    cases = _case_pages()
    found: dict[str, list[str]] = {}
    sent = 0
    for email in demo:
        client = app.test_client()
        assert login(client, email, "Demo-Tramites-2026").status_code == 302
        for form in _forms_of(client, [*START, *cases]):
            for blank in (True, False):
                response = client.post(form.action, data=_filled(form, blank), follow_redirects=True)
                sent += 1
                assert response.status_code < 500, (email, form.action, response.status_code)
                shown = raw_keys(messages(response))
                if shown:
                    found.setdefault(f"{email} {form.action}", []).extend(shown)
    assert sent > 50
    assert found == {}


# -- each procedure's guards, met head-on ---------------------------------------------------------------


@pytest.fixture
def one_db(app: Flask) -> Flask:
    app.test_client_class = IsolatedClient
    return app


def test_vecs_a_missing_datum_is_named_by_its_label(one_db: Flask) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, data={"cadastral_key": ""})
    client = one_db.test_client()
    login_as(client, owner)
    path = f"/expedientes/{case.case_id}"
    _, posted = _posted_forms(client.get(path).get_data(as_text=True), path)
    submit = next(f for f in posted if f.action.endswith("/acciones/submit"))  # data come from the steps
    response = client.post(submit.action, data=_filled(submit, blank=True), follow_redirects=True)
    shown = messages(response)
    assert any(m.startswith("Falta el dato obligatorio «") for m in shown), shown
    assert raw_keys(shown) == []


def test_access_refusals_name_fields_by_label(one_db: Flask) -> None:
    from app.procedures.access_request import services as ar

    client = one_db.test_client()
    filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    page = client.get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
    _, posted = _posted_forms(page, f"/transparencia/seguimiento/{filed.token}")
    shown: list[str] = []
    for form in posted:
        for blank in (True, False):
            response = client.post(form.action, data=_filled(form, blank), follow_redirects=True)
            assert response.status_code < 500
            shown += messages(response)
    unit = make_user(Role.TRANSPARENCY_UNIT)
    login_as(client, unit)
    staff = client.get(f"/transparencia/solicitudes/{filed.case_id}").get_data(as_text=True)
    _, posted = _posted_forms(staff, f"/transparencia/solicitudes/{filed.case_id}")
    for form in posted:
        if "/solicitudes/" not in form.action:
            continue
        for blank in (True, False):
            response = client.post(form.action, data=_filled(form, blank), follow_redirects=True)
            assert response.status_code < 500
            shown += messages(response)
    assert shown
    assert raw_keys(shown) == []


def test_publication_refusals_name_no_key(one_db: Flask) -> None:
    from app.procedures.obligation_publication.services import open_quarter
    from app.services.users import ensure_department

    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    area = make_user((Role.AREA, "finanzas"))
    with time_machine.travel(datetime(2026, 3, 20, 18, 0, tzinfo=UTC), tick=False):
        open_quarter(2026, 1, today=date(2026, 3, 20))
        db.session.rollback()
        case_ids = list(db.session.scalars(select(Case.id).where(Case.workflow == "obligation_publication")))
        client = one_db.test_client()
        login_as(client, area)
        shown: list[str] = []
        for case_id in case_ids:
            path = f"/transparencia/publicaciones/{case_id}"
            response = client.get(path)
            if response.status_code != 200:
                continue
            _, posted = _posted_forms(response.get_data(as_text=True), path)
            for form in posted:
                for blank in (True, False):
                    data = _filled(form, blank)
                    if not blank:
                        data.update({k: "no es número" for k in form.fields if k.startswith("row-")})
                        data["send"] = "1"
                    posted = client.post(form.action, data=data, follow_redirects=True)
                    assert posted.status_code < 500
                    shown += messages(posted)
    assert shown
    assert raw_keys(shown) == []
