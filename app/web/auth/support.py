"""What the login views share: starting a server-side session, throttling keys and security-log events."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Flask, current_app, request, session
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.models import SecurityEventKind, User
from app.services import auth as auth_service
from app.services import security_log

PENDING_USER = "pending_user"
PENDING_AT = "pending_at"
PENDING_NEXT = "pending_next"
PENDING_TTL_SECONDS = 300
"""How long the second step may wait after a correct password before the password is asked again."""


def client_ip() -> str:
    """The client's address as the application sees it (set the proxy's ``X-Forwarded-For`` handling in
    the WSGI server)."""
    return request.remote_addr or ""


def user_agent_summary() -> str:
    """A short description of the browser (its product tokens, without the version details)."""
    agent = request.user_agent.string or ""
    products = re.findall(r"(Firefox|Edg|OPR|Chrome|Chromium|Safari|curl|python-requests|Werkzeug)/", agent)
    systems = re.findall(r"(Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS)", agent)
    summary = " ".join(dict.fromkeys(products[-1:] + systems[:1]))
    return (summary or agent[:60] or "?")[:120]


def safe_path() -> str:
    """The request path without secrets in it (a password-reset link carries its token in the path)."""
    path = request.path
    return "/contrasena/restablecer/…" if path.startswith("/contrasena/restablecer/") else path


def log_event(kind: SecurityEventKind, user_id: int | None = None, **details: Any) -> None:
    """Record a security event for this request (address and path filled in)."""
    security_log.record(kind, user_id=user_id, ip=client_ip(), path=safe_path(), details=details)


def begin_login(user: User) -> None:
    """Open a server-side session for ``user`` and log them in: the cookie carries only its identifier."""
    token = auth_service.start_session(user.id, user_agent_summary())
    session.clear()  # nothing from before the login (session fixation)
    login_user(user)
    session["_user_id"] = token  # Flask-Login hands this to the user loader, which resolves the session
    session["locale"] = user.locale.value
    log_event(SecurityEventKind.LOGIN_SUCCEEDED, user.id)


def current_session_token() -> str | None:
    """The server-side session identifier of this request, if logged in."""
    value = session.get("_user_id")
    return str(value) if value else None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def login_account_key() -> str:
    """Throttling key of the account being tried on the login form (a digest of the address)."""
    return "login-account:" + _digest(str(request.form.get("email", "")).strip().lower())


def reset_account_key() -> str:
    """Throttling key of the address a reset link is asked for."""
    return "reset-account:" + _digest(str(request.form.get("email", "")).strip().lower())


def pending_user_key() -> str:
    """Throttling key of the account waiting for its second factor."""
    return f"second-factor:{session.get(PENDING_USER, '-')}"


def login_limit_per_account() -> str:
    """Failed logins allowed per account (``LOGIN_LIMIT_PER_ACCOUNT``)."""
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def login_limit_per_ip() -> str:
    """Failed logins allowed per client address (``LOGIN_LIMIT_PER_IP``)."""
    return str(current_app.config["LOGIN_LIMIT_PER_IP"])


def reset_limit_per_ip() -> str:
    """Reset requests and registrations allowed per client address (``RESET_LIMIT_PER_IP``)."""
    return str(current_app.config["RESET_LIMIT_PER_IP"])


def reset_limit_per_account() -> str:
    """Reset links allowed per e-mail address asked for (``RESET_LIMIT_PER_ACCOUNT``)."""
    return str(current_app.config["RESET_LIMIT_PER_ACCOUNT"])


def redirected(response: Response) -> bool:
    """Counts the requests that went through (a reset request that passed validation may send a mail)."""
    return response.status_code in (302, 303)


def not_redirected(response: Response) -> bool:
    """Throttles count attempts that failed: every successful step answers with a redirect."""
    return response.status_code not in (302, 303)


def register_security_logging(app: Flask) -> None:
    """Record every 403 (access denied) and 429 (throttled) answer in the security log."""

    @app.after_request
    def _log_refusals(response: Response) -> Response:
        if response.status_code in (403, 429):
            kind = SecurityEventKind.ACCESS_DENIED if response.status_code == 403 else SecurityEventKind.THROTTLED
            user_id = current_user.id if current_user and current_user.is_authenticated else None
            try:
                log_event(kind, user_id, method=request.method, endpoint=request.endpoint or "")
            except Exception:  # the refusal itself must still reach the client
                current_app.logger.exception("could not record a security event")
        return response
