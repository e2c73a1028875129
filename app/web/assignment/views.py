"""Reassigning cases (administrators, with a reason, by a new draw) and recusing oneself (the assignee)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError, NotAllowed, NotFound
from app.models import Role
from app.services.assignment import assignment_rows, reassign, recuse
from app.services.departments import all_department_names
from app.web.access import authenticated, roles_required
from app.web.cases.views import recusal_refused
from app.web.labels import message_text
from app.web.translation import reader_language
from forms.assignment import ReasonForm

bp = Blueprint("assignment", __name__)


def _index(form: ReasonForm) -> str:
    """The assignment overview (the departments named in the reader's language) with the reassignment form."""
    return render_template(
        "assignment/index.html",
        rows=assignment_rows(),
        department_names=all_department_names(reader_language()),
        form=form,
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
