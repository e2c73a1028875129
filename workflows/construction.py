"""Declarations shared by the construction procedures (VECS and Mexico City's Tipo B registration): the
request's data fields, the applicant's steps and the parts of the request a correction may point at."""

from __future__ import annotations

from workflows.base import N_
from workflows.procedure import Field, Section, Step

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
        Field("land_use", N_("Giro o uso"), "code", catalogue=land_use_catalogue, step="uso", required=True),
        Field("building_type", N_("Tipo de edificación"), "code", catalogue=building_catalogue, step="proyecto"),
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


PRINTED_USES: dict[str, str] = {
    "comercio_abarrotes": "Comercio de abarrotes",
    "comercio_ropa": "Comercio de ropa",
    "oficinas": "Oficinas",
    "servicios_profesionales": "Servicios profesionales",
    "restaurante_sin_alcohol": "Restaurante sin venta de bebidas alcohólicas",
    "papeleria": "Papelería",
    "farmacia": "Farmacia",
    "local_comercial": "Local comercial",
}
"""How documents print catalogue codes (always in Spanish); a code not listed is printed with its words
capitalised."""


def printed_name(code: object) -> str:
    """The printed name of a catalogue code (``comercio_abarrotes`` → ``Comercio de abarrotes``)."""
    text = str(code or "")
    return PRINTED_USES.get(text) or text.replace("_", " ").strip().capitalize()
