"""Account security forms: second factor, password change, password reset and ending one's other sessions.

Password length limits come from the password policy through the constructor (forms never import the
application); the policy's other rules (common passwords, personal data) are checked by the services.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from forms import strip
from forms.auth import email_field


def new_password_validators(min_length: int, max_length: int) -> list[Any]:
    """Validators of a new password field: present and within the policy's length limits."""
    return [
        DataRequired(message=_l("Escriba una contraseña.")),
        Length(
            min=min_length,
            max=max_length,
            message=_l("La contraseña debe tener entre %(min)s y %(max)s caracteres.", min=min_length, max=max_length),
        ),
    ]


class NewPasswordForm(FlaskForm):
    """A new password and its confirmation (the password-reset page)."""

    def __init__(self, min_length: int, max_length: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.password.validators = new_password_validators(min_length, max_length)
        self.password.description = _l(
            "Al menos %(n)s caracteres. Una frase de varias palabras es fácil de recordar y difícil de adivinar; "
            "no use su nombre, su correo ni contraseñas comunes.",
            n=min_length,
        )

    password = PasswordField(_l("Contraseña nueva"))
    confirm = PasswordField(
        _l("Confirme la contraseña nueva"),
        validators=[
            DataRequired(message=_l("Escriba de nuevo la contraseña.")),
            EqualTo("password", message=_l("Las contraseñas no coinciden.")),
        ],
    )
    submit = SubmitField(_l("Guardar contraseña"))


class PasswordChangeForm(NewPasswordForm):
    """The current password, then a new one (logged-in users)."""

    current = PasswordField(
        _l("Contraseña actual"),
        validators=[
            DataRequired(message=_l("Escriba su contraseña actual.")),
            Length(max=1024, message=_l("La contraseña es demasiado larga.")),
        ],
    )
    submit = SubmitField(_l("Cambiar contraseña"))


class ResetRequestForm(FlaskForm):
    """The e-mail address to send a reset link to."""

    email = email_field()
    submit = SubmitField(_l("Enviar enlace"))


class SecondFactorForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Código de verificación"),
        filters=[strip],
        description=_l(
            "Los seis dígitos que muestra su aplicación de autenticación, o uno de sus códigos de recuperación."
        ),
        validators=[
            DataRequired(message=_l("Escriba el código.")),
            Length(max=20, message=_l("El código es demasiado largo.")),
        ],
    )
    submit = SubmitField(_l("Verificar"))


class EnrolmentForm(FlaskForm):
    """The first code from the authenticator app, confirming it was set up."""

    code = StringField(
        _l("Código de seis dígitos"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba el código.")),
            Regexp(r"\A\d{3} ?\d{3}\Z", message=_l("El código tiene seis dígitos.")),
        ],
    )
    submit = SubmitField(_l("Activar"))


def password_again() -> PasswordField:
    """The logged-in user's password typed again to confirm a sensitive act (ending sessions, a new address)."""
    return PasswordField(
        _l("Su contraseña"),
        validators=[
            DataRequired(message=_l("Escriba su contraseña para confirmar.")),
            Length(max=1024, message=_l("La contraseña es demasiado larga.")),
        ],
    )


class EndSessionsForm(FlaskForm):
    """End one of one's other sessions (``session``: its number) or all of them (empty), with the password
    given again."""

    session = HiddenField(
        validators=[Optional(), Regexp(r"^[0-9]{1,18}$", message=_l("La sesión elegida no es válida."))]
    )
    password = password_again()
    submit = SubmitField(_l("Cerrar sesiones"))


class EmailChangeForm(FlaskForm):
    """A new e-mail address for one's account, with the password given again."""

    email = email_field(_l("Correo electrónico nuevo"))
    password = password_again()
    submit = SubmitField(_l("Enviar el enlace de confirmación"))


def code_of_the_app() -> StringField:
    """A code of one's current authenticator app, or a recovery code, given again to confirm a change of it."""
    return StringField(
        _l("Código de su aplicación o de recuperación"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba el código.")),
            Length(max=20, message=_l("El código es demasiado largo.")),
        ],
    )


class RenewCodesForm(FlaskForm):
    """New recovery codes, with the password and a code given again."""

    password = password_again()
    code = code_of_the_app()
    submit = SubmitField(_l("Generar códigos nuevos"))


class ChangeAppForm(FlaskForm):
    """Move the second factor to another authenticator app, with the password and a code given again."""

    password = password_again()
    code = code_of_the_app()
    submit = SubmitField(_l("Cambiar de aplicación"))


class EnableFactorForm(FlaskForm):
    """Turn the second factor on, with the password given again."""

    password = password_again()
    submit = SubmitField(_l("Activar la verificación en dos pasos"))


class RemoveFactorForm(FlaskForm):
    """Turn the second factor off, with the password and a code given again."""

    password = password_again()
    code = code_of_the_app()
    submit = SubmitField(_l("Desactivar la verificación en dos pasos"))
