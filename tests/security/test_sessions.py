"""Server-side sessions: the cookie names a session the server can end; a captured cookie cannot be replayed
after logout, a password change, a password reset or deactivation; idle and absolute timeouts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Role, UserSession, utcnow
from app.services.auth import deactivate_user, live_sessions
from app.services.delivery import deliver_pending
from tests.security.helpers import (
    cookie_session_id,
    events,
    replay,
    session_cookie,
    set_session_times,
    stored_session,
)
from tests.support.factories import PASSWORD, email_of, make_user
from tests.support.smtp import Mailbox
from tests.support.statements import sent_statements
from tests.web.helpers import csrf_token, login, login_as, logout, text

NEW_PASSWORD = "lluvia sobre el tejado verde"
Browsers = Callable[[], FlaskClient]


def _live(user_id: int) -> list[UserSession]:
    db.session.rollback()  # see what the requests committed
    return live_sessions(user_id)


def _logged_in(browsers: Browsers, user_id: int) -> tuple[FlaskClient, str]:
    client = browsers()
    login_as(client, user_id)
    assert client.get("/inicio").status_code == 200
    return client, session_cookie(client)


def test_the_cookie_carries_a_session_id_whose_digest_is_stored(client: FlaskClient) -> None:
    user_id = make_user(Role.APPLICANT)
    login_as(client, user_id, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"})
    token = cookie_session_id(client)
    assert token is not None
    assert len(token) >= 40
    assert not token.isdigit()
    row = stored_session(token)
    assert row.user_id == user_id
    assert row.revoked_at is None
    assert token not in row.token_hash
    assert len(row.token_hash) == 64
    assert row.user_agent == "Safari Linux" or "Linux" in row.user_agent


def test_cookie_is_httponly_samesite_lax(client: FlaskClient) -> None:
    response = login_as(client, make_user(Role.APPLICANT))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookie_is_host_prefixed_and_secure() -> None:
    from app.config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_NAME.startswith("__Host-")
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.STAFF_TOTP_REQUIRED is True


def test_a_cookie_captured_before_logout_cannot_be_replayed(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.REVIEWER)
    client, captured = _logged_in(browsers, user_id)
    assert logout(client).status_code == 302
    attacker = browsers()
    response = replay(attacker, captured)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert [e.user_id for e in events("logout")] == [user_id]


def test_a_password_change_ends_every_session_of_the_user(app: Flask, browsers: Browsers, mailbox: Mailbox) -> None:
    user_id = make_user(Role.APPLICANT)
    laptop, captured_laptop = _logged_in(browsers, user_id)
    phone, captured_phone = _logged_in(browsers, user_id)
    assert len(_live(user_id)) == 2
    page = text(laptop.get("/cuenta/contrasena"))
    wrong = laptop.post(
        "/cuenta/contrasena",
        data={
            "csrf_token": csrf_token(page, "/cuenta/contrasena"),
            "current": "no-es-la-actual-para-nada",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422
    assert "La contraseña actual no es correcta." in text(wrong)
    changed = laptop.post(
        "/cuenta/contrasena",
        data={
            "csrf_token": csrf_token(page, "/cuenta/contrasena"),
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert changed.headers["Location"] == "/login"
    assert _live(user_id) == []
    for captured in (captured_laptop, captured_phone):
        response = replay(browsers(), captured)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert phone.get("/inicio").status_code == 302
    assert login(browsers(), email_of(user_id)).status_code == 200  # the old password is refused
    assert login(browsers(), email_of(user_id), NEW_PASSWORD).status_code == 302
    revoked = events("session_revoked")
    assert revoked[-1].details == {"reason": "password_changed", "sessions": 2}
    assert events("password_changed")[0].user_id == user_id
    db.session.rollback()
    deliver_pending()
    (notice,) = mailbox.messages  # the owner is told (ASVS 6.3.7); the wrong current password sent nothing
    assert notice["To"] == email_of(user_id)
    assert str(notice["Subject"]).endswith("La contraseña de su cuenta cambió")
    assert "/contrasena/olvide" in notice.get_content()


def test_the_password_change_page_applies_the_policy(client: FlaskClient) -> None:
    login_as(client, make_user(Role.APPLICANT))
    page = text(client.get("/cuenta/contrasena"))
    for new, message in [
        ("iloveyou12345", "Esa contraseña es de las más usadas o filtradas; elija otra más difícil de adivinar."),
        ("corta", "La contraseña debe tener entre 12 y 1024 caracteres."),
        (PASSWORD, "La contraseña nueva debe ser distinta de la actual."),
    ]:
        response = client.post(
            "/cuenta/contrasena",
            data={
                "csrf_token": csrf_token(page, "/cuenta/contrasena"),
                "current": PASSWORD,
                "password": new,
                "confirm": new,
            },
        )
        assert response.status_code == 422
        assert message in text(response)
    assert client.get("/inicio").status_code == 200  # nothing changed, still logged in


def test_deactivation_ends_the_sessions(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.INSPECTOR)
    client, captured = _logged_in(browsers, user_id)
    deactivate_user(user_id)
    assert client.get("/inicio").status_code == 302
    assert replay(browsers(), captured).status_code == 302
    assert events("session_revoked")[-1].details["reason"] == "deactivated"
    assert login(browsers(), email_of(user_id)).status_code == 200  # refused


def test_idle_and_absolute_timeouts(app: Flask, browsers: Browsers) -> None:
    app.config.update(SESSION_IDLE_TIMEOUT=600, SESSION_ABSOLUTE_TIMEOUT=3600)
    user_id = make_user(Role.APPLICANT)
    idle_client, _ = _logged_in(browsers, user_id)
    token = cookie_session_id(idle_client)
    assert token is not None
    set_session_times(token, last_seen_at=utcnow() - timedelta(seconds=601))
    assert idle_client.get("/inicio").status_code == 302
    assert stored_session(token).revoked_reason == "expired"

    old_client, _ = _logged_in(browsers, user_id)
    old_token = cookie_session_id(old_client)
    assert old_token is not None
    set_session_times(old_token, created_at=utcnow() - timedelta(seconds=3601), last_seen_at=utcnow())
    assert old_client.get("/inicio").status_code == 302
    assert len(events("session_expired")) == 2

    fresh_client, _ = _logged_in(browsers, user_id)
    fresh_token = cookie_session_id(fresh_client)
    assert fresh_token is not None
    set_session_times(fresh_token, last_seen_at=utcnow() - timedelta(seconds=300))
    assert fresh_client.get("/inicio").status_code == 200  # active within the idle limit
    assert stored_session(fresh_token).last_seen_at > utcnow() - timedelta(seconds=30)  # and touched again


def test_an_old_style_cookie_holding_a_user_id_logs_nobody_in(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.ADMIN)
    client = browsers()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
    response = client.get("/inicio")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_administrators_end_sessions_and_deactivate_from_the_command_line(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.REVIEWER)
    client, captured = _logged_in(browsers, user_id)
    runner = app.test_cli_runner()
    ended = runner.invoke(args=["users", "end-sessions", email_of(user_id)])
    assert ended.exit_code == 0, ended.output
    assert "1 session(s) ended" in ended.output
    assert client.get("/inicio").status_code == 302
    assert replay(browsers(), captured).status_code == 302
    again, _ = _logged_in(browsers, user_id)  # may log in again
    off = runner.invoke(args=["users", "deactivate", email_of(user_id)])
    assert off.exit_code == 0, off.output
    assert off.output.strip() == f"user {user_id} deactivated; its sessions were ended"
    assert again.get("/inicio").status_code == 302
    repeated = runner.invoke(args=["users", "deactivate", email_of(user_id)])
    assert repeated.exit_code == 0, repeated.output
    assert repeated.output.strip() == f"user {user_id} was already inactive; nothing changed"
    unknown = runner.invoke(args=["users", "deactivate", "nadie@example.test"])
    assert unknown.exit_code != 0
    assert "No hay una cuenta con ese correo electrónico." in unknown.output


def test_administrators_end_everyones_sessions_from_the_command_line(app: Flask, browsers: Browsers) -> None:
    """After a suspected compromise every account must log in again: every live session ends, each account's in
    the security log; the command asks first."""
    reviewer, applicant = make_user(Role.REVIEWER), make_user(Role.APPLICANT)
    clients = [_logged_in(browsers, reviewer)[0], _logged_in(browsers, reviewer)[0], _logged_in(browsers, applicant)[0]]
    runner = app.test_cli_runner()
    declined = runner.invoke(args=["users", "end-all-sessions"], input="n\n")
    assert declined.exit_code != 0
    assert all(client.get("/inicio").status_code == 200 for client in clients)
    with sent_statements() as sent:
        ended = runner.invoke(args=["users", "end-all-sessions", "--yes"])
    assert ended.exit_code == 0, ended.output
    assert "3 session(s) of 2 account(s) ended" in ended.output
    # one statement ends every session and one writes every account's event, whatever the number of accounts
    assert len([sql for sql, _ in sent if sql.startswith("UPDATE user_sessions")]) == 1
    assert len([sql for sql, _ in sent if sql.startswith("INSERT INTO security_events")]) == 1
    assert all(client.get("/inicio").status_code == 302 for client in clients)
    revoked = events("session_revoked")
    assert sorted((e.user_id, e.details["sessions"]) for e in revoked) == [(reviewer, 2), (applicant, 1)]
    assert {e.details["reason"] for e in revoked} == {"ended_for_everyone"}
    again, _ = _logged_in(browsers, applicant)  # may log in again
    assert again.get("/inicio").status_code == 200
