"""Rendering account mails (password reset, registration notices) in the recipient's language."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from app.notifications.render import RenderedMail

ACCOUNT_TEMPLATES = {
    "password_reset": "mail/password_reset.txt",
    "account_invitation": "mail/account_invitation.txt",
    "account_exists": "mail/account_exists.txt",
    "account_created": "mail/account_created.txt",
    "email_confirmation": "mail/email_confirmation.txt",
    "email_change": "mail/email_change.txt",
    "email_changed": "mail/email_changed.txt",
    "password_changed": "mail/password_changed.txt",
    "second_factor_changed": "mail/second_factor_changed.txt",
    "second_factor_enabled": "mail/second_factor_enabled.txt",
    "second_factor_removed": "mail/second_factor_removed.txt",
    "recovery_codes_renewed": "mail/recovery_codes_renewed.txt",
    "filing_receipt": "mail/filing_receipt.txt",
}
"""Outbox topics about an account rather than a case, and their templates."""


def render_account_mail(
    topic: str,
    locale: str,
    *,
    name: str,
    url: str,
    minutes: int = 0,
    folio: str = "",
    hours: int = 0,
    procedure_title: str = "",
) -> RenderedMail:
    """The mail for an account ``topic`` in ``locale``; ``procedure_title`` (marked for translation, not yet
    translated) names the procedure of a filing receipt. Raises ``KeyError`` for an unknown topic."""
    template = ACCOUNT_TEMPLATES[topic]
    institution = str(current_app.config["INSTITUTION_NAME"])
    with force_locale(locale):
        procedure = gettext(procedure_title) if procedure_title else ""
        subjects = {
            "password_reset": gettext("Restablecer su contraseña"),
            "account_invitation": gettext("Su cuenta: elija su contraseña"),
            "account_exists": gettext("Intento de registro con su correo electrónico"),
            "account_created": gettext("Su cuenta quedó creada"),
            "email_confirmation": gettext("Confirme su correo electrónico"),
            "email_change": gettext("Confirme su nuevo correo electrónico"),
            "email_changed": gettext("El correo electrónico de su cuenta cambió"),
            "password_changed": gettext("La contraseña de su cuenta cambió"),
            "second_factor_changed": gettext("La verificación en dos pasos de su cuenta cambió de aplicación"),
            "second_factor_enabled": gettext("Se activó la verificación en dos pasos de su cuenta"),
            "second_factor_removed": gettext("Se desactivó la verificación en dos pasos de su cuenta"),
            "recovery_codes_renewed": gettext("Nuevos códigos de recuperación de su cuenta"),
            "filing_receipt": gettext("Acuse de recibo: %(procedure)s", procedure=procedure),
        }
        body = render_template(
            template,
            name=name,
            url=url,
            minutes=minutes,
            institution=institution,
            folio=folio,
            hours=hours,
            procedure=procedure,
        )
    return RenderedMail(f"[{institution}] {subjects[topic]}", body)
