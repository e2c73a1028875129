"""JSON API blueprints (``/api/v1``). Nothing else imports this package; :func:`app.create_app` registers it."""

from __future__ import annotations

from flask import Flask

from app.api.audit import bp as audit_bp
from app.extensions import csrf


def register_api(app: Flask) -> None:
    """Attach the API blueprints. The API authenticates with the session and only reads, so no CSRF token."""
    csrf.exempt(audit_bp)
    app.register_blueprint(audit_bp)
