"""An administrator grants and takes away roles from the command line (``users grant`` / ``users revoke``): at
once, in the audit log; never the last administrator's, never a role its holder still needs for the open cases
assigned to them."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit import verify
from app.extensions import db
from app.models import AuditEntry, AuditKind, Role, UserRole
from app.services.assignment import reassign
from app.services.config import update_config
from tests.services.test_assignment import OFFICE, manifestation
from tests.support.demo_data import TIPO_B_SETTINGS
from tests.support.factories import email_of, make_user, stored_case
from tests.web.helpers import login_as

Browsers = Callable[[], FlaskClient]


def _roles(user_id: int) -> set[tuple[str, str | None]]:
    db.session.rollback()
    rows = db.session.execute(select(UserRole.role, UserRole.department_code).where(UserRole.user_id == user_id))
    return {(role.value, department) for role, department in rows}


def _admin_entries(action: str) -> list[dict]:
    db.session.rollback()
    return [
        entry.details
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.kind == AuditKind.ADMIN, AuditEntry.action == action)
        )
    ]


def _run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["users", *args])
    return result.exit_code, result.output


def test_a_role_granted_and_taken_applies_at_once_and_is_logged(app: Flask, browsers: Browsers) -> None:
    user_id = make_user((Role.REVIEWER, OFFICE))
    client = browsers()
    login_as(client, user_id)
    assert client.get("/admin/seguridad").status_code == 403
    code, output = _run(app, "grant", email_of(user_id), "admin")
    assert (code, output.strip()) == (0, f"user {user_id}: admin granted")
    assert client.get("/admin/seguridad").status_code == 200  # the same session, the next request
    assert _run(app, "grant", email_of(user_id), "admin") == (0, f"user {user_id} already has admin; nothing changed\n")
    assert _admin_entries("role_granted") == [{"user_id": user_id, "role": "admin:"}]
    make_user(Role.ADMIN)  # not the last one
    code, output = _run(app, "revoke", email_of(user_id), "admin")
    assert (code, output.strip()) == (0, f"user {user_id}: admin revoked")
    assert client.get("/admin/seguridad").status_code == 403
    assert _roles(user_id) == {("reviewer", OFFICE)}
    assert _admin_entries("role_revoked") == [{"user_id": user_id, "role": "admin:"}]
    assert _run(app, "revoke", email_of(user_id), "admin")[1].strip().endswith("nothing changed")
    assert verify(db.session()).ok


def test_unknown_accounts_roles_and_departments_are_refused(app: Flask) -> None:
    user_id = make_user(Role.INSPECTOR)
    for args, message in (
        (("grant", "nadie@example.test", "auditor"), "No hay una cuenta con ese correo electrónico."),
        (("grant", email_of(user_id), "reviewer:no_existe"), "El área «no_existe» no existe."),
        (("grant", email_of(user_id), "alcalde"), "unknown role 'alcalde'"),
        (("revoke", email_of(user_id), "jefe"), "unknown role 'jefe'"),
    ):
        code, output = _run(app, *args)
        assert code != 0, args
        assert message in output, output
    assert _roles(user_id) == {("inspector", None)}
    assert _admin_entries("role_granted") == []


def test_the_last_administrator_keeps_the_role(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    code, output = _run(app, "revoke", email_of(admin), "admin")
    assert code != 0
    assert "No se puede retirar el rol de administrador a la última cuenta activa que lo tiene." in output
    assert _roles(admin) == {("admin", None)}


def test_a_role_still_needed_for_assigned_open_cases_is_kept_until_they_are_reassigned(app: Flask) -> None:
    """A reviewer of the office holds an open case assigned to them: taking their reviewer role is refused,
    naming the folio; another role of theirs is taken freely; once the case is reassigned, the role goes."""
    admin = make_user(Role.ADMIN)
    first = make_user((Role.REVIEWER, OFFICE))
    update_config("cdmx_tipo_b", TIPO_B_SETTINGS, admin)
    case = manifestation(make_user(Role.APPLICANT))
    assert stored_case(case.case_id).assignee_id == first
    _run(app, "grant", email_of(first), "inspector")
    code, output = _run(app, "revoke", email_of(first), f"reviewer:{OFFICE}")
    assert code != 0
    assert f"que sin ese rol ya no podría atender: 1 ({case.folio}); reasígnelos primero" in output
    assert ("reviewer", OFFICE) in _roles(first)
    assert _run(app, "revoke", email_of(first), "inspector")[0] == 0  # not needed for the case
    second = make_user((Role.REVIEWER, OFFICE))
    assert reassign(case.case_id, admin, "Cambia de área") == second
    code, output = _run(app, "revoke", email_of(first), f"reviewer:{OFFICE}")
    assert (code, output.strip()) == (0, f"user {first}: reviewer:{OFFICE} revoked")
    assert _roles(first) == set()
