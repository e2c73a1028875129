"""The staff's work queue: sorted by deadline, with due-soon and overdue views, a page at a time."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from app.models import Role
from app.services.queues import QUEUE_PAGE, QueueCursor, QueueView, staff_queue_page
from app.services.visibility import CASEWORK_ROLES
from app.web.access import roles_required
from app.web.queue.rows import shown_lines
from app.web.urls import cursor_parts, instant_token, record_id, token_instant

bp = Blueprint("queue", __name__)

_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{1,18})_(\d{1,10})")


def cursor_text(cursor: QueueCursor) -> str:
    """A page's cursor as the ``tras`` parameter of the next page's address: the last case's sort day, its last
    change (microseconds since 1970, UTC) and its id."""
    return f"{cursor.day.isoformat()}_{instant_token(cursor.updated_at)}_{cursor.case_id}"


def queue_cursor(text: str) -> QueueCursor:
    """The cursor of :func:`cursor_text` (``request.args.get(name, type=queue_cursor)``); anything else raises
    ``ValueError``, so that the argument is taken as absent and the first page is shown."""
    match = cursor_parts(text, _CURSOR)
    return QueueCursor(date.fromisoformat(match[1]), token_instant(match[2]), record_id(match[3]))


@bp.get("/bandeja")
@roles_required(*CASEWORK_ROLES)
def index() -> str:
    """Cases where the user's roles have the next step, nearest deadline first, a page at a time."""
    try:
        view = QueueView(request.args.get("vista", QueueView.ALL.value))
    except ValueError:
        view = QueueView.ALL
    after = request.args.get("tras", type=queue_cursor)
    user_id = current_user.id
    page = staff_queue_page(
        user_id, current_user.role_names - {Role.APPLICANT.value}, view, after=after, limit=QUEUE_PAGE
    )
    if page is None:
        abort(403)
    following = None if page.following is None else cursor_text(page.following)
    return render_template(
        "queue/index.html",
        rows=shown_lines(page.rows, user_id),
        view=view,
        views=list(QueueView),
        paged=after is not None,
        following=following,
    )
