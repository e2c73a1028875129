"""Objects attached from a read of columns (``attach_loaded``, ``get_loaded`` and the session's user) are the
objects the ORM's own loading gives: same values, persistent and clean, and a change to them is written as a
change to a loaded object is (issue 16: the pages' hot reads skip the ORM's loading, not its behaviour)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, inspect, update

from app.database import attach_loaded, get_loaded
from app.extensions import db
from app.models import Case, Role, User, UserRole, utcnow
from app.services.auth import resume_session, start_session
from tests.support.factories import make_user, vecs_case


def _columns(obj: Any) -> dict[str, Any]:
    return {prop.key: getattr(obj, prop.key) for prop in inspect(type(obj)).column_attrs}


def _orm_loaded(cls: type[Any], ident: int) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    db.session.expunge_all()
    loaded: Any = db.session.get(cls, ident)
    assert loaded is not None
    values = _columns(loaded)
    roles = sorted((r.id, r.role, r.department_code) for r in getattr(loaded, "roles", []))
    db.session.rollback()
    db.session.expunge_all()
    return values, roles


def _is_clean_and_persistent(obj: Any) -> None:
    state = inspect(obj)
    assert state.persistent
    assert obj in db.session
    assert not db.session.is_modified(obj)
    assert obj not in db.session.dirty


def test_a_case_read_as_columns_equals_the_orm_loaded_case(app: Flask) -> None:
    owner = make_user(Role.APPLICANT)
    case_id = vecs_case(owner).case_id
    expected, _ = _orm_loaded(Case, case_id)

    case = get_loaded(db.session(), Case, case_id)
    assert case is not None
    _is_clean_and_persistent(case)
    assert _columns(case) == expected
    assert case.data == expected["data"]  # the JSON column, as its type gives it
    # asked again in the same session, the held object is given back without another read
    assert get_loaded(db.session(), Case, case_id) is case
    assert get_loaded(db.session(), Case, case_id + 10_000) is None


def test_a_change_to_an_attached_object_is_written_as_to_a_loaded_one(app: Flask) -> None:
    user_id = make_user(Role.APPLICANT, name="Antes")
    db.session.expunge_all()
    user = get_loaded(db.session(), User, user_id)
    assert user is not None
    user.display_name = "Después"
    assert db.session.is_modified(user)
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(User, user_id)
    assert stored is not None
    assert stored.display_name == "Después"


def test_an_expired_held_object_is_told_the_stored_values(app: Flask) -> None:
    user_id = make_user(Role.APPLICANT, name="Primero")
    db.session.expunge_all()
    held = db.session.get(User, user_id)
    assert held is not None
    db.session.commit()  # expires what the session holds
    with db.engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(display_name="Segundo"))
    assert get_loaded(db.session(), User, user_id) is held
    assert held.display_name == "Segundo"
    _is_clean_and_persistent(held)


@pytest.mark.parametrize(
    "roles",
    [
        (),
        (Role.REVIEWER,),
        (Role.APPLICANT, (Role.REVIEWER, "obras"), Role.AUDITOR),
    ],
    ids=["no-role", "one-role", "three-roles"],
)
def test_the_sessions_user_equals_the_orm_loaded_user_with_its_roles(app: Flask, roles: tuple[Any, ...]) -> None:
    user_id = make_user(*roles) if roles else make_user(Role.APPLICANT)
    if not roles:  # a user whose only role was taken away still has a session
        with db.engine.begin() as conn:
            conn.execute(delete(UserRole).where(UserRole.user_id == user_id))
    expected, expected_roles = _orm_loaded(User, user_id)
    token = start_session(user_id)
    db.session.expunge_all()

    user = resume_session(token)
    assert user is not None
    _is_clean_and_persistent(user)
    assert _columns(user) == expected
    assert sorted((r.id, r.role, r.department_code) for r in user.roles) == expected_roles
    for role in user.roles:
        _is_clean_and_persistent(role)
        assert role.user is user
    # the roles are loaded: reading them again sends nothing and flushing writes nothing
    assert "roles" not in inspect(user).unloaded
    db.session.flush()
    assert not db.session.dirty


def test_the_sessions_user_after_the_touch_is_the_same_user(app: Flask) -> None:
    user_id = make_user(Role.REVIEWER)
    token = start_session(user_id)
    expected, expected_roles = _orm_loaded(User, user_id)
    # long enough since the last request that the session's last_seen_at is moved, not enough to time out
    user = resume_session(token, now=utcnow() + timedelta(minutes=10))
    assert user is not None
    _is_clean_and_persistent(user)
    assert _columns(user) == expected
    assert sorted((r.id, r.role, r.department_code) for r in user.roles) == expected_roles


def test_an_object_attached_from_some_columns_loads_the_others_and_its_relationships_when_read(app: Flask) -> None:
    user_id = make_user(Role.REVIEWER, (Role.APPLICANT, None), name="Parcial")
    expected, expected_roles = _orm_loaded(User, user_id)
    session = db.session()
    user = attach_loaded(session, User, {"id": user_id, "email": expected["email"]})
    _is_clean_and_persistent(user)
    assert inspect(user).unloaded >= {"display_name", "active", "roles"}
    assert _columns(user) == expected  # the columns not given, read from the row on first access
    assert sorted((r.id, r.role, r.department_code) for r in user.roles) == expected_roles  # loaded lazily
    _is_clean_and_persistent(user)
    assert attach_loaded(session, User, {"id": user_id, "display_name": "Parcial"}) is user
    user.display_name = "Cambiado"  # a change is written as to a loaded object
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(User, user_id)
    assert stored is not None
    assert stored.display_name == "Cambiado"
