"""TOTP second factor for staff: enrolment on first login, the second step, wrong and replayed codes, and
single-use recovery codes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engine import NotAllowed
from app.extensions import db
from app.models import RecoveryCode, Role, TotpCredential
from app.services.auth import begin_enrolment
from tests.security.helpers import events
from tests.support.factories import email_of, make_user
from tests.web.helpers import csrf_token, login, logout, session_user_id, text

Browsers = Callable[[], FlaskClient]
ENROL = "/login/activar-verificacion"
VERIFY = "/login/verificacion"


@pytest.fixture(autouse=True)
def second_factor_required(app: Flask) -> None:
    app.config["STAFF_TOTP_REQUIRED"] = True


def _post_code(client: FlaskClient, path: str, code: str) -> object:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(text(page), path), "code": code})


def _enrol(client: FlaskClient, user_id: int) -> tuple[str, str, list[str]]:
    """Log in with the password, read the secret from the enrolment page, confirm it; returns the secret,
    the code that confirmed it and the recovery codes."""
    response = login(client, email_of(user_id))
    assert response.status_code == 302
    assert response.headers["Location"] == ENROL
    assert session_user_id(client) is None  # not logged in before the second factor
    assert client.get("/inicio").status_code == 302
    page = text(client.get(ENROL))
    assert 'src="data:image/svg+xml' in page  # the QR code, inline
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert match is not None
    secret = match.group(1).replace(" ", "")
    wrong = client.post(ENROL, data={"csrf_token": csrf_token(page, ENROL), "code": "000000"})
    assert wrong.status_code == 422
    assert "El código no es correcto" in text(wrong)
    assert secret in text(wrong).replace(" ", "")  # still enrolling: the same secret is shown again
    code = pyotp.TOTP(secret).now()
    done = client.post(ENROL, data={"csrf_token": csrf_token(page, ENROL), "code": code})
    assert done.status_code == 200
    assert done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", text(done))
    assert len(codes) == 10
    assert len(set(codes)) == 10
    return secret, code, codes


def test_staff_enrol_on_first_login_and_then_pass_a_second_step(app: Flask, browsers: Browsers) -> None:
    staff = make_user(Role.AUDITOR)
    first = browsers()
    secret, enrolment_code, codes = _enrol(first, staff)
    assert first.get("/inicio").status_code == 200
    assert session_user_id(first) == str(staff)

    # stored encrypted, never shown again; recovery codes stored as digests only
    db.session.rollback()
    credential = db.session.get(TotpCredential, staff)
    assert credential is not None
    assert credential.confirmed_at is not None
    assert secret not in credential.secret_encrypted
    stored_codes = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == staff)).all()
    assert len(stored_codes) == 10
    assert not set(codes) & set(stored_codes)
    with pytest.raises(NotAllowed):
        begin_enrolment(staff)
    assert [e.user_id for e in events("totp_enrolled")] == [staff]

    second = browsers()
    response = login(second, email_of(staff))
    assert response.headers["Location"] == VERIFY
    assert second.get(ENROL).headers["Location"] == VERIFY  # no second look at the secret
    assert second.get("/inicio").status_code == 302

    totp = pyotp.TOTP(secret)
    replayed = _post_code(second, VERIFY, enrolment_code)  # already used: refused
    assert replayed.status_code == 422
    assert "El código no es correcto o ya se usó" in text(replayed)
    wrong = _post_code(second, VERIFY, "123456" if totp.now() != "123456" else "654321")
    assert wrong.status_code == 422
    later = totp.at(time.time() + 30)  # the next step (one step of drift is allowed)
    accepted = _post_code(second, VERIFY, later)
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/inicio"
    assert session_user_id(second) == str(staff)
    assert len(events("totp_failed")) >= 3  # wrong enrolment code, replay, wrong code

    # the same code again, on another browser: refused
    third = browsers()
    login(third, email_of(staff))
    assert _post_code(third, VERIFY, later).status_code == 422


def test_recovery_codes_work_once(app: Flask, browsers: Browsers) -> None:
    staff = make_user(Role.ADMIN)
    _, _, codes = _enrol(browsers(), staff)
    client = browsers()
    login(client, email_of(staff))
    used = _post_code(client, VERIFY, codes[3].upper().replace("-", " "))  # typed loosely
    assert used.status_code == 302
    assert client.get("/inicio").status_code == 200
    assert logout(client).status_code == 302
    login(client, email_of(staff))
    again = _post_code(client, VERIFY, codes[3])
    assert again.status_code == 422
    other = _post_code(client, VERIFY, codes[4])
    assert other.status_code == 302
    assert [e.details["remaining"] for e in events("recovery_code_used")] == [9, 8]


def test_the_second_step_needs_a_password_first(client: FlaskClient) -> None:
    for path in (VERIFY, ENROL):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"


def test_applicants_and_disabled_setting_log_in_with_the_password_only(app: Flask, browsers: Browsers) -> None:
    applicant = make_user(Role.APPLICANT)
    response = login(browsers(), email_of(applicant))
    assert response.headers["Location"] == "/inicio"
    app.config["STAFF_TOTP_REQUIRED"] = False
    staff = make_user(Role.REVIEWER)
    assert login(browsers(), email_of(staff)).headers["Location"] == "/inicio"


def test_an_administrator_resets_a_lost_second_factor(app: Flask, browsers: Browsers) -> None:
    staff = make_user(Role.INSPECTOR)
    first = browsers()
    _enrol(first, staff)
    assert first.get("/inicio").status_code == 200
    result = app.test_cli_runner().invoke(args=["users", "reset-second-factor", email_of(staff)])
    assert result.exit_code == 0, result.output
    assert first.get("/inicio").status_code == 302  # sessions ended
    db.session.rollback()
    assert db.session.get(TotpCredential, staff) is None
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == staff)).all() == []
    assert login(browsers(), email_of(staff)).headers["Location"] == ENROL  # enrols again
    assert [e.user_id for e in events("second_factor_reset")] == [staff]
    assert "second factor removed" in result.output
    again = app.test_cli_runner().invoke(args=["users", "reset-second-factor", email_of(staff)])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == f"user {staff} has no second factor; nothing removed"
    assert [e.user_id for e in events("second_factor_reset")] == [staff]
