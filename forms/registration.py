"""Registering as an applicant."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from forms import strip
from forms.account import new_password_validators
from forms.auth import EMAIL_SHAPE


class RegistrationForm(FlaskForm):
    """Name, e-mail, password and its confirmation. The password's length limits come from the policy through
    the constructor; its other rules are checked by the registration service."""

    def __init__(self, min_length: int, max_length: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.password.validators = new_password_validators(min_length, max_length)
        self.password.description = _l(
            "Al menos %(n)s caracteres; una frase de varias palabras sirve. No use su nombre, su correo ni "
            "contraseñas comunes.",
            n=min_length,
        )

    display_name = StringField(
        _l("Nombre completo"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba su nombre completo.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    email = EmailField(
        _l("Correo electrónico"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba su correo electrónico.")),
            Regexp(EMAIL_SHAPE, message=_l("El correo electrónico no es válido.")),
            Length(max=254, message=_l("El correo electrónico es demasiado largo.")),
        ],
    )
    password = PasswordField(_l("Contraseña"))
    confirm = PasswordField(
        _l("Confirme la contraseña"),
        validators=[
            DataRequired(message=_l("Escriba de nuevo la contraseña.")),
            EqualTo("password", message=_l("Las contraseñas no coinciden.")),
        ],
    )
    form_key = HiddenField()
    """This form's own key (fresh each time it is shown): sent twice, it registers once."""
    submit = SubmitField(_l("Crear cuenta"))


class ConfirmEmailForm(FlaskForm):
    """The button that confirms an e-mail address (only the CSRF token travels)."""

    submit = SubmitField(_l("Confirmar mi correo electrónico"))
