"""``flask departments …``: list, create, rename, delete, check what the installed procedures need, ensure."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Department, Role
from tests.support.factories import make_user
from workflows import REGISTRY


def declared_codes() -> set[str]:
    return {d.code for p in REGISTRY for d in p.departments}


def test_create_rename_list_delete(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["departments", "create", "catastro", "Dirección de Catastro"])
    assert created.exit_code == 0, created.output
    assert "department catastro created" in created.output
    renamed = runner.invoke(args=["departments", "rename", "catastro", "Catastro Municipal"])
    assert renamed.exit_code == 0, renamed.output
    make_user((Role.REVIEWER, "catastro"))
    listed = runner.invoke(args=["departments", "list"])
    assert listed.exit_code == 0
    assert "catastro" in listed.output
    assert "Catastro Municipal" in listed.output
    assert "grants=1" in listed.output
    refused = runner.invoke(args=["departments", "delete", "catastro"])
    assert refused.exit_code != 0
    assert "está en uso" in refused.output
    assert "1 asignaciones de rol" in refused.output
    db.session.rollback()
    assert db.session.get(Department, "catastro").name == "Catastro Municipal"  # type: ignore[union-attr]
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("department_%"))))
    assert actions == ["department_created", "department_renamed"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "department_renamed")).one()
    assert entry.actor_role == "system"  # the operator at the console


def test_bad_input_is_refused_with_the_reason(app: Flask) -> None:
    runner = app.test_cli_runner()
    bad_code = runner.invoke(args=["departments", "create", "Catastro Municipal", "Catastro"])
    assert bad_code.exit_code != 0
    assert "solo minúsculas" in bad_code.output
    unknown = runner.invoke(args=["departments", "rename", "no_existe", "Algo"])
    assert unknown.exit_code != 0
    assert "«no_existe» no existe" in unknown.output


def test_check_reports_what_is_missing_until_ensure_creates_it(app: Flask, warnings_logged: list[str]) -> None:
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["departments", "check"])
    assert missing.exit_code == 1
    for code in declared_codes():
        assert f"department {code!r}" in missing.output
    assert "vecs: needs department 'ventanilla' (Ventanilla única), which does not exist" in missing.output
    needs = sum(len(p.departments) for p in REGISTRY)  # one line per procedure and department it needs
    assert f"{needs} missing department(s)" in missing.output
    warned = runner.invoke(args=["departments", "check", "--warn-only"])
    assert warned.exit_code == 0
    assert any("'ventanilla'" in message for message in warnings_logged)
    assert any("missing department(s)" in message for message in warnings_logged)
    ensured = runner.invoke(args=["departments", "ensure"])
    assert ensured.exit_code == 0, ensured.output
    assert "department ventanilla created (Ventanilla única)" in ensured.output
    ok = runner.invoke(args=["departments", "check"])
    assert ok.exit_code == 0, ok.output
    assert "every department the installed procedures need exists" in ok.output
    again = runner.invoke(args=["departments", "ensure"])
    assert "every declared department exists" in again.output


def test_demo_data_creates_the_declared_departments(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load", "--quiet"]).exit_code == 0
    check = runner.invoke(args=["departments", "check"])
    assert check.exit_code == 0, check.output
    db.session.rollback()
    codes = set(db.session.scalars(select(Department.code)))
    assert codes == declared_codes() | {"proteccion_civil"}


class Collected(logging.Handler):
    """The records of one logger (the migrations' logging setup replaces the root's handlers, pytest's too)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_logged() -> Iterator[list[str]]:
    handler = Collected()
    departments_logger = logging.getLogger("app.departments")
    departments_logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        departments_logger.removeHandler(handler)


def test_db_upgrade_ends_by_warning_of_missing_departments(app: Flask, warnings_logged: list[str]) -> None:
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert (
        "missing department: access_request: needs department 'transparencia' (Unidad de Transparencia), "
        "which does not exist" in warnings_logged
    )
    runner.invoke(args=["departments", "ensure"])
    warnings_logged.clear()
    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert warnings_logged == []
    assert "downgrade" in runner.invoke(args=["db", "--help"]).output  # the other commands are still there


def test_create_and_rename_with_an_english_name(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["departments", "create", "catastro", "Dirección de Catastro", "--english", "Cadastre"]
    )
    assert created.exit_code == 0, created.output
    assert "[en: Cadastre]" in runner.invoke(args=["departments", "list"]).output
    kept = runner.invoke(args=["departments", "rename", "catastro", "Catastro Municipal"])
    assert kept.exit_code == 0, kept.output
    db.session.rollback()
    department = db.session.get(Department, "catastro")
    assert department is not None
    assert (department.name, department.name_en) == ("Catastro Municipal", "Cadastre")  # left out: it stays
    removed = runner.invoke(args=["departments", "rename", "catastro", "Catastro Municipal", "--english", ""])
    assert removed.exit_code == 0, removed.output
    db.session.rollback()
    assert db.session.get(Department, "catastro").name_en is None  # type: ignore[union-attr]
    refused = runner.invoke(args=["departments", "create", "archivo", "Archivo", "--english", "A\x07rchive"])
    assert refused.exit_code != 0
    assert "caracteres de control" in refused.output
