"""What each kind of document is: its template, its title and the data it certifies, as printed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.certificates.formatting import FORMATTERS


@dataclass(frozen=True, slots=True)
class Row:
    """One certified datum: a field of the cadena, its printed label and how its value is printed."""

    field: str
    label: str
    format: str = "text"


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """A kind of document."""

    kind: str
    template: str
    title: str
    rows: tuple[Row, ...]
    act_field: str | None = None
    """The field that names the act a document of this kind records, when a case holds several acts of the
    kind (each resolution of the committee is its own act): a new document then supersedes only an earlier
    one of the same act. Without it, a case has one act per kind."""

    def display(self, fields: Mapping[str, Any]) -> dict[str, str]:
        """The kind's fields as printed (dates in words, money with currency, areas with units)."""
        return {row.field: FORMATTERS[row.format](fields.get(row.field)) for row in self.rows}

    def public_rows(self, fields: Mapping[str, Any]) -> list[dict[str, str]]:
        """Label/value pairs of the certified data, as printed on the document."""
        shown = self.display(fields)
        return [{"label": row.label, "value": shown[row.field]} for row in self.rows]


SPECS: dict[str, DocumentSpec] = {
    "licence": DocumentSpec(
        "licence",
        "licence.html",
        "Licencia de construcción",
        (
            Row("numero_licencia", "Número de licencia"),
            Row("titular", "Titular"),
            Row("ubicacion", "Ubicación del predio"),
            Row("clave_catastral", "Clave catastral"),
            Row("superficie_construida_m2", "Superficie de construcción autorizada", "area"),
            Row("uso_suelo", "Uso o giro autorizado"),
            Row("dro_nombre", "Director Responsable de Obra"),
            Row("dro_registro", "Registro del DRO"),
            Row("derechos_pagados", "Derechos pagados", "money"),
            Row("referencia_pago", "Referencia de pago"),
            Row("vigencia_desde", "Vigente desde", "date"),
            Row("vigencia_hasta", "Vigente hasta", "date"),
        ),
    ),
    "occupancy": DocumentSpec(
        "occupancy",
        "occupancy.html",
        "Autorización de uso y ocupación",
        (
            Row("numero_licencia", "Licencia de construcción"),
            Row("titular", "Titular"),
            Row("ubicacion", "Ubicación del predio"),
            Row("clave_catastral", "Clave catastral"),
            Row("superficie_construida_m2", "Superficie construida", "area"),
            Row("uso_autorizado", "Uso autorizado"),
            Row("resultado_inspeccion", "Verificación de la obra"),
        ),
    ),
    "access_response": DocumentSpec(
        "access_response",
        "access_response.html",
        "Respuesta a solicitud de acceso a la información",
        (
            Row("solicitante", "Solicitante"),
            Row("fecha_solicitud", "Fecha de presentación", "date"),
            Row("informacion_solicitada", "Información solicitada"),
            Row("sentido_respuesta", "Sentido de la respuesta"),
            Row("areas", "Áreas que atendieron"),
            Row("modalidad_entrega", "Modalidad de entrega"),
            Row("costo", "Costo de reproducción y envío", "money"),
        ),
    ),
    "committee_resolution": DocumentSpec(
        "committee_resolution",
        "committee_resolution.html",
        "Resolución del Comité de Transparencia",
        (
            Row("numero_resolucion", "Número de resolución"),
            Row("sesion", "Sesión"),
            Row("fecha_sesion", "Fecha de la sesión", "date"),
            Row("asunto", "Asunto"),
            Row("sentido", "Sentido de la resolución"),
            Row("votacion", "Votación"),
        ),
        act_field="numero_resolucion",
    ),
}
"""Every kind of document the system issues, by kind."""


def spec(kind: str) -> DocumentSpec:
    """The definition of ``kind``; raises ``KeyError`` for an unknown kind."""
    return SPECS[kind]
