"""The request's CSRF token, signed at most once a minute for each session instead of on every page.

Flask-WTF signs the session's CSRF secret with a timestamp (``URLSafeTimedSerializer``) the first time a request
asks for its token: about two hundred function calls (HMAC, base64, JSON) on every page a logged-in user opens,
since the header's logout and language forms carry the token. The signed token is valid for
``WTF_CSRF_TIME_LIMIT`` (four hours here) from its timestamp, so a token signed a few seconds earlier for the same
session secret is as good as a new one: :func:`csrf_token` hands out the token signed for that secret within the
last :data:`REUSE_SECONDS`, and signs a new one (Flask-WTF's ``generate_csrf``) otherwise. A token reused this way
expires at most :data:`REUSE_SECONDS` (and never more than a sixtieth of its time limit) earlier than a freshly
signed one would; its check (``CSRFProtect``) is unchanged.
"""

from __future__ import annotations

import time
from typing import cast

from flask import current_app, g, session
from flask_wtf.csrf import generate_csrf

REUSE_SECONDS = 60
"""How long a signed token is handed out again for the same session secret (at most a sixtieth of
``WTF_CSRF_TIME_LIMIT`` when that is shorter than an hour: a reused token loses at most that share of its life)."""

_KEPT_AT_MOST = 4096
_SIGNED: dict[tuple[str, str], tuple[str, float]] = {}
"""Signed tokens by (signing key, the session's CSRF secret): the token and when it was signed (``time.time()``)."""


def csrf_token(signing_key: str | bytes | None = None, field: str | None = None) -> str:
    """The CSRF token of this request, as Flask-WTF's ``generate_csrf(signing_key, field)`` gives it (and kept where
    it keeps it, so that whatever asks for it later in the request gets the same one): the token signed within
    the last :data:`REUSE_SECONDS` for this session's secret and this signing key when there is one, else a
    newly signed one. The key and the field default to the configuration's, as Flask-WTF's do."""
    config = current_app.config
    if field is None:
        field = cast(str, config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    held = g.get(field)
    if held is not None:
        return cast(str, held)
    if signing_key is None:
        signing_key = config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
    secret = session.get(field)
    now = time.time()
    if isinstance(signing_key, str) and isinstance(secret, str):
        kept = _SIGNED.get((signing_key, secret))
        if kept is not None and 0 <= now - kept[1] < _reuse_seconds(config.get("WTF_CSRF_TIME_LIMIT", 3600)):
            setattr(g, field, kept[0])
            return kept[0]
    token = cast(str, generate_csrf(signing_key, field))
    secret = session.get(field)  # made by generate_csrf when the session had none
    if isinstance(signing_key, str) and isinstance(secret, str):
        if len(_SIGNED) >= _KEPT_AT_MOST:
            _SIGNED.clear()
        _SIGNED[(signing_key, secret)] = (token, now)
    return token


def _reuse_seconds(time_limit: object) -> float:
    """How long a signed token may be handed out again under ``time_limit`` (``None``: tokens never expire)."""
    if time_limit is None:
        return REUSE_SECONDS
    if not isinstance(time_limit, int | float) or time_limit <= 0:
        return 0
    return min(REUSE_SECONDS, time_limit / 60)
