"""Fixtures of the audit-log tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask

from app.services import users as users_service
from tests.audit.helpers import install_log_key


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests create and log in users often; the production argon2 cost would dominate their time."""
    monkeypatch.setattr(users_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def log_key(app: Flask, tmp_path: Path) -> ed25519.Ed25519PrivateKey:
    """A fresh audit-log key installed in a temporary keys folder."""
    return install_log_key(app, tmp_path / "keys")
