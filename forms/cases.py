"""The forms of a case page: one per trigger the user may fire, with the inputs that trigger takes (built from
the procedure's declared fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from forms import options, strip
from forms.steps import VersionedForm
from workflows.procedure import Field as FieldSpec


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(VersionedForm):
    """The common part: version, idempotency key, comment and the button."""

    input_names: tuple[str, ...] = ()
    """The step's own inputs, in order."""

    comment = TextAreaField(
        _l("Comentario"), validators=[Optional(), Length(max=4000, message=_l("Máximo 4000 caracteres."))]
    )
    submit = SubmitField(_l("Confirmar"))


def _input(spec: FieldSpec) -> Field:
    """The input a case page offers for the declared field ``spec`` that a step writes."""
    label = _l(spec.label)
    if spec.type == "codes":
        message = _l("Elija al menos un punto a corregir.") if spec.required else None
        return MultiCheckboxField(label, choices=[], validators=[DataRequired(message=message)] if message else [])
    required = [DataRequired(message=_l("Este dato es obligatorio."))] if spec.required else [Optional()]
    limit = spec.max_length or 200
    checks: list[Any] = [*required, Length(max=limit, message=_l("Máximo %(max)d caracteres.", max=limit))]
    if spec.pattern:
        checks.append(Regexp(rf"\A(?:{spec.pattern})\Z", message=_l(spec.pattern_message or "Formato no válido.")))
    if limit > 300:
        return TextAreaField(label, validators=checks)
    return StringField(label, filters=[strip], validators=checks)


_CLASSES: dict[tuple[str, tuple[FieldSpec, ...], bool], type[ActionForm]] = {}
MAX_CLASSES = 1_000
"""Form classes kept per process (a class per trigger and its declared inputs: a bounded set)."""


def _form_class(trigger: str, inputs: tuple[FieldSpec, ...], comment_required: bool) -> type[ActionForm]:
    """The form class of a trigger taking ``inputs``, built once per process: building a WTForms class costs
    more than the form itself. Its labels and messages are lazy texts, translated when shown."""
    key = (trigger, inputs, comment_required)
    cls = _CLASSES.get(key)
    if cls is not None:
        return cls
    attrs: dict[str, Any] = {spec.name: _input(spec) for spec in inputs}
    attrs["input_names"] = tuple(spec.name for spec in inputs)
    if comment_required:
        attrs["comment"] = TextAreaField(
            _l("Fundamentación y motivación"),
            validators=[
                DataRequired(message=_l("Escriba la fundamentación y motivación.")),
                Length(max=4000, message=_l("Máximo 4000 caracteres.")),
            ],
        )
    cls = type(f"ActionForm_{trigger}", (ActionForm,), attrs)
    if len(_CLASSES) >= MAX_CLASSES:
        _CLASSES.clear()
    _CLASSES[key] = cls
    return cls


def action_form(
    trigger: str,
    inputs: Sequence[FieldSpec],
    comment_required: bool,
    *,
    item_choices: Sequence[tuple[str, Any]] = (),
    **kwargs: Any,
) -> ActionForm:
    """The form for ``trigger``: an input for each declared field it takes from a person (``inputs``), and a
    comment that is mandatory when the transition says so. Inputs are prefixed with the trigger so that several
    forms can share a page; ``kwargs`` go to the form (``formdata=None`` for a blank one). ``item_choices``
    are what a list of points (a correction's items) may name: documents and parts of the request."""
    form: ActionForm = _form_class(trigger, tuple(inputs), comment_required)(prefix=trigger, **kwargs)
    for spec in inputs:
        if spec.type == "codes":
            form[spec.name].choices = options(item_choices)
    return form


def action_inputs(form: ActionForm) -> dict[str, Any]:
    """The typed inputs of a validated action form, as trigger data."""
    return {name: form[name].data for name in form.input_names}
