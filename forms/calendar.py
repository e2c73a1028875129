"""Declaring the authority's non-working days."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


class NonWorkingDaysForm(FlaskForm):
    """A single day or a range, with the official publication that declares it."""

    first = DateField(_l("Desde"), validators=[DataRequired(message=_l("Indique una fecha válida."))])
    last = DateField(_l("Hasta (opcional)"), validators=[Optional()])
    description = StringField(
        _l("Motivo"),
        validators=[
            DataRequired(message=_l("Indique el motivo.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    gazette_reference = StringField(
        _l("Publicación oficial"),
        validators=[
            DataRequired(message=_l("Indique la publicación oficial que lo declara.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    submit = SubmitField(_l("Declarar inhábil"))

    def validate_last(self, field: DateField) -> None:
        """The end of a range cannot precede its start."""
        if field.data and self.first.data and field.data < self.first.data:
            raise ValidationError(_l("La fecha final es anterior a la inicial."))


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token."""

    submit = SubmitField(_l("Quitar"))
