"""Sample data for every document kind: what the workflows will pass when they issue them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from app.certificates import IssueRequest, Office

OFFICE = Office(
    institution="H. Ayuntamiento de San Andrés Cholula",
    complaints=(
        "Órgano Interno de Control del Municipio: contraloria@municipio.example, teléfono 800 123 4567, "
        "buzón en Palacio Municipal. Puede denunciar de forma anónima."
    ),
    public_base_url="https://tramites.municipio.example",
    logo="images/escudo.svg",
)
ISSUED_AT = datetime(2026, 11, 27, 16, 5, 12, tzinfo=UTC)
CODE = "K7Q2M9XA3F"


def request(kind: str, **changes: Any) -> IssueRequest:
    """A complete request for ``kind`` (``changes`` replace top-level attributes)."""
    base: dict[str, Any] = {
        "kind": kind,
        "number": "CERT-2026-000042",
        "folio": FOLIOS[kind],
        "verification_code": CODE,
        "issued_at": ISSUED_AT,
        "official_name": OFFICIALS[kind][0],
        "official_position": OFFICIALS[kind][1],
        "legal_basis": "Artículo 115, fracción V, de la Constitución Política de los Estados Unidos Mexicanos; "
        "Reglamento de Construcción del Municipio; Lineamientos de la Ventanilla de Construcción "
        "Simplificada (DOF 20/05/2019).",
        "fields": FIELDS[kind],
        "extra": EXTRA[kind],
        "valid_until": date(2027, 11, 27) if kind == "licence" else None,
    }
    base.update(changes)
    return IssueRequest(**base)


FOLIOS = {
    "licence": "VECS-2026-000017",
    "occupancy": "VECS-2026-000009",
    "access_response": "SAI-2026-000311",
    "committee_resolution": "SAI-2026-000298",
    "incompetence_notice": "SAI-2026-000305",
    "business_licence": "LFBR-2026-000004",
    "payment_order": "VECS-2026-000017",
    "reproduction_payment_order": "SAI-2026-000311",
}

OFFICIALS = {
    "licence": ("Arq. María José Peña Núñez", "Dictaminadora — Dirección de Desarrollo Urbano"),
    "occupancy": ("Ing. Raúl Ibáñez Ortíz", "Dictaminador — Protección Civil"),
    "access_response": ("Lic. Tomás Güemes Añorve", "Titular de la Unidad de Transparencia"),
    "committee_resolution": ("Mtra. Carmen Íñiguez Saldaña", "Presidenta del Comité de Transparencia"),
    "incompetence_notice": ("Lic. Tomás Güemes Añorve", "Titular de la Unidad de Transparencia"),
    "business_licence": ("Lic. Ernesto Ávila Núñez", "Dictaminador — Dirección de Desarrollo Económico"),
    "payment_order": ("C.P. Teresa Íñiguez Ruíz", "Dictaminadora — Tesorería Municipal"),
    "reproduction_payment_order": ("Lic. Tomás Güemes Añorve", "Titular de la Unidad de Transparencia"),
}

FIELDS: dict[str, dict[str, Any]] = {
    "licence": {
        "numero_licencia": "LC-2026-000017",
        "titular": "José Ángel Muñoz Peñaloza",
        "ubicacion": "Av. Hidalgo 123, Col. Centro, San Andrés Cholula, Pue.",
        "clave_catastral": "001-002-003",
        "superficie_construida_m2": "420.50",
        "uso_suelo": "Comercio de abarrotes",
        "dro_nombre": "Arq. Daniel Responsable Güémez",
        "dro_registro": "DRO-0421",
        "derechos_pagados": "8420.00",
        "situacion_derechos": "Pagados; pago confirmado por la Tesorería",
        "referencia_pago": "VECS20260000170179",
        "operacion_pago": "SPEI-2026-0088123",
        "fecha_pago": "2026-11-20",
        "vigencia_desde": "2026-11-27",
        "vigencia_hasta": "2027-11-27",
    },
    "occupancy": {
        "numero_licencia": "LC-2026-000009",
        "titular": "Sofía Ramírez Ñeco",
        "ubicacion": "Calle 5 de Mayo 77, Barrio de San Juan",
        "clave_catastral": "014-221-009",
        "superficie_construida_m2": "310",
        "uso_autorizado": "Farmacia",
        "resultado_inspeccion": "La obra no fue sorteada para inspección",
    },
    "access_response": {
        "solicitante": "Ciudadano Transparente (seudónimo)",
        "fecha_solicitud": "2026-10-30",
        "informacion_solicitada": "Número de licencias de construcción emitidas por la VECS en 2026, por mes.",
        "sentido_respuesta": "Información pública entregada",
        "areas": "Dirección de Desarrollo Urbano",
        "modalidad_entrega": "Electrónica, a través del sistema",
        "costo": "0.00",
    },
    "committee_resolution": {
        "numero_resolucion": "CT/2026/037",
        "sesion": "Décima Sesión Extraordinaria",
        "fecha_sesion": "2026-11-20",
        "asunto": "Clasificación parcial como confidencial de los datos personales en las licencias solicitadas",
        "sentido": "Confirma la clasificación",
        "votacion": "Unanimidad (3 votos a favor)",
    },
    "incompetence_notice": {
        "solicitante": "Ciudadano Transparente (seudónimo)",
        "fecha_solicitud": "2026-11-03",
        "informacion_solicitada": "Calificaciones de las escuelas primarias del municipio en 2025.",
        "sujeto_obligado_competente": "Secretaría de Educación del Estado",
    },
    "business_licence": {
        "numero_licencia": "LF-2026-000004",
        "titular": "Beatriz Comerciante Ñúñez",
        "nombre_comercial": "Cafetería El Portal",
        "domicilio": "Portal Hidalgo 4, Centro",
        "giro": "Cafetería",
        "superficie_m2": "60.00",
        "vigencia_desde": "2026-11-27",
        "vigencia_hasta": "2027-11-27",
    },
    "payment_order": {
        "referencia": "VECS20260000170179",
        "contribuyente": "José Ángel Muñoz Peñaloza",
        "importe_total": "8420.00",
        "fecha_limite": "2026-12-11",
    },
    "reproduction_payment_order": {
        "referencia": "SAI20260003110143",
        "contribuyente": "Ciudadano Transparente (seudónimo)",
        "importe_total": "25.00",
        "fecha_limite": "2027-01-14",
    },
}

EXTRA: dict[str, dict[str, Any]] = {
    "payment_order": {
        "ubicacion": "Av. Hidalgo 123, Col. Centro, San Andrés Cholula, Pue.",
        "derechos": [
            {
                "concepto": "Licencia de construcción de obra nueva, uso comercial",
                "cantidad": "420.50",
                "unidad": "m²",
                "tarifa": "18.00",
                "importe": "7569.00",
                "fundamento": "Ley de Ingresos del Municipio 2026, art. 25, fracc. I",
            },
            {
                "concepto": "Constancia de alineamiento y número oficial",
                "cantidad": "1",
                "unidad": "",
                "tarifa": "851.00",
                "importe": "851.00",
                "fundamento": "Ley de Ingresos del Municipio 2026, art. 27",
            },
        ],
    },
    "licence": {
        "superficie_predio": "600.00",
        "tipo_edificacion": "Local comercial",
        "dictamen_uso_suelo": "Compatible con la zonificación H3-C del Programa Municipal de Desarrollo Urbano.",
        "derechos": [
            {"concepto": "Licencia de construcción (420.50 m² × $18.00)", "importe": "7569.00"},
            {"concepto": "Alineamiento y número oficial", "importe": "851.00"},
        ],
    },
    "occupancy": {"fecha_licencia": "2026-03-03"},
    "access_response": {
        "respuesta": [
            "La Dirección de Desarrollo Urbano informa que en 2026 se emitieron 112 licencias mediante la Ventanilla "
            "de Construcción Simplificada: enero 8, febrero 9, marzo 11, abril 10, mayo 12, junio 9, julio 8, "
            "agosto 10, septiembre 11, octubre 13 y noviembre 11.",
            "La información se entrega sin costo, por medios electrónicos, en formato abierto (CSV) anexo.",
        ],
        "medios_impugnacion": "Si no está conforme con esta respuesta puede interponer el recurso de revisión dentro "
        "de los quince días hábiles siguientes a su notificación.",
        "hoja_costos": [],
        "consulta_directa": "",
    },
    "reproduction_payment_order": {
        "fundamento": "los artículos 134 y 141 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "costos": [
            {
                "concepto": "Copias simples (las primeras 20 hojas sin costo)",
                "cantidad": "45",
                "tarifa": "1.00",
                "importe": "25.00",
                "fundamento": "Artículo 141 de la Ley General de Transparencia y Acceso a la Información Pública",
            },
        ],
    },
    "committee_resolution": {
        "antecedentes": [
            "El 30 de octubre de 2026 se recibió la solicitud de acceso con folio SAI-2026-000298.",
            "La Dirección de Desarrollo Urbano propuso clasificar como confidenciales los nombres y domicilios "
            "de personas físicas contenidos en las licencias.",
        ],
        "considerandos": [
            "Los nombres y domicilios de particulares son datos personales cuya difusión requiere su consentimiento.",
            "Procede entregar una versión pública que omita esos datos, fundando y motivando cada testado.",
        ],
        "resolutivos": [
            "Se CONFIRMA la clasificación parcial como confidencial propuesta por el área.",
            "Entréguese la versión pública al solicitante por conducto de la Unidad de Transparencia.",
        ],
        "integrantes": [
            {"nombre": "Mtra. Carmen Íñiguez Saldaña", "cargo": "Presidenta", "voto": "A favor"},
            {"nombre": "Lic. Tomás Güemes Añorve", "cargo": "Secretario técnico", "voto": "A favor"},
            {"nombre": "C.P. Ana Ochoa Zúñiga", "cargo": "Titular del Órgano Interno de Control", "voto": "A favor"},
        ],
    },
    "incompetence_notice": {
        "motivacion": ["Las calificaciones escolares las genera y resguarda la autoridad educativa estatal."],
        "fundamento": "Artículo 136 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "medios_impugnacion": "Si no está conforme con esta notificación puede interponer el recurso de revisión "
        "dentro de los 15 días hábiles siguientes a su notificación.",
    },
    "business_licence": {"afirmativa_ficta": False, "vencimiento": "", "plazo_resolucion": 3},
}
