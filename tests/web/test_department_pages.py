"""The administrators' departments page, on both databases: list, create, rename, delete (refused with the
reason while in use), the departments the installed procedures miss; every change audited; admins only."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Department, Role
from tests.support.factories import make_user
from tests.web.helpers import csrf_token, field_errors, flashes, login_as, set_language, text
from workflows import REGISTRY

PAGE = "/admin/areas"


def token(client: FlaskClient) -> str:
    return csrf_token(text(client.get(PAGE)), "")


def audited(action: str) -> list[dict[str, object]]:
    db.session.rollback()
    return [e.details for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def test_admin_creates_renames_and_deletes_a_department(client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    created = client.post(PAGE, data={"csrf_token": token(client), "code": "catastro", "name": "Dirección de Catastro"})
    assert created.status_code == 302, field_errors(created) or flashes(created)
    listed = client.get(created.headers["Location"])
    assert "Área «catastro» creada." in flashes(listed)
    assert "Dirección de Catastro" in text(listed)
    renamed = client.post(f"{PAGE}/catastro/nombre", data={"csrf_token": token(client), "name": "Catastro  Municipal"})
    assert renamed.status_code == 302
    assert "Nombre del área cambiado." in flashes(client.get(renamed.headers["Location"]))
    db.session.rollback()
    assert db.session.get(Department, "catastro").name == "Catastro Municipal"  # type: ignore[union-attr]
    deleted = client.post(f"{PAGE}/catastro/eliminar", data={"csrf_token": token(client)})
    assert deleted.status_code == 302
    assert "Área «catastro» eliminada." in flashes(client.get(deleted.headers["Location"]))
    db.session.rollback()
    assert db.session.get(Department, "catastro") is None
    assert audited("department_created") == [{"code": "catastro", "name": "Dirección de Catastro"}]
    assert audited("department_renamed") == [
        {"code": "catastro", "from": "Dirección de Catastro", "to": "Catastro Municipal"}
    ]
    assert audited("department_deleted") == [{"code": "catastro", "name": "Catastro Municipal"}]


def test_bad_input_says_what_is_wrong(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN, (Role.REVIEWER, "finanzas")))
    empty = client.post(PAGE, data={"csrf_token": token(client), "code": "", "name": ""})
    assert empty.status_code == 422
    assert field_errors(empty) == ["Escriba el código del área.", "Escriba el nombre del área."]
    bad = client.post(PAGE, data={"csrf_token": token(client), "code": "Catastro Municipal", "name": "Catastro"})
    assert bad.status_code == 422
    assert any("Use solo minúsculas" in e for e in field_errors(bad))
    taken = client.post(PAGE, data={"csrf_token": token(client), "code": "finanzas", "name": "Otra"})
    assert taken.status_code == 422
    assert "Ya existe un área con el código «finanzas»." in flashes(taken)
    blank = client.post(f"{PAGE}/finanzas/nombre", data={"csrf_token": token(client), "name": "  "})
    assert "Escriba el nombre del área." in flashes(client.get(blank.headers["Location"]))
    # a name of invisible characters only is no name (a zero-width space and a byte order mark made the
    # department's name invisible); control and direction-override characters are not kept
    invisible = client.post(f"{PAGE}/finanzas/nombre", data={"csrf_token": token(client), "name": "\u200b\ufeff"})
    assert "Escriba el nombre del área." in flashes(client.get(invisible.headers["Location"]))
    marked = client.post(
        f"{PAGE}/finanzas/nombre", data={"csrf_token": token(client), "name": "Tesore\x01ría\u202e de Finanzas"}
    )
    assert marked.status_code == 302
    db.session.rollback()
    assert db.session.get(Department, "finanzas").name == "Tesorería de Finanzas"  # type: ignore[union-attr]
    unknown = client.post(f"{PAGE}/no_existe/nombre", data={"csrf_token": token(client), "name": "Algo"})
    assert "El área «no_existe» no existe." in flashes(client.get(unknown.headers["Location"]))
    assert audited("department_created") == []
    assert [e["to"] for e in audited("department_renamed")] == ["Tesorería de Finanzas"]


NUL_ES = "Lo que envió contiene un carácter nulo (NUL), que no puede guardarse."
NUL_EN = "What you sent contains a null character (NUL), which cannot be stored."


@pytest.mark.parametrize("name", ["\x00", "Tesorería\x00 Municipal"])
def test_a_nul_character_is_refused_with_its_reason_and_nothing_changes(client: FlaskClient, name: str) -> None:
    # PostgreSQL refuses NUL in text: the rename failed in the database (a 500), found by fuzzing the forms
    login_as(client, make_user(Role.ADMIN, (Role.REVIEWER, "finanzas")))
    renamed = client.post(f"{PAGE}/finanzas/nombre", data={"csrf_token": token(client), "name": name})
    assert renamed.status_code == 400
    assert NUL_ES in text(renamed)
    created = client.post(PAGE, data={"csrf_token": token(client), "code": "nueva", "name": name})
    assert created.status_code == 400
    set_language(client, "en", PAGE)
    english = client.post(f"{PAGE}/finanzas/nombre", data={"csrf_token": token(client), "name": name})
    assert english.status_code == 400
    assert NUL_EN in text(english)
    assert audited("department_renamed") == []
    assert audited("department_created") == []
    assert db.session.get(Department, "finanzas") is not None


def test_deleting_a_department_in_use_is_refused_with_the_reason(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    make_user((Role.AREA, "archivo"))
    refused = client.post(f"{PAGE}/archivo/eliminar", data={"csrf_token": token(client)})
    messages = flashes(client.get(refused.headers["Location"]))
    assert "El área «archivo» está en uso y no se puede eliminar." in messages
    assert "1 asignaciones de rol a personas la nombran." in messages
    db.session.rollback()
    assert db.session.get(Department, "archivo") is not None
    assert audited("department_deleted") == []


def test_the_page_lists_what_the_procedures_miss_and_creates_it(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    page = text(client.get(PAGE))
    assert "Áreas que faltan" in page
    assert "necesita el área «ventanilla» (Ventanilla única)." in page
    assert "necesita el área «transparencia» (Unidad de Transparencia)." in page
    ensured = client.post(f"{PAGE}/declaradas", data={"csrf_token": token(client)})
    declared = {d.code for p in REGISTRY for d in p.departments}
    assert f"Se crearon {len(declared)} áreas." in flashes(client.get(ensured.headers["Location"]))
    after = text(client.get(PAGE))
    assert "Áreas que faltan" not in after
    assert "Ventanilla única" in after
    assert {d["code"] for d in audited("department_created")} == declared


def test_the_page_speaks_english(client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN))
    set_language(client, "en", PAGE)
    page = text(client.get(PAGE))
    assert "Missing departments" in page
    assert "needs the department «ventanilla» (Single window)." in page


def test_only_administrators_reach_the_page(client: FlaskClient) -> None:
    login_as(client, make_user((Role.REVIEWER, "finanzas")))
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/finanzas/eliminar", data={}).status_code in (400, 403)
    db.session.rollback()
    assert db.session.get(Department, "finanzas") is not None
