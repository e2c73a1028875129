"""The test suite's applications share their compiled SQL statements; a server keeps its own.

SQLAlchemy keys an engine's compiled statements by the engine's dialect object, and the project's fixed
statements kept their plans the same way, so each test's application compiled again every statement its test ran:
6–9% of a sample of service and page tests' time. The test configuration keeps them for the whole process
(``SHARE_COMPILED_STATEMENTS``, ``app.database.PROCESS_STATEMENTS``), keyed by the dialect's settings
(``app.database.dialect_settings_key``); the fixed statements' plans are keyed by those settings always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler

from app import create_app
from app.database import PROCESS_STATEMENTS, dialect_settings_key
from app.extensions import db
from app.models import Role
from app.services.cases import fire
from tests.support.factories import make_user, vecs_case


@contextmanager
def compiled_statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL of every statement compiled inside the block (SQLAlchemy's compiler, whoever calls it)."""
    compiled: list[str] = []
    build = SQLCompiler.__init__

    def counted(compiler: SQLCompiler, *args: Any, **kwargs: Any) -> None:
        build(compiler, *args, **kwargs)
        compiled.append(compiler.string)

    with monkeypatch.context() as patch:
        patch.setattr(SQLCompiler, "__init__", counted)
        yield compiled


def _intake(application: Flask) -> None:
    """An applicant's draft through the intake's three steps, as the engine benchmark fires them."""
    with application.app_context():
        owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
        draft = vecs_case(owner)
        result = fire(draft.case_id, "submit", owner, expected_version=draft.version)
        result = fire(draft.case_id, "start_intake", clerk, expected_version=result.version)
        fire(draft.case_id, "accept_intake", clerk, expected_version=result.version)
        db.session.remove()


def _new_sql(compiled: list[str]) -> list[str]:
    """What was compiled but the ORM's flushes, which SQLAlchemy keeps per mapper and dialect object, and the
    savepoints, which it compiles at every run (they have no cache key)."""
    return [sql for sql in compiled if not sql.startswith(("INSERT INTO", "UPDATE ", "SAVEPOINT ", "RELEASE "))]


def test_a_second_application_compiles_none_of_the_statements_the_first_one_did(
    app: Flask, other_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    _intake(app)  # whatever the tests before this one left, the first application has compiled these now
    with compiled_statements(monkeypatch) as again:
        _intake(app)
    second = other_app("test", SQLALCHEMY_DATABASE_URI=url)
    with second.app_context():
        assert db.engine.get_execution_options()["compiled_cache"] is PROCESS_STATEMENTS
    with compiled_statements(monkeypatch) as by_the_second:
        _intake(second)
    assert _new_sql(by_the_second) == _new_sql(again) == []
    alone = other_app("test", SQLALCHEMY_DATABASE_URI=url, SHARE_COMPILED_STATEMENTS=False)
    with compiled_statements(monkeypatch) as by_one_alone:
        _intake(alone)
    assert len(_new_sql(by_one_alone)) >= 10  # its own engine compiles its reads again
    with alone.app_context():
        assert "compiled_cache" not in db.engine.get_execution_options()


def test_a_server_keeps_its_own_compiled_statements() -> None:
    for config in ("development", "production"):
        application = create_app(config, SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI="sqlite://")
        with application.app_context():
            assert "compiled_cache" not in db.engine.get_execution_options()
            db.engine.dispose()


def test_dialects_share_a_key_only_with_the_same_settings() -> None:
    assert dialect_settings_key(sqlite.dialect()) == dialect_settings_key(sqlite.dialect())
    assert dialect_settings_key(sqlite.dialect()) != dialect_settings_key(postgresql.dialect())
    older = postgresql.dialect()
    older.server_version_info = (12, 4)
    newer = postgresql.dialect()
    newer.server_version_info = (15, 10)
    assert dialect_settings_key(older) != dialect_settings_key(newer)
    other_json = sqlite.dialect(json_serializer=lambda value: str(value))
    assert dialect_settings_key(other_json) != dialect_settings_key(sqlite.dialect())
