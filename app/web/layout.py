"""The parts of every page's frame (``base.html``) that are the same for everyone with the same roles: the
sections' links, the links to one's account and the footer, rendered once per process for each language, script
root and set of roles (:func:`~app.web.translation.kept_for_locale`) instead of their texts and links on every
page (about five hundred function calls a page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from app.plugins import public_links
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


def account_links() -> Markup:
    """The header's links to the signed-in user's account pages (``_account_links.html``): password, e-mail,
    sessions and second factor."""
    return kept_for_locale(("layout", "account", request.script_root), lambda: rendered_part("_account_links.html"))


def site_footer() -> Markup:
    """The footer's links to the public pages (``_site_footer.html``), the installed procedures' among them."""
    return kept_for_locale(
        ("layout", "footer", request.script_root),
        lambda: rendered_part("_site_footer.html", procedure_links=public_links()),
    )


def return_address() -> str:
    """Where the language switch brings the person back: the page as it was asked for, its query included (a
    verification code, a folio looked up, a queue's filter); after a form sent with ``POST`` (its page of
    errors), the page the form was on when the address answers ``GET`` (else the page that showed the form,
    when it is of this site), since a switch cannot send the form again."""
    if request.method in ("GET", "HEAD"):
        query = request.query_string.decode("latin-1")
        return f"{request.path}?{query}" if query else request.path
    try:
        current_app.url_map.bind("").match(request.path, method="GET")
    except HTTPException:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            return f"{referrer.path}?{referrer.query}" if referrer.query else referrer.path
        return "/"
    return request.path


def install_layout(app: Flask) -> None:
    """Give ``app``'s templates :func:`sections_nav`, :func:`account_links`, :func:`site_footer` and
    :func:`return_address`."""
    app.jinja_env.globals.update(
        sections_nav=sections_nav, account_links=account_links, site_footer=site_footer, return_address=return_address
    )
