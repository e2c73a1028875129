"""The user's notices (the same messages that are mailed)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.services.notices import mark_all_read, notices_for
from app.web.access import authenticated
from forms.calendar import ConfirmForm

bp = Blueprint("notices", __name__)


@bp.get("/avisos")
@authenticated
def index() -> str:
    """List the user's notices, newest first."""
    return render_template("notices/index.html", notices=notices_for(current_user.id), form=ConfirmForm())


@bp.post("/avisos/leidos")
@authenticated
def read_all() -> Response:
    """Mark every notice as read."""
    if ConfirmForm().validate_on_submit():
        mark_all_read(current_user.id)
    return redirect(url_for("notices.index"))
