"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_login import current_user

from app.config import Config, from_environment, load_config
from app.database import commit_read, configure_engine, engine_options
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.routing import LazilyBuiltRule
from app.templating import LanguageEnvironment

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

MAX_SYNC_KEPT = 1_024
"""Functions whose synchronous form an application keeps (its views and hooks: a bounded set)."""


class Application(Flask):
    """Flask, keeping the synchronous form of each function it calls (``ensure_sync``). Flask asks it of the
    view and of every hook on every request, and each answer inspects the function again (whether it is a
    coroutine function, through ``functools.partial`` and method wrappers): some twenty functions and about
    150 calls a request. A function's nature does not change, so the answer is kept per function. Its templates
    are compiled once per language, with their constant texts translated in (:mod:`app.templating`). Its URL
    rules compile their URL builders when first used (:mod:`app.routing`)."""

    jinja_environment = LanguageEnvironment
    url_rule_class = LazilyBuiltRule

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_kept: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ``ensure_sync`` (``async def`` functions wrapped to run and be waited for), kept per function."""
        try:
            return self._sync_kept[func]
        except KeyError:
            pass
        except TypeError:  # a callable that cannot be a dictionary key
            return super().ensure_sync(func)
        sync = super().ensure_sync(func)
        if len(self._sync_kept) >= MAX_SYNC_KEPT:
            self._sync_kept.clear()
        self._sync_kept[func] = sync
        return sync


def select_locale() -> str:
    """The interface language: the user's explicit choice, then their profile, then the browser, then es-MX."""
    from flask import current_app

    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return str(chosen)
    if current_user and current_user.is_authenticated:
        return str(current_user.locale.value)
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _end_sessions_quietly(app: Flask) -> None:
    """End each request's database session without failing the request when the database went away meanwhile.

    Ending a session rolls back its open transaction (on PostgreSQL, one that has only read is committed first,
    which keeps the connection's prepared statements: :func:`app.database.commit_read`). When PostgreSQL stopped
    after the view read what it needed (a restart, a failover), that ROLLBACK or COMMIT fails, and the answer
    already made would turn into a 500. Nothing is lost by dropping such a connection instead: the server rolled
    the transaction back itself. Registered after Flask-SQLAlchemy's own teardown, so it runs first and leaves
    that one nothing to do.
    """
    from sqlalchemy.exc import SQLAlchemyError

    @app.teardown_appcontext
    def _end_session(_exc: BaseException | None) -> None:
        try:
            if db.session.registry.has():
                commit_read(db.session())
            db.session.remove()
        except SQLAlchemyError:
            app.logger.warning("database connection lost while ending a request; connection dropped")
            with suppress(SQLAlchemyError):
                db.session().invalidate()
            db.session.registry.clear()


def create_app(config: str | type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the application: configuration, extensions, blueprints and CLI commands.

    ``config`` is a config class or its name (``development``, ``test``, ``production``; default from
    ``APP_ENV``). Environment variables (``SECRET_KEY``, ``DATABASE_URL``…) apply to every config but
    the test one; ``overrides`` apply last. Raises ``RuntimeError`` when production would run with the
    default secret key. Does no database work.
    """
    cls = config if isinstance(config, type) else load_config(config)
    app = Application(__name__, instance_relative_config=True)
    app.config.from_object(cls)
    if cls.READS_ENVIRONMENT:
        app.config.update(from_environment())
    app.config.update(overrides)
    if app.config.get("ENV_NAME") == "production":
        from app.config import DEFAULT_SECRET_KEY

        secret = app.config.get("SECRET_KEY") or ""
        if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
            raise RuntimeError("production needs SECRET_KEY set in the environment (at least 32 characters)")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:  # the client address (throttling, security log) comes from the trusted proxies' headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {},
        share_compiled=bool(app.config.get("SHARE_COMPILED_STATEMENTS")),
    )
    db.init_app(app)
    _end_sessions_quietly(app)
    with app.app_context():
        configure_engine(db.engine, float(app.config["DATABASE_PING_AFTER_IDLE"]))
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)  # a new storage per application: no throttling state shared between instances
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")

    from app.web import register_blueprints

    register_blueprints(app)

    from app.web.headers import register_security_headers

    register_security_headers(app)

    from app.api import register_api

    register_api(app)

    from app.cli import register_cli

    register_cli(app)
    return app
