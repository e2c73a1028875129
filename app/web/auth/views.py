"""Login (password, then the second factor for staff and for anyone who turned one on), logout and language choice."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.extensions import limiter, login_manager
from app.models import SecurityEventKind, User
from app.plugins import public_links
from app.services import auth as auth_service
from app.services import security_log
from app.services.auth import TotpStatus
from app.services.users import authenticate, get_user
from app.web.access import public
from app.web.auth.support import (
    PENDING_AT,
    PENDING_NEXT,
    PENDING_TTL_SECONDS,
    PENDING_USER,
    begin_login,
    check_delay,
    clear_failures,
    client_ip,
    current_session_token,
    log_event,
    login_account_key,
    login_limit_per_account,
    login_limit_per_ip,
    no_store,
    not_redirected,
    pending_user_key,
    record_failure,
    totp_setup_page,
)
from app.web.labels import message_text
from app.web.navigation import safe_next
from forms.account import EnrolmentForm, SecondFactorForm
from forms.auth import LanguageForm, LoginForm, LogoutForm

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Inicie sesión para continuar.")
login_manager.localize_callback = str  # renders the lazy message in the request's language before flashing
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the cookie names a server-side session; only a live session of an active user
    logs the request in (logout, password changes, deactivation and timeouts end it on the server)."""
    return auth_service.resume_session(session_id)


def _pending_user() -> User | None:
    """The user who gave a correct password and still owes the second factor (for a few minutes)."""
    user_id = session.get(PENDING_USER)
    started = session.get(PENDING_AT)
    if not isinstance(user_id, int) or not isinstance(started, int):
        return None
    if time.time() - started > PENDING_TTL_SECONDS:
        return None
    user = get_user(user_id)
    return user if user is not None and user.active else None


def _finish_login(user: User) -> Response:
    next_url = session.get(PENDING_NEXT)
    begin_login(user)
    return redirect(safe_next(next_url if isinstance(next_url, str) else None))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(login_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
@limiter.limit(login_limit_per_account, methods=["POST"], key_func=login_account_key, deduct_when=not_redirected)
def login() -> str | Response:
    """Show the login form; after a correct password, log the user in or ask for the second factor."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        account = (form.email.data or "").strip().lower()
        check_delay("password", account)
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            clear_failures("password", account)
            if not auth_service.requires_second_factor(user):
                session[PENDING_NEXT] = form.next.data or ""
                return _finish_login(user)
            locale = session.get("locale")
            session.clear()
            session.update({PENDING_USER: user.id, PENDING_AT: int(time.time()), PENDING_NEXT: form.next.data or ""})
            session["locale"] = locale or user.locale.value
            if auth_service.totp_status(user.id) == TotpStatus.CONFIRMED:
                return redirect(url_for("auth.second_factor"))
            return redirect(url_for("auth.enrol"))
        security_log.record_login_failure(form.email.data or "", ip=client_ip(), path=request.path)
        record_failure("password", account)
        flash(
            _(
                "Correo electrónico o contraseña incorrectos. Si acaba de crear su cuenta, confirme primero su correo "
                "electrónico con el enlace que le enviamos."
            ),
            "error",
        )
    return render_template("auth/login.html", form=form, procedure_links=public_links())


@bp.route("/login/verificacion", methods=["GET", "POST"])
@public
@limiter.limit(login_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
@limiter.limit(login_limit_per_account, methods=["POST"], key_func=pending_user_key, deduct_when=not_redirected)
def second_factor() -> str | Response | tuple[str, int]:
    """The second step (staff, and anyone who turned it on): a code from the authenticator app or a recovery code."""
    user = _pending_user()
    if user is None:
        flash(_("Vuelva a escribir su contraseña para continuar."), "info")
        return redirect(url_for("auth.login"))
    if auth_service.totp_status(user.id) != TotpStatus.CONFIRMED:
        return redirect(url_for("auth.enrol"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        check_delay("second-factor", str(user.id))
        if auth_service.verify_second_factor(user.id, form.code.data or ""):
            clear_failures("second-factor", str(user.id))
            return _finish_login(user)
        log_event(SecurityEventKind.TOTP_FAILED, user.id)
        record_failure("second-factor", str(user.id))
        form.code.errors = [_("El código no es correcto o ya se usó. Espere el siguiente código e intente de nuevo.")]
        return render_template("auth/second_factor.html", form=form), 422
    return render_template("auth/second_factor.html", form=form)


@bp.route("/login/activar-verificacion", methods=["GET", "POST"])
@public
@limiter.limit(login_limit_per_ip, methods=["POST"], deduct_when=not_redirected)
@limiter.limit(login_limit_per_account, methods=["POST"], key_func=pending_user_key, deduct_when=not_redirected)
def enrol() -> Response:
    """First login of a staff member: set up the authenticator app (QR code and secret), confirm it with a
    code, then show the recovery codes once."""
    user = _pending_user()
    if user is None:
        flash(_("Vuelva a escribir su contraseña para continuar."), "info")
        return redirect(url_for("auth.login"))
    if auth_service.totp_status(user.id) == TotpStatus.CONFIRMED:
        return redirect(url_for("auth.second_factor"))
    form = EnrolmentForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = auth_service.confirm_enrolment(user.id, form.code.data or "")
        except DomainError as exc:
            log_event(SecurityEventKind.TOTP_FAILED, user.id, step="enrolment")
            form.code.errors = [message_text(exc.message)]
            status = 422
        else:
            next_url = session.get(PENDING_NEXT)
            begin_login(user)
            target = safe_next(next_url if isinstance(next_url, str) else None)
            page = render_template("auth/recovery_codes.html", codes=codes, next_url=target)
            return no_store(page)
    elif form.is_submitted():
        status = 422
    enrolment = auth_service.begin_enrolment(user.id)
    return totp_setup_page("auth/enrol.html", enrolment, status, form=form)


@bp.post("/logout")
@public
def logout() -> Response:
    """End the session, on the server too: the cookie cannot be used again."""
    form = LogoutForm()
    if form.validate_on_submit():
        locale = session.get("locale")
        token = current_session_token()
        if token is not None and current_user.is_authenticated:
            auth_service.end_session(token, ip=client_ip(), path=request.path)
        logout_user()
        session.clear()
        if locale is not None:
            session["locale"] = locale  # the next page speaks the language of the one that was just left
        flash(_("Sesión cerrada."), "info")
    return redirect(safe_next(None) if current_user.is_authenticated else "/login")


@bp.post("/language")
@public
def language() -> Response:
    """Remember the chosen interface language in the session."""
    form = LanguageForm(current_app.config["LANGUAGES"])
    if form.validate_on_submit():
        session["locale"] = form.locale.data
    return redirect(safe_next(form.next.data))
