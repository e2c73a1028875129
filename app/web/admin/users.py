"""Administration: the accounts. Who holds which roles; give and take roles, end an account's sessions, deactivate
it, remove its second factor (after proving the person's identity in person). Every act is in the audit log or
the security log, as from the command line (``flask users …``)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError, NotFound
from app.models import Locale, Role
from app.services import auth as auth_service
from app.services.accounts import account_detail, list_accounts
from app.services.departments import all_department_names
from app.services.roles import grant_role, revoke_role
from app.services.users import RoleGrant
from app.web.access import roles_required
from app.web.labels import message_text, role_label
from app.web.translation import reader_language
from app.web.urls import record_id
from forms.users import ConfirmForm, GrantForm, NewAccountForm, RevokeForm

bp = Blueprint("admin_users", __name__, url_prefix="/admin")

NO_DEPARTMENT = ""


def _grant_form(formdata: object = None, kind: type[GrantForm] = GrantForm) -> GrantForm:
    form = kind(formdata=formdata)  # None: a blank form (nothing read from the request)
    staff = [role for role in Role if role != Role.APPLICANT or kind is GrantForm]  # the public register themselves
    form.role.choices = [(role.value, role_label(role)) for role in staff]
    names = all_department_names(reader_language())
    by_name = sorted(names.items(), key=lambda item: item[1].lower())
    form.department.choices = [(NO_DEPARTMENT, _("Ninguna (atiende todas)")), *by_name]
    return form


def _list(new_form: GrantForm | None = None, status: int = 200) -> tuple[str, int]:
    query = request.args.get("q", "")[:254]
    public = request.args.get("publico") == "1"
    after = request.args.get("desde", default=0, type=record_id)
    accounts, next_after = list_accounts(query, staff=not public, after=after)
    return (
        render_template(
            "admin/users.html",
            accounts=accounts,
            next_after=next_after,
            query=query,
            public=public,
            departments=all_department_names(reader_language()),
            role_label=role_label,
            new_form=new_form or _grant_form(kind=NewAccountForm),
        ),
        status,
    )


@bp.get("/usuarios")
@roles_required(Role.ADMIN)
def index() -> tuple[str, int]:
    """The accounts, a page at a time: public servants by default, or the public's (``?publico=1``); ``q``: a part
    of a name or an address. And the form of a new staff account."""
    return _list()


@bp.post("/usuarios/nueva")
@roles_required(Role.ADMIN)
def create() -> Response | tuple[str, int]:
    """Create a public servant's account with a first role; the link to choose its password goes to its address
    (the administrator never knows the password)."""
    form = _grant_form(request.form, NewAccountForm)
    if not form.validate():
        return _list(form, 422)
    assert isinstance(form, NewAccountForm)  # noqa: S101 - made as one just above
    grant = RoleGrant(Role(form.role.data), form.department.data or None)
    try:
        user_id = auth_service.invite_user(
            form.email.data or "", form.display_name.data or "", [grant], current_user.id, Locale(form.locale.data)
        )
    except DomainError as exc:
        flash(message_text(exc.message), "error")
        return _list(form, 422)
    flash(_("Cuenta creada; el enlace para elegir la contraseña se envió a su correo."), "info")
    return redirect(url_for("admin_users.show", user_id=user_id))


def _page(user_id: int, status: int = 200, **forms: object) -> tuple[str, int]:
    try:
        detail = account_detail(user_id)
    except NotFound:
        abort(404)
    return (
        render_template(
            "admin/user.html",
            detail=detail,
            departments=all_department_names(reader_language()),
            role_label=role_label,
            grant_form=forms.get("grant_form") or _grant_form(),
            revoke_form=RevokeForm(formdata=None),
            sessions_form=forms.get("sessions_form") or ConfirmForm(formdata=None, prefix="sesiones"),
            deactivate_form=forms.get("deactivate_form") or ConfirmForm(formdata=None, prefix="desactivar"),
            factor_form=forms.get("factor_form") or ConfirmForm(formdata=None, prefix="factor"),
            link_form=forms.get("link_form") or ConfirmForm(formdata=None, prefix="enlace"),
            own=user_id == current_user.id,
        ),
        status,
    )


@bp.get("/usuarios/<int:user_id>")
@roles_required(Role.ADMIN)
def show(user_id: int) -> tuple[str, int]:
    """One account: its roles, state, second factor, open sessions and assigned open cases; the acts on it."""
    return _page(user_id)


def _refused(user_id: int, exc: DomainError, status: int = 422, **forms: object) -> tuple[str, int]:
    flash(message_text(exc.message), "error")
    return _page(user_id, 404 if isinstance(exc, NotFound) else status, **forms)


@bp.post("/usuarios/<int:user_id>/roles")
@roles_required(Role.ADMIN)
def grant(user_id: int) -> Response | tuple[str, int]:
    """Give the account a role (in a department, or in none)."""
    form = _grant_form(request.form)
    if not form.validate():
        return _page(user_id, 422, grant_form=form)
    role = Role(form.role.data)
    department = form.department.data or None
    try:
        changed = grant_role(user_id, RoleGrant(role, department), current_user.id)[1]
    except DomainError as exc:
        return _refused(user_id, exc, grant_form=form)
    flash(_("Rol otorgado.") if changed else _("La cuenta ya tenía ese rol; no cambió nada."), "info")
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.post("/usuarios/<int:user_id>/roles/retirar")
@roles_required(Role.ADMIN)
def revoke(user_id: int) -> Response | tuple[str, int]:
    """Take a role from the account; refused for the last administrator and while open cases assigned to the
    account need it."""
    form = RevokeForm()
    role_name, _sep, department = (form.held.data or "").partition(":")
    if not form.validate() or role_name not in {r.value for r in Role}:
        flash(_("Elija el rol que retira."), "error")
        return _page(user_id, 422)
    try:
        changed = revoke_role(user_id, RoleGrant(Role(role_name), department or None), current_user.id)[1]
    except DomainError as exc:
        return _refused(user_id, exc)
    flash(_("Rol retirado.") if changed else _("La cuenta no tenía ese rol; no cambió nada."), "info")
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.post("/usuarios/<int:user_id>/sesiones")
@roles_required(Role.ADMIN)
def end_sessions(user_id: int) -> Response | tuple[str, int]:
    """End every session of the account (it may log in again)."""
    form = ConfirmForm(prefix="sesiones")
    if not form.validate():
        return _page(user_id, 422, sessions_form=form)
    try:
        account_detail(user_id)  # an unknown account is not found, not "no sessions"
    except NotFound:
        abort(404)
    ended = auth_service.revoke_sessions(user_id, "ended_by_admin")
    flash(_("Sesiones cerradas: %(n)s.", n=ended), "info")
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.post("/usuarios/<int:user_id>/desactivar")
@roles_required(Role.ADMIN)
def deactivate(user_id: int) -> Response | tuple[str, int]:
    """Deactivate the account: it can no longer log in and its sessions end. Not one's own (another administrator
    does it)."""
    form = ConfirmForm(prefix="desactivar")
    if not form.validate():
        return _page(user_id, 422, deactivate_form=form)
    if user_id == current_user.id:
        flash(_("No puede desactivar su propia cuenta; pídalo a otro administrador."), "error")
        return _page(user_id, 422, deactivate_form=form)
    try:
        changed = auth_service.deactivate_user(user_id, current_user.id)
    except DomainError as exc:
        return _refused(user_id, exc, deactivate_form=form)
    flash(_("Cuenta desactivada; sus sesiones terminaron.") if changed else _("La cuenta ya estaba inactiva."), "info")
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.post("/usuarios/<int:user_id>/segundo-factor")
@roles_required(Role.ADMIN)
def reset_second_factor(user_id: int) -> Response | tuple[str, int]:
    """Remove the account's second factor once the person's identity was proven in person (they lost the phone
    and the recovery codes); they enrol again at their next login, and their sessions end."""
    form = ConfirmForm(prefix="factor")
    if not form.validate():
        return _page(user_id, 422, factor_form=form)
    try:
        changed = auth_service.reset_second_factor(user_id, current_user.id).changed
    except DomainError as exc:
        return _refused(user_id, exc, factor_form=form)
    flash(
        _("Segundo factor retirado; sus sesiones terminaron y lo activará de nuevo al iniciar sesión.")
        if changed
        else _("La cuenta no tenía segundo factor; no cambió nada."),
        "info",
    )
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.post("/usuarios/<int:user_id>/enlace")
@roles_required(Role.ADMIN)
def send_link(user_id: int) -> Response | tuple[str, int]:
    """Send the account a new link to choose its password (an invitation that expired unused, a forgotten
    password): it goes to the account's own address; the administrator never sees it."""
    form = ConfirmForm(prefix="enlace")
    if not form.validate():
        return _page(user_id, 422, link_form=form)
    try:
        topic = auth_service.send_password_link(user_id, current_user.id)
    except DomainError as exc:
        return _refused(user_id, exc, link_form=form)
    flash(
        _("Se envió a su correo una nueva invitación para elegir su contraseña.")
        if topic == "account_invitation"
        else _("Se envió a su correo un enlace para restablecer su contraseña."),
        "info",
    )
    return redirect(url_for("admin_users.show", user_id=user_id))
