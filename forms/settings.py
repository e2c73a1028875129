"""The jurisdiction's settings of a procedure, built from the list of settings the view hands in."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FieldList,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import Form as BaseForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from forms import WholeNumber, options
from forms.construction import Area, area_value

CODE = re.compile(r"\A[a-z0-9][a-z0-9_]{1,63}\Z")
FEE_ROWS_EXTRA = 3


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting on the form: its key, kind of input, label, help text and (for choices) the options."""

    key: str
    kind: str
    label: Any
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class Codes:
    """One code per line: lowercase letters, digits and underscores, at least one line."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        lines = _lines(field.data)
        if not lines:
            raise ValidationError(_l("Escriba al menos un código."))
        bad = [line for line in lines if not CODE.match(line)]
        if bad:
            raise ValidationError(
                _l(
                    "Cada renglón debe ser un código en minúsculas, sin espacios ni acentos (p. ej. %(example)s): "
                    "%(bad)s",
                    example="comercio_abarrotes",
                    bad=", ".join(bad[:5]),
                )
            )


MAX_LABEL = 200
"""The longest description of a requirement or concept of a fee, in Spanish and in English alike."""


_BAR = re.compile(r"(?<!\\)\|")
"""A bar that separates a requirement line's parts: one not written ``\\|`` (a bar within a description)."""


def _requirement_parts(line: str) -> list[str]:
    """A requirement line's parts, stripped, with runs of spaces made one: its code, Spanish description and,
    when given, English description, of ``código | Descripción`` or ``código | Descripción | Description``
    (more than three when the line has more bars). A bar written ``\\|`` stays in its description as ``|``."""
    return [" ".join(part.replace("\\|", "|").split()) for part in _BAR.split(line)]


def printable(form: Any, field: Field) -> None:
    """A text without control characters (tabs and line breaks included)."""
    if field.data and not str(field.data).isprintable():
        raise ValidationError(_l("No use caracteres de control."))


class Requirements:
    """One requirement per line: ``código | Descripción``, optionally followed by ``| Description`` in English."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        lines = _lines(field.data)
        if not lines:
            raise ValidationError(_l("Escriba al menos un requisito."))
        seen: set[str] = set()
        for line in lines:
            parts = _requirement_parts(line)
            code, label, english = (*parts, "", "")[:3]
            if not CODE.match(code) or not label:
                raise ValidationError(
                    _l("Cada renglón debe tener la forma «código | Descripción»: %(line)s", line=line[:80])
                )
            if len(parts) > 3:
                raise ValidationError(
                    _l(
                        "Tras la descripción va, si acaso, una sola en inglés: «código | Descripción | "
                        "Description»; una barra dentro de una descripción se escribe «\\|»: %(line)s",
                        line=line[:80],
                    )
                )
            if len(label) > MAX_LABEL or len(english) > MAX_LABEL:
                raise ValidationError(
                    _l(
                        "Cada descripción admite hasta %(max)s caracteres, en español y en inglés: %(line)s",
                        max=MAX_LABEL,
                        line=line[:80],
                    )
                )
            if not (label + english).isprintable():
                raise ValidationError(_l("No use caracteres de control: %(line)s", line=code))
            if code in seen:
                raise ValidationError(_l("El requisito «%(code)s» está repetido.", code=code))
            seen.add(code)


def parse_requirements(text: str | None) -> list[dict[str, str]]:
    """The requirement lines as a list of kinds and labels, with ``label_en`` where an English description
    was given."""
    result = []
    for line in _lines(text):
        code, label, english = (*_requirement_parts(line), "", "")[:3]
        item = {"kind": code, "label": label}
        if english:
            item["label_en"] = english
        result.append(item)
    return result


def requirements_text(items: Sequence[Any]) -> str:
    """A requirements setting as the lines of its input (the inverse of :func:`parse_requirements`)."""
    lines = []
    for item in items:
        english = item.get("label_en") if isinstance(item, dict) else None
        line = f"{item['kind']} | {_bars_kept(str(item['label']))}"
        lines.append(f"{line} | {_bars_kept(english)}" if english else line)
    return "\n".join(lines)


def _bars_kept(description: str) -> str:
    """A description as a requirement line writes it: a bar within it as ``\\|``, so that it is read back as
    part of the description, not as the start of the next part."""
    return description.replace("|", "\\|")


def _cents_within(data: str | None, most: int) -> bool:
    """Whether ``data`` is a finite decimal from 0 to ``most`` with at most two decimals."""
    try:
        value = Decimal((data or "").strip())
    except InvalidOperation:
        return False
    return value.is_finite() and 0 <= value <= most and value == value.quantize(Decimal("0.01"))


class Percent:
    """A percentage from 0 to 100 with at most two decimals."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not _cents_within(field.data, 100):
            raise ValidationError(_l("Escriba un porcentaje de 0 a 100 (p. ej. 20 o 12.5)."))


class Money:
    """An amount in pesos, zero or more, with at most two decimals."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not _cents_within(field.data, 10**8):
            raise ValidationError(_l("Escriba un importe en pesos, cero o mayor (p. ej. 0 o 85.50)."))


class FeeRowForm(BaseForm):
    """One row of the fee table; an entirely blank row is ignored."""

    concept = StringField(
        _l("Concepto"),
        validators=[Optional(), Length(max=MAX_LABEL, message=_l("Máximo 200 caracteres.")), printable],
    )
    concept_en = StringField(
        _l("Concepto en inglés (opcional)"),
        validators=[Optional(), Length(max=MAX_LABEL, message=_l("Máximo 200 caracteres.")), printable],
    )
    unit = SelectField(_l("Unidad"), choices=options([("m2", _l("por m² construido")), ("fixed", _l("cuota fija"))]))
    rate = StringField(_l("Tarifa ($)"), validators=[Optional()])
    legal_basis = StringField(
        _l("Fundamento legal"),
        validators=[Optional(), Length(max=500, message=_l("Máximo 500 caracteres.")), printable],
    )

    def blank(self) -> bool:
        """Whether the row was left empty."""
        return not any((f.data or "").strip() for f in (self.concept, self.concept_en, self.rate, self.legal_basis))

    def validate(self, extra_validators: Any = None) -> bool:
        """A row that is not blank needs a concept, a rate (a number) and its legal basis."""
        ok = super().validate(extra_validators)
        if self.blank():
            return ok
        if not (self.concept.data or "").strip():
            self.concept.errors = [*self.concept.errors, _l("Escriba el concepto.")]
            ok = False
        rate = area_value(self.rate.data)
        if rate is None and (self.rate.data or "").strip() != "0":
            self.rate.errors = [*self.rate.errors, _l("Escriba la tarifa en pesos, p. ej. 12.50.")]
            ok = False
        if not (self.legal_basis.data or "").strip():
            self.legal_basis.errors = [*self.legal_basis.errors, _l("Cite el fundamento legal de la tarifa.")]
            ok = False
        return ok


MAX_JSON_NESTING = 32
"""Deepest nesting of arrays and objects in a setting typed as JSON (the structured settings use a few levels)."""


def _too_deep(value: Any) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_JSON_NESTING:
                return True
            stack.extend((member, depth + 1) for member in (item.values() if isinstance(item, dict) else item))
    return False


def json_text(form: Any, field: Any) -> None:
    """A structured setting typed as JSON must parse, without NaN or infinities and nested at most
    ``MAX_JSON_NESTING`` levels (its content is checked by the workflow's parser)."""
    try:
        value = json.loads(field.data or "", parse_constant=_refuse_constant)
    except RecursionError:  # nested past what the reader can follow
        raise ValidationError(_l("El JSON tiene demasiados niveles anidados.")) from None
    except ValueError as exc:
        raise ValidationError(_l("No es JSON válido: %(error)s", error=str(exc))) from None
    if _too_deep(value):
        raise ValidationError(_l("El JSON tiene demasiados niveles anidados."))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} no es un número de JSON")


class SettingsFormBase(FlaskForm):
    """The button; the settings' fields are added by :func:`settings_form`."""

    submit = SubmitField(_l("Guardar configuración"))


def settings_form(specs: Sequence[SettingSpec], offices: Sequence[tuple[str, Any]] = (), **kwargs: Any) -> FlaskForm:
    """A form with one input per setting in ``specs`` (and one department choice per office)."""
    attrs: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "int":
            attrs[spec.key] = WholeNumber(
                spec.label,
                description=spec.help,
                validators=[
                    InputRequired(message=_l("Escriba un número entero.")),
                    NumberRange(min=0, max=3650, message=_l("Escriba un número entero de 0 a 3650.")),
                ],
            )
        elif spec.kind == "decimal":
            attrs[spec.key] = StringField(
                spec.label,
                description=spec.help,
                validators=[DataRequired(message=_l("Escriba un número.")), Area()],
            )
        elif spec.kind == "codes":
            attrs[spec.key] = TextAreaField(spec.label, description=spec.help, validators=[Codes()])
        elif spec.kind == "requirements":
            attrs[spec.key] = TextAreaField(spec.label, description=spec.help, validators=[Requirements()])
        elif spec.kind == "choice":
            attrs[spec.key] = SelectField(spec.label, description=spec.help, choices=options(spec.choices))
        elif spec.kind == "rate":
            attrs[spec.key] = StringField(spec.label, description=spec.help, validators=[Percent()])
        elif spec.kind == "money":
            attrs[spec.key] = StringField(spec.label, description=spec.help, validators=[Money()])
        elif spec.kind == "fees":
            attrs[spec.key] = FieldList(FormField(FeeRowForm), label=spec.label, description=spec.help)
        elif spec.kind == "departments":
            for office, label in offices:
                attrs[f"department__{office}"] = SelectField(label, choices=options(spec.choices))
        elif spec.kind == "secret":
            attrs[spec.key] = StringField(
                spec.label,
                description=spec.help,
                validators=[
                    DataRequired(message=_l("Este dato es obligatorio.")),
                    Length(min=16, max=200, message=_l("Escriba de 16 a 200 caracteres.")),
                ],
            )
        elif spec.kind == "json":
            attrs[spec.key] = TextAreaField(
                spec.label,
                description=spec.help,
                validators=[DataRequired(message=_l("Este dato es obligatorio.")), json_text],
            )
        else:
            raise ValueError(f"unknown kind of setting {spec.kind!r}")
    cls = type("SettingsForm", (SettingsFormBase,), attrs)
    form: FlaskForm = cls(**kwargs)
    return form
