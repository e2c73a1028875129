"""Reassigning cases (administrators, with a reason, by a new draw) and recusing oneself (the assignee)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError, NotAllowed, NotFound
from app.models import Role
from app.services.assignment import ASSIGNMENT_PAGE, AssignmentCursor, assignment_page, reassign, recuse
from app.services.departments import all_department_names
from app.web.access import authenticated, roles_required
from app.web.cases.views import recusal_refused
from app.web.labels import message_text
from app.web.translation import reader_language
from app.web.urls import cursor_parts, instant_token, record_id, token_instant
from forms.assignment import ReasonForm

bp = Blueprint("assignment", __name__)

_CURSOR = re.compile(r"([01])([01])_(\d{1,18})_(\d{1,10})")


def cursor_text(cursor: AssignmentCursor) -> str:
    """A page's cursor as the ``tras`` parameter of the next page's address: whether the last case was assigned
    and escalated (one digit each), its last change (microseconds since 1970, UTC) and its id."""
    flags = f"{int(cursor.assigned)}{int(cursor.escalated)}"
    return f"{flags}_{instant_token(cursor.updated_at)}_{cursor.case_id}"


def assignment_cursor(text: str) -> AssignmentCursor:
    """The cursor of :func:`cursor_text` (``request.args.get(name, type=assignment_cursor)``); anything else
    raises ``ValueError``, so that the argument is taken as absent and the first page is shown."""
    match = cursor_parts(text, _CURSOR)
    return AssignmentCursor(match[1] == "1", match[2] == "1", token_instant(match[3]), record_id(match[4]))


def _index(form: ReasonForm) -> str:
    """A page of the assignment overview (the departments named in the reader's language) with the reassignment
    form."""
    after = request.args.get("tras", type=assignment_cursor)
    rows, following = assignment_page(ASSIGNMENT_PAGE, after)
    return render_template(
        "assignment/index.html",
        rows=rows,
        department_names=all_department_names(reader_language()),
        form=form,
        paged=after is not None,
        following=None if following is None else cursor_text(following),
    )


@bp.get("/admin/asignaciones")
@roles_required(Role.ADMIN)
def index() -> str:
    """Open cases in a department's stage with their assignee (no case data), unassigned ones first."""
    return _index(ReasonForm())


@bp.post("/admin/asignaciones/<int:case_id>/reasignar")
@roles_required(Role.ADMIN)
def reassign_case(case_id: int) -> Response | tuple[str, int]:
    """Take the case from its assignee and draw another, with the reason given."""
    form = ReasonForm()
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(str(error), "error")
        return _index(form), 422
    try:
        chosen = reassign(case_id, current_user.id, form.reason.data)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(message_text(exc.message), "error")
        return _index(form), 422
    if chosen is None:
        flash(_("Nadie más puede recibir el expediente: queda sin asignar y su área fue avisada."), "info")
    else:
        flash(_("El expediente se reasignó por sorteo."), "info")
    return redirect(url_for("assignment.index"))


@bp.post("/expedientes/<int:case_id>/excusa")
@authenticated
def recuse_case(case_id: int) -> Response | tuple[str, int]:
    """The assignee declares a conflict of interest; a new draw leaves them out of the case. A refusal shows the
    case page again with the reason typed and why."""
    form = ReasonForm()
    if not form.validate_on_submit():
        errors = " ".join(str(error) for error in form.reason.errors)
        return recusal_refused(
            case_id, form.reason.data or "", errors or _("El formulario llegó incompleto; envíelo de nuevo.")
        )
    try:
        recuse(case_id, current_user.id, form.reason.data)
    except NotFound:
        abort(404)
    except DomainError as exc:
        status = 403 if isinstance(exc, NotAllowed) else 422
        return recusal_refused(case_id, form.reason.data or "", message_text(exc.message), status)
    flash(_("Se registró su excusa; el expediente se volvió a sortear sin usted."), "info")
    return redirect(url_for("home.index"))
