"""Applicants create their own account."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.services.registration import register_applicant
from app.services.users import get_user
from app.web.labels import message_text
from forms.registration import RegistrationForm

bp = Blueprint("registration", __name__)


@bp.route("/registro", methods=["GET", "POST"])
def register() -> str | Response | tuple[str, int]:
    """Show the registration form; create the applicant account and log them in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user_id = register_applicant(form.display_name.data or "", form.email.data or "", form.password.data or "")
        except DomainError as exc:
            form.email.errors = [*form.email.errors, message_text(exc.message)]
            return render_template("registration/register.html", form=form), 422
        user = get_user(user_id)
        if user is None:  # pragma: no cover - the account was created in this request
            return redirect(url_for("auth.login"))
        locale = session.get("locale")
        session.clear()
        login_user(user)
        if locale:
            session["locale"] = locale
        current_app.logger.info("registered user=%s", user.id)
        flash(_("Cuenta creada. Bienvenida o bienvenido, %(name)s.", name=user.display_name), "info")
        return redirect(url_for("construction.index"))
    if form.is_submitted():
        return render_template("registration/register.html", form=form), 422
    return render_template("registration/register.html", form=form)
