"""On PostgreSQL a unit of work goes on in the request's read transaction instead of ending it and checking a
connection out again (issue 16: a ROLLBACK and the pool's ping, two round trips per POST); on SQLite it still
ends it, so that the write transaction begins with BEGIN IMMEDIATE. Either way the unit sees fresh data and
commits only its own changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text, update
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Role, User
from app.services.uow import unit_of_work
from tests.support.factories import make_user
from tests.web.helpers import clerk_at_intake


@contextmanager
def pool_events() -> Iterator[dict[str, int]]:
    """Count the connections checked out of the pool and the transactions rolled back inside the block."""
    counts = {"checkout": 0, "rollback": 0}

    def checkout(*_: Any) -> None:
        counts["checkout"] += 1

    def rollback(*_: Any) -> None:
        counts["rollback"] += 1

    engine = db.engine
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine, "rollback", rollback)
    try:
        yield counts
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine, "rollback", rollback)


def _name(user_id: int) -> str:
    with db.engine.connect() as connection:
        return str(connection.execute(text("SELECT display_name FROM users WHERE id = :id"), {"id": user_id}).scalar())


def test_a_post_reads_and_writes_in_one_transaction_on_postgresql(app: Flask, client: FlaskClient) -> None:
    case_id, action, data = clerk_at_intake(client)
    with pool_events() as counts:
        answer = client.post(action, data=data)
    assert answer.status_code == 302, answer.status_code
    assert answer.headers["Location"].endswith(f"/expedientes/{case_id}")  # done, not refused
    if db.engine.dialect.name == "postgresql":
        assert counts == {"checkout": 1, "rollback": 0}, counts
    else:  # the read transaction ends before the write transaction's BEGIN IMMEDIATE
        assert counts == {"checkout": 2, "rollback": 1}, counts


def test_what_was_read_before_the_unit_is_read_again_inside_it(app: Flask) -> None:
    user_id = make_user(Role.APPLICANT, name="Leído")
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.display_name == "Leído"
    with db.engine.begin() as other:  # someone else's change, committed between the read and the unit
        other.execute(update(User).where(User.id == user_id).values(display_name="Cambiado"))
    with unit_of_work():
        assert user.display_name == "Cambiado"
        user.locale = user.locale  # the unit may write the object it read again
    assert _name(user_id) == "Cambiado"


@pytest.mark.parametrize("flushed", [False, True], ids=["pending", "flushed"])
def test_changes_made_before_the_unit_are_not_committed_by_it(app: Flask, flushed: bool) -> None:
    user_id, other_id = make_user(Role.APPLICANT, name="Original"), make_user(Role.APPLICANT, name="Otro")
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    user.display_name = "Sin unidad de trabajo"
    if flushed:
        db.session.flush()
    with unit_of_work() as session:
        other = session.get(User, other_id)
        assert other is not None
        other.display_name = "Escrito por la unidad"
    assert _name(user_id) == "Original"
    assert _name(other_id) == "Escrito por la unidad"


def test_a_failed_read_transaction_is_ended_before_the_unit(app: Flask) -> None:
    user_id = make_user(Role.APPLICANT, name="Antes")
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("SELECT * FROM no_such_table"))  # on PostgreSQL the transaction has failed
    with unit_of_work() as session:
        session.execute(update(User).where(User.id == user_id).values(display_name="Después"))
    assert _name(user_id) == "Después"
