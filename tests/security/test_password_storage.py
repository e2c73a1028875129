"""Passwords are stored as argon2id hashes at the cost current guidance sets (ASVS 5.0 11.4.2), and a hash made at
a lower cost is replaced at its owner's next login.

The rest of the suite hashes at argon2's lowest cost (``fast_password_hashing`` in ``tests/conftest.py``); these
tests keep the production hasher."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from flask import Flask

import app.services.users as users_service
from app.extensions import db
from app.models import User
from app.services.users import authenticate, hash_password
from tests.support.factories import PASSWORD, make_user

pytestmark = pytest.mark.production_password_hashing


def test_a_password_is_stored_as_argon2id_at_the_recommended_cost() -> None:
    """RFC 9106's second recommended option (64 MiB, three passes, four lanes), above OWASP's minimum for argon2id
    (19 MiB, two passes, one lane); the hash an unknown address is checked against costs the same."""
    for stored in (hash_password("caballo correcto batería grapa"), users_service._DUMMY_HASH):
        parameters = extract_parameters(stored)
        assert parameters.type is Type.ID
        assert parameters.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
        assert parameters.time_cost >= RFC_9106_LOW_MEMORY.time_cost
        assert parameters.parallelism >= RFC_9106_LOW_MEMORY.parallelism
        assert parameters.salt_len >= 16
    assert hash_password("caballo correcto batería grapa") != hash_password("caballo correcto batería grapa")


def test_a_hash_made_at_a_lower_cost_is_replaced_at_the_next_login(app: Flask) -> None:
    user_id = make_user()
    user = db.session.get(User, user_id)
    assert user is not None
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user.password_hash = cheap.hash(PASSWORD)  # as an older setting stored it
    db.session.commit()

    assert authenticate(user.email, "otra contraseña cualquiera") is None
    db.session.rollback()
    assert extract_parameters(db.session.get(User, user_id).password_hash).memory_cost == 8  # type: ignore[union-attr]

    assert authenticate(user.email, PASSWORD) is not None
    db.session.rollback()
    stored = db.session.get(User, user_id)
    assert stored is not None
    assert extract_parameters(stored.password_hash).memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert authenticate(stored.email, PASSWORD) is not None
