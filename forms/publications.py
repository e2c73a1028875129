"""Forms of transparency-obligation publications: the area's record (inputs generated from the format's fields),
the unit's and the guarantor's decisions with observations, the guarantor's sampling draw, and the public
filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forms import WholeNumber, YearFilter, options, strip
from forms.steps import UploadForm, VersionedForm

MAX_ROWS = 200
"""A record longer than this is published from the generated source, not typed."""

QUARTERS = [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")]


class RecordForm(VersionedForm):
    """The area's record: one line of inputs per row plus the note. The row inputs are not WTForms fields
    (their number varies); :meth:`rows` reads them as ``row-<n>-<field>``."""

    note = TextAreaField(
        _l("Nota"),
        filters=[strip],
        validators=[Optional(), Length(max=2000, message=_l("Máximo 2000 caracteres."))],
    )
    save = SubmitField(_l("Guardar"))
    send = SubmitField(_l("Guardar y enviar"))

    def __init__(self, field_names: Sequence[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.field_names = tuple(field_names)

    def rows(self, formdata: Mapping[str, Any]) -> list[dict[str, str]]:
        """The typed rows in order (blank rows are dropped by the service), at most :data:`MAX_ROWS`."""
        numbers = sorted(
            {
                int(key.split("-")[1])
                for key in formdata
                if key.startswith("row-") and key.count("-") >= 2 and _row_number(key.split("-")[1])
            }
        )[:MAX_ROWS]
        return [{name: str(formdata.get(f"row-{n}-{name}", ""))[:2000] for name in self.field_names} for n in numbers]


class DecisionForm(VersionedForm):
    """A step of the unit or the guarantor, with its observations (mandatory where the step says so)."""

    comment = TextAreaField(
        _l("Observaciones"),
        filters=[strip],
        validators=[Optional(), Length(max=4000, message=_l("Máximo 4000 caracteres."))],
    )
    submit = SubmitField(_l("Confirmar"))


class SampleForm(FlaskForm):
    """The guarantor's steps on a quarter's sample: the draw after the deadline, the supplementary draw of
    records published after it, and committing the seed of a quarter that has none (one button each)."""

    year = WholeNumber(
        _l("Ejercicio"),
        validators=[
            InputRequired(message=_l("Indique el ejercicio.")),
            NumberRange(min=2000, max=2200, message=_l("El ejercicio debe ser un año entre 2000 y 2200.")),
        ],
    )
    quarter = SelectField(
        _l("Trimestre"), choices=options(QUARTERS), validators=[DataRequired(message=_l("Elija el trimestre."))]
    )
    submit = SubmitField(_l("Realizar el sorteo"))
    supplementary = SubmitField(_l("Sorteo complementario"))
    commit = SubmitField(_l("Comprometer la semilla"))


def _row_number(text: str) -> bool:
    """Whether ``text`` is a row number ``int`` reads (ASCII digits: "²" is a digit too, but not a number)."""
    return text.isascii() and text.isdigit() and len(text) <= 6


class PeriodFilter(YearFilter):
    """The public page's filters (GET, no CSRF): year and quarter, both optional."""

    # blanks are no quarter: Optional() stops the validation of a blank value before the choices are checked
    trimestre = SelectField(
        _l("Trimestre"), choices=options([("", "—"), *QUARTERS]), validators=[Optional()], filters=[strip]
    )


def row_inputs(fields: Sequence[Mapping[str, Any]], count: int) -> list[int]:
    """The row numbers the record form shows (the rows held plus one blank row to add another)."""
    return list(range(1, min(count + 1, MAX_ROWS) + 1)) if fields else []


class AttachmentForm(UploadForm):
    """A PDF annexed to the record (the content is checked by the service)."""

    submit = SubmitField(_l("Anexar"))
