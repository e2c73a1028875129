"""PAdES signatures embedded in the PDF, so that any PDF reader can check the document against the
institution's certificate.

Signing adds one incremental update with an invisible signature field (zero-size rectangle, printable
flag set: allowed by PDF/A-2), a PAdES baseline B-B signature (``ETSI.CAdES.detached``, SHA-256, the
signing certificate and its chain embedded) and metadata kept consistent between the information
dictionary and the XMP packet, so the document stays PDF/A.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from app.keys import SigningMaterial

SIGNATURE_FIELD = "SelloDigital"
PADES_SUBFILTER = "/ETSI.CAdES.detached"
T = TypeVar("T")
_SHA256 = bytes.fromhex("300d06096086480165030402010500")  # AlgorithmIdentifier sha256, NULL parameters
_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")  # sha256WithRSAEncryption, NULL parameters


class SignatureError(RuntimeError):
    """The PDF could not be signed."""


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run pyHanko's coroutine to completion from synchronous code.

    pyHanko's synchronous wrappers call ``asyncio.run``, which fails in a thread that already runs an
    event loop (an async server, or a browser-automation session in the same process); there the
    coroutine runs in a short-lived worker thread with its own loop instead.
    """

    async def main() -> T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pades") as pool:
        return pool.submit(asyncio.run, main()).result()


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


class _LoadedKeySigner(signers.Signer):
    """Signs with the RSA key already in memory (PKCS#1 v1.5), instead of re-parsing a DER copy each time:
    loading an RSA key runs its consistency checks, which cost far more than the signature itself."""

    def __init__(self, material: SigningMaterial) -> None:
        super().__init__(
            # The trust anchor is the reader's own copy; an embedded copy would be a stretch of the file that
            # no signature protects.
            embed_roots=False,
            signing_cert=_asn1_certificate(material.certificate),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [_asn1_certificate(c) for c in material.chain if c != material.certificate]
            ),
        )
        self._key = material.key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15":
            raise SigningError(f"unsupported signature mechanism {mechanism}")
        return bytes(self._key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)))


def sign_pdf(pdf: bytes, material: SigningMaterial, *, reason: str, location: str) -> bytes:
    """Return ``pdf`` with a PAdES B-B signature by ``material`` appended. Raises :class:`SignatureError`."""
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        signer = _LoadedKeySigner(material)
        output = _run(lambda: signers.async_sign_pdf(writer, metadata, signer=signer))
    except (PdfError, SigningError, ValueError) as exc:
        raise SignatureError(f"the PDF could not be signed: {exc}") from exc
    return bytes(output.getvalue())


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What a PDF reader would say about the embedded signature."""

    valid: bool
    """Intact, cryptographically sound, trusted, covering the whole file, PAdES: the document is as signed."""
    intact: bool = False
    trusted: bool = False
    whole_file: bool = False
    pades: bool = False
    signer: str | None = None
    problem: str | None = None


def _exactly_as_signed(contents: bytes) -> bool:
    """Whether /Contents holds exactly the signature container pyHanko writes, then only zero padding.

    The signature protects the signed byte ranges, and inside /Contents its signed attributes, its value and
    (through the signing-certificate attribute) the signer's certificate. The bytes of the container around
    them (versions, algorithm identifiers, signer identifier, content type) and the padding are protected by
    nothing, and readers ignore some changes there; rebuilding the container from its signed parts with the
    exact values this module writes, and comparing, closes that gap.
    """
    try:
        info = cms.ContentInfo.load(contents, strict=False)
        signed = info["content"]
        signer_infos = signed["signer_infos"]
        certificates = signed["certificates"]
        if info["content_type"].native != "signed_data" or len(signer_infos) != 1 or len(certificates) != 1:
            return False
        certificate = certificates[0].chosen
        signer = signer_infos[0]
        rebuilt_signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={"issuer": certificate.issuer, "serial_number": certificate.serial_number},
                ),
                "digest_algorithm": cms.DigestAlgorithm.load(_SHA256),
                "signed_attrs": signer["signed_attrs"],
                "signature_algorithm": cms.SignedDigestAlgorithm.load(_SHA256_RSA),
                "signature": signer["signature"],
            }
        )
        rebuilt = cms.ContentInfo(
            {
                "content_type": "signed_data",
                "content": cms.SignedData(
                    {
                        "version": "v1",
                        "digest_algorithms": [cms.DigestAlgorithm.load(_SHA256)],
                        "encap_content_info": {"content_type": "data"},
                        "certificates": certificates,
                        "signer_infos": [rebuilt_signer],
                    }
                ),
            }
        ).dump()
    except (ValueError, TypeError, KeyError):
        return False
    return contents.startswith(rebuilt) and not any(contents[len(rebuilt) :])


def validate_pdf(pdf: bytes, trust_roots: Iterable[x509.Certificate]) -> SignatureCheck:
    """Validate the (single) embedded signature of ``pdf`` against ``trust_roots``. Never raises.

    ``valid`` is true only when the signature is intact and sound, its certificate chains to one of the
    roots, it covers the entire file (nothing was appended or changed afterwards), it is PAdES and the
    signature container is byte for byte what was written (see :func:`_exactly_as_signed`).
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return SignatureCheck(False, problem=f"expected one signature, found {len(signatures)}")
        embedded = signatures[0]
        context = ValidationContext(trust_roots=[_asn1_certificate(root) for root in trust_roots])
        status = _run(lambda: async_validate_pdf_signature(embedded, context))
        subfilter = str(embedded.sig_object.get("/SubFilter"))
        as_signed = _exactly_as_signed(bytes(embedded.sig_object["/Contents"]))
    except Exception as exc:  # a damaged file is an answer ("not valid"), not an error
        return SignatureCheck(False, problem=f"{type(exc).__name__}: {exc}")
    whole_file = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    pades = subfilter == PADES_SUBFILTER
    intact = bool(status.intact and status.valid)
    trusted = bool(status.trusted)
    if not as_signed:
        return SignatureCheck(False, problem="the signature container or its padding was changed")
    return SignatureCheck(
        valid=intact and trusted and whole_file and pades,
        intact=intact,
        trusted=trusted,
        whole_file=whole_file,
        pades=pades,
        signer=status.signing_cert.subject.human_friendly,
    )
