"""The settings page reads each setting's words from its procedure's declaration (both databases): every
installed procedure's page works and shows its own labels, never a raw key; the same key reads differently
in two procedures; missing departments are pointed out."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient

import app.services.users as users_service
from app.models import Role
from app.services.departments import ensure_declared_departments
from tests.support.factories import make_user
from tests.web.helpers import login_as, set_language, text
from workflows import REGISTRY
from workflows.procedure import Procedure


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


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
