"""Throttling of uploads: each account may send only so many files in a while (``UPLOAD_LIMIT_PER_ACCOUNT``).

Every upload is parsed in a child process (``app.services.uploads``); the limit keeps one account from
keeping the server busy with file after file. Past it, the request gets the translated 429 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
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
