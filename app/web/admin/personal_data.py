"""Administration: data-protection requests (derechos ARCO) — register, answer, and hand over the data."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import ConflictError
from app.models import Role
from app.models.personal_data import DataRequestKind
from app.services import DomainError
from app.services.personal_data import (
    RESOLVED_PAGE,
    RequestRow,
    export_for,
    get_request,
    list_requests,
    register_request,
    resolve_access,
    resolve_cancellation,
    resolve_opposition,
    resolve_rectification,
    response_days,
)
from app.web.access import roles_required
from app.web.cases.actions import new_key
from app.web.labels import message_text
from app.web.urls import record_id
from forms.personal_data import KIND_CHOICES, RectificationForm, RegisterRequestForm, ResolveForm

bp = Blueprint("personal_data", __name__, url_prefix="/admin/datos-personales")

KIND_LABELS = dict(KIND_CHOICES)
RESOLUTION_TEXT = {
    DataRequestKind.ACCESS: _l(
        "Al atenderla, los datos de la persona quedan disponibles para descargarse en un archivo JSON."
    ),
    DataRequestKind.RECTIFICATION: _l(
        "Escriba el nombre o el correo corregidos; la bitácora registra qué se corrigió, nunca los valores."
    ),
    DataRequestKind.CANCELLATION: _l(
        "La cuenta se anonimiza (nombre seudónimo, correo y contraseña inutilizables) y se desactiva; se borra el "
        "texto de los comentarios que escribió. Sus expedientes conservan su folio y su registro administrativo. "
        "No se puede deshacer."
    ),
    DataRequestKind.OPPOSITION: _l(
        "Se registra la oposición: la persona deja de recibir avisos no esenciales (recordatorios). Las "
        "notificaciones de los actos de sus trámites se siguen enviando."
    ),
}


def _request_or_404(request_id: int) -> RequestRow:
    try:
        return get_request(request_id)
    except DomainError:
        abort(404)


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index() -> str | Response | tuple[str, int]:
    """The requests (pending first, with their due dates) and the form to register a new one."""
    form = RegisterRequestForm()
    status = 200
    if form.validate_on_submit() and form.received_on.data is not None:
        try:
            request_id = register_request(
                current_user.id,
                form.email.data or "",
                DataRequestKind(form.kind.data),
                form.received_on.data,
                form_key=(form.form_key.data or "")[:64] or None,
            )
        except DomainError as exc:
            flash(message_text(exc.message), "error")
            status = 409 if isinstance(exc, ConflictError) else 422
        else:
            flash(_("Solicitud registrada."), "info")
            return redirect(url_for("personal_data.show", request_id=request_id))
    elif form.is_submitted():
        status = 422
    form.form_key.data = new_key()  # a form shown again is a new registration
    before = request.args.get("antes", type=record_id)
    rows = list_requests(before=before, limit=RESOLVED_PAGE + 1)
    answered = [row for row in rows if not row.pending]
    older = answered[RESOLVED_PAGE - 1].id if len(answered) > RESOLVED_PAGE else None
    if older is not None:
        rows = rows[:-1]
    return (
        render_template(
            "personal_data/index.html",
            form=form,
            rows=rows,
            older=older,
            paged=before is not None,
            kinds=KIND_LABELS,
            days=response_days(),
        ),
        status,
    )


def _render_show(row: RequestRow, rectification: RectificationForm | None = None, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "personal_data/show.html",
            row=row,
            kinds=KIND_LABELS,
            explanation=RESOLUTION_TEXT[row.kind],
            form=ResolveForm(),
            rectification=rectification or RectificationForm(formdata=None),
        ),
        status,
    )


@bp.get("/<int:request_id>")
@roles_required(Role.ADMIN)
def show(request_id: int) -> tuple[str, int]:
    """One request and the way to answer it."""
    return _render_show(_request_or_404(request_id))


@bp.post("/<int:request_id>/atender")
@roles_required(Role.ADMIN)
def resolve(request_id: int) -> Response | tuple[str, int]:
    """Answer the request as its kind requires (rectification takes the corrected values)."""
    row = _request_or_404(request_id)
    rectification = RectificationForm() if row.kind == DataRequestKind.RECTIFICATION else None
    form = rectification if rectification is not None else ResolveForm()
    if not form.validate_on_submit():
        flash(_("Revise los datos marcados."), "error")
        return _render_show(row, rectification, 422)
    try:
        if rectification is not None:
            resolve_rectification(
                request_id, current_user.id, rectification.display_name.data, rectification.email.data
            )
        elif row.kind == DataRequestKind.ACCESS:
            resolve_access(request_id, current_user.id)
        elif row.kind == DataRequestKind.CANCELLATION:
            resolve_cancellation(request_id, current_user.id)
        else:
            resolve_opposition(request_id, current_user.id)
    except DomainError as exc:
        flash(message_text(exc.message), "error")
        return _render_show(_request_or_404(request_id), rectification, 422)
    flash(_("Solicitud atendida."), "info")
    return redirect(url_for("personal_data.show", request_id=request_id))


@bp.get("/<int:request_id>/datos.json")
@roles_required(Role.ADMIN)
def download(request_id: int) -> Response:
    """The person's data for an answered access request, as a JSON attachment."""
    try:
        data = export_for(request_id)
    except DomainError:
        abort(404)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="datos-personales-solicitud-{request_id}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
