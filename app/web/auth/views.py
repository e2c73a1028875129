"""Login, logout and language choice."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.extensions import login_manager
from app.models import User
from app.services.users import authenticate, get_user
from app.web.navigation import safe_next
from forms.auth import LanguageForm, LoginForm, LogoutForm

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Inicie sesión para continuar.")
login_manager.localize_callback = str  # renders the lazy message in the request's language before flashing
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: only active users stay logged in."""
    if not user_id.isdigit():
        return None
    user = get_user(int(user_id))
    return user if user is not None and user.active else None


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            session.clear()
            login_user(user)
            session["locale"] = user.locale.value
            current_app.logger.info("login ok user=%s", user.id)
            return redirect(safe_next(form.next.data))
        current_app.logger.info("login failed")
        flash(_("Correo electrónico o contraseña incorrectos."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    form = LogoutForm()
    if form.validate_on_submit():
        locale = session.get("locale")
        logout_user()
        session.clear()
        if locale is not None:
            session["locale"] = locale  # the next page speaks the language of the one that was just left
        flash(_("Sesión cerrada."), "info")
    return redirect(safe_next(None) if current_user.is_authenticated else "/login")


@bp.post("/language")
def language() -> Response:
    """Remember the chosen interface language in the session."""
    form = LanguageForm(current_app.config["LANGUAGES"])
    if form.validate_on_submit():
        session["locale"] = form.locale.data
    return redirect(safe_next(form.next.data))
