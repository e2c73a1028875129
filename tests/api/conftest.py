"""Fixtures of the API tests (the audit-log ones are shared)."""

from __future__ import annotations

from tests.audit.conftest import log_key

__all__ = ["log_key"]
