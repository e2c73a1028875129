"""Registering and answering data-protection (ARCO) requests."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms import options, strip

EMAIL_SHAPE = r"\A[^@\s]+@[^@\s]+\Z"

KIND_CHOICES = [
    ("access", _l("Acceso")),
    ("rectification", _l("Rectificación")),
    ("cancellation", _l("Cancelación")),
    ("opposition", _l("Oposición")),
]
"""The four ARCO rights, by their stored codes."""


class RegisterRequestForm(FlaskForm):
    """Who asks (the e-mail address of their account), for what, and when the request was received."""

    email = EmailField(
        _l("Correo electrónico de la cuenta"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba el correo electrónico de la cuenta.")),
            Regexp(EMAIL_SHAPE, message=_l("El correo electrónico no es válido.")),
            Length(max=254, message=_l("El correo electrónico es demasiado largo.")),
        ],
    )
    kind = SelectField(
        _l("Derecho que ejerce"),
        choices=options(KIND_CHOICES),
        validators=[DataRequired(message=_l("Elija el derecho que ejerce."))],
    )
    received_on = DateField(
        _l("Fecha de recepción"), validators=[DataRequired(message=_l("Indique una fecha válida."))]
    )
    form_key = HiddenField()
    """This form's own key (fresh each time it is shown): sent twice, it registers one request."""
    submit = SubmitField(_l("Registrar solicitud"))


class RectificationForm(FlaskForm):
    """The corrected name and/or e-mail address (at least one)."""

    display_name = StringField(
        _l("Nombre corregido"),
        filters=[strip],
        validators=[Optional(), Length(max=200, message=_l("Máximo 200 caracteres."))],
    )
    email = EmailField(
        _l("Correo electrónico corregido"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(EMAIL_SHAPE, message=_l("El correo electrónico no es válido.")),
            Length(max=254, message=_l("El correo electrónico es demasiado largo.")),
        ],
    )
    submit = SubmitField(_l("Aplicar la rectificación"))


class ResolveForm(FlaskForm):
    """A button that only carries the CSRF token (access, cancellation, opposition)."""

    submit = SubmitField(_l("Atender la solicitud"))
