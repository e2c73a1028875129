"""Administration: the authority's calendar of non-working days."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app.calendar import local_today
from app.models import Role
from app.services import DomainError
from app.services.deadlines import declare_non_working_days, declared_days, remove_non_working_day
from app.services.delivery import failed_messages, retry_failed, retrying_messages
from app.web.access import roles_required
from app.web.labels import message_text
from forms.calendar import ConfirmForm, NonWorkingDaysForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/calendario", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def calendar() -> str | Response:
    """List the declared non-working days of a year and declare new ones."""
    year_arg = request.args.get("anio", "")
    numeric = year_arg.isascii() and year_arg.isdigit() and len(year_arg) == 4  # "²" is a digit int() refuses
    year = int(year_arg) if numeric and 1900 < int(year_arg) < 3000 else local_today().year
    form = NonWorkingDaysForm()
    if form.validate_on_submit() and form.first.data is not None:
        first = form.first.data
        try:
            change = declare_non_working_days(
                first,
                form.last.data,
                form.description.data or "",
                form.gazette_reference.data or "",
                current_user.id,
            )
        except DomainError as exc:
            flash(message_text(exc.message), "error")
        else:
            declared = ngettext(
                "Se declaró %(num)s día inhábil.", "Se declararon %(num)s días inhábiles.", len(change.days)
            )
            moved = ngettext(
                "%(num)s plazo en curso se recalculó.", "%(num)s plazos en curso se recalcularon.", change.timers_moved
            )
            flash(f"{declared} {moved}", "info")
            return redirect(url_for("admin.calendar", anio=first.year))
    return render_template(
        "admin/calendar.html", form=form, days=declared_days(year), year=year, remove_form=ConfirmForm()
    )


@bp.post("/calendario/<int:day_id>/quitar")
@roles_required(Role.ADMIN)
def remove_day(day_id: int) -> Response:
    """Remove a declared non-working day."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            change = remove_non_working_day(day_id, current_user.id)
        except DomainError as exc:
            flash(message_text(exc.message), "error")
        else:
            moved = ngettext(
                "%(num)s plazo en curso se recalculó.", "%(num)s plazos en curso se recalcularon.", change.timers_moved
            )
            flash(f"{_('Día hábil restablecido.')} {moved}", "info")
    return redirect(url_for("admin.calendar"))


@bp.get("/correo")
@roles_required(Role.ADMIN)
def mail() -> str:
    """Notices that could not be delivered, and those waiting for another attempt."""
    return render_template(
        "admin/mail.html", failed=failed_messages(), retrying=retrying_messages(), form=ConfirmForm()
    )


@bp.post("/correo/<int:message_id>/reenviar")
@roles_required(Role.ADMIN)
def retry_mail(message_id: int) -> Response:
    """Queue a failed notice again."""
    if ConfirmForm().validate_on_submit():
        try:
            retry_failed(message_id, current_user.id)
        except DomainError as exc:
            flash(message_text(exc.message), "error")
        else:
            flash(_("El aviso se enviará de nuevo en la próxima pasada."), "info")
    return redirect(url_for("admin.mail"))
