"""The staff's work queue: sorted by deadline, with due-soon and overdue views."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from app.models import Role
from app.services.queues import QueueView, staff_queue
from app.services.visibility import CASEWORK_ROLES
from app.web.access import roles_required
from app.web.queue.rows import shown_lines

bp = Blueprint("queue", __name__)


@bp.get("/bandeja")
@roles_required(*CASEWORK_ROLES)
def index() -> str:
    """Cases where the user's roles have the next step, nearest deadline first."""
    try:
        view = QueueView(request.args.get("vista", QueueView.ALL.value))
    except ValueError:
        view = QueueView.ALL
    user_id = current_user.id
    rows = staff_queue(user_id, current_user.role_names - {Role.APPLICANT.value}, view)
    if rows is None:
        abort(403)
    return render_template("queue/index.html", rows=shown_lines(rows, user_id), view=view, views=list(QueueView))
