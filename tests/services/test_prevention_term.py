"""The prevención within the first third of the term to resolve (LFPA art. 17-A, third paragraph: "deberá
prevenir al interesado dentro del primer tercio del plazo de respuesta"; after it "no podrá desechar el trámite
argumentando que está incompleto"): VECS version 2 and the operating licence's version 2.

The expected last days are written out by hand from the calendar: three business days for VECS (the first third
of the guidelines' ten), one for the operating licence (of its three), from the business day after the filing.
Monday 16 March 2026 is a statutory holiday (LFT art. 74, fr. III). The clock is frozen at each date (Mexico
City noon)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.engine import GuardRefused, InvalidData
from app.extensions import db
from app.models import Case, Role
from app.models.clocks import ClockStatus
from app.services.cases import FireResult, fire, open_case
from app.services.config import update_config
from app.services.deadlines import case_clocks
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.timers import fire_due_timers
from tests.support.clock import noon
from tests.support.factories import advance, make_user, stored_case, vecs_case
from tests.web.helpers import login_as, text


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


def _filed(day: date, *, version: int | None = None) -> tuple[FireResult, int, int]:
    """(the request in intake review, its applicant, the intake clerk), filed on ``day``."""
    with _on(day):
        owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
        draft = vecs_case(owner)
        if version is not None:
            db.session.execute(update(Case).where(Case.id == draft.case_id).values(workflow_version=version))
            db.session.commit()
        case = advance(draft, [("submit", owner, None, None), ("start_intake", clerk, None, None)])
    return case, owner, clerk


def _prevent(case: FireResult, clerk: int, items: list[str] | None = None) -> FireResult:
    return fire(
        case.case_id,
        "issue_prevention",
        clerk,
        expected_version=case.version,
        data={"prevention_items": items or ["planos"]},
        comment="Faltan datos en lo presentado.",
    )


def test_new_requests_follow_version_two_and_the_window_closes_after_three_business_days(app: Flask) -> None:
    """Filed Monday 2 March 2026: the term runs 3, 4, 5 March. On its last day the prevención is still in term;
    the next day the timers' worker records the lapse and the step is refused, while the intake goes on."""
    late, _, clerk = _filed(date(2026, 3, 2))
    on_time, _, clerk_2 = _filed(date(2026, 3, 2))
    assert stored_case(late.case_id).workflow_version == 2
    clock = case_clocks([late.case_id], today=date(2026, 3, 2))[late.case_id]["prevention_window"]
    assert (clock.status, clock.due_on) == (ClockStatus.RUNNING, date(2026, 3, 5))
    with _on(date(2026, 3, 5)):
        fire_due_timers()  # the intake's one-day target lapsed: flagged, nothing recorded of the window
        assert "prevention_window_closed_on" not in stored_case(late.case_id).data
        prevented = _prevent(on_time, clerk_2)
    assert prevented.to_state == "prevention"
    with _on(date(2026, 3, 6)):
        assert fire_due_timers().fired == 1  # the window of the request left in it
        case = stored_case(late.case_id)
        assert (case.state, case.data["prevention_window_closed_on"]) == ("intake_review", "2026-03-05")
        with pytest.raises(GuardRefused) as refused:
            _prevent(FireResult(late.case_id, late.folio, "", None, "", case.version, 0), clerk)
        assert "primer tercio del plazo de resolución, LFPA art. 17-A" in str(refused.value)
        accepted = fire(late.case_id, "accept_intake", clerk, expected_version=case.version)
    assert accepted.to_state == "land_use_review"
    assert "prevention_window_closed_on" not in stored_case(on_time.case_id).data
    stopped = case_clocks([on_time.case_id], today=date(2026, 3, 6))[on_time.case_id]["prevention_window"]
    assert stopped.status == ClockStatus.STOPPED


def test_a_holiday_does_not_count_and_the_case_page_says_why_the_step_is_gone(app: Flask, client: FlaskClient) -> None:
    """Filed Friday 13 March 2026: Monday 16 is a holiday, so the term runs 17, 18, 19 March."""
    case, _, clerk = _filed(date(2026, 3, 13))
    with _on(date(2026, 3, 19)):
        fire_due_timers()
        assert "prevention_window_closed_on" not in stored_case(case.case_id).data
    with _on(date(2026, 3, 20)):
        assert fire_due_timers().fired == 1
        assert stored_case(case.case_id).data["prevention_window_closed_on"] == "2026-03-19"
        login_as(client, clerk)
        page = text(client.get(f"/expedientes/{case.case_id}"))
    assert 'id="accion-issue_prevention"' not in page
    assert 'id="accion-accept_intake"' in page
    unavailable = re.search(r'<li id="no-disponible-issue_prevention">(.*?)</li>', page, re.S)
    assert unavailable is not None
    assert "primer tercio del plazo de resolución, LFPA art. 17-A" in unavailable.group(1)


def test_requests_filed_under_version_one_keep_its_rules(app: Flask) -> None:
    """A request filed before version 2 finishes under version 1: no window, the prevención days later."""
    case, _, clerk = _filed(date(2026, 3, 2), version=1)
    assert "prevention_window" not in case_clocks([case.case_id], today=date(2026, 3, 2))[case.case_id]
    with _on(date(2026, 3, 12)):
        fire_due_timers()
        case = FireResult(case.case_id, case.folio, "", None, "", stored_case(case.case_id).version, 0)
        assert _prevent(case, clerk).to_state == "prevention"


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"prevention_issue_days": 0}, "El plazo para prevenir es de uno a diez días hábiles"),
        ({"prevention_issue_days": 11}, "El plazo para prevenir es de uno a diez días hábiles"),
        ({"prevention_answer_days": 4}, "no menos de cinco"),
    ],
)
def test_the_terms_are_settings_within_the_law(app: Flask, changes: dict[str, int], said: str) -> None:
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidData) as refused:
        update_config("vecs", changes, admin)
    assert said in str(refused.value)
    update_config("vecs", {"prevention_issue_days": 5, "prevention_answer_days": 5}, admin)
    case, _, _ = _filed(date(2026, 3, 2))
    clock = case_clocks([case.case_id], today=date(2026, 3, 2))[case.case_id]["prevention_window"]
    assert clock.due_on == date(2026, 3, 9)  # 3, 4, 5, 6 and 9 March


def test_the_operating_licence_gives_one_business_day_to_prevent(app: Flask) -> None:
    """Filed Friday 13 March 2026: Monday 16 is a holiday, so the one day to prevent is Tuesday 17 March; the
    review goes on after it (approval or a reasoned denial)."""
    owner, reviewer = make_user(Role.APPLICANT), make_user(Role.REVIEWER)
    business = {
        "business_name": "Papelería La Pluma",
        "activity": "papeleria",
        "floor_area_m2": "40",
        "business_address": "Calle Juárez 12",
    }
    cases = []
    with _on(date(2026, 3, 13)):
        for _ in range(2):
            opened = open_case("business_licence", owner, business)
            version = opened.version
            for kind in ("identificacion", "comprobante_domicilio"):
                version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), owner).case_version
            cases.append(fire(opened.case_id, "submit", owner, expected_version=version))
    on_time, late = cases
    assert stored_case(late.case_id).workflow_version == 2
    clock = case_clocks([late.case_id], today=date(2026, 3, 13))[late.case_id]["prevention_window"]
    assert clock.due_on == date(2026, 3, 17)
    with _on(date(2026, 3, 17)):
        fire_due_timers()
        assert _prevent(on_time, reviewer, ["identificacion"]).to_state == "prevention"
    with _on(date(2026, 3, 18)):
        fire_due_timers()
        case = stored_case(late.case_id)
        assert case.data["prevention_window_closed_on"] == "2026-03-17"
        with pytest.raises(GuardRefused, match="primer tercio del plazo de resolución"):
            _prevent(FireResult(late.case_id, late.folio, "", None, "", case.version, 0), reviewer, ["identificacion"])
        assert fire(late.case_id, "approve", reviewer, expected_version=case.version).to_state == "licensed"


def test_the_window_also_lapses_while_the_request_waits_for_the_intake_to_start(app: Flask) -> None:
    """Filed Monday 2 March 2026 and left waiting in the window (not yet taken into intake review): the term
    runs all the same, its lapse is recorded there, and once the review starts the prevención is refused."""
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    with _on(date(2026, 3, 2)):
        draft = vecs_case(owner)
        submitted = fire(draft.case_id, "submit", owner, expected_version=draft.version)
    assignee = stored_case(submitted.case_id).assignee_id
    with _on(date(2026, 3, 6)):
        fire_due_timers()
        waiting = stored_case(submitted.case_id)
        assert (waiting.state, waiting.data["prevention_window_closed_on"]) == ("submitted", "2026-03-05")
        assert waiting.assignee_id == assignee  # the lapse leaves the case with whoever had it
        started = fire(submitted.case_id, "start_intake", clerk, expected_version=waiting.version)
        with pytest.raises(GuardRefused, match="primer tercio del plazo de resolución"):
            _prevent(started, clerk)
        assert fire(submitted.case_id, "accept_intake", clerk, expected_version=started.version).to_state == (
            "land_use_review"
        )
