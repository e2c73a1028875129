"""A term that ended is over whether or not the timers' worker has run: before a person's step, ``fire()`` records
the case's deadlines already due, as the worker would at its next pass, and decides the step on the case with
them recorded.

- A lapse that only records a day (the term to prevent, LFPA art. 17-A; the response term of an access request,
  LGTAIP 2015 art. 132) leaves the case where the person saw it: their step is judged with that day recorded.
- A lapse that moves the case (the applicant's term to answer the prevención; the term to appeal, LGTAIP 2015
  art. 142) means the person acted on a case that no longer stands as they saw it: the lapse is recorded on its
  own and they are told to reload, also when their step runs inside a larger transaction of a procedure's
  service.

The worker is never run here before the person's step. The last days are written out by hand from the calendar
(Monday 16 March 2026 is a statutory holiday, LFT art. 74, fr. III); the clock is frozen at Mexico City noon."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.engine import ConflictError, GuardRefused, InvalidData
from app.extensions import db
from app.models import AuditEntry, AuditKind, Document, Role, Timer, TimerKind, TimerStatus
from app.procedures.access_request import services as ar
from app.services.case_actions import upload_requirement
from app.services.cases import LAPSED_WHILE_SEEN, FireResult, fire, open_case
from app.services.deadlines import case_clocks
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.timers import fire_due_timers
from tests.support.access_requests import consolidated, deliver
from tests.support.clock import MEXICO_CITY, noon
from tests.support.factories import advance, case_version, make_user, stored_case, vecs_case
from tests.web.helpers import form_fields, login_as, text


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


def _filed(day: date) -> tuple[FireResult, int, int]:
    """(the VECS request in intake review, its applicant, the intake clerk), filed on ``day``."""
    with _on(day):
        owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
        case = advance(vecs_case(owner), [("submit", owner, None, None), ("start_intake", clerk, None, None)])
    return case, owner, clerk


def _prevent(case: FireResult, clerk: int) -> FireResult:
    """The intake clerk prevents the request, at the version ``case`` gives."""
    return fire(
        case.case_id,
        "issue_prevention",
        clerk,
        expected_version=case.version,
        data={"prevention_items": ["planos"]},
        comment="Faltan datos.",
    )


def _entries(case_id: int) -> list[tuple[str, int | None, dict | None]]:
    """The case's transitions in the log: (action, actor, details)."""
    db.session.rollback()
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.details)
        .where(AuditEntry.case_id == case_id, AuditEntry.kind == AuditKind.TRANSITION)
        .order_by(AuditEntry.seq)
    )
    return [tuple(row) for row in rows]


def _deadline(case_id: int, trigger: str) -> Timer:
    """The case's last deadline timer firing ``trigger`` not cancelled."""
    db.session.rollback()
    timer = db.session.scalars(
        select(Timer)
        .where(
            Timer.case_id == case_id,
            Timer.kind == TimerKind.DEADLINE,
            Timer.trigger == trigger,
            Timer.status != TimerStatus.CANCELLED,  # the term started anew in the state the request moved to
        )
        .order_by(Timer.id.desc())
    ).first()
    assert timer is not None, f"no {trigger} deadline"
    return timer


def test_a_prevention_after_its_term_is_refused_before_the_worker_ran_and_the_review_goes_on(app: Flask) -> None:
    """Filed Monday 2 March 2026: the term to prevent runs 3, 4 and 5 March. On the 6th, with the worker not yet
    run, the prevención is refused citing the article, and nothing of the refused step is kept; the clerk's
    acceptance, sent with the version they saw, records the lapse first and then the acceptance."""
    case, _, clerk = _filed(date(2026, 3, 2))
    window = _deadline(case.case_id, "prevention_window_closed")
    assert (window.due_on, window.status) == (date(2026, 3, 5), TimerStatus.PENDING)
    with _on(date(2026, 3, 6)):
        with pytest.raises(GuardRefused) as refused:
            _prevent(case, clerk)
        assert "primer tercio del plazo de resolución, LFPA art. 17-A" in str(refused.value)
        stored = stored_case(case.case_id)
        assert (stored.state, stored.version) == ("intake_review", case.version)
        assert "prevention_window_closed_on" not in stored.data  # rolled back with the refused step
        assert _deadline(case.case_id, "prevention_window_closed").status == TimerStatus.PENDING
        accepted = fire(case.case_id, "accept_intake", clerk, expected_version=case.version)
    assert accepted.to_state == "land_use_review"
    assert accepted.version == case.version + 2  # the lapse, then the acceptance
    stored = stored_case(case.case_id)
    assert stored.data["prevention_window_closed_on"] == "2026-03-05"
    lapse, step = _entries(case.case_id)[-2:]
    assert (lapse[0], lapse[1], lapse[2]["rule"]) == ("prevention_window_closed", None, window.rule)
    assert lapse[2]["timer_id"] == window.id
    assert (step[0], step[1]) == ("accept_intake", clerk)
    assert _deadline(case.case_id, "prevention_window_closed").status == TimerStatus.FIRED
    with _on(date(2026, 3, 6)):
        assert fire_due_timers().fired == 0  # nothing left for the worker


def test_a_prevention_on_the_terms_last_day_is_in_term(app: Flask) -> None:
    case, _, clerk = _filed(date(2026, 3, 2))
    with _on(date(2026, 3, 5)):
        prevented = _prevent(case, clerk)
    assert (prevented.to_state, prevented.version) == ("prevention", case.version + 1)


def test_an_answer_after_its_term_finds_the_request_not_presented(app: Flask) -> None:
    """Prevented on Tuesday 3 March 2026: the applicant's ten business days run 4–6, 9–13, 17 and 18 March
    (Monday 16 a holiday). Answering on the 19th, before the worker ran: the request is already not presented;
    that is recorded on its own and the applicant is told to reload; the answer is not."""
    case, owner, clerk = _filed(date(2026, 3, 2))
    with _on(date(2026, 3, 3)):
        prevented = _prevent(case, clerk)
    term = _deadline(case.case_id, "lapse_prevention")
    assert term.due_on == date(2026, 3, 18)
    with _on(date(2026, 3, 18)):
        fire_due_timers()  # a reminder, at most: the last day still counts
        assert stored_case(case.case_id).state == "prevention"
    with _on(date(2026, 3, 19)):
        with pytest.raises(ConflictError) as conflict:
            fire(
                case.case_id,
                "answer_prevention",
                owner,
                expected_version=prevented.version,
                data={"dro_registration": "DRO-0999"},
            )
        assert conflict.value.message == LAPSED_WHILE_SEEN
        stored = stored_case(case.case_id)
        assert (stored.state, stored.version) == ("not_presented", prevented.version + 1)
        assert stored.data["dro_registration"] != "DRO-0999"
        assert _entries(case.case_id)[-1][:2] == ("lapse_prevention", None)
        assert _deadline(case.case_id, "lapse_prevention").status == TimerStatus.FIRED
        assert fire_due_timers().fired == 0


def _prevented_on_3_march() -> tuple[FireResult, int]:
    """(the VECS request filed 2 March 2026 and prevented on the 3rd: the answer's term runs to the 18th, its
    applicant)."""
    case, owner, clerk = _filed(date(2026, 3, 2))
    with _on(date(2026, 3, 3)):
        prevented = _prevent(case, clerk)
    assert _deadline(case.case_id, "lapse_prevention").due_on == date(2026, 3, 18)
    return prevented, owner


def _documents(case_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Document.original_name).where(Document.case_id == case_id)))


def test_a_document_for_the_answer_after_its_term_is_refused_and_the_request_is_not_presented(app: Flask) -> None:
    """The plans sent on the term's last day are attached; sent on the 19th, before the worker ran, they are not:
    the request is already not presented (LFPA art. 17-A), that is recorded on its own, and the applicant is told
    to reload. The same upload is then refused for the stage."""
    prevented, owner = _prevented_on_3_march()
    with _on(date(2026, 3, 18)):
        attached = attach_document(prevented.case_id, "planos", "planos-18.pdf", demo_pdf("18"), owner)
    assert attached.case_version == prevented.version + 1
    with _on(date(2026, 3, 19)):
        with pytest.raises(ConflictError) as conflict:
            upload_requirement(
                prevented.case_id,
                "planos",
                "planos-19.pdf",
                demo_pdf("19"),
                owner,
                expected_version=attached.case_version,
            )
        assert conflict.value.message == LAPSED_WHILE_SEEN
        stored = stored_case(prevented.case_id)
        assert (stored.state, stored.version) == ("not_presented", attached.case_version + 1)
        assert _entries(prevented.case_id)[-1][:2] == ("lapse_prevention", None)
        assert _deadline(prevented.case_id, "lapse_prevention").status == TimerStatus.FIRED
        with pytest.raises(InvalidData, match="en esta etapa"):
            attach_document(prevented.case_id, "planos", "planos-19.pdf", demo_pdf("19"), owner)
    assert "planos-19.pdf" not in _documents(prevented.case_id)
    assert "planos-18.pdf" in _documents(prevented.case_id)


def test_a_document_sent_from_the_page_after_the_answers_term_is_told_to_reload(
    app: Flask, client: FlaskClient
) -> None:
    """The applicant loaded the documents' page at 23:50 on the answer's last day and sends the plans at 00:10:
    409 with the message, no server error, nothing stored; the request is not presented."""
    prevented, owner = _prevented_on_3_march()
    action = f"/expedientes/{prevented.case_id}/pasos/documentos/planos"
    with time_machine.travel(datetime(2026, 3, 18, 23, 50, tzinfo=MEXICO_CITY), tick=False):
        login_as(client, owner)
        page = text(client.get(f"/expedientes/{prevented.case_id}/pasos/documentos"))
    with time_machine.travel(datetime(2026, 3, 19, 0, 10, tzinfo=MEXICO_CITY), tick=False):
        sent = client.post(
            action,
            data={**form_fields(page, action), "planos-document": (io.BytesIO(demo_pdf("tarde")), "tarde.pdf")},
            content_type="multipart/form-data",
        )
    assert sent.status_code == 409
    assert "venció mientras lo consultaba" in text(sent)
    assert "tarde.pdf" not in _documents(prevented.case_id)
    assert stored_case(prevented.case_id).state == "not_presented"


def test_a_lapse_the_rules_refuse_is_marked_failed_and_the_step_then_goes_on(app: Flask) -> None:
    """A due deadline whose transition the workflow refuses (here a trigger the system cannot fire from the
    state) is left to the worker's path, which marks it failed for an administrator; the person reloads and acts."""
    case, _, clerk = _filed(date(2026, 3, 2))
    window = _deadline(case.case_id, "prevention_window_closed")
    db.session.execute(update(Timer).where(Timer.id == window.id).values(trigger="accept_intake"))
    db.session.commit()
    with _on(date(2026, 3, 6)):
        with pytest.raises(ConflictError) as conflict:
            fire(case.case_id, "accept_intake", clerk, expected_version=case.version)
        assert conflict.value.message == LAPSED_WHILE_SEEN
        assert _deadline(case.case_id, "accept_intake").status == TimerStatus.FAILED
        assert stored_case(case.case_id).state == "intake_review"
        accepted = fire(case.case_id, "accept_intake", clerk, expected_version=case.version)
    assert (accepted.to_state, accepted.version) == ("land_use_review", case.version + 1)


def test_a_step_within_the_term_records_no_lapse(app: Flask) -> None:
    """A control: on the term's last day nothing is recorded early (one version more, the acceptance's)."""
    case, _, clerk = _filed(date(2026, 3, 2))
    with _on(date(2026, 3, 5)):
        accepted = fire(case.case_id, "accept_intake", clerk, expected_version=case.version)
    assert accepted.version == case.version + 1
    assert "prevention_window_closed_on" not in stored_case(case.case_id).data


def test_within_an_access_request_service_a_day_recorded_first_goes_into_the_same_transaction(app: Flask) -> None:
    """Filed Monday 2 March 2026: the response term's last day is 31 March (LGTAIP 2015 art. 132, twenty business
    days; Holy Week is not declared here), and the three windows closed before it. On 1 April the unit turns the
    request, with the worker never run: the four lapses are recorded first, in the service's own transaction,
    and the request is late; the appeal term for the silence runs from 1 April."""
    with _on(date(2026, 3, 2)):
        requester, unit = make_user(Role.APPLICANT), make_user(Role.TRANSPARENCY_UNIT)
        make_user((Role.AREA, "obras"))
        opened = open_case(
            "access_request",
            requester,
            {"information_requested": "Padrón de licencias de construcción", "delivery_format": "electronic"},
        )
    with _on(date(2026, 4, 1)):
        ar.turn_request(opened.case_id, ["obras"], unit, expected_version=case_version(opened.case_id))
    stored = stored_case(opened.case_id)
    assert stored.data["response_overdue_on"] == "2026-03-31"
    assert stored.data["prevention_window_closed_on"] == "2026-03-09"
    actions = [action for action, _, _ in _entries(opened.case_id)]
    assert actions[-1] == "turn"
    assert sorted(actions[-5:-1]) == sorted(
        [
            "incompetence_window_closed",
            "prevention_window_closed",
            "public_source_window_closed",
            "response_lapsed",
        ]
    )
    silence = case_clocks([opened.case_id], today=date(2026, 4, 1))[opened.case_id]["silence_appeal"]
    assert silence.due_on == date(2026, 4, 21)


def test_an_appeal_after_its_term_through_the_requesters_service_finds_the_request_concluded(
    app: Flask, mailbox
) -> None:
    """Delivered on Monday 2 March 2026: the fifteen business days to appeal (LGTAIP 2015 art. 142) run 3–6,
    9–13, 17–20, 23 and 24 March. An appeal sent on the 25th, before the worker ran, finds the request
    concluded: the conclusion is recorded on its own, the appeal is not, and the requester is told to reload."""
    with _on(date(2026, 3, 2)):
        filed, unit, document = consolidated("electronic", mailbox)
        deliver(filed, unit, document, ar.Costs())
    term = _deadline(filed.case_id, "conclude")
    assert term.due_on == date(2026, 3, 24)
    version = case_version(filed.case_id)
    with _on(date(2026, 3, 25)), pytest.raises(ConflictError) as conflict:
        ar.requester_act(filed.token, "appeal", expected_version=version, data={"appeal_grounds": ["incomplete"]})
    assert conflict.value.message == LAPSED_WHILE_SEEN
    stored = stored_case(filed.case_id)
    assert stored.closed_at is not None
    assert "appeal_grounds" not in stored.data
    assert _entries(filed.case_id)[-1][:2] == ("conclude", None)


def test_through_the_case_page_the_refusal_says_why_and_the_next_step_goes_on(app: Flask, client: FlaskClient) -> None:
    """The clerk's page was loaded at 23:50 on the term's last day; at 00:10, once the term is over and before
    any worker ran, a page loaded anew no longer offers the prevención and says why; sent from the page loaded
    before, it is refused with the article and what was typed is kept; the acceptance sent from that same page is
    recorded after the lapse."""
    case, _, clerk = _filed(date(2026, 3, 13))  # the term runs 17, 18, 19 March
    with time_machine.travel(datetime(2026, 3, 19, 23, 50, tzinfo=MEXICO_CITY), tick=False):
        login_as(client, clerk)
        page = text(client.get(f"/expedientes/{case.case_id}"))
        assert 'id="accion-issue_prevention"' in page
    action = f"/expedientes/{case.case_id}/acciones/issue_prevention"
    accept = f"/expedientes/{case.case_id}/acciones/accept_intake"
    with time_machine.travel(datetime(2026, 3, 20, 0, 10, tzinfo=MEXICO_CITY), tick=False):
        # the page loaded now no longer offers it, and says why
        now = text(client.get(f"/expedientes/{case.case_id}"))
        assert 'id="accion-issue_prevention"' not in now
        assert 'id="accion-accept_intake"' in now
        unavailable = re.search(r'<li id="no-disponible-issue_prevention">(.*?)</li>', now, re.S)
        assert unavailable is not None
        assert "primer tercio del plazo de resolución, LFPA art. 17-A" in unavailable.group(1)
        # the one loaded before midnight sends it
        refused = client.post(
            action,
            data={
                **form_fields(page, action),
                "issue_prevention-prevention_items": "planos",
                "issue_prevention-comment": "Faltan los planos firmados.",
            },
        )
        shown = text(refused)
        assert refused.status_code == 422
        assert "primer tercio del plazo de resolución, LFPA art. 17-A" in shown
        assert "Faltan los planos firmados." in shown
        accepted = client.post(accept, data=form_fields(page, accept))
    assert accepted.status_code == 302
    stored = stored_case(case.case_id)
    assert (stored.state, stored.data["prevention_window_closed_on"]) == ("land_use_review", "2026-03-19")
    assert [a for a, _, _ in _entries(case.case_id)][-2:] == ["prevention_window_closed", "accept_intake"]


def test_an_appeal_sent_from_the_tracking_page_after_its_term_is_told_to_reload(
    app: Flask, client: FlaskClient, mailbox
) -> None:
    """The requester loaded the tracking page at 23:50 on the appeal term's last day (24 March 2026) and sends
    the appeal at 00:10: the page answers (422, no server error) that a term lapsed and to reload; reloaded, the
    request is concluded and no longer offers the appeal."""
    with _on(date(2026, 3, 2)):
        filed, unit, document = consolidated("electronic", mailbox)
        deliver(filed, unit, document, ar.Costs())
    tracking = f"/transparencia/seguimiento/{filed.token}"
    action = f"{tracking}/appeal"
    with time_machine.travel(datetime(2026, 3, 24, 23, 50, tzinfo=MEXICO_CITY), tick=False):
        page = text(client.get(tracking))
        assert 'id="form-appeal"' in page
    with time_machine.travel(datetime(2026, 3, 25, 0, 10, tzinfo=MEXICO_CITY), tick=False):
        sent = client.post(action, data={**form_fields(page, action), "appeal_grounds": "incomplete"})
        assert sent.status_code == 422
        assert "venció mientras lo consultaba" in text(sent)
        again = text(client.get(tracking))
    assert 'id="form-appeal"' not in again
    stored = stored_case(filed.case_id)
    assert stored.closed_at is not None
    assert "appeal_grounds" not in stored.data


# -- pages shown: an expired term is recorded before the page is built ------------------------------------


def test_the_case_page_shown_after_the_answers_term_records_the_lapse_and_offers_nothing(
    app: Flask, client: FlaskClient
) -> None:
    """On the answer's last day (18 March) the page offers the answer and records nothing. On the 19th, before
    the worker ran, the applicant's page records the lapse as the worker would (the system's entry, with its
    timer) and shows the request not presented: no answer, no upload, nothing left to the applicant."""
    prevented, owner = _prevented_on_3_march()
    page = f"/expedientes/{prevented.case_id}"
    with _on(date(2026, 3, 18)):
        login_as(client, owner)
        before = text(client.get(page))
    assert 'id="accion-answer_prevention"' in before
    assert stored_case(prevented.case_id).version == prevented.version
    with _on(date(2026, 3, 19)):
        login_as(client, owner)
        shown = text(client.get(page))
        documents = text(client.get(f"{page}/pasos/documentos"))
        assert fire_due_timers().fired == 0  # nothing left for the worker
    assert 'id="accion-answer_prevention"' not in shown
    assert "Tenida por no presentada" in shown
    assert "No tiene acciones pendientes en este expediente." in shown
    assert "En esta etapa ya no se pueden cambiar los documentos." in documents
    stored = stored_case(prevented.case_id)
    assert (stored.state, stored.version) == ("not_presented", prevented.version + 1)
    lapse = _entries(prevented.case_id)[-1]
    assert (lapse[0], lapse[1], lapse[2]["timer_id"]) == (
        "lapse_prevention",
        None,
        _deadline(prevented.case_id, "lapse_prevention").id,
    )
    assert _deadline(prevented.case_id, "lapse_prevention").status == TimerStatus.FIRED


def test_a_page_shown_does_not_record_a_lapse_that_only_records_a_day(app: Flask, client: FlaskClient) -> None:
    """The term to prevent ended on 5 March: on the 6th the clerk's page no longer offers the prevención but
    writes nothing (the step records it first, or the worker): a page another person loaded before is not made
    stale by someone reading."""
    case, _, clerk = _filed(date(2026, 3, 2))
    with _on(date(2026, 3, 6)):
        login_as(client, clerk)
        shown = text(client.get(f"/expedientes/{case.case_id}"))
    assert 'id="accion-issue_prevention"' not in shown
    assert 'id="accion-accept_intake"' in shown
    assert stored_case(case.case_id).version == case.version
    assert _deadline(case.case_id, "prevention_window_closed").status == TimerStatus.PENDING


def test_the_tracking_and_staff_pages_shown_after_the_appeal_term_record_the_conclusion(
    app: Flask, client: FlaskClient, mailbox
) -> None:
    """Delivered on 2 March 2026, the appeal term's last day is 24 March (LGTAIP 2015 art. 142). On the 24th the
    tracking page offers the appeal; on the 25th, before the worker ran, it records the conclusion first and
    shows the request concluded, with no appeal form; the unit's page shows it concluded too."""
    with _on(date(2026, 3, 2)):
        filed, unit, document = consolidated("electronic", mailbox)
        deliver(filed, unit, document, ar.Costs())
    tracking = f"/transparencia/seguimiento/{filed.token}"
    with _on(date(2026, 3, 24)):
        assert 'id="form-appeal"' in text(client.get(tracking))
    assert stored_case(filed.case_id).closed_at is None
    with _on(date(2026, 3, 25)):
        shown = text(client.get(tracking))
    assert 'id="form-appeal"' not in shown
    stored = stored_case(filed.case_id)
    assert stored.closed_at is not None
    assert _entries(filed.case_id)[-1][:2] == ("conclude", None)
    assert _deadline(filed.case_id, "conclude").status == TimerStatus.FIRED
    assert "Concluida" in shown
    with _on(date(2026, 3, 25)):
        login_as(client, unit)
        staff = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert "Concluida" in staff
    assert stored_case(filed.case_id).version == stored.version  # recorded once


def test_the_staff_page_shown_after_the_appeal_term_records_the_conclusion(
    app: Flask, client: FlaskClient, mailbox
) -> None:
    """The unit's page is the first shown on the 26th: it records the conclusion and shows it."""
    with _on(date(2026, 3, 2)):
        filed, unit, document = consolidated("electronic", mailbox)
        deliver(filed, unit, document, ar.Costs())
    seen = stored_case(filed.case_id).version
    with _on(date(2026, 3, 26)):
        login_as(client, unit)
        staff = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert "Concluida" in staff
    stored = stored_case(filed.case_id)
    assert (stored.version, stored.closed_at is not None) == (seen + 1, True)
    assert _entries(filed.case_id)[-1][:2] == ("conclude", None)
