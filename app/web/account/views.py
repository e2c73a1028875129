"""Password change (logged in), one's open sessions, one's second factor (turned on or off, new recovery codes,
another authenticator app), password reset by e-mail, and the administrators' security log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from app.engine import DomainError, InvalidData, NotFound
from app.extensions import limiter
from app.models import Role, SecurityEventKind
from app.services import auth as auth_service
from app.services import confirmation, security_log
from app.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.web.access import authenticated, public, roles_required
from app.web.auth.support import (
    check_delay,
    clear_failures,
    client_ip,
    current_session_token,
    log_event,
    no_store,
    not_redirected,
    record_failure,
    redirected,
    reset_account_key,
    reset_limit_per_account,
    reset_limit_per_ip,
    safe_path,
    totp_setup_page,
)
from app.web.labels import message_text
from forms.account import (
    ChangeAppForm,
    EmailChangeForm,
    EnableFactorForm,
    EndSessionsForm,
    EnrolmentForm,
    NewPasswordForm,
    PasswordChangeForm,
    RemoveFactorForm,
    RenewCodesForm,
    ResetRequestForm,
)

bp = Blueprint("account", __name__)


def _leave(message: str) -> Response:
    """Log out locally (the server already ended the sessions) and go to the login page."""
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale is not None:
        session["locale"] = locale
    flash(message, "info")
    return redirect(url_for("auth.login"))


@bp.route("/cuenta/contrasena", methods=["GET", "POST"])
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def change_password() -> str | Response | tuple[str, int]:
    """Change the password (the current one is required); every session, this one included, then ends."""
    form = PasswordChangeForm(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
    if form.validate_on_submit():
        try:
            auth_service.change_password(current_user.id, form.current.data or "", form.password.data or "")
        except DomainError as exc:
            target = form.current if "actual" in str(exc.message.msgid) else form.password
            target.errors = [*target.errors, message_text(exc.message)]
            return render_template("account/change_password.html", form=form), 422
        return _leave(_("Contraseña cambiada. Se cerraron todas sus sesiones; inicie sesión con la contraseña nueva."))
    if form.is_submitted():
        return render_template("account/change_password.html", form=form), 422
    return render_template("account/change_password.html", form=form)


@bp.route("/cuenta/correo", methods=["GET", "POST"])
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def change_email() -> str | Response | tuple[str, int]:
    """Change the account's e-mail address (the password is required): a link goes to the new address, and the
    address changes once it is opened and confirmed; until then it stays as it is."""
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            confirmation.request_email_change(current_user.id, form.password.data or "", form.email.data or "")
        except DomainError as exc:
            target = form.password if "contraseña" in str(exc.message.msgid) else form.email
            if "contraseña" in str(exc.message.msgid):
                log_event(SecurityEventKind.LOGIN_FAILED, current_user.id, step="change_email")
            target.errors = [*target.errors, message_text(exc.message)]
            return render_template("account/change_email.html", form=form), 422
        flash(
            _(
                "Le enviamos un enlace a la dirección nueva; su correo cambia cuando lo abra y lo confirme. Hasta "
                "entonces sigue siendo el mismo."
            ),
            "info",
        )
        return redirect(url_for("account.change_email"))
    if form.is_submitted():
        return render_template("account/change_email.html", form=form), 422
    return render_template("account/change_email.html", form=form)


def _sessions_page(form: EndSessionsForm, status: int = 200) -> tuple[str, int]:
    sessions = auth_service.open_sessions(current_user.id, current_session_token() or "")
    return render_template("account/sessions.html", sessions=sessions, form=form), status


@bp.get("/cuenta/sesiones")
@authenticated
def sessions() -> tuple[str, int]:
    """Where the account is logged in: each open session's browser, start and last activity, this one marked
    (ASVS 7.5.2)."""
    return _sessions_page(EndSessionsForm())


@bp.post("/cuenta/sesiones/cerrar")
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def end_sessions() -> Response | tuple[str, int]:
    """End one of the account's other sessions, or all of them, once the password is given again; this one stays
    (Salir ends it)."""
    form = EndSessionsForm()
    if not form.validate_on_submit():
        return _sessions_page(form, 422)
    chosen = int(form.session.data) if form.session.data else None
    try:
        ended = auth_service.end_own_sessions(
            current_user.id, current_session_token() or "", form.password.data or "", chosen
        )
    except NotFound as exc:
        flash(message_text(exc.message), "error")
        return _sessions_page(EndSessionsForm(formdata=None), 404)
    except DomainError as exc:
        log_event(SecurityEventKind.LOGIN_FAILED, current_user.id, step="end_sessions")
        form.password.errors = [*form.password.errors, message_text(exc.message)]
        return _sessions_page(form, 422)
    if ended:
        flash(ngettext("Se cerró %(num)d sesión.", "Se cerraron %(num)d sesiones.", ended), "info")
    else:
        flash(_("No había otras sesiones abiertas."), "info")
    return redirect(url_for("account.sessions"))


PENDING_FACTOR = "pending_factor"
"""The Flask session's key of a change of authenticator app begun in this browser (the new key, sealed)."""


def _factor_page(
    status: int = 200,
    *,
    renew: RenewCodesForm | None = None,
    change: ChangeAppForm | None = None,
    enable: EnableFactorForm | None = None,
    remove: RemoveFactorForm | None = None,
) -> tuple[str, int]:
    """One's second factor's page with its forms (those not given, empty)."""
    summary = auth_service.second_factor_summary(current_user.id)
    page = render_template(
        "account/second_factor.html",
        summary=summary,
        required=auth_service.second_factor_required(current_user),
        renew=renew or RenewCodesForm(prefix="codigos", formdata=None),
        change=change or ChangeAppForm(prefix="cambio", formdata=None),
        enable=enable or EnableFactorForm(prefix="activar", formdata=None),
        remove=remove or RemoveFactorForm(prefix="desactivar", formdata=None),
    )
    return page, status


@bp.get("/cuenta/verificacion")
@authenticated
def second_factor() -> tuple[str, int]:
    """One's second factor: since when it is active and how many recovery codes are left; new codes, or another
    authenticator app, once the password and a code are given again (ASVS 7.5.1); turning it on, for anyone, and
    off, for those whose roles do not oblige them to it (ASVS 6.3.3)."""
    return _factor_page()


def _reauthentication_failed(
    form: RenewCodesForm | ChangeAppForm | EnableFactorForm | RemoveFactorForm, exc: DomainError
) -> None:
    """Put the refusal of ``form``'s password or code on its field, logged and counted as a failed login."""
    if not isinstance(exc, InvalidData):  # no second factor to change: the page shows no form to put it on
        flash(message_text(exc.message), "error")
        return
    record_failure("second-factor", str(current_user.id))
    if exc.message.msgid == auth_service.WRONG_PASSWORD.msgid:
        log_event(SecurityEventKind.LOGIN_FAILED, current_user.id, step="second_factor_change")
        form.password.errors = [*form.password.errors, message_text(exc.message)]
    elif not isinstance(form, EnableFactorForm):
        log_event(SecurityEventKind.TOTP_FAILED, current_user.id, step="second_factor_change")
        form.code.errors = [*form.code.errors, message_text(exc.message)]


@bp.post("/cuenta/verificacion/codigos")
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def renew_codes() -> Response | tuple[str, int]:
    """New recovery codes, shown once; the earlier ones stop working."""
    form = RenewCodesForm(prefix="codigos")
    if not form.validate_on_submit():
        return _factor_page(422, renew=form)
    check_delay("second-factor", str(current_user.id))
    try:
        codes = auth_service.renew_recovery_codes(current_user.id, form.password.data or "", form.code.data or "")
    except DomainError as exc:
        _reauthentication_failed(form, exc)
        return _factor_page(422, renew=form)
    clear_failures("second-factor", str(current_user.id))
    page = render_template(
        "auth/recovery_codes.html",
        codes=codes,
        next_url=url_for("account.second_factor"),
        heading=_("Nuevos códigos de recuperación"),
    )
    return no_store(page)


def _new_key_begun(
    form: ChangeAppForm | EnableFactorForm, begin: Callable[[], str], **page: Any
) -> Response | tuple[str, int]:
    """Run ``begin`` (a service that checks ``form``'s password, and code, and returns a new key sealed) once the
    form is valid: the sealed key is kept in this browser's session for :func:`new_app`; a refusal is put on the
    form's fields, on the page again (``page``: the form's keyword for :func:`_factor_page`)."""
    if not form.validate_on_submit():
        return _factor_page(422, **page)
    check_delay("second-factor", str(current_user.id))
    try:
        sealed = begin()
    except DomainError as exc:
        _reauthentication_failed(form, exc)
        return _factor_page(422, **page)
    clear_failures("second-factor", str(current_user.id))
    session[PENDING_FACTOR] = sealed
    return redirect(url_for("account.new_app"))


@bp.post("/cuenta/verificacion/cambiar")
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def change_app() -> Response | tuple[str, int]:
    """Begin moving the second factor to another app: the new key is kept, sealed, in this browser's session for
    a few minutes; the current app keeps working until a code of the new one confirms it."""
    form = ChangeAppForm(prefix="cambio")
    return _new_key_begun(
        form,
        lambda: auth_service.begin_second_factor_change(
            current_user.id, form.password.data or "", form.code.data or ""
        ),
        change=form,
    )


@bp.post("/cuenta/verificacion/activar")
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def enable_factor() -> Response | tuple[str, int]:
    """Begin turning the second factor on (an account without one): after the password, the new key is kept,
    sealed, in this browser's session for a few minutes, until a code of the app confirms it."""
    form = EnableFactorForm(prefix="activar")
    return _new_key_begun(
        form, lambda: auth_service.begin_second_factor(current_user.id, form.password.data or ""), enable=form
    )


@bp.post("/cuenta/verificacion/desactivar")
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def remove_factor() -> Response | tuple[str, int]:
    """Turn the second factor off, after the password and a code; refused to those whose roles oblige them to it."""
    form = RemoveFactorForm(prefix="desactivar")
    if not form.validate_on_submit():
        return _factor_page(422, remove=form)
    check_delay("second-factor", str(current_user.id))
    try:
        auth_service.remove_second_factor(current_user.id, form.password.data or "", form.code.data or "")
    except DomainError as exc:
        _reauthentication_failed(form, exc)
        return _factor_page(422, remove=form)
    clear_failures("second-factor", str(current_user.id))
    flash(_("Se desactivó la verificación en dos pasos de su cuenta."), "success")
    return redirect(url_for("account.second_factor"))


@bp.route("/cuenta/verificacion/nueva", methods=["GET", "POST"])
@authenticated
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def new_app() -> Response:
    """The new app's key (QR code and text) and the code that confirms it; then the new recovery codes, once."""
    sealed = session.get(PENDING_FACTOR)
    enrolment = auth_service.pending_second_factor(current_user.id, sealed) if isinstance(sealed, str) else None
    if enrolment is None:
        session.pop(PENDING_FACTOR, None)
        flash(message_text(auth_service.CHANGE_LAPSED), "info")
        return redirect(url_for("account.second_factor"))
    enabling = auth_service.totp_status(current_user.id) != auth_service.TotpStatus.CONFIRMED
    form = EnrolmentForm()
    form.submit.label.text = _("Activar") if enabling else _("Confirmar el cambio")
    status = 200
    if form.validate_on_submit():
        check_delay("second-factor", str(current_user.id))
        try:
            change = auth_service.confirm_second_factor_change(
                current_user.id, str(sealed), form.code.data or "", current_session_token() or ""
            )
        except DomainError as exc:
            log_event(SecurityEventKind.TOTP_FAILED, current_user.id, step="second_factor_new_app")
            record_failure("second-factor", str(current_user.id))
            form.code.errors = [message_text(exc.message)]
            status = 422
        else:
            clear_failures("second-factor", str(current_user.id))
            session.pop(PENDING_FACTOR, None)
            page = render_template(
                "auth/recovery_codes.html",
                codes=change.codes,
                next_url=url_for("account.second_factor"),
                heading=_("Verificación en dos pasos activada")
                if enabling
                else _("Verificación en dos pasos cambiada de aplicación"),
                sessions_ended=change.sessions_ended,
            )
            return no_store(page)
    elif form.is_submitted():
        status = 422
    minutes = int(auth_service.SECOND_FACTOR_CHANGE_TTL.total_seconds()) // 60
    return totp_setup_page("account/new_app.html", enrolment, status, form=form, minutes=minutes, enabling=enabling)


@bp.route("/contrasena/olvide", methods=["GET", "POST"])
@public
@limiter.limit(reset_limit_per_ip, methods=["POST"])
@limiter.limit(reset_limit_per_account, methods=["POST"], key_func=reset_account_key, deduct_when=redirected)
def forgot_password() -> str | Response | tuple[str, int]:
    """Ask for a reset link. The answer never says whether the address has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        auth_service.request_password_reset(form.email.data or "", ip=client_ip(), path=request.path)
        flash(
            _(
                "Si %(email)s corresponde a una cuenta, le enviamos un enlace para restablecer la contraseña. "
                "Revise su correo (también la carpeta de no deseados).",
                email=form.email.data or "",
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    if form.is_submitted():
        return render_template("account/forgot_password.html", form=form), 422
    return render_template("account/forgot_password.html", form=form)


@bp.route("/contrasena/restablecer/<token>", methods=["GET", "POST"])
@public
@limiter.limit(reset_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through the link sent by mail (single use, expiring)."""
    if len(token) > 100 or not auth_service.reset_token_is_valid(token):
        if request.method == "POST":
            security_log.record(SecurityEventKind.PASSWORD_RESET_REFUSED, ip=client_ip(), path=safe_path())
        return render_template("account/reset_invalid.html"), 404
    form = NewPasswordForm(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
    if form.validate_on_submit():
        try:
            auth_service.reset_password(token, form.password.data or "", ip=client_ip(), path=safe_path())
        except DomainError as exc:
            form.password.errors = [*form.password.errors, message_text(exc.message)]
            return render_template("account/reset_password.html", form=form, token=token), 422
        return _leave(
            _("Contraseña restablecida. Se cerraron todas sus sesiones; inicie sesión con la contraseña nueva.")
        )
    if form.is_submitted():
        return render_template("account/reset_password.html", form=form, token=token), 422
    return render_template("account/reset_password.html", form=form, token=token)


SECURITY_EVENT_LABELS = {
    SecurityEventKind.LOGIN_SUCCEEDED: lazy_gettext("Inicio de sesión"),
    SecurityEventKind.LOGIN_FAILED: lazy_gettext("Inicio de sesión fallido"),
    SecurityEventKind.LOGOUT: lazy_gettext("Cierre de sesión"),
    SecurityEventKind.THROTTLED: lazy_gettext("Bloqueo por demasiados intentos"),
    SecurityEventKind.TOTP_FAILED: lazy_gettext("Código del segundo factor incorrecto"),
    SecurityEventKind.TOTP_ENROLLED: lazy_gettext("Segundo factor activado"),
    SecurityEventKind.SECOND_FACTOR_RESET: lazy_gettext("Segundo factor retirado por un administrador"),
    SecurityEventKind.RECOVERY_CODE_USED: lazy_gettext("Código de recuperación usado"),
    SecurityEventKind.PASSWORD_CHANGED: lazy_gettext("Contraseña cambiada"),
    SecurityEventKind.PASSWORD_RESET_REQUESTED: lazy_gettext("Restablecimiento de contraseña solicitado"),
    SecurityEventKind.PASSWORD_RESET: lazy_gettext("Contraseña restablecida"),
    SecurityEventKind.PASSWORD_RESET_REFUSED: lazy_gettext("Enlace de restablecimiento rechazado"),
    SecurityEventKind.SESSION_REVOKED: lazy_gettext("Sesión terminada"),
    SecurityEventKind.SESSION_EXPIRED: lazy_gettext("Sesión caducada"),
    SecurityEventKind.USER_DEACTIVATED: lazy_gettext("Cuenta desactivada"),
    SecurityEventKind.REGISTRATION: lazy_gettext("Registro o confirmación de correo"),
    SecurityEventKind.ACCESS_DENIED: lazy_gettext("Acceso denegado"),
}
"""What each kind of security event is called on the administrator's page (the log keeps the code)."""


@bp.get("/admin/seguridad")
@roles_required(Role.ADMIN)
def security_events() -> str:
    """The latest security events (logins, failures, throttling, refusals), newest first, filterable by kind."""
    kind_name = request.args.get("tipo", "")
    kind = SecurityEventKind(kind_name) if kind_name in {k.value for k in SecurityEventKind} else None
    events = security_log.recent_events(limit=300, kind=kind)
    return render_template(
        "account/security_events.html",
        events=events,
        kinds=list(SecurityEventKind),
        kind=kind,
        labels=SECURITY_EVENT_LABELS,
    )
