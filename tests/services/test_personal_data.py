"""Data-protection (ARCO) requests: due dates on the business-day calendar, the four resolutions, and an
audit log that still verifies — live and with the standalone verifier over an export — after a
rectification and a cancellation; on both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.calendar import local_today
from app.engine import ConflictError, InvalidData, NotAllowed, NotFound
from app.extensions import db
from app.models import AuditEntry, Case, NonWorkingDay, OutboxMessage, OutboxStatus, Role, User
from app.models.personal_data import DataRequestKind, DataRequestStatus, PersonalDataRequest
from app.notifications import enqueue
from app.services.audit_log import sign_checkpoint
from app.services.deadlines import calendar, declare_non_working_days, remove_non_working_day
from app.services.delivery import deliver_pending
from app.services.personal_data import (
    export_for,
    register_request,
    resolve_access,
    resolve_cancellation,
    resolve_opposition,
    resolve_rectification,
)
from app.services.uow import unit_of_work
from app.services.users import authenticate
from tests.audit.helpers import bundle_file, install_log_key, run_verifier, write_public_key
from tests.support.concurrency import assert_log_verifies, logged, race, slow_flushes
from tests.support.factories import PASSWORD, advance, email_of, make_user, vecs_case

NAME = "Zacarías Quintanilla Yáñez"
EMAIL = "zacarias.quintanilla@correo-distintivo.example"
COMMENT = "Soy Zacarías Quintanilla, teléfono 55-1234-9876; adjunto lo pedido."


def received(days_ago: int = 3) -> date:
    return local_today() - timedelta(days=days_ago)


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def walked_case(owner: int, clerk: int) -> int:
    """A case the person filed and commented on, with a prevención whose comment names them."""
    case = vecs_case(owner)
    advance(
        case,
        [
            ("submit", owner, None, COMMENT),
            ("start_intake", clerk, None, None),
            ("issue_prevention", clerk, {"prevention_items": ["planos"]}, f"Sr. {NAME}: faltan cotas."),
            ("answer_prevention", owner, {"dro_registration": "DRO-0999"}, COMMENT),
        ],
    )
    return case.case_id


def test_the_due_date_counts_business_days_on_the_one_calendar(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)
    start = received(10)
    first = register_request(admin, email_of(person), DataRequestKind.ACCESS, start)
    db.session.rollback()
    row = db.session.get(PersonalDataRequest, first)
    assert row is not None
    assert row.status == DataRequestStatus.PENDING
    assert row.due_on == calendar(db.session()).add_business_days(start, 20)
    assert calendar(db.session()).business_days_between(start, row.due_on) >= 20
    holiday = calendar(db.session()).add_business_days(start, 5)
    without_holiday = calendar(db.session()).add_business_days(start, 15)
    registered_due = row.due_on
    declare_non_working_days(holiday, None, "Suspensión de labores", "Gaceta Municipal 12/2026", admin)
    db.session.rollback()
    assert row.due_on == calendar(db.session()).add_business_days(start, 20) > registered_due  # moved with it
    app.config["PERSONAL_DATA_RESPONSE_DAYS"] = 15
    second = register_request(admin, email_of(person).upper(), DataRequestKind.OPPOSITION, start)
    db.session.rollback()
    later = db.session.get(PersonalDataRequest, second)
    assert later is not None
    assert later.due_on == calendar(db.session()).add_business_days(start, 15)
    assert later.due_on > without_holiday  # the declared day does not count
    logged = entries("personal_data_request_registered")
    assert [e.details["request_id"] for e in logged] == [first, second]
    assert logged[0].details == {
        "request_id": first,
        "user_id": person,
        "kind": "access",
        "received_on": start.isoformat(),
        "due_on": registered_due.isoformat(),
    }


def test_registration_refusals(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)
    with pytest.raises(NotAllowed):
        register_request(person, email_of(person), DataRequestKind.ACCESS, received())
    with pytest.raises(NotFound):
        register_request(admin, "nadie@example.test", DataRequestKind.ACCESS, received())
    with pytest.raises(InvalidData):
        register_request(admin, email_of(person), DataRequestKind.ACCESS, local_today() + timedelta(days=1))
    db.session.rollback()
    assert db.session.scalars(select(PersonalDataRequest)).all() == []


def test_one_registration_form_sent_again_registers_one_request(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    other_admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)
    first = register_request(admin, email_of(person), DataRequestKind.ACCESS, received(), form_key="forma-1")

    assert register_request(admin, email_of(person), DataRequestKind.ACCESS, received(), form_key="forma-1") == first
    for changed in (
        (admin, email_of(person), DataRequestKind.OPPOSITION, received()),
        (admin, email_of(person), DataRequestKind.ACCESS, received() - timedelta(days=1)),
        (admin, email_of(admin), DataRequestKind.ACCESS, received()),
        (other_admin, email_of(person), DataRequestKind.ACCESS, received()),
    ):
        with pytest.raises(ConflictError) as refused:
            register_request(*changed, form_key="forma-1")
        assert refused.value.message.params == {"number": str(first)}
    db.session.rollback()
    assert [r.id for r in db.session.scalars(select(PersonalDataRequest))] == [first]
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data_request_registered")).all()
    assert len(logged) == 1

    second = register_request(admin, email_of(person), DataRequestKind.ACCESS, received(), form_key="forma-2")
    third = register_request(admin, email_of(person), DataRequestKind.ACCESS, received())  # no key: as before
    assert len({first, second, third}) == 3


def test_one_registration_form_sent_twice_at_once_registers_one_request(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)

    def send() -> int:
        return register_request(admin, email_of(person), DataRequestKind.ACCESS, received(), form_key="k" * 40)

    with slow_flushes():
        results = race(app, [send, send])

    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert len(logged("personal_data_request_registered")) == 1
    assert_log_verifies()


def test_access_hands_over_the_persons_data(app: Flask) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT, name=NAME)
    clerk = make_user(Role.INTAKE_CLERK)
    case_id = walked_case(person, clerk)
    request_id = register_request(admin, email_of(person), DataRequestKind.ACCESS, received())
    with pytest.raises(InvalidData):
        export_for(request_id)  # only once answered
    resolve_access(request_id, admin)
    with pytest.raises(InvalidData):
        resolve_access(request_id, admin)  # answered once
    data = export_for(request_id)
    json.dumps(data)  # JSON-ready
    assert data["account"]["display_name"] == NAME
    assert data["account"]["email"] == email_of(person)
    folio = db.session.get(Case, case_id).folio  # type: ignore[union-attr]
    assert [c["folio"] for c in data["cases"]] == [folio]
    assert {d["kind"] for d in data["documents"]} >= {"planos"}
    assert [a["comment"] for a in data["actions"] if a["action"] in {"submit", "answer_prevention"}] == [COMMENT] * 2
    assert [r["kind"] for r in data["data_protection_requests"]] == ["access"]


def test_rectification_and_cancellation_keep_the_log_verifiable(app: Flask, tmp_path: Path) -> None:
    key = install_log_key(app, tmp_path / "keys")
    public_key = write_public_key(key, tmp_path / "log-public.pem")
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT, name=NAME)
    clerk = make_user(Role.INTAKE_CLERK)
    case_id = walked_case(person, clerk)
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(sign_checkpoint(app.config)), encoding="utf-8")  # what an auditor kept before

    rectify = register_request(admin, email_of(person), DataRequestKind.RECTIFICATION, received())
    with pytest.raises(InvalidData):
        resolve_rectification(rectify, admin, NAME, email_of(person))  # nothing changes
    with pytest.raises(InvalidData):
        resolve_rectification(rectify, admin, None, "no-es-un-correo")
    with pytest.raises(InvalidData):
        resolve_rectification(rectify, admin, None, email_of(clerk))  # someone else's
    assert resolve_rectification(rectify, admin, "Zacarías Quintanilla Ibáñez", EMAIL.upper()) == [
        "display_name",
        "email",
    ]
    db.session.rollback()
    user = db.session.get(User, person)
    assert user is not None
    assert (user.display_name, user.email) == ("Zacarías Quintanilla Ibáñez", EMAIL)
    assert authenticate(EMAIL, PASSWORD) is not None
    (resolved,) = entries("personal_data_request_resolved")
    assert resolved.details == {
        "request_id": rectify,
        "user_id": person,
        "kind": "rectification",
        "fields": ["display_name", "email"],
    }

    cancel = register_request(admin, EMAIL, DataRequestKind.CANCELLATION, received())
    assert resolve_cancellation(cancel, admin) == 2  # the two comments the person wrote
    db.session.rollback()
    user = db.session.get(User, person)
    assert user is not None
    assert user.active is False
    assert NAME.split()[0] not in user.display_name
    assert user.email.endswith("@anonimizado.invalid")
    assert authenticate(EMAIL, PASSWORD) is None
    assert authenticate(user.email, PASSWORD) is None
    case = db.session.get(Case, case_id)
    assert case is not None
    assert case.folio  # the case keeps its folio and its record
    assert case.applicant_id == person
    theirs = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == person)).all()
    assert theirs
    assert all(e.comment is None and e.comment_salt is None for e in theirs)
    assert sum(1 for e in theirs if e.comment_digest) == 2  # the digests stay in the hashed form
    staff = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "issue_prevention")).one()
    assert staff.comment is not None  # others' comments are the administrative record

    sign_checkpoint(app.config)
    live = app.test_cli_runner().invoke(args=["audit", "verify", "--public-key", str(public_key)])
    assert live.exit_code == 0, live.output
    assert live.output.startswith("OK:"), live.output
    bundle = bundle_file(tmp_path)
    code, output = run_verifier(bundle, "--public-key", public_key, "--trusted-checkpoint", kept)
    assert code == 0, output
    assert output.startswith("VERIFIED"), output
    exported = bundle.read_text(encoding="utf-8")
    for secret in (NAME, "Zacarías", EMAIL, "55-1234-9876", "Ibáñez"):
        assert secret not in exported


def test_only_erasing_a_comment_is_allowed_on_the_log(app: Flask) -> None:
    make_user(Role.ADMIN)
    with unit_of_work() as session:
        from app import audit
        from app.audit import EntryInput
        from app.models import AuditKind

        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="prueba",
                actor_id=None,
                actor_role="system",
                comment="texto",
                details={"n": 1},
            ),
        )
    db.session.rollback()
    seq = db.session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "prueba"))
    for statement in (
        "UPDATE audit_entries SET action = 'x' WHERE seq = :seq",
        "UPDATE audit_entries SET comment = 'otro' WHERE seq = :seq",
        "UPDATE audit_entries SET comment = NULL, comment_salt = NULL, comment_digest = NULL WHERE seq = :seq",
        "UPDATE audit_entries SET comment = NULL, comment_salt = NULL, details = '{}' WHERE seq = :seq",
        "DELETE FROM audit_entries WHERE seq = :seq",
    ):
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement), {"seq": seq})
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entries SET comment = NULL, comment_salt = NULL WHERE seq = :seq"), {"seq": seq}
        )
    db.session.rollback()
    entry = db.session.get(AuditEntry, seq)
    assert entry is not None
    assert entry.comment is None
    assert entry.comment_digest is not None


def test_opposition_stops_reminders_but_not_the_notices_of_the_procedure(app: Flask, mailbox) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)
    case = vecs_case(person)
    request_id = register_request(admin, email_of(person), DataRequestKind.OPPOSITION, received())
    with pytest.raises(InvalidData):
        resolve_cancellation(request_id, admin)  # the resolution must match the kind
    resolve_opposition(request_id, admin)
    with unit_of_work() as session:
        folio = session.get(Case, case.case_id).folio  # type: ignore[union-attr]
        payload = {"folio": folio, "state": "draft", "due_on": local_today().isoformat(), "rule": "x"}
        enqueue(
            session,
            topic="deadline_reminder",
            dedup_key="t:reminder",
            recipient_id=person,
            case_id=case.case_id,
            payload=payload,
        )
        enqueue(
            session,
            topic="case_transition",
            dedup_key="t:transition",
            recipient_id=person,
            case_id=case.case_id,
            payload={"folio": folio, "trigger": "submit", "state": "draft", "party": "applicant"},
        )
    deliver_pending()
    db.session.rollback()
    statuses = dict(
        db.session.execute(
            select(OutboxMessage.dedup_key, OutboxMessage.status).where(OutboxMessage.dedup_key.like("t:%"))
        ).all()
    )
    assert statuses == {"t:reminder": OutboxStatus.FAILED, "t:transition": OutboxStatus.SENT}
    assert [m["To"] for m in mailbox.messages] == [email_of(person)]


def test_a_calendar_change_moves_the_due_date_of_pending_requests(app: Flask) -> None:
    """LGPDPPSO 2017 art. 51: 20 business days. A request received Tuesday 1 December 2026 is due Wednesday 30
    December (2–4 | 7–11 | 14–18 | 21–24 | 28–30; 25 December a holiday). Declaring 21–31 December non-working
    moves it to Tuesday 12 January 2027 (2–18 December: 13; 1 January a holiday; 4–8 and 11–12 January); the
    request kept its 30 December, a day then non-working. A resolved request keeps its dates."""
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)
    with time_machine.travel(datetime(2026, 12, 2, 18, 0, tzinfo=UTC), tick=False):
        pending = register_request(admin, email_of(person), DataRequestKind.ACCESS, date(2026, 12, 1))
        resolved = register_request(admin, email_of(person), DataRequestKind.OPPOSITION, date(2026, 12, 1))
        resolve_opposition(resolved, admin)
        declare_non_working_days(date(2026, 12, 21), date(2026, 12, 31), "Vacaciones", "Gaceta 40/2026", admin)
        db.session.rollback()
        assert db.session.get(PersonalDataRequest, pending).due_on == date(2027, 1, 12)
        assert db.session.get(PersonalDataRequest, resolved).due_on == date(2026, 12, 30)
        # the 31st given back: one day earlier
        day = db.session.scalars(select(NonWorkingDay.id).where(NonWorkingDay.day == date(2026, 12, 31))).one()
        remove_non_working_day(day, admin)
        db.session.rollback()
        assert db.session.get(PersonalDataRequest, pending).due_on == date(2027, 1, 11)
