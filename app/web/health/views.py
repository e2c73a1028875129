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
def readyz() -> tuple[dict[str, str], int] | tuple[dict[str, str], int, dict[str, str]]:
    """The database answers and the schema is at the migrations' head (200), or not (503, with
    ``Retry-After``: a load balancer or client tries again later; the process itself needs no restart).

    The public answer is only ``ok`` or ``unavailable``: the schema revision and the reason of a failure
    would tell an outsider which release runs. Operators find the reason in the log and the revision with
    ``flask --app wsgi db current``.
    """
    result = readiness(MIGRATIONS_DIR)
    if not result.ok:
        current_app.logger.warning(
            "readiness check failed: %s (database %s, current %s, head %s)",
            result.error,
            "answers" if result.database else "unreachable",
            ",".join(result.current) or "-",
            ",".join(result.heads) or "-",
        )
    if result.ok:
        return {"status": "ok"}, 200
    retry_after = str(int(current_app.config.get("DATABASE_RETRY_AFTER") or 5))
    return {"status": "unavailable"}, 503, {"Retry-After": retry_after}
