"""Registro de Manifestación de Construcción Tipo B, shaped like Mexico City's.

A second construction procedure on the same engine, to show that nothing is hard-wired to one
municipality: the manifestation is **registered at the counter** as soon as it is complete (no prior
review: the works may start), and its content is reviewed afterwards; the review may raise observations
or revoke the registration. Extensions are answered within 3 business days, at most twice; the
completion notice is answered within a 5-business-day term. Every number is a parameter.

It reuses the VECS request data (property, project, use, DRO and co-responsibles) and the same kinds of
settings (requirements list, departments, catalogues), but its own rules and states.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from workflows import construction
from workflows.base import N_, SYSTEM_ROLE, Deadline, GuardInput, State, Target, Transition, Workflow
from workflows.procedure import Demo, DemoStep, Department, Field, Presentation, Procedure
from workflows.vecs import (
    FIELDS,
    OPTIONAL_FIELDS,
    as_decimal,
    departments_parser,
    extension_available,
    parse_requirements,
)

APPLICANT = frozenset({"applicant"})
REVIEWER = frozenset({"reviewer"})
SYSTEM = frozenset({SYSTEM_ROLE})

OFFICES = ("review",)
"""The office that reviews registered manifestations; each jurisdiction maps it to a department."""

REQUIRED_DOCUMENTS = (
    "identificacion",
    "propiedad",
    "zonificacion",
    "alineamiento",
    "planos",
    "memoria_estructural",
    "carta_dro",
    "pago_derechos",
)

DEFAULT_PARAMS: dict[str, Any] = {
    "max_built_area_m2": "5000",
    "max_housing_area_m2": "10000",
    "min_housing_area_m2": "200",
    "housing_types": ("vivienda_unifamiliar", "vivienda_plurifamiliar"),
    "building_types": ("local_comercial", "oficinas", "bodega", "vivienda_unifamiliar", "vivienda_plurifamiliar"),
    "excluded_building_types": ("hospital", "estadio", "gasolinera", "industria"),
    "land_uses": ("habitacional", "habitacional_con_comercio", "comercio", "oficinas", "servicios"),
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
            "kind": "zonificacion",
            "label": "Certificado Único de Zonificación de Uso del Suelo",
            "label_en": "Single land-use zoning certificate",
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
            "label": "Responsiva del DRO y de los corresponsables",
            "label_en": "Responsibility letters of the DRO and co-responsible professionals",
        },
        {"kind": "pago_derechos", "label": "Comprobante de pago de derechos", "label_en": "Fee payment receipt"},
    ),
    "departments": {"review": ""},
    "review_target_days": 5,
    "observations_answer_days": 10,
    "extension_answer_days": 3,
    "max_extensions": 2,
    "extension_silence": "grant_extension_ficta",
    "completion_answer_days": 5,
    "reminder_business_days": 2,
}


def eligibility_reasons(data: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """Every reason why a manifestation does not fit type B (empty when it does), naming what applies
    instead. Pure: the same rules the ``eligible`` guard applies."""
    reasons: list[str] = []
    housing = data.get("building_type") in params["housing_types"]
    area = as_decimal(data.get("built_area_m2"))
    if area is None or area <= 0:
        reasons.append(N_("La superficie construida debe ser un número mayor que cero."))
    elif housing and area <= Decimal(str(params["min_housing_area_m2"])):
        reasons.append(N_("La vivienda de esta superficie corresponde a la manifestación de construcción tipo A."))
    elif area > Decimal(str(params["max_housing_area_m2" if housing else "max_built_area_m2"])):
        reasons.append(N_("La superficie excede el límite del tipo B; corresponde la manifestación tipo C."))
    if data.get("works_started") is not False:
        reasons.append(
            N_("La manifestación se registra antes de iniciar la obra; la obra iniciada se regulariza aparte.")
        )
    if data.get("building_type") in params["excluded_building_types"]:
        reasons.append(N_("Este tipo de edificación requiere licencia de construcción especial."))
    return reasons


def eligible(inp: GuardInput) -> str | None:
    """The manifestation fits type B; the reason names the procedure that applies otherwise."""
    reasons = eligibility_reasons(inp.data, inp.params)
    return reasons[0] if reasons else None


STATES = (
    State("draft", N_("Borrador: el solicitante captura su manifestación")),
    State(
        "registered",
        N_("Registrada: la obra puede iniciar; el contenido se revisa después"),
        target=Target("review_target_days", N_("Meta de revisión del contenido")),
        department="review",
    ),
    State(
        "observations",
        N_("Observaciones de la revisión: el solicitante debe subsanarlas"),
        deadline=Deadline(
            "observations_answer_days", "lapse_observations", N_("Plazo para subsanar las observaciones")
        ),
        department="review",
    ),
    State("in_force", N_("Registro revisado y vigente: obra en proceso"), department="review"),
    State(
        "extension_requested",
        N_("Prórroga del registro solicitada"),
        deadline=Deadline(
            "extension_answer_days",
            "grant_extension_ficta",
            N_("Plazo para responder la prórroga"),
            on_expiry_param="extension_silence",
        ),
        department="review",
    ),
    State(
        "completion_filed",
        N_("Aviso de terminación presentado"),
        target=Target("completion_answer_days", N_("Plazo para responder el aviso de terminación")),
        department="review",
    ),
    State("occupancy_authorized", N_("Autorización de uso y ocupación otorgada"), department="review"),
    State("withdrawn", N_("Desistida por el solicitante"), terminal=True),
    State("revoked", N_("Registro revocado"), terminal=True),
    State("lapsed", N_("Registro sin efectos por no subsanar las observaciones"), terminal=True),
    State("closed", N_("Concluida"), terminal=True),
)

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
        ("observations",),
        "observations",
        APPLICANT,
        N_("Corregir los datos de la manifestación"),
        owner_only=True,
        fields=FIELDS + OPTIONAL_FIELDS,
    ),
    Transition(
        "submit",
        ("draft",),
        "registered",
        APPLICANT,
        N_("Presentar y registrar la manifestación"),
        owner_only=True,
        guards=("eligible",),
        fields=FIELDS,
        required_fields=FIELDS,
        required_documents=REQUIRED_DOCUMENTS,
        documents_param="requirements",
        notify=("applicant",),
    ),
    Transition(
        "confirm_registration",
        ("registered",),
        "in_force",
        REVIEWER,
        N_("Revisión sin observaciones: el registro queda firme"),
        notify=("applicant",),
    ),
    Transition(
        "raise_observations",
        ("registered",),
        "observations",
        REVIEWER,
        N_("Formular observaciones al contenido registrado"),
        fields=("observation_items",),
        required_fields=("observation_items",),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "answer_observations",
        ("observations",),
        "registered",
        APPLICANT,
        N_("Subsanar las observaciones"),
        owner_only=True,
        guards=("eligible",),
        required_fields=FIELDS,
        required_documents=REQUIRED_DOCUMENTS,
        documents_param="requirements",
        notify=("assignee",),
    ),
    Transition(
        "lapse_observations",
        ("observations",),
        "lapsed",
        SYSTEM,
        N_("Venció el plazo para subsanar: el registro queda sin efectos"),
        notify=("applicant",),
    ),
    Transition(
        "request_extension",
        ("in_force",),
        "extension_requested",
        APPLICANT,
        N_("Solicitar prórroga del registro"),
        owner_only=True,
        guards=("extension_available",),
        notify=("assignee",),
    ),
    Transition(
        "grant_extension",
        ("extension_requested",),
        "in_force",
        REVIEWER,
        N_("Conceder la prórroga"),
        notify=("applicant",),
    ),
    Transition(
        "refuse_extension",
        ("extension_requested",),
        "in_force",
        REVIEWER,
        N_("Negar la prórroga"),
        comment_required=True,
        notify=("applicant",),
    ),
    Transition(
        "grant_extension_ficta",
        ("extension_requested",),
        "in_force",
        SYSTEM,
        N_("Prórroga concedida por afirmativa ficta"),
        notify=("applicant",),
    ),
    Transition(
        "refuse_extension_ficta",
        ("extension_requested",),
        "in_force",
        SYSTEM,
        N_("Prórroga negada por negativa ficta"),
        notify=("applicant",),
    ),
    Transition(
        "file_completion",
        ("in_force",),
        "completion_filed",
        APPLICANT,
        N_("Presentar el aviso de terminación de obra"),
        owner_only=True,
        notify=("assignee",),
    ),
    Transition(
        "authorize_occupancy",
        ("completion_filed",),
        "occupancy_authorized",
        REVIEWER,
        N_("Otorgar la autorización de uso y ocupación"),
        four_eyes_with=("confirm_registration",),
        notify=("applicant",),
    ),
    Transition(
        "record_observations",
        ("completion_filed",),
        "in_force",
        REVIEWER,
        N_("La obra terminada no coincide con lo registrado: observaciones"),
        comment_required=True,
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
        ("draft", "registered", "observations"),
        "withdrawn",
        APPLICANT,
        N_("Desistirse de la manifestación"),
        owner_only=True,
        notify=("assignee",),
    ),
    Transition(
        "revoke",
        ("registered", "observations", "in_force", "extension_requested", "completion_filed"),
        "revoked",
        REVIEWER,
        N_("Revocar el registro por datos falsos o incumplimiento"),
        comment_required=True,
        notify=("applicant",),
        exceptional=True,
    ),
)

TIPO_B_V1 = Workflow(
    name="cdmx_tipo_b",
    version=1,
    title=N_("Registro de Manifestación de Construcción Tipo B"),
    folio_prefix="RMCB",
    initial="draft",
    states=STATES,
    transitions=TRANSITIONS,
    guards={"eligible": eligible, "extension_available": extension_available},
    params=DEFAULT_PARAMS,
    param_choices={"extension_silence": ("grant_extension_ficta", "refuse_extension_ficta")},
    param_parsers={"requirements": parse_requirements, "departments": departments_parser(OFFICES)},
    catalogues={"land_use": ("land_uses",), "building_type": ("building_types", "excluded_building_types")},
    description=N_(
        "Registro inmediato en ventanilla de obras de hasta 5,000 m² (10,000 m² de vivienda); "
        "el contenido se revisa después del registro."
    ),
)

PROCEDURE = Procedure(
    name="cdmx_tipo_b",
    workflows=(TIPO_B_V1,),
    fields=(
        *construction.request_fields(("land_uses",), ("building_types", "excluded_building_types")),
        Field("observation_items", N_("Puntos observados"), "codes", hidden=True, required=True),
    ),
    steps=construction.STEPS,
    parameters=construction.parameters(DEFAULT_PARAMS, (("review", N_("Revisión del registro")),)),
    departments=(
        Department("desarrollo_urbano", N_("Dirección de Desarrollo Urbano"), "Urban Development Department"),
    ),
    presentation=Presentation(
        styles={"withdraw": "danger", "revoke": "danger", "close": "secondary"},
        correction_states=("observations",),
        correction_field="observation_items",
        binds={"observations": "applicant", "extension_requested": "authority"},
        sections=construction.SECTIONS,
    ),
    eligibility=eligibility_reasons,
    eligibility_fields=construction.ELIGIBILITY_FIELDS,
    eligibility_form="forms.construction:EligibilityForm",
    demo=Demo(
        settings={"departments": {"review": "desarrollo_urbano"}},
        data=construction.DEMO_DATA,
        documents=(*construction.DEMO_DOCUMENTS, "zonificacion", "pago_derechos"),
        cases=((DemoStep("submit", "solicitante"),),),
    ),
)
"""The Tipo B registration as the rest of the product serves it."""
