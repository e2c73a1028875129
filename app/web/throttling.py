"""Throttling of uploads: each account may send only so many files in a while (``UPLOAD_LIMIT_PER_ACCOUNT``).

Every upload is parsed in a child process (``app.services.uploads``); the limit keeps one account from
keeping the server busy with file after file. Past it, the request gets the translated 429 page.

Requests to the pages that no limit applies to (most of them) skip Flask-Limiter's per-request work
(:func:`unthrottled_endpoint`, :func:`guard_limiter`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter.util import get_qualified_name
from flask_login import current_user

from app.extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])


def upload_limit_per_account() -> str:
    """Uploads allowed per account (``UPLOAD_LIMIT_PER_ACCOUNT``, a Flask-Limiter rate)."""
    return str(current_app.config["UPLOAD_LIMIT_PER_ACCOUNT"])


def upload_account_key() -> str:
    """Throttling key of the uploader: the account, or the address for a request without one."""
    if current_user.is_authenticated:
        return f"upload-account:{current_user.get_id()}"
    return f"upload-address:{request.remote_addr or '-'}"


def throttle_uploads(view: F) -> F:
    """Count every POST to ``view`` against the uploader's limit."""
    return limiter.limit(upload_limit_per_account, methods=["POST"], key_func=upload_account_key)(view)  # type: ignore[return-value]


_UNTHROTTLED = "tramites_unthrottled_endpoints"
_APPLICATION_WIDE = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _without_limits(app: Flask, endpoint: str) -> bool:
    """Whether no rate limit applies to ``endpoint`` of ``app``: none for the whole application (default,
    application or meta limits, in the configuration or set in code), none on its blueprint, none on its view."""
    manager = limiter.limit_manager
    if any(app.config.get(key) for key in _APPLICATION_WIDE) or manager.application_limits or manager.default_limits:
        return False
    view = app.view_functions.get(endpoint)
    if view is None or manager.has_hints(endpoint) or manager.decorated_limits(get_qualified_name(view)):
        return False
    blueprint = endpoint.rpartition(".")[0]
    return not (blueprint and manager.blueprint_limits(app, blueprint))


def unthrottled_endpoint() -> bool:
    """Whether the request is to an endpoint with no rate limit at all (most pages). Worked out once per
    endpoint and application: the limits are declared when the views are (decorators) and the application's
    when it is made."""
    endpoint = request.endpoint
    if endpoint is None:
        return False
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    known: dict[str, bool] = app.extensions.setdefault(_UNTHROTTLED, {})
    unthrottled = known.get(endpoint)
    if unthrottled is None:
        unthrottled = known[endpoint] = _without_limits(app, endpoint)
    return unthrottled


def guard_limiter(app: Flask) -> bool:
    """Let Flask-Limiter's check before each request of ``app`` run only for the endpoints that have a limit
    (:func:`unthrottled_endpoint`): even with nothing to count, the check works out the request's limits and
    walks the exemptions and meta limits (about 170 function calls a request). Returns whether the limiter's
    hook was found and guarded."""
    hooks = app.before_request_funcs.get(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "__self__", None) is limiter and getattr(hook, "__name__", "") == "_check_request_limit":
            hooks[index] = _limited_only(hook)
            return True
    return False


def _limited_only(check: Callable[[], Any]) -> Callable[[], Any]:
    def limited_only() -> Any:
        return None if unthrottled_endpoint() else check()

    return limited_only
