"""Fixtures of the API tests (the audit-log ones are shared)."""

from __future__ import annotations

from tests.audit.conftest import fast_password_hashing, log_key

__all__ = ["fast_password_hashing", "log_key"]
