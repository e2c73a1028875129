"""The flask CLI: demo data on first start only, user creation."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Case, Role, User
from app.services.users import authenticate


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalars(select(func.count()).select_from(User)).one(),
        db.session.scalars(select(func.count()).select_from(Case)).one(),
        db.session.scalars(select(func.count()).select_from(AuditEntry)).one(),
    )


def test_demo_load_runs_once_and_prints_logins(app: Flask):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Datos de demostración cargados." in first.output
    assert "solicitante@demo.gob.mx" in first.output
    assert "Demo-Tramites-2026" in first.output
    after_first = _counts()
    # 16 people with logins (14 common, two of them the committee's quorum; one the business licence declares, the
    # treasury VECS declares), requesters who filed without an account, the publications' system account
    assert after_first[0] == 25
    assert after_first[1] == 19
    states = {(row.workflow, row.state) for row in db.session.execute(select(Case.workflow, Case.state))}
    assert states == {
        ("vecs", "draft"),
        ("vecs", "submitted"),
        ("vecs", "prevention"),
        ("vecs", "licensed"),
        ("vecs", "fee_assessment"),
        ("cdmx_tipo_b", "registered"),
        ("access_request", "received"),
        ("access_request", "prevention"),
        ("access_request", "turned"),
        ("access_request", "in_committee"),
        ("access_request", "answered"),
        ("access_request", "appeal_filed"),
        ("access_request", "appeal_pleadings"),
        ("access_request", "compliance_review"),  # the requester's term to make remarks on the report runs
        ("obligation_publication", "drafting"),
        ("obligation_publication", "published"),
        ("business_licence", "submitted"),
    }

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert "ya presentes" in second.output
    db.session.expire_all()
    assert _counts() == after_first

    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_users_create(app: Flask):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--quiet"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Nueva.Revisora@Ejemplo.MX",
            "--name",
            "Nueva Revisora",
            "--role",
            "reviewer:desarrollo_urbano",
            "--role",
            "inspector",
            "--password",
            "una-frase-larga-y-segura",
        ]
    )
    assert result.exit_code == 0, result.output
    user = authenticate("nueva.revisora@ejemplo.mx", "una-frase-larga-y-segura")
    assert user is not None
    assert user.role_names == {Role.REVIEWER.value, Role.INSPECTOR.value}
    assert user.departments(Role.REVIEWER) == {"desarrollo_urbano"}
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_bad_input(app: Flask):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["users", "create", "a@b.mx", "--name", "A", "--role", "applicant", "--password", "corta"]
    )
    assert short.exit_code != 0
    assert "al menos 12 caracteres" in short.output
    role = runner.invoke(
        args=["users", "create", "a@b.mx", "--name", "A", "--role", "mayor", "--password", "suficientemente-larga"]
    )
    assert role.exit_code != 0
    assert "unknown role" in role.output
    dept = runner.invoke(
        args=[
            "users",
            "create",
            "a@b.mx",
            "--name",
            "A",
            "--role",
            "reviewer:nada",
            "--password",
            "suficientemente-larga",
        ]
    )
    assert dept.exit_code != 0
    assert "no existe" in dept.output
    # what the forms refuse, the command refuses too (it created an administrator "not-an-email" with no name, and
    # a 300-character name answered with a traceback on PostgreSQL)
    for address, name, expected in (
        ("not-an-email", "Ana", "correo electrónico no es válido"),
        ("ana @b.mx", "Ana", "correo electrónico no es válido"),
        ("a" * 250 + "@b.mx", "Ana", "correo electrónico no es válido"),
        ("a@b.mx", "", "nombre de hasta 200"),
        ("a@b.mx", "   ", "nombre de hasta 200"),
        ("a@b.mx", "N" * 201, "nombre de hasta 200"),
        ("a@b.mx", "Nombre\x01", "nombre de hasta 200"),
    ):
        refused = runner.invoke(
            args=["users", "create", address, "--name", name, "--role", "admin", "--password", "suficientemente-larga"]
        )
        assert refused.exit_code != 0, (address, name)
        assert expected in refused.output
        assert "Traceback" not in refused.output
    assert db.session.scalars(select(func.count()).select_from(User)).one() == 0
