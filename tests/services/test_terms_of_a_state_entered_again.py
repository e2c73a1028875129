"""A state entered again starts its terms anew: the lapse of a term during an earlier stay in the state is no term
of the present one. On SQLite and PostgreSQL, for the requester's mail, the pages' terms and the queues' order."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine
from flask import Flask

from app.extensions import db
from app.models import Role, Timer, TimerStatus
from app.procedures.access_request import services as ar
from app.services.cases import QueueView
from app.services.deadlines import pending_terms
from app.services.queues import staff_queue
from app.services.timers import fire_due_timers
from tests.support.access_requests import appealed_on, close_instruction, mails_to
from tests.support.clock import noon
from tests.support.factories import case_version
from workflows import access_request as wf


def test_compliance_required_again_gives_a_new_term_not_the_lapse_of_the_first(app: Flask, mailbox: Any) -> None:
    """LGTAIP 2015 arts. 196 and 198: the body reported compliance after its term had lapsed (the target fired),
    the guarantor required compliance again: the requester is told the new term's last day, and the queue and the
    terms show that term, not the first one's lapse."""
    filed, unit, guarantor = appealed_on(mailbox, date(2025, 7, 7))
    with time_machine.travel(noon(date(2025, 7, 14)), tick=False):
        ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
    with time_machine.travel(noon(date(2025, 7, 17)), tick=False):
        close_instruction(filed, unit, guarantor)
    with time_machine.travel(noon(date(2025, 7, 18)), tick=False):
        ar.guarantor_act(
            filed.case_id,
            "resolve_appeal",
            guarantor,
            expected_version=case_version(filed.case_id),
            data={"appeal_decision": "revoke", "appeal_resolution": "Entréguense los contratos"},
        )
    # ten business days from Monday 21 July: 1 August 2025; the body is late, and the target fires
    with time_machine.travel(noon(date(2025, 8, 4)), tick=False):
        fire_due_timers()
        db.session.rollback()
        fired = db.session.query(Timer).filter_by(case_id=filed.case_id, state="compliance").one()
        assert (fired.status, fired.due_on) == (TimerStatus.FIRED, date(2025, 8, 1))
        ar.unit_act(
            filed.case_id,
            "report_compliance",
            unit,
            expected_version=case_version(filed.case_id),
            data={"compliance_report": "Se entregaron los contratos"},
        )
        ar.requester_act(
            filed.token,
            wf.COMPLIANCE_REMARKS,
            expected_version=case_version(filed.case_id),
            data={"compliance_remarks": "Faltan dos contratos"},
        )
        before = len(mails_to(mailbox))
        ar.guarantor_act(
            filed.case_id,
            "reject_compliance",
            guarantor,
            expected_version=case_version(filed.case_id),
            comment="Entregue los dos contratos que faltan",
        )
        rejected = mails_to(mailbox)[before:]
    # a new term of ten business days from Tuesday 5 August: 18 August 2025
    assert len(rejected) == 1
    assert "Plazo del sujeto obligado para cumplir la resolución: a más tardar el 18 de agosto de 2025" in rejected[0]
    db.session.rollback()
    terms = pending_terms([filed.case_id], date(2025, 8, 5))[filed.case_id]
    assert [(t.state, t.due_on, t.overdue) for t in terms] == [("compliance", date(2025, 8, 18), False)]
    (row,) = ar.guarantor_queue_page(date(2025, 8, 5)).rows
    assert (row.case_id, row.due_on, row.overdue) == (filed.case_id, date(2025, 8, 18), False)
    page = ar.requester_view(filed.token, date(2025, 8, 5))
    assert page.appeal_act is not None
    assert page.appeal_act.due_on == date(2025, 8, 18)
    # the unit's work queue: sorted by that term, and not among the lapsed
    every = staff_queue(unit, frozenset({Role.TRANSPARENCY_UNIT.value}), QueueView.ALL, date(2025, 8, 5))
    assert every is not None
    (listed,) = [r for r in every if r.case.id == filed.case_id]
    assert listed.term is not None
    assert (listed.term.due_on, listed.term.overdue) == (date(2025, 8, 18), False)
    lapsed = staff_queue(unit, frozenset({Role.TRANSPARENCY_UNIT.value}), QueueView.OVERDUE, date(2025, 8, 5))
    assert lapsed is not None
    assert filed.case_id not in {r.case.id for r in lapsed}
