"""Timers fire their expiry transition exactly once; the outbox is delivered to a real SMTP server."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from app.audit import verify
from app.extensions import db
from app.models import (
    AuditEntry,
    Case,
    Locale,
    OutboxMessage,
    OutboxStatus,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
    User,
)
from app.services.delivery import RETRY_DELAYS, deliver_pending, failed_messages
from app.services.timers import fire_due_timers
from tests.support.factories import advance, make_user, vecs_case
from tests.support.postgres import free_port
from tests.support.smtp import Mailbox


def _in_prevention() -> tuple[int, Timer]:
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(
        vecs_case(applicant),
        [
            ("submit", applicant, None, None),
            ("start_intake", clerk, None, None),
            ("issue_prevention", clerk, {"prevention_items": ["planos"]}, "Faltan cotas en los planos."),
        ],
    )
    timer = db.session.scalars(
        select(Timer).where(
            Timer.case_id == case.case_id, Timer.kind == TimerKind.DEADLINE, Timer.status == TimerStatus.PENDING
        )
    ).one()
    return case.case_id, timer


def test_prevention_lapses_exactly_once(app: Flask):
    case_id, timer = _in_prevention()
    assert timer.status == TimerStatus.PENDING
    assert timer.trigger == "lapse_prevention"
    assert timer.due_at > timer.created_at + timedelta(days=10)  # ten business days are at least two weeks

    reminder = db.session.scalars(select(Timer).where(Timer.case_id == case_id, Timer.kind == TimerKind.REMINDER)).one()
    assert reminder.due_at < timer.due_at
    assert reminder.party == "applicant"
    early = fire_due_timers(now=timer.due_at - timedelta(seconds=1))
    assert early.fired == 1  # only the reminder
    notices = db.session.scalars(select(OutboxMessage.topic).where(OutboxMessage.case_id == case_id)).all()
    assert notices.count("deadline_reminder") == 1
    report = fire_due_timers(now=timer.due_at)
    assert report.fired == 1
    again = fire_due_timers(now=timer.due_at + timedelta(days=1))
    assert again.fired == 0

    db.session.rollback()  # end the read snapshot; see what others committed
    case = db.session.get(Case, case_id)
    assert case.state == "not_presented"
    assert case.closed_at is not None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert (entry.action, entry.actor_id, entry.actor_role) == ("lapse_prevention", None, "system")
    assert entry.details == {"timer_id": timer.id, "rule": "prevention_answer_days", "due_on": timer.due_on.isoformat()}
    assert db.session.get(Timer, timer.id).status == TimerStatus.FIRED
    assert verify(db.session()).ok


def test_answering_cancels_the_timer(app: Flask):
    case_id, timer = _in_prevention()
    case = db.session.get(Case, case_id)
    from app.services.cases import fire

    fire(case_id, "answer_prevention", case.applicant_id, expected_version=case.version)
    db.session.rollback()  # end the read snapshot; see what others committed
    assert db.session.get(Timer, timer.id).status == TimerStatus.CANCELLED
    # the intake target of the new state may lapse; the prevention may not (the legal term, paused during the
    # prevención and as long as it, lapses the same day and applies the silence rule instead)
    fire_due_timers(now=timer.due_at)
    db.session.rollback()
    assert db.session.get(Case, case_id).state in {"intake_review", "granted_ficta"}
    assert db.session.get(Timer, timer.id).status == TimerStatus.CANCELLED


def test_concurrent_ticks_fire_once(app: Flask):
    case_id, timer = _in_prevention()
    due = timer.due_at
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def tick() -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.append(fire_due_timers(now=due).fired)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 2  # the reminder and the deadline, each once
    db.session.rollback()  # end the read snapshot; see what others committed
    lapses = db.session.scalars(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.case_id == case_id, AuditEntry.action == "lapse_prevention")
    ).one()
    assert lapses == 1
    assert verify(db.session()).ok


def test_mail_reaches_the_applicant_in_their_language(app: Flask, mailbox: Mailbox):
    applicant = make_user(Role.APPLICANT)
    english = make_user(Role.APPLICANT)
    user = db.session.get(User, english)
    user.locale = Locale.EN
    db.session.commit()
    es_case = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    en_case = advance(vecs_case(english), [("submit", english, None, None)])

    report = deliver_pending()
    assert report.sent == 2
    assert deliver_pending().sent == 0  # delivered once
    by_rcpt = {rcpts[0]: message for (_, rcpts), message in zip(mailbox.envelopes, mailbox.messages, strict=True)}
    spanish = by_rcpt[db.session.get(User, applicant).email]
    assert es_case.folio in spanish["Subject"]
    assert "Presentada" in spanish["Subject"]
    body = spanish.get_content()
    assert "Presentar la solicitud" in body
    assert "https://tramites.municipio.example/inicio" in body
    assert spanish["Message-ID"].startswith("<case.")
    english_mail = by_rcpt[db.session.get(User, english).email]
    assert en_case.folio in english_mail["Subject"]
    assert "Presentada" not in english_mail["Subject"]
    statuses = set(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.SENT}


def test_failed_delivery_is_retried_with_backoff_then_marked_failed(app: Flask, mailbox: Mailbox):
    applicant = make_user(Role.APPLICANT)
    advance(vecs_case(applicant), [("submit", applicant, None, None)])
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    message = db.session.scalars(select(OutboxMessage)).one()
    now = message.next_attempt_at
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        report = deliver_pending(now=now)
        assert report.retrying == 1, attempt
        db.session.rollback()  # end the read snapshot; see what others committed
        message = db.session.get(OutboxMessage, message.id)
        assert message.attempts == attempt
        assert message.next_attempt_at == now + delay
        assert deliver_pending(now=now).skipped == 0  # not due again before the delay
        now = message.next_attempt_at
    final = deliver_pending(now=now)
    assert final.failed == 1
    db.session.rollback()  # end the read snapshot; see what others committed
    assert [m.id for m in failed_messages()] == [message.id]
    assert "ConnectionRefusedError" in (db.session.get(OutboxMessage, message.id).last_error or "")
    assert mailbox.messages == []


def test_tick_command(app: Flask, mailbox: Mailbox):
    applicant = make_user(Role.APPLICANT)
    advance(vecs_case(applicant), [("submit", applicant, None, None)])
    result = app.test_cli_runner().invoke(args=["permits", "tick"])
    assert result.exit_code == 0, result.output
    assert "mail: 1 sent" in result.output
    assert len(mailbox.messages) == 1
