"""The second configuration, Mexico City's Registro de Manifestación Tipo B, through the services on both
databases: registered at the counter, reviewed afterwards, extensions, completion, four-eyes, revocation."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit import verify
from app.engine import GuardRefused, NotAllowed
from app.extensions import db
from app.models import Case, Role, Timer, TimerKind, TimerStatus
from app.services.cases import FireResult, fire, open_case, work_queue
from app.services.config import update_config
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from tests.support.demo_data import VECS_DATA
from tests.support.factories import advance, make_user
from workflows.base import requirement_kinds
from workflows.cdmx_tipo_b import TIPO_B_V1


def manifestation(owner: int) -> FireResult:
    opened = open_case("cdmx_tipo_b", owner, VECS_DATA)
    version = opened.version
    for kind in requirement_kinds(TIPO_B_V1.params["requirements"]):
        version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), owner).case_version
    return FireResult(opened.case_id, opened.folio, "open", None, "draft", version, opened.audit_seq)


def assigned(case_id: int) -> int:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    assert case.assignee_id is not None
    return case.assignee_id


def pending(case_id: int, kind: TimerKind) -> Timer:
    db.session.rollback()
    return db.session.scalars(
        select(Timer).where(Timer.case_id == case_id, Timer.kind == kind, Timer.status == TimerStatus.PENDING)
    ).one()


def test_registered_at_once_reviewed_afterwards_and_closed(app: Flask) -> None:
    admin, owner = make_user(Role.ADMIN), make_user(Role.APPLICANT)
    reviewer_a = make_user((Role.REVIEWER, "obras_alcaldia"))
    reviewer_b = make_user((Role.REVIEWER, "obras_alcaldia"))
    other = make_user((Role.REVIEWER, "finanzas"))
    update_config("cdmx_tipo_b", {"departments": {"review": "obras_alcaldia"}}, admin)
    case = manifestation(owner)
    assert case.folio.startswith("RMCB-")
    registered = fire(case.case_id, "submit", owner, expected_version=case.version)
    assert registered.to_state == "registered"
    assert pending(case.case_id, TimerKind.TARGET).term_days == 5
    # the draw assigned it to one of the department's two reviewers: the other neither sees it queued nor acts
    first = assigned(case.case_id)
    second = reviewer_b if first == reviewer_a else reviewer_a
    assert first in (reviewer_a, reviewer_b)
    assert case.case_id in {c.id for c in work_queue(first, frozenset({"reviewer"})) or []}
    assert case.case_id not in {c.id for c in work_queue(second, frozenset({"reviewer"})) or []}
    assert case.case_id not in {c.id for c in work_queue(other, frozenset({"reviewer"})) or []}
    with pytest.raises(NotAllowed):
        fire(case.case_id, "confirm_registration", other, expected_version=registered.version)
    observed = advance(
        registered,
        [
            ("raise_observations", first, {"observation_items": ["planos"]}, "Faltan los cortes."),
            ("edit", owner, {"dro_registration": "DRO-0002"}, None),
            ("answer_observations", owner, None, None),
            ("confirm_registration", first, None, None),
            ("request_extension", owner, None, None),
        ],
    )
    assert pending(case.case_id, TimerKind.DEADLINE).term_days == 3
    in_force = advance(
        observed,
        [
            ("grant_extension_ficta", None, None, None),
            ("request_extension", owner, None, None),
            ("refuse_extension", first, None, "Sin justificación."),
        ],
    )
    with pytest.raises(GuardRefused, match="máximo de prórrogas"):
        fire(case.case_id, "request_extension", owner, expected_version=in_force.version)
    completed = fire(case.case_id, "file_completion", owner, expected_version=in_force.version)
    assert completed.to_state == "completion_filed"
    # four eyes: whoever confirmed the registration is left out of the draw for the occupancy
    assert assigned(case.case_id) == second
    with pytest.raises(NotAllowed, match="asignado a otra persona"):
        fire(case.case_id, "authorize_occupancy", first, expected_version=completed.version)
    closed = advance(completed, [("authorize_occupancy", second, None, None), ("close", second, None, None)])
    assert closed.to_state == "closed"
    assert verify(db.session()).ok


def test_revocation_lapse_and_withdrawal(app: Flask) -> None:
    owner, reviewer = make_user(Role.APPLICANT), make_user(Role.REVIEWER)
    first = advance(manifestation(owner), [("submit", owner, None, None)])
    assert fire(
        first.case_id, "revoke", reviewer, expected_version=first.version, comment="Datos falsos."
    ).to_state == ("revoked")
    second = advance(
        manifestation(owner),
        [("submit", owner, None, None), ("raise_observations", reviewer, {"observation_items": ["planos"]}, "x")],
    )
    assert fire(second.case_id, "lapse_observations", None, expected_version=second.version).to_state == "lapsed"
    third = advance(manifestation(owner), [("submit", owner, None, None)])
    assert fire(third.case_id, "withdraw", owner, expected_version=third.version).to_state == "withdrawn"
    too_big = manifestation(owner)
    with pytest.raises(GuardRefused, match="tipo C"):
        fire(too_big.case_id, "submit", owner, expected_version=too_big.version, data={"built_area_m2": "5000.01"})
