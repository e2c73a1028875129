"""Information already public (LGTAIP 2015 art. 130), on SQLite and PostgreSQL: the unit points to the source
within its own shorter term (5 business days by default), without turning the request; the requester reads
and is mailed the text, its legal basis and the last day to appeal. Dated against hand-counted calendars."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import time_machine
from flask import Flask, current_app

from app.engine import GuardRefused
from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import AreaTurn
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.timers import fire_due_timers
from tests.support.clock import noon
from tests.support.factories import case_version, make_user

SOURCE = "Portal de transparencia: https://municipio.example/presupuesto (sección Presupuesto 2025, descarga libre)"


def _confirm(mailbox: Any, address: str = "lector@example.test") -> None:
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    links = [found.group(1) for body in bodies if (found := re.search(r"/confirmar-correo/([A-Za-z0-9_-]+)", body))]
    assert links, "no confirmation link was mailed"
    confirm(links[-1])


def test_the_unit_points_to_the_public_source_and_the_requester_is_told(app: Flask, mailbox):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    with time_machine.travel(noon(date(2025, 6, 2)), tick=False):  # Monday
        filed = ar.file_request("Lector", "lector@example.test", "Presupuesto 2025", "electronic")
        _confirm(mailbox)
    with time_machine.travel(noon(date(2025, 6, 6)), tick=False):  # Friday: within 3–9 June
        ar.point_to_public_source(filed.case_id, SOURCE, unit, expected_version=case_version(filed.case_id))
        case = db.session.get(Case, filed.case_id)
        assert case is not None
        assert case.state == "answered"
        assert db.session.query(AreaTurn).filter_by(case_id=filed.case_id).count() == 0  # not turned
        act = ar.requester_view(filed.token).pending_act
        assert act is not None
        assert (act.kind, act.text) == ("public_source", SOURCE)
        assert "Artículo 130" in act.legal_basis
        # 15 business days to appeal from Monday 9 June: 9–13, 16–20, 23–27 June 2025
        assert act.due_on == date(2025, 6, 27)
        page = current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)
        assert "https://municipio.example/presupuesto" in page
        assert "Artículo 130" in page
        assert "27 de junio de 2025" in page
        deliver_pending()
    body = [m for m in mailbox.messages if m["To"] == "lector@example.test"][-1].get_content()
    assert SOURCE in body
    assert "Artículo 130 de la Ley General de Transparencia" in body
    assert "Plazo para interponer el recurso de revisión: a más tardar el 27 de junio de 2025" in body


def test_the_public_source_term_is_the_units_own_and_shorter(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    with time_machine.travel(noon(date(2025, 6, 2)), tick=False):  # Monday
        filed = ar.file_request("Lector", "lector@example.test", "Presupuesto 2025", "electronic")
    # 5 business days from Tuesday 3 June 2025: 3, 4, 5, 6 and 9 June; it lapses at the start of the 10th
    with time_machine.travel(noon(date(2025, 6, 9)), tick=False):
        fire_due_timers()
        db.session.rollback()
        assert "public_source_window_closed_on" not in db.session.get(Case, filed.case_id).data  # type: ignore[union-attr]
        assert "point_to_public_source" in ar.staff_view(filed.case_id, unit).unit_offers
    with time_machine.travel(noon(date(2025, 6, 10)), tick=False):
        fire_due_timers()
        db.session.rollback()
        case = db.session.get(Case, filed.case_id)
        assert case is not None
        assert case.data["public_source_window_closed_on"] == "2025-06-09"
        assert "point_to_public_source" not in ar.staff_view(filed.case_id, unit).unit_offers
        with pytest.raises(GuardRefused, match="fuente"):
            ar.point_to_public_source(filed.case_id, SOURCE, unit, expected_version=case_version(filed.case_id))
        # the request is still the unit's to turn or answer within the response term
        assert db.session.get(Case, filed.case_id).state == "received"  # type: ignore[union-attr]
