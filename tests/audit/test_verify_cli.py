"""``flask audit verify`` recomputes the chain and names the first bad entry."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.models import Role
from tests.support.factories import advance, make_user, vecs_case
from tests.support.tamper import raw_write


def _run_verify(app: Flask) -> tuple[int, str]:
    # These logs have no checkpoint (tests/audit/test_coverage.py covers that failure): judge the entries alone.
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--allow-uncovered"])
    return result.exit_code, result.output


@pytest.fixture
def populated(app: Flask) -> int:
    """A log with a dozen entries; returns how many."""
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = vecs_case(applicant)
    advance(case, [("submit", applicant, None, None), ("start_intake", clerk, None, None)])
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT max(seq) FROM audit_entries")).scalar_one())


def test_untouched_log_verifies(app: Flask, populated: int):
    code, output = _run_verify(app)
    assert code == 0, output
    assert f"OK: {populated} entries verified" in output


@pytest.mark.parametrize(
    ("statement", "bad"),
    [
        ("UPDATE audit_entries SET to_state = 'licensed' WHERE seq = 5", 5),
        ("UPDATE audit_entries SET actor_role = 'admin' WHERE seq = 3", 3),
        ("UPDATE audit_entries SET comment = 'otra cosa', comment_salt = '00' WHERE seq = 4", 4),
        ("DELETE FROM audit_entries WHERE seq = 6", 6),
        ("UPDATE audit_entries SET details = '{\"user_id\": 99}' WHERE seq = 1", 1),
    ],
)
def test_tampering_is_named(app: Flask, populated: int, statement: str, bad: int):
    with raw_write() as conn:
        conn.execute(text(statement))
    code, output = _run_verify(app)
    assert code == 1
    assert f"FAILED at entry {bad}:" in output


def test_truncated_tail_is_detected(app: Flask, populated: int):
    with raw_write() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": populated})
    code, output = _run_verify(app)
    assert code == 1
    assert f"FAILED at entry {populated}:" in output


def test_reordered_entries_are_detected(app: Flask, populated: int):
    with raw_write() as conn:
        conn.execute(text("UPDATE audit_entries SET seq = 1000 WHERE seq = 7"))
        conn.execute(text("UPDATE audit_entries SET seq = 7 WHERE seq = 8"))
        conn.execute(text("UPDATE audit_entries SET seq = 8 WHERE seq = 1000"))
    code, output = _run_verify(app)
    assert code == 1
    assert "FAILED at entry 7:" in output
