"""The *cadena original* and the *sello digital* printed on every certificate.

Cadena original: the document's key fields, in the fixed order of :data:`CADENA_FIELDS` for its kind,
joined with ``|`` and wrapped in ``||…||``. Each value is written as text with surrounding white space
removed, inner runs of white space (including line breaks) collapsed to one space and any ``|`` replaced by
``/``; an absent value leaves its position empty, so that a position always means the same field.

Sello digital: base64 of the RSA PKCS#1 v1.5 signature with SHA-256 over the UTF-8 bytes of the cadena,
made with the issuing office's signing key. Anyone holding the office's certificate can check it with
:func:`verify_sello` (or ``openssl dgst -sha256 -verify``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CADENA_VERSION = "1.0"

_COMMON_HEAD = ("version", "tipo", "numero", "folio", "fecha_emision", "emisor")
_COMMON_TAIL = ("servidor_publico", "cargo", "no_certificado", "codigo_verificacion")

CADENA_FIELDS: dict[str, tuple[str, ...]] = {
    "licence": (
        *_COMMON_HEAD,
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
        "vigencia_desde",
        "vigencia_hasta",
        *_COMMON_TAIL,
    ),
    "occupancy": (
        *_COMMON_HEAD,
        "numero_licencia",
        "titular",
        "ubicacion",
        "clave_catastral",
        "superficie_construida_m2",
        "uso_autorizado",
        "resultado_inspeccion",
        *_COMMON_TAIL,
    ),
    "access_response": (
        *_COMMON_HEAD,
        "solicitante",
        "fecha_solicitud",
        "informacion_solicitada",
        "sentido_respuesta",
        "areas",
        "modalidad_entrega",
        "costo",
        *_COMMON_TAIL,
    ),
    "committee_resolution": (
        *_COMMON_HEAD,
        "numero_resolucion",
        "sesion",
        "fecha_sesion",
        "asunto",
        "sentido",
        "votacion",
        *_COMMON_TAIL,
    ),
}
"""The fields of the cadena original of each document kind, in their fixed order (documented in the README)."""

DOCUMENT_TYPES = {
    "licence": "LICENCIA_CONSTRUCCION",
    "occupancy": "AUTORIZACION_OCUPACION",
    "access_response": "RESPUESTA_ACCESO_INFORMACION",
    "committee_resolution": "RESOLUCION_COMITE_TRANSPARENCIA",
}
"""The value of the ``tipo`` field for each kind."""

_SPACES = re.compile(r"\s+")


class SealError(ValueError):
    """The cadena cannot be built (unknown kind, missing or unexpected field)."""


def normalise(value: Any) -> str:
    """One field as it appears in the cadena (see the module documentation)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "SI" if value else "NO"
    return _SPACES.sub(" ", str(value)).strip().replace("|", "/")


def cadena_original(kind: str, fields: Mapping[str, Any]) -> str:
    """The cadena original of a ``kind`` document. ``fields`` must hold exactly that kind's fields.

    Raises :class:`SealError` for an unknown kind, a missing field or a field the kind does not have.
    """
    try:
        order = CADENA_FIELDS[kind]
    except KeyError:
        raise SealError(f"unknown document kind {kind!r}") from None
    missing = [name for name in order if name not in fields]
    unexpected = sorted(set(fields) - set(order))
    if missing or unexpected:
        raise SealError(f"cadena of {kind}: missing {missing}, unexpected {unexpected}")
    return "||" + "|".join(normalise(fields[name]) for name in order) + "||"


def sello(key: rsa.RSAPrivateKey, cadena: str) -> str:
    """Base64 of the RSA-SHA256 (PKCS#1 v1.5) signature over the UTF-8 cadena."""
    signature = key.sign(cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify_sello(certificate: x509.Certificate, cadena: str, sello_b64: str) -> bool:
    """Whether ``sello_b64`` is the signature over ``cadena`` by the key of ``certificate``. Never raises."""
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        signature = base64.b64decode(sello_b64, validate=True)
        public_key.verify(signature, cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def certificate_number(certificate: x509.Certificate) -> str:
    """The signing certificate's serial number as printed (upper-case hexadecimal)."""
    return format(certificate.serial_number, "X")
