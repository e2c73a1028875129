"""Access-request pages offer only the forms that still apply, and never repeat an element id (both
databases; the clock is frozen where the windows matter)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engine import GuardRefused
from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as svc
from app.services.timers import fire_due_timers
from tests.support.clock import noon
from tests.support.factories import make_user, quorum
from tests.web.helpers import csrf_token, flashes, hidden_value, login_as, text


def _version(case_id: int) -> int:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case.version


def _duplicate_ids(page: str) -> list[str]:
    return [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', page)).items() if n > 1]


@pytest.mark.parametrize("worker_ran", [True, False], ids=["recorded", "not-yet-recorded"])
def test_the_prevencion_is_not_offered_after_its_window(app: Flask, client: FlaskClient, worker_ran: bool):
    """Whether or not the timers' worker has recorded the windows' lapse: a step would record it first."""
    unit = make_user(Role.TRANSPARENCY_UNIT)
    with time_machine.travel(noon(date(2025, 6, 2)), tick=False):  # Monday
        filed = svc.file_request("Lector", "lector@example.test", "Contratos", "electronic")
        login_as(client, unit)
        page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
        assert 'id="form-prevent"' in page
        assert 'id="form-incompetent"' in page
        assert _duplicate_ids(page) == []
    # the 5 business days to issue a prevención end on Monday 9 June 2025 (3–6 and 9 June)
    with time_machine.travel(noon(date(2025, 6, 10)), tick=False):
        if worker_ran:
            fire_due_timers()
        login_as(client, unit)  # a new session: the first one ended with the days gone by
        page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
        assert 'id="form-prevent"' not in page
        assert 'id="form-incompetent"' not in page  # 3 business days: ended on Thursday 5 June
        assert 'id="form-turn"' in page
        with pytest.raises(GuardRefused):
            svc.unit_act(filed.case_id, "prevent", unit, expected_version=_version(filed.case_id), comment="Precise")
    db.session.rollback()
    stored = db.session.get(Case, filed.case_id)
    assert stored is not None
    assert ("prevention_window_closed_on" in stored.data) is worker_ran  # the refused step recorded nothing


def test_the_extension_is_not_offered_once_requested(app: Flask, client: FlaskClient):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    make_user((Role.AREA, "obras"))
    committee = make_user(Role.COMMITTEE_MEMBER)
    filed = svc.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    svc.turn_request(filed.case_id, ["obras"], unit, expected_version=_version(filed.case_id))
    session_id = svc.open_session("CT-1", date(2026, 11, 20), committee)
    login_as(client, unit)
    page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert 'id="form-extension"' in page
    assert _duplicate_ids(page) == []
    svc.request_extension(filed.case_id, session_id, "Volumen", unit, expected_version=_version(filed.case_id))
    db.session.rollback()
    item = db.session.scalars(select(svc.CommitteeItem.id).where(svc.CommitteeItem.case_id == filed.case_id)).one()
    svc.decide_item(item, "approve", "Se aprueba", committee, votes=quorum(committee))
    page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert 'id="form-extension"' not in page


def test_the_consolidated_page_and_the_tracking_page_repeat_no_id(app: Flask, client: FlaskClient):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = make_user((Role.AREA, "obras"))
    committee = make_user(Role.COMMITTEE_MEMBER)
    filed = svc.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    svc.turn_request(filed.case_id, ["obras"], unit, expected_version=_version(filed.case_id))
    answer = svc.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP")
    svc.answer_turn(filed.case_id, "obras", answer, obras, expected_version=_version(filed.case_id))
    svc.unit_act(filed.case_id, "consolidate", unit, expected_version=_version(filed.case_id))
    svc.open_session("CT-2", date(2026, 11, 20), committee)
    login_as(client, unit)
    page = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert 'id="form-deliver"' in page
    assert 'id="form-committee"' in page
    assert 'id="form-extension"' in page
    assert _duplicate_ids(page) == []
    tracking = text(client.get(f"/transparencia/seguimiento/{filed.token}"))
    assert _duplicate_ids(tracking) == []


def test_refusals_name_fields_in_words_not_codes(app: Flask, client: FlaskClient):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    filed = svc.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    login_as(client, unit)
    url = f"/transparencia/solicitudes/{filed.case_id}"
    action = f"{url}/unidad/declare_incompetent"
    page = text(client.get(url))
    refused = client.post(
        action,
        data={
            "csrf_token": csrf_token(page, action),
            "version": hidden_value(page, "version", action),
            "comment": "No es información de este municipio",
        },
    )
    assert refused.status_code == 422
    shown = " ".join(flashes(refused))
    assert "Sujeto obligado competente" in shown
    assert "competent_body" not in shown
