"""Applicants create their own account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.extensions import limiter
from app.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.services.registration import register_applicant
from app.web.access import public
from app.web.auth.support import reset_limit_per_ip
from app.web.labels import message_text
from forms.registration import RegistrationForm

bp = Blueprint("registration", __name__)


@bp.route("/registro", methods=["GET", "POST"])
@public
@limiter.limit(reset_limit_per_ip, methods=["POST"])
def register() -> str | Response | tuple[str, int]:
    """Show the registration form and create the applicant account. The answer is the same whether or not
    the address already had an account (its owner is told by mail), so the page reveals no addresses."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
    if form.validate_on_submit():
        try:
            register_applicant(form.display_name.data or "", form.email.data or "", form.password.data or "")
        except DomainError as exc:
            form.password.errors = [*form.password.errors, message_text(exc.message)]
            return render_template("registration/register.html", form=form), 422
        flash(
            _(
                "Le enviamos un correo electrónico a %(email)s. Si la cuenta es nueva, ya puede iniciar sesión con "
                "la contraseña que eligió.",
                email=form.email.data or "",
            ),
            "info",
        )
        return redirect(url_for("auth.login", next=url_for("construction.index")))
    if form.is_submitted():
        return render_template("registration/register.html", form=form), 422
    return render_template("registration/register.html", form=form)
