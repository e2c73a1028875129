"""Security headers on every response, error pages and files included.

The content security policy allows scripts, styles, images and fonts from the application's own origin
only (no inline script or style, no ``eval``), forbids plugins, ``<base>`` and framing, and lets forms
post only back to the application. A view that sets its own policy keeps it (files served for download
add ``sandbox``). HSTS is sent only where ``SECURITY_HSTS`` is on (the production configuration), so
that a development server on plain HTTP is not pinned to HTTPS.
"""

from __future__ import annotations

from flask import Flask, request, session
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
"""The policy of every page that does not set its own."""

FILE_CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
"""The policy of served files (uploaded documents): no scripts, no same origin, nothing loaded, no framing."""

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
"""Browser features no page of the application needs."""

HSTS = "max-age=31536000; includeSubDomains"
LOGOUT_ENDPOINT = "auth.logout"
SECRET_ARGUMENT = "token"  # noqa: S105 - the name of an address part, not a secret
"""The name every route gives the secret of a link in its address (a tracking link, an address confirmation, a
password reset): its pages are never cached."""

STATIC_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def register_security_headers(app: Flask) -> None:
    """Add the security headers to every response of ``app`` (including error pages and static files)."""
    hsts = bool(app.config.get("SECURITY_HSTS"))

    defaults = [("Content-Security-Policy", CONTENT_SECURITY_POLICY), *STATIC_HEADERS.items()]
    if hsts:
        defaults.append(("Strict-Transport-Security", HSTS))
    named = [(name.lower(), name, value) for name, value in defaults]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # the names the response already has, read once (a missing name costs Headers.setdefault an exception)
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers iterates (name, value) pairs
        headers.extend([(name, value) for lower, name, value in named if lower not in present])
        if request.endpoint == LOGOUT_ENDPOINT and request.method == "POST":
            # What the browser kept of the session's pages goes with it (the new cookie keeps only the language).
            headers.setdefault("Clear-Site-Data", '"cache", "storage"')
        # Pages of a logged-in user may hold personal data, and a page reached through a secret link (an access
        # request's tracking link and receipt, an address confirmation, a password reset) holds the link itself:
        # never keep them in shared or browser caches.
        if "cache-control" not in present and (
            session.get("_user_id") is not None or SECRET_ARGUMENT in (request.view_args or ())
        ):
            headers["Cache-Control"] = "no-store"
        return response
