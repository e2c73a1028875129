"""Licencia de funcionamiento de bajo riesgo: the operating licence of a low-risk business (SARE-style).

The applicant files once (the business, its activity from the municipality's catalogue of low-risk
activities, its floor area and address, proof of address); the economic-development office may issue one
prevención; it approves (a sealed licence is issued) or denies with its reasons. The resolution term counts in
business days from the day after the complete filing and pauses while the applicant answers the prevención;
if it lapses without a resolution the licence is deemed granted (*afirmativa ficta*) and the system issues it.

Every number is a jurisdiction setting: the floor-area limit, the catalogue, the terms. The defaults follow the
usual shape of the municipal SARE programmes (CONAMER's Sistema de Apertura Rápida de Empresas: low-risk
activities resolved within at most 3 business days in one window); each municipality's regulation sets its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows import prevention
from workflows.base import N_, SYSTEM_ROLE, Clock, Deadline, GuardInput, State, Target, Transition, Workflow
from workflows.procedure import (
    Demo,
    DemoStep,
    DemoUser,
    Department,
    Document,
    Field,
    Parameter,
    Presentation,
    Procedure,
    Row,
    Step,
)
from workflows.vecs import as_decimal, departments_parser, parse_requirements, prevention_available

APPLICANT = frozenset({"applicant"})
REVIEWER = frozenset({"reviewer"})
SYSTEM = frozenset({SYSTEM_ROLE})

FIELDS = ("business_name", "activity", "floor_area_m2", "business_address")
"""What the applicant gives; all of it is required to file."""

OFFICES = ("licensing",)

DEFAULT_PARAMS: dict[str, Any] = {
    "max_floor_area_m2": "200",
    "low_risk_activities": (
        "abarrotes",
        "papeleria",
        "cafeteria",
        "estetica",
        "consultorio",
        "reparacion_calzado",
    ),
    "requirements": (
        {
            "kind": "identificacion",
            "label": "Identificación oficial del titular",
            "label_en": "Official ID of the holder",
        },
        {
            "kind": "comprobante_domicilio",
            "label": "Comprobante de domicilio del establecimiento",
            "label_en": "Proof of address of the establishment",
        },
    ),
    "departments": {"licensing": ""},
    "prevention_answer_days": 5,
    "max_preventions": 1,
    "resolution_days": 3,
    "review_target_days": 1,
    "licence_validity_days": 365,
    "reminder_business_days": 1,
}


def eligibility_reasons(data: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """Every reason why a business does not qualify for the low-risk licence (empty when it does), naming what
    applies instead. Pure: the same rules the ``eligible`` guard applies."""
    reasons: list[str] = []
    area = as_decimal(data.get("floor_area_m2"))
    limit = as_decimal(params["max_floor_area_m2"])
    if area is None or area <= 0:
        reasons.append(N_("Indique la superficie del establecimiento en metros cuadrados."))
    elif limit is not None and area > limit:
        reasons.append(
            N_(
                "La superficie del establecimiento excede el máximo de bajo riesgo; "
                "corresponde la licencia de funcionamiento ordinaria."
            )
        )
    if data.get("activity") not in params["low_risk_activities"]:
        reasons.append(
            N_(
                "El giro no está en el catálogo de actividades de bajo riesgo; "
                "corresponde la licencia de funcionamiento ordinaria."
            )
        )
    return reasons


def eligible(inp: GuardInput) -> str | None:
    """Eligibility for the low-risk licence; the reason names the procedure that applies instead."""
    reasons = eligibility_reasons(inp.data, inp.params)
    return reasons[0] if reasons else None


ACTIVITY_NAMES: dict[str, str] = {
    "abarrotes": N_("Tienda de abarrotes"),
    "papeleria": N_("Papelería"),
    "cafeteria": N_("Cafetería"),
    "estetica": N_("Estética"),
    "consultorio": N_("Consultorio"),
    "reparacion_calzado": N_("Reparación de calzado"),
}
"""The activities as words (the licence prints them in Spanish; pages translate the same words)."""


def _plain_area(value: Any) -> str:
    number = as_decimal(value)
    return f"{number:.2f}" if number is not None else ""


def build_licence(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The operating licence's fields and printed extras from the case's data (pure)."""
    data: Mapping[str, Any] = context["data"]
    activity = str(data.get("activity") or "")
    fields = {
        "numero_licencia": str(data.get("licence_number") or "").strip() or str(context.get("series_number") or ""),
        "titular": context["applicant"],
        "nombre_comercial": data.get("business_name"),
        "domicilio": data.get("business_address"),
        "giro": ACTIVITY_NAMES.get(activity, activity.replace("_", " ").capitalize()),
        "superficie_m2": _plain_area(data.get("floor_area_m2")),
        "vigencia_desde": context["issued_on"],
        "vigencia_hasta": context["valid_until"],
    }
    lapsed = str(data.get("resolution_lapsed_on") or "")
    extra = {
        "afirmativa_ficta": bool(lapsed),
        "vencimiento": lapsed,
        "plazo_resolucion": context["params"].get("resolution_days", ""),
    }
    return fields, extra


DOCUMENTS = (
    Document(
        kind="business_licence",
        title=N_("Licencia de funcionamiento"),
        template="business_licence.html",
        tipo="LICENCIA_FUNCIONAMIENTO",
        cadena=(
            "numero_licencia",
            "titular",
            "nombre_comercial",
            "domicilio",
            "giro",
            "superficie_m2",
            "vigencia_desde",
            "vigencia_hasta",
        ),
        rows=(
            Row("numero_licencia", "Número de licencia"),
            Row("titular", "Titular"),
            Row("nombre_comercial", "Nombre comercial"),
            Row("domicilio", "Domicilio del establecimiento"),
            Row("giro", "Giro autorizado"),
            Row("superficie_m2", "Superficie del establecimiento", "area"),
            Row("vigencia_desde", "Vigente desde", "date"),
            Row("vigencia_hasta", "Vigente hasta", "date"),
        ),
        legal_basis=(
            "Artículo 115, fracciones II y III, de la Constitución Política de los Estados Unidos Mexicanos; "
            "Ley General de Mejora Regulatoria (Sistema de Apertura Rápida de Empresas); Reglamento de "
            "Establecimientos Mercantiles del Municipio."
        ),
        validity="licence_validity_days",
        series="LF",
        number_field="licence_number",
        build=build_licence,
    ),
)
"""The document the procedure issues: the operating licence (on approval, or by afirmativa ficta)."""


STATES = (
    State("draft", N_("Borrador: el solicitante captura su solicitud")),
    State(
        "submitted",
        N_("Presentada: en revisión de la Dirección de Desarrollo Económico"),
        target=Target("review_target_days", N_("Meta de revisión de la solicitud")),
        department="licensing",
    ),
    State(
        "prevention",
        N_("Prevención: el solicitante debe corregir o completar"),
        deadline=Deadline("prevention_answer_days", "lapse_prevention", N_("Plazo para desahogar la prevención")),
    ),
    State("licensed", N_("Licencia de funcionamiento expedida"), department="licensing"),
    State("denied", N_("Negada"), terminal=True),
    State("withdrawn", N_("Desistida por el solicitante"), terminal=True),
    State("not_presented", N_("Tenida por no presentada (prevención no desahogada)"), terminal=True),
    State("revoked", N_("Licencia revocada"), terminal=True),
)

TRANSITIONS = (
    Transition(
        "edit",
        ("draft",),
        "draft",
        APPLICANT,
        N_("Capturar los datos de la solicitud"),
        owner_only=True,
        fields=FIELDS,
    ),
    Transition(
        "edit",
        ("prevention",),
        "prevention",
        APPLICANT,
        N_("Corregir los datos señalados en la prevención"),
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
        documents_param="requirements",
        required_documents=("identificacion", "comprobante_domicilio"),
        notify=("assignee",),
    ),
    Transition(
        "issue_prevention",
        ("submitted",),
        "prevention",
        REVIEWER,
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
        "submitted",
        APPLICANT,
        N_("Desahogar la prevención"),
        owner_only=True,
        guards=("eligible",),
        fields=FIELDS,
        required_fields=FIELDS,
        documents_param="requirements",
        required_documents=("identificacion", "comprobante_domicilio"),
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
        "approve",
        ("submitted",),
        "licensed",
        REVIEWER,
        N_("Expedir la licencia de funcionamiento"),
        guards=("eligible",),
        notify=("applicant",),
        issues="business_licence",
    ),
    Transition(
        "deny",
        ("submitted",),
        "denied",
        REVIEWER,
        N_("Negar la licencia (fundada y motivada)"),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "grant_ficta",
        ("submitted",),
        "licensed",
        SYSTEM,
        N_("Venció el plazo de resolución: licencia otorgada por afirmativa ficta"),
        fields=("resolution_lapsed_on",),
        notify=("applicant", "assignee"),
        issues="business_licence",
    ),
    Transition(
        "withdraw",
        ("draft", "submitted", "prevention"),
        "withdrawn",
        APPLICANT,
        N_("Desistirse de la solicitud"),
        owner_only=True,
        notify=("assignee",),
    ),
    Transition(
        "revoke",
        ("licensed",),
        "revoked",
        REVIEWER,
        N_("Revocar la licencia por datos falsos o incumplimiento"),
        comment_required=True,
        notify=("applicant",),
        revokes=True,
        exceptional=True,
    ),
)

CLOCKS = (
    Clock(
        "resolution",
        "resolution_days",
        N_("Plazo para resolver la solicitud"),
        running=("submitted",),
        paused=("prevention",),
        started_by=("submit",),
        on_lapse="grant_ficta",
        lapse_field="resolution_lapsed_on",
        legal_term=True,  # the term whose lapse grants the licence: shown with the case everywhere, publicly too
    ),
)

BUSINESS_LICENCE_V1 = Workflow(
    name="business_licence",
    version=1,
    title=N_("Licencia de funcionamiento de bajo riesgo"),
    folio_prefix="LFBR",
    initial="draft",
    states=STATES,
    transitions=TRANSITIONS,
    guards={"eligible": eligible, "prevention_available": prevention_available},
    params=DEFAULT_PARAMS,
    param_parsers={"requirements": parse_requirements, "departments": departments_parser(OFFICES)},
    catalogues={"activity": ("low_risk_activities",)},
    clocks=CLOCKS,
    description=N_(
        "Licencia de funcionamiento para negocios de bajo riesgo: una sola ventanilla, una prevención como "
        "máximo y afirmativa ficta si no se resuelve en plazo."
    ),
)

BUSINESS_LICENCE_V2 = prevention.in_term(BUSINESS_LICENCE_V1, version=2, running=("submitted",), days=1)
"""Version 2: the prevención is issued within the first third of the term to resolve (LFPA art. 17-A), one
business day of the default three, and the applicant is given at least five to answer it. Requests filed under
version 1 finish under it."""

PROCEDURE = Procedure(
    name="business_licence",
    workflows=(BUSINESS_LICENCE_V1, BUSINESS_LICENCE_V2),
    fields=(
        Field("business_name", N_("Nombre comercial"), step="negocio", required=True, max_length=200),
        Field(
            "activity",
            N_("Giro"),
            "code",
            catalogue=("low_risk_activities",),
            step="negocio",
            required=True,
            labels=tuple(ACTIVITY_NAMES.items()),
        ),
        Field(
            "floor_area_m2",
            N_("Superficie del establecimiento"),
            "area",
            step="negocio",
            required=True,
            help=N_("En metros cuadrados, p. ej. 45 o 120.50."),
        ),
        Field("business_address", N_("Domicilio del establecimiento"), step="negocio", required=True, max_length=300),
        Field("prevention_items", N_("Puntos que debe corregir el solicitante"), "codes", hidden=True, required=True),
        Field("resolution_lapsed_on", N_("Venció el plazo de resolución"), "date", system=True),
        Field(prevention.WINDOW_FIELD, N_("Venció el plazo para prevenir el"), "date", system=True),
        Field("licence_number", N_("Número de licencia"), system=True),
    ),
    steps=(
        Step("negocio", N_("Negocio"), ("business_name", "activity", "floor_area_m2", "business_address")),
        Step("documentos", N_("Documentos"), documents=True),
    ),
    parameters=(
        Parameter(
            "max_floor_area_m2",
            N_("Superficie máxima del establecimiento (m²)"),
            section=N_("Elegibilidad y catálogos"),
        ),
        Parameter(
            "low_risk_activities",
            N_("Catálogo de giros de bajo riesgo"),
            N_("Un código por renglón."),
            N_("Elegibilidad y catálogos"),
        ),
        Parameter("requirements", N_("Requisitos documentales"), section=N_("Requisitos"), kind="requirements"),
        Parameter(
            "departments",
            N_("Áreas responsables"),
            N_("Qué área atiende cada etapa; sin área, cualquiera con el rol."),
            N_("Áreas responsables"),
            "departments",
            (("licensing", N_("Revisión y expedición de la licencia")),),
        ),
        Parameter(
            "prevention_answer_days",
            N_("Plazo para desahogar la prevención (días hábiles)"),
            section=N_("Plazos del solicitante y silencio de la autoridad"),
        ),
        Parameter(
            "max_preventions",
            N_("Número máximo de prevenciones"),
            section=N_("Plazos del solicitante y silencio de la autoridad"),
        ),
        Parameter(
            prevention.ISSUE_DAYS,
            N_("Plazo para prevenir al solicitante (días hábiles desde el día hábil siguiente a la presentación)"),
            N_(
                "LFPA art. 17-A: dentro del primer tercio del plazo de resolución; pasado, la solicitud ya no puede "
                "desecharse por incompleta. Uno de los tres días."
            ),
            N_("Plazos del solicitante y silencio de la autoridad"),
        ),
        Parameter(
            "resolution_days",
            N_("Plazo para resolver; si vence, afirmativa ficta (días hábiles)"),
            section=N_("Plazos del solicitante y silencio de la autoridad"),
        ),
        Parameter(
            "reminder_business_days",
            N_("Recordatorio antes del vencimiento (días hábiles)"),
            section=N_("Plazos del solicitante y silencio de la autoridad"),
        ),
        Parameter(
            "review_target_days", N_("Meta: revisión de la solicitud (días hábiles)"), section=N_("Metas de servicio")
        ),
        Parameter(
            "licence_validity_days",
            N_("Vigencia de la licencia de funcionamiento (días naturales)"),
            section=N_("Documentos"),
        ),
    ),
    departments=(
        Department("desarrollo_economico", N_("Dirección de Desarrollo Económico"), "Economic Development Department"),
    ),
    documents=DOCUMENTS,
    presentation=Presentation(
        styles={"deny": "danger", "withdraw": "danger", "revoke": "danger"},
        correction_states=("prevention",),
        correction_field="prevention_items",
        binds={"prevention": "applicant"},
    ),
    eligibility=eligibility_reasons,
    eligibility_fields=("activity", "floor_area_m2"),
    demo=Demo(
        settings={"departments": {"licensing": "desarrollo_economico"}},
        data={
            "business_name": "Papelería La Esquina",
            "activity": "papeleria",
            "floor_area_m2": "45",
            "business_address": "Calle Morelos 18, Centro",
        },
        documents=("identificacion", "comprobante_domicilio"),
        cases=((DemoStep("submit", "solicitante"),),),
        users=(DemoUser("economia", "Ernesto Economía", "reviewer", "desarrollo_economico"),),
    ),
)
"""The low-risk operating licence as the rest of the product serves it."""
