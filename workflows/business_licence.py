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

from workflows.base import N_, SYSTEM_ROLE, Clock, Deadline, GuardInput, State, Target, Transition, Workflow
from workflows.procedure import Department, Field, Presentation, Procedure, Step
from workflows.vecs import as_decimal, departments_parser, parse_requirements

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
        {"kind": "identificacion", "label": "Identificación oficial del titular"},
        {"kind": "comprobante_domicilio", "label": "Comprobante de domicilio del establecimiento"},
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


def prevention_available(inp: GuardInput) -> str | None:
    """Only one prevención may be issued per request."""
    if inp.count("issue_prevention") >= int(inp.params["max_preventions"]):
        return N_("Ya se emitió la única prevención permitida para esta solicitud.")
    return None


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

PROCEDURE = Procedure(
    name="business_licence",
    workflows=(BUSINESS_LICENCE_V1,),
    fields=(
        Field("business_name", N_("Nombre comercial"), step="negocio", required=True, max_length=200),
        Field(
            "activity",
            N_("Giro"),
            "code",
            catalogue=("low_risk_activities",),
            step="negocio",
            required=True,
            labels=(
                ("abarrotes", N_("Tienda de abarrotes")),
                ("papeleria", N_("Papelería")),
                ("cafeteria", N_("Cafetería")),
                ("estetica", N_("Estética")),
                ("consultorio", N_("Consultorio")),
                ("reparacion_calzado", N_("Reparación de calzado")),
            ),
        ),
        Field("floor_area_m2", N_("Superficie del establecimiento (m²)"), "area", step="negocio", required=True),
        Field("business_address", N_("Domicilio del establecimiento"), step="negocio", required=True, max_length=300),
        Field("prevention_items", N_("Puntos que debe corregir el solicitante"), "codes", hidden=True, required=True),
        Field("resolution_lapsed_on", N_("Venció el plazo de resolución"), "date", system=True),
    ),
    steps=(
        Step("negocio", N_("Negocio"), ("business_name", "activity", "floor_area_m2", "business_address")),
        Step("documentos", N_("Documentos"), documents=True),
    ),
    departments=(Department("desarrollo_economico", N_("Dirección de Desarrollo Económico")),),
    presentation=Presentation(
        styles={"deny": "danger", "withdraw": "danger", "revoke": "danger"},
        correction_states=("prevention",),
        correction_field="prevention_items",
        binds={"prevention": "applicant"},
    ),
    eligibility=eligibility_reasons,
    eligibility_fields=("activity", "floor_area_m2"),
)
"""The low-risk operating licence as the rest of the product serves it."""
