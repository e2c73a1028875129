"""The applicant's step pages of any procedure: the form a step declares, or one built from its declared fields.

A procedure's step names its own form (``module:Class`` in ``forms/``) or none, and then the form is built here
from the fields the procedure declares (type, catalogue, length, whether it is required). Choices from the
settings catalogues are handed in by the view; forms never query anything.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import Field, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from forms import options, squeeze
from forms.csrf import csrf_token
from workflows.procedure import Field as FieldSpec

YES, NO = "si", "no"
YES_NO = [(YES, _l("Sí")), (NO, _l("No"))]
NUMBER_SHAPE = re.compile(r"\A(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?\Z")
MAX_NUMBER = Decimal("10000000")

Choices = Sequence[tuple[str, Any]]


def yes_no(value: str | None) -> bool | None:
    """The radio answer as a boolean (``None`` when unanswered)."""
    return True if value == YES else False if value == NO else None


def as_answer(value: Any) -> str | None:
    """A stored boolean as the radio answer."""
    return YES if value is True else NO if value is False else None


def number_value(raw: str | None) -> str | None:
    """``raw`` (e.g. ``1,500.50``) as a plain decimal string (``1500.50``), or ``None`` if it is not one."""
    text = (raw or "").strip()
    if not NUMBER_SHAPE.match(text):
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return str(value)


class Number:
    """A positive quantity: digits, optional thousands commas, at most two decimals, at most ``largest``;
    each refusal in the words given (defaults speak of «un número»)."""

    def __init__(
        self,
        *,
        largest: Decimal = MAX_NUMBER,
        shape: Any = None,
        positive: Any = None,
        too_large: Any = None,
    ) -> None:
        self.largest = largest
        self.shape = shape or _l("Escriba un número, p. ej. 1500 o 1,500.50.")
        self.positive = positive or _l("El número debe ser mayor que cero.")
        self.too_large = too_large or _l("El número es demasiado grande.")

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = number_value(field.data)
        if value is None:
            raise ValidationError(self.shape)
        if Decimal(value) <= 0:
            raise ValidationError(self.positive)
        if Decimal(value) > self.largest:
            raise ValidationError(self.too_large)


class _TokenWhenShown(CSRFTokenField):
    """The CSRF token field, its token signed when the field is rendered rather than when the form is built: a
    form that is only validated (a POST that succeeds and redirects) never shows it. The posted token is checked
    as before (by ``CSRFProtect``, or by the field when that did not run)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type = "CSRFTokenField"  # the type templates tell the token apart by (not one of the inputs shown)

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        """Read the posted value only; the token to show is made by :meth:`_value`."""
        HiddenField.process(self, formdata, data, extra_filters)

    def _value(self) -> str:
        if self.current_token is None:
            self.current_token = self.csrf_impl.generate_csrf_token(self)
        return str(self.current_token)


class _CSRFWhenShown(FlaskForm.Meta.csrf_class):
    field_class = _TokenWhenShown

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        """The request's token, signed at most once a minute for the session (:func:`forms.csrf.csrf_token`)."""
        return csrf_token(self.meta.csrf_secret, self.meta.csrf_field_name)


def _hidden_input(field: Any) -> str:
    """The markup WTForms' ``HiddenInput`` gives ``field`` (attributes in its sorted order, values escaped the
    same way), written directly when the field has nothing the widget would add (no ``render_kw``, no
    ``disabled`` flag, a text value); otherwise the widget's own."""
    if type(field.widget) is HiddenInput and not field.render_kw and not getattr(field.flags, "disabled", None):
        value = field._value()
        if type(value) is str:
            return f'<input id="{escape(field.id)}" name="{escape(field.name)}" type="hidden" value="{escape(value)}">'
    return str(field)


class VersionedForm(FlaskForm):
    """A form that changes a case: the version it was shown at and a key that makes a repeat harmless."""

    class Meta:
        csrf_class = _CSRFWhenShown

    # The hidden fields are never labelled on a page; WTForms would derive these same texts from the names
    # through its catalogue on every form built.
    expected_version = HiddenField("Expected Version")
    idempotency_key = HiddenField("Idempotency Key")

    def hidden_tag(self, *fields: Any) -> Markup:
        """Flask-WTF's ``hidden_tag`` (the hidden fields, or those of ``fields`` given as fields or names),
        the same markup: a case page renders one of these forms per action it offers, and WTForms' widget
        (keyword arguments, the flags' ``dir()``, ``Markup.format``) cost about a tenth of the page."""
        shown = []
        for item in fields or self:
            field = getattr(self, item, None) if isinstance(item, str) else item
            if field is not None and isinstance(field.widget, HiddenInput):
                shown.append(_hidden_input(field))
        return Markup("\n".join(shown))  # noqa: S704 - each piece escaped as WTForms escapes it

    def request_data(self) -> dict[str, Any]:
        """The answers as case data (each step says which)."""
        return {}

    def validate_expected_version(self, field: HiddenField) -> None:
        """The hidden version must be a number (a tampered form is refused, not crashed on)."""
        data = field.data or ""
        if not (data.isascii() and data.isdigit() and len(data) <= 18):  # "²" is a digit int() refuses
            raise ValidationError(_l("El formulario llegó incompleto; envíelo de nuevo."))

    def validate_idempotency_key(self, field: HiddenField) -> None:
        """The hidden key must be present and short."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", field.data or ""):
            raise ValidationError(_l("El formulario llegó incompleto; envíelo de nuevo."))


class StepForm(VersionedForm):
    """A step of the applicant's request. Subclasses take the catalogue ``choices`` (field → (code, label)
    pairs) they need, say which answers are case data, and show stored data back."""

    headings: Mapping[str, Any] = {}
    """Sub-headings shown before some fields (field name → text)."""

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = dict(choices or {})

    def fill(self, data: Mapping[str, Any]) -> None:
        """Show the stored case ``data`` in the form's fields."""
        for name, field in self._fields.items():
            if name in data and name not in {"expected_version", "idempotency_key", "csrf_token"}:
                value = data[name]
                field.data = as_answer(value) if isinstance(value, bool) else value


class UploadForm(VersionedForm):
    """One required document (a PDF)."""

    document = FileField(_l("Archivo PDF"))
    submit = SubmitField(_l("Subir"))

    def validate_document(self, field: FileField) -> None:
        """A file must be chosen and named ``*.pdf``; the content itself is checked by the service."""
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError(_l("Elija un archivo PDF."))
        if not str(upload.filename).lower().endswith(".pdf"):
            raise ValidationError(_l("Solo se aceptan archivos PDF."))


class EligibilityBase(FlaskForm):
    """The questions that decide whether a request qualifies for a procedure, asked before anything is filed.
    Subclasses take the catalogue ``choices`` they need and say which answers are case data."""

    idempotency_key = HiddenField()
    check = SubmitField(_l("Revisar elegibilidad"))

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def request_data(self) -> dict[str, Any]:
        """The answers as case data."""
        return {}


class DeclaredEligibilityForm(EligibilityBase):
    """An eligibility form built from the procedure's declared fields (see :func:`declared_eligibility_form`)."""

    specs: tuple[FieldSpec, ...] = ()

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        for spec in self.specs:
            if spec.type == "code":
                self[spec.name].choices = with_blank((choices or {}).get(spec.name, ()))

    def request_data(self) -> dict[str, Any]:
        """The answers as case data, each in its type's canonical form."""
        return _answers(self, self.specs)


def _answers(form: FlaskForm, specs: Sequence[FieldSpec]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in specs:
        raw = form[spec.name].data
        if spec.type == "boolean":
            data[spec.name] = yes_no(raw)
        elif spec.type in {"area", "decimal", "money", "integer"}:
            data[spec.name] = number_value(raw)
        else:
            data[spec.name] = raw or ""
    return data


def declared_eligibility_form(specs: Sequence[FieldSpec]) -> type[EligibilityBase]:
    """An eligibility form class asking for the declared fields ``specs``."""
    attrs: dict[str, Any] = {spec.name: _input(spec) for spec in specs if spec.type not in {"list", "codes"}}
    attrs["specs"] = tuple(spec for spec in specs if spec.name in attrs)
    return type("DeclaredEligibilityForm", (DeclaredEligibilityForm,), attrs)


def load_eligibility_form(dotted: str) -> type[EligibilityBase]:
    """The eligibility form class named ``module:Class``. Raises ``LookupError`` when it is not one."""
    cls = _load(dotted)
    if not issubclass(cls, EligibilityBase):
        raise LookupError(f"form {dotted!r} is not an eligibility form")
    return cls


def with_blank(choices: Choices) -> list[Any]:
    """Select options with a first blank «— Elija —»."""
    return options([("", _l("— Elija —")), *choices])


def _input(spec: FieldSpec) -> Field:
    label = _l(spec.label)
    description = _l(spec.help) if spec.help else ""
    required = [DataRequired(message=_l("Este dato es obligatorio."))] if spec.required else [Optional()]
    if spec.type == "boolean":
        radio_required = [InputRequired(message=_l("Elija «Sí» o «No»."))] if spec.required else [Optional()]
        return RadioField(label, choices=options(YES_NO), validators=radio_required, description=description)
    if spec.type == "code":
        return SelectField(label, choices=[], validate_choice=True, validators=required, description=description)
    if spec.type in {"area", "decimal", "money", "integer"}:
        return StringField(label, filters=[squeeze], validators=[*required, Number()], description=description)
    limit = spec.max_length or 200
    length = Length(max=limit, message=_l("Máximo %(max)d caracteres.", max=limit))
    if limit > 300:
        return TextAreaField(label, validators=[*required, length], description=description)
    return StringField(label, filters=[squeeze], validators=[*required, length], description=description)


class DeclaredStepForm(StepForm):
    """A step form built from the procedure's declared fields (see :func:`declared_step_form`)."""

    specs: tuple[FieldSpec, ...] = ()

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        for spec in self.specs:
            if spec.type == "code":
                self[spec.name].choices = with_blank(self.choices.get(spec.name, ()))

    def request_data(self) -> dict[str, Any]:
        """The answers as case data, each in its type's canonical form."""
        return _answers(self, self.specs)


def declared_step_form(specs: Sequence[FieldSpec]) -> type[StepForm]:
    """A form class asking for the declared fields ``specs`` (``list`` fields need a form of their own)."""
    attrs: dict[str, Any] = {spec.name: _input(spec) for spec in specs if spec.type not in {"list", "codes"}}
    attrs["specs"] = tuple(spec for spec in specs if spec.name in attrs)
    attrs["submit"] = SubmitField(_l("Guardar y continuar"))
    return type("DeclaredStepForm", (DeclaredStepForm,), attrs)


def load_form(dotted: str) -> type[StepForm]:
    """The step form class named ``module:Class`` (a procedure's own form in ``forms/``). Raises
    ``LookupError`` when it does not exist or is not a step form."""
    cls = _load(dotted)
    if not issubclass(cls, StepForm):
        raise LookupError(f"step form {dotted!r} is not a StepForm")
    return cls


def _load(dotted: str) -> type:
    module_name, _, class_name = dotted.partition(":")
    if not module_name.startswith("forms.") or not class_name:
        raise LookupError(f"step form {dotted!r} is not a class of the forms package")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"step form {dotted!r} not found") from exc
    if not isinstance(cls, type):
        raise LookupError(f"form {dotted!r} is not a class")
    return cls
