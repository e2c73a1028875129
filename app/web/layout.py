"""The parts of every page's frame (``base.html``) that are the same for everyone with the same roles: the
sections' links and the footer, rendered once per process for each language, script root and set of roles
(:func:`~app.web.translation.kept_for_locale`) instead of their texts and links on every page (about four
hundred function calls a page)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from markupsafe import Markup

from app.web.translation import kept_for_locale


def rendered_part(template: str, **context: Any) -> Markup:
    """``template`` rendered with ``context`` only (no request context processors): a part of a page that is
    kept, built from what ``context`` gives and the program's texts."""
    return Markup(current_app.jinja_env.get_template(template).render(**context))  # noqa: S704 - autoescaped


def sections_nav() -> Markup:
    """The links to the sections the signed-in user's roles open (``_sections_nav.html``)."""
    roles: frozenset[str] = current_user.role_names
    key = ("layout", "sections", request.script_root, roles)
    return kept_for_locale(key, lambda: rendered_part("_sections_nav.html", role_names=roles))


def site_footer() -> Markup:
    """The footer's links to the public pages (``_site_footer.html``)."""
    return kept_for_locale(("layout", "footer", request.script_root), lambda: rendered_part("_site_footer.html"))


def install_layout(app: Flask) -> None:
    """Give ``app``'s templates :func:`sections_nav` and :func:`site_footer`."""
    app.jinja_env.globals.update(sections_nav=sections_nav, site_footer=site_footer)
