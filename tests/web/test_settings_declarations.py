"""The settings page reads each setting's words from its procedure's declaration (both databases): every
installed procedure's page works and shows its own labels, never a raw key; the same key reads differently
in two procedures; missing departments are pointed out."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Role, WorkflowConfig
from app.services.config import current_params
from app.services.departments import ensure_declared_departments
from tests.support.factories import make_user
from tests.web.helpers import field_errors, flashes, login_as, set_language, settings_form, text
from workflows import REGISTRY
from workflows.procedure import Procedure


def labels(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]


@pytest.mark.parametrize("procedure", list(REGISTRY), ids=lambda p: p.name)
def test_each_procedure_page_shows_its_declared_words(client: FlaskClient, procedure: Procedure) -> None:
    login_as(client, make_user(Role.ADMIN))
    index = text(client.get("/admin/tramites"))
    assert f"/admin/tramites/{procedure.name}" in index
    response = client.get(f"/admin/tramites/{procedure.name}")
    assert response.status_code == 200
    page = text(response)
    shown = labels(page)
    for parameter in procedure.parameters:
        if parameter.kind not in ("departments", "fees"):  # (these two show as their section's table)
            assert parameter.label in shown, parameter.key
        if parameter.help:
            assert parameter.help in page, parameter.key
        assert f"<h2>{parameter.section}</h2>" in page, parameter.section
        for code, words in parameter.labels:
            assert words in page, code
    keys = {key for w in procedure.workflows for key in w.params}
    assert not keys & set(shown), "a setting shown under its raw key"
    assert "<h2>Otros</h2>" not in page


def test_the_same_key_has_each_procedures_own_label(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    construction = labels(text(client.get("/admin/tramites/vecs")))
    access = labels(text(client.get("/admin/tramites/access_request")))
    assert "Plazo para desahogar la prevención (días hábiles)" in construction
    assert "Plazo del solicitante para aclarar su solicitud prevenida (días hábiles)" in access
    assert "Plazo para desahogar la prevención (días hábiles)" not in access


def test_the_declared_words_are_translated(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    set_language(client, "en", "/admin/tramites/vecs")
    page = text(client.get("/admin/tramites/vecs"))
    assert "Maximum built area (m²)" in labels(page)
    assert "Superficie construida máxima (m²)" not in page


def test_the_index_points_out_missing_departments(client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    needed = {d.code for p in REGISTRY for d in p.departments}
    assert f"Faltan {len(needed)} áreas que necesitan los trámites instalados." in text(client.get("/admin/tramites"))
    ensure_declared_departments(admin)
    assert "áreas que necesitan" not in text(client.get("/admin/tramites"))


def test_an_office_mapped_to_a_missing_department_is_shown_and_kept(client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    ensure_declared_departments(admin)
    # settings saved before departments were checked name one that does not exist
    db.session.add(WorkflowConfig(workflow="cdmx_tipo_b", params={"departments": {"review": "obras_alcaldia"}}))
    db.session.commit()
    page = text(client.get("/admin/tramites/cdmx_tipo_b"))
    assert re.search(r'<option selected value="obras_alcaldia">obras_alcaldia \(no existe\)</option>', page), page
    data = settings_form(client, "/admin/tramites/cdmx_tipo_b")
    assert data["department__review"] == "obras_alcaldia"
    saved = client.post("/admin/tramites/cdmx_tipo_b", data={**data, "review_target_days": "6"})
    assert saved.status_code == 302, field_errors(saved) or flashes(saved)
    assert current_params("cdmx_tipo_b")["departments"] == {"review": "obras_alcaldia"}  # not silently dropped
    assert current_params("cdmx_tipo_b")["review_target_days"] == 6
    # choosing another department that does not exist is refused (the form offers none: forged here)
    refused = client.post("/admin/tramites/cdmx_tipo_b", data={**data, "department__review": "inventada"})
    assert refused.status_code == 422
