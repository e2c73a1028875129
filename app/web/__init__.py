"""Blueprints of the web interface."""

from __future__ import annotations

from flask import Flask

from app.web.admin.views import bp as admin_bp
from app.web.auth.views import bp as auth_bp
from app.web.errors import register_error_handlers
from app.web.health.views import bp as health_bp
from app.web.home.views import bp as home_bp
from app.web.labels import register_labels
from app.web.notices.views import bp as notices_bp
from app.web.queue.views import bp as queue_bp


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the error pages to ``app``."""
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(queue_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(admin_bp)
    register_error_handlers(app)
    register_labels(app)
