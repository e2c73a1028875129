"""Transparency-obligation publications (SIPOT-style): one case per format and quarter.

The responsible area drafts the record (rows of the format's typed fields, or a note explaining why the
period generated no information) and submits it; the transparency unit validates it or returns it with
observations; once validated it is published. The guarantor authority draws a reproducible sample of the
records of a period: sampled records go under verification, where the guarantor clears them or files
findings that the area must correct within a term of business days (its lapse is recorded, and the area may
still correct afterwards). The draw's seed is committed (its SHA-256 logged) when the quarter opens, before
any record exists, and revealed by the draw after the publication deadline: :func:`seed_matches` and
:func:`recompute_draw` let anyone check it from the log alone.

Formats and the yearly calendar are jurisdiction settings checked by the parsers below. The due date of
each case comes from the calendar and is kept in the case data (``due_on``): drafting past it is flagged
overdue by the state's target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from workflows.base import (
    DEPARTMENTS_PARAM,
    ENGLISH_SUFFIX,
    N_,
    SYSTEM_ROLE,
    Deadline,
    DrawResult,
    GuardInput,
    InvalidSetting,
    State,
    Target,
    Transition,
    Workflow,
    draw,
    item_in_language,
)
from workflows.procedure import Demo, Department, Field, Parameter, Presentation, Procedure

AREA = frozenset({"area"})
UNIT = frozenset({"transparency_unit"})
GUARANTOR = frozenset({"guarantor"})
SYSTEM = frozenset({SYSTEM_ROLE})

FIELD_TYPES = ("text", "date", "number", "integer", "url")
"""Types a format's field may have."""

LICENCE_SOURCE = "vecs_licences"
"""A format whose rows the system generates from the construction licences issued in the period."""

LICENCE_FIELDS: tuple[dict[str, Any], ...] = (
    {"name": "folio", "label": "Folio del trámite", "label_en": "Case folio", "type": "text", "required": True},
    {
        "name": "numero_licencia",
        "label": "Número de licencia",
        "label_en": "Licence number",
        "type": "text",
        "required": True,
    },
    {"name": "fecha_emision", "label": "Fecha de emisión", "label_en": "Issue date", "type": "date", "required": True},
    {"name": "uso", "label": "Uso autorizado", "label_en": "Authorised use", "type": "text", "required": True},
    {
        "name": "superficie_m2",
        "label": "Superficie construida (m²)",
        "label_en": "Built area (m²)",
        "type": "number",
        "required": True,
    },
    {"name": "zona", "label": "Zona de ubicación", "label_en": "Location zone", "type": "text", "required": False},
    {"name": "vigencia_hasta", "label": "Vigente hasta", "label_en": "Valid until", "type": "date", "required": False},
)
"""The rows of the permits-issued format: no holder's name by default (a holder may be a natural person)."""

HOLDER_FIELD: dict[str, Any] = {
    "name": "titular",
    "label": "Nombre o razón social del titular",
    "label_en": "Name or company name of the holder",
    "type": "text",
    "required": False,
}
"""The holder column of the permits-issued format, added where the jurisdiction's setting says the law
requires it (``publish_holder`` on the format; LGTAIP 2015, art. 70, fracción XXVII, lists the holder of
licences and permits among the obligations)."""

PUBLISHED_STATES = ("published", "under_verification", "findings", "correction_overdue", "corrected", "closed")
"""States in which a record is public (it was published at least once)."""

DRAFTING_STATES = ("drafting", "returned", "findings", "correction_overdue")
"""States in which the area may edit the record."""

QUARTER_ENDS = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}

_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")

DEFAULT_FORMATS: tuple[dict[str, Any], ...] = (
    {
        "code": "presupuesto",
        "title": "Presupuesto asignado y su ejercicio",
        "title_en": "Allocated budget and its spending",
        "legal_basis": "LGTAIP art. 70, fracción XXI",
        "department": "finanzas",
        "source": "",
        "fields": [
            {
                "name": "capitulo",
                "label": "Capítulo de gasto",
                "label_en": "Expenditure chapter",
                "type": "text",
                "required": True,
            },
            {
                "name": "aprobado",
                "label": "Presupuesto aprobado",
                "label_en": "Approved budget",
                "type": "number",
                "required": True,
            },
            {
                "name": "ejercido",
                "label": "Presupuesto ejercido",
                "label_en": "Budget spent",
                "type": "number",
                "required": True,
            },
            {
                "name": "hipervinculo",
                "label": "Hipervínculo al informe",
                "label_en": "Link to the report",
                "type": "url",
                "required": False,
            },
        ],
    },
    {
        "code": "contratos",
        "title": "Contratos de obra, bienes y servicios",
        "title_en": "Contracts for public works, goods and services",
        "legal_basis": "LGTAIP art. 70, fracción XXVIII",
        "department": "obras_publicas",
        "source": "",
        "fields": [
            {
                "name": "numero_contrato",
                "label": "Número de contrato",
                "label_en": "Contract number",
                "type": "text",
                "required": True,
            },
            {
                "name": "objeto",
                "label": "Objeto del contrato",
                "label_en": "Purpose of the contract",
                "type": "text",
                "required": True,
            },
            {
                "name": "fecha_firma",
                "label": "Fecha de firma",
                "label_en": "Signing date",
                "type": "date",
                "required": True,
            },
            {
                "name": "monto",
                "label": "Monto total con impuestos",
                "label_en": "Total amount including taxes",
                "type": "number",
                "required": True,
            },
            {
                "name": "contratista",
                "label": "Razón social del contratista",
                "label_en": "Contractor's company name",
                "type": "text",
                "required": True,
            },
        ],
    },
    {
        "code": "licencias_construccion",
        "title": "Licencias de construcción otorgadas (VECS)",
        "title_en": "Construction licences granted (VECS)",
        "legal_basis": "LGTAIP art. 70, fracción XXVII",
        "department": "desarrollo_urbano",
        "source": LICENCE_SOURCE,
        "fields": [dict(f) for f in LICENCE_FIELDS],
        "publish_holder": False,
    },
)

DEFAULT_CALENDAR: dict[str, dict[str, str]] = {
    "1": {"opens": "04-01", "due": "04-30"},
    "2": {"opens": "07-01", "due": "07-30"},
    "3": {"opens": "10-01", "due": "10-30"},
    "4": {"opens": "01-02", "due": "01-30"},
}
"""Per quarter: the day the cases open and the day the record is due (month-day, after the quarter ends)."""

DEFAULT_PARAMS: dict[str, Any] = {
    "formats": DEFAULT_FORMATS,
    "calendar": DEFAULT_CALENDAR,
    "drafting_target_days": 20,
    "findings_correction_days": 10,
    "sample_rate": "0.25",
    DEPARTMENTS_PARAM: {"area": ""},
}


# -- settings parsers ---------------------------------------------------------------------------


TITLE_MAX = 300
"""The longest title of a format, in Spanish and in English alike."""

LABEL_MAX = 120
"""The longest label of a format's field (a column of its records), in Spanish and in English alike."""


def _shown(value: Any) -> str:
    """A value someone typed, as a refusal quotes it (short: the setting is JSON of any size)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _text(value: Any, limit: int, refusal: str, params: Mapping[str, str], *, printable: bool = True) -> str:
    """``value`` stripped: a text of 1 to ``limit`` characters, free of control characters (a line break, a
    tab, a NUL…) unless ``printable`` is false. Raises ``InvalidSetting`` with ``refusal`` (a msgid) and
    ``params`` (and ``max``) otherwise."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise InvalidSetting(refusal, {**params, "max": str(limit)})
    if printable and not value.strip().isprintable():
        raise InvalidSetting(refusal, {**params, "max": str(limit)})
    return value.strip()


def _english(source: Mapping[str, Any], key: str, limit: int, refusal: str, params: dict[str, str]) -> dict[str, str]:
    """The English value of ``source[key]`` (``<key>_en``) as ``{"<key>_en": value}``, checked like the Spanish
    one (a text of up to ``limit`` characters, stripped) and free of control characters; ``{}`` when none was
    given (absent, ``None`` or blank: the key stays out, as in settings saved before English values). Raises
    ``InvalidSetting`` with ``refusal`` (a msgid) and ``params`` for a bad one."""
    english = source.get(key + ENGLISH_SUFFIX)
    if english is None or (isinstance(english, str) and not english.strip()):
        return {}
    if not isinstance(english, str) or len(english.strip()) > limit or not english.strip().isprintable():
        raise InvalidSetting(refusal, {**params, "max": str(limit)})
    return {key + ENGLISH_SUFFIX: english.strip()}


def parse_formats(value: Any) -> list[dict[str, Any]]:
    """Check the list of formats (code, title, legal basis, responsible department, optional source and
    typed fields; optionally the title in English, ``title_en``, and each field's label in English, ``label_en``)
    and return it normalised. Raises ``InvalidSetting`` for a bad one, saying in words people read which format
    or field is wrong and why."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidSetting(N_("Los formatos son una lista JSON con al menos un formato."))
    result: list[dict[str, Any]] = []
    codes: set[str] = set()
    for item in value:
        if not isinstance(item, Mapping):
            raise InvalidSetting(
                N_("Cada formato es un objeto JSON con code, title, legal_basis, department y fields: %(item)s"),
                {"item": _shown(item)},
            )
        code = item.get("code")
        code = code.strip() if isinstance(code, str) else code
        if not isinstance(code, str) or not _CODE.match(code) or code in codes:
            raise InvalidSetting(
                N_(
                    "El código de formato «%(code)s» falta, no es válido o se repite: use minúsculas, números y "
                    "guiones bajos, hasta 40, empezando por letra o número."
                ),
                {"code": _shown(code if code is not None else "")},
            )
        codes.add(code)
        named = {"code": code}
        source = str(item.get("source") or "")
        if source not in ("", LICENCE_SOURCE):
            raise InvalidSetting(
                N_("Formato «%(code)s»: el origen «%(source)s» no existe; deje source vacío o use «vecs_licences»."),
                {**named, "source": _shown(source)},
            )
        english_title = _english(
            item,
            "title",
            TITLE_MAX,
            N_(
                "Formato «%(code)s»: el título en inglés (title_en) debe ser un texto de hasta %(max)s caracteres, "
                "sin caracteres de control."
            ),
            {"code": code},
        )
        fields = parse_fields(item.get("fields"), code)
        extra: dict[str, Any] = {}
        if source == LICENCE_SOURCE:
            holder = item.get("publish_holder", False)
            if not isinstance(holder, bool):
                raise InvalidSetting(N_("Formato «%(code)s»: publish_holder es true o false."), named)
            names = [f["name"] for f in fields]
            fixed = [f["name"] for f in LICENCE_FIELDS]
            if names not in (fixed, [*fixed, HOLDER_FIELD["name"]]):
                raise InvalidSetting(
                    N_(
                        "Formato «%(code)s»: el formato de licencias tiene los campos fijos de las licencias "
                        "emitidas (%(fields)s)."
                    ),
                    {**named, "fields": ", ".join(fixed)},
                )
            fields = [f for f in fields if f["name"] != HOLDER_FIELD["name"]]
            if holder:
                fields.append(dict(HOLDER_FIELD))
            extra["publish_holder"] = holder
        result.append(
            {
                "code": code,
                "title": _text(
                    item.get("title"),
                    TITLE_MAX,
                    N_(
                        "Formato «%(code)s»: el título (title) es un texto de 1 a %(max)s caracteres, sin caracteres "
                        "de control."
                    ),
                    named,
                ),
                **english_title,
                "legal_basis": _text(
                    item.get("legal_basis"),
                    300,
                    N_(
                        "Formato «%(code)s»: el fundamento legal (legal_basis) es un texto de 1 a %(max)s caracteres, "
                        "sin caracteres de control."
                    ),
                    named,
                ),
                "department": _text(
                    item.get("department"),
                    64,
                    N_("Formato «%(code)s»: el área responsable (department) es un código de 1 a %(max)s caracteres."),
                    named,
                ),
                "source": source,
                "fields": fields,
                **extra,
            }
        )
    return result


def parse_fields(value: Any, format_code: str = "") -> list[dict[str, Any]]:
    """Check a format's fields (name, label, optionally ``label_en``, type, required) and return them normalised;
    ``format_code`` names the format in a refusal (``InvalidSetting``, which says which field is wrong and why)."""
    named = {"code": format_code}
    if not isinstance(value, list | tuple) or not value:
        raise InvalidSetting(N_("Formato «%(code)s»: necesita al menos un campo (fields)."), named)
    fields: list[dict[str, Any]] = []
    names: set[str] = set()
    for item in value:
        if not isinstance(item, Mapping):
            raise InvalidSetting(
                N_("Formato «%(code)s»: cada campo es un objeto JSON con name, label, type y required: %(item)s"),
                {**named, "item": _shown(item)},
            )
        name = item.get("name")
        name = name.strip() if isinstance(name, str) else name
        if not isinstance(name, str) or not _CODE.match(name) or name in names:
            raise InvalidSetting(
                N_(
                    "Formato «%(code)s»: el nombre de campo «%(field)s» falta, no es válido o se repite: use "
                    "minúsculas, números y guiones bajos, hasta 40, empezando por letra o número."
                ),
                {**named, "field": _shown(name if name is not None else "")},
            )
        names.add(name)
        kind = item.get("type", "text")
        if kind not in FIELD_TYPES:
            raise InvalidSetting(
                N_("Formato «%(code)s», campo «%(field)s»: el tipo «%(type)s» no existe; use %(types)s."),
                {**named, "field": name, "type": _shown(kind), "types": ", ".join(FIELD_TYPES)},
            )
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise InvalidSetting(
                N_("Formato «%(code)s», campo «%(field)s»: required es true o false."), {**named, "field": name}
            )
        english = _english(
            item,
            "label",
            LABEL_MAX,
            N_(
                "Formato «%(code)s», campo «%(field)s»: la etiqueta en inglés (label_en) debe ser un texto de hasta "
                "%(max)s caracteres, sin caracteres de control."
            ),
            {"code": format_code, "field": name},
        )
        label = _text(
            item.get("label"),
            LABEL_MAX,
            N_(
                "Formato «%(code)s», campo «%(field)s»: la etiqueta (label) es un texto de 1 a %(max)s caracteres, "
                "sin caracteres de control."
            ),
            {**named, "field": name},
        )
        fields.append({"name": name, "label": label, **english, "type": kind, "required": required})
    return fields


def _month_day(value: Any, quarter: int) -> str:
    match = _MONTH_DAY.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"bad month-day {value!r} for quarter {quarter}")
    calendar_date(2025, quarter, match.group(0))  # a day that exists every year (no 02-29)
    return match.group(0)


def parse_calendar(value: Any) -> dict[str, dict[str, str]]:
    """Check the publication calendar (for each quarter 1-4: ``opens`` and ``due`` as month-day, the due
    day not before the opening day) and return it normalised."""
    if not isinstance(value, Mapping):
        raise TypeError("the calendar is a mapping of quarters")
    result: dict[str, dict[str, str]] = {}
    for quarter in (1, 2, 3, 4):
        item = value.get(str(quarter))
        if not isinstance(item, Mapping):
            raise ValueError(f"quarter {quarter} missing from the calendar")
        opens, due = _month_day(item.get("opens"), quarter), _month_day(item.get("due"), quarter)
        if calendar_date(2025, quarter, due) < calendar_date(2025, quarter, opens):
            raise ValueError(f"quarter {quarter} is due before it opens")
        result[str(quarter)] = {"opens": opens, "due": due}
    if len(value) != 4:
        raise ValueError("the calendar has exactly four quarters")
    return result


def parse_rate(value: Any) -> str:
    """Check a sampling rate (a decimal from 0 to 1) and return it as a decimal string."""
    try:
        rate = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise ValueError(f"bad rate {value!r}") from None
    if isinstance(value, bool) or not rate.is_finite() or not 0 <= rate <= 1:
        raise ValueError(f"bad rate {value!r}")
    return str(rate.normalize())


# -- the guarantor's sample ---------------------------------------------------------------------

SAMPLE_METHOD = "HMAC-SHA256(seed, folio|seq)"
"""How each record's number is drawn: ``seq`` is the audit entry that opened the record's case."""


def recompute_draw(seed: str, rate: Any, records: Iterable[tuple[str, int]]) -> dict[str, DrawResult]:
    """The draw of every record (``folio``, ``seq`` of the entry that opened its case) with ``seed`` at
    ``rate``, by folio: what anyone recomputes from the revealed seed and the logged list. Pure; raises
    ``ValueError`` for a bad rate."""
    return {folio: draw(seed, folio, seq, rate) for folio, seq in records}


# -- calendar -----------------------------------------------------------------------------------


def calendar_date(year: int, quarter: int, month_day: str) -> date:
    """The date ``month_day`` (``MM-DD``) takes for the data of ``quarter`` of ``year``: the first such day
    after the quarter ends (so the fourth quarter's days fall in the next year). Raises ``ValueError``."""
    if quarter not in QUARTER_ENDS:
        raise ValueError(f"quarter {quarter!r} is not 1-4")
    month, day = (int(part) for part in month_day.split("-"))
    return date(year + 1 if (month, day) <= QUARTER_ENDS[quarter] else year, month, day)


def opening_date(calendar: Mapping[str, Any], year: int, quarter: int) -> date:
    """The day the cases of ``year``/``quarter`` open under ``calendar``."""
    return calendar_date(year, quarter, str(calendar[str(quarter)]["opens"]))


def due_date(calendar: Mapping[str, Any], year: int, quarter: int) -> date:
    """The day the records of ``year``/``quarter`` are due under ``calendar`` (before business-day moving)."""
    return calendar_date(year, quarter, str(calendar[str(quarter)]["due"]))


def quarter_period(year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of ``quarter`` of ``year``."""
    first = date(year, 3 * (quarter - 1) + 1, 1)
    month, day = QUARTER_ENDS[quarter]
    return first, date(year, month, day)


def format_by_code(params: Mapping[str, Any], code: Any) -> Mapping[str, Any] | None:
    """The format called ``code`` in ``params``, or ``None``."""
    for item in params.get("formats") or ():
        if isinstance(item, Mapping) and item.get("code") == code:
            return item
    return None


# -- the record ---------------------------------------------------------------------------------

Problem = tuple[str, dict[str, str]]


def _check_value(kind: str, value: Any) -> bool:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str):
        return False
    if kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return len(text) == 10
    if kind == "number":
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return False
        return number.is_finite()
    if kind == "integer":
        return re.fullmatch(r"-?\d{1,15}", text) is not None
    if kind == "url":
        parsed = urlparse(text)
        return parsed.scheme in ("http", "https") and bool(parsed.netloc) and " " not in text
    return len(text) <= 2000


def record_problems(
    fmt: Mapping[str, Any], rows: Any, note: Any, *, complete: bool, language: str | None = None
) -> list[Problem]:
    """What is wrong with a record (``rows`` of the format's fields, plus ``note``) as (msgid, params) pairs,
    naming each field by its label as a reader of ``language`` reads it (Spanish when none is named).

    Types are always checked; with ``complete`` every required field must be filled, and a record with no
    rows needs a note explaining why the period generated no information. Pure; the empty list means fine.
    """
    problems: list[Problem] = []
    if not isinstance(rows, list):
        return [(N_("El registro no tiene renglones válidos."), {})]
    fields = {f["name"]: f for f in fmt.get("fields") or ()}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.append((N_("El renglón %(row)s no es válido."), {"row": str(number)}))
            continue
        unknown = sorted(set(row) - set(fields))
        if unknown:
            problems.append(
                (
                    N_("Renglón %(row)s: campos desconocidos: %(fields)s."),
                    {"row": str(number), "fields": ", ".join(unknown)},
                )
            )
        for name, spec in fields.items():
            value = row.get(name)
            blank = value is None or (isinstance(value, str) and not value.strip())
            if blank:
                if complete and spec["required"]:
                    problems.append(
                        (
                            N_("Renglón %(row)s: falta «%(field)s»."),
                            {"row": str(number), "field": item_in_language(spec, "label", language)},
                        )
                    )
                continue
            if not _check_value(str(spec["type"]), value):
                problems.append(
                    (
                        _TYPE_MESSAGES.get(str(spec["type"]), _TYPE_MESSAGES["text"]),
                        {"row": str(number), "field": item_in_language(spec, "label", language)},
                    )
                )
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        problems.append((N_("La nota debe ser un texto de hasta 2000 caracteres."), {}))
    if complete and not rows and not (isinstance(note, str) and note.strip()):
        problems.append((N_("Capture al menos un renglón o una nota que explique por qué no hay información."), {}))
    return problems


_TYPE_MESSAGES = {
    "text": N_("Renglón %(row)s: «%(field)s» es demasiado largo."),
    "date": N_("Renglón %(row)s: «%(field)s» debe ser una fecha AAAA-MM-DD."),
    "number": N_("Renglón %(row)s: «%(field)s» debe ser un número."),
    "integer": N_("Renglón %(row)s: «%(field)s» debe ser un número entero."),
    "url": N_("Renglón %(row)s: «%(field)s» debe ser una dirección http(s) completa."),
}


def normalise_rows(fmt: Mapping[str, Any], rows: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The rows keeping only the format's fields, in its order, trimmed; blank rows dropped."""
    names = [str(f["name"]) for f in fmt.get("fields") or ()]
    result: list[dict[str, str]] = []
    for row in rows:
        cleaned = {name: str(row.get(name) or "").strip() for name in names}
        if any(cleaned.values()):
            result.append(cleaned)
    return result


def snapshot(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the public sees of a record: its rows, note and attachments as they are when it is published."""
    return {
        "rows": list(data.get("rows") or []),
        "note": str(data.get("note") or ""),
        "attachments": list(data.get("attachments") or []),
    }


def _computed_snapshot(data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return snapshot(data)


# -- guards ---------------------------------------------------------------------------------------


def _format_of(inp: GuardInput) -> Mapping[str, Any] | None:
    return format_by_code(inp.params, inp.data.get("format"))


def record_well_typed(inp: GuardInput) -> str | None:
    """Saving a draft: the values have the types of the format's fields (blanks are allowed)."""
    fmt = _format_of(inp)
    if fmt is None:
        return N_("El formato de esta publicación ya no existe en la configuración.")
    if record_problems(fmt, inp.data.get("rows", []), inp.data.get("note"), complete=False):
        return N_("El registro no cumple el formato: revise los campos marcados.")
    return None


def record_complete(inp: GuardInput) -> str | None:
    """Submitting: every required field is filled with a value of its type (or a note explains no rows)."""
    fmt = _format_of(inp)
    if fmt is None:
        return N_("El formato de esta publicación ya no existe en la configuración.")
    if record_problems(fmt, inp.data.get("rows", []), inp.data.get("note"), complete=True):
        return N_("El registro está incompleto o no cumple el formato.")
    return None


def snapshot_matches(inp: GuardInput) -> str | None:
    """Publishing: what becomes public is exactly the record the unit validated."""
    if inp.data.get("published_record") != snapshot(inp.data):
        return N_("Lo que se publica debe ser exactamente el registro validado.")
    return None


def quarter_ended(inp: GuardInput) -> str | None:
    """A quarter's record is published only once the quarter is over (its data cannot be complete before)."""
    try:
        year, quarter = int(inp.data["year"]), int(inp.data["quarter"])
        _, last = quarter_period(year, quarter)
    except (KeyError, TypeError, ValueError):
        return N_("El registro no indica su ejercicio y trimestre.")
    if inp.today <= last:
        return N_("El trimestre aún no termina: el registro se publica a partir del día siguiente a su cierre.")
    return None


def sample_selected(inp: GuardInput) -> str | None:
    """Verification starts only for a record the recorded draw selected."""
    record = inp.data.get("sample_draw")
    if not isinstance(record, Mapping) or record.get("selected") is not True:
        return N_("Solo los registros seleccionados en el sorteo pasan a verificación.")
    return None


# -- the definition -------------------------------------------------------------------------------

_DUE = Target("drafting_target_days", N_("Fecha límite de publicación del calendario"), due_field="due_on")

STATES: tuple[State, ...] = (
    State("drafting", N_("En elaboración por el área responsable"), target=_DUE, department="area"),
    State("submitted", N_("En validación por la Unidad de Transparencia")),
    State("returned", N_("Devuelto al área con observaciones"), target=_DUE, department="area"),
    State("validated", N_("Validado; pendiente de publicar")),
    State("published", N_("Publicado")),
    State("under_verification", N_("Seleccionado en el sorteo; en verificación por el órgano garante")),
    State(
        "findings",
        N_("Con observaciones del órgano garante; el área debe corregir"),
        deadline=Deadline(
            "findings_correction_days", "lapse_correction", N_("Plazo para corregir las observaciones del garante")
        ),
        department="area",
    ),
    State("correction_overdue", N_("Plazo de corrección vencido; el área aún debe corregir"), department="area"),
    State("corrected", N_("Corrección presentada; en revisión del órgano garante")),
    State("closed", N_("Verificado y concluido"), terminal=True),
)

TRANSITIONS: tuple[Transition, ...] = (
    *(
        Transition(
            "save_draft",
            (state,),
            state,
            AREA,
            N_("Guardar el registro"),
            guards=("record_well_typed",),
            fields=("rows", "note", "attachments"),
        )
        for state in DRAFTING_STATES
    ),
    Transition(
        "submit",
        ("drafting", "returned"),
        "submitted",
        AREA,
        N_("Enviar a validación"),
        guards=("record_complete",),
    ),
    Transition(
        "return_record",
        ("submitted",),
        "returned",
        UNIT,
        N_("Devolver al área con observaciones"),
        comment_required=True,
    ),
    Transition("validate", ("submitted",), "validated", UNIT, N_("Validar el registro")),
    Transition(
        "publish",
        ("validated",),
        "published",
        UNIT,
        N_("Publicar"),
        fields=("published_record",),
        required_fields=("published_record",),
        guards=("snapshot_matches", "quarter_ended"),
    ),
    Transition(
        "sample",
        ("published",),
        "under_verification",
        SYSTEM,
        N_("Seleccionado en el sorteo de verificación"),
        fields=("sample_draw",),
        guards=("sample_selected",),
    ),
    Transition("clear", ("under_verification",), "closed", GUARANTOR, N_("Verificar sin observaciones")),
    Transition(
        "file_findings",
        ("under_verification",),
        "findings",
        GUARANTOR,
        N_("Emitir observaciones de verificación"),
        comment_required=True,
    ),
    Transition(
        "lapse_correction",
        ("findings",),
        "correction_overdue",
        SYSTEM,
        N_("Venció el plazo de corrección"),
    ),
    Transition(
        "correct",
        ("findings", "correction_overdue"),
        "corrected",
        AREA,
        N_("Presentar la corrección"),
        guards=("record_complete",),
    ),
    Transition(
        "accept_correction",
        ("corrected",),
        "closed",
        GUARANTOR,
        N_("Aceptar la corrección y publicarla"),
        fields=("published_record",),
        required_fields=("published_record",),
        guards=("snapshot_matches",),
    ),
    Transition(
        "reject_correction",
        ("corrected",),
        "findings",
        GUARANTOR,
        N_("Rechazar la corrección"),
        comment_required=True,
    ),
)

PARAM_PARSERS = {
    "formats": parse_formats,
    "calendar": parse_calendar,
    "sample_rate": parse_rate,
}

PUBLICATION_V1 = Workflow(
    name="obligation_publication",
    version=1,
    title=N_("Publicación de obligaciones de transparencia"),
    folio_prefix="OT",
    initial="drafting",
    states=STATES,
    transitions=TRANSITIONS,
    guards={
        "record_well_typed": record_well_typed,
        "record_complete": record_complete,
        "snapshot_matches": snapshot_matches,
        "sample_selected": sample_selected,
        "quarter_ended": quarter_ended,
    },
    params=DEFAULT_PARAMS,
    param_parsers=PARAM_PARSERS,
    computed_fields={"published_record": _computed_snapshot},
    input_guards=frozenset({"record_well_typed"}),
    description=N_("Registro trimestral de un formato de obligaciones de transparencia, validado y publicado."),
)


def format_departments(params: Mapping[str, Any]) -> list[str]:
    """The departments the formats of ``params`` make responsible (each drafts its format's records).
    Raises ``ValueError``/``TypeError`` for malformed formats."""
    return [fmt["department"] for fmt in parse_formats(params.get("formats"))]


OBLIGATIONS_SECTION = N_("Obligaciones de transparencia")
SAMPLING_SECTION = N_("Verificación por sorteo")

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "formats",
        N_("Formatos de obligaciones"),
        N_(
            "JSON: una lista de formatos con code, title, legal_basis, department, source (vacío o "
            "«vecs_licences») y fields (name, label, type: text, date, number, integer o url; required). El "
            "formato de licencias admite publish_holder: true donde la ley exige publicar al titular. Para "
            "mostrarlos también en inglés, title_en en el formato y label_en en cada campo (opcionales; los datos "
            "abiertos y los documentos quedan en español)."
        ),
        OBLIGATIONS_SECTION,
        kind="json",
    ),
    Parameter(
        "calendar",
        N_("Calendario de publicación"),
        N_("JSON: para cada trimestre («1» a «4»), opens y due como MM-DD, posteriores al cierre del trimestre."),
        OBLIGATIONS_SECTION,
        kind="json",
    ),
    Parameter(
        "drafting_target_days",
        N_("Meta de elaboración sin fecha del calendario (días hábiles)"),
        section=OBLIGATIONS_SECTION,
    ),
    Parameter(
        "findings_correction_days",
        N_("Plazo para corregir las observaciones del garante (días hábiles)"),
        section=OBLIGATIONS_SECTION,
    ),
    Parameter(
        "sample_rate",
        N_("Porcentaje de registros publicados que verifica el garante"),
        N_(
            "La semilla de cada trimestre no es un ajuste: el sistema la genera y compromete para el órgano "
            "garante al abrir el trimestre, y solo se revela en el sorteo; cualquiera puede reproducirlo."
        ),
        SAMPLING_SECTION,
        kind="rate",
    ),
    Parameter(
        DEPARTMENTS_PARAM,
        N_("Áreas responsables"),
        N_("Qué área atiende cada etapa; sin área, cualquiera con el rol."),
        N_("Áreas responsables"),
        kind="departments",
        labels=(("area", N_("Área responsable (cada formato de obligaciones indica la suya)")),),
    ),
)
"""How the publications' settings read on the settings page, in the page's order."""

FIELDS = tuple(
    Field(name, label, kind, system=True, hidden=True)  # the record's own page collects them; declared for their words
    for name, label, kind in (
        ("rows", N_("Renglones del registro"), "list"),
        ("note", N_("Nota"), "code"),
        ("attachments", N_("Anexos"), "list"),
        ("published_record", N_("Registro publicado"), "list"),
        ("sample_draw", N_("Sorteo de verificación"), "list"),
    )
)

PROCEDURE = Procedure(
    name="obligation_publication",
    workflows=(PUBLICATION_V1,),
    parameters=PARAMETERS,
    fields=FIELDS,
    departments=(
        Department("finanzas", N_("Tesorería Municipal"), "Municipal Treasury"),
        Department("obras_publicas", N_("Obras Públicas"), "Public Works"),
        Department("desarrollo_urbano", N_("Dirección de Desarrollo Urbano"), "Urban Development Department"),
    ),
    settings_departments=format_departments,
    presentation=Presentation(binds={"findings": "authority"}),
    plugin="app.procedures.obligation_publication.plugin",
    demo=Demo(loader="app.procedures.obligation_publication.services:load_demo"),
    owns=("app/procedures/obligation_publication",),
)
"""Quarterly publications: calendar, validation and sampling are their own pages
(``app.procedures.obligation_publication.plugin``)."""
