"""PostgreSQL's JIT compilation and parallel workers are off for the application's connections (issue 16: every page
at 10,000,000 log entries within 2x of 100,000). With a large log, the server compiled an export of the whole log
before its first row (the statement's estimated cost passes ``jit_above_cost``): 25 ms more, and the page's ratio
2.4-2.8x. Under plans kept for prepared statements (made from averages), the staff's work queue at 100,000 cases
started parallel workers to read two rows: 15-20 ms for a read of 0.3 ms."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.services.uow import unit_of_work


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("JIT compilation and parallel workers are PostgreSQL's")


def _settings() -> tuple[str, str]:
    return (
        str(db.session.execute(text("SHOW jit")).scalar_one()),
        str(db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one()),
    )


OFF = ("off", "0")


def test_jit_and_parallel_workers_are_off_on_every_connection_whatever_its_transactions_did(app: Flask) -> None:
    assert _settings() == OFF
    db.session.rollback()  # the setting is the session's, not a transaction's a rollback would undo
    assert _settings() == OFF
    with unit_of_work() as session:
        session.execute(text("SELECT 1"))
    assert _settings() == OFF
    db.session.remove()
    db.engine.dispose()  # a new connection
    assert _settings() == OFF
    db.session.remove()


def test_a_costly_statement_is_not_compiled(app: Flask) -> None:
    db.session.execute(text("SET LOCAL jit_above_cost = 0"))  # every statement would be compiled with JIT on
    plan = "\n".join(db.session.execute(text("EXPLAIN (ANALYZE) SELECT count(*) FROM audit_entries")).scalars())
    assert "JIT" not in plan
    db.session.rollback()


def test_a_statement_expecting_many_rows_starts_no_parallel_workers(app: Flask) -> None:
    db.session.execute(text("SET LOCAL parallel_setup_cost = 0"))  # any scan would be parallel with workers allowed
    db.session.execute(text("SET LOCAL parallel_tuple_cost = 0"))
    db.session.execute(text("SET LOCAL min_parallel_table_scan_size = 0"))
    plan = "\n".join(db.session.execute(text("EXPLAIN SELECT count(*) FROM audit_entries")).scalars())
    assert "Gather" not in plan, plan
    assert "Parallel" not in plan, plan
    db.session.rollback()
