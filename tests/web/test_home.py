"""The home page: the user's name, their roles and one panel per role, in both languages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Locale, Role
from app.services.users import RoleGrant, create_user
from tests.support.factories import PASSWORD, advance, make_user, vecs_case
from tests.web.helpers import login, login_as, session_user_id, set_language, text

PANELS_ES = {
    "own_cases": "Mis solicitudes",
    "queue": "Bandeja de trabajo",
    "audit": "Supervisión",
    "admin": "Administración",
}
PANELS_EN = {
    "own_cases": "My requests",
    "queue": "Work queue",
    "audit": "Oversight",
    "admin": "Administration",
}


def _headings(body: str) -> set[str]:
    return {heading for heading in PANELS_ES.values() if f"<h2>{heading}</h2>" in body} | {
        heading for heading in PANELS_EN.values() if f"<h2>{heading}</h2>" in body
    }


@pytest.mark.parametrize(
    ("role", "role_label", "panel"),
    [
        pytest.param(role, label, panel, id=role.value)
        for role, label, panel in (
            (Role.APPLICANT, "Solicitante", "own_cases"),
            (Role.REVIEWER, "Dictaminador", "queue"),
            (Role.INTAKE_CLERK, "Ventanilla", "queue"),
            (Role.AUDITOR, "Auditor", "audit"),
            (Role.GUARANTOR, "Órgano garante", "audit+queue"),  # oversight, and verifying sampled publications
            (Role.ADMIN, "Administrador", "admin"),
        )
    ],
)
def test_each_role_sees_its_panel_and_only_its_panel(
    client: FlaskClient, role: Role, role_label: str, panel: str
) -> None:
    user_id = make_user(role, name="Rosa Martínez")
    response = login_as(client, user_id)
    assert response.headers["Location"] == "/inicio"
    home = client.get("/inicio")
    assert home.status_code == 200
    body = text(home)
    assert "Le damos la bienvenida, Rosa Martínez" in body
    assert f'<span class="tag">{role_label}</span>' in body
    assert _headings(body) == {PANELS_ES[p] for p in panel.split("+")}


def test_a_user_with_several_roles_sees_every_panel(client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT, Role.REVIEWER, Role.AUDITOR, Role.ADMIN)
    login_as(client, user_id)
    assert _headings(text(client.get("/inicio"))) == set(PANELS_ES.values())


def test_a_user_whose_profile_is_english_gets_the_home_page_in_english(client: FlaskClient) -> None:
    user_id = create_user(
        "reviewer.en@example.test", "Robin Reviewer", PASSWORD, [RoleGrant(Role.REVIEWER)], locale=Locale.EN
    )
    response = login(client, "reviewer.en@example.test")
    assert response.status_code == 302
    assert session_user_id(client) == str(user_id)
    body = text(client.get("/inicio"))
    assert '<html lang="en">' in body
    assert "Welcome, Robin Reviewer" in body
    assert '<span class="tag">Reviewer</span>' in body
    assert _headings(body) == {PANELS_EN["queue"]}
    assert "There are no pending cases." in body


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.REVIEWER, Role.AUDITOR, Role.ADMIN])
def test_switching_to_english_after_login_translates_the_panels(client: FlaskClient, role: Role) -> None:
    login_as(client, make_user(role))
    response = set_language(client, "en", "/inicio")
    assert response.headers["Location"] == "/inicio"
    body = text(client.get("/inicio"))
    assert '<html lang="en">' in body
    assert "Welcome, " in body
    panels = _headings(body)
    assert len(panels) == 1
    assert panels <= set(PANELS_EN.values())


def test_own_cases_show_translated_workflow_and_state(client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant)
    login_as(client, applicant)
    spanish = text(client.get("/inicio"))
    assert case.folio in spanish
    assert "Ventanilla de Construcción Simplificada" in spanish
    assert "Borrador: el solicitante captura su solicitud" in spanish
    set_language(client, "en", "/inicio")
    english = text(client.get("/inicio"))
    assert case.folio in english
    assert "Simplified Construction Window" in english
    assert "Draft: the applicant is filling in the request" in english
    assert "Borrador" not in english


def test_the_work_queue_lists_cases_waiting_for_the_reviewer(client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    clerk = make_user(Role.INTAKE_CLERK)
    reviewer = make_user(Role.REVIEWER)
    waiting = advance(
        vecs_case(applicant),
        [("submit", applicant, None, None), ("start_intake", clerk, None, None), ("accept_intake", clerk, None, None)],
    )
    draft = vecs_case(applicant)
    login_as(client, reviewer)
    set_language(client, "en", "/inicio")
    body = text(client.get("/inicio"))
    assert waiting.folio in body
    assert "Land-use and alignment ruling" in body
    assert draft.folio not in body


def test_the_oversight_panel_counts_entries_and_cases(client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    vecs_case(applicant, documents=False)
    auditor = make_user(Role.AUDITOR)
    login_as(client, auditor)
    body = text(client.get("/inicio"))
    assert "Expedientes: 1" in body
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))  # the head's sequence number is shown
    assert entries
    assert f"Entradas en la bitácora: {entries} " in body


def test_the_roles_name_their_departments_by_name(client: FlaskClient) -> None:
    """A role held in a department showed the department's code («ventanilla», «obras_publicas»)."""
    from app.services.users import ensure_department

    ensure_department("obras_publicas", "Dirección de Obras Públicas")
    login_as(client, make_user((Role.INSPECTOR, "obras_publicas")))
    roles = text(client.get("/inicio")).split('<p class="roles">', 1)[1].split("</p>", 1)[0]
    assert "Dirección de Obras Públicas" in roles
    assert "obras_publicas" not in roles
