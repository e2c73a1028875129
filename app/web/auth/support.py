"""What the login views share: starting a server-side session, throttling keys and security-log events."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import segno
from flask import Flask, current_app, make_response, render_template, request, session
from flask_login import current_user, login_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from app.extensions import limiter
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


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-requests/", "python-requests"),
    ("Werkzeug/", "Werkzeug"),
)
"""Product tokens of a User-Agent and the browser each names, the most specific first (Edge and Opera also say
Chrome and Safari; Chrome also says Safari)."""
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
"""Operating systems, the most specific first (Android also says Linux; an iPhone, like Mac OS X)."""


def user_agent_summary() -> str:
    """A short description of the browser, as its owner recognises it on their sessions page ("Chrome Android",
    "Firefox Windows"): the browser and the system, without versions; the start of the string when it names
    neither."""
    agent = request.user_agent.string or ""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    summary = " ".join(part for part in (browser, system) if part)
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
    """Throttling key of the account being tried on the login form *from this client address* (a digest of
    the e-mail and the address): failures from elsewhere never lock the owner out."""
    return f"login-account:{_digest(_login_email())}:{_digest(client_ip())}"


def _login_email() -> str:
    return str(request.form.get("email", "")).strip().lower()


def reset_account_key() -> str:
    """Throttling key of the address a reset link is asked for."""
    return "reset-account:" + _digest(str(request.form.get("email", "")).strip().lower())


def pending_user_key() -> str:
    """Throttling key of the account waiting for its second factor, from this client address."""
    return f"second-factor:{session.get(PENDING_USER, '-')}:{_digest(client_ip())}"


# -- progressive delays ---------------------------------------------------------------------------------
#
# Failed passwords and second-factor codes slow down the pair (account, client address) that made them:
# after ``LOGIN_DELAY_AFTER`` failures each further attempt must wait twice as long as the one before
# (``LOGIN_DELAY_BASE_SECONDS``, doubling up to ``LOGIN_DELAY_MAX_SECONDS``). Nobody else is slowed, so
# an outsider guessing from other addresses cannot lock the real owner out; a success clears the count.


def _delay_keys(kind: str, account: str) -> tuple[str, str]:
    base = f"delay:{kind}:{_digest(account)}:{_digest(client_ip())}"
    return f"{base}:failures", f"{base}:wait"


def check_delay(kind: str, account: str) -> None:
    """Refuse (429 with ``Retry-After``) while the pair (``account``, this address) must still wait."""
    _, wait_key = _delay_keys(kind, account)
    storage = limiter.storage
    if storage.get(wait_key) > 0:
        remaining = max(1, int(storage.get_expiry(wait_key) - time.time() + 0.999))
        raise TooManyRequests(retry_after=remaining)


def record_failure(kind: str, account: str) -> int:
    """Count a failure of the pair (``account``, this address) and start its delay; returns the delay in
    seconds (0 while the first failures are free)."""
    failures_key, wait_key = _delay_keys(kind, account)
    config = current_app.config
    storage = limiter.storage
    failures = int(storage.incr(failures_key, expiry=int(config["LOGIN_DELAY_MAX_SECONDS"]) * 4))
    free = int(config["LOGIN_DELAY_AFTER"])
    if failures < free:
        return 0
    delay: int = min(
        int(config["LOGIN_DELAY_BASE_SECONDS"]) * 2 ** min(failures - free, 20), int(config["LOGIN_DELAY_MAX_SECONDS"])
    )
    storage.clear(wait_key)
    storage.incr(wait_key, expiry=delay)
    return delay


def clear_failures(kind: str, account: str) -> None:
    """Forget the failures of the pair (``account``, this address) after a success."""
    storage = limiter.storage
    for key in _delay_keys(kind, account):
        storage.clear(key)


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


def registration_email_key() -> str:
    """Throttling key of the e-mail address a registration is asked for (mail goes to it)."""
    return "registration-email:" + _digest(str(request.form.get("email", "")).strip().lower())


def filing_email_key() -> str:
    """Throttling key of the e-mail address an anonymous access request is filed with."""
    return "filing-email:" + _digest(str(request.form.get("email", "")).strip().lower())


def filing_limit_per_ip() -> str:
    """Access requests filed per client address (``FILING_LIMIT_PER_IP``)."""
    return str(current_app.config["FILING_LIMIT_PER_IP"])


def filing_limit_per_email() -> str:
    """Access requests filed with one e-mail address (``FILING_LIMIT_PER_EMAIL``)."""
    return str(current_app.config["FILING_LIMIT_PER_EMAIL"])


def redirected(response: Response) -> bool:
    """Counts the requests that went through (a reset request that passed validation may send a mail)."""
    return response.status_code in (302, 303)


def not_redirected(response: Response) -> bool:
    """Throttles count attempts that failed: every successful step answers with a redirect."""
    return response.status_code not in (302, 303)


def _case_not_found(response: Response) -> bool:
    """A signed-in person was answered 404 on a route of one case: a missing id, or someone else's case answered
    as one (the two are recorded alike, so that the record cannot tell them apart either)."""
    return (
        response.status_code == 404
        and "case_id" in (request.view_args or {})
        and bool(current_user)
        and current_user.is_authenticated
    )


def register_security_logging(app: Flask) -> None:
    """Record every 403 (access denied) and 429 (throttled) answer in the security log, and every 404 a
    signed-in person gets on a route of one case (someone trying case ids)."""

    @app.after_request
    def _log_refusals(response: Response) -> Response:
        if response.status_code in (403, 429) or _case_not_found(response):
            kind = SecurityEventKind.THROTTLED if response.status_code == 429 else SecurityEventKind.ACCESS_DENIED
            user_id = current_user.id if current_user and current_user.is_authenticated else None
            details = {"status": 404} if response.status_code == 404 else {}
            try:
                log_event(kind, user_id, method=request.method, endpoint=request.endpoint or "", **details)
            except Exception:  # the refusal itself must still reach the client
                current_app.logger.exception("could not record a security event")
        return response


def no_store(page: str, status: int = 200) -> Response:
    """A page holding a secret (an authenticator app's key, recovery codes): browsers and proxies must not keep
    it."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def totp_setup_page(template: str, enrolment: auth_service.Enrolment, status: int, **context: Any) -> Response:
    """``template`` (a staff member's first login, a change of app) with ``enrolment``'s QR code and its key in
    groups of four (``qr``, ``secret``), not kept by browsers."""
    qr = segno.make(enrolment.uri, error="m").svg_data_uri(scale=5, border=2)
    secret = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
    return no_store(render_template(template, qr=qr, secret=secret, **context), status)
