"""Turns of an access request, on SQLite and PostgreSQL: only areas with staff can be chosen, by name; the
unit adds a turn or withdraws one while the request is with the areas; each area's documents stay its own."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engine import InvalidData
from app.extensions import db
from app.models import Case, Document, Role
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import AreaTurn
from app.services.demo import demo_pdf
from app.services.users import ensure_department
from tests.support.factories import case_version, make_user
from tests.web.helpers import flashes, login_as, text


def _turned_areas(case_id: int) -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(AreaTurn.department_code).where(AreaTurn.case_id == case_id)))


def test_only_areas_with_staff_can_be_turned_a_request(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    make_user((Role.AREA, "obras"))
    ensure_department("archivo", "Archivo Histórico")  # no area staff
    assert "archivo" not in [d.code for d in ar.departments()]
    assert "obras" in [d.code for d in ar.departments()]
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    with pytest.raises(InvalidData, match="Archivo Histórico"):
        ar.turn_request(filed.case_id, ["archivo"], unit, expected_version=case_version(filed.case_id))
    assert _turned_areas(filed.case_id) == []


def test_the_unit_adds_and_withdraws_turns_while_the_request_is_with_the_areas(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    tesoreria = make_user((Role.AREA, "tesoreria"))
    make_user((Role.AREA, "catastro"))
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    ar.add_turn(filed.case_id, ["tesoreria", "catastro"], unit, expected_version=case_version(filed.case_id))
    assert _turned_areas(filed.case_id) == ["catastro", "obras", "tesoreria"]
    assert [r.case_id for r in ar.area_queue(tesoreria)] == [filed.case_id]
    with pytest.raises(InvalidData, match="ya está turnada"):
        ar.add_turn(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    ar.answer_turn(
        filed.case_id, "obras", ar.AreaAnswer("available"), obras, expected_version=case_version(filed.case_id)
    )
    with pytest.raises(InvalidData, match="ya respondió"):
        ar.withdraw_turn(filed.case_id, "obras", "No aplica", unit, expected_version=case_version(filed.case_id))
    ar.withdraw_turn(filed.case_id, "catastro", "No genera planos", unit, expected_version=case_version(filed.case_id))
    ar.withdraw_turn(filed.case_id, "tesoreria", "Tampoco", unit, expected_version=case_version(filed.case_id))
    assert _turned_areas(filed.case_id) == ["obras"]
    assert ar.area_queue(tesoreria) == []
    with pytest.raises(InvalidData, match="al menos a un área"):
        ar.withdraw_turn(filed.case_id, "obras", "x", unit, expected_version=case_version(filed.case_id))
    # every area turned now has answered: the unit consolidates
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
    assert db.session.get(Case, filed.case_id).state == "consolidated"  # type: ignore[union-attr]


def test_one_areas_document_does_not_replace_anothers(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    tesoreria = make_user((Role.AREA, "tesoreria"))
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    ar.turn_request(filed.case_id, ["obras", "tesoreria"], unit, expected_version=case_version(filed.case_id))
    first = ar.attach_area_document(filed.case_id, "obras", "respuesta_area", "obras.pdf", demo_pdf("Obras"), obras)
    other = ar.attach_area_document(
        filed.case_id, "tesoreria", "respuesta_area", "tesoreria.pdf", demo_pdf("Tesoreria"), tesoreria
    )
    db.session.rollback()
    current = {d.id for d in db.session.scalars(select(Document).where(Document.superseded_by_id.is_(None)))}
    assert {first, other} <= current
    again = ar.attach_area_document(filed.case_id, "obras", "respuesta_area", "obras2.pdf", demo_pdf("Obras 2"), obras)
    db.session.rollback()
    assert db.session.get(Document, first).superseded_by_id == again  # type: ignore[union-attr]
    assert db.session.get(Document, other).superseded_by_id is None  # type: ignore[union-attr]


def test_pages_name_areas_never_by_code(app: Flask, client: FlaskClient):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    ensure_department("obras_publicas", "Obras Públicas")
    make_user((Role.AREA, "obras_publicas"))
    make_user((Role.AREA, "tesoreria_mpal"))
    ensure_department("archivo_hist", "Archivo Histórico")
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    login_as(client, unit)
    url = f"/transparencia/solicitudes/{filed.case_id}"
    page = text(client.get(url))
    assert "Obras Públicas" in page
    assert "Archivo Histórico" not in page  # no area staff: not offered
    ar.turn_request(filed.case_id, ["obras_publicas"], unit, expected_version=case_version(filed.case_id))
    page = text(client.get(url))
    assert 'id="form-add-turn"' in page
    visible = re.sub(r'(value|name|id|for|action)="[^"]*"', "", page)
    assert "obras_publicas" not in visible
    assert "Obras Públicas" in visible
    token = re.search(r'name="add-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    added = client.post(
        f"{url}/turnos/agregar",
        data={
            "add-csrf_token": token.group(1),
            "add-version": str(case_version(filed.case_id)),
            "add-departments": "tesoreria_mpal",
        },
    )
    assert added.status_code == 302, flashes(added)
    assert _turned_areas(filed.case_id) == ["obras_publicas", "tesoreria_mpal"]
    page = text(client.get(url))
    assert 'id="form-withdraw-tesoreria_mpal"' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_a_person_of_several_areas_gets_one_form_per_area_and_no_id_repeats(app: Flask, client: FlaskClient):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    make_user((Role.AREA, "obras"))
    make_user((Role.AREA, "tesoreria"))
    both = make_user((Role.AREA, "obras"), (Role.AREA, "tesoreria"))
    filed = ar.file_request("Lector", "lector@example.test", "Planos", "electronic")
    ar.turn_request(filed.case_id, ["obras", "tesoreria"], unit, expected_version=case_version(filed.case_id))
    login_as(client, both)
    url = f"/transparencia/solicitudes/{filed.case_id}"
    page = text(client.get(url))
    assert 'id="form-answer-obras"' in page
    assert 'id="form-answer-tesoreria"' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    refused = client.post(
        f"{url}/turno/tesoreria",
        data={"csrf_token": token.group(1), "version": str(case_version(filed.case_id)), "kind": "reserved"},
    )
    assert refused.status_code == 422
    assert any("prueba de daño" in f or "fundamento" in f for f in flashes(refused)), flashes(refused)
    again = text(refused)
    ids = re.findall(r'\bid="([^"]+)"', again)
    assert len(ids) == len(set(ids))
    answered = client.post(
        f"{url}/turno/tesoreria",
        data={"csrf_token": token.group(1), "version": str(case_version(filed.case_id)), "kind": "available"},
    )
    assert answered.status_code == 302, flashes(answered)
    db.session.rollback()
    assert set(db.session.get(Case, filed.case_id).data["answers"]) == {"tesoreria"}  # type: ignore[union-attr]
