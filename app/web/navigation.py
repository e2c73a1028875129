"""Helpers shared by the views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None) -> str:
    """A same-site relative path to go to after login, or the home page (never an open redirect). A path with a
    character that is not printable (a line break, a tab, a NUL, a Unicode line separator…) is no path of the site:
    browsers drop some of them from a URL, and a line break cannot go into the ``Location`` header at all (the
    redirect failed with a server error, after the login it followed had already been saved)."""
    if (
        target
        and target.isprintable()
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")
