"""Access requests as the services' tests need them: an address proven through the mailed link, the mails
received at an address, a request
answered by its area and consolidated, a request appealed on a given day, an appeal's instruction closed, the
text of a PDF issued for a case."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import time_machine
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select, update

from app.extensions import db
from app.models import Case, Certificate, Role
from app.procedures.access_request import services as ar
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.demo import demo_pdf
from app.storage import get_storage
from tests.support.clock import noon
from tests.support.factories import case_version, make_user

ADDRESS = "lector@example.test"


def confirm_address(mailbox: Any, address: str = ADDRESS) -> None:
    """Use the last confirmation link mailed to ``address`` (through the test SMTP server)."""
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    links = [found.group(1) for body in bodies if (found := re.search(r"/confirmar-correo/([A-Za-z0-9_-]+)", body))]
    assert links, "no confirmation link was mailed"
    confirm(links[-1])


def mails_to(mailbox: Any, address: str = ADDRESS) -> list[str]:
    """The bodies of the mails to ``address`` (the requester's, by default) that the test SMTP server received,
    the outbox delivered first."""
    deliver_pending()
    return [m.get_content() for m in mailbox.messages if m["To"] == address]


def consolidated(fmt: str, mailbox: Any = None) -> tuple[ar.Filed, int, int]:
    """A request in ``fmt`` answered by its area with one document and consolidated: (filed, unit, document).
    With ``mailbox``, the requester's address is proven first (the notices then go out)."""
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    filed = ar.file_request("Lector", ADDRESS, "Planos de la obra pública", fmt)
    if mailbox is not None:
        confirm_address(mailbox)
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    ar.answer_turn(
        filed.case_id, "obras", ar.AreaAnswer("available"), obras, expected_version=case_version(filed.case_id)
    )
    document = ar.attach_area_document(filed.case_id, "obras", "respuesta_area", "planos.pdf", demo_pdf("p"), obras)
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
    return filed, unit, document


def appealed_on(mailbox: Any, day: date, *, version: int | None = None) -> tuple[ar.Filed, int, int]:
    """A request filed on ``day`` (under the definition's ``version`` when given), its address proven, answered
    by its area, consolidated, delivered and appealed the same day: (filed, unit, guarantor)."""
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    guarantor = make_user(Role.GUARANTOR)
    with time_machine.travel(noon(day), tick=False):
        filed = ar.file_request("Lector", ADDRESS, "Contratos", "electronic")
        if version is not None:
            db.session.execute(update(Case).where(Case.id == filed.case_id).values(workflow_version=version))
            db.session.commit()
        confirm_address(mailbox)
        answer_and_appeal(filed, unit, obras)
    return filed, unit, guarantor


def answer_and_appeal(filed: ar.Filed, unit: int, obras: int) -> None:
    """Turn ``filed`` to the works area (``obras``), which answers that the information is available; the unit
    consolidates and delivers the response, and the requester appeals it as incomplete."""
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    ar.answer_turn(
        filed.case_id, "obras", ar.AreaAnswer("available"), obras, expected_version=case_version(filed.case_id)
    )
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
    ar.deliver_response(filed.case_id, "Se entrega", unit, expected_version=case_version(filed.case_id))
    ar.requester_act(
        filed.token, "appeal", expected_version=case_version(filed.case_id), data={"appeal_grounds": ["incomplete"]}
    )


def deliver(filed: ar.Filed, unit: int, document: int, costs: ar.Costs) -> None:
    """The unit delivers the response with the area's ``document`` and the cost sheet of ``costs``."""
    ar.deliver_response(
        filed.case_id,
        "Se entregan los documentos",
        unit,
        expected_version=case_version(filed.case_id),
        document_ids=[document],
        costs=costs,
    )


def close_instruction(filed: ar.Filed, unit: int, guarantor: int) -> None:
    """In an admitted appeal (version 3), the unit and the requester plead and the guarantor closes the
    instruction (LGTAIP 2015 art. 150, fr. II, III and VII): the appeal may then be resolved."""
    ar.file_unit_pleadings(
        filed.case_id, "La respuesta fue completa.", unit, expected_version=case_version(filed.case_id)
    )
    ar.requester_act(
        filed.token,
        "file_requester_pleadings",
        expected_version=case_version(filed.case_id),
        data={"requester_pleadings": "Faltan los anexos."},
    )
    ar.guarantor_act(filed.case_id, "close_instruction", guarantor, expected_version=case_version(filed.case_id))


def issued_pdf_text(case_id: int, kind: str) -> str:
    """The text of the ``kind`` PDF issued for the case, read back from storage (its digest checked), its
    whitespace folded."""
    db.session.rollback()
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == case_id, Certificate.kind == kind)
    ).one()
    content = get_storage(Path(current_app.config["DOCUMENTS_DIR"])).get(certificate.storage_key)
    assert hashlib.sha256(content).hexdigest() == certificate.sha256
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages)
