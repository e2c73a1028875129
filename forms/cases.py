"""The forms of a case page: one per trigger the user may fire, with the inputs that trigger takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from forms import options
from forms.steps import VersionedForm

PAYMENT_REFERENCE_SHAPE = r"\A[A-Za-z0-9][A-Za-z0-9\-/]{3,39}\Z"
TYPED_INPUTS = ("prevention_items", "observation_items", "land_use_ruling", "payment_reference")
"""The trigger fields people type or choose on a case page (other fields are steps' data or computed)."""


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(VersionedForm):
    """The common part: version, idempotency key, comment and the button."""

    comment = TextAreaField(
        _l("Comentario"), validators=[Optional(), Length(max=4000, message=_l("Máximo 4000 caracteres."))]
    )
    submit = SubmitField(_l("Confirmar"))


def _items(label: Any) -> MultiCheckboxField:
    return MultiCheckboxField(
        label, choices=[], validators=[DataRequired(message=_l("Elija al menos un punto a corregir."))]
    )


def action_form(
    trigger: str,
    fields: Sequence[str],
    comment_required: bool,
    *,
    item_choices: Sequence[tuple[str, Any]] = (),
    **kwargs: Any,
) -> ActionForm:
    """The form for ``trigger``: its typed inputs, and a comment that is mandatory when the transition says
    so. Inputs are prefixed with the trigger so that several forms can share a page; ``kwargs`` go to the
    form (``formdata=None`` for a blank one)."""
    attrs: dict[str, Field] = {}
    if "prevention_items" in fields:
        attrs["prevention_items"] = _items(_l("Puntos que debe corregir el solicitante"))
    if "observation_items" in fields:
        attrs["observation_items"] = _items(_l("Puntos observados"))
    if "land_use_ruling" in fields:
        attrs["land_use_ruling"] = TextAreaField(
            _l("Dictamen de uso de suelo y alineamiento"),
            validators=[
                DataRequired(message=_l("Escriba el dictamen.")),
                Length(max=2000, message=_l("Máximo 2000 caracteres.")),
            ],
        )
    if "payment_reference" in fields:
        attrs["payment_reference"] = StringField(
            _l("Referencia de pago"),
            filters=[lambda v: v.strip() if isinstance(v, str) else v],
            validators=[
                DataRequired(message=_l("Escriba la referencia de pago.")),
                Regexp(
                    PAYMENT_REFERENCE_SHAPE,
                    message=_l("La referencia solo admite letras, números, guiones y diagonales (4 a 40)."),
                ),
            ],
        )
    if comment_required:
        attrs["comment"] = TextAreaField(
            _l("Fundamentación y motivación"),
            validators=[
                DataRequired(message=_l("Escriba la fundamentación y motivación.")),
                Length(max=4000, message=_l("Máximo 4000 caracteres.")),
            ],
        )
    cls = type(f"ActionForm_{trigger}", (ActionForm,), attrs)
    form: ActionForm = cls(prefix=trigger, **kwargs)
    for name in ("prevention_items", "observation_items"):
        if name in attrs:
            form[name].choices = options(item_choices)
    return form


def action_inputs(form: ActionForm) -> dict[str, Any]:
    """The typed inputs of a validated action form, as trigger data."""
    return {name: form[name].data for name in TYPED_INPUTS if name in form}
