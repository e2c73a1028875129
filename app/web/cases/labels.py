"""How case data, catalogue codes and engine reasons read on the case pages (translated at display time)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal, gettext, lazy_gettext

from app.engine import Msg
from app.models import Role
from app.web.labels import message_text, role_label
from workflows.base import Workflow

FIELD_LABELS: dict[str, Any] = {
    "property_address": lazy_gettext("Domicilio del predio"),
    "cadastral_key": lazy_gettext("Clave catastral"),
    "lot_area_m2": lazy_gettext("Superficie del predio"),
    "built_area_m2": lazy_gettext("Superficie construida"),
    "land_use": lazy_gettext("Giro o uso"),
    "building_type": lazy_gettext("Tipo de edificación"),
    "new_construction": lazy_gettext("Obra nueva"),
    "works_started": lazy_gettext("Obra iniciada"),
    "lot_vacant": lazy_gettext("Predio baldío"),
    "dro_name": lazy_gettext("Director Responsable de Obra"),
    "dro_registration": lazy_gettext("Registro del DRO"),
    "co_responsibles": lazy_gettext("Corresponsables"),
    "prevention_items": lazy_gettext("Puntos de la prevención"),
    "observation_items": lazy_gettext("Puntos observados"),
    "land_use_ruling": lazy_gettext("Dictamen de uso de suelo"),
    "fees": lazy_gettext("Derechos"),
    "payment_reference": lazy_gettext("Referencia de pago"),
    "licence_number": lazy_gettext("Número de licencia"),
    "inspection_drawn": lazy_gettext("Sorteada para inspección"),
}
"""Labels of the case data fields, in the order the case page lists them."""

SPECIALTY_LABELS: dict[str, Any] = {
    "seguridad_estructural": lazy_gettext("Seguridad estructural"),
    "instalaciones": lazy_gettext("Instalaciones"),
    "diseno_urbano": lazy_gettext("Diseño urbano y arquitectónico"),
}

DATA_SECTIONS: tuple[tuple[str, Any], ...] = (
    ("datos_predio", lazy_gettext("Datos del predio")),
    ("datos_proyecto", lazy_gettext("Datos del proyecto")),
    ("datos_uso", lazy_gettext("Giro o uso")),
    ("datos_dro", lazy_gettext("DRO y corresponsables")),
)
"""Parts of the request data a prevención or an observation may point at, besides the documents."""

AREA_FIELDS = frozenset({"lot_area_m2", "built_area_m2"})
CODE_FIELDS = frozenset({"land_use", "building_type"})
HIDDEN_FIELDS = frozenset({"fees", "inspection_draw", "prevention_items", "observation_items"})


def code_label(code: Any) -> str:
    """A catalogue code as words (``comercio_abarrotes`` → ``Comercio abarrotes``); catalogues are data."""
    text = str(code or "")
    if text == "otro":
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


def item_label(code: str, requirement_labels: Mapping[str, str]) -> str:
    """What a prevención or observation item refers to: a document kind or a part of the data."""
    sections = dict(DATA_SECTIONS)
    if code in sections:
        return str(sections[code])
    return requirement_labels.get(code) or code_label(code)


def value_text(name: str, value: Any, requirement_labels: Mapping[str, str]) -> str:
    """A stored data value as people read it."""
    if isinstance(value, bool):
        return str(gettext("Sí") if value else gettext("No"))
    if name in AREA_FIELDS:
        return area_text(value)
    if name in CODE_FIELDS:
        return code_label(value)
    if name == "co_responsibles":
        lines = [
            f"{SPECIALTY_LABELS.get(str(i.get('specialty')), i.get('specialty'))}: "
            f"{i.get('name')} ({i.get('registration')})"
            for i in value or ()
            if isinstance(i, dict)
        ]
        return "; ".join(lines) or "—"
    if isinstance(value, list):
        return ", ".join(item_label(str(v), requirement_labels) for v in value)
    return str(value) if value not in (None, "") else "—"


def data_rows(data: Mapping[str, Any], requirement_labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, value) of the case data worth showing, known fields first."""
    rows = [
        (str(label), value_text(name, data[name], requirement_labels))
        for name, label in FIELD_LABELS.items()
        if name in data and name not in HIDDEN_FIELDS
    ]
    return rows


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


def actor_text(role: str, department: str | None, department_names: Mapping[str, str]) -> str:
    """A role (and department) as people read it: ``Dictaminador · Dirección de Desarrollo Urbano``."""
    try:
        label = role_label(Role(role))
    except ValueError:
        label = str(gettext("Sistema (plazos y sorteos)")) if role == "system" else role
    if department:
        return f"{label} · {department_names.get(department, department)}"
    return label


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
            params[key] = str(FIELD_LABELS.get(value, value))
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
