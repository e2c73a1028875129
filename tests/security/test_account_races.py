"""Accounts acted on twice at the same moment (a double click, two tabs, two administrators): each one-time link
and each change works once, the second gets the answer it would get a moment later, and the security and audit
logs say what happened once.

On PostgreSQL units of work run side by side (SQLite runs one writer at a time), so a unit that reads what it
decides on without locking it can act on what another unit is changing. Every thread's flush waits a moment
(:func:`tests.support.concurrency.slow_flushes`) so that all of them have read before any writes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.calendar import local_today
from app.engine import InvalidData, NotAllowed, NotFound
from app.extensions import db
from app.models import (
    OutboxMessage,
    PasswordResetToken,
    RecoveryCode,
    Role,
    TotpCredential,
    User,
    UserSession,
    utcnow,
)
from app.models.personal_data import DataRequestKind
from app.models.users import PASSWORDLESS
from app.procedures.access_request import services as access_requests
from app.services import auth
from app.services.confirmation import REGISTRATION, Confirmed, confirm
from app.services.personal_data import register_request, resolve_cancellation, resolve_rectification
from app.services.registration import register_applicant
from app.services.users import verify_password
from tests.security.helpers import events, set_session_times
from tests.support.concurrency import assert_log_verifies, logged, race, slow_flushes
from tests.support.factories import email_of, make_user


def stored_user(user_id: int) -> User:
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def reset_link(user_id: int) -> str:
    """A live password-reset link of ``user_id`` (as the mail would carry it)."""
    token = f"reset-link-of-{user_id}"
    now = utcnow()
    db.session.add(
        PasswordResetToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()
    return token


def enrolled(user_id: int) -> list[str]:
    """Enrol and confirm a second factor for ``user_id``; its recovery codes."""
    secret = auth.begin_enrolment(user_id).secret
    return auth.confirm_enrolment(user_id, pyotp.TOTP(secret).now())


def test_a_reset_link_used_twice_at_once_sets_one_password(app: Flask) -> None:
    user_id = make_user(Role.APPLICANT)
    token = reset_link(user_id)
    auth.start_session(user_id)
    passwords = ["lluvia sobre el tejado verde", "otra frase distinta del intruso"]

    with slow_flushes():
        results = race(app, [lambda p=p: auth.reset_password(token, p) for p in passwords])

    assert results.count(user_id) == 1, results
    (refused,) = [r for r in results if r != user_id]
    assert type(refused) is InvalidData, results
    assert refused.message == auth.INVALID_RESET
    winner = passwords[results.index(user_id)]
    loser = passwords[1 - results.index(user_id)]
    user = stored_user(user_id)
    assert verify_password(user.password_hash, winner)
    assert not verify_password(user.password_hash, loser)
    assert [e.user_id for e in events("password_reset")] == [user_id]
    assert [e.details["reason"] for e in events("session_revoked")] == ["password_reset"]


def test_an_enrolment_confirmed_twice_at_once_keeps_the_recovery_codes_it_showed(app: Flask) -> None:
    user_id = make_user((Role.REVIEWER, "desarrollo_urbano"))
    code = pyotp.TOTP(auth.begin_enrolment(user_id).secret).now()

    with slow_flushes():
        results = race(app, [lambda: auth.confirm_enrolment(user_id, code)] * 2)

    shown = [r for r in results if isinstance(r, list)]
    assert len(shown) == 1, results
    (refused,) = [r for r in results if not isinstance(r, list)]
    assert type(refused) is NotAllowed, results
    assert refused.message.msgid == "No hay un segundo factor pendiente de activar."
    assert len(events("totp_enrolled")) == 1
    db.session.rollback()
    unused = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    assert unused == auth.RECOVERY_CODE_COUNT  # the codes shown, and no others
    assert auth.verify_second_factor(user_id, shown[0][0])


def test_a_first_enrolment_opened_twice_at_once_shows_one_secret(app: Flask) -> None:
    user_id = make_user((Role.REVIEWER, "desarrollo_urbano"))

    with slow_flushes():
        results = race(app, [lambda: auth.begin_enrolment(user_id)] * 2)

    assert all(isinstance(r, auth.Enrolment) for r in results), results
    assert results[0] == results[1]  # the same QR code in both tabs
    db.session.rollback()
    credential = db.session.get(TotpCredential, user_id)
    assert credential is not None
    assert auth.decrypt(credential.secret_encrypted) == results[0].secret
    assert credential.confirmed_at is None
    assert events("totp_enrolled") == []


def test_two_registration_links_of_one_address_used_at_once_take_the_row_over_once(app: Flask) -> None:
    address = "duena@example.test"
    access_requests.file_request("Alguien", address, "Presupuesto 2025", "electronic")  # a passwordless row
    db.session.rollback()
    user_id = db.session.scalars(select(User.id).where(User.email == address)).one()
    registrations = [("Dueña Verdadera", "una frase larga y propia"), ("Otra Persona", "lluvia sobre el tejado verde")]
    for name, password in registrations:
        assert register_applicant(name, address, password) is None
    db.session.rollback()
    sealed = [
        m.payload["sealed"]
        for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        if m.topic == "email_confirmation" and m.payload["purpose"] == REGISTRATION
    ]
    links = [auth.decrypt(s) for s in sealed]
    assert len(links) == 2

    with slow_flushes():
        results = race(app, [lambda t=t: confirm(str(t)) for t in links])

    assert results == [Confirmed(REGISTRATION, None)] * 2, results
    user = stored_user(user_id)
    assert user.password_hash != PASSWORDLESS
    (name, password) = next((n, p) for n, p in registrations if verify_password(user.password_hash, p))
    assert user.display_name == name
    assert user.has_role(Role.APPLICANT)
    db.session.rollback()
    created = db.session.scalars(select(OutboxMessage.dedup_key).where(OutboxMessage.topic == "account_created"))
    assert list(created) == [f"account_created:{user_id}"]
    assert [(d["user_id"], d["took_over_requester"]) for d in logged("user_created")][-1:] == [(user_id, True)]
    assert len([d for d in logged("user_created") if d.get("took_over_requester")]) == 1
    confirmed = [e.details for e in events("registration") if "confirmed" in e.details]
    assert confirmed == [{"confirmed": REGISTRATION}] * 2  # both links were used
    assert_log_verifies()


def test_a_logout_sent_twice_at_once_is_logged_once(app: Flask) -> None:
    user_id = make_user(Role.APPLICANT)
    token = auth.start_session(user_id)

    with slow_flushes():
        results = race(app, [lambda: auth.end_session(token)] * 2)

    assert results == [None, None], results
    assert [e.user_id for e in events("logout")] == [user_id]
    assert auth.session_owner(token) is None


def test_an_expired_session_found_by_requests_at_once_is_logged_expired_once(app: Flask) -> None:
    app.config.update(SESSION_IDLE_TIMEOUT=600)
    user_id = make_user(Role.APPLICANT)
    token = auth.start_session(user_id)
    set_session_times(token, last_seen_at=utcnow() - timedelta(hours=1))

    with slow_flushes():
        results = race(app, [lambda: auth.resume_session(token)] * 3)

    assert results == [None, None, None], results
    assert [e.user_id for e in events("session_expired")] == [user_id]
    db.session.rollback()
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)).one()
    assert row.revoked_reason == "expired"


@pytest.mark.parametrize("requester_first", [False, True], ids=["new-address", "requester-address"])
def test_one_registration_form_sent_twice_at_once_registers_once_and_warns_nobody(
    app: Flask, requester_first: bool
) -> None:
    address = "doble.registro@example.test"
    if requester_first:  # a passwordless requester row: the registration is a confirmation link
        access_requests.file_request("Alguien", address, "Presupuesto 2025", "electronic")

    def send() -> int | None:
        return register_applicant("Doble Clic", address, "una frase larga y propia", form_key="r" * 32)

    with slow_flushes():
        results = race(app, [send, send])

    assert not any(isinstance(r, BaseException) for r in results), results
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == address)) == 1
    topics = [m.topic for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert "account_exists" not in topics
    # one confirmation link, whether the registration creates the account or takes a requester's row over
    purposes = [
        m.payload["purpose"] for m in db.session.scalars(select(OutboxMessage)) if m.topic == "email_confirmation"
    ]
    assert purposes.count(REGISTRATION) == 1
    assert "account_created" not in topics  # the welcome follows the confirmation
    assert len(events("registration")) == 1
    assert register_applicant("Doble Clic", address, "una frase larga y propia", form_key="r" * 32) is None  # later
    assert len(events("registration")) == 1
    register_applicant("Otra Persona", address, "lluvia sobre el tejado verde", form_key="s" * 32)  # another form
    assert len(events("registration")) == 2


def test_an_account_deactivated_at_once_and_again_is_logged_once(app: Flask) -> None:
    admins = [make_user(Role.ADMIN) for _ in range(2)]
    user_id = make_user(Role.INSPECTOR)
    auth.start_session(user_id)

    with slow_flushes():
        results = race(app, [lambda a=a: auth.deactivate_user(user_id, a) for a in admins])
    assert sorted(results) == [False, True], results
    assert auth.deactivate_user(user_id, admins[0]) is False  # once more, later: nothing to do

    assert not stored_user(user_id).active
    assert [e.user_id for e in events("user_deactivated")] == [user_id]
    assert [e.details["reason"] for e in events("session_revoked")] == ["deactivated"]
    assert [d["user_id"] for d in logged("user_deactivated")] == [user_id]
    assert_log_verifies()


def test_a_second_factor_reset_at_once_and_again_is_logged_once(app: Flask) -> None:
    user_id = make_user((Role.REVIEWER, "desarrollo_urbano"))
    enrolled(user_id)
    auth.start_session(user_id)
    email = email_of(user_id)

    with slow_flushes():
        results = race(app, [lambda: auth.reset_second_factor_by_email(email)] * 2)
    assert sorted(results) == [(user_id, False), (user_id, True)], results
    assert auth.reset_second_factor_by_email(email) == (user_id, False)  # once more, later: nothing to do

    assert auth.totp_status(user_id) == auth.TotpStatus.NONE
    assert [e.user_id for e in events("second_factor_reset")] == [user_id]
    assert [e.details["reason"] for e in events("session_revoked")] == ["second_factor_reset"]
    assert [d["user_id"] for d in logged("second_factor_reset")] == [user_id]
    assert_log_verifies()


def test_a_rectification_beside_a_cancellation_writes_nothing_onto_the_anonymised_account(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancellation starts first and commits while the rectification has read the account: without a lock
    on it the rectification then writes the person's real name and address back onto the anonymised account."""
    admins = [make_user(Role.ADMIN) for _ in range(2)]
    person = make_user(Role.APPLICANT, name="Persona Real")
    today = local_today()
    cancellation = register_request(admins[0], email_of(person), DataRequestKind.CANCELLATION, today)
    rectification = register_request(admins[1], email_of(person), DataRequestKind.RECTIFICATION, today)
    role = threading.local()
    cancelled = threading.Event()

    def paced(session: Session, context: Any, instances: Any) -> None:
        if getattr(role, "name", None) == "cancellation":
            time.sleep(0.3)  # the rectification reads the account meanwhile
        elif getattr(role, "name", None) == "rectification":
            cancelled.wait(timeout=5)  # and writes only once the cancellation has committed

    def cancel() -> object:
        role.name = "cancellation"
        try:
            return resolve_cancellation(cancellation, admins[0])
        finally:
            cancelled.set()

    def rectify() -> object:
        role.name = "rectification"
        time.sleep(0.1)  # the cancellation reads (and, locking, holds) the account first
        return resolve_rectification(rectification, admins[1], "Nombre Corregido", "corregido@example.test")

    event.listen(Session, "before_flush", paced)
    try:
        results = race(app, [cancel, rectify])
    finally:
        event.remove(Session, "before_flush", paced)

    assert results[0] == 0, results
    assert type(results[1]) is NotFound, results
    assert results[1].message.msgid == "El usuario no existe o está inactivo."
    user = stored_user(person)
    assert user.display_name == f"Persona anonimizada {person}"
    assert user.email.startswith("cancelada-")
    assert not user.active
    assert [(d["request_id"], d["kind"]) for d in logged("personal_data_request_resolved")] == [
        (cancellation, "cancellation")
    ]
    assert_log_verifies()
