"""No lock-out that an outsider controls: failed passwords and second-factor codes slow down only the pair
(account, client address) that made them, with delays that grow, and the real owner elsewhere gets in."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from app.models import Role, utcnow
from app.services.auth import begin_enrolment, confirm_enrolment
from tests.security.helpers import events
from tests.support.factories import email_of, make_user
from tests.web.helpers import csrf_token, login, text

Browsers = Callable[[], FlaskClient]
VERIFY = "/login/verificacion"


def _from(browsers: Browsers, address: str) -> FlaskClient:
    client = browsers()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_wrong_passwords_from_many_addresses_do_not_lock_the_owner_out(app: Flask, browsers: Browsers) -> None:
    staff = make_user((Role.REVIEWER, "desarrollo_urbano"))
    for n in range(12):
        attacker = _from(browsers, f"203.0.113.{n + 1}")
        assert login(attacker, email_of(staff), "contraseña-equivocada").status_code == 200
    assert login(_from(browsers, "198.51.100.7"), email_of(staff)).status_code == 302
    assert events("throttled") == []


def test_repeated_failures_from_one_address_wait_longer_each_time(app: Flask, browsers: Browsers) -> None:
    app.config.update(LOGIN_DELAY_AFTER=2, LOGIN_DELAY_BASE_SECONDS=1, LOGIN_DELAY_MAX_SECONDS=60)
    user_id = make_user(Role.APPLICANT)
    guesser = _from(browsers, "203.0.113.50")
    assert login(guesser, email_of(user_id), "contraseña-equivocada").status_code == 200
    assert login(guesser, email_of(user_id), "contraseña-equivocada").status_code == 200  # now wait 1 s
    waiting = login(guesser, email_of(user_id))  # even the right password must wait
    assert waiting.status_code == 429
    assert "Demasiados intentos" in text(waiting)
    assert int(waiting.headers["Retry-After"]) >= 1
    assert login(_from(browsers, "198.51.100.8"), email_of(user_id)).status_code == 302  # the owner, elsewhere
    time.sleep(1.2)
    assert login(guesser, email_of(user_id), "contraseña-equivocada").status_code == 200  # now wait 2 s
    time.sleep(1.2)
    assert login(guesser, email_of(user_id)).status_code == 429  # the delay doubled
    time.sleep(1.0)
    assert login(guesser, email_of(user_id)).status_code == 302  # and a success clears the count
    again = _from(browsers, "203.0.113.50")
    assert login(again, email_of(user_id), "contraseña-equivocada").status_code == 200
    assert login(again, email_of(user_id)).status_code == 302


def _staff_with_second_factor() -> tuple[int, str]:
    staff = make_user((Role.INTAKE_CLERK, "ventanilla"))
    secret = begin_enrolment(staff).secret
    earlier = utcnow() - timedelta(seconds=90)
    confirm_enrolment(staff, pyotp.TOTP(secret).at(earlier), now=earlier)
    return staff, secret


def _code_step(client: FlaskClient, email: str, code: str) -> int:
    assert login(client, email).status_code == 302
    page = client.get(VERIFY)
    assert page.status_code == 200
    return client.post(VERIFY, data={"csrf_token": csrf_token(text(page), VERIFY), "code": code}).status_code


def test_wrong_codes_from_new_sessions_and_addresses_do_not_lock_the_owner_out(app: Flask, browsers: Browsers):
    app.config["STAFF_TOTP_REQUIRED"] = True
    staff, secret = _staff_with_second_factor()
    for n in range(12):  # someone who knows the password tries codes, each time from a new session
        assert _code_step(_from(browsers, f"203.0.113.{n + 1}"), email_of(staff), "000000") == 422
    assert _code_step(_from(browsers, "198.51.100.9"), email_of(staff), pyotp.TOTP(secret).now()) == 302


def test_wrong_codes_from_one_address_are_delayed(app: Flask, browsers: Browsers) -> None:
    app.config.update(STAFF_TOTP_REQUIRED=True, LOGIN_DELAY_AFTER=2, LOGIN_DELAY_BASE_SECONDS=30)
    staff, secret = _staff_with_second_factor()
    guesser = _from(browsers, "203.0.113.60")
    assert _code_step(guesser, email_of(staff), "000000") == 422
    assert _code_step(guesser, email_of(staff), "000000") == 422
    assert _code_step(guesser, email_of(staff), pyotp.TOTP(secret).now()) == 429
    assert _code_step(_from(browsers, "198.51.100.10"), email_of(staff), pyotp.TOTP(secret).now()) == 302
