"""Reasons for taking a case from its assignee: a reassignment or a recusal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

REASON_MAX = 2000


class ReasonForm(FlaskForm):
    """A mandatory reason (kept out of the immutable log, which holds only its digest)."""

    reason = TextAreaField(
        _l("Motivo"),
        validators=[
            DataRequired(message=_l("Escriba el motivo.")),
            Length(max=REASON_MAX, message=_l("El motivo admite a lo más %(max)d caracteres.")),
        ],
    )
    submit = SubmitField(_l("Enviar"))
