"""Every kind of page passes the automated WCAG 2.1 A and AA checks of axe-core in the real browser, in Spanish
and in English: the public pages, and the pages of each demo role (home, lists, a case of each procedure, the
applicant's step pages, the oversight and administration areas).

Automated checks find what a machine can (names of controls and links, labels, contrast, landmarks, the page's
language, ids that labels point to…); they do not replace trying the pages with a screen reader and a keyboard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from app.extensions import db
from app.keys import init_development_keys
from app.models import Case, Certificate, User
from app.services import auth
from app.services.demo import DEMO_PASSWORD, load_demo
from tests.e2e.conftest import People

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PUBLIC = (
    "/",
    "/login",
    "/registro",
    "/contrasena/olvide",
    "/tramites",
    "/transparencia/solicitar",
    "/transparencia/consulta",
    "/transparencia/obligaciones",
    "/verificar",
    "/consulta",
    "/aviso-de-privacidad",
    "/pagina-que-no-existe",
)


SECOND_STEP: dict[str, list[str]] = {}
"""The recovery codes of the demo's logins given a second factor, one spent at each login."""


@pytest.fixture
def demo(app: Flask, tmp_path: Path) -> dict[str, list[str]]:
    """The demo loaded; the pages each demo login opens (their lists, and a case of each procedure in each state
    the demo has), and under ``""`` the public pages of its issued documents (verification, a folio's status)."""
    init_development_keys(tmp_path / "keys", "Municipio de Ejemplo")
    app.config["KEYS_DIR"] = str(tmp_path / "keys")
    logins = [entry.email for entry in load_demo().logins]
    rows = db.session.execute(select(Case.id, Case.workflow, Case.state)).all()
    db.session.rollback()
    one_of_each = {(workflow, state): case_id for case_id, workflow, state in rows}
    case_pages = [f"/expedientes/{case_id}" for case_id in sorted(set(one_of_each.values()))]
    requests = [case_id for case_id, workflow, _ in rows if workflow == "access_request"]
    publications = [case_id for case_id, workflow, _ in rows if workflow == "obligation_publication"]
    by_handle = {email.split("@")[0]: email for email in logins}
    clerk = db.session.scalar(select(User.id).where(User.email == by_handle["ventanilla"]))
    assert clerk is not None
    # its page has forms; with a second factor, its login asks for a code (a recovery code each time here)
    SECOND_STEP[by_handle["ventanilla"]] = auth.confirm_enrolment(
        clerk, pyotp.TOTP(auth.begin_enrolment(clerk).secret).now()
    )
    issued = db.session.execute(select(Certificate.folio, Certificate.verification_code)).all()
    db.session.rollback()
    public = [path for folio, code in issued for path in (f"/verificar/{folio}?c={code}", f"/consulta?folio={folio}")]
    assert public, "the demo issues documents"
    return {
        "": public,
        by_handle["solicitante"]: [
            "/inicio",
            "/mis-expedientes",
            "/avisos",
            "/cuenta/contrasena",
            "/cuenta/sesiones",
            "/cuenta/correo",
            "/cuenta/verificacion",
            *case_pages,
            *(f"/transparencia/mis-solicitudes/{case_id}" for case_id in requests),
        ],
        by_handle["ventanilla"]: ["/inicio", "/bandeja", "/cuenta/verificacion", *case_pages],
        by_handle["tesoreria"]: ["/inicio", "/tesoreria"],
        by_handle["area"]: ["/transparencia/areas"],
        by_handle["transparencia"]: [
            "/transparencia/unidad",
            *(f"/transparencia/solicitudes/{case_id}" for case_id in requests),
            "/transparencia/comite",
            "/transparencia/publicaciones",
            *(f"/transparencia/publicaciones/{case_id}" for case_id in publications[:2]),
        ],
        by_handle["garante"]: ["/transparencia/garante", "/transparencia/publicaciones/muestreo"],
        by_handle["auditor"]: ["/supervision/", *(f"/supervision/expedientes/{case_id}" for case_id in requests[:1])],
        by_handle["admin"]: [
            "/admin/tramites",
            "/admin/areas",
            "/admin/calendario",
            "/admin/asignaciones",
            "/admin/correo",
            "/admin/datos-personales",
            "/admin/seguridad",
            "/admin/usuarios",
            f"/admin/usuarios/{clerk}",
        ],
    }


def _violations(page: Page, path: str | None = None) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations of the page at ``path`` (the page shown when ``None``): rule, impact
    and the elements concerned."""
    if path is None:
        path = page.url
    else:
        page.goto(path)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    return [
        f"{path}: {rule['id']} ({rule['impact']}): {rule['help']} — "
        + "; ".join(" ".join(node["target"]) for node in rule["nodes"][:5])
        for rule in results.response["violations"]
    ]


def _logged_in(people: People, email: str) -> Page:
    page = people.page()
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main input[type=submit]")
    if email in SECOND_STEP:
        page.wait_for_url(re.compile(r"/login/verificacion$"))
        page.fill("#code", SECOND_STEP[email].pop())
        page.click("main input[type=submit]")
    page.wait_for_url(re.compile(r"/inicio$"))
    return page


def _in_english(page: Page) -> None:
    page.goto("/inicio")
    page.select_option("#locale", "en")
    with page.expect_navigation():
        page.locator("form:has(#locale) button[type=submit]").click()


def test_every_kind_of_page_passes_the_automated_wcag_checks(people: People, demo: dict[str, list[str]]) -> None:
    found: list[str] = []
    every_step: set[str] = set()
    anonymous = people.page()
    for path in PUBLIC:
        found += _violations(anonymous, path)
    for email, paths in demo.items():
        page = _logged_in(people, email) if email else anonymous
        steps: set[str] = set()
        for path in paths:
            found += _violations(page, path)
            steps |= set(page.eval_on_selector_all("a[href*='/pasos/']", "links => links.map(a => a.pathname)"))
        for path in sorted(steps):  # the applicant's step pages, reached from their cases
            found += _violations(page, path)
        every_step |= steps
    # a form refused for its input: its errors tied to their fields
    anonymous.goto("/login")
    anonymous.fill("#email", "nadie@example.test")
    anonymous.fill("#password", "equivocada")
    with anonymous.expect_navigation():
        anonymous.click("main input[type=submit]")
    assert anonymous.locator("[aria-invalid=true], .flash-error, .error").count() > 0
    found += _violations(anonymous)  # the login page with its error
    assert len(every_step) >= 4, every_step
    assert found == [], "\n".join(found)


def test_the_english_pages_pass_them_too(people: People, demo: dict[str, list[str]]) -> None:
    found: list[str] = []
    for email in [email for email in demo if email][:2]:
        page = _logged_in(people, email)
        _in_english(page)
        assert page.locator("html").get_attribute("lang") == "en"
        for path in demo[email][:3]:
            found += _violations(page, path)
    assert found == [], "\n".join(found)
