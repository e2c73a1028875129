"""Applicants create their own account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.extensions import limiter
from app.services import confirmation
from app.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.services.registration import register_applicant
from app.web.access import public
from app.web.auth.support import redirected, registration_email_key, reset_limit_per_account, reset_limit_per_ip
from app.web.cases.actions import new_key
from app.web.labels import message_text
from forms.registration import ConfirmEmailForm, RegistrationForm

bp = Blueprint("registration", __name__)


@bp.route("/registro", methods=["GET", "POST"])
@public
@limiter.limit(reset_limit_per_ip, methods=["POST"])
@limiter.limit(reset_limit_per_account, methods=["POST"], key_func=registration_email_key, deduct_when=redirected)
def register() -> str | Response | tuple[str, int]:
    """Show the registration form and create the applicant account, which logs in once its address is
    confirmed. The answer is the same whether or not the address already had an account (its owner is told by
    mail), so the page reveals no addresses."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
    if form.validate_on_submit():
        try:
            register_applicant(
                form.display_name.data or "",
                form.email.data or "",
                form.password.data or "",
                form_key=(form.form_key.data or "")[:64] or None,
            )
        except DomainError as exc:
            form.password.errors = [*form.password.errors, message_text(exc.message)]
            form.form_key.data = new_key()
            return render_template("registration/register.html", form=form), 422
        flash(
            _(
                "Le enviamos un correo electrónico a %(email)s. Siga el enlace que contiene para confirmar su "
                "dirección; después podrá iniciar sesión con la contraseña que eligió.",
                email=form.email.data or "",
            ),
            "info",
        )
        return redirect(url_for("auth.login", next=url_for("construction.index")))
    form.form_key.data = new_key()  # a form shown again is a new registration
    if form.is_submitted():
        return render_template("registration/register.html", form=form), 422
    return render_template("registration/register.html", form=form)


@bp.route("/confirmar-correo/<token>", methods=["GET", "POST"])
@public
@limiter.limit(reset_limit_per_ip, methods=["POST"])
def confirm_email(token: str) -> str | Response | tuple[str, int]:
    """Confirm an e-mail address through its single-use link. Opening the link changes nothing (mail
    scanners open links too); the button on the page does."""
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            done = confirmation.confirm(token)
        except DomainError as exc:
            flash(message_text(exc.message), "error")
            return render_template("registration/confirm.html", form=None), 404
        if done.purpose == confirmation.EMAIL_CHANGE:
            flash(_("El correo electrónico de su cuenta cambió; desde ahora inicia sesión con el nuevo."), "info")
            return redirect(url_for("auth.login"))
        if done.purpose == confirmation.REGISTRATION:
            flash(_("Su correo electrónico quedó confirmado y su cuenta creada. Ya puede iniciar sesión."), "info")
            return redirect(url_for("auth.login"))
        flash(_("Su correo electrónico quedó confirmado. Le enviamos el acuse con su enlace de seguimiento."), "info")
        return redirect(url_for("transparency.lookup"))
    if not confirmation.is_valid(token):
        flash(message_text(confirmation.INVALID_CONFIRMATION), "error")
        return render_template("registration/confirm.html", form=None), 404
    return render_template("registration/confirm.html", form=form)
