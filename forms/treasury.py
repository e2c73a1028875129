"""The treasury's forms: confirming one payment at the cashier, importing the bank's reconciliation file."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class ConfirmPaymentForm(FlaskForm):
    """One payment as the cashier receipt shows it."""

    reference = StringField(
        _l("Línea de captura"),
        validators=[
            DataRequired(message=_l("Indique la línea de captura.")),
            Length(max=40, message=_l("Máximo %(max)d caracteres.", max=40)),
        ],
    )
    amount = StringField(
        _l("Importe pagado"),
        validators=[
            DataRequired(message=_l("Indique el importe.")),
            Length(max=20, message=_l("Máximo %(max)d caracteres.", max=20)),
        ],
    )
    paid_on = DateField(_l("Fecha de pago"), validators=[DataRequired(message=_l("Indique una fecha válida."))])
    operation = StringField(
        _l("Número de operación"),
        validators=[
            DataRequired(message=_l("Indique el número de operación.")),
            Length(max=40, message=_l("Máximo %(max)d caracteres.", max=40)),
        ],
    )
    submit = SubmitField(_l("Confirmar el pago"))


class BankFileForm(FlaskForm):
    """The bank's or treasury's reconciliation file (CSV)."""

    file = FileField(_l("Archivo de conciliación (CSV)"), validators=[FileRequired(message=_l("Elija un archivo."))])
    submit = SubmitField(_l("Importar pagos"))
