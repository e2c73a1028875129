"""PostgreSQL's JIT compilation is off for the application's connections (issue 16: every page at 10,000,000 log
entries within 2x of 100,000). With a large log, the server compiled an export of the whole log before its first
row (the statement's estimated cost passes ``jit_above_cost``): 25 ms more, and the page's ratio 2.4-2.8x."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.services.uow import unit_of_work


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("JIT compilation is PostgreSQL's")


def _jit() -> str:
    return str(db.session.execute(text("SHOW jit")).scalar_one())


def test_jit_is_off_on_every_connection_whatever_its_transactions_did(app: Flask) -> None:
    assert _jit() == "off"
    db.session.rollback()  # the setting is the session's, not a transaction's a rollback would undo
    assert _jit() == "off"
    with unit_of_work() as session:
        session.execute(text("SELECT 1"))
    assert _jit() == "off"
    db.session.remove()
    db.engine.dispose()  # a new connection
    assert _jit() == "off"
    db.session.remove()


def test_a_costly_statement_is_not_compiled(app: Flask) -> None:
    db.session.execute(text("SET LOCAL jit_above_cost = 0"))  # every statement would be compiled with JIT on
    plan = "\n".join(db.session.execute(text("EXPLAIN (ANALYZE) SELECT count(*) FROM audit_entries")).scalars())
    assert "JIT" not in plan
    db.session.rollback()
