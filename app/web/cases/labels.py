"""How case data, catalogue codes and engine reasons read on the case pages (translated at display time)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.engine import Msg
from app.models import Role
from app.services.construction import OTHER
from app.web.labels import message_text, role_label
from app.web.translation import format_date, format_decimal, gettext
from workflows import REGISTRY
from workflows.base import Workflow
from workflows.procedure import Field, Procedure


def procedure_of(workflow: Workflow) -> Procedure | None:
    """The installed procedure ``workflow`` belongs to (``None`` for a workflow no procedure declares)."""
    return REGISTRY.get(workflow.name) if workflow.name in REGISTRY else None


def field_label(workflow: Workflow, name: str) -> str:
    """The translated label of the data field ``name`` as the procedure declares it (the key itself only
    for a field no declaration names, which a test forbids for the installed procedures)."""
    procedure = procedure_of(workflow)
    declared = procedure.find_field(name) if procedure is not None else None
    return str(gettext(declared.label)) if declared is not None else name


def code_choices(workflow: Workflow, field_name: str, codes: list[str]) -> list[tuple[str, str]]:
    """The (code, words) choices of a catalogued field: the words the procedure declares for a code, else
    the code as words; then «another» (a value outside the catalogue)."""
    procedure = procedure_of(workflow)
    declared = procedure.find_field(field_name) if procedure is not None else None
    labels = dict(declared.labels) if declared is not None else {}
    words = [(code, str(gettext(labels[code])) if code in labels else code_label(code)) for code in codes]
    return [*words, (OTHER, code_label(OTHER))]


def section_choices(workflow: Workflow) -> list[tuple[str, str]]:
    """The parts of the request a correction may point at (besides the documents), translated."""
    procedure = procedure_of(workflow)
    sections = procedure.presentation.sections if procedure is not None else ()
    return [(section.code, str(gettext(section.label))) for section in sections]


def code_label(code: Any) -> str:
    """A catalogue code as words (``comercio_abarrotes`` → ``Comercio abarrotes``); catalogues are data."""
    text = str(code or "")
    if text == OTHER:
        return str(gettext("Otro giro o tipo (no listado)"))
    return text.replace("_", " ").strip().capitalize()


def area_text(value: Any) -> str:
    """An area in m² in the request's language (``1,500.5 m²``)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{format_decimal(number)!s} m²"


def money_text(value: Any) -> str:
    """An amount in pesos with two decimals."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return "$" + str(format_decimal(number, format="#,##0.00"))


def item_label(code: str, requirement_labels: Mapping[str, str], workflow: Workflow | None = None) -> str:
    """What a prevención or observation item refers to: a document kind or a part of the data."""
    if workflow is not None:
        sections = dict(section_choices(workflow))
        if code in sections:
            return sections[code]
    return requirement_labels.get(code) or code_label(code)


def _number(value: Any, places: int | None) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return number.quantize(Decimal(1).scaleb(-places)) if places is not None else number


def _item_text(declared: Field, item: Any, requirement_labels: Mapping[str, str], workflow: Workflow) -> str:
    labels = dict(declared.labels)
    if isinstance(item, Mapping):
        if not declared.item_format:
            return ", ".join(f"{k}: {v}" for k, v in item.items())
        words = {k: (str(gettext(labels[str(v)])) if str(v) in labels else v) for k, v in item.items()}
        try:
            return declared.item_format.format_map(_Blank(words))
        except (ValueError, IndexError):
            return ", ".join(str(v) for v in item.values())
    text = str(item)
    return str(gettext(labels[text])) if text in labels else item_label(text, requirement_labels, workflow)


class _Blank(dict[str, Any]):
    """Format values where a missing key reads as a dash instead of failing."""

    def __missing__(self, key: str) -> str:
        return "—"


def value_text(declared: Field, value: Any, requirement_labels: Mapping[str, str], workflow: Workflow) -> str:
    """A stored data value as people read it, by the field's declared type."""
    if value in (None, "", [], ()):
        return "—"
    kind = declared.type
    if kind == "boolean" or isinstance(value, bool):
        return str(gettext("Sí") if value is True else gettext("No") if value is False else value)
    if kind in {"area", "money", "decimal", "integer"}:
        number = _number(value, 0 if kind == "integer" else declared.places if kind != "money" else 2)
        if number is None:
            return str(value)
        if kind == "area":
            return area_text(number)
        if kind == "money":
            return money_text(number)
        return str(format_decimal(number))
    if kind == "code":
        labels = dict(declared.labels)
        return str(gettext(labels[str(value)])) if str(value) in labels else code_label(value)
    if kind == "date":
        try:
            return str(format_date(date.fromisoformat(str(value)), format="long"))
        except ValueError:
            return str(value)
    if kind in {"codes", "list"} and isinstance(value, list | tuple):
        return "; ".join(_item_text(declared, item, requirement_labels, workflow) for item in value) or "—"
    return str(value)


def data_rows(
    workflow: Workflow, data: Mapping[str, Any], requirement_labels: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(label, value) of the case data worth showing, in the order the procedure declares its fields."""
    procedure = procedure_of(workflow)
    if procedure is None:
        return []
    return [
        (str(gettext(declared.label)), value_text(declared, data[declared.name], requirement_labels, workflow))
        for declared in procedure.fields
        if declared.name in data and not declared.hidden
    ]


def state_text(workflow: Workflow, name: str | None) -> str:
    """The translated description of the state ``name`` of ``workflow``."""
    if not name:
        return ""
    try:
        return str(gettext(workflow.state(name).description))
    except KeyError:
        return name


def trigger_text(workflow: Workflow, trigger: str) -> str:
    """The translated description of ``trigger``."""
    for t in workflow.transitions:
        if t.trigger == trigger:
            return str(gettext(t.description))
    return trigger


def actor_text(role: str, department: str | None, department_names: Mapping[str, str], act: str | None = None) -> str:
    """A role (and department) as people read it: ``Dictaminador · Dirección de Desarrollo Urbano``, with
    what they do when ``act`` (a msgid) says it: ``Tesorería · Tesorería Municipal: confirma el pago``."""
    try:
        label = role_label(Role(role))
    except ValueError:
        label = str(gettext("Sistema (plazos y sorteos)")) if role == "system" else role
    if department:
        label = f"{label} · {department_names.get(department, department)}"
    return f"{label}: {gettext(act)}" if act else label


def reason_text(
    message: Msg,
    workflow: Workflow,
    requirement_labels: Mapping[str, str],
    department_names: Mapping[str, str] | None = None,
) -> str:
    """An engine or service message with its codes (fields, document kinds, triggers) put as words."""
    params: dict[str, str] = {}
    for key, value in message.params.items():
        if key == "field":
            params[key] = field_label(workflow, value)
        elif key == "fields":
            params[key] = ", ".join(field_label(workflow, name.strip()) for name in value.split(","))
        elif key == "kind":
            params[key] = requirement_labels.get(value) or code_label(value)
        elif key in {"trigger", "step"}:
            params[key] = trigger_text(workflow, value)
        elif key == "department":
            params[key] = (department_names or {}).get(value, value)
        elif key == "state":
            params[key] = state_text(workflow, value)
        else:
            params[key] = value
    return message_text(Msg(message.msgid, params))
