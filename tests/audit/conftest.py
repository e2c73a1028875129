"""Fixtures of the audit-log tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask

from tests.audit.helpers import install_log_key


@pytest.fixture
def log_key(app: Flask, tmp_path: Path) -> ed25519.Ed25519PrivateKey:
    """A fresh audit-log key installed in a temporary keys folder."""
    return install_log_key(app, tmp_path / "keys")
