"""The password policy: length over composition, common passwords refused, nothing from the account."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask

from app.engine import InvalidData
from app.services.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    common_passwords,
    password_problems,
)
from app.services.users import MIN_PASSWORD_LENGTH as USERS_MIN_LENGTH

EMAIL = "rosa.martinez@example.test"
NAME = "Rosa María Martínez"

SHORT = "La contraseña debe tener al menos 12 caracteres."
LONG = f"La contraseña no puede tener más de {MAX_PASSWORD_LENGTH} caracteres."
COMMON = "Esa contraseña es de las más usadas o filtradas; elija otra más difícil de adivinar."
PERSONAL = "La contraseña no puede contener su nombre ni su correo electrónico."
IS_EMAIL = "La contraseña no puede ser igual a su correo electrónico."

CASES: list[tuple[str, list[str]]] = [
    # accepted: long enough, not common, nothing personal; no composition rules
    ("caballo correcto batería grapa", []),
    ("todo-en-minusculas-sin-numeros", []),
    ("ñandú jacarandá 🌵 azul", []),
    ("x" * 11 + "Yz", []),
    ("a" * 3 + "bcdefghijk" + "z" * (MAX_PASSWORD_LENGTH - 13), []),
    # refused by length
    ("Corta1!", [SHORT]),
    ("corta", [SHORT]),
    ("pqr" * 342, [LONG]),
    # common and breached passwords, also with digits or symbols added around them
    ("qwertyuiop123", [COMMON]),
    ("1q2w3e4r5t6y", [COMMON]),
    ("Password123456", [COMMON]),
    ("!!iloveyou2026!!", [COMMON]),
    ("Contraseña2026", [COMMON]),
    ("aaaaaaaaaaaaaaaa", [COMMON]),
    ("12121212121212", [COMMON]),
    # personal data
    (EMAIL, [IS_EMAIL]),
    ("  ROSA.MARTINEZ@example.test ", [IS_EMAIL]),
    ("rosa.martinez-2026-segura", [PERSONAL]),
    ("MARTINEZ por siempre jamás", [PERSONAL]),
    ("la martínez de la esquina", [PERSONAL]),
    ("quiero a maria siempre", [PERSONAL]),
]


@pytest.mark.parametrize(("password", "reasons"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_policy_table(password: str, reasons: list[str]) -> None:
    problems = password_problems(password, email=EMAIL, display_name=NAME)
    assert [p.msgid % dict(p.params) for p in problems] == reasons
    if reasons:
        with pytest.raises(InvalidData):
            check_password(password, email=EMAIL, display_name=NAME)
    else:
        check_password(password, email=EMAIL, display_name=NAME)


def test_one_definition_of_the_minimum_and_a_real_list() -> None:
    assert USERS_MIN_LENGTH is MIN_PASSWORD_LENGTH == 12
    assert MAX_PASSWORD_LENGTH >= 128
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert all(p == p.lower() and p.strip() == p for p in common)


def _create(app: Flask, password: str, email: str = "nueva.persona@example.test") -> Result:
    runner = app.test_cli_runner()
    return runner.invoke(
        args=["users", "create", email, "--name", "Nueva Persona", "--role", "auditor", "--password", password]
    )


def test_flask_users_create_applies_the_policy(app: Flask) -> None:
    refused = _create(app, "qwertyuiop123")
    assert refused.exit_code != 0
    assert "más usadas o filtradas" in refused.output
    personal = _create(app, "nueva.persona.segura")
    assert personal.exit_code != 0
    assert "nombre ni su correo" in personal.output
    created = _create(app, "lluvia sobre el tejado verde")
    assert created.exit_code == 0, created.output
    assert "created" in created.output
