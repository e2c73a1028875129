"""A tick process killed in the middle of firing a timer leaves nothing half-done; the next tick fires it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, text, update

from app.audit import verify
from app.extensions import db
from app.models import AuditEntry, Case, Role, Timer, TimerKind, TimerStatus, utcnow
from app.services.timers import fire_due_timers
from tests.support.factories import advance, make_user, vecs_case

ROOT = Path(__file__).resolve().parents[2]


def _lapsed_prevention() -> tuple[int, int]:
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(
        vecs_case(applicant),
        [
            ("submit", applicant, None, None),
            ("start_intake", clerk, None, None),
            ("issue_prevention", clerk, {"prevention_items": ["planos"]}, "Faltan cotas."),
        ],
    )
    timer_id = db.session.scalars(
        select(Timer.id).where(
            Timer.case_id == case.case_id, Timer.kind == TimerKind.DEADLINE, Timer.rule == "prevention_answer_days"
        )
    ).one()
    db.session.execute(
        update(Timer).where(Timer.case_id == case.case_id).values(due_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    return case.case_id, timer_id


def _scalar(sql: str, **params: object) -> int:
    """A fresh connection each time: pg_stat_activity is a snapshot taken once per transaction."""
    with db.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _wait_until(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_killed_tick_fires_once_on_the_next_run(app: Flask, database_url: str, backend: str):
    case_id, timer_id = _lapsed_prevention()
    env = dict(os.environ, DATABASE_URL=database_url, APP_ENV="development", MAIL_PORT="1")
    victims: list[int] = []
    blocker = db.engine.connect().execution_options(tramites_write=True)
    try:
        # Hold the lock a tick needs last (the audit head on PostgreSQL; the write lock on SQLite), so the
        # tick process stops inside its transaction, after it has already changed the case.
        if backend == "postgresql":
            blocker.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
        else:
            blocker.execute(text("SELECT 1"))  # the connection begins with BEGIN IMMEDIATE: the write lock
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "permits", "tick"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if backend == "postgresql":
            waiting = _wait_until(
                lambda: _scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") > 0
            )
            db.session.rollback()
            if not waiting:
                process.kill()
                activity = db.session.execute(
                    text("SELECT state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity")
                ).all()
                raise AssertionError(
                    f"the tick never reached the audit append: {process.communicate()[0]!r} {activity}"
                )
        else:
            time.sleep(3)
        if backend == "postgresql":
            with db.engine.connect() as conn:
                victims = [
                    row[0]
                    for row in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))
                ]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        blocker.rollback()
        blocker.close()

    if backend == "postgresql":
        # The killed client's server process rolls back when it finds its client gone.
        assert victims
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"
        assert _wait_until(lambda: _scalar(gone, pids=victims) == 0)
        db.session.rollback()
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "prevention"
    assert db.session.get(Timer, timer_id).status == TimerStatus.PENDING

    assert fire_due_timers().fired >= 1
    assert fire_due_timers().fired == 0
    db.session.rollback()
    assert db.session.get(Case, case_id).state == "not_presented"
    lapses = db.session.scalars(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.case_id == case_id, AuditEntry.action == "lapse_prevention")
    ).one()
    assert lapses == 1
    assert verify(db.session()).ok
