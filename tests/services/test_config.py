"""Jurisdiction settings are data: an admin changes them, the change is logged, new cases use them."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit import verify
from app.engine import GuardRefused, InvalidData, NotAllowed
from app.extensions import db
from app.models import AuditEntry, Case, Role, Timer, TimerKind, TimerStatus, WorkflowConfigChange
from app.services.cases import fire
from app.services.config import current_params, update_config
from tests.support.factories import advance, make_user, vecs_case


def test_change_applies_to_new_cases_only(app: Flask):
    admin = make_user(Role.ADMIN)
    applicant = make_user(Role.APPLICANT)
    old_case = vecs_case(applicant, data={"built_area_m2": "1200"})
    revision = update_config("vecs", {"max_built_area_m2": "1000", "prevention_answer_days": 15}, admin)
    assert revision == 1  # the draw seed is no setting: the first case leaves the settings as they were
    assert current_params("vecs")["max_built_area_m2"] == "1000"
    new_case = vecs_case(applicant, data={"built_area_m2": "1200"})

    assert fire(old_case.case_id, "submit", applicant, expected_version=old_case.version).to_state == "submitted"
    with pytest.raises(GuardRefused, match="excede el máximo"):
        fire(new_case.case_id, "submit", applicant, expected_version=new_case.version)
    db.session.rollback()
    assert db.session.get(Case, old_case.case_id).params["max_built_area_m2"] == "1500"
    assert db.session.get(Case, new_case.case_id).params["prevention_answer_days"] == 15

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).one()
    change = db.session.get(WorkflowConfigChange, entry.details["change_id"])
    assert change is not None
    assert change.changes["max_built_area_m2"] == {"from": "1500", "to": "1000"}
    assert set(entry.details["changes"]["max_built_area_m2"]) == {"from_digest", "to_digest"}
    assert "1000" not in json.dumps(entry.details)  # the values stay out of the hashed entry
    assert entry.actor_id == admin


@pytest.mark.parametrize(
    "changes",
    [
        {"max_built_area_m2": "mucho"},
        {"max_built_area_m2": "-5"},
        {"prevention_answer_days": "diez"},
        {"prevention_answer_days": -1},
        {"low_risk_uses": []},
        {"low_risk_uses": "oficinas"},
        {"extension_silence": "close"},
        {"no_such_setting": 1},
    ],
)
def test_bad_settings_are_refused(app: Flask, changes):
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidData):
        update_config("vecs", changes, admin)
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).all() == []


def test_only_admins_change_settings(app: Flask):
    reviewer = make_user((Role.REVIEWER, "desarrollo_urbano"))
    with pytest.raises(NotAllowed):
        update_config("vecs", {"payment_days": 5}, reviewer)


def test_silence_rule_is_configurable(app: Flask):
    admin = make_user(Role.ADMIN)
    update_config("vecs", {"extension_silence": "refuse_extension_ficta"}, admin)
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    reviewer = make_user((Role.REVIEWER, "desarrollo_urbano"))
    second = make_user((Role.REVIEWER, "finanzas"))
    case = advance(
        vecs_case(applicant),
        [
            ("submit", applicant, None, None),
            ("start_intake", clerk, None, None),
            ("accept_intake", clerk, None, None),
            ("rule_land_use", reviewer, {"land_use_ruling": "Compatible"}, None),
            ("assess_fees", reviewer, {"fees": [{"concept": "Licencia", "amount": "100.00"}]}, None),
            ("confirm_payment", None, None, None),
            ("approve_licence", second, {"licence_number": "LC-1"}, None),
            ("request_extension", applicant, None, None),
        ],
    )
    timer = db.session.scalars(
        select(Timer).where(
            Timer.case_id == case.case_id, Timer.kind == TimerKind.DEADLINE, Timer.status == TimerStatus.PENDING
        )
    ).one()
    assert timer.trigger == "refuse_extension_ficta"


def test_the_draw_seed_is_no_setting_the_municipality_reads_or_changes(app: Flask):
    """The inspection draw's seed is committed by the system (see tests/services/test_draw_seeds.py): it is
    neither among the settings nor copied into the cases, and the administration cannot set one."""
    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant)
    db.session.rollback()
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert "inspection_seed" not in stored.params
    assert "inspection_seed" not in current_params("vecs")
    with pytest.raises(InvalidData):
        update_config("vecs", {"inspection_seed": "semilla-del-municipio"}, make_user(Role.ADMIN))
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "draw_seed_generated")).all()
    result = verify(db.session())
    assert result.ok, result
