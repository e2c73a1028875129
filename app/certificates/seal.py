"""The *cadena original* and the *sello digital* printed on every certificate.

Cadena original: the document's key fields, in the fixed order its procedure declares for its kind
(:func:`cadena_fields`), joined with ``|`` and wrapped in ``||…||``. Each value is written as text with
surrounding white space removed, inner runs of white space (including line breaks) collapsed to one space
and any ``|`` replaced by ``/``; an absent value leaves its position empty, so that a position always means
the same field.

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

import workflows
from app.certificates.formatting import canonical_of_printed
from app.keys import signature_bytes
from workflows.procedure import CADENA_HEAD, CADENA_TAIL

COMMON_HEAD = CADENA_HEAD
"""The fields every cadena starts with."""
COMMON_TAIL = CADENA_TAIL
"""The fields every cadena ends with."""


def cadena_fields(kind: str, version: str | None = None) -> tuple[str, ...]:
    """The fields of the cadena original of a ``kind`` document in their fixed order: the common head, the
    fields its procedure declares (in ``version`` of its format; the current one by default), the common tail.
    Raises :class:`SealError` for a kind no procedure issues or a version it never had."""
    try:
        own, _rows = workflows.document(kind).format_of(version)
    except KeyError:
        raise SealError(f"unknown document kind {kind!r} or format version {version!r}") from None
    return (*COMMON_HEAD, *own, *COMMON_TAIL)


def cadena_version(kind: str) -> str:
    """The current version of a ``kind`` document's sealed format; raises :class:`SealError` for an unknown kind."""
    try:
        return workflows.document(kind).cadena_version
    except KeyError:
        raise SealError(f"unknown document kind {kind!r}") from None


def document_type(kind: str) -> str:
    """The value of the ``tipo`` field of a ``kind`` document; raises :class:`SealError` for an unknown kind."""
    try:
        return workflows.document(kind).tipo
    except KeyError:
        raise SealError(f"unknown document kind {kind!r}") from None


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
    """The cadena original of a ``kind`` document. ``fields`` must hold exactly that kind's fields in the
    format version its ``version`` names (the current one when it names none).

    Raises :class:`SealError` for an unknown kind or version, a missing field or a field the kind does not have.
    """
    version = fields.get("version")
    order = cadena_fields(kind, None if version is None else str(version))
    missing = [name for name in order if name not in fields]
    unexpected = sorted(set(fields) - set(order))
    if missing or unexpected:
        raise SealError(f"cadena of {kind}: missing {missing}, unexpected {unexpected}")
    return "||" + "|".join(normalise(fields[name]) for name in order) + "||"


def cadena_from_printed(kind: str, common: Mapping[str, Any], printed: Mapping[str, str]) -> str:
    """The cadena original of a ``kind`` document rebuilt from what the document prints: ``common`` holds the
    head and tail fields as printed (number, folio, issue instant, issuer, official, position, certificate
    serial, verification code; ``version`` and ``tipo`` default to the kind's current format and tipo; a
    document issued under an earlier format version is rebuilt with that version's rows), ``printed`` the
    certified rows by their printed label. Each row's printed value is read back into its canonical form
    (:func:`app.certificates.formatting.canonical_of_printed`).

    Raises :class:`SealError` when a row is missing, a printed value is not of its format, or the kind seals
    a field it does not print (such a cadena cannot be rebuilt from the document)."""
    try:
        document = workflows.document(kind)
    except KeyError:
        raise SealError(f"unknown document kind {kind!r}") from None
    version = str(common.get("version") or document.cadena_version)
    try:
        sealed, rows = document.format_of(version)
    except KeyError:
        raise SealError(f"{kind} has no format version {version!r}") from None
    unprinted = sorted(set(sealed) - {row.field for row in rows})
    if unprinted:
        raise SealError(f"{kind} seals fields it does not print: {unprinted}")
    fields: dict[str, Any] = {"version": version, "tipo": document.tipo, **common}
    for row in rows:
        if row.label not in printed:
            raise SealError(f"printed row {row.label!r} missing")
        try:
            fields[row.field] = canonical_of_printed(row.format, printed[row.label])
        except ValueError as exc:
            raise SealError(str(exc)) from None
    return cadena_original(kind, fields)


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
        public_key.verify(signature_bytes(sello_b64), cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def certificate_number(certificate: x509.Certificate) -> str:
    """The signing certificate's serial number as printed (upper-case hexadecimal)."""
    return format(certificate.serial_number, "X")
