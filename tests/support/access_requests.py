"""Access requests as the services' tests need them: an address proven through the mailed link, a request
answered by its area and consolidated."""

from __future__ import annotations

import re
from typing import Any

from app.models import Role
from app.procedures.access_request import services as ar
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.demo import demo_pdf
from tests.support.factories import case_version, make_user

ADDRESS = "lector@example.test"


def confirm_address(mailbox: Any, address: str = ADDRESS) -> None:
    """Use the last confirmation link mailed to ``address`` (through the test SMTP server)."""
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    links = [found.group(1) for body in bodies if (found := re.search(r"/confirmar-correo/([A-Za-z0-9_-]+)", body))]
    assert links, "no confirmation link was mailed"
    confirm(links[-1])


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
