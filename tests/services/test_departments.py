"""Departments are data an administrator manages: created, renamed and deleted through audited services,
checked against what the installed procedures need; an unknown code is refused wherever it comes in."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.engine import InvalidData, NotAllowed, NotFound
from app.extensions import db
from app.models import AuditEntry, Department, Role, WorkflowConfig
from app.services.cases import fire
from app.services.config import current_params, update_config
from app.services.departments import (
    MissingDepartment,
    create_department,
    delete_department,
    ensure_declared_departments,
    list_departments,
    missing_departments,
    rename_department,
)
from app.services.users import RoleGrant, create_user
from tests.support.factories import PASSWORD, make_user, vecs_case
from workflows import REGISTRY


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def declared_codes() -> set[str]:
    return {d.code for p in REGISTRY for d in p.departments}


def test_create_rename_delete_are_audited(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    create_department("catastro", "  Dirección   de Catastro ", admin)
    db.session.rollback()
    assert db.session.get(Department, "catastro").name == "Dirección de Catastro"  # type: ignore[union-attr]
    (created,) = entries("department_created")
    assert created.actor_id == admin
    assert created.details == {"code": "catastro", "name": "Dirección de Catastro"}

    assert rename_department("catastro", "Catastro Municipal", admin) is True
    assert rename_department("catastro", "Catastro Municipal", admin) is False  # nothing changed, nothing logged
    (renamed,) = entries("department_renamed")
    assert renamed.details == {"code": "catastro", "from": "Dirección de Catastro", "to": "Catastro Municipal"}
    assert [d.name for d in list_departments() if d.code == "catastro"] == ["Catastro Municipal"]

    delete_department("catastro", admin)
    db.session.rollback()
    assert db.session.get(Department, "catastro") is None
    (deleted,) = entries("department_deleted")
    assert deleted.details == {"code": "catastro", "name": "Catastro Municipal"}


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("Catastro", "Catastro", "solo minúsculas"),
        ("catastro municipal", "Catastro", "solo minúsculas"),
        ("", "Catastro", "solo minúsculas"),
        ("catastro", "   ", "Escriba el nombre del área."),
        ("catastro", "x" * 201, "hasta 200 caracteres"),
    ],
)
def test_bad_codes_and_names_are_refused(app: Flask, code: str, name: str, message: str) -> None:
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidData, match=message):
        create_department(code, name, admin)
    assert entries("department_created") == []


def test_codes_are_unique_and_only_admins_change_departments(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    reviewer = make_user((Role.REVIEWER, "finanzas"))
    with pytest.raises(InvalidData, match="Ya existe un área con el código «finanzas»"):
        create_department("finanzas", "Otra Tesorería", admin)
    with pytest.raises(NotAllowed):
        create_department("catastro", "Catastro", reviewer)
    with pytest.raises(NotAllowed):
        rename_department("finanzas", "Hacienda", reviewer)
    with pytest.raises(NotFound, match="no existe"):
        rename_department("no_existe", "Algo", admin)
    with pytest.raises(NotFound, match="no existe"):
        delete_department("no_existe", admin)
    assert entries("department_created") == []
    assert entries("department_renamed") == []


def test_a_department_in_use_is_not_deleted_and_says_why(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    create_department("catastro", "Catastro", admin)
    make_user((Role.REVIEWER, "catastro"))
    make_user((Role.INSPECTOR, "catastro"))
    with pytest.raises(InvalidData) as refused:
        delete_department("catastro", admin)
    assert str(refused.value.message) == "El área «catastro» está en uso y no se puede eliminar."
    assert [str(r) for r in refused.value.reasons] == ["2 asignaciones de rol a personas la nombran."]
    # a department an installed procedure declares, or its settings name, is needed even with nobody in it
    ensure_declared_departments(admin)
    with pytest.raises(InvalidData) as needed:
        delete_department("ventanilla", admin)
    assert [str(r) for r in needed.value.reasons] == ["La necesitan estos trámites: vecs."]
    create_department("licencias", "Licencias", admin)
    update_config("cdmx_tipo_b", {"departments": {"review": "licencias"}}, admin)
    with pytest.raises(InvalidData) as mapped:
        delete_department("licencias", admin)
    assert [str(r) for r in mapped.value.reasons] == ["La necesitan estos trámites: cdmx_tipo_b."]
    assert entries("department_deleted") == []


def test_a_department_holding_cases_is_not_deleted(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    ensure_declared_departments(admin)
    update_config("vecs", {"departments": {**current_params("vecs")["departments"], "intake": "ventanilla"}}, admin)
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner)
    fire(case.case_id, "submit", owner, expected_version=case.version)
    with pytest.raises(InvalidData) as refused:
        delete_department("ventanilla", admin)
    reasons = [str(r) for r in refused.value.reasons]
    assert "1 expedientes la nombran." in reasons
    assert "La necesitan estos trámites: vecs." in reasons


def test_missing_declared_departments_are_reported_and_ensure_creates_them(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    missing = missing_departments()
    assert {m.code for m in missing} == declared_codes()
    assert MissingDepartment("vecs", "ventanilla", "declared", "Ventanilla única") in missing
    assert MissingDepartment("access_request", "transparencia", "declared", "Unidad de Transparencia") in missing
    create_department("finanzas", "Hacienda Municipal", admin)  # an existing one keeps the name given to it
    result = ensure_declared_departments(admin)
    assert "finanzas" not in {code for code, _ in result.created}
    assert {code for code, _ in result.created} == declared_codes() - {"finanzas"}
    assert missing_departments() == []
    db.session.rollback()
    assert db.session.get(Department, "finanzas").name == "Hacienda Municipal"  # type: ignore[union-attr]
    assert db.session.get(Department, "ventanilla").name == "Ventanilla única"  # type: ignore[union-attr]
    assert len(entries("department_created")) == len(declared_codes())
    assert ensure_declared_departments(admin).created == ()


def test_settings_naming_a_missing_department_are_reported(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    ensure_declared_departments(admin)
    # settings written before departments were checked (or by hand in the database) name one that is gone
    db.session.add(
        WorkflowConfig(
            workflow="cdmx_tipo_b", params={"departments": {"review": "obras_alcaldia"}}, revision=1, updated_by_id=None
        )
    )
    db.session.commit()
    assert missing_departments() == [MissingDepartment("cdmx_tipo_b", "obras_alcaldia", "settings")]


def test_an_unknown_department_in_the_settings_is_refused(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    ensure_declared_departments(admin)
    offices = {**current_params("vecs")["departments"], "intake": "ventanilla", "fees": "tesoreria"}
    with pytest.raises(InvalidData) as refused:
        update_config("vecs", {"departments": offices}, admin)
    assert str(refused.value.message) == "La configuración nombra el área «tesoreria», que no existe; créela primero."
    assert current_params("vecs")["departments"]["intake"] == ""  # nothing saved
    assert entries("workflow_config_changed") == []
    create_department("tesoreria", "Tesorería", admin)
    update_config("vecs", {"departments": offices}, admin)
    assert current_params("vecs")["departments"]["fees"] == "tesoreria"


def test_a_format_naming_an_unknown_department_is_refused(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    ensure_declared_departments(admin)
    formats = current_params("obligation_publication")["formats"]
    changed = [{**formats[0], "department": "contraloria"}, *formats[1:]]
    with pytest.raises(InvalidData, match="«contraloria», que no existe"):
        update_config("obligation_publication", {"formats": changed}, admin)
    create_department("contraloria", "Contraloría", admin)
    update_config("obligation_publication", {"formats": changed}, admin)
    assert current_params("obligation_publication")["formats"][0]["department"] == "contraloria"


def test_a_role_grant_in_an_unknown_department_is_refused(app: Flask) -> None:
    with pytest.raises(InvalidData) as refused:
        create_user("nueva@example.test", "Nueva", PASSWORD, [RoleGrant(Role.REVIEWER, "no_existe")])
    assert str(refused.value.message) == "El área «no_existe» no existe."
    assert entries("user_created") == []
