"""Configuration classes. Secrets and the database URL come from the environment only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused by ProductionConfig
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'tramites.sqlite3'}"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = DEFAULT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = _default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Sessions and cookies
    SESSION_COOKIE_NAME = "tramites_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8

    # Forms
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
    DOCUMENTS_DIR = str(INSTANCE_DIR / "documents")

    # Language and time
    BABEL_DEFAULT_LOCALE = "es_MX"
    BABEL_DEFAULT_TIMEZONE = "America/Mexico_City"
    LANGUAGES = ("es_MX", "en")

    INSTITUTION_NAME = "Municipio de Ejemplo"
    READS_ENVIRONMENT = True


class DevelopmentConfig(Config):
    """Local development: the embedded SQLite file under ``instance/``."""

    ENV_NAME = "development"
    DEBUG = False


class TestConfig(Config):
    """The test suite; the database URL is set by the test harness."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    READS_ENVIRONMENT = False


class ProductionConfig(Config):
    """Production: secure cookies; refuses to start with the default secret key."""

    ENV_NAME = "production"
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


ENVIRONMENT_KEYS = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "INSTITUTION_NAME": "INSTITUTION_NAME",
    "DOCUMENTS_DIR": "DOCUMENTS_DIR",
}
"""Environment variables read at start-up, and the setting each one fills."""


def from_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The settings given by environment variables (read when the app is created, not at import)."""
    env = os.environ if environ is None else environ
    return {setting: env[var] for var, setting in ENVIRONMENT_KEYS.items() if env.get(var)}


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None) -> type[Config]:
    """Return the config class called ``name`` (default: ``APP_ENV`` or development).

    Raises ``ValueError`` for an unknown name.
    """
    key = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[key]
    except KeyError:
        raise ValueError(f"unknown configuration {key!r}; use one of {sorted(CONFIGS)}") from None
