"""The administrators' account forms: a new staff account, give a role, take one, and the confirmed acts on an
account (end its sessions, deactivate it, remove its second factor). The roles and departments offered come from
the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms import options, squeeze, strip
from forms.auth import email_field


class GrantForm(FlaskForm):
    """A role to give, in a department or in none (who serves every department)."""

    role = SelectField(_l("Rol"), validators=[InputRequired(message=_l("Elija un rol."))], validate_choice=True)
    department = SelectField(_l("Área"), validators=[Optional()], validate_choice=True)
    submit = SubmitField(_l("Dar el rol"))


class RevokeForm(FlaskForm):
    """A role held, as ``role:department``, to take away."""

    held = StringField(
        validators=[DataRequired(message=_l("Elija el rol que retira.")), Length(max=200)], filters=[strip]
    )
    submit = SubmitField(_l("Retirar"))


class ConfirmForm(FlaskForm):
    """An act on an account that its checkbox confirms."""

    confirm = BooleanField(validators=[DataRequired(message=_l("Marque la casilla para confirmar."))])
    submit = SubmitField(_l("Confirmar"))


class NewAccountForm(GrantForm):
    """A public servant's account: their name, their address (where the link to choose the password goes) and a
    first role; more roles are given on the account's page."""

    display_name = StringField(
        _l("Nombre completo"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Escriba el nombre completo.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    email = email_field(missing=_l("Escriba el correo electrónico."))
    locale = SelectField(
        _l("Idioma de la cuenta"),
        choices=options([("es_MX", "Español (México)"), ("en", "English")]),
        default="es_MX",
        validate_choice=True,
    )
    submit = SubmitField(_l("Crear la cuenta y enviar el enlace"))
