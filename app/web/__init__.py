"""Blueprints of the web interface."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.plugins import installed
from app.web.access import install_default_deny
from app.web.account.views import bp as account_bp
from app.web.admin.departments import bp as admin_departments_bp
from app.web.admin.personal_data import bp as personal_data_bp
from app.web.admin.settings import bp as admin_settings_bp
from app.web.admin.users import bp as admin_users_bp
from app.web.admin.views import bp as admin_bp
from app.web.assignment.views import bp as assignment_bp
from app.web.auth.support import register_security_logging
from app.web.auth.views import bp as auth_bp
from app.web.cases.views import bp as cases_bp
from app.web.construction.views import bp as construction_bp
from app.web.cookie_session import install_cookie_session
from app.web.documents.views import bp as documents_bp
from app.web.errors import register_error_handlers
from app.web.field_errors import install_field_errors
from app.web.health.views import bp as health_bp
from app.web.home.views import bp as home_bp
from app.web.labels import register_labels
from app.web.layout import install_layout
from app.web.lookup.views import bp as lookup_bp
from app.web.notices.views import bp as notices_bp
from app.web.oversight.views import bp as oversight_bp
from app.web.privacy.views import bp as privacy_bp
from app.web.queue.views import bp as queue_bp
from app.web.registration.views import bp as registration_bp
from app.web.throttling import guard_limiter
from app.web.translation import install_translations
from app.web.treasury.views import bp as treasury_bp
from app.web.urls import RecordIdConverter, install_urls
from app.web.verification.views import bp as verification_bp
from forms.csrf import csrf_token


def _csrf_token() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the error pages to ``app`` (their ``<int:…>`` parts bounded to the ids a record
    can have: :class:`~app.web.urls.RecordIdConverter`)."""
    app.url_map.converters["int"] = RecordIdConverter
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(queue_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(verification_bp)
    app.register_blueprint(lookup_bp)
    app.register_blueprint(oversight_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(construction_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(admin_settings_bp)
    app.register_blueprint(admin_departments_bp)
    app.register_blueprint(admin_users_bp)
    app.register_blueprint(assignment_bp)
    app.register_blueprint(personal_data_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(treasury_bp)
    for plugin in installed():  # the installed procedures' own pages
        for blueprint in plugin.blueprints:
            app.register_blueprint(blueprint)
    register_error_handlers(app)
    register_security_logging(app)
    install_default_deny(app)
    register_labels(app)
    install_translations(app)
    install_urls(app)
    install_cookie_session(app)
    install_layout(app)
    install_field_errors(app)
    # in place of CSRFProtect's ``generate_csrf`` (a global and a context processor of every template): the same
    # token, signed at most once a minute for a session
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(_csrf_token)
    guard_limiter(app)
