"""The assignee on the case page and in the queue; recusal from the case page; reassignment by administrators."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.extensions import db
from app.models import Case, Department, Role, User, UserRole
from app.services.assignment import reassign
from app.services.cases import FireResult, fire, open_case
from app.services.config import update_config
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from tests.support.demo_data import TIPO_B_SETTINGS, VECS_DATA
from tests.support.factories import make_user
from tests.web.helpers import csrf_token, field_errors, flashes, kept_text, login_as, text
from workflows.base import requirement_kinds
from workflows.cdmx_tipo_b import TIPO_B_V1

OFFICE = TIPO_B_SETTINGS["departments"]["review"]


def registered(owner: int) -> FireResult:
    opened = open_case("cdmx_tipo_b", owner, VECS_DATA)
    version = opened.version
    for kind in requirement_kinds(TIPO_B_V1.params["requirements"]):
        version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), owner).case_version
    return fire(opened.case_id, "submit", owner, expected_version=version)


def assignee_of(case_id: int) -> int | None:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case.assignee_id


def name_of(user_id: int) -> str:
    user = db.session.get(User, user_id)
    assert user is not None
    return user.display_name


@pytest.fixture
def town(app: Flask) -> tuple[int, list[int], int, FireResult]:
    admin = make_user(Role.ADMIN)
    staff = [make_user((Role.REVIEWER, OFFICE), name=f"Revisor Número {n}") for n in range(2)]
    update_config("cdmx_tipo_b", TIPO_B_SETTINGS, admin)
    owner = make_user(Role.APPLICANT)
    return admin, staff, owner, registered(owner)


def test_case_page_and_queue_show_the_assignee(
    client: FlaskClient, town: tuple[int, list[int], int, FireResult]
) -> None:
    _, _, _, case = town
    assignee = assignee_of(case.case_id)
    assert assignee is not None
    login_as(client, assignee)
    page = text(client.get(f"/expedientes/{case.case_id}"))
    words = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert f"Asignado por sorteo a: {name_of(assignee)} (usted)" in words
    assert "Excusarse por conflicto de interés" in page
    queue = text(client.get("/bandeja?vista=asignados"))
    assert case.folio in queue
    assert "Asignado a mí" in queue


def test_the_other_reviewer_cannot_recuse_nor_sees_it_in_their_queue(
    client: FlaskClient, town: tuple[int, list[int], int, FireResult]
) -> None:
    _, staff, _, case = town
    other = next(s for s in staff if s != assignee_of(case.case_id))
    login_as(client, other)
    page = client.get(f"/expedientes/{case.case_id}")
    assert page.status_code == 200  # same department: they may read it
    assert "Excusarse" not in text(page)
    assert case.folio not in text(client.get("/bandeja"))
    token = csrf_token(text(client.get("/inicio")), "/logout")
    answer = client.post(f"/expedientes/{case.case_id}/excusa", data={"csrf_token": token, "reason": "Intento"})
    assert answer.status_code == 403


def test_recusal_from_the_case_page(client: FlaskClient, town: tuple[int, list[int], int, FireResult]) -> None:
    _, staff, _, case = town
    first = assignee_of(case.case_id)
    assert first is not None
    login_as(client, first)
    action = f"/expedientes/{case.case_id}/excusa"
    token = csrf_token(text(client.get(f"/expedientes/{case.case_id}")), action)
    empty = client.post(action, data={"csrf_token": token, "reason": "  "})
    assert empty.status_code == 422
    assert field_errors(empty) == ["Escriba el motivo."]
    long_reason = "Soy vecina del predio. " * 100  # over 2,000 characters: refused, and kept to be shortened
    too_long = client.post(action, data={"csrf_token": token, "reason": long_reason})
    assert too_long.status_code == 422
    page = text(too_long)
    assert field_errors(too_long) == ["El motivo admite a lo más 2000 caracteres."]
    assert "<details open>" in page
    assert 'aria-describedby="recusal-reason-error"' in page
    assert long_reason.strip() in html.unescape(page)  # what was typed is still there (a redirect lost it)
    assert assignee_of(case.case_id) == first
    done = client.post(action, data={"csrf_token": token, "reason": "Soy vecina del predio"}, follow_redirects=True)
    assert "Se registró su excusa; el expediente se volvió a sortear sin usted." in flashes(done)
    assert assignee_of(case.case_id) == next(s for s in staff if s != first)


def test_a_recusal_sent_after_the_case_was_reassigned_or_the_office_changed_keeps_the_reason(
    client: FlaskClient, town: tuple[int, list[int], int, FireResult]
) -> None:
    admin, _, _, case = town
    first = assignee_of(case.case_id)
    assert first is not None
    login_as(client, first)
    action = f"/expedientes/{case.case_id}/excusa"
    token = csrf_token(text(client.get(f"/expedientes/{case.case_id}")), action)
    reason = "Soy pariente de la persona solicitante."
    reassign(case.case_id, admin, "Carga de trabajo")  # the case is taken from them while they write

    answer = client.post(action, data={"csrf_token": token, "reason": reason})
    assert answer.status_code == 403
    assert flashes(answer)  # why, as a message of the case page they may still read (their office's)
    assert reason in kept_text(answer)

    moved = make_user((Role.REVIEWER, "otra_oficina"))  # the office exists; then they are moved to it
    db.session.rollback()
    db.session.execute(update(UserRole).where(UserRole.user_id == first).values(department_code="otra_oficina"))
    db.session.commit()
    assert moved
    refused = client.post(action, data={"csrf_token": token, "reason": reason})
    assert refused.status_code == 403
    assert "Este expediente no es suyo ni le corresponde por su rol o su área." in text(refused)
    assert reason in kept_text(refused)
    assert assignee_of(case.case_id) != first


def test_administrators_reassign_by_draw_with_a_reason(
    client: FlaskClient, town: tuple[int, list[int], int, FireResult]
) -> None:
    admin, staff, _, case = town
    first = assignee_of(case.case_id)
    login_as(client, admin)
    db.session.rollback()
    db.session.execute(update(Department).where(Department.code == OFFICE).values(name="Revisión de Obra"))
    db.session.commit()
    listing = text(client.get("/admin/asignaciones"))
    assert case.folio in listing
    assert name_of(first or 0) in listing
    assert "<td>Revisión de Obra</td>" in listing  # the department by its name, not its code
    assert f"<td>{OFFICE}</td>" not in listing
    assert client.get(f"/expedientes/{case.case_id}").status_code == 403  # no case files for administrators
    action = f"/admin/asignaciones/{case.case_id}/reasignar"
    token = csrf_token(listing, action)
    refused = client.post(action, data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422
    assert assignee_of(case.case_id) == first
    done = client.post(action, data={"csrf_token": token, "reason": "Carga excesiva"}, follow_redirects=True)
    assert "El expediente se reasignó por sorteo." in flashes(done)
    assert assignee_of(case.case_id) == next(s for s in staff if s != first)
