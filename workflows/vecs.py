"""VECS — Ventanilla de Construcción Simplificada (simplified construction window).

Low-impact commercial buildings up to 1,500 m² on vacant lots: one window, one form, at most ten
business days. Every number is a parameter so that each municipality can configure its own; the
defaults follow the federal guidelines (DOF 2019-05-20).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from workflows import construction, prevention
from workflows.base import (
    ENGLISH_SUFFIX,
    N_,
    PAUSE,
    RESTART,
    RUN,
    SYSTEM_ROLE,
    Clock,
    Deadline,
    Draw,
    GuardInput,
    State,
    Target,
    Transition,
    Workflow,
    fees_total,
)
from workflows.payments import payment_reference
from workflows.procedure import (
    Demo,
    DemoStep,
    DemoUser,
    Department,
    Document,
    Field,
    FormerFormat,
    Parameter,
    Payment,
    Presentation,
    Procedure,
    Row,
    canonical_number,
)

APPLICANT = frozenset({"applicant"})
INTAKE = frozenset({"intake_clerk"})
REVIEWER = frozenset({"reviewer"})
INSPECTOR = frozenset({"inspector"})
TREASURY = frozenset({"treasury"})
SYSTEM = frozenset({SYSTEM_ROLE})

DEFAULT_PARAMS: dict[str, Any] = {
    "max_built_area_m2": "1500",
    "low_risk_uses": (
        "comercio_abarrotes",
        "comercio_ropa",
        "oficinas",
        "servicios_profesionales",
        "restaurante_sin_alcohol",
        "papeleria",
        "farmacia",
    ),
    "excluded_building_types": (
        "escuela",
        "hospital",
        "condominio",
        "estadio",
        "gasolinera",
        "industria",
    ),
    "building_types": (
        "local_comercial",
        "oficinas",
        "consultorio",
        "bodega",
    ),
    "requirements": (
        {
            "kind": "identificacion",
            "label": "Identificación oficial y acreditación de personalidad",
            "label_en": "Official ID and proof of legal standing",
        },
        {
            "kind": "propiedad",
            "label": "Documento que acredita la propiedad del predio",
            "label_en": "Proof of ownership of the lot",
        },
        {
            "kind": "alineamiento",
            "label": "Constancia de alineamiento y número oficial",
            "label_en": "Alignment and official number certificate",
        },
        {
            "kind": "planos",
            "label": "Planos arquitectónicos y memoria descriptiva",
            "label_en": "Architectural drawings and descriptive report",
        },
        {
            "kind": "memoria_estructural",
            "label": "Proyecto estructural y memoria de cálculo",
            "label_en": "Structural project and calculation report",
        },
        {
            "kind": "carta_dro",
            "label": "Carta responsiva del DRO con su número de registro",
            "label_en": "DRO responsibility letter with registration number",
        },
    ),
    "fee_table": (),
    "inspection_rate": "0.20",
    "departments": {"intake": "", "land_use": "", "fees": "", "licence": "", "inspection": ""},
    "prevention_answer_days": 10,
    "extension_answer_days": 3,
    "payment_days": 10,
    "max_extensions": 2,
    "max_preventions": 1,
    "reminder_business_days": 3,
    "extension_silence": "grant_extension_ficta",
    "intake_target_days": 1,
    "land_use_target_days": 4,
    "fees_target_days": 1,
    "licence_target_days": 4,
    "completion_target_days": 1,
    "licence_validity_days": 365,
    "resolution_days": 10,
    "resolution_interruption": "pause",
    "resolution_silence": "grant_ficta",
}

ORDINARY_PROCEDURE = N_("licencia de construcción ordinaria")

OFFICES = ("intake", "land_use", "fees", "licence", "inspection")
"""The offices that act on VECS cases; each jurisdiction maps them to its departments (``departments``)."""

REQUIRED_DOCUMENTS = (
    "identificacion",
    "propiedad",
    "alineamiento",
    "planos",
    "memoria_estructural",
    "carta_dro",
)

FIELDS = (
    "property_address",
    "cadastral_key",
    "lot_area_m2",
    "built_area_m2",
    "land_use",
    "building_type",
    "new_construction",
    "works_started",
    "lot_vacant",
    "dro_name",
    "dro_registration",
)

OPTIONAL_FIELDS = ("co_responsibles",)
"""Data the applicant may give but need not: the co-responsible directors (specialty, name, registration)."""

CO_RESPONSIBLE_SPECIALTIES = ("seguridad_estructural", "instalaciones", "diseno_urbano")


def as_decimal(value: Any) -> Decimal | None:
    """``value`` as a finite decimal (areas, rates, amounts), or ``None`` when it is not one."""
    try:
        area = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return area if area.is_finite() else None


_area = as_decimal


def eligibility_reasons(data: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """Every reason why a request is not eligible for the simplified window (empty when it is), each
    naming the ordinary procedure that applies instead. Pure: the same rules the ``eligible`` guard applies."""
    reasons: list[str] = []
    area = _area(data.get("built_area_m2"))
    if area is None or area <= 0:
        reasons.append(N_("La superficie construida debe ser un número mayor que cero."))
    elif area > Decimal(str(params["max_built_area_m2"])):
        reasons.append(
            N_(
                "La superficie construida excede el máximo de la ventanilla simplificada; "
                "corresponde tramitar la licencia de construcción ordinaria."
            )
        )
    if data.get("new_construction") is not True:
        reasons.append(
            N_("Solo obra nueva es elegible; para ampliaciones o remodelaciones tramite la licencia ordinaria.")
        )
    if data.get("works_started") is not False:
        reasons.append(
            N_("La obra no debe haber iniciado; para regularizar obra iniciada tramite la licencia ordinaria.")
        )
    if data.get("lot_vacant") is not True:
        reasons.append(N_("El predio debe estar baldío; con construcción existente tramite la licencia ordinaria."))
    if data.get("building_type") in params["excluded_building_types"]:
        reasons.append(N_("Este tipo de edificación está excluido de la ventanilla; tramite la licencia ordinaria."))
    if data.get("land_use") not in params["low_risk_uses"]:
        reasons.append(
            N_(
                "El giro no está en el catálogo de bajo riesgo del municipio; "
                "tramite la licencia de uso de suelo y de construcción ordinarias."
            )
        )
    return reasons


def eligible(inp: GuardInput) -> str | None:
    """Eligibility for the simplified window; the reason names the ordinary procedure that applies."""
    reasons = eligibility_reasons(inp.data, inp.params)
    return reasons[0] if reasons else None


def prevention_available(inp: GuardInput) -> str | None:
    """Only one prevención may be issued per request."""
    if inp.count("issue_prevention") >= int(inp.params["max_preventions"]):
        return N_("Ya se emitió la única prevención permitida para esta solicitud.")
    return None


def extension_available(inp: GuardInput) -> str | None:
    """Extensions are limited in number."""
    if inp.count("request_extension") >= int(inp.params["max_extensions"]):
        return N_("Se alcanzó el número máximo de prórrogas.")
    return None


def inspection_drawn(inp: GuardInput) -> str | None:
    """The completion notice was drawn for inspection (the draw is stored in the case data)."""
    if inp.data.get("inspection_drawn") is not True:
        return N_("La obra no fue seleccionada para inspección.")
    return None


def inspection_not_drawn(inp: GuardInput) -> str | None:
    """The completion notice was not drawn for inspection."""
    if inp.data.get("inspection_drawn") is not False:
        return N_("El sorteo de inspección no se ha realizado o la obra fue seleccionada.")
    return None


# -- fees from the published table ----------------------------------------------------------------

FEE_UNITS = ("m2", "fixed")
"""A fee is charged per square metre of built area (``m2``) or once (``fixed``)."""

_CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def compute_fees(table: Any, built_area: Any) -> list[dict[str, str]]:
    """The fees a request owes under the published ``table`` for ``built_area`` m² (empty without a table
    or a valid area). Each item keeps its concept (and its English concept, when the table gives one), unit,
    rate, quantity, amount and legal basis; amounts are rounded half up to cents. Pure."""
    area = _area(built_area)
    if not table or area is None or area <= 0:
        return []
    items: list[dict[str, str]] = []
    for row in table:
        rate = Decimal(str(row["rate"]))
        quantity = area if row["unit"] == "m2" else Decimal(1)
        item = {
            "concept": str(row["concept"]),
            "unit": str(row["unit"]),
            "rate": _money(rate),
            "quantity": _money(quantity) if row["unit"] == "m2" else "1",
            "amount": _money(rate * quantity),
            "legal_basis": str(row["legal_basis"]),
        }
        if row.get("concept_en"):  # shown to English readers; documents print the Spanish concept
            item["concept_en"] = str(row["concept_en"])
        items.append(item)
    return items


def fees_from_table(inp: GuardInput) -> str | None:
    """Where the jurisdiction published a fee table, the assessed fees must be exactly what it gives."""
    table = inp.params.get("fee_table")
    if not table:
        return None
    if inp.data.get("fees") != compute_fees(table, inp.data.get("built_area_m2")):
        return N_("Los derechos no coinciden con la tabla de derechos publicada; se calculan a partir de ella.")
    return None


PAYMENT_FIELDS = ("payment_reference", "payment_amount", "payment_paid_on", "payment_operation")
"""What the treasury's confirmation records: the order's reference, the amount paid, the day and the operation."""


def payment_matches_fees(inp: GuardInput) -> str | None:
    """The confirmed amount is exactly the assessed fees' total (the treasury's service also checks it against
    the payment order)."""
    paid = as_decimal(inp.data.get("payment_amount"))
    if paid is None or paid != fees_total(inp.data.get("fees")):
        return N_("El importe pagado no coincide con el total de la orden de pago.")
    return None


def payment_pending(inp: GuardInput) -> str | None:
    """A licence granted by afirmativa ficta before its fees were paid still owes them: the treasury may confirm
    the payment of its order afterwards, once."""
    if inp.count("confirm_payment") or inp.count("confirm_payment_after_ficta"):
        return N_("El pago de esta orden ya fue confirmado.")
    if not inp.data.get("resolution_lapsed_on") or not inp.data.get("fees"):
        return N_("Solo se confirma después el pago de derechos de una solicitud otorgada por afirmativa ficta.")
    return None


def _computed_fees(data: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, str]]:
    return compute_fees(params.get("fee_table"), data.get("built_area_m2"))


# -- parsers of structured settings ---------------------------------------------------------------

_CODE = re.compile(r"\A[a-z0-9][a-z0-9_]{1,63}\Z")


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise ValueError(f"expected text of 1 to {limit} characters, got {value!r}")
    text = " ".join(value.split())
    if not text.isprintable():
        raise ValueError(f"control characters in {value!r}")
    return text


def _with_english(item: dict[str, str], source: Mapping[str, Any], key: str, limit: int) -> dict[str, str]:
    """``item`` with the English value of its ``key`` (``<key>_en``) from ``source``, checked like the Spanish
    one, when one was given (absent, ``None`` or blank: none, and the key stays out, as in older settings)."""
    english = source.get(key + ENGLISH_SUFFIX)
    if english is None or (isinstance(english, str) and not english.strip()):
        return item
    return {**item, key + ENGLISH_SUFFIX: _text(english, limit)}


def is_code(value: Any) -> bool:
    """Whether ``value`` is a catalogue code: lowercase letters, digits and underscores, 2 to 64 long."""
    return isinstance(value, str) and bool(_CODE.match(value))


def parse_fee_table(value: Any) -> list[dict[str, str]]:
    """Check a fee table (rows of concept, unit, rate and legal basis; optionally the concept in English,
    ``concept_en``) and return it normalised.

    An empty table is allowed (no fees published yet). Raises ``ValueError``."""
    if not isinstance(value, list | tuple) or len(value) > 30:
        raise ValueError("a fee table is a list of at most 30 rows")
    rows: list[dict[str, str]] = []
    for row in value:
        if not isinstance(row, Mapping):
            raise ValueError("a fee row is a mapping")
        if row.get("unit") not in FEE_UNITS:
            raise ValueError(f"unknown fee unit {row.get('unit')!r}")
        rate = _area(row.get("rate"))
        if rate is None or rate < 0 or rate > Decimal("100000000"):
            raise ValueError(f"bad fee rate {row.get('rate')!r}")
        parsed = {
            "concept": _text(row.get("concept"), 200),
            "unit": str(row["unit"]),
            "rate": _money(rate),
            "legal_basis": _text(row.get("legal_basis"), 500),
        }
        rows.append(_with_english(parsed, row, "concept", 200))
    return rows


def parse_requirements(value: Any) -> list[dict[str, str]]:
    """Check a requirements list (document kind codes with their labels; optionally each label in English,
    ``label_en``) and return it normalised.

    At least one requirement; kinds are unique codes. Raises ``ValueError``."""
    if not isinstance(value, list | tuple) or not value or len(value) > 40:
        raise ValueError("a requirements list has 1 to 40 items")
    items: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, Mapping) or not is_code(item.get("kind")):
            raise ValueError(f"bad requirement {item!r}")
        if any(existing["kind"] == item["kind"] for existing in items):
            raise ValueError(f"repeated requirement {item['kind']!r}")
        parsed = {"kind": str(item["kind"]), "label": _text(item.get("label"), 200)}
        items.append(_with_english(parsed, item, "label", 200))
    return items


def parse_rate(value: Any) -> str:
    """Check a sampling rate (a decimal from 0 to 1) and return it as a decimal string."""
    rate = _area(value.strip() if isinstance(value, str) else value)
    if isinstance(value, bool) or rate is None or not 0 <= rate <= 1:
        raise ValueError(f"bad rate {value!r}")
    return str(rate.normalize())


def departments_parser(offices: tuple[str, ...]) -> Any:
    """A parser for the ``departments`` setting of a workflow with these ``offices``: every office maps
    to a department code or to ``""`` (anyone may act)."""

    def parse(value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping) or set(value) != set(offices):
            raise ValueError(f"departments must map exactly {offices}")
        result: dict[str, str] = {}
        for office in offices:
            code = value[office]
            if code in (None, ""):
                result[office] = ""
            elif is_code(code):
                result[office] = str(code)
            else:
                raise ValueError(f"bad department code {code!r}")
        return result

    return parse


PARAM_PARSERS = {
    "fee_table": parse_fee_table,
    "requirements": parse_requirements,
    "inspection_rate": parse_rate,
    "departments": departments_parser(OFFICES),
}


INSPECTION_DRAW = Draw(
    rate_param="inspection_rate",
    seed_param="inspection_seed",
    field="inspection_drawn",
    record_field="inspection_draw",
    description=N_("Sorteo de inspección de la obra terminada"),
)

STATES = (
    State("draft", N_("Borrador: el solicitante captura su solicitud")),
    State("submitted", N_("Presentada: en espera de revisión de ventanilla"), department="intake"),
    State(
        "intake_review",
        N_("Revisión de integración del expediente"),
        target=Target("intake_target_days", N_("Meta de revisión de integración")),
        department="intake",
    ),
    State(
        "prevention",
        N_("Prevención: el solicitante debe corregir o completar"),
        deadline=Deadline(
            "prevention_answer_days",
            "lapse_prevention",
            N_("Plazo para desahogar la prevención"),
        ),
    ),
    State(
        "land_use_review",
        N_("Dictamen de uso de suelo y alineamiento"),
        target=Target("land_use_target_days", N_("Meta del dictamen de uso de suelo")),
        department="land_use",
    ),
    State(
        "fee_assessment",
        N_("Determinación de derechos"),
        target=Target("fees_target_days", N_("Meta de determinación de derechos")),
        department="fees",
    ),
    State(
        "awaiting_payment",
        N_("En espera del pago de derechos"),
        deadline=Deadline("payment_days", "lapse_payment", N_("Plazo para pagar los derechos")),
    ),
    State(
        "licence_review",
        N_("Revisión final de la licencia"),
        target=Target("licence_target_days", N_("Meta de emisión de la licencia")),
        department="licence",
    ),
    State("licensed", N_("Licencia emitida"), department="licence"),
    State(
        "extension_requested",
        N_("Prórroga solicitada"),
        deadline=Deadline(
            "extension_answer_days",
            "grant_extension_ficta",
            N_("Plazo para responder la prórroga"),
            on_expiry_param="extension_silence",
        ),
        department="licence",
    ),
    State(
        "completion_filed",
        N_("Aviso de terminación presentado"),
        department="inspection",
        draw=INSPECTION_DRAW,
        automatic=("send_to_inspection", "skip_inspection"),
    ),
    State("inspection", N_("Inspección de obra"), department="inspection"),
    State(
        "occupancy_review",
        N_("Revisión de la autorización de ocupación"),
        target=Target("completion_target_days", N_("Meta de autorización de ocupación")),
        department="licence",
    ),
    State("observations", N_("Observaciones de la inspección"), department="licence"),
    State("occupancy_authorized", N_("Autorización de ocupación emitida"), department="licence"),
    State(
        "granted_ficta",
        N_("Otorgada por afirmativa ficta: la autoridad debe expedir la licencia"),
        department="licence",
    ),
    State("denied", N_("Negada"), terminal=True),
    State("denied_ficta", N_("Negada por negativa ficta (venció el plazo de resolución)"), terminal=True),
    State("withdrawn", N_("Desistida por el solicitante"), terminal=True),
    State("not_presented", N_("Tenida por no presentada"), terminal=True),
    State("revoked", N_("Revocada"), terminal=True),
    State("closed", N_("Concluida"), terminal=True),
)

_OPEN_FOR_WITHDRAWAL = (
    "draft",
    "submitted",
    "intake_review",
    "prevention",
    "land_use_review",
    "fee_assessment",
    "awaiting_payment",
)

RESOLUTION_RUNNING = ("submitted", "intake_review", "land_use_review", "fee_assessment", "licence_review")
"""The states in which the authority holds the case: the resolution term runs."""
RESOLUTION_PAUSED = ("prevention", "awaiting_payment")
"""The states in which the applicant holds the case: the term pauses there unless the jurisdiction says not."""
_RESOLUTION_LAPSES_IN = RESOLUTION_RUNNING + RESOLUTION_PAUSED

PAID_AFTER_FICTA = (
    "granted_ficta",
    "licensed",
    "extension_requested",
    "completion_filed",
    "inspection",
    "observations",
    "occupancy_review",
    "occupancy_authorized",
)
"""The states of a request granted by afirmativa ficta before its fees were paid in which the treasury may
still confirm the payment of its order (the fees remain owed; the case stays where it is)."""

RESOLUTION_TERM = Clock(
    "resolution",
    "resolution_days",
    N_(
        "Plazo máximo de resolución de la ventanilla (Lineamientos de la Ventanilla de Construcción Simplificada, "
        "DOF 20-05-2019)"
    ),
    running=RESOLUTION_RUNNING,
    paused=RESOLUTION_PAUSED,
    started_by=("submit",),
    on_lapse="grant_ficta",
    lapse_field="resolution_lapsed_on",
    restart_param="resolution_interruption",
    on_lapse_param="resolution_silence",
    legal_term=True,
)
"""The procedure's legal term: ten business days from the business day after the complete filing, paused
while the applicant holds the case (prevención, payment) where the jurisdiction's law suspends it; its lapse
applies the jurisdiction's silence rule. The per-stage targets stay the authority's internal ones."""

TRANSITIONS = (
    Transition(
        "edit",
        ("draft",),
        "draft",
        APPLICANT,
        N_("Guardar cambios en el borrador"),
        owner_only=True,
        fields=FIELDS + OPTIONAL_FIELDS,
    ),
    Transition(
        "edit",
        ("prevention",),
        "prevention",
        APPLICANT,
        N_("Corregir los datos de la solicitud"),
        owner_only=True,
        fields=FIELDS + OPTIONAL_FIELDS,
    ),
    Transition(
        "submit",
        ("draft",),
        "submitted",
        APPLICANT,
        N_("Presentar la solicitud"),
        owner_only=True,
        guards=("eligible",),
        fields=FIELDS,
        required_fields=FIELDS,
        required_documents=REQUIRED_DOCUMENTS,
        documents_param="requirements",
        notify=("applicant",),
    ),
    Transition(
        "start_intake",
        ("submitted",),
        "intake_review",
        INTAKE,
        N_("Iniciar la revisión de integración"),
    ),
    Transition(
        "issue_prevention",
        ("intake_review",),
        "prevention",
        INTAKE,
        N_("Prevenir al solicitante (una sola vez)"),
        guards=("prevention_available",),
        fields=("prevention_items",),
        required_fields=("prevention_items",),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "answer_prevention",
        ("prevention",),
        "intake_review",
        APPLICANT,
        N_("Desahogar la prevención"),
        owner_only=True,
        guards=("eligible",),
        fields=FIELDS,
        required_fields=FIELDS,
        required_documents=REQUIRED_DOCUMENTS,
        documents_param="requirements",
        notify=("assignee",),
    ),
    Transition(
        "lapse_prevention",
        ("prevention",),
        "not_presented",
        SYSTEM,
        N_("Venció el plazo de la prevención: se tiene por no presentada"),
        notify=("applicant",),
    ),
    Transition(
        "accept_intake",
        ("intake_review",),
        "land_use_review",
        INTAKE,
        N_("Expediente completo: turnar a dictamen"),
    ),
    Transition(
        "rule_land_use",
        ("land_use_review",),
        "fee_assessment",
        REVIEWER,
        N_("Dictamen favorable de uso de suelo y alineamiento"),
        fields=("land_use_ruling",),
        required_fields=("land_use_ruling",),
    ),
    Transition(
        "assess_fees",
        ("fee_assessment",),
        "awaiting_payment",
        REVIEWER,
        N_("Determinar los derechos a pagar conforme a la tabla publicada y emitir la orden de pago"),
        guards=("fees_from_table",),
        fields=("fees",),
        required_fields=("fees",),
        notify=("applicant",),
        issues="payment_order",
    ),
    Transition(
        "confirm_payment",
        ("awaiting_payment",),
        "licence_review",
        TREASURY,
        N_("La Tesorería confirma el pago de la orden de pago"),
        guards=("payment_matches_fees",),
        fields=PAYMENT_FIELDS,
        required_fields=PAYMENT_FIELDS,
        notify=("applicant", "assignee"),
        dedicated=True,
    ),
    *(
        Transition(
            "confirm_payment_after_ficta",
            (state,),
            state,
            TREASURY,
            N_("La Tesorería confirma el pago de derechos que seguía pendiente tras la afirmativa ficta"),
            guards=("payment_pending", "payment_matches_fees"),
            fields=PAYMENT_FIELDS,
            required_fields=PAYMENT_FIELDS,
            notify=("applicant",),
            dedicated=True,
            exceptional=True,  # the few cases that owe it are listed by the treasury's own page, not by queues
        )
        for state in PAID_AFTER_FICTA
    ),
    Transition(
        "lapse_payment",
        ("awaiting_payment",),
        "not_presented",
        SYSTEM,
        N_("Venció el plazo de pago"),
        notify=("applicant",),
    ),
    Transition(
        "grant_ficta",
        _RESOLUTION_LAPSES_IN,
        "granted_ficta",
        SYSTEM,
        N_("Venció el plazo de resolución: solicitud otorgada por afirmativa ficta"),
        fields=("resolution_lapsed_on",),
        notify=("applicant", "assignee"),
    ),
    Transition(
        "deny_ficta",
        _RESOLUTION_LAPSES_IN,
        "denied_ficta",
        SYSTEM,
        N_("Venció el plazo de resolución: solicitud negada por negativa ficta"),
        fields=("resolution_lapsed_on",),
        notify=("applicant", "assignee"),
    ),
    Transition(
        "approve_licence",
        ("licence_review", "granted_ficta"),
        "licensed",
        REVIEWER,
        N_("Aprobar y emitir la licencia"),
        four_eyes_with=("rule_land_use", "assess_fees"),
        fields=("licence_number",),
        notify=("applicant",),
        issues="licence",
    ),
    Transition(
        "deny",
        ("land_use_review", "licence_review"),
        "denied",
        REVIEWER,
        N_("Negar la solicitud con resolución fundada y motivada"),
        four_eyes_with=("rule_land_use", "assess_fees"),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "request_extension",
        ("licensed",),
        "extension_requested",
        APPLICANT,
        N_("Solicitar prórroga de la licencia"),
        owner_only=True,
        guards=("extension_available",),
        notify=("assignee",),
    ),
    Transition(
        "grant_extension",
        ("extension_requested",),
        "licensed",
        REVIEWER,
        N_("Conceder la prórroga"),
        notify=("applicant",),
    ),
    Transition(
        "refuse_extension",
        ("extension_requested",),
        "licensed",
        REVIEWER,
        N_("Negar la prórroga"),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "grant_extension_ficta",
        ("extension_requested",),
        "licensed",
        SYSTEM,
        N_("Prórroga concedida por afirmativa ficta"),
        notify=("applicant",),
    ),
    Transition(
        "refuse_extension_ficta",
        ("extension_requested",),
        "licensed",
        SYSTEM,
        N_("Prórroga negada por negativa ficta"),
        notify=("applicant",),
    ),
    Transition(
        "file_completion",
        ("licensed", "observations"),
        "completion_filed",
        APPLICANT,
        N_("Presentar el aviso de terminación de obra"),
        owner_only=True,
        notify=("assignee",),
    ),
    Transition(
        "send_to_inspection",
        ("completion_filed",),
        "inspection",
        INSPECTOR | REVIEWER | SYSTEM,
        N_("La obra fue sorteada para inspección"),
        guards=("inspection_drawn",),
        notify=("applicant",),
    ),
    Transition(
        "skip_inspection",
        ("completion_filed",),
        "occupancy_review",
        INSPECTOR | REVIEWER | SYSTEM,
        N_("La obra no fue sorteada: pasa a autorización"),
        guards=("inspection_not_drawn",),
        notify=("applicant",),
    ),
    Transition(
        "pass_inspection",
        ("inspection",),
        "occupancy_review",
        INSPECTOR,
        N_("Inspección sin observaciones"),
    ),
    Transition(
        "record_observations",
        ("inspection",),
        "observations",
        INSPECTOR,
        N_("Inspección con observaciones"),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "authorize_occupancy",
        ("occupancy_review",),
        "occupancy_authorized",
        REVIEWER,
        N_("Emitir la autorización de ocupación"),
        four_eyes_with=("pass_inspection",),
        notify=("applicant",),
        issues="occupancy",
    ),
    Transition(
        "close",
        ("occupancy_authorized",),
        "closed",
        REVIEWER,
        N_("Concluir el expediente"),
    ),
    Transition(
        "withdraw",
        _OPEN_FOR_WITHDRAWAL,
        "withdrawn",
        APPLICANT,
        N_("Desistirse de la solicitud"),
        owner_only=True,
        notify=("assignee",),
    ),
    Transition(
        "revoke",
        ("licensed", "extension_requested", "completion_filed", "occupancy_authorized"),
        "revoked",
        REVIEWER,
        N_("Revocar por datos falsos o incumplimiento"),
        comment_required=True,
        notify=("applicant",),
        revokes=True,
        exceptional=True,
    ),
)

VECS_V1 = Workflow(
    name="vecs",
    version=1,
    title=N_("Ventanilla de Construcción Simplificada"),
    folio_prefix="VECS",
    initial="draft",
    states=STATES,
    transitions=TRANSITIONS,
    guards={
        "eligible": eligible,
        "prevention_available": prevention_available,
        "extension_available": extension_available,
        "inspection_drawn": inspection_drawn,
        "inspection_not_drawn": inspection_not_drawn,
        "fees_from_table": fees_from_table,
        "payment_matches_fees": payment_matches_fees,
        "payment_pending": payment_pending,
    },
    params=DEFAULT_PARAMS,
    param_choices={
        "extension_silence": ("grant_extension_ficta", "refuse_extension_ficta"),
        "resolution_silence": ("grant_ficta", "deny_ficta"),
        "resolution_interruption": (PAUSE, RESTART, RUN),
    },
    clocks=(RESOLUTION_TERM,),
    param_parsers=PARAM_PARSERS,
    computed_fields={"fees": _computed_fees},
    input_guards=frozenset({"payment_matches_fees"}),
    catalogues={"land_use": ("low_risk_uses",), "building_type": ("building_types", "excluded_building_types")},
    description=N_("Licencia de construcción para comercio de bajo impacto hasta 1,500 m² en predio baldío."),
)


# -- version 2: the prevención within the first third of the term to resolve (LFPA art. 17-A) -------------

VECS_V2 = prevention.in_term(VECS_V1, version=2, running=("submitted", "intake_review"), days=3)
"""Version 2: the prevención is issued within the first third of the term to resolve (LFPA art. 17-A), three
business days by default, and the applicant is given at least five to answer it. Requests filed under
version 1 finish under it."""


def _plain_decimal(value: Any) -> str:
    """An area or an amount as it is stored, printed and sealed: two decimals, no grouping (``8420.00``,
    ``420.50``; empty when it is not a number). See :func:`workflows.procedure.canonical_number`."""
    return canonical_number(value, 2) or ""


def _fees(data: Mapping[str, Any]) -> tuple[Decimal, list[dict[str, str]]]:
    total = Decimal(0)
    items: list[dict[str, str]] = []
    for item in data.get("fees") or []:
        if not isinstance(item, Mapping):
            continue
        amount = _plain_decimal(item.get("amount"))
        if amount:
            total += Decimal(amount)
            items.append({"concepto": str(item.get("concept") or ""), "importe": amount})
    return total, items


FEES_PAID = "Pagados; pago confirmado por la Tesorería"
FEES_PENDING = (
    "Pendientes de pago: la licencia se otorgó por afirmativa ficta y los derechos siguen causados; la orden de pago "
    "%s sigue vigente y exigible"
)
FEES_NOT_ASSESSED = (
    "Pendientes de determinar y de pagar: la licencia se otorgó por afirmativa ficta y los derechos siguen causados"
)
"""What the licence prints of its fees (documents are printed in Spanish): paid (the treasury confirmed the
order), or still owed when the silence of the authority granted the licence first."""


def build_licence(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The construction licence's fields and printed extras from the case's data (pure)."""
    data: Mapping[str, Any] = context["data"]
    number = str(data.get("licence_number") or "").strip() or str(context.get("series_number") or "")
    total, items = _fees(data)
    order: Mapping[str, Any] = (context["previous"].get("payment_order") or {}).get("fields") or {}
    paid = bool(str(data.get("payment_operation") or "").strip())
    if paid:
        status = FEES_PAID
    elif order:
        status = FEES_PENDING % order.get("referencia", "")
    else:
        status = FEES_NOT_ASSESSED
    fields = {
        "numero_licencia": number,
        "titular": context["applicant"],
        "ubicacion": data.get("property_address"),
        "clave_catastral": data.get("cadastral_key"),
        "superficie_construida_m2": _plain_decimal(data.get("built_area_m2")),
        "uso_suelo": construction.printed_name(data.get("land_use")),
        "dro_nombre": data.get("dro_name"),
        "dro_registro": data.get("dro_registration"),
        "derechos_pagados": _plain_decimal(data.get("payment_amount") or (total if items else "")),
        "situacion_derechos": status,
        "referencia_pago": data.get("payment_reference") if paid else order.get("referencia", ""),
        "operacion_pago": data.get("payment_operation") if paid else "",
        "fecha_pago": data.get("payment_paid_on") if paid else "",
        "vigencia_desde": context["issued_on"],
        "vigencia_hasta": context["valid_until"],
    }
    extra = {
        "superficie_predio": str(data.get("lot_area_m2") or ""),
        "tipo_edificacion": construction.printed_name(data["building_type"]) if data.get("building_type") else "",
        "dictamen_uso_suelo": str(data.get("land_use_ruling") or ""),
        "derechos": items,
    }
    return fields, extra


def build_occupancy(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The use and occupancy authorization from the case's data and its latest licence (pure)."""
    data: Mapping[str, Any] = context["data"]
    licence: Mapping[str, Any] = context["previous"].get("licence") or {}
    licence_fields: Mapping[str, Any] = licence.get("fields") or {}
    inspected = data.get("inspection_drawn") is True
    fields = {
        "numero_licencia": licence_fields.get("numero_licencia") or data.get("licence_number") or "",
        "titular": context["applicant"],
        "ubicacion": data.get("property_address"),
        "clave_catastral": data.get("cadastral_key"),
        "superficie_construida_m2": _plain_decimal(data.get("built_area_m2")),
        "uso_autorizado": construction.printed_name(data.get("land_use")),
        "resultado_inspeccion": (
            "La obra fue inspeccionada sin observaciones" if inspected else "La obra no fue sorteada para inspección"
        ),
    }
    return fields, {"fecha_licencia": str(licence.get("issued_on") or "")}


def build_payment_order(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payment order from the assessed fees (pure): its reference (the case's folio, the order's number on
    the case and MOD 97-10 check digits), the payer, the total and the due date (its validity); the fee rows
    with their legal basis are printed beside it."""
    data: Mapping[str, Any] = context["data"]
    earlier: Mapping[str, Any] = (context["previous"].get("payment_order") or {}).get("fields") or {}
    previous_reference = str(earlier.get("referencia") or "")
    number = int(previous_reference[-4:-2]) + 1 if previous_reference[-4:-2].isdigit() else 1
    rows = [dict(item) for item in data.get("fees") or [] if isinstance(item, Mapping)]
    fields = {
        "referencia": payment_reference(str(context["folio"]), number),
        "contribuyente": context["applicant"],
        "importe_total": _plain_decimal(fees_total(rows)),
        "fecha_limite": context["valid_until"],
    }
    extra = {
        "derechos": [
            {
                "concepto": str(item.get("concept") or ""),
                "cantidad": str(item.get("quantity") or ""),
                "unidad": "m²" if item.get("unit") == "m2" else "",
                "tarifa": str(item.get("rate") or ""),
                "importe": _plain_decimal(item.get("amount")),
                "fundamento": str(item.get("legal_basis") or ""),
            }
            for item in rows
        ],
        "ubicacion": str(data.get("property_address") or ""),
    }
    return fields, extra


_LICENCE_CADENA_1_0 = (
    "numero_licencia",
    "titular",
    "ubicacion",
    "clave_catastral",
    "superficie_construida_m2",
    "uso_suelo",
    "dro_nombre",
    "dro_registro",
    "derechos_pagados",
    "referencia_pago",
    "operacion_pago",
    "fecha_pago",
    "vigencia_desde",
    "vigencia_hasta",
)
_LICENCE_ROWS_1_0 = (
    Row("numero_licencia", "Número de licencia"),
    Row("titular", "Titular"),
    Row("ubicacion", "Ubicación del predio"),
    Row("clave_catastral", "Clave catastral"),
    Row("superficie_construida_m2", "Superficie de construcción autorizada", "area"),
    Row("uso_suelo", "Uso o giro autorizado"),
    Row("dro_nombre", "Director Responsable de Obra"),
    Row("dro_registro", "Registro del DRO"),
    Row("derechos_pagados", "Derechos pagados", "money"),
    Row("referencia_pago", "Línea de captura pagada"),
    Row("operacion_pago", "Operación confirmada (Tesorería)"),
    Row("fecha_pago", "Fecha de pago", "date"),
    Row("vigencia_desde", "Vigente desde", "date"),
    Row("vigencia_hasta", "Vigente hasta", "date"),
)
"""The licence's sealed fields and printed rows in format 1.0 (published; licences issued under it keep it)."""

DOCUMENTS = (
    Document(
        kind="payment_order",
        title=N_("Orden de pago de derechos"),
        template="payment_order.html",
        tipo="ORDEN_PAGO",
        cadena=("referencia", "contribuyente", "importe_total", "fecha_limite"),
        rows=(
            Row("referencia", "Línea de captura (referencia)"),
            Row("contribuyente", "Contribuyente"),
            Row("importe_total", "Importe total a pagar", "money"),
            Row("fecha_limite", "Fecha límite de pago", "date"),
        ),
        legal_basis=(
            "Artículo 115, fracción IV, de la Constitución Política de los Estados Unidos Mexicanos; Ley de Ingresos "
            "del Municipio para el ejercicio fiscal vigente; Código Fiscal municipal."
        ),
        validity="payment_days",
        validity_business=True,
        build=build_payment_order,
        revoked_with_case=False,  # revoking the licence does not undo the assessment or the payment
    ),
    Document(
        kind="licence",
        title=N_("Licencia de construcción"),
        template="licence.html",
        tipo="LICENCIA_CONSTRUCCION",
        cadena=(*_LICENCE_CADENA_1_0[:9], "situacion_derechos", *_LICENCE_CADENA_1_0[9:]),
        rows=(
            *_LICENCE_ROWS_1_0[:8],
            Row("derechos_pagados", "Importe de los derechos", "money"),
            Row("situacion_derechos", "Situación de los derechos"),
            Row("referencia_pago", "Línea de captura (orden de pago)"),
            *_LICENCE_ROWS_1_0[10:],
        ),
        legal_basis=(
            "Artículo 115, fracción V, incisos d) y f), de la Constitución Política de los Estados Unidos Mexicanos; "
            "Reglamento de Construcción del Municipio; Lineamientos de la Ventanilla de Construcción Simplificada "
            "(VECS), publicados en el Diario Oficial de la Federación el 20 de mayo de 2019."
        ),
        validity="licence_validity_days",
        series="LC",
        number_field="licence_number",
        build=build_licence,
        # 1.1 seals whether the fees were paid or remain owed (a licence granted by afirmativa ficta before
        # the treasury confirmed the payment), and prints the amount and the order's reference under labels
        # true in both cases; licences issued under 1.0 keep being rebuilt from their own print
        cadena_version="1.1",
        former_formats=(FormerFormat("1.0", _LICENCE_CADENA_1_0, _LICENCE_ROWS_1_0),),
    ),
    Document(
        kind="occupancy",
        title=N_("Autorización de uso y ocupación"),
        template="occupancy.html",
        tipo="AUTORIZACION_OCUPACION",
        cadena=(
            "numero_licencia",
            "titular",
            "ubicacion",
            "clave_catastral",
            "superficie_construida_m2",
            "uso_autorizado",
            "resultado_inspeccion",
        ),
        rows=(
            Row("numero_licencia", "Licencia de construcción"),
            Row("titular", "Titular"),
            Row("ubicacion", "Ubicación del predio"),
            Row("clave_catastral", "Clave catastral"),
            Row("superficie_construida_m2", "Superficie construida", "area"),
            Row("uso_autorizado", "Uso autorizado"),
            Row("resultado_inspeccion", "Verificación de la obra"),
        ),
        legal_basis=(
            "Artículo 115, fracción V, inciso f), de la Constitución Política de los Estados Unidos Mexicanos; "
            "Reglamento de Construcción del Municipio, en lo relativo al aviso de terminación de obra y a la "
            "autorización de uso y ocupación; Lineamientos de la Ventanilla de Construcción Simplificada (VECS), "
            "publicados en el Diario Oficial de la Federación el 20 de mayo de 2019."
        ),
        build=build_occupancy,
    ),
)
"""The documents VECS issues: the payment order, the construction licence and the use and occupancy
authorization."""

PROCEDURE = Procedure(
    name="vecs",
    workflows=(VECS_V1, VECS_V2),
    fields=(
        *construction.request_fields(("low_risk_uses",), ("building_types", "excluded_building_types")),
        Field("prevention_items", N_("Puntos que debe corregir el solicitante"), "codes", hidden=True, required=True),
        Field("land_use_ruling", N_("Dictamen de uso de suelo y alineamiento"), max_length=2000, required=True),
        Field("fees", N_("Derechos"), "fees", hidden=True),
        Field("payment_reference", N_("Línea de captura pagada"), system=True),
        Field("payment_amount", N_("Importe pagado"), "money", system=True),
        Field("payment_paid_on", N_("Fecha de pago"), "date", system=True),
        Field("payment_operation", N_("Operación de pago (Tesorería)"), system=True),
        Field("licence_number", N_("Número de licencia"), system=True),
        Field("resolution_lapsed_on", N_("Venció el plazo de resolución el"), "date", system=True),
        Field(prevention.WINDOW_FIELD, N_("Venció el plazo para prevenir el"), "date", system=True),
        Field("inspection_drawn", N_("Sorteada para inspección"), "boolean", system=True),
        Field("inspection_draw", N_("Registro del sorteo de inspección"), "list", hidden=True),
    ),
    steps=construction.STEPS,
    parameters=(
        *construction.parameters(
            DEFAULT_PARAMS,
            (
                ("intake", N_("Ventanilla: integración del expediente")),
                ("land_use", N_("Dictamen de uso de suelo y alineamiento")),
                ("fees", N_("Determinación de derechos")),
                ("licence", N_("Licencia, prórrogas y ocupación")),
                ("inspection", N_("Inspección de obra")),
            ),
        ),
        Parameter(
            "resolution_days",
            N_("Plazo máximo de resolución (días hábiles desde el día hábil siguiente a la presentación completa)"),
            N_("Lineamientos de la Ventanilla de Construcción Simplificada (DOF 20-05-2019): diez días hábiles."),
            construction.TERMS_SECTION,
        ),
        Parameter(
            "prevention_issue_days",
            N_("Plazo para prevenir al solicitante (días hábiles desde el día hábil siguiente a la presentación)"),
            N_(
                "LFPA art. 17-A: dentro del primer tercio del plazo de resolución; pasado, la solicitud ya no puede "
                "desecharse por incompleta. Tres de los diez días."
            ),
            construction.TERMS_SECTION,
        ),
        Parameter(
            "resolution_interruption",
            N_("El plazo de resolución mientras el solicitante tiene el expediente (prevención, pago)"),
            N_("Según la ley de procedimiento administrativo aplicable (p. ej. LFPA art. 17-A: se suspende)."),
            construction.TERMS_SECTION,
            labels=(
                (PAUSE, N_("Se suspende y se reanuda con los días restantes")),
                (RESTART, N_("Se interrumpe y vuelve a contar completo")),
                (RUN, N_("Sigue corriendo")),
            ),
        ),
        Parameter(
            "resolution_silence",
            N_("Si la autoridad no resuelve en el plazo"),
            section=construction.TERMS_SECTION,
            labels=(
                ("grant_ficta", N_("Se tiene por otorgada (afirmativa ficta)")),
                ("deny_ficta", N_("Se tiene por negada (negativa ficta)")),
            ),
        ),
        Parameter(
            "licence_validity_days",
            N_("Vigencia de la licencia de construcción (días naturales)"),
            section=N_("Documentos"),
        ),
    ),
    departments=(
        Department("ventanilla", N_("Ventanilla única"), "Single Window"),
        Department("desarrollo_urbano", N_("Dirección de Desarrollo Urbano"), "Urban Development Department"),
        Department("finanzas", N_("Tesorería Municipal"), "Municipal Treasury"),
        Department("obras_publicas", N_("Obras Públicas"), "Public Works"),
    ),
    presentation=Presentation(
        styles={"deny": "danger", "withdraw": "danger", "revoke": "danger", "close": "secondary"},
        correction_states=("prevention",),
        correction_field="prevention_items",
        binds={"prevention": "applicant", "awaiting_payment": "applicant", "extension_requested": "authority"},
        sections=construction.SECTIONS,
    ),
    documents=DOCUMENTS,
    payment=Payment(
        order="payment_order",
        confirm_trigger="confirm_payment",
        awaiting="awaiting_payment",
        reference_field="payment_reference",
        amount_field="payment_amount",
        late_trigger="confirm_payment_after_ficta",
        paid_on_field="payment_paid_on",
        operation_field="payment_operation",
    ),
    eligibility=eligibility_reasons,
    eligibility_fields=construction.ELIGIBILITY_FIELDS,
    eligibility_form="forms.construction:EligibilityForm",
    demo=Demo(
        settings={
            "departments": {
                "intake": "ventanilla",
                "land_use": "desarrollo_urbano",
                "fees": "finanzas",
                "licence": "desarrollo_urbano",
                "inspection": "obras_publicas",
            },
            "fee_table": [
                {
                    "concept": "Licencia de construcción de obra nueva, uso comercial",
                    "concept_en": "Construction licence for new commercial works",
                    "unit": "m2",
                    "rate": "18.50",
                    "legal_basis": (
                        "Ley de Ingresos del Municipio de Ejemplo para el ejercicio fiscal 2026, art. 25, fracc. I"
                    ),
                },
                {
                    "concept": "Constancia de alineamiento y número oficial",
                    "concept_en": "Alignment and official number certificate",
                    "unit": "fixed",
                    "rate": "851.00",
                    "legal_basis": "Ley de Ingresos del Municipio de Ejemplo para el ejercicio fiscal 2026, art. 27",
                },
            ],
        },
        data=construction.DEMO_DATA,
        documents=construction.DEMO_DOCUMENTS,
        users=(DemoUser("tesoreria", "Teresa Tesorería", "treasury"),),
        cases=(
            (),
            (DemoStep("submit", "solicitante"),),
            (
                DemoStep("submit", "solicitante"),
                DemoStep("start_intake", "ventanilla"),
                DemoStep(
                    "issue_prevention",
                    "ventanilla",
                    {"prevention_items": ["planos"]},
                    "Los planos no muestran las cotas del predio.",
                ),
            ),
            (
                DemoStep("submit", "solicitante"),
                DemoStep("start_intake", "ventanilla"),
                DemoStep("accept_intake", "ventanilla"),
                DemoStep("rule_land_use", "dictaminador", {"land_use_ruling": "Compatible con zonificación H3-C"}),
                DemoStep("assess_fees", "revisor"),
                DemoStep("confirm_payment", "tesoreria", {"payment_operation": "SPEI-2026-0088123"}),
                DemoStep("approve_licence", "aprobador", {"licence_number": "LC-2026-0001"}),
            ),
            (
                DemoStep("submit", "solicitante"),
                DemoStep("start_intake", "ventanilla"),
                DemoStep("accept_intake", "ventanilla"),
                DemoStep("rule_land_use", "dictaminador", {"land_use_ruling": "Compatible con zonificación H3-C"}),
            ),
        ),
    ),
)
"""The VECS procedure as the rest of the product serves it."""
