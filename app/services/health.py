"""Readiness checks: the database answers and its schema is at the newest migration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the app can serve requests, and why not."""

    ok: bool
    database: bool
    current: tuple[str, ...]
    heads: tuple[str, ...]
    error: str | None = None


def readiness(migrations_dir: Path) -> Readiness:
    """Check that the database answers and that its schema revision is the migrations' head."""
    heads = tuple(sorted(ScriptDirectory(str(migrations_dir)).get_heads()))
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    except SQLAlchemyError as exc:
        return Readiness(False, False, (), heads, type(exc).__name__)
    return Readiness(current == heads, True, current, heads, None if current == heads else "migrations pending")
