"""Values administrators enter (requirements, fee concepts, departments' names) in Spanish and, optionally, in
English: entered and checked on the settings and departments pages, stored, audited, and read by each reader in
the page's language (Spanish where no English value was given)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from app.engine import GuardRefused, InvalidData
from app.extensions import db
from app.models import AuditEntry, Department, Role, WorkflowConfigChange
from app.procedures.access_request import services as access
from app.services.case_actions import act
from app.services.cases import fire
from app.services.config import current_params, update_config
from app.services.departments import create_department
from app.web.labels import message_text
from tests.support.factories import make_user, vecs_case
from tests.web.helpers import csrf_token, field_errors, flashes, login_as, set_language, settings_form, text
from workflows.vecs import VECS_V1

SETTINGS = "/admin/tramites/vecs"
DEPARTMENTS = "/admin/areas"


FEE_ROW = {
    "fee_table-0-concept": "Licencia de construcción",
    "fee_table-0-concept_en": "Construction licence",
    "fee_table-0-unit": "fixed",
    "fee_table-0-rate": "851",
    "fee_table-0-legal_basis": "Ley de Ingresos 2026, art. 27",
}


def test_the_settings_page_takes_english_values_stores_audits_and_shows_them_back(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    data = settings_form(client, SETTINGS)
    data["requirements"] = "planos | Planos del proyecto | Project drawings\npropiedad | Escritura del predio"
    saved = client.post(SETTINGS, data={**data, **FEE_ROW})
    assert saved.status_code == 302, (field_errors(saved), flashes(saved))
    db.session.rollback()
    params = current_params("vecs")
    assert params["requirements"] == [
        {"kind": "planos", "label": "Planos del proyecto", "label_en": "Project drawings"},
        {"kind": "propiedad", "label": "Escritura del predio"},  # no English value: no key
    ]
    assert params["fee_table"] == [
        {
            "concept": "Licencia de construcción",
            "unit": "fixed",
            "rate": "851.00",
            "legal_basis": "Ley de Ingresos 2026, art. 27",
            "concept_en": "Construction licence",
        }
    ]
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).all()
    change = db.session.get(WorkflowConfigChange, entry.details["change_id"])
    assert change is not None
    assert change.changes["requirements"]["to"][0]["label_en"] == "Project drawings"
    assert change.changes["fee_table"]["to"][0]["concept_en"] == "Construction licence"
    page = text(client.get(SETTINGS))
    assert "planos | Planos del proyecto | Project drawings\npropiedad | Escritura del predio" in page
    assert 'value="Construction licence"' in page
    again = client.post(SETTINGS, data=settings_form(client, SETTINGS))  # the page sends back what it shows: no change
    assert "No hubo cambios." in flashes(client.get(again.headers["Location"]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"requirements": "planos | Planos | " + "D" * 201},
            "Cada descripción admite hasta 200 caracteres, en español y en inglés: planos | Planos | DDD",
        ),
        (
            {"requirements": "planos | Planos | Drawings | Plans"},
            "Tras la descripción va, si acaso, una sola en inglés",
        ),
        ({"requirements": "planos | Planos | Draw\x07ings"}, "No use caracteres de control: planos"),
        ({**FEE_ROW, "fee_table-0-concept_en": "Licence\x1b"}, "No use caracteres de control."),
        ({**FEE_ROW, "fee_table-0-concept_en": "L" * 201}, "Máximo 200 caracteres."),
    ],
    ids=["long-requirement", "two-english", "control-requirement", "control-concept", "long-concept"],
)
def test_bad_english_values_are_refused_clearly_and_nothing_typed_is_lost(
    client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    login_as(client, make_user(Role.ADMIN))
    refused = client.post(SETTINGS, data={**settings_form(client, SETTINGS), **changes})
    assert refused.status_code == 422
    assert any(error.startswith(message) for error in field_errors(refused)), field_errors(refused)
    page = refused.get_data(as_text=True)
    for value in changes.values():
        assert value.replace("\x07", "").replace("\x1b", "")[:40] in page.replace("\x07", "").replace("\x1b", "")
    db.session.rollback()
    assert db.session.scalars(select(WorkflowConfigChange)).all() == []


def requirements_with(**english: str | None) -> list[dict[str, str]]:
    """The default requirements with the English labels given (``None``: none)."""
    items = []
    for item in VECS_V1.params["requirements"]:
        changed = {k: v for k, v in item.items() if k != "label_en"}
        value = english.get(item["kind"], item.get("label_en"))
        if value:
            changed["label_en"] = value
        items.append(changed)
    return items


def test_a_bar_within_a_description_is_written_escaped_and_read_back_unchanged(client: FlaskClient) -> None:
    """A description may hold a bar (``\\|`` on its line): the page writes a stored one the same way, so saving
    the page again changes nothing, and a stored description is never split into a label and an English one."""
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    update_config(
        "vecs",
        {"requirements": [{"kind": "planos", "label": "Planos | memoria"}, {"kind": "dro", "label": "Carta DRO"}]},
        admin,
    )
    data = settings_form(client, SETTINGS)
    assert data["requirements"].split("\n")[-2:] == ["planos | Planos \\| memoria", "dro | Carta DRO"]
    saved = client.post(SETTINGS, data={**data, **FEE_ROW})
    assert saved.status_code == 302, (field_errors(saved), flashes(saved))
    data["requirements"] = "planos | Planos \\| memoria | Drawings \\| report\ndro | Carta DRO"
    saved = client.post(SETTINGS, data={**data, **FEE_ROW})
    assert saved.status_code == 302, (field_errors(saved), flashes(saved))
    db.session.rollback()
    assert current_params("vecs")["requirements"] == [
        {"kind": "planos", "label": "Planos | memoria", "label_en": "Drawings | report"},
        {"kind": "dro", "label": "Carta DRO"},
    ]
    assert settings_form(client, SETTINGS)["requirements"].strip() == data["requirements"]
    unchanged = client.post(SETTINGS, data={**settings_form(client, SETTINGS), **FEE_ROW})
    assert unchanged.status_code == 302
    db.session.rollback()
    assert current_params("vecs")["requirements"][0]["label"] == "Planos | memoria"


@pytest.fixture
def assessed_case(app: Flask) -> tuple[int, int]:
    """(case id, applicant) of a VECS request whose fees were assessed, under settings where the drawings and
    the licence fee have English values and the proof of ownership and the alignment fee have none."""
    admin = make_user(Role.ADMIN)
    row = {"unit": "fixed", "rate": "100", "legal_basis": "Ley de Ingresos 2026"}
    table = [
        {**row, "concept": "Licencia de obra", "concept_en": "Building licence"},
        {**row, "concept": "Constancia de alineamiento"},
    ]
    update_config(
        "vecs",
        {"requirements": requirements_with(planos="Building drawings", propiedad=None), "fee_table": table},
        admin,
    )
    owner, clerk, reviewer = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK), make_user(Role.REVIEWER)
    case = vecs_case(owner)
    version = case.version
    for trigger, actor, data in (
        ("submit", owner, None),
        ("start_intake", clerk, None),
        ("accept_intake", clerk, None),
        ("rule_land_use", reviewer, {"land_use_ruling": "Compatible"}),
    ):
        version = fire(case.case_id, trigger, actor, expected_version=version, data=data).version
    act(case.case_id, "assess_fees", reviewer, expected_version=version, idempotency_key=uuid.uuid4().hex)
    return case.case_id, owner


def test_the_case_page_shows_english_values_in_english_and_spanish_ones_otherwise(
    client: FlaskClient, assessed_case: tuple[int, int]
) -> None:
    case_id, owner = assessed_case
    login_as(client, owner)
    path = f"/expedientes/{case_id}"
    spanish = text(client.get(path))
    for shown in ("Planos arquitectónicos y memoria descriptiva", "Licencia de obra", "Constancia de alineamiento"):
        assert shown in spanish
    for hidden in ("Building drawings", "Building licence"):
        assert hidden not in spanish
    set_language(client, "en", path)
    english = text(client.get(path))
    assert '<html lang="en">' in english
    for shown in ("Building drawings", "Building licence"):
        assert shown in english
    assert "Planos arquitectónicos y memoria descriptiva" not in english
    assert "Licencia de obra" not in english
    # no English value given: the Spanish one, never an empty cell
    assert "Documento que acredita la propiedad del predio" in english
    assert "Constancia de alineamiento" in english


def test_departments_carry_an_english_name_entered_checked_audited_and_read_in_english(client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    token = csrf_token(text(client.get(DEPARTMENTS)), "")
    long = client.post(
        DEPARTMENTS, data={"csrf_token": token, "code": "catastro", "name": "Catastro", "name_en": "C" * 201}
    )
    assert long.status_code == 422
    assert "Máximo 200 caracteres." in field_errors(long)
    assert 'value="Catastro"' in text(long)
    assert "C" * 201 in text(long)
    created = client.post(
        DEPARTMENTS,
        data={"csrf_token": token, "code": "catastro", "name": "Dirección de Catastro", "name_en": " Land\tRegistry "},
    )
    assert created.status_code == 302, field_errors(created) or flashes(created)
    create_department("archivo", "Archivo Municipal", None)  # no English name
    db.session.rollback()
    assert db.session.get(Department, "catastro").name_en == "Land Registry"  # type: ignore[union-attr]
    assert 'value="Land Registry"' in text(client.get(DEPARTMENTS))

    reader = client.application.test_client()
    login_as(reader, make_user((Role.REVIEWER, "catastro"), (Role.INSPECTOR, "archivo")))
    spanish = text(reader.get("/inicio"))
    assert "Dirección de Catastro" in spanish
    assert "Archivo Municipal" in spanish
    assert "Land Registry" not in spanish
    set_language(reader, "en", "/inicio")
    english = text(reader.get("/inicio"))
    assert "Land Registry" in english
    assert "Dirección de Catastro" not in english
    assert "Archivo Municipal" in english  # no English name: the Spanish one

    renamed = client.post(
        f"{DEPARTMENTS}/catastro/nombre",
        data={"csrf_token": token, "name": "Dirección de Catastro", "name_en": "Cadastre Office"},
    )
    assert "Nombre del área cambiado." in flashes(client.get(renamed.headers["Location"]))
    cleared = client.post(
        f"{DEPARTMENTS}/catastro/nombre", data={"csrf_token": token, "name": "Dirección de Catastro", "name_en": ""}
    )
    assert cleared.status_code == 302
    db.session.rollback()
    assert db.session.get(Department, "catastro").name_en is None  # type: ignore[union-attr]
    logged = [e.details for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("department_%")))]
    assert {"code": "catastro", "name": "Dirección de Catastro", "name_en": "Land Registry"} in logged
    assert {"code": "catastro", "from_en": "Land Registry", "to_en": "Cadastre Office"} in logged
    assert {"code": "catastro", "from_en": "Cadastre Office", "to_en": None} in logged
    assert text(reader.get("/inicio")).count("Dirección de Catastro") >= 1  # English page, English name gone


def test_refusals_naming_an_area_or_a_document_give_an_english_reader_its_english_name(app: Flask) -> None:
    """The refusal's msgid is translated and the administrator's Spanish value put in, except where an English
    value was given: an area without staff to answer a turn, a missing document of the requirements."""
    create_department("catastro", "Dirección de Catastro", None, name_en="Land Registry")
    create_department("archivo", "Archivo Municipal", None)  # no English name
    unit = make_user(Role.TRANSPARENCY_UNIT)
    filed = access.file_request("Observatorio", "obs@example.test", "Planos", "electronic")
    update_config(
        "vecs", {"requirements": requirements_with(planos="Building drawings", propiedad=None)}, make_user(Role.ADMIN)
    )
    refusals = []
    for code in ("catastro", "archivo"):
        with pytest.raises(InvalidData) as refused:
            access.turn_request(filed.case_id, [code], unit, expected_version=1)
        refusals.append(refused.value.reasons[0])
    owner = make_user(Role.APPLICANT)
    draft = vecs_case(owner, documents=False)
    with pytest.raises(GuardRefused) as missing:
        fire(draft.case_id, "submit", owner, expected_version=draft.version)
    by_kind = {reason.params.get("kind"): reason for reason in missing.value.reasons}
    refusals += [by_kind["planos"], by_kind["propiedad"]]

    def read(language: str) -> list[str]:
        with app.test_request_context("/"), force_locale(language):
            return [message_text(reason) for reason in refusals]

    assert read("en") == [
        "The area “Land Registry” has no staff who can answer the turn.",
        "The area “Archivo Municipal” has no staff who can answer the turn.",
        "The document “Building drawings” is missing.",
        "The document “Documento que acredita la propiedad del predio” is missing.",
    ]
    assert read("es_MX") == [
        "El área «Dirección de Catastro» no tiene personal que pueda responder el turno.",
        "El área «Archivo Municipal» no tiene personal que pueda responder el turno.",
        "Falta el documento «Planos arquitectónicos y memoria descriptiva».",
        "Falta el documento «Documento que acredita la propiedad del predio».",
    ]
