"""The transparency committee resolves in session with its quorum and by majority of votes (LGTAIP 2015
art. 43), on SQLite and PostgreSQL: the members present and each vote are recorded and printed in the acta;
without quorum nothing is resolved, with a clear error."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engine import GuardRefused, InvalidData, NotAllowed
from app.extensions import db
from app.models import Case, Certificate, Role
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import CommitteeItem, CommitteeVote
from app.services.config import update_config
from tests.support.access_requests import issued_pdf_text
from tests.support.factories import case_version, make_user, on_committee_agenda
from tests.web.helpers import flashes, login_as, text


def test_without_quorum_no_resolution_is_issued(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    chair = make_user(Role.COMMITTEE_MEMBER, name="Ana Presidenta")
    make_user(Role.COMMITTEE_MEMBER, name="Beto Vocal")
    filed, item = on_committee_agenda(unit, chair)
    # 1 of 3 present: the default quorum is 2 (a majority of the 3 members)
    with pytest.raises(GuardRefused, match="quórum"):
        ar.decide_item(item, "confirm", "Se confirma", chair, votes={chair: "favor"})
    db.session.rollback()
    row = db.session.get(CommitteeItem, item)
    assert row is not None
    assert row.decision is None
    assert db.session.scalars(select(CommitteeVote)).all() == []
    assert db.session.scalars(select(Certificate).where(Certificate.case_id == filed.case_id)).all() == []
    assert db.session.get(Case, filed.case_id).state == "in_committee"  # type: ignore[union-attr]


def test_a_tie_is_not_a_majority_and_only_members_vote(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    chair = make_user(Role.COMMITTEE_MEMBER)
    vocal = make_user(Role.COMMITTEE_MEMBER)
    _filed, item = on_committee_agenda(unit, chair)
    with pytest.raises(GuardRefused, match="mayoría"):
        ar.decide_item(item, "confirm", "Se confirma", chair, votes={chair: "favor", vocal: "against"})
    with pytest.raises(InvalidData, match="integrantes del Comité"):
        ar.decide_item(item, "confirm", "Se confirma", chair, votes={chair: "favor", unit: "favor"})
    with pytest.raises(InvalidData, match="presente"):
        ar.decide_item(item, "confirm", "Se confirma", chair, votes={vocal: "favor"})
    with pytest.raises(NotAllowed):
        ar.decide_item(item, "confirm", "Se confirma", unit, votes={chair: "favor", vocal: "favor"})
    with pytest.raises(InvalidData, match="a favor, en contra o abstención"):
        ar.decide_item(item, "confirm", "Se confirma", chair, votes={chair: "favor", vocal: "maybe"})


def test_the_acta_prints_the_members_present_the_quorum_and_each_vote(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    chair = make_user(Role.COMMITTEE_MEMBER, name="Ana Presidenta")
    vocal = make_user(Role.COMMITTEE_MEMBER, name="Beto Vocal")
    third = make_user(Role.COMMITTEE_MEMBER, name="Carla Contralora")
    filed, item = on_committee_agenda(unit, chair)
    votes = {chair: "favor", vocal: "favor", third: "against"}
    ar.decide_item(item, "confirm", "Se confirma la confidencialidad", chair, votes=votes)
    acta = issued_pdf_text(filed.case_id, "committee_resolution")
    assert "Ana Presidenta" in acta
    assert "Beto Vocal" in acta
    assert "Carla Contralora" in acta
    assert re.search(r"Carla Contralora\s+Integrante del Comité de Transparencia\s+En contra", acta), acta
    assert "3 de 3 integrantes presentes (quórum: 2); 2 a favor, 1 en contra, 0 abstenciones" in acta
    assert "Obras" in acta
    assert "área obras" not in acta
    db.session.rollback()
    recorded = {(v.member_id, v.vote) for v in db.session.scalars(select(CommitteeVote))}
    assert recorded == set(votes.items())


def test_quorum_is_a_setting(app: Flask):
    admin = make_user(Role.ADMIN)
    update_config("access_request", {"committee_members": 5, "committee_quorum": 3}, admin)
    unit = make_user(Role.TRANSPARENCY_UNIT)
    chair = make_user(Role.COMMITTEE_MEMBER)
    vocal = make_user(Role.COMMITTEE_MEMBER)
    _filed, item = on_committee_agenda(unit, chair)
    with pytest.raises(GuardRefused, match="quórum"):
        ar.decide_item(item, "confirm", "Se confirma", chair, votes={chair: "favor", vocal: "favor"})


def test_the_session_page_records_votes_and_refuses_without_quorum(app: Flask, client: FlaskClient):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    chair = make_user(Role.COMMITTEE_MEMBER, name="Ana Presidenta")
    vocal = make_user(Role.COMMITTEE_MEMBER, name="Beto Vocal")
    filed, item = on_committee_agenda(unit, chair)
    db.session.rollback()
    session_id = db.session.get(CommitteeItem, item).session_id  # type: ignore[union-attr]
    login_as(client, chair)
    url = f"/transparencia/comite/{session_id}"
    page = text(client.get(url))
    assert "Beto Vocal" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    token = re.search(r'name="item\d+-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    prefix = f"item{item}-"
    form = {
        f"{prefix}csrf_token": token.group(1),
        f"{prefix}decision": "confirm",
        f"{prefix}resolution_text": "Se confirma",
        f"{prefix}vote_{chair}": "favor",
        f"{prefix}vote_{vocal}": "absent",
    }
    refused = client.post(f"{url}/asuntos/{item}", data=form)
    assert refused.status_code == 422
    assert any("quórum" in f for f in flashes(refused)), flashes(refused)
    ok = client.post(f"{url}/asuntos/{item}", data={**form, f"{prefix}vote_{vocal}": "favor"})
    assert ok.status_code == 302, flashes(ok)
    after = text(client.get(url))
    assert "Beto Vocal: A favor" in after
    assert case_version(filed.case_id) > 0
