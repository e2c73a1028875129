"""Administration: the departments (administrative units), and which ones the installed procedures miss."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.models import Role
from app.services.departments import (
    create_department,
    delete_department,
    ensure_declared_departments,
    list_departments,
    missing_departments,
    rename_department,
)
from app.web.access import roles_required
from app.web.labels import message_text
from forms.departments import DeleteForm, DepartmentForm, EnsureForm, RenameForm
from workflows import REGISTRY

bp = Blueprint("admin_departments", __name__, url_prefix="/admin")


def _flash_refusal(exc: DomainError) -> None:
    flash(message_text(exc.message), "error")
    for reason in exc.reasons:
        if reason != exc.message:
            flash(message_text(reason), "error")


def _page(form: DepartmentForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "admin/departments.html",
            form=form,
            departments=list_departments(),
            missing=missing_departments(),
            titles={p.name: p.title for p in REGISTRY},
            rename_form=RenameForm(formdata=None),
            delete_form=DeleteForm(formdata=None),
            ensure_form=EnsureForm(formdata=None),
        ),
        status,
    )


@bp.route("/areas", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index() -> tuple[str, int] | Response:
    """List the departments and what the installed procedures miss; create a department."""
    form = DepartmentForm()
    if not form.is_submitted():
        return _page(form)
    if form.validate():
        try:
            create_department(form.code.data or "", form.name.data or "", current_user.id, name_en=form.name_en.data)
        except DomainError as exc:
            _flash_refusal(exc)
        else:
            flash(_("Área «%(code)s» creada.", code=form.code.data), "info")
            return redirect(url_for("admin_departments.index"))
    else:
        flash(_("Revise los datos marcados."), "error")
    return _page(form, 422)


@bp.post("/areas/<department>/nombre")
@roles_required(Role.ADMIN)
def rename(department: str) -> Response:
    """Rename a department: its Spanish and English names (a blank English name removes it); its code stays."""
    form = RenameForm()
    if not form.validate_on_submit():
        for error in (*form.name.errors, *form.name_en.errors):
            flash(str(error), "error")
        return redirect(url_for("admin_departments.index"))
    try:
        changed = rename_department(department, form.name.data or "", current_user.id, name_en=form.name_en.data or "")
    except DomainError as exc:
        _flash_refusal(exc)
    else:
        flash(_("Nombre del área cambiado.") if changed else _("No hubo cambios."), "info")
    return redirect(url_for("admin_departments.index"))


@bp.post("/areas/<department>/eliminar")
@roles_required(Role.ADMIN)
def delete(department: str) -> Response:
    """Delete a department; refused, with every reason, while anything names it."""
    if DeleteForm().validate_on_submit():
        try:
            delete_department(department, current_user.id)
        except DomainError as exc:
            _flash_refusal(exc)
        else:
            flash(_("Área «%(code)s» eliminada.", code=department), "info")
    return redirect(url_for("admin_departments.index"))


@bp.post("/areas/declaradas")
@roles_required(Role.ADMIN)
def ensure() -> Response:
    """Create the departments the installed procedures declare and that do not exist."""
    if EnsureForm().validate_on_submit():
        try:
            result = ensure_declared_departments(current_user.id)
        except DomainError as exc:
            _flash_refusal(exc)
        else:
            count = len(result.created)
            flash(ngettext("Se creó %(num)s área.", "Se crearon %(num)s áreas.", count), "info")
    return redirect(url_for("admin_departments.index"))
