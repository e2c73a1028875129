"""VECS — Ventanilla de Construcción Simplificada (simplified construction window).

Low-impact commercial buildings up to 1,500 m² on vacant lots: one window, one form, at most ten
business days. Every number is a parameter so that each municipality can configure its own; the
defaults follow the federal guidelines (DOF 2019-05-20).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.base import (
    N_,
    SYSTEM_ROLE,
    Deadline,
    GuardInput,
    State,
    Target,
    Transition,
    Workflow,
)

APPLICANT = frozenset({"applicant"})
INTAKE = frozenset({"intake_clerk"})
REVIEWER = frozenset({"reviewer"})
INSPECTOR = frozenset({"inspector"})
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
}

ORDINARY_PROCEDURE = N_("licencia de construcción ordinaria")

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


def _area(value: Any) -> Decimal | None:
    try:
        area = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return area if area.is_finite() else None


def eligible(inp: GuardInput) -> str | None:
    """Eligibility for the simplified window; the reason names the ordinary procedure that applies."""
    data = inp.data
    area = _area(data.get("built_area_m2"))
    if area is None or area <= 0:
        return N_("La superficie construida debe ser un número mayor que cero.")
    if area > Decimal(str(inp.params["max_built_area_m2"])):
        return N_(
            "La superficie construida excede el máximo de la ventanilla simplificada; "
            "corresponde tramitar la licencia de construcción ordinaria."
        )
    if data.get("new_construction") is not True:
        return N_("Solo obra nueva es elegible; para ampliaciones o remodelaciones tramite la licencia ordinaria.")
    if data.get("works_started") is not False:
        return N_("La obra no debe haber iniciado; para regularizar obra iniciada tramite la licencia ordinaria.")
    if data.get("lot_vacant") is not True:
        return N_("El predio debe estar baldío; con construcción existente tramite la licencia ordinaria.")
    if data.get("building_type") in inp.params["excluded_building_types"]:
        return N_("Este tipo de edificación está excluido de la ventanilla; tramite la licencia ordinaria.")
    if data.get("land_use") not in inp.params["low_risk_uses"]:
        return N_(
            "El giro no está en el catálogo de bajo riesgo del municipio; "
            "tramite la licencia de uso de suelo y de construcción ordinarias."
        )
    return None


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


STATES = (
    State("draft", N_("Borrador: el solicitante captura su solicitud")),
    State("submitted", N_("Presentada: en espera de revisión de ventanilla")),
    State(
        "intake_review",
        N_("Revisión de integración del expediente"),
        target=Target("intake_target_days", N_("Meta de revisión de integración")),
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
    ),
    State(
        "fee_assessment",
        N_("Determinación de derechos"),
        target=Target("fees_target_days", N_("Meta de determinación de derechos")),
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
    ),
    State("licensed", N_("Licencia emitida")),
    State(
        "extension_requested",
        N_("Prórroga solicitada"),
        deadline=Deadline(
            "extension_answer_days",
            "grant_extension_ficta",
            N_("Plazo para responder la prórroga"),
            on_expiry_param="extension_silence",
        ),
    ),
    State("completion_filed", N_("Aviso de terminación presentado")),
    State("inspection", N_("Inspección de obra")),
    State(
        "occupancy_review",
        N_("Revisión de la autorización de ocupación"),
        target=Target("completion_target_days", N_("Meta de autorización de ocupación")),
    ),
    State("observations", N_("Observaciones de la inspección")),
    State("occupancy_authorized", N_("Autorización de ocupación emitida")),
    State("denied", N_("Negada"), terminal=True),
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

TRANSITIONS = (
    Transition(
        "edit",
        ("draft",),
        "draft",
        APPLICANT,
        N_("Guardar cambios en el borrador"),
        owner_only=True,
        fields=FIELDS,
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
        fields=FIELDS,
        required_documents=REQUIRED_DOCUMENTS,
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
        N_("Determinar los derechos a pagar conforme a la tabla publicada"),
        fields=("fees",),
        required_fields=("fees",),
        notify=("applicant",),
    ),
    Transition(
        "record_payment",
        ("awaiting_payment",),
        "licence_review",
        APPLICANT,
        N_("Registrar la referencia de pago"),
        owner_only=True,
        fields=("payment_reference",),
        required_fields=("payment_reference",),
        notify=("assignee",),
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
        "approve_licence",
        ("licence_review",),
        "licensed",
        REVIEWER,
        N_("Aprobar y emitir la licencia"),
        four_eyes_with=("rule_land_use", "assess_fees"),
        fields=("licence_number",),
        notify=("applicant",),
    ),
    Transition(
        "deny",
        ("land_use_review", "licence_review"),
        "denied",
        REVIEWER,
        N_("Negar la solicitud con resolución fundada y motivada"),
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
    ),
    Transition(
        "skip_inspection",
        ("completion_filed",),
        "occupancy_review",
        INSPECTOR | REVIEWER | SYSTEM,
        N_("La obra no fue sorteada: pasa a autorización"),
        guards=("inspection_not_drawn",),
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
    },
    params=DEFAULT_PARAMS,
    param_choices={"extension_silence": ("grant_extension_ficta", "refuse_extension_ficta")},
    description=N_("Licencia de construcción para comercio de bajo impacto hasta 1,500 m² en predio baldío."),
)
