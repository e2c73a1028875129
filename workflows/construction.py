"""Declarations shared by the construction procedures (VECS and Mexico City's Tipo B registration): the
request's data fields, the applicant's steps, the parts of the request a correction may point at and how
their settings read."""

from __future__ import annotations

from collections.abc import Mapping

from workflows.base import DEPARTMENTS_PARAM, N_
from workflows.procedure import Field, Parameter, Section, Step

STEPS: tuple[Step, ...] = (
    Step(
        "predio",
        N_("Predio"),
        ("property_address", "cadastral_key", "lot_area_m2", "lot_vacant"),
        form="forms.construction:PropertyForm",
    ),
    Step(
        "proyecto",
        N_("Proyecto"),
        ("built_area_m2", "building_type", "new_construction", "works_started"),
        form="forms.construction:ProjectForm",
    ),
    Step("uso", N_("Giro o uso"), ("land_use",), form="forms.construction:UseForm"),
    Step(
        "dro",
        N_("DRO y corresponsables"),
        ("dro_name", "dro_registration", "co_responsibles"),
        form="forms.construction:DroForm",
    ),
    Step("documentos", N_("Documentos"), documents=True),
)
"""The pages an applicant fills before filing, in order."""

ELIGIBILITY_FIELDS = ("built_area_m2", "new_construction", "works_started", "lot_vacant", "land_use", "building_type")
"""What the eligibility check asks before anything is filed."""


SPECIALTIES: dict[str, str] = {
    "seguridad_estructural": N_("Seguridad estructural"),
    "instalaciones": N_("Instalaciones"),
    "diseno_urbano": N_("Diseño urbano y arquitectónico"),
}
"""Co-responsible directors' specialties."""


def request_fields(land_use_catalogue: tuple[str, ...], building_catalogue: tuple[str, ...]) -> tuple[Field, ...]:
    """The data an applicant gives (in the order the case page lists it), with the parameters that list the
    allowed land uses and building types."""
    return (
        Field("property_address", N_("Domicilio del predio"), step="predio", required=True, max_length=300),
        Field("cadastral_key", N_("Clave catastral"), step="predio", required=True, max_length=40),
        Field("lot_area_m2", N_("Superficie del predio"), "area", step="predio", required=True),
        Field("built_area_m2", N_("Superficie construida"), "area", step="proyecto", required=True),
        Field(
            "land_use",
            N_("Giro o uso"),
            "code",
            catalogue=land_use_catalogue,
            step="uso",
            required=True,
            labels=tuple(CATALOGUE_LABELS.items()),
        ),
        Field(
            "building_type",
            N_("Tipo de edificación"),
            "code",
            catalogue=building_catalogue,
            step="proyecto",
            labels=tuple(CATALOGUE_LABELS.items()),
        ),
        Field("new_construction", N_("Obra nueva"), "boolean", step="proyecto"),
        Field("works_started", N_("Obra iniciada"), "boolean", step="proyecto"),
        Field("lot_vacant", N_("Predio baldío"), "boolean", step="predio"),
        Field("dro_name", N_("Director Responsable de Obra"), step="dro", max_length=200),
        Field("dro_registration", N_("Registro del DRO"), step="dro", max_length=40),
        Field(
            "co_responsibles",
            N_("Corresponsables"),
            "list",
            step="dro",
            labels=tuple(SPECIALTIES.items()),
            item_format="{specialty}: {name} ({registration})",
        ),
    )


SECTIONS: tuple[Section, ...] = (
    Section("datos_predio", N_("Datos del predio")),
    Section("datos_proyecto", N_("Datos del proyecto")),
    Section("datos_uso", N_("Giro o uso")),
    Section("datos_dro", N_("DRO y corresponsables")),
)
"""Parts of the request data a prevención or an observation may point at, besides the documents."""


DEMO_DATA: dict[str, object] = {
    "property_address": "Av. Hidalgo 123, Centro",
    "cadastral_key": "001-002-003",
    "lot_area_m2": "600",
    "built_area_m2": "420.5",
    "land_use": "comercio_abarrotes",
    "building_type": "local_comercial",
    "new_construction": True,
    "works_started": False,
    "lot_vacant": True,
    "dro_name": "Arq. Daniel Responsable",
    "dro_registration": "DRO-0421",
}
"""A demo request's data (the same for both construction procedures)."""

DEMO_DOCUMENTS = ("identificacion", "propiedad", "alineamiento", "planos", "memoria_estructural", "carta_dro")
"""The documents a demo request holds once filed."""


CATALOGUE_LABELS: dict[str, str] = {
    "comercio_abarrotes": N_("Comercio de abarrotes"),
    "comercio_ropa": N_("Comercio de ropa"),
    "oficinas": N_("Oficinas"),
    "servicios_profesionales": N_("Servicios profesionales"),
    "restaurante_sin_alcohol": N_("Restaurante sin venta de bebidas alcohólicas"),
    "papeleria": N_("Papelería"),
    "farmacia": N_("Farmacia"),
    "habitacional": N_("Habitacional"),
    "habitacional_con_comercio": N_("Habitacional con comercio"),
    "comercio": N_("Comercio"),
    "servicios": N_("Servicios"),
    "local_comercial": N_("Local comercial"),
    "consultorio": N_("Consultorio"),
    "bodega": N_("Bodega"),
    "vivienda_unifamiliar": N_("Vivienda unifamiliar"),
    "vivienda_plurifamiliar": N_("Vivienda plurifamiliar"),
    "escuela": N_("Escuela"),
    "hospital": N_("Hospital"),
    "condominio": N_("Condominio"),
    "estadio": N_("Estadio"),
    "gasolinera": N_("Gasolinera"),
    "industria": N_("Industria"),
}
"""One label per catalogue code of the construction procedures, spelled as documents print it (in Spanish;
pages translate the same words): forms, case pages and documents all read these. A code an administrator adds
to a catalogue without a label here reads as its words capitalised."""

PRINTED_USES = CATALOGUE_LABELS
"""How documents print catalogue codes (the same labels as everywhere else)."""


def printed_name(code: object) -> str:
    """The printed name of a catalogue code (``comercio_abarrotes`` → ``Comercio de abarrotes``)."""
    text = str(code or "")
    return CATALOGUE_LABELS.get(text) or text.replace("_", " ").strip().capitalize()


ELIGIBILITY_SECTION = N_("Elegibilidad y catálogos")
TERMS_SECTION = N_("Plazos del solicitante y silencio de la autoridad")
TARGETS_SECTION = N_("Metas de servicio")
ONE_CODE_PER_LINE = N_("Un código por renglón.")

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("max_built_area_m2", N_("Superficie construida máxima (m²)"), section=ELIGIBILITY_SECTION),
    Parameter("max_housing_area_m2", N_("Superficie máxima de vivienda (m²)"), section=ELIGIBILITY_SECTION),
    Parameter(
        "min_housing_area_m2", N_("Superficie de vivienda a partir de la cual aplica (m²)"), section=ELIGIBILITY_SECTION
    ),
    Parameter("low_risk_uses", N_("Catálogo de giros de bajo riesgo"), ONE_CODE_PER_LINE, ELIGIBILITY_SECTION),
    Parameter("land_uses", N_("Catálogo de usos"), ONE_CODE_PER_LINE, ELIGIBILITY_SECTION),
    Parameter("housing_types", N_("Tipos de edificación de vivienda"), ONE_CODE_PER_LINE, ELIGIBILITY_SECTION),
    Parameter("building_types", N_("Tipos de edificación admitidos"), ONE_CODE_PER_LINE, ELIGIBILITY_SECTION),
    Parameter("excluded_building_types", N_("Tipos de edificación excluidos"), ONE_CODE_PER_LINE, ELIGIBILITY_SECTION),
    Parameter(
        "requirements",
        N_("Requisitos documentales"),
        N_(
            "Un requisito por renglón, con la forma «código | Descripción»; para mostrarlo también en inglés, "
            "«código | Descripción | Description». Una barra dentro de una descripción se escribe «\\|». Cada uno "
            "es un PDF."
        ),
        N_("Requisitos"),
        kind="requirements",
    ),
    Parameter(
        "fee_table",
        N_("Tabla de derechos"),
        N_(
            "Cada concepto con su tarifa y su fundamento legal; deje vacíos los renglones que no use. El concepto "
            "en inglés es opcional: lo lee quien usa la interfaz en inglés (los documentos se emiten en español)."
        ),
        N_("Derechos"),
        kind="fees",
    ),
    Parameter("prevention_answer_days", N_("Plazo para desahogar la prevención (días hábiles)"), section=TERMS_SECTION),
    Parameter(
        "observations_answer_days", N_("Plazo para subsanar observaciones (días hábiles)"), section=TERMS_SECTION
    ),
    Parameter("payment_days", N_("Plazo para pagar los derechos (días hábiles)"), section=TERMS_SECTION),
    Parameter("extension_answer_days", N_("Plazo para responder una prórroga (días hábiles)"), section=TERMS_SECTION),
    Parameter("reminder_business_days", N_("Recordatorio antes del vencimiento (días hábiles)"), section=TERMS_SECTION),
    Parameter("max_preventions", N_("Número máximo de prevenciones"), section=TERMS_SECTION),
    Parameter("max_extensions", N_("Número máximo de prórrogas"), section=TERMS_SECTION),
    Parameter(
        "extension_silence",
        N_("Si la autoridad no responde la prórroga a tiempo"),
        section=TERMS_SECTION,
        labels=(
            ("grant_extension_ficta", N_("Se concede (afirmativa ficta)")),
            ("refuse_extension_ficta", N_("Se niega (negativa ficta)")),
        ),
    ),
    Parameter("intake_target_days", N_("Meta: revisión de integración (días hábiles)"), section=TARGETS_SECTION),
    Parameter("land_use_target_days", N_("Meta: dictamen de uso de suelo (días hábiles)"), section=TARGETS_SECTION),
    Parameter("fees_target_days", N_("Meta: determinación de derechos (días hábiles)"), section=TARGETS_SECTION),
    Parameter("licence_target_days", N_("Meta: emisión de la licencia (días hábiles)"), section=TARGETS_SECTION),
    Parameter("completion_target_days", N_("Meta: autorización de ocupación (días hábiles)"), section=TARGETS_SECTION),
    Parameter("review_target_days", N_("Meta: revisión del registro (días hábiles)"), section=TARGETS_SECTION),
    Parameter(
        "completion_answer_days",
        N_("Plazo para responder el aviso de terminación (días hábiles)"),
        section=TARGETS_SECTION,
    ),
    Parameter(
        "inspection_rate",
        N_("Porcentaje de obras terminadas que se inspeccionan"),
        N_("El sorteo es reproducible y queda en la bitácora."),
        N_("Inspección por sorteo"),
        kind="rate",
    ),
)
"""How the construction procedures' settings read on the settings page, in the page's order."""

OFFICES_HELP = N_("Qué área atiende cada etapa; sin área, cualquiera con el rol.")
OFFICES_SECTION = N_("Áreas responsables")


def parameters(params: Mapping[str, object], offices: tuple[tuple[str, str], ...]) -> tuple[Parameter, ...]:
    """The declarations of the construction settings ``params`` has (in the page's order), with the
    department mapping of ``offices`` (office, label) after the inspection draw."""
    chosen = [p for p in PARAMETERS if p.key in params]
    mapping = Parameter(
        DEPARTMENTS_PARAM, N_("Áreas responsables"), OFFICES_HELP, OFFICES_SECTION, "departments", offices
    )
    return (*chosen, mapping)
