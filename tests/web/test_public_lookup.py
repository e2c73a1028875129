"""``/consulta``: anyone follows a filed case by its folio, and sees its legal term as a date and business
days left, suspended while the applicant holds the case, or lapsed with the silence rule applied.

Generic: the page names no procedure; VECS is the procedure that declares a legal term. The expected dates are
counted by hand from the 2026 calendar (statutory holidays: 2 February, 16 March), not with the code under
test, and the clock is frozen at Mexico City noon of each day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app.calendar import LOCAL_TZ
from app.models import Role
from app.services.cases import FireResult, fire
from app.services.timers import fire_due_timers
from tests.support.demo_data import VECS_DATA
from tests.support.factories import make_user, vecs_case

EN = {"Accept-Language": "en"}


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(datetime.combine(day, time(12, 0), tzinfo=LOCAL_TZ).astimezone(UTC), tick=False):
        yield


def _body(client: FlaskClient, folio: str, status: int = 200, headers: dict[str, str] | None = None) -> str:
    response = client.get(f"/consulta?folio={folio}", headers=headers or {})
    assert response.status_code == status, response.status_code
    return " ".join(response.get_data(as_text=True).split())


def _filed(day: date) -> tuple[FireResult, int]:
    owner = make_user(Role.APPLICANT)
    with _on(day):
        case = vecs_case(owner)
        return fire(case.case_id, "submit", owner, expected_version=case.version), owner


def test_a_running_legal_term_shows_its_last_day_and_the_business_days_left(app: Flask, client: FlaskClient) -> None:
    # filed Friday 13 March 2026; Monday 16 March is a holiday: counts from Tuesday 17 March
    # 17 18 19 20 | 23 24 25 26 27 | 30 → Monday 30 March; on Wednesday 18 March: 19 20 23 24 25 26 27 30 left
    case, _ = _filed(date(2026, 3, 13))
    with _on(date(2026, 3, 18)):
        body = _body(client, case.folio.lower())
        english = _body(client, case.folio, headers=EN)
    assert case.folio in body
    assert "Ventanilla de Construcción Simplificada" in body
    assert "Plazo máximo de resolución" in body
    assert "lunes, 30 de marzo de 2026" in body
    assert "8 días hábiles restantes" in body
    assert "Monday, March 30, 2026" in english
    assert "8 business days left" in english
    assert str(VECS_DATA["property_address"]) not in body  # nothing of the request itself


def test_the_legal_term_is_shown_suspended_while_the_applicant_holds_the_case(app: Flask, client: FlaskClient) -> None:
    # filed Wednesday 4 February: counts from Thursday 5; two days used (5, 6) when the prevención is issued
    # on Monday 9 February: 8 left, suspended
    case, _ = _filed(date(2026, 2, 4))
    clerk = make_user(Role.INTAKE_CLERK)
    with _on(date(2026, 2, 9)):
        case = fire(case.case_id, "start_intake", clerk, expected_version=case.version)
        fire(
            case.case_id,
            "issue_prevention",
            clerk,
            expected_version=case.version,
            data={"prevention_items": ["planos"]},
            comment="Faltan cotas",
        )
    with _on(date(2026, 2, 11)):
        body = _body(client, case.folio)
    assert "Suspendido mientras el solicitante tiene el expediente" in body
    assert "quedan 8 días hábiles" in body


def test_a_lapsed_legal_term_shows_its_last_day_and_the_silence_rule_applied(app: Flask, client: FlaskClient) -> None:
    # filed Wednesday 4 February: 5 6 | 9 10 11 12 13 | 16 17 18 → Wednesday 18 February; the system applies
    # the jurisdiction's silence rule (afirmativa ficta by default) on Thursday 19 February
    case, _ = _filed(date(2026, 2, 4))
    with _on(date(2026, 2, 19)):
        assert fire_due_timers().fired >= 1
    with _on(date(2026, 2, 20)):
        body = _body(client, case.folio)
    assert "su último día fue el 18 de febrero de 2026" in body
    assert "El 19 de febrero de 2026 se aplicó la regla del silencio de la autoridad" in body
    assert "afirmativa ficta" in body


def test_drafts_unknown_folios_and_bad_input(app: Flask, client: FlaskClient) -> None:
    draft = vecs_case(make_user(Role.APPLICANT))
    assert "No hay ningún expediente presentado con ese folio" in _body(client, draft.folio, 404)
    assert "No hay ningún expediente presentado con ese folio" in _body(client, "VECS-1999-999999", 404)
    assert "El folio solo contiene letras, números y guiones" in _body(client, "%3Cscript%3E", 400)
    assert "Escriba el folio del expediente" in _body(client, "", 400)
    page = client.get("/consulta")
    assert page.status_code == 200
