"""Random, balanced, recorded assignment of cases; the assignee acts; reassignment, recusal and escalation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from unittest.mock import ANY

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from app.audit import verify
from app.calendar import local_today
from app.engine import GuardRefused, InvalidData, NotAllowed, get_engine
from app.extensions import db
from app.models import (
    AssignmentExclusion,
    AuditEntry,
    AuditKind,
    CaseEscalation,
    ExclusionKind,
    OutboxMessage,
    Role,
    Timer,
    TimerKind,
    User,
    utcnow,
)
from app.services.assignment import Candidate, _candidates, draw_assignee, loads, reassign, recuse
from app.services.cases import FireResult, fire, open_case, work_queue
from app.services.config import update_config
from app.services.delivery import deliver_pending
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.notices import notices_for
from app.services.seeds import ASSIGNMENT_SCOPE, commit_assignment_ahead, period_end, period_of, reveal_ended
from app.services.timers import fire_due_timers
from tests.support.demo_data import TIPO_B_SETTINGS, VECS_DATA
from tests.support.factories import case_version, make_user, stored_case
from tests.support.generic_plans import as_a_busy_connection, counting_reads, many_citizens
from tests.support.smtp import Mailbox
from tests.web.helpers import set_language
from workflows.base import requirement_kinds, seed_digest
from workflows.cdmx_tipo_b import TIPO_B_V1

OFFICE = TIPO_B_SETTINGS["departments"]["review"]


def manifestation(owner: int) -> FireResult:
    opened = open_case("cdmx_tipo_b", owner, VECS_DATA)
    version = opened.version
    for kind in requirement_kinds(TIPO_B_V1.params["requirements"]):
        version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), owner).case_version
    return fire(opened.case_id, "submit", owner, expected_version=version)


def assignments(case_id: int) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.kind == AuditKind.ADMIN)
            .order_by(AuditEntry.seq)
        )
    )


def office(app: Flask, reviewers: int = 3) -> tuple[int, list[int]]:
    admin = make_user(Role.ADMIN)
    staff = [make_user((Role.REVIEWER, OFFICE), name=f"Revisora {n}") for n in range(reviewers)]
    make_user((Role.REVIEWER, "finanzas"))  # another department's reviewer is never drawn here
    update_config("cdmx_tipo_b", TIPO_B_SETTINGS, admin)
    return admin, staff


def test_draws_are_balanced_recorded_and_reproducible(app: Flask) -> None:
    _, staff = office(app)
    commit_assignment_ahead()  # as each pass of the timers' worker does: this quarter's seed and the next's
    owner = make_user(Role.APPLICANT, name="Solicitante Sin Nombre En Bitácora")
    cases = [manifestation(owner) for _ in range(6)]
    loads = Counter(stored_case(c.case_id).assignee_id for c in cases)
    assert set(loads) == set(staff)
    assert set(loads.values()) == {2}  # least loaded first: 6 cases over 3 reviewers, two each
    records = []
    for case in cases:
        (entry,) = assignments(case.case_id)
        assert entry.action == "assign"
        assert entry.actor_id is None
        record = entry.details["assignment"]
        assert record["method"] == "HMAC-SHA256(seed, folio|seq)"
        assert record["seq"] == case.audit_seq  # the entry that brought the case into the stage
        assert record["department"] == OFFICE
        assert {c["id"] for c in record["candidates"]} == set(staff)
        assert record["chosen"] == stored_case(case.case_id).assignee_id
        names = [u.display_name for u in db.session.scalars(select(User))]
        assert not any(name in str(entry.details) for name in names)  # ids only, no names
        records.append((case.folio, record))

    # every draw names the quarter's committed seed, logged (digest only) before the first of them
    (period,) = {record["seed_period"] for _, record in records}
    assert period == period_of(local_today())
    (digest,) = {record["seed_digest"] for _, record in records}
    (commit_seq,) = {record["seed_commit_seq"] for _, record in records}
    committed = db.session.scalars(select(AuditEntry).where(AuditEntry.seq == commit_seq)).one()
    assert committed.action == "draw_seed_committed"
    assert committed.details["scope"] == ASSIGNMENT_SCOPE == records[0][1]["seed_scope"]
    assert committed.details["digest"] == digest
    assert commit_seq < min(record["seq"] for _, record in records)
    next_quarter = period_of(period_end(period) + timedelta(days=1))
    assert db.session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "draw_seed_committed", AuditEntry.seq > commit_seq)
    ).one() == {**committed.details, "period": next_quarter, "digest": ANY}
    assert "seed" not in committed.details
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "draw_seed_revealed")).all()

    # once the quarter is over the seed is revealed in the log, and anyone recomputes every draw from the log alone
    db.session.rollback()
    assert reveal_ended(period_end(period) + timedelta(days=1)) >= 1
    db.session.rollback()
    revealed = [
        e.details
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "draw_seed_revealed"))
        if e.details["scope"] == ASSIGNMENT_SCOPE
    ]
    (seed,) = [details["seed"] for details in revealed if details["period"] == period]
    assert seed_digest(seed) == digest
    for folio, record in records:
        recomputed = draw_assignee(
            folio, record["seq"], [Candidate(c["id"], c["load"]) for c in record["candidates"]], seed
        )
        assert recomputed.chosen == record["chosen"]
        assert recomputed.record["digest"] == record["digest"]
    assert verify(db.session()).ok


def test_draw_is_pure_and_prefers_the_least_loaded() -> None:
    candidates = [Candidate(7, 3), Candidate(4, 1), Candidate(9, 1), Candidate(2, 5)]
    first = draw_assignee("RMCB-2026-000001", 12, candidates, "semilla")
    assert first == draw_assignee("RMCB-2026-000001", 12, list(reversed(candidates)), "semilla")
    assert first.record["least_loaded"] == [4, 9]
    assert first.chosen in (4, 9)
    chosen = {draw_assignee("RMCB-2026-000001", seq, candidates, "semilla").chosen for seq in range(40)}
    assert chosen == {4, 9}  # both least-loaded candidates come up, nobody else ever does
    assert draw_assignee("F", 1, [], "s").chosen is None


def test_only_the_assignee_acts_and_the_applicant_is_never_drawn(app: Flask) -> None:
    _, staff = office(app, reviewers=2)
    owner = make_user(Role.APPLICANT, (Role.REVIEWER, OFFICE))  # a reviewer filing their own manifestation
    case = manifestation(owner)
    assignee = stored_case(case.case_id).assignee_id
    assert assignee in staff
    other = next(s for s in staff if s != assignee)
    with pytest.raises(NotAllowed) as refused:
        fire(case.case_id, "confirm_registration", other, expected_version=case.version)
    assert "asignado a otra persona" in refused.value.message.msgid
    with pytest.raises(NotAllowed):
        fire(case.case_id, "confirm_registration", owner, expected_version=case.version)
    assert [c.id for c in work_queue(other, frozenset({"reviewer"})) or []] == []
    assert [c.id for c in work_queue(assignee, frozenset({"reviewer"})) or []] == [case.case_id]
    confirmed = fire(case.case_id, "confirm_registration", assignee, expected_version=case.version)
    assert confirmed.to_state == "in_force"


def test_four_eyes_blocks_the_reviewer_from_the_draw_of_the_approval(app: Flask) -> None:
    office(app, reviewers=2)
    owner = make_user(Role.APPLICANT)
    case = manifestation(owner)
    reviewer = stored_case(case.case_id).assignee_id
    case = fire(case.case_id, "confirm_registration", reviewer, expected_version=case.version)
    case = fire(case.case_id, "file_completion", owner, expected_version=case.version)
    approver = stored_case(case.case_id).assignee_id
    assert approver is not None
    assert approver != reviewer
    record = assignments(case.case_id)[-1].details["assignment"]
    assert reviewer in record["excluded"]
    with pytest.raises(NotAllowed):
        fire(case.case_id, "authorize_occupancy", reviewer, expected_version=case.version)
    assert fire(case.case_id, "authorize_occupancy", approver, expected_version=case.version).to_state == (
        "occupancy_authorized"
    )


def test_four_eyes_leaves_the_case_unassigned_when_nobody_else_may_approve(app: Flask) -> None:
    _, (only,) = office(app, reviewers=1)
    owner = make_user(Role.APPLICANT)
    case = manifestation(owner)
    case = fire(case.case_id, "confirm_registration", only, expected_version=case.version)
    case = fire(case.case_id, "file_completion", owner, expected_version=case.version)
    assert stored_case(case.case_id).assignee_id is None
    with pytest.raises(GuardRefused):  # unassigned: the department may act, but four-eyes still stops them
        fire(case.case_id, "authorize_occupancy", only, expected_version=case.version)


def test_reassignment_needs_an_administrator_and_a_reason_and_draws_again(app: Flask) -> None:
    admin, staff = office(app)
    owner = make_user(Role.APPLICANT)
    case = manifestation(owner)
    first = stored_case(case.case_id).assignee_id
    assert first is not None
    with pytest.raises(InvalidData):
        reassign(case.case_id, admin, "   ")
    with pytest.raises(NotAllowed):
        reassign(case.case_id, first, "Carga de trabajo")
    with pytest.raises(NotAllowed):
        reassign(case.case_id, staff[0] if staff[0] != first else staff[1], "Carga de trabajo")
    second = reassign(case.case_id, admin, "Incapacidad médica de la revisora")
    assert second is not None
    assert second != first
    assert stored_case(case.case_id).assignee_id == second
    entry = assignments(case.case_id)[-1]
    assert (entry.action, entry.actor_id, entry.actor_role) == ("reassign", admin, "admin")
    assert entry.comment == "Incapacidad médica de la revisora"  # erasable text, digested in the chain
    assert entry.details["assignment"]["previous"] == first
    assert first not in {c["id"] for c in entry.details["assignment"]["candidates"]}
    exclusion = db.session.scalars(select(AssignmentExclusion)).one()
    assert (exclusion.user_id, exclusion.kind, exclusion.by_id) == (first, ExclusionKind.REASSIGNMENT, admin)
    third = reassign(case.case_id, admin, "Otra vez")
    assert third not in (first, second)  # whoever was taken off stays out of the case's draws
    assert reassign(case.case_id, admin, "Sin nadie más") is None
    assert stored_case(case.case_id).assignee_id is None
    assert verify(db.session()).ok


def test_recusal_is_logged_and_the_next_draw_leaves_them_out(app: Flask) -> None:
    _, staff = office(app, reviewers=2)
    owner = make_user(Role.APPLICANT)
    case = manifestation(owner)
    first = stored_case(case.case_id).assignee_id
    other = next(s for s in staff if s != first)
    with pytest.raises(NotAllowed):
        recuse(case.case_id, other, "No soy yo")
    with pytest.raises(InvalidData):
        recuse(case.case_id, first, "")
    assert recuse(case.case_id, first, "Parentesco con el propietario") == other
    entry = assignments(case.case_id)[-1]
    assert (entry.action, entry.actor_id) == ("recuse", first)
    with pytest.raises(NotAllowed):  # recused: they cannot act on the case any more
        fire(case.case_id, "confirm_registration", first, expected_version=case_version(case.case_id))
    kinds = db.session.scalars(select(AssignmentExclusion.kind)).all()
    assert kinds == [ExclusionKind.RECUSAL]


def test_a_lapsed_target_on_an_unassigned_case_is_escalated(app: Flask, mailbox: Mailbox) -> None:
    admin, (only,) = office(app, reviewers=1)
    colleague = make_user((Role.REVIEWER, OFFICE), name="Colega del Área")
    outsider = make_user((Role.REVIEWER, "finanzas"), name="Otra Área")
    owner = make_user(Role.APPLICANT)
    case = manifestation(owner)
    assignee = stored_case(case.case_id).assignee_id
    assert assignee in (only, colleague)
    db.session.get(User, assignee).active = False  # the assignee left the institution
    db.session.commit()
    target = db.session.scalars(
        select(Timer).where(Timer.case_id == case.case_id, Timer.kind == TimerKind.TARGET)
    ).one()
    report = fire_due_timers(now=target.due_at + timedelta(minutes=1))
    assert report.fired == 1
    db.session.rollback()
    escalation = db.session.scalars(select(CaseEscalation)).one()
    assert escalation.case_id == case.case_id
    assert escalation.kind.value == "target_missed"
    told = set(db.session.scalars(select(OutboxMessage.recipient_id).where(OutboxMessage.topic == "case_escalated")))
    active_staff = {only, colleague} - {assignee}
    assert told == active_staff | {admin}
    assert outsider not in told
    (notice,) = [n for n in notices_for(admin) if case.folio in n.subject]
    assert "sin persona asignada" in notice.subject
    deliver_pending(now=utcnow() + timedelta(minutes=1))
    subjects = [m["Subject"] for m in mailbox.messages]
    assert any(case.folio in s and "sin persona asignada" in s for s in subjects)
    assert fire_due_timers(now=target.due_at + timedelta(days=1)).fired == 0  # once
    assert len(db.session.scalars(select(CaseEscalation)).all()) == 1


def test_an_assigned_case_is_not_escalated(app: Flask) -> None:
    office(app, reviewers=1)
    owner = make_user(Role.APPLICANT)
    case = manifestation(owner)
    target = db.session.scalars(
        select(Timer).where(Timer.case_id == case.case_id, Timer.kind == TimerKind.TARGET)
    ).one()
    fire_due_timers(now=target.due_at + timedelta(minutes=1))
    db.session.rollback()
    assert db.session.scalars(select(CaseEscalation)).all() == []
    topics = set(db.session.scalars(select(OutboxMessage.topic)))
    assert "target_missed" in topics
    assert "case_escalated" not in topics


def test_loads_count_the_open_cases_assigned_as_a_draw_counts_them(app: Flask) -> None:
    _, staff = office(app)
    owner = make_user(Role.APPLICANT)
    cases = [manifestation(owner) for _ in range(5)]
    db.session.rollback()
    expected = Counter(stored_case(c.case_id).assignee_id for c in cases)
    counted = loads(db.session(), [*staff, owner])
    assert counted == {uid: expected.get(uid, 0) for uid in [*staff, owner]}
    assert sum(counted.values()) == 5
    # the last draw's record holds the loads it saw, as this count gives them
    (entry,) = assignments(cases[-1].case_id)
    before = {c["id"]: c["load"] for c in entry.details["assignment"]["candidates"]}
    chosen = entry.details["assignment"]["chosen"]
    assert {uid: counted[uid] - (uid == chosen) for uid in before} == before
    assert loads(db.session(), []) == {}


def test_a_draws_candidates_are_read_through_their_roles_grants_under_generic_plans(app: Flask, backend: str) -> None:
    """On PostgreSQL under a plan kept for any roles (a busy connection's prepared statement): the candidates of a
    draw among 30,000 citizens, each holding the applicant's role, are read through the reviewers' grants."""
    if backend != "postgresql":
        pytest.skip("SQLite has no generic plans")
    _, staff = office(app)
    case = stored_case(manifestation(make_user(Role.APPLICANT)).case_id)
    many_citizens(30_000)
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    state = workflow.state(case.state)
    as_a_busy_connection()
    with counting_reads("user_roles", "users") as read:
        for _ in range(3):
            candidates, _excluded = _candidates(db.session(), case, workflow, state, OFFICE)
    db.session.rollback()
    assert {c.user_id for c in candidates} <= set(staff)
    assert read.rows < 200, f"{read.rows} rows read"


def test_without_the_worker_the_first_draw_of_a_quarter_commits_its_seed_and_it_is_read_once_afterwards(
    app: Flask,
) -> None:
    _, staff = office(app)
    owner = make_user(Role.APPLICANT)
    first = manifestation(owner)
    (record,) = [e.details["assignment"] for e in assignments(first.case_id)]
    committed = db.session.scalars(select(AuditEntry).where(AuditEntry.seq == record["seed_commit_seq"])).one()
    assert committed.action == "draw_seed_committed"
    assert record["seq"] < committed.seq < assignments(first.case_id)[0].seq  # within the draw's transaction
    sent: list[str] = []

    def note(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        sent.append(f"{statement} {parameters}")

    def seed_reads() -> int:
        return sum(1 for statement in sent if "draw_seeds" in statement and ASSIGNMENT_SCOPE in statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        second = manifestation(owner)  # the commitment is read once, now that its transaction committed
        assert seed_reads() == 1
        third = manifestation(owner)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert any("INSERT INTO audit_entries" in statement for statement in sent)
    assert seed_reads() == 1  # then kept: a committed seed never changes
    assert stored_case(third.case_id).assignee_id in staff
    (later,) = [e.details["assignment"] for e in assignments(second.case_id)]
    assert {k: v for k, v in later.items() if k.startswith("seed_")} == {
        k: v for k, v in record.items() if k.startswith("seed_")
    }
    assert stored_case(second.case_id).assignee_id in staff


def test_the_assignment_seeds_are_public_on_the_draws_page(app: Flask, client: FlaskClient) -> None:
    office(app)
    commit_assignment_ahead()
    case = manifestation(make_user(Role.APPLICANT))
    (record,) = [e.details["assignment"] for e in assignments(case.case_id)]
    year = record["seed_period"][:4]
    page = client.get(f"/sorteos?ejercicio={year}").get_data(as_text=True)
    assert "Asignación de expedientes · Sorteo del servidor público que atiende cada expediente" in page
    assert record["seed_digest"] in page
    assert "Se revelará al terminar el trimestre" in page
    db.session.rollback()
    reveal_ended(period_end(record["seed_period"]) + timedelta(days=1))
    (seed,) = [
        e.details["seed"]
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "draw_seed_revealed"))
        if e.details["digest"] == record["seed_digest"]
    ]
    assert seed in client.get(f"/sorteos?ejercicio={year}").get_data(as_text=True)
    set_language(client, "en", f"/sorteos?ejercicio={year}")
    assert "Case assignment" in client.get(f"/sorteos?ejercicio={year}").get_data(as_text=True)
