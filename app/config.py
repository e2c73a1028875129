"""Configuration classes. Secrets and the database URL come from the environment only."""

from __future__ import annotations

import os
from collections.abc import Mapping
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
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}
    # A pooled connection unused for this many seconds is checked with a ping before a request gets it (0: every
    # time); under load connections come back within milliseconds and are not pinged (app/database.py)
    DATABASE_PING_AFTER_IDLE = 1.0
    SQLALCHEMY_RECORD_QUERIES = False
    # Seconds a client is told to wait (Retry-After of the 503 answer) while the database is unreachable
    DATABASE_RETRY_AFTER = 5

    # Sessions and cookies
    SESSION_COOKIE_NAME = "tramites_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8
    # Server-side login sessions (app/services/auth.py): ended after this many seconds without a request,
    # and at the latest this many seconds after logging in
    SESSION_IDLE_TIMEOUT = 30 * 60
    SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
    # Staff roles (STAFF_ROLES) must log in with a TOTP second factor
    STAFF_TOTP_REQUIRED = True
    PASSWORD_RESET_TTL = 30 * 60  # seconds a password-reset link stays valid
    EMAIL_CONFIRMATION_TTL = 48 * 60 * 60  # seconds an e-mail confirmation link stays valid
    ACCOUNT_INVITATION_TTL = 72 * 60 * 60  # seconds the link to choose the password of a new staff account stays valid

    # Throttling of login, second factor and password reset (Flask-Limiter; failures are counted)
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    LOGIN_LIMIT_PER_IP = "50 per 15 minutes"
    LOGIN_DELAY_AFTER = 3  # failures of one account from one address before each further try must wait
    LOGIN_DELAY_BASE_SECONDS = 2  # the first wait; it doubles with every further failure
    LOGIN_DELAY_MAX_SECONDS = 900
    RESET_LIMIT_PER_IP = "30 per 15 minutes"  # reset requests and registrations from one address
    RESET_LIMIT_PER_ACCOUNT = "5 per 15 minutes"  # reset links sent to one e-mail address
    UPLOAD_LIMIT_PER_ACCOUNT = "40 per 15 minutes"  # files one account may upload (each is parsed)
    FILING_LIMIT_PER_IP = "10 per hour"  # access requests filed from one address
    FILING_LIMIT_PER_EMAIL = "3 per hour"  # access requests filed with one e-mail address
    # Proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none); the client address
    # that throttling and the security log see depends on it
    TRUSTED_PROXY_HOPS = 0

    # Forms
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
    # The PDF check runs in a child process with these bounds (app/services/pdf_probe.py); past any of
    # them the file is refused as too costly to inspect
    PDF_CHECK_WALL_SECONDS = 15.0  # real time before the child is killed
    PDF_CHECK_CPU_SECONDS = 5  # RLIMIT_CPU of the child
    PDF_CHECK_MEMORY_BYTES = 1024 * 1024 * 1024  # RLIMIT_AS of the child
    PDF_CHECK_MAX_OBJECTS = 200_000  # objects visited
    PDF_CHECK_MAX_STRUCTURE_BYTES = 16 * 1024 * 1024  # an object or cross-reference stream, decoded
    PDF_CHECK_MAX_DECODED_BYTES = 256 * 1024 * 1024  # all other non-image streams together, decoded
    PDF_CHECK_MAX_RATIO = 100  # a non-image stream may inflate this many times its size …
    PDF_CHECK_RATIO_FLOOR_BYTES = 2 * 1024 * 1024  # … or to this size, whichever is more
    PDF_CHECK_MAX_IMAGE_BYTES = 512 * 1024 * 1024  # an image's declared raster size
    SECURITY_HSTS = False  # Strict-Transport-Security header (on in production, which is served over HTTPS)
    PERSONAL_DATA_RESPONSE_DAYS = 20  # business days to answer a data-protection (ARCO) request
    PRIVACY_OFFICE = (  # where people exercise their ARCO rights (printed in the privacy notice)
        "Unidad de Transparencia del Municipio, Palacio Municipal, planta baja, de lunes a viernes de 9:00 a "
        "15:00 horas, o por correo a transparencia@municipio.example"
    )
    DOCUMENTS_DIR = str(INSTANCE_DIR / "documents")
    KEYS_DIR = str(INSTANCE_DIR / "keys")
    AUDIT_LOG_KEY_FILE = ""
    CERT_KEY_FILE = ""
    CERT_FILE = ""
    CERT_CHAIN_FILE = ""
    CERT_TRUST_ROOT_FILE = ""
    CERT_P12_FILE = ""
    CERT_P12_PASSWORD = ""

    # Language and time
    BABEL_DEFAULT_LOCALE = "es_MX"
    BABEL_DEFAULT_TIMEZONE = "America/Mexico_City"
    LANGUAGES = ("es_MX", "en")

    INSTITUTION_NAME = "Municipio de Ejemplo"
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    # Issued certificates (see app/certificates): what every document prints, and public verification
    INSTITUTION_LOGO = "images/escudo.svg"  # a file inside pdf_templates/; empty for none
    COMPLAINT_CHANNELS = (
        "Órgano Interno de Control del Municipio: presente su queja o denuncia en la contraloría municipal, "
        "por correo a contraloria@municipio.example o por teléfono al 800 000 0000; puede hacerlo de forma anónima."
    )
    # Each document's legal basis and validity are declared by its procedure (workflows/); a jurisdiction may
    # print another legal basis for a kind here ({"kind": "text"}); the validity is a setting of the procedure.
    CERTIFICATE_LEGAL_BASIS: ClassVar[dict[str, str]] = {}
    CERT_DEV_KEYS_ON_DEMAND = False  # create (and log) development keys at the first issuance if none exist
    # Templates compiled once per process for all the applications it builds (app/templating.py): on in the test
    # suite, which builds one for each test
    SHARE_COMPILED_TEMPLATES = False
    # The same for SQL statements, among the engines of the process whose databases are of one kind (app/database.py)
    SHARE_COMPILED_STATEMENTS = False
    VERIFICATION_MAX_UPLOAD_BYTES = 10 * 1024 * 1024

    # Audit log: `flask --app wsgi permits tick` signs a checkpoint when the log grew and the latest one is
    # older than this many seconds (0: only on demand, `flask --app wsgi audit checkpoint`)
    AUDIT_CHECKPOINT_INTERVAL = 60
    # `flask --app wsgi audit verify` fails when entries no checkpoint covers are older than this (seconds)
    AUDIT_UNCOVERED_TOLERANCE = 900
    # A copy of the latest signed checkpoint, outside the database, written when signing ("" : none);
    # `audit verify` checks the log still contains what it signed
    AUDIT_KEPT_CHECKPOINT_FILE = str(INSTANCE_DIR / "audit_checkpoint.json")
    # Keyed digests (HMAC-SHA256) of the data entries cover; "" derives it from SECRET_KEY. Auditors never need it.
    AUDIT_DIGEST_KEY = ""

    # Outgoing mail (delivered from the outbox by `flask --app wsgi permits tick`)
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_SENDER = "Trámites <no-responder@municipio.example>"
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    READS_ENVIRONMENT = True


class DevelopmentConfig(Config):
    """Local development: the embedded SQLite file under ``instance/``."""

    ENV_NAME = "development"
    DEBUG = False
    STAFF_TOTP_REQUIRED = False  # the demo logins printed by `make run` work with the password alone
    CERT_DEV_KEYS_ON_DEMAND = True


class TestConfig(Config):
    """The test suite; the database URL is set by the test harness."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    READS_ENVIRONMENT = False
    CERT_DEV_KEYS_ON_DEMAND = True
    STAFF_TOTP_REQUIRED = False  # the second-factor tests turn it on explicitly
    AUDIT_KEPT_CHECKPOINT_FILE = ""  # tests that keep one point it at their own temporary folder
    SHARE_COMPILED_TEMPLATES = True  # a test's application finds the templates the tests before it compiled
    SHARE_COMPILED_STATEMENTS = True  # and the SQL statements their engines compiled


class ProductionConfig(Config):
    """Production: secure cookies; refuses to start with the default secret key."""

    ENV_NAME = "production"
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    STAFF_TOTP_REQUIRED = True
    DEBUG = False
    PROPAGATE_EXCEPTIONS = False
    SECURITY_HSTS = True


ENVIRONMENT_KEYS: dict[str, tuple[str, type]] = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "INSTITUTION_NAME": ("INSTITUTION_NAME", str),
    "DOCUMENTS_DIR": ("DOCUMENTS_DIR", str),
    "KEYS_DIR": ("KEYS_DIR", str),
    "AUDIT_LOG_KEY_FILE": ("AUDIT_LOG_KEY_FILE", str),
    "CERT_KEY_FILE": ("CERT_KEY_FILE", str),
    "CERT_FILE": ("CERT_FILE", str),
    "CERT_CHAIN_FILE": ("CERT_CHAIN_FILE", str),
    "CERT_TRUST_ROOT_FILE": ("CERT_TRUST_ROOT_FILE", str),
    "CERT_P12_FILE": ("CERT_P12_FILE", str),
    "CERT_P12_PASSWORD": ("CERT_P12_PASSWORD", str),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "AUDIT_CHECKPOINT_INTERVAL": ("AUDIT_CHECKPOINT_INTERVAL", int),
    "AUDIT_UNCOVERED_TOLERANCE": ("AUDIT_UNCOVERED_TOLERANCE", int),
    "AUDIT_KEPT_CHECKPOINT_FILE": ("AUDIT_KEPT_CHECKPOINT_FILE", str),
    "AUDIT_DIGEST_KEY": ("AUDIT_DIGEST_KEY", str),
    "INSTITUTION_LOGO": ("INSTITUTION_LOGO", str),
    "COMPLAINT_CHANNELS": ("COMPLAINT_CHANNELS", str),
    "VERIFICATION_MAX_UPLOAD_BYTES": ("VERIFICATION_MAX_UPLOAD_BYTES", int),
    "PERSONAL_DATA_RESPONSE_DAYS": ("PERSONAL_DATA_RESPONSE_DAYS", int),
    "PRIVACY_OFFICE": ("PRIVACY_OFFICE", str),
    "STAFF_TOTP_REQUIRED": ("STAFF_TOTP_REQUIRED", bool),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "TRUSTED_PROXY_HOPS": ("TRUSTED_PROXY_HOPS", int),
    "DATABASE_RETRY_AFTER": ("DATABASE_RETRY_AFTER", int),
    "DATABASE_PING_AFTER_IDLE": ("DATABASE_PING_AFTER_IDLE", float),
    "UPLOAD_LIMIT_PER_ACCOUNT": ("UPLOAD_LIMIT_PER_ACCOUNT", str),
    "PDF_CHECK_WALL_SECONDS": ("PDF_CHECK_WALL_SECONDS", int),
    "PDF_CHECK_CPU_SECONDS": ("PDF_CHECK_CPU_SECONDS", int),
    "PDF_CHECK_MEMORY_BYTES": ("PDF_CHECK_MEMORY_BYTES", int),
    "SESSION_IDLE_TIMEOUT": ("SESSION_IDLE_TIMEOUT", int),
    "SESSION_ABSOLUTE_TIMEOUT": ("SESSION_ABSOLUTE_TIMEOUT", int),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_SENDER": ("MAIL_SENDER", str),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", bool),
    "MAIL_USE_SSL": ("MAIL_USE_SSL", bool),
}
"""Environment variables read at start-up: the setting each one fills and its type."""

_TRUE = frozenset({"1", "true", "yes", "on", "si", "sí"})


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given by environment variables (read when the app is created, not at import).

    Raises ``ValueError`` naming the variable when a number is not a number.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for var, (setting, kind) in ENVIRONMENT_KEYS.items():
        raw = env.get(var)
        if not raw:
            continue
        if kind is bool:
            settings[setting] = raw.strip().lower() in _TRUE
        elif kind is int:
            try:
                settings[setting] = int(raw)
            except ValueError:
                raise ValueError(f"{var} must be a whole number, not {raw!r}") from None
        elif kind is float:
            try:
                settings[setting] = float(raw)
            except ValueError:
                raise ValueError(f"{var} must be a number, not {raw!r}") from None
        else:
            settings[setting] = raw
    return settings


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
