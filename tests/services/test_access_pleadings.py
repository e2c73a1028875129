"""The admitted appeal's instruction (version 3, LGTAIP 2015 art. 150): the parties' term to plead counted in
business days from the admission, each party's single pleading (the unit's with its evidence), the notices with
their legal basis, the guarantor's closing of the instruction and the resolution after it; and a request of
version 2, which goes from the admission straight to the resolution, finishing on it. Dates are frozen and the
terms counted by hand."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from flask import Flask, current_app
from sqlalchemy import select

from app.engine import GuardRefused, InvalidData, NotAllowed, UnknownTrigger
from app.extensions import db
from app.models import AuditEntry, Document
from app.procedures.access_request import services as ar
from app.services.deadlines import case_clocks
from app.services.demo import demo_pdf
from app.services.timers import fire_due_timers
from tests.support.access_requests import ADDRESS, appealed_on, mails_to
from tests.support.clock import noon
from tests.support.factories import case_version, email_of, stored_case

PLEADINGS_BASIS = "Artículo 150, fracciones II y III, de la Ley General de Transparencia"
CLOSING_BASIS = "Artículo 150, fracción VII, de la Ley General de Transparencia"


def _tracking(filed: ar.Filed) -> str:
    return current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)


def test_the_parties_plead_within_seven_business_days_and_the_guarantor_closes_the_instruction_after_them(
    app: Flask, mailbox
):
    """LGTAIP 2015 art. 150: admitted, the file is at the parties' disposal for seven days (fr. II) to plead and
    offer evidence (fr. III); once that term has run the guarantor closes the instruction (fr. VII) and then
    resolves; its forty days to resolve run from the admission throughout (art. 146)."""
    filed, unit, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):  # Tuesday
        before = len(mails_to(mailbox, ADDRESS))
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        admitted = mails_to(mailbox, ADDRESS)[before:]
        to_unit = mails_to(mailbox, email_of(unit))
        page = _tracking(filed)
        clocks = case_clocks([filed.case_id])[filed.case_id]
    assert stored_case(filed.case_id).state == "appeal_pleadings"
    # 7 business days from Wednesday 9 July 2025: 9–11, 14–17 July
    assert clocks["pleadings"].due_on == date(2025, 7, 17)
    # 40 business days from Wednesday 9 July 2025: 9–11 July, 14 July–29 August, 1 and 2 September
    assert clocks["resolution"].due_on == date(2025, 9, 2)
    for told in (admitted[0], to_unit[-1]):
        assert "Plazo para ofrecer pruebas y formular alegatos: a más tardar el 17 de julio de 2025" in told
        assert PLEADINGS_BASIS in told
        assert "Plazo para resolver el recurso de revisión: a más tardar el 2 de septiembre de 2025" in told
        assert "salvo la confesional" in told
    assert len(admitted) == 1
    assert "Pruebas y alegatos" in page
    assert "17 de julio de 2025" in page
    assert 'id="form-file_requester_pleadings"' in page

    with time_machine.travel(noon(date(2025, 7, 10)), tick=False):
        with pytest.raises(InvalidData, match="alegatos"):
            ar.file_unit_pleadings(filed.case_id, " ", unit, expected_version=case_version(filed.case_id))
        with pytest.raises(InvalidData):  # the evidence is a PDF
            ar.file_unit_pleadings(
                filed.case_id,
                "Se entregó todo",
                unit,
                expected_version=case_version(filed.case_id),
                evidence=("pruebas.pdf", b"not a pdf"),
            )
        with pytest.raises(NotAllowed):
            ar.file_unit_pleadings(filed.case_id, "Alegatos", guarantor, expected_version=case_version(filed.case_id))
        with pytest.raises(GuardRefused, match="Aún corre el plazo"):
            ar.guarantor_act(
                filed.case_id, "close_instruction", guarantor, expected_version=case_version(filed.case_id)
            )
        before_guarantor = len(mails_to(mailbox, email_of(guarantor)))
        before = len(mails_to(mailbox, ADDRESS))
        ar.file_unit_pleadings(
            filed.case_id,
            "La respuesta entregó los contratos completos.",
            unit,
            expected_version=case_version(filed.case_id),
            evidence=("acta-de-entrega.pdf", demo_pdf("acta")),
        )
        to_guarantor = mails_to(mailbox, email_of(guarantor))[before_guarantor:]
        told_requester = mails_to(mailbox, ADDRESS)[before:]
        with pytest.raises(GuardRefused, match="una sola vez"):
            ar.file_unit_pleadings(filed.case_id, "Otra vez", unit, expected_version=case_version(filed.case_id))
        staff = ar.staff_view(filed.case_id, guarantor)
    case = stored_case(filed.case_id)
    assert case.state == "appeal_pleadings"
    (document_id,) = case.data["unit_pleadings_documents"]
    document = db.session.get(Document, document_id)
    assert document is not None
    assert (document.kind, document.original_name) == ("pruebas_alegatos", "acta-de-entrega.pdf")
    assert staff.pleadings is not None
    assert [d.id for d in staff.pleadings.documents] == [document_id]
    assert staff.pleadings.due_on == date(2025, 7, 17)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.case_id == filed.case_id)).all()
    assert "file_unit_pleadings" in actions
    assert "document_attached" in actions
    assert len(to_guarantor) == 1
    assert "La respuesta entregó los contratos completos." in to_guarantor[0]
    assert PLEADINGS_BASIS in to_guarantor[0]
    assert len(told_requester) == 1  # told that the unit pleaded, not what (its evidence is the guarantor's)
    assert "Presentar los alegatos y las pruebas de la Unidad de Transparencia" in told_requester[0]
    assert "contratos completos" not in told_requester[0]

    with time_machine.travel(noon(date(2025, 7, 17)), tick=False):  # the last day: the term still runs
        fire_due_timers()
        assert "pleadings_closed_on" not in stored_case(filed.case_id).data
    with time_machine.travel(noon(date(2025, 7, 18)), tick=False):
        fire_due_timers()
        case = stored_case(filed.case_id)
        assert case.data["pleadings_closed_on"] == "2025-07-17"
        page = _tracking(filed)
        assert 'id="form-file_requester_pleadings"' not in page
        assert "Venció el 17 de julio de 2025" in page
        with pytest.raises(GuardRefused, match="ya venció"):
            ar.requester_act(
                filed.token,
                "file_requester_pleadings",
                expected_version=case.version,
                data={"requester_pleadings": "Tarde"},
            )
        before, before_unit = len(mails_to(mailbox, ADDRESS)), len(mails_to(mailbox, email_of(unit)))
        ar.guarantor_act(filed.case_id, "close_instruction", guarantor, expected_version=case.version)
        closed = mails_to(mailbox, ADDRESS)[before:]
        closed_unit = mails_to(mailbox, email_of(unit))[before_unit:]
        page = _tracking(filed)
        status = ar.requester_view(filed.token).status
    case = stored_case(filed.case_id)
    assert (case.state, case.data["instruction_closed_on"]) == ("appealed", "2025-07-18")
    assert status.resolution_due_on == date(2025, 9, 2)  # the same term, running since the admission
    for told in (closed[0], closed_unit[0]):
        assert "decretó el cierre de instrucción" in told
        assert CLOSING_BASIS in told
        assert "Plazo para resolver el recurso de revisión: a más tardar el 2 de septiembre de 2025" in told
    assert len(closed) == 1
    assert "El órgano garante decretó el cierre de instrucción el 18 de julio de 2025" in page
    assert CLOSING_BASIS in page
    with time_machine.travel(noon(date(2025, 7, 21)), tick=False):
        ar.guarantor_act(
            filed.case_id,
            "resolve_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            data={"appeal_decision": "confirm", "appeal_resolution": "Se confirma la respuesta"},
        )
    assert stored_case(filed.case_id).state == "concluded"


def test_when_both_parties_have_pleaded_the_instruction_closes_before_the_term_ends(app: Flask, mailbox):
    """The closing waits for the parties' term only while a party may still plead; the guarantor's term to
    resolve may be extended during the instruction (art. 146: once, by twenty days)."""
    filed, unit, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        with pytest.raises(GuardRefused, match="Alegatos del recurrente"):
            ar.requester_act(
                filed.token,
                "file_requester_pleadings",
                expected_version=case_version(filed.case_id),
                data={"requester_pleadings": "  "},
            )
        before_guarantor = len(mails_to(mailbox, email_of(guarantor)))
        before_unit = len(mails_to(mailbox, email_of(unit)))
        ar.requester_act(
            filed.token,
            "file_requester_pleadings",
            expected_version=case_version(filed.case_id),
            data={"requester_pleadings": "Faltan los anexos del contrato 3."},
        )
        to_guarantor = mails_to(mailbox, email_of(guarantor))[before_guarantor:]
        to_unit = mails_to(mailbox, email_of(unit))[before_unit:]
        with pytest.raises(GuardRefused, match="una sola vez"):
            ar.requester_act(
                filed.token,
                "file_requester_pleadings",
                expected_version=case_version(filed.case_id),
                data={"requester_pleadings": "Otra vez"},
            )
        with pytest.raises(GuardRefused, match="Aún corre el plazo"):  # the unit has not pleaded yet
            ar.guarantor_act(
                filed.case_id, "close_instruction", guarantor, expected_version=case_version(filed.case_id)
            )
        ar.guarantor_act(
            filed.case_id,
            "extend_resolution",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="Requiere revisar los anexos",
        )
        ar.file_unit_pleadings(filed.case_id, "Se entregó todo.", unit, expected_version=case_version(filed.case_id))
        ar.guarantor_act(filed.case_id, "close_instruction", guarantor, expected_version=case_version(filed.case_id))
        clocks = case_clocks([filed.case_id])[filed.case_id]
        page = _tracking(filed)
    assert len(to_guarantor) == 1
    assert "Faltan los anexos del contrato 3." in to_guarantor[0]
    assert len(to_unit) == 1
    assert "Presentar los alegatos del recurrente" in to_unit[0]
    assert "Faltan los anexos del contrato 3." not in to_unit[0]
    case = stored_case(filed.case_id)
    assert case.state == "appealed"
    assert case.data["unit_pleadings_documents"] == []
    # 2 September 2025 and twenty business days more: 3–5, 8–12, 15, 17–19 (16 September is a holiday),
    # 22–26, 29 and 30 September, and 1 October
    assert clocks["resolution"].due_on == date(2025, 10, 1)
    assert "Faltan los anexos del contrato 3." in page
    assert re.search(r"Alegatos de la Unidad de Transparencia</dt><dd>Presentados ante el órgano garante", page)


def test_a_request_filed_under_the_second_version_is_resolved_without_an_instruction(app: Flask, mailbox):
    """A request filed before version 3 keeps its definition: admitted, its appeal goes straight to the
    resolution, with no parties' term and no closing of the instruction."""
    filed, _unit, guarantor = appealed_on(mailbox, date(2025, 7, 7), version=2)
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
        case = stored_case(filed.case_id)
        assert (case.workflow_version, case.state) == (2, "appealed")
        assert "pleadings" not in case_clocks([filed.case_id])[filed.case_id]
        assert ar.pleadings(case) is None
        assert "Pruebas y alegatos" not in _tracking(filed)
        with pytest.raises(UnknownTrigger):  # the second version has no instruction
            ar.guarantor_act(filed.case_id, "close_instruction", guarantor, expected_version=case.version)
        ar.guarantor_act(
            filed.case_id,
            "resolve_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            data={"appeal_decision": "revoke", "appeal_resolution": "Entréguense los anexos"},
        )
    assert stored_case(filed.case_id).state == "compliance"
