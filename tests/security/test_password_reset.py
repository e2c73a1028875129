"""Password reset by e-mail through the outbox and a real SMTP server: neutral answers, the right recipient,
a link that works once, expired and reused links refused, every session ended."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.engine import InvalidData
from app.extensions import db
from app.models import Locale, OutboxMessage, PasswordResetToken, Role, User, utcnow
from app.services.auth import reset_password
from app.services.delivery import deliver_pending
from app.services.users import set_locale
from tests.security.helpers import events, replay, session_cookie
from tests.support.factories import email_of, make_user
from tests.support.smtp import Mailbox
from tests.web.helpers import csrf_token, flashes, login, login_as, text

Browsers = Callable[[], FlaskClient]
NEW_PASSWORD = "lluvia sobre el tejado verde"
LINK = re.compile(r"https://tramites\.municipio\.example(/contrasena/restablecer/[A-Za-z0-9_-]+)")


def _ask(client: FlaskClient, email: str) -> object:
    page = text(client.get("/contrasena/olvide"))
    return client.post(
        "/contrasena/olvide", data={"csrf_token": csrf_token(page, "/contrasena/olvide"), "email": email}
    )


def _outbox_count() -> int:
    db.session.rollback()
    return db.session.scalars(select(func.count()).select_from(OutboxMessage)).one()


def _deliver() -> None:
    db.session.rollback()  # see the outbox rows the requests committed
    deliver_pending()


def _link_from_mail(mailbox: Mailbox, email: str) -> str:
    db.session.rollback()
    report = deliver_pending()
    assert report.sent >= 1
    mine = [m for m in mailbox.messages if m["To"] == email]
    assert len(mine) == 1
    body = mine[0].get_content()
    match = LINK.search(body)
    assert match is not None, body
    return match.group(1)


def _choose(client: FlaskClient, path: str, password: str = NEW_PASSWORD) -> object:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(
        path, data={"csrf_token": csrf_token(text(page), path), "password": password, "confirm": password}
    )


def test_reset_end_to_end_through_smtp(app: Flask, browsers: Browsers, mailbox: Mailbox) -> None:
    user_id = make_user(Role.APPLICANT)
    email = email_of(user_id)
    logged_in = browsers()
    login_as(logged_in, user_id)
    captured = session_cookie(logged_in)

    client = browsers()
    asked = _ask(client, email)
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/login"
    path = _link_from_mail(mailbox, email)
    message = mailbox.messages[0]
    assert "Restablecer su contraseña" in message["Subject"]
    assert mailbox.envelopes[0][1] == [email]

    db.session.rollback()
    stored = db.session.scalars(select(PasswordResetToken)).one()
    token = path.rsplit("/", 1)[1]
    assert token not in stored.token_hash
    assert token not in str(db.session.scalars(select(OutboxMessage.payload)).all())  # sealed in the outbox

    weak = _choose(client, path, "qwertyuiop123")
    assert weak.status_code == 422
    assert "más usadas o filtradas" in text(weak)
    done = _choose(client, path)
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    assert "Contraseña restablecida" in " ".join(flashes(client.get("/login")))

    assert login(browsers(), email).status_code == 200  # the old password no longer works
    assert login(browsers(), email, NEW_PASSWORD).status_code == 302
    assert logged_in.get("/inicio").status_code == 302  # the session open before the reset ended
    assert replay(browsers(), captured).status_code == 302

    reused = browsers().get(path)
    assert reused.status_code == 404
    assert "El enlace para restablecer la contraseña no es válido, ya se usó o caducó." in text(reused)
    again = browsers().post(path, data={"password": "otra frase muy distinta", "confirm": "otra frase muy distinta"})
    assert again.status_code in (400, 404)  # no form token, and the link is spent anyway
    assert [e.user_id for e in events("password_reset")] == [user_id]


def test_unknown_addresses_get_the_same_answer_and_no_mail(app: Flask, browsers: Browsers, mailbox: Mailbox) -> None:
    known = email_of(make_user(Role.APPLICANT))
    unknown = "nadie.registrado@example.test"
    answers = {}
    for email in (known, unknown):
        client = browsers()
        response = _ask(client, email)
        answers[email] = (response.status_code, response.headers["Location"], flashes(client.get("/login")))
    assert answers[known][:2] == answers[unknown][:2] == (302, "/login")
    assert [f.replace(known, "X") for f in answers[known][2]] == [f.replace(unknown, "X") for f in answers[unknown][2]]
    assert _outbox_count() == 1
    _deliver()
    assert [m["To"] for m in mailbox.messages] == [known]
    requested = events("password_reset_requested")
    assert [e.details["sent"] for e in requested] == [True, False]
    assert unknown not in str(requested[1].details)  # only a digest of an unknown address


def test_an_expired_link_is_refused(app: Flask, browsers: Browsers, mailbox: Mailbox) -> None:
    user_id = make_user(Role.APPLICANT)
    client = browsers()
    _ask(client, email_of(user_id))
    path = _link_from_mail(mailbox, email_of(user_id))
    db.session.rollback()
    db.session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 404
    refused = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code in (400, 404)
    assert login(browsers(), email_of(user_id), NEW_PASSWORD).status_code == 200  # nothing changed


def test_a_newer_reset_spends_the_older_links_and_mail_speaks_the_users_language(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    user_id = make_user(Role.APPLICANT)
    set_locale(user_id, Locale.EN)
    email = email_of(user_id)
    _ask(browsers(), email)
    first = _link_from_mail(mailbox, email)
    assert "Reset your password" in mailbox.messages[0]["Subject"]
    mailbox.clear()
    _ask(browsers(), email)
    second = _link_from_mail(mailbox, email)
    assert first != second
    assert _choose(browsers(), second).status_code == 302
    assert browsers().get(first).status_code == 404


def test_registering_a_taken_address_mails_its_owner(app: Flask, browsers: Browsers, mailbox: Mailbox) -> None:
    owner = make_user(Role.APPLICANT)
    email = email_of(owner)
    client = browsers()
    page = text(client.get("/registro"))
    response = client.post(
        "/registro",
        data={
            "csrf_token": csrf_token(page, "/registro"),
            "display_name": "Otra Persona",
            "email": email,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    _deliver()
    assert [m["To"] for m in mailbox.messages] == [email]
    assert "/contrasena/olvide" in mailbox.messages[0].get_content()
    db.session.rollback()
    assert db.session.scalars(select(func.count()).select_from(User)).one() == 1


def test_a_requester_without_account_cannot_gain_a_password_by_reset(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    """Filing an information request without an account makes a row no password matches; a reset must not
    turn it into an account (anyone could otherwise claim a requester's e-mail history)."""
    from app.procedures.access_request.services import file_request

    email = "lector.sin.cuenta@example.test"
    file_request("Lector", email, "Contratos de obra pública de 2025", "electronic")
    db.session.rollback()
    before = _outbox_count()
    response = _ask(browsers(), email)
    assert (response.status_code, response.headers["Location"]) == (302, "/login")  # the same neutral answer
    assert _outbox_count() == before  # the filing receipt only; no reset link
    assert db.session.scalars(select(func.count()).select_from(PasswordResetToken)).one() == 0
    assert events("password_reset_requested")[-1].details["sent"] is False
    requester = db.session.scalars(select(User).where(User.email == email)).one()
    assert not requester.has_password


def test_a_refused_link_is_recorded_in_the_security_log(app: Flask) -> None:
    """The refusal of an unknown (or used, or expired) link is kept, although the attempt changes nothing."""
    with pytest.raises(InvalidData):
        reset_password("no-such-link-" + "x" * 30, NEW_PASSWORD, ip="203.0.113.9", path="/contrasena/restablecer/x")
    (refused,) = events("password_reset_refused")
    assert (refused.ip, refused.user_id) == ("203.0.113.9", None)
