"""VECS through the services on both databases: every trigger, the one-prevención limit, four-eyes, departments,
the inspection draw, fees from the published table, requirements from the settings, eligibility and registration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import app.services.cases as cases_service
import app.services.users as users_service
from app.audit import verify
from app.calendar import LOCAL_TZ
from app.engine import ConflictError, GuardRefused, IllegalTrigger, InvalidData, NotAllowed
from app.extensions import db
from app.models import AuditEntry, AuditKind, Case, Document, DrawSeed, Role, Timer, TimerKind, TimerStatus
from app.services.assignment import recuse
from app.services.case_actions import act, upload_requirement
from app.services.case_pages import case_page, next_actors
from app.services.cases import FireResult, available_triggers, fire, work_queue
from app.services.certificates import CertificateEffects
from app.services.config import current_params, update_config
from app.services.construction import check_eligibility, start_request
from app.services.demo import demo_pdf
from app.services.registration import register_applicant
from app.services.seeds import public_seeds, reveal_ended
from tests.support.demo_data import VECS_DATA, VECS_SETTINGS
from tests.support.factories import case_version, committed_seed, make_user, pay, stored_case, vecs_case
from tests.web.helpers import login_as
from workflows.base import draw, seed_matches
from workflows.vecs import VECS_V1, compute_fees

DEPARTMENTS = VECS_SETTINGS["departments"]
FEE_TABLE = VECS_SETTINGS["fee_table"]


@pytest.fixture
def real_certificates() -> None:
    """Requested by the tests that issue the licence and occupancy PDFs for real."""


@pytest.fixture(autouse=True)
def quick_certificates(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering and signing a certificate takes seconds; these tests are about the workflow, so they skip it
    unless they ask for ``real_certificates`` (the certificates have their own tests)."""
    if "real_certificates" not in request.fixturenames:
        monkeypatch.setattr(cases_service, "transition_effects", lambda *args, **kwargs: CertificateEffects())


@dataclass(frozen=True)
class Town:
    admin: int
    owner: int
    clerk: int
    land_use: int
    finance: int
    approver: int
    inspector: int
    any_reviewer: int


@pytest.fixture
def town(app: Flask) -> Town:
    """A municipality that maps each VECS stage to a department and publishes its fee table."""
    town = Town(
        admin=make_user(Role.ADMIN),
        owner=make_user(Role.APPLICANT),
        clerk=make_user((Role.INTAKE_CLERK, "ventanilla")),
        land_use=make_user((Role.REVIEWER, "desarrollo_urbano")),
        finance=make_user((Role.REVIEWER, "finanzas")),
        approver=make_user((Role.REVIEWER, "desarrollo_urbano")),
        inspector=make_user((Role.INSPECTOR, "obras_publicas")),
        any_reviewer=make_user(Role.REVIEWER),
    )
    make_user((Role.INSPECTOR, "obras_publicas"))  # the department exists before the settings name it
    update_config("vecs", {"departments": DEPARTMENTS, "fee_table": FEE_TABLE}, town.admin)
    return town


def key() -> str:
    return uuid.uuid4().hex


def case_entries(case_id: int) -> list[AuditEntry]:
    """The case's audit entries, oldest first."""
    db.session.rollback()
    stmt = select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
    return list(db.session.scalars(stmt))


ASSIGNEE = 0
"""In a list of steps: whoever the reviewer draw assigned the case to (only they may act on it)."""


def assignee(case_id: int) -> int:
    """The case's assignee now."""
    who = stored_case(case_id).assignee_id
    assert who is not None, "the case has nobody assigned"
    return who


def walk(case: FireResult, steps: list[tuple[str, int | None, dict[str, Any] | None, str | None]]) -> FireResult:
    """Like ``advance``, with :data:`ASSIGNEE` standing for the case's assignee at each step."""
    result = case
    for trigger, actor, data, comment in steps:
        if trigger == "confirm_payment":  # the treasury confirms the payment order through its service
            result = pay(result, actor)
            continue
        who = assignee(result.case_id) if actor == ASSIGNEE else actor
        result = fire(result.case_id, trigger, who, expected_version=result.version, data=data, comment=comment)
    return result


def to_fee_assessment(town: Town) -> FireResult:
    return walk(
        vecs_case(town.owner),
        [
            ("submit", town.owner, None, None),
            ("start_intake", town.clerk, None, None),
            ("accept_intake", town.clerk, None, None),
            ("rule_land_use", ASSIGNEE, {"land_use_ruling": "Compatible con H3-C"}, None),
        ],
    )


def to_licensed(town: Town) -> FireResult:
    case = to_fee_assessment(town)
    case = act(case.case_id, "assess_fees", town.finance, expected_version=case.version, idempotency_key=key())
    return walk(
        case,
        [
            ("confirm_payment", None, None, None),
            ("approve_licence", ASSIGNEE, None, None),
        ],
    )


# -- the whole flow, and every trigger ------------------------------------------------------------------


def test_whole_flow_with_real_certificates(town: Town, real_certificates: None) -> None:
    update_config("vecs", {"inspection_rate": "0"}, town.admin)
    case = to_licensed(town)
    completed = fire(case.case_id, "file_completion", town.owner, expected_version=case.version)
    final = walk(completed, [("authorize_occupancy", ASSIGNEE, None, None)])
    assert final.to_state == "occupancy_authorized"
    kinds = [
        e.details["certificate"]["kind"]
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.case_id == case.case_id).order_by(AuditEntry.seq)
        )
        if e.details and "certificate" in e.details
    ]
    assert kinds == ["payment_order", "licence", "occupancy"]
    assert len(case_page(case.case_id, town.owner).certificates) == 3


@pytest.mark.parametrize(("rate", "inspected"), [("1", True), ("0", False)])
def test_whole_flow_to_closed_with_and_without_inspection(town: Town, rate: str, inspected: bool) -> None:
    update_config("vecs", {"inspection_rate": rate}, town.admin)
    case = to_licensed(town)
    assert case.to_state == "licensed"
    case = walk(
        case,
        [
            ("request_extension", town.owner, None, None),
            ("grant_extension", ASSIGNEE, None, None),
            ("request_extension", town.owner, None, None),
            ("refuse_extension", ASSIGNEE, None, "La obra no justifica más tiempo."),
        ],
    )
    with pytest.raises(GuardRefused, match="máximo de prórrogas"):
        fire(case.case_id, "request_extension", town.owner, expected_version=case.version)
    completed = fire(case.case_id, "file_completion", town.owner, expected_version=case.version)
    # the draw and its automatic outcome happen in the same transaction, as the system
    assert completed.trigger == "file_completion"
    assert completed.from_state == "licensed"
    assert completed.to_state == ("inspection" if inspected else "occupancy_review")
    assert completed.version == case.version + 2
    data = stored_case(case.case_id).data
    assert data["inspection_drawn"] is inspected
    assert data["inspection_draw"]["selected"] is inspected
    tail: list[tuple[str, int | None, dict[str, Any] | None, str | None]] = []
    if inspected:
        tail.append(("pass_inspection", ASSIGNEE, None, None))
    tail += [("authorize_occupancy", ASSIGNEE, None, None), ("close", ASSIGNEE, None, None)]
    final = walk(completed, tail)
    assert final.to_state == "closed"
    assert stored_case(case.case_id).closed_at is not None
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.case_id == case.case_id, AuditEntry.kind == AuditKind.TRANSITION)
        )
    ]
    assert ("send_to_inspection" if inspected else "skip_inspection") in actions
    assert verify(db.session()).ok


def test_the_draw_is_reproducible_and_recorded(town: Town) -> None:
    update_config("vecs", {"inspection_rate": "0.5"}, town.admin)
    case = to_licensed(town)
    completed = fire(case.case_id, "file_completion", town.owner, expected_version=case.version)
    entries = list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.case_id).order_by(AuditEntry.seq))
    )
    filing = next(e for e in entries if e.action == "file_completion")
    # the draw's transition follows the filing at once (a drawn case is then assigned to an inspector)
    automatic = next(e for e in entries if e.action in {"send_to_inspection", "skip_inspection"})
    assert (automatic.actor_id, automatic.actor_role) == (None, "system")
    assert automatic.seq == filing.seq + 1
    recorded = automatic.details["draw"]
    seed = committed_seed()
    expected = draw(seed, completed.folio, filing.seq, "0.5")
    assert recorded["seq"] == filing.seq
    assert recorded["digest"] == expected.digest
    assert recorded["selected"] is expected.selected
    assert recorded["rate"] == "0.5"
    assert seed not in str(recorded)  # the seed itself is not published in the log
    assert {
        k: v for k, v in stored_case(case.case_id).data["inspection_draw"].items() if not k.startswith("seed_")
    } == (expected.record())
    assert automatic.action == ("send_to_inspection" if expected.selected else "skip_inspection")


def test_observations_then_a_new_completion_notice_and_a_new_draw(town: Town) -> None:
    update_config("vecs", {"inspection_rate": "1"}, town.admin)
    case = to_licensed(town)
    case = walk(
        case,
        [
            ("file_completion", town.owner, None, None),
            ("record_observations", ASSIGNEE, None, "Faltan las rampas de acceso."),
        ],
    )
    assert case.to_state == "observations"
    again = fire(case.case_id, "file_completion", town.owner, expected_version=case.version)
    assert again.to_state == "inspection"
    draws = [
        e.details["draw"]["seq"]
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.case_id))
        if e.details and "draw" in e.details
    ]
    assert len(draws) == 2
    assert draws[0] != draws[1]


def test_withdrawal_denial_and_revocation(town: Town) -> None:
    withdrawn = walk(vecs_case(town.owner), [("submit", town.owner, None, None)])
    assert fire(withdrawn.case_id, "withdraw", town.owner, expected_version=withdrawn.version).to_state == "withdrawn"
    denied = walk(
        vecs_case(town.owner),
        [
            ("submit", town.owner, None, None),
            ("start_intake", town.clerk, None, None),
            ("accept_intake", town.clerk, None, None),
        ],
    )
    with pytest.raises(GuardRefused, match="comentario"):
        fire(denied.case_id, "deny", assignee(denied.case_id), expected_version=denied.version, comment="  ")
    result = fire(
        denied.case_id, "deny", assignee(denied.case_id), expected_version=denied.version, comment="Zona de riesgo."
    )
    assert result.to_state == "denied"
    licensed = to_licensed(town)
    revoked = fire(
        licensed.case_id,
        "revoke",
        assignee(licensed.case_id),
        expected_version=licensed.version,
        comment="Datos falsos.",
    )
    assert revoked.to_state == "revoked"
    for case_id in (withdrawn.case_id, denied.case_id, licensed.case_id):
        assert stored_case(case_id).closed_at is not None


def test_timers_fire_the_system_transitions(town: Town) -> None:
    """lapse_prevention, lapse_payment and the extension silence rule are the system's to fire."""
    prevention = walk(
        vecs_case(town.owner),
        [
            ("submit", town.owner, None, None),
            ("start_intake", town.clerk, None, None),
            ("issue_prevention", town.clerk, {"prevention_items": ["planos"]}, "Faltan cotas."),
        ],
    )
    with pytest.raises(NotAllowed):
        fire(prevention.case_id, "lapse_prevention", town.clerk, expected_version=prevention.version)
    assert fire(prevention.case_id, "lapse_prevention", None, expected_version=prevention.version).to_state == (
        "not_presented"
    )
    case = to_fee_assessment(town)
    unpaid = act(case.case_id, "assess_fees", town.finance, expected_version=case.version, idempotency_key=key())
    assert fire(unpaid.case_id, "lapse_payment", None, expected_version=unpaid.version).to_state == "not_presented"
    licensed = to_licensed(town)
    asked = fire(licensed.case_id, "request_extension", town.owner, expected_version=licensed.version)
    ficta = fire(licensed.case_id, "grant_extension_ficta", None, expected_version=asked.version)
    assert ficta.to_state == "licensed"


# -- the one-prevención limit and editing while answering it ---------------------------------------------


def test_only_one_prevention_and_the_applicant_corrects_data_meanwhile(town: Town) -> None:
    case = walk(
        vecs_case(town.owner),
        [
            ("submit", town.owner, None, None),
            ("start_intake", town.clerk, None, None),
            ("issue_prevention", town.clerk, {"prevention_items": ["planos", "datos_dro"]}, "Faltan cotas."),
        ],
    )
    deadline = db.session.scalars(
        select(Timer).where(
            Timer.case_id == case.case_id, Timer.kind == TimerKind.DEADLINE, Timer.rule == "prevention_answer_days"
        )
    ).one()
    edited = fire(
        case.case_id, "edit", town.owner, expected_version=case.version, data={"dro_registration": "DRO-0999"}
    )
    assert edited.to_state == "prevention"
    db.session.rollback()
    # correcting data does not restart the prevención's term
    assert db.session.get(Timer, deadline.id).status == TimerStatus.PENDING  # type: ignore[union-attr]
    # an ineligible correction cannot be used to answer
    bad = fire(case.case_id, "edit", town.owner, expected_version=edited.version, data={"built_area_m2": "1500.01"})
    with pytest.raises(GuardRefused, match="excede"):
        fire(case.case_id, "answer_prevention", town.owner, expected_version=bad.version)
    fixed = fire(case.case_id, "edit", town.owner, expected_version=bad.version, data={"built_area_m2": "1500"})
    answered = fire(case.case_id, "answer_prevention", town.owner, expected_version=fixed.version)
    assert answered.to_state == "intake_review"
    with pytest.raises(GuardRefused, match="única prevención"):
        fire(
            case.case_id,
            "issue_prevention",
            town.clerk,
            expected_version=answered.version,
            data={"prevention_items": ["planos"]},
            comment="Otra vez.",
        )
    assert stored_case(case.case_id).data["dro_registration"] == "DRO-0999"


# -- four-eyes ---------------------------------------------------------------------------------------


def test_four_eyes_on_the_licence_and_the_occupancy(town: Town) -> None:
    case = to_fee_assessment(town)
    ruler = next(e.actor_id for e in case_entries(case.case_id) if e.action == "rule_land_use")
    case = act(case.case_id, "assess_fees", town.finance, expected_version=case.version, idempotency_key=key())
    case = pay(case)
    # the draw for the licence left out whoever ruled land use; they may not take the decision
    approver = assignee(case.case_id)
    assert approver != ruler
    assert ruler in case_entries(case.case_id)[-1].details["assignment"]["excluded"]
    with pytest.raises(NotAllowed, match="asignado a otra persona"):
        fire(case.case_id, "approve_licence", ruler, expected_version=case.version)
    # nor when the approver recuses and nobody else of the department may approve: four eyes stops them
    assert recuse(case.case_id, approver, "Conflicto de interés") is None
    version = case_version(case.case_id)
    for reviewer in (ruler,):
        with pytest.raises(GuardRefused, match="cuatro ojos"):
            fire(case.case_id, "approve_licence", reviewer, expected_version=version)
    triggers = {t.trigger: t for t in available_triggers(case.case_id, ruler)}
    assert not triggers["approve_licence"].enabled
    assert triggers["approve_licence"].reasons[0].params["step"] == "rule_land_use"
    licensed = fire(case.case_id, "approve_licence", town.any_reviewer, expected_version=version)
    assert licensed.to_state == "licensed"

    # whoever passed the inspection may not also authorise the occupancy
    make_user((Role.INSPECTOR, "obras_publicas"), (Role.REVIEWER, "desarrollo_urbano"))  # a candidate of both stages
    update_config("vecs", {"inspection_rate": "1"}, town.admin)
    other = to_licensed(town)
    inspecting = fire(other.case_id, "file_completion", town.owner, expected_version=other.version)
    inspector = assignee(other.case_id)
    inspected = fire(other.case_id, "pass_inspection", inspector, expected_version=inspecting.version)
    authorizer = assignee(other.case_id)
    assert authorizer != inspector
    with pytest.raises((GuardRefused, NotAllowed)):
        fire(other.case_id, "authorize_occupancy", inspector, expected_version=inspected.version)
    assert fire(other.case_id, "authorize_occupancy", authorizer, expected_version=inspected.version).to_state == (
        "occupancy_authorized"
    )


# -- departments ------------------------------------------------------------------------------------


def test_departments_decide_who_acts_and_whose_queue_holds_the_case(town: Town) -> None:
    case = walk(
        vecs_case(town.owner),
        [
            ("submit", town.owner, None, None),
            ("start_intake", town.clerk, None, None),
            ("accept_intake", town.clerk, None, None),
        ],
    )
    assert stored_case(case.case_id).department_code == "desarrollo_urbano"
    with pytest.raises(NotAllowed, match="otra área"):
        fire(
            case.case_id,
            "rule_land_use",
            town.finance,
            expected_version=case.version,
            data={"land_use_ruling": "Compatible"},
        )
    assert available_triggers(case.case_id, town.finance) == []
    assert case.case_id not in {c.id for c in work_queue(town.finance, frozenset({"reviewer"})) or []}
    # the draw assigned it to one of the department's reviewers: only their queue holds it, only they act
    ruler = assignee(case.case_id)
    assert ruler in (town.land_use, town.approver)
    colleague = town.approver if ruler == town.land_use else town.land_use
    assert case.case_id in {c.id for c in work_queue(ruler, frozenset({"reviewer"})) or []}
    assert case.case_id not in {c.id for c in work_queue(colleague, frozenset({"reviewer"})) or []}
    # a reviewer granted without a department acts anywhere, but not on a case assigned to someone else
    assert case.case_id not in {c.id for c in work_queue(town.any_reviewer, frozenset({"reviewer"})) or []}
    with pytest.raises(NotAllowed, match="asignado a otra persona"):
        fire(
            case.case_id,
            "rule_land_use",
            town.any_reviewer,
            expected_version=case.version,
            data={"land_use_ruling": "Compatible"},
        )
    ruled = fire(
        case.case_id, "rule_land_use", ruler, expected_version=case.version, data={"land_use_ruling": "Compatible"}
    )
    assert stored_case(case.case_id).department_code == "finanzas"
    assert assignee(case.case_id) == town.finance
    assert case.case_id in {c.id for c in work_queue(town.finance, frozenset({"reviewer"})) or []}
    assert case.case_id not in {c.id for c in work_queue(ruler, frozenset({"reviewer"})) or []}
    page = case_page(case.case_id, town.owner)
    assert [(a.role, a.department) for a in page.next_actors] == [("reviewer", "finanzas")]
    assert page.department_names["finanzas"] == "Finanzas"
    with pytest.raises(NotAllowed):
        act(case.case_id, "assess_fees", town.land_use, expected_version=ruled.version, idempotency_key=key())


def test_unmapped_stages_restrict_nobody(app: Flask) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user((Role.INTAKE_CLERK, "ventanilla"))
    finance = make_user((Role.REVIEWER, "finanzas"))
    case = walk(
        vecs_case(owner),
        [("submit", owner, None, None), ("start_intake", clerk, None, None), ("accept_intake", clerk, None, None)],
    )
    assert stored_case(case.case_id).department_code is None
    ruled = fire(
        case.case_id, "rule_land_use", finance, expected_version=case.version, data={"land_use_ruling": "Compatible"}
    )
    assert ruled.to_state == "fee_assessment"


def test_who_acts_next() -> None:
    params = dict(VECS_V1.params)
    assert [a.role for a in next_actors(VECS_V1, "draft", params)] == ["applicant"]
    assert [a.role for a in next_actors(VECS_V1, "land_use_review", params)] == ["reviewer"]
    assert [a.role for a in next_actors(VECS_V1, "licensed", params)] == ["applicant"]
    assert [a.role for a in next_actors(VECS_V1, "occupancy_authorized", params)] == ["reviewer"]
    mapped = {**params, "departments": DEPARTMENTS}
    assert [(a.role, a.department) for a in next_actors(VECS_V1, "inspection", mapped)] == [
        ("inspector", "obras_publicas")
    ]
    # awaiting payment: the applicant pays, the treasury (not the applicant) confirms
    assert [(a.role, a.department, a.act) for a in next_actors(VECS_V1, "awaiting_payment", mapped)] == [
        ("applicant", None, "paga la orden de pago"),
        ("treasury", None, "confirma el pago"),  # the order awaits payment in no department of its own
    ]


# -- fees ---------------------------------------------------------------------------------------------


def test_fees_come_from_the_published_table(town: Town) -> None:
    case = to_fee_assessment(town)
    with pytest.raises(GuardRefused, match="tabla de derechos"):
        fire(
            case.case_id,
            "assess_fees",
            town.finance,
            expected_version=case.version,
            data={"fees": [{"concept": "Licencia", "amount": "1.00"}]},
        )
    page = case_page(case.case_id, town.finance)
    assert page.fees_preview
    assert page.fees_total == Decimal("420.5") * Decimal("18.50") + Decimal("851.00")
    assessed = act(case.case_id, "assess_fees", town.finance, expected_version=case.version, idempotency_key=key())
    fees = stored_case(case.case_id).data["fees"]
    assert fees == compute_fees(FEE_TABLE, VECS_DATA["built_area_m2"])
    assert {f["legal_basis"] for f in fees} == {row["legal_basis"] for row in FEE_TABLE}
    assert [f["amount"] for f in fees] == ["7779.25", "851.00"]
    owner_page = case_page(case.case_id, town.owner)
    assert not owner_page.fees_preview
    assert owner_page.fees_total == Decimal("8630.25")
    with pytest.raises(NotAllowed):  # the applicant no longer reports the payment: the treasury confirms it
        fire(case.case_id, "confirm_payment", town.owner, expected_version=assessed.version, data={})


def test_without_a_published_table_there_is_nothing_to_assess(app: Flask) -> None:
    owner, clerk, reviewer = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK), make_user(Role.REVIEWER)
    case = walk(
        vecs_case(owner),
        [
            ("submit", owner, None, None),
            ("start_intake", clerk, None, None),
            ("accept_intake", clerk, None, None),
            ("rule_land_use", reviewer, {"land_use_ruling": "Compatible"}, None),
        ],
    )
    assert case_page(case.case_id, reviewer).fees == []
    with pytest.raises(GuardRefused, match="obligatorio"):
        act(case.case_id, "assess_fees", make_user(Role.REVIEWER), expected_version=case.version, idempotency_key=key())


# -- requirements from the settings ----------------------------------------------------------------


def test_requirements_are_settings_that_apply_to_new_cases(town: Town) -> None:
    old = vecs_case(town.owner)
    requirements = [*current_params("vecs")["requirements"], {"kind": "estudio_suelos", "label": "Estudio de suelos"}]
    update_config("vecs", {"requirements": requirements}, town.admin)
    new = vecs_case(town.owner)
    with pytest.raises(GuardRefused) as refused:
        fire(new.case_id, "submit", town.owner, expected_version=new.version)
    assert [r.params["kind"] for r in refused.value.reasons] == ["estudio_suelos"]
    uploaded = upload_requirement(
        new.case_id, "estudio_suelos", "suelos.pdf", demo_pdf("suelos"), town.owner, expected_version=new.version
    )
    assert not uploaded.repeated
    assert fire(new.case_id, "submit", town.owner, expected_version=new.version + 1).to_state == "submitted"
    # the case opened before the change keeps the list it was opened under
    assert fire(old.case_id, "submit", town.owner, expected_version=old.version).to_state == "submitted"
    with pytest.raises(InvalidData):
        upload_requirement(
            old.case_id, "estudio_suelos", "x.pdf", demo_pdf("x"), town.owner, expected_version=old.version + 1
        )


def test_structured_settings_are_checked_before_they_are_saved(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    for changes in (
        {"fee_table": [{"concept": "x", "unit": "litro", "rate": "1", "legal_basis": "y"}]},
        {"requirements": []},
        {"inspection_rate": "1.5"},
        {"departments": {"intake": "ventanilla"}},
    ):
        with pytest.raises(InvalidData):
            update_config("vecs", changes, admin)
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).all() == []
    update_config("vecs", {"fee_table": FEE_TABLE, "inspection_rate": "0.25"}, admin)
    params = current_params("vecs")
    assert params["fee_table"][0]["rate"] == "18.50"
    assert params["inspection_rate"] == "0.25"


# -- idempotency and stale forms through the case-page service ---------------------------------------------


def test_double_submit_and_stale_form(town: Town) -> None:
    case = walk(vecs_case(town.owner), [("submit", town.owner, None, None)])
    form_key = key()
    first = act(case.case_id, "start_intake", town.clerk, expected_version=case.version, idempotency_key=form_key)
    again = act(case.case_id, "start_intake", town.clerk, expected_version=case.version, idempotency_key=form_key)
    assert again.replayed
    assert (again.to_state, again.version, again.audit_seq) == (first.to_state, first.version, first.audit_seq)
    with pytest.raises(ConflictError):
        act(case.case_id, "accept_intake", town.clerk, expected_version=case.version, idempotency_key=key())
    with pytest.raises(IllegalTrigger):
        act(case.case_id, "start_intake", town.clerk, expected_version=first.version, idempotency_key=key())


def test_the_same_upload_twice_is_stored_once(town: Town) -> None:
    case = vecs_case(town.owner, documents=False)
    content = demo_pdf("planos")
    first = upload_requirement(case.case_id, "planos", "planos.pdf", content, town.owner, expected_version=case.version)
    again = upload_requirement(case.case_id, "planos", "planos.pdf", content, town.owner, expected_version=case.version)
    assert again.repeated
    assert again.document_id == first.document_id
    rows = db.session.scalars(select(Document).where(Document.case_id == case.case_id)).all()
    assert len(rows) == 1
    with pytest.raises(ConflictError):
        upload_requirement(
            case.case_id, "planos", "otro.pdf", demo_pdf("otro"), town.owner, expected_version=case.version
        )
    replaced = upload_requirement(
        case.case_id, "planos", "otro.pdf", demo_pdf("otro"), town.owner, expected_version=case.version + 1
    )
    page = case_page(case.case_id, town.owner)
    row = next(r for r in page.requirements if r.kind == "planos")
    assert row.current is not None
    assert row.current.id == replaced.document_id
    assert [d.id for d in row.history] == [first.document_id]


# -- eligibility and registration -----------------------------------------------------------------------

ANSWERS = {
    "built_area_m2": "1500",
    "new_construction": True,
    "works_started": False,
    "lot_vacant": True,
    "land_use": "papeleria",
    "building_type": "local_comercial",
}


def test_eligibility_boundaries_and_every_reason(app: Flask) -> None:
    assert check_eligibility("vecs", ANSWERS).eligible
    over = check_eligibility("vecs", {**ANSWERS, "built_area_m2": "1500.01"})
    assert not over.eligible
    assert "licencia de construcción ordinaria" in over.reasons[0].msgid
    everything = check_eligibility(
        "vecs",
        {
            **ANSWERS,
            "built_area_m2": "2000",
            "works_started": True,
            "building_type": "escuela",
            "land_use": "otro",
            "lot_vacant": False,
            "new_construction": False,
        },
    )
    assert len(everything.reasons) == 6


def test_eligibility_follows_the_settings(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    update_config("vecs", {"low_risk_uses": ["bar_familiar"], "max_built_area_m2": "1000"}, admin)
    assert not check_eligibility("vecs", ANSWERS).eligible
    assert check_eligibility("vecs", {**ANSWERS, "land_use": "bar_familiar", "built_area_m2": "1000"}).eligible


def test_starting_a_request_is_checked_and_happens_once(app: Flask) -> None:
    owner = make_user(Role.APPLICANT)
    with pytest.raises(GuardRefused):
        start_request("vecs", owner, {**ANSWERS, "works_started": True}, key())
    form_key = key()
    first = start_request("vecs", owner, ANSWERS, form_key)
    again = start_request("vecs", owner, ANSWERS, form_key)
    assert again.replayed
    assert again.case_id == first.case_id
    assert db.session.scalars(select(Case).where(Case.applicant_id == owner)).all().__len__() == 1
    assert stored_case(first.case_id).data == {**ANSWERS, "built_area_m2": "1500.00"}  # stored in its canonical form


def test_registration_rules(app: Flask) -> None:
    user_id = register_applicant("  Ana   Solicitante ", "ana@example.test", "una-contraseña-larga")
    user = db.session.get(users_service.User, user_id)
    assert user is not None
    assert user.display_name == "Ana Solicitante"
    assert user.role_names == {"applicant"}
    assert register_applicant("Otra", "ANA@example.test", "una-frase-bastante-larga") is None  # told by mail instead
    with pytest.raises(InvalidData, match="igual a su correo"):
        register_applicant("Beto", "beto.largo@example.test", "Beto.Largo@example.test")
    with pytest.raises(InvalidData, match="al menos 12"):
        register_applicant("Carla", "carla@example.test", "corta")
    with pytest.raises(InvalidData, match="nombre"):
        register_applicant("   ", "dora@example.test", "una-contraseña-larga")


# -- the inspection draw's committed seed --------------------------------------------------------------
# The municipality whose works are drawn can neither read nor choose the seed before the draw; only its
# SHA-256 is logged and shown until its quarter is over; then it is revealed and every draw of the quarter
# verifies from it. The clock is frozen (Mexico City noon): drawn in the first quarter of 2026, revealed in
# the second.

DRAWN_ON = date(2026, 3, 20)
SCOPE = "vecs:inspection_seed"


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(datetime.combine(day, time(12, 0), tzinfo=LOCAL_TZ).astimezone(UTC), tick=False):
        yield


def _completed(town: Town) -> tuple[str, dict[str, object]]:
    """A licensed work whose completion notice is filed on ``DRAWN_ON``: the folio and the draw's record."""
    with _on(DRAWN_ON):
        update_config("vecs", {"inspection_rate": "0.5"}, town.admin)
        case = to_licensed(town)
        fire(case.case_id, "file_completion", town.owner, expected_version=case.version)
    record = stored_case(case.case_id).data["inspection_draw"]
    assert record["seed_period"] == "2026-T1"
    return case.folio, record


def _page(client: FlaskClient) -> str:
    response = client.get("/sorteos")
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_the_seed_cannot_be_read_or_set_before_the_draw(town: Town, client: FlaskClient) -> None:
    folio, record = _completed(town)
    seed = committed_seed(SCOPE, "2026-T1")  # as the draw read it (encrypted at rest)
    row = db.session.scalars(select(DrawSeed).where(DrawSeed.scope == SCOPE, DrawSeed.period == "2026-T1")).one()
    assert seed not in row.seed_encrypted
    assert record["seed_digest"] == row.digest
    # not a setting: the administration neither sees nor sets it
    assert "inspection_seed" not in current_params("vecs")
    with pytest.raises(InvalidData):
        update_config("vecs", {"inspection_seed": "la-del-municipio"}, town.admin)
    login_as(client, town.admin)
    settings = client.get("/admin/tramites/vecs").get_data(as_text=True)
    assert "inspection_seed" not in settings
    assert "Semilla del sorteo" not in settings
    # nowhere in the log, the case or the public page: only its digest
    for entry in db.session.scalars(select(AuditEntry)):
        assert seed not in str(entry.details), entry.action
    assert seed not in str(stored_data(folio))
    with _on(date(2026, 3, 31)):  # the quarter's last day: still in use, not revealed
        assert reveal_ended() == 0
        page = _page(client)
    assert row.digest in page
    assert seed not in page


def stored_data(folio: str) -> object:
    db.session.rollback()
    return db.session.scalars(select(Case.data).where(Case.folio == folio)).one()


def test_after_its_quarter_the_seed_is_revealed_and_the_draw_verifies_from_it(town: Town, client: FlaskClient) -> None:
    folio, record = _completed(town)
    with _on(date(2026, 4, 1)):
        assert reveal_ended() >= 1
        assert reveal_ended() == 0  # once
        page = _page(client)
    revealed = next(s for s in public_seeds(2026) if s.scope == SCOPE and s.period == "2026-T1")
    assert revealed.seed is not None
    assert revealed.seed in page
    assert seed_matches(revealed.seed, revealed.digest)
    assert revealed.digest == record["seed_digest"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.seq == revealed.reveal_seq)).one()
    assert (entry.action, entry.details["seed"], entry.details["digest"]) == (
        "draw_seed_revealed",
        revealed.seed,
        revealed.digest,
    )
    commitment = db.session.scalars(select(AuditEntry).where(AuditEntry.seq == revealed.commit_seq)).one()
    assert commitment.details["digest"] == revealed.digest
    assert commitment.seq < int(str(record["seq"]))  # committed before the case entered the draw
    # anyone recomputes the draw from the revealed seed and the logged record
    redone = draw(revealed.seed, folio, int(str(record["seq"])), record["rate"])
    assert (redone.digest, redone.selected) == (record["digest"], record["selected"])
    assert verify(db.session()).ok


def test_a_licensed_work_rests_outside_the_queues_and_stays_revocable(town: Town) -> None:
    """A licensed work waits on its owner (the completion notice, an extension), not on the office: the only step
    staff may take there is the revocation, an exceptional one. It leaves the reviewers' queues and the
    administration's assignment overview, which would otherwise fill, oldest first, with every licence granted
    in years (issue 16), and the revocation stays offered on the case."""
    from app.services.assignment import assignment_rows

    licensed = to_licensed(town)
    assert licensed.to_state == "licensed"
    holder = assignee(licensed.case_id)
    waiting = walk(vecs_case(town.owner), [("submit", town.owner, None, None)])
    for reviewer in (holder, town.approver, town.any_reviewer):
        queue = work_queue(reviewer, frozenset({Role.REVIEWER.value})) or []
        assert licensed.case_id not in [case.id for case in queue]
    clerk_queue = work_queue(town.clerk, frozenset({Role.INTAKE_CLERK.value})) or []
    assert waiting.case_id in [case.id for case in clerk_queue]  # work that waits is still listed
    overview = [row.case.id for row in assignment_rows()]
    assert licensed.case_id not in overview
    offered = [t.trigger for t in available_triggers(licensed.case_id, holder)]
    assert "revoke" in offered
    revoked = fire(
        licensed.case_id, "revoke", holder, expected_version=licensed.version, comment="Datos falsos en la solicitud."
    )
    assert revoked.to_state == "revoked"


def test_a_licensed_work_weighs_on_no_reviewers_load(town: Town) -> None:
    """The reviewers' draws choose among the least loaded. A licensed work rests open for years waiting on its
    owner: counted as its reviewer's load, every licence granted would keep that reviewer out of the draws and a
    newcomer would draw every case. It weighs on nobody while it rests, and again once its owner files the
    completion notice and an inspector or reviewer has a step to take."""
    from app.services.assignment import loads

    licensed = to_licensed(town)
    holder = assignee(licensed.case_id)
    assert stored_case(licensed.case_id).resting
    assert loads(db.session(), [holder])[holder] == 0
    extension = fire(licensed.case_id, "request_extension", town.owner, expected_version=licensed.version)
    assert not stored_case(extension.case_id).resting  # a reviewer must answer the extension
    who = assignee(extension.case_id)
    assert loads(db.session(), [who])[who] == 1


def test_a_licensed_work_names_its_office_without_being_its_work(town: Town) -> None:
    """The departments page counts the cases waiting for each department's staff (a count over the cases at
    work, not over every licence ever granted), and still says that a department a resting case names is in use
    (it cannot be deleted)."""
    from app.services.departments import list_departments

    licensed = to_licensed(town)
    office = stored_case(licensed.case_id).department_code
    assert office is not None
    shown = {d.code: d for d in list_departments()}[office]
    assert shown.cases == 0
    assert shown.in_use
    extension = fire(licensed.case_id, "request_extension", town.owner, expected_version=licensed.version)
    waiting = {d.code: d for d in list_departments()}[stored_case(extension.case_id).department_code or ""]
    assert waiting.cases == 1
