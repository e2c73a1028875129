"""``url_for`` in templates, kept per process.

Werkzeug builds a URL by matching the endpoint's rules and converting every value (8-10 µs each); a case page
builds about twenty and a queue one per row, always the same ones. The application declares no URL defaults
and no subdomains, so a relative URL depends only on the endpoint, its values and the script root the
request is served under: the templates' ``url_for`` keeps what it built under that key. URLs with options
(``_external``, ``_anchor``…), relative endpoints (``.index``) and unhashable values are built every time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask import url_for as flask_url_for

MAX_KEPT = 20_000
"""URLs kept per process before the memo starts afresh (a queue adds one per case shown)."""

_URLS: dict[tuple[Any, ...], str] = {}


def url_for(endpoint: str, /, **values: Any) -> str:
    """Flask's ``url_for``, kept per (script root, endpoint, values) for relative URLs."""
    if endpoint.startswith(".") or any(name.startswith("_") for name in values):
        return flask_url_for(endpoint, **values)
    try:
        key = (request.script_root, endpoint, *sorted(values.items()))
        url = _URLS.get(key)
    except (TypeError, RuntimeError):  # an unhashable value (a repeated argument's list); no request
        return flask_url_for(endpoint, **values)
    if url is None:
        if len(_URLS) >= MAX_KEPT:
            _URLS.clear()
        url = _URLS[key] = flask_url_for(endpoint, **values)
    return url


def install_urls(app: Flask) -> None:
    """Give the templates the kept ``url_for``; refuses an application that declares URL defaults, whose
    URLs would depend on more than the key."""
    if app.url_default_functions:
        raise RuntimeError("URL defaults are declared: the templates' kept url_for would ignore them")
    app.jinja_env.globals["url_for"] = url_for
