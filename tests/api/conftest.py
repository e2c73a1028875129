"""Fixtures of the API tests (the audit-log ones are shared)."""

from __future__ import annotations

from tests.audit.conftest import hash_passwords_fast, log_key

__all__ = ["hash_passwords_fast", "log_key"]
