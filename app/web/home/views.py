"""The site's root: the authenticated home page (one panel per role the user holds) and the site's icon."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.models import Role, User
from app.plugins import installed
from app.services.cases import OWN_PAGE, OwnCursor, count_cases, own_cases_page, work_queue_page
from app.services.departments import department_names
from app.services.oversight import entries_in_log
from app.services.users import count_users
from app.services.visibility import CASEWORK_ROLES
from app.web.access import authenticated, public, roles_required
from app.web.translation import reader_language
from app.web.urls import cursor_parts, instant_token, record_id, token_instant

bp = Blueprint("home", __name__)

HOME_QUEUE_ROWS = 10
"""Cases of the work queue the home page shows (the most urgent); the queue's page has them all."""
HOME_OWN_ROWS = 10
"""Of one's own cases, the home page shows the latest filed; their page has them all."""

ICON = "favicon.svg"
"""The site's icon, in ``app/static`` (``base.html`` names it in its ``<link rel="icon">``)."""


@bp.get("/")
@public
def root() -> Response:
    """Send visitors to their home page or to the login page."""
    return redirect(url_for("home.index") if current_user.is_authenticated else url_for("auth.login"))


@bp.get("/favicon.ico")
@public
def favicon() -> Response:
    """The site's icon at the address browsers ask for on their own (``/favicon.ico``), whatever the page names."""
    return current_app.send_static_file(ICON)


@bp.get("/inicio")
@authenticated
def index() -> str:
    """Home page with a panel per role: own cases, work queue, audit summary, administration."""
    user: User = current_user
    roles = user.role_names
    panels: dict[str, object] = {}
    if user.has_role(Role.APPLICANT):
        mine, more = own_cases_page(user.id, HOME_OWN_ROWS)
        panels["own_cases"] = mine
        panels["all_own_cases"] = more is not None
    # (the treasury has a page of its own)
    queue = work_queue_page(user.id, roles - {Role.APPLICANT.value, Role.TREASURY.value}, HOME_QUEUE_ROWS)
    if queue is not None:
        panels["queue"] = queue.cases
        panels["whole_queue"] = queue.following is not None and any(user.has_role(r) for r in CASEWORK_ROLES)
    if user.has_role(Role.AUDITOR) or user.has_role(Role.GUARANTOR):
        panels["audit"] = {
            "entries": entries_in_log(),
            "cases": count_cases(),
        }
    if user.has_role(Role.TREASURY):
        panels["treasury"] = True
    if user.has_role(Role.ADMIN):
        panels["admin"] = {"users": count_users()}
    sections = [(plugin.title, links) for plugin in installed() if (links := plugin.links_for(roles))]
    names = department_names(
        (grant.department_code for grant in user.roles if grant.department_code), reader_language()
    )
    return render_template("home/index.html", user=user, panels=panels, sections=sections, department_names=names)


_OWN_CURSOR = re.compile(r"(\d{1,18})_(\d{1,10})")


def own_cursor(text: str) -> OwnCursor:
    """The ``antes`` parameter of a page of one's own cases: the last listed case's filing instant
    (microseconds since 1970, UTC) and id; anything else raises ``ValueError`` (the first page is shown)."""
    match = cursor_parts(text, _OWN_CURSOR)
    return OwnCursor(token_instant(match[1]), record_id(match[2]))


@bp.get("/mis-expedientes")
@roles_required(Role.APPLICANT)
def own_cases() -> str:
    """The cases the user filed, newest first, a page at a time."""
    after = request.args.get("antes", type=own_cursor)
    cases, older = own_cases_page(current_user.id, OWN_PAGE, after)
    return render_template(
        "home/own_cases.html",
        cases=cases,
        paged=after is not None,
        older=None if older is None else f"{instant_token(older.created_at)}_{older.case_id}",
    )
