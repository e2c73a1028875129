"""Login and language forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp

from forms import options, strip

EMAIL_SHAPE = r"\A[^@\s]+@[^@\s]+\Z"
"""Something@somewhere. Logging in only needs the shape: the account lookup decides the rest, and stricter
checks (such as email_validator's) refuse reserved domains like ``.local`` that intranet accounts use."""


def email_field(label: Any = None, missing: Any = None) -> EmailField:
    """An e-mail address field: present, something@somewhere, at most 254 characters; ``label`` and ``missing``
    (the message when it is empty) default to the login form's."""
    return EmailField(
        label or _l("Correo electrónico"),
        filters=[strip],
        validators=[
            DataRequired(message=missing or _l("Escriba su correo electrónico.")),
            Regexp(EMAIL_SHAPE, message=_l("El correo electrónico no es válido.")),
            Length(max=254, message=_l("El correo electrónico es demasiado largo.")),
        ],
    )


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = email_field()
    password = PasswordField(
        _l("Contraseña"),
        validators=[
            DataRequired(message=_l("Escriba su contraseña.")),
            Length(max=1024, message=_l("La contraseña es demasiado larga.")),
        ],
    )
    next = HiddenField()
    submit = SubmitField(_l("Entrar"))


class LanguageForm(FlaskForm):
    """Switch the interface language."""

    def __init__(self, languages: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.locale.choices = options((code, code) for code in languages)
        self.locale.validators = [AnyOf(languages, message=_l("Idioma no disponible."))]

    locale = SelectField(_l("Idioma"))
    next = HiddenField()
    submit = SubmitField(_l("Cambiar"))


class LogoutForm(FlaskForm):
    """Logging out is a POST protected by CSRF."""

    submit = SubmitField(_l("Salir"))
