"""Health endpoints for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app

from app import MIGRATIONS_DIR
from app.extensions import csrf
from app.services.health import readiness
from app.web.access import public

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.get("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    """The process is alive (no database access)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
@public
def readyz() -> tuple[dict[str, object], int]:
    """The database answers and the schema is at the migrations' head."""
    result = readiness(MIGRATIONS_DIR)
    body: dict[str, object] = {
        "status": "ok" if result.ok else "unavailable",
        "database": result.database,
        "migrations": {"current": list(result.current), "head": list(result.heads)},
    }
    if result.error:
        body["error"] = result.error
        current_app.logger.warning("readiness check failed: %s", result.error)
    return body, 200 if result.ok else 503
