"""Registering as an applicant."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from forms.auth import EMAIL_SHAPE

MIN_PASSWORD_LENGTH = 12


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class RegistrationForm(FlaskForm):
    """Name, e-mail, password and its confirmation."""

    display_name = StringField(
        _l("Nombre completo"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Escriba su nombre completo.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    email = EmailField(
        _l("Correo electrónico"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Escriba su correo electrónico.")),
            Regexp(EMAIL_SHAPE, message=_l("El correo electrónico no es válido.")),
            Length(max=254, message=_l("El correo electrónico es demasiado largo.")),
        ],
    )
    password = PasswordField(
        _l("Contraseña"),
        description=_l("Al menos 12 caracteres; no use su correo electrónico."),
        validators=[
            DataRequired(message=_l("Escriba una contraseña.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("La contraseña debe tener entre 12 y 1024 caracteres."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Confirme la contraseña"),
        validators=[
            DataRequired(message=_l("Escriba de nuevo la contraseña.")),
            EqualTo("password", message=_l("Las contraseñas no coinciden.")),
        ],
    )
    submit = SubmitField(_l("Crear cuenta"))

    def validate_password(self, field: PasswordField) -> None:
        """The password may not be the e-mail address."""
        if field.data and self.email.data and field.data.strip().lower() == self.email.data.strip().lower():
            raise ValidationError(_l("La contraseña no puede ser igual a su correo electrónico."))
