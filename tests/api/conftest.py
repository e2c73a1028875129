"""Fixtures of the API tests (the audit-log ones are shared)."""

from __future__ import annotations

from tests.audit.conftest import client, fast_password_hashing, log_key

__all__ = ["client", "fast_password_hashing", "log_key"]
