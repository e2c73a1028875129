"""One's own second factor (ASVS 5.0 7.5.1: changed only with the password and a code given again): new recovery
codes, and moving to another authenticator app, which keeps the old one working until a code of the new one
confirms it. The account's address is told (a real SMTP server); the other sessions end after a change of app."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app.engine import NotAllowed
from app.extensions import db
from app.models import Role
from app.services import auth
from app.services.delivery import deliver_pending
from tests.security.conftest import FACTOR_START
from tests.security.helpers import events
from tests.support.factories import PASSWORD, email_of, make_user
from tests.support.smtp import Mailbox
from tests.web.helpers import csrf_token, flashes, login, session_user_id, text

Browsers = Callable[[], FlaskClient]
PAGE = "/cuenta/verificacion"
RENEW = "/cuenta/verificacion/codigos"
CHANGE = "/cuenta/verificacion/cambiar"
NEW = "/cuenta/verificacion/nueva"
VERIFY = "/login/verificacion"
START = FACTOR_START
CODES = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@pytest.fixture(autouse=True)
def second_factor_required(app: Flask) -> None:
    app.config["STAFF_TOTP_REQUIRED"] = True


def _enrolled(user_id: int, at: datetime) -> tuple[pyotp.TOTP, list[str]]:
    """The account's second factor, confirmed at ``at``: its app and recovery codes."""
    totp = pyotp.TOTP(auth.begin_enrolment(user_id).secret)
    return totp, auth.confirm_enrolment(user_id, totp.at(at), now=at)


def _signed_in_with_factor(
    browsers: Browsers, factor_clock: time_machine.Coordinates, role: Role
) -> tuple[int, FlaskClient, pyotp.TOTP]:
    """A user of ``role`` with a second factor confirmed at ``START``, logged in 30 seconds later in a browser of
    their own with a code of the app: the user, the browser and the app."""
    user = make_user(role)
    totp, _ = _enrolled(user, START)
    client = browsers()
    factor_clock.shift(30)
    _log_in(client, user, totp.at(START + timedelta(seconds=30)))
    return user, client, totp


def _log_in(client: FlaskClient, user_id: int, code: str) -> None:
    assert login(client, email_of(user_id)).headers["Location"] == VERIFY
    page = text(client.get(VERIFY))
    done = client.post(VERIFY, data={"csrf_token": csrf_token(page, VERIFY), "code": code})
    assert done.status_code == 302, text(done)
    assert session_user_id(client) is not None


def _send(client: FlaskClient, action: str, prefix: str, code: str, password: str = PASSWORD):
    page = text(client.get(PAGE))
    token = csrf_token_named(page, f"{prefix}-csrf_token")
    return client.post(
        action, data={f"{prefix}-csrf_token": token, f"{prefix}-password": password, f"{prefix}-code": code}
    )


def csrf_token_named(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"', page) or re.search(
        rf'type="hidden" name="{re.escape(name)}" value="([^"]+)"', page
    )
    assert match is not None, f"no {name} on the page"
    return match.group(1)


def _mail(mailbox: Mailbox) -> list[str]:
    db.session.rollback()
    deliver_pending()
    subjects = [str(m["Subject"]) for m in mailbox.messages]
    mailbox.clear()
    return subjects


def test_a_staff_member_moves_the_second_factor_to_another_app(
    app: Flask, browsers: Browsers, mailbox: Mailbox, factor_clock: time_machine.Coordinates
) -> None:
    staff = make_user(Role.REVIEWER, name="Rosa Revisora")
    old, old_codes = _enrolled(staff, START)
    here, elsewhere = browsers(), browsers()
    factor_clock.shift(30)
    _log_in(here, staff, old.at(START + timedelta(seconds=30)))
    factor_clock.shift(30)
    _log_in(elsewhere, staff, old.at(START + timedelta(seconds=60)))

    page = text(here.get(PAGE))
    assert "Activa desde" in page
    assert "Le quedan 10 códigos de recuperación sin usar" in page

    factor_clock.shift(30)
    now = START + timedelta(seconds=90)
    wrong_password = _send(here, CHANGE, "cambio", old.at(now), password="no es la contraseña")
    assert wrong_password.status_code == 422
    assert "La contraseña no es correcta." in text(wrong_password)
    assert events("login_failed")[-1].details == {"step": "second_factor_change"}
    wrong_code = _send(here, CHANGE, "cambio", "000000" if old.at(now) != "000000" else "111111")
    assert wrong_code.status_code == 422
    assert "El código no es correcto o ya se usó" in text(wrong_code)
    assert here.get(NEW).headers["Location"] == PAGE  # nothing begun
    started = _send(here, CHANGE, "cambio", old.at(now))
    assert (started.status_code, started.headers["Location"]) == (302, NEW)
    replayed = _send(here, CHANGE, "cambio", old.at(now))  # the same code twice: refused
    assert replayed.status_code == 422

    shown = here.get(NEW)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert "<h1>Cambiar de aplicación de autenticación</h1>" in text(shown)
    assert "<title>Cambiar de aplicación de autenticación" in text(shown)
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', text(shown))
    assert match is not None
    new = pyotp.TOTP(match.group(1).replace(" ", ""))
    assert new.secret != old.secret
    assert 'src="data:image/svg+xml' in text(shown)

    factor_clock.shift(30)
    now += timedelta(seconds=30)
    assert auth.verify_second_factor(staff, old.at(now))  # the old app works until the new one is confirmed
    form = text(shown)
    refused = here.post(NEW, data={"csrf_token": csrf_token(form, NEW), "code": old.at(now)})
    assert refused.status_code == 422
    assert "El código no es correcto" in text(refused)
    assert _mail(mailbox) == []

    done = here.post(NEW, data={"csrf_token": csrf_token(form, NEW), "code": new.at(now)})
    assert done.status_code == 200
    assert done.headers["Cache-Control"] == "no-store"
    codes = CODES.findall(text(done))
    assert len(set(codes)) == 10
    assert "Se cerró 1 sesión más de su cuenta." in text(done)
    assert here.get("/inicio").status_code == 200  # this session stays
    assert elsewhere.get("/inicio").status_code == 302  # the other one ended
    assert events("totp_enrolled")[-1].details == {"change": "device", "sessions_ended": 1}
    assert events("session_revoked")[-1].details == {"reason": "second_factor_changed", "sessions": 1}
    (subject,) = _mail(mailbox)
    assert "cambió de aplicación" in subject
    again = here.post(NEW, data={"csrf_token": csrf_token(form, NEW), "code": new.at(now)})
    assert again.headers["Location"] == PAGE  # the change is spent
    assert "caducó o ya se hizo" in " ".join(flashes(here.get(PAGE)))

    factor_clock.shift(30)
    now += timedelta(seconds=30)
    assert not auth.verify_second_factor(staff, old.at(now))  # the old app no longer opens the account
    assert not auth.verify_second_factor(staff, old_codes[0])  # nor its recovery codes
    fresh = browsers()
    _log_in(fresh, staff, new.at(now))
    factor_clock.shift(30)
    assert auth.verify_second_factor(staff, codes[0])


def test_a_change_of_app_is_single_use_bound_to_its_account_and_lapses(
    app: Flask, factor_clock: time_machine.Coordinates
) -> None:
    staff, other = make_user(Role.REVIEWER), make_user(Role.AUDITOR)
    _, codes = _enrolled(staff, START)
    _enrolled(other, START)
    sealed = auth.begin_second_factor_change(staff, PASSWORD, codes[0], now=START)  # a recovery code serves too
    assert auth.second_factor_summary(staff) == auth.SecondFactorSummary(START, 9)
    pending = auth.pending_second_factor(staff, sealed, now=START)
    assert pending is not None
    new = pyotp.TOTP(pending.secret)
    assert auth.pending_second_factor(other, sealed, now=START) is None  # another account's browser
    with pytest.raises(NotAllowed):
        auth.confirm_second_factor_change(other, sealed, new.at(START), "")
    late = START + auth.SECOND_FACTOR_CHANGE_TTL + timedelta(seconds=1)
    assert auth.pending_second_factor(staff, sealed, now=late) is None
    with pytest.raises(NotAllowed):
        auth.confirm_second_factor_change(staff, sealed, new.at(late), "", now=late)
    assert auth.pending_second_factor(staff, "not a sealed key", now=START) is None

    at = START + timedelta(minutes=5)
    change = auth.confirm_second_factor_change(staff, sealed, new.at(at), "", now=at)
    assert len(change.codes) == 10
    with pytest.raises(NotAllowed):  # the same sealed key again, with another code of it
        auth.confirm_second_factor_change(staff, sealed, new.at(at + timedelta(seconds=30)), "", now=at)
    assert auth.second_factor_summary(staff) == auth.SecondFactorSummary(at, 10)


def test_new_recovery_codes_replace_the_old_ones(
    app: Flask, browsers: Browsers, mailbox: Mailbox, factor_clock: time_machine.Coordinates
) -> None:
    staff = make_user(Role.AUDITOR)
    totp, old_codes = _enrolled(staff, START)
    client = browsers()
    factor_clock.shift(30)
    _log_in(client, staff, old_codes[0])  # logged in with a recovery code
    assert "Le quedan 9 códigos de recuperación sin usar" in text(client.get(PAGE))

    wrong = _send(client, RENEW, "codigos", old_codes[0])  # already spent
    assert wrong.status_code == 422
    assert "El código no es correcto o ya se usó" in text(wrong)
    assert events("totp_failed")[-1].details == {"step": "second_factor_change"}
    missing = _send(client, RENEW, "codigos", "")
    assert missing.status_code == 422
    assert "Escriba el código." in text(missing)

    renewed = _send(client, RENEW, "codigos", totp.at(START + timedelta(seconds=30)))
    assert renewed.status_code == 200
    assert renewed.headers["Cache-Control"] == "no-store"
    assert "Nuevos códigos de recuperación" in text(renewed)
    codes = CODES.findall(text(renewed))
    assert len(set(codes)) == 10
    assert not set(codes) & set(old_codes)
    assert "Le quedan 10 códigos de recuperación sin usar" in text(client.get(PAGE))
    assert client.get("/inicio").status_code == 200  # nothing else changes: the session stays
    assert events("totp_enrolled")[-1].details == {"change": "recovery_codes"}
    (subject,) = _mail(mailbox)
    assert "Nuevos códigos de recuperación" in subject

    assert not auth.verify_second_factor(staff, old_codes[1])  # an unused old code no longer serves
    assert auth.verify_second_factor(staff, codes[1])


def test_wrong_codes_are_throttled_and_nothing_is_offered_without_a_second_factor(
    app: Flask, browsers: Browsers, factor_clock: time_machine.Coordinates
) -> None:
    _, client, _ = _signed_in_with_factor(browsers, factor_clock, Role.AUDITOR)
    statuses = [_send(client, RENEW, "codigos", "000000").status_code for _ in range(4)]
    assert statuses[:3] == [422, 422, 422]
    assert statuses[3] == 429  # the delay after the free failures, as at the login's second step

    applicant = make_user(Role.APPLICANT)
    public = browsers()
    assert login(public, email_of(applicant)).status_code == 302
    page = text(public.get(PAGE))
    assert "Su cuenta no usa la verificación en dos pasos" in page
    assert 'action="/cuenta/verificacion/cambiar"' not in page
    assert public.get(NEW).headers["Location"] == PAGE
    token = csrf_token(page, "/logout")  # the session's token, as any form of the page carries it
    sent = public.post(CHANGE, data={"cambio-csrf_token": token, "cambio-password": PASSWORD, "cambio-code": "123456"})
    assert sent.status_code == 422
    assert "no tiene activa la verificación en dos pasos" in text(sent)
    assert browsers().get(PAGE).headers["Location"].startswith("/login")


def test_the_page_speaks_english(app: Flask, browsers: Browsers, factor_clock: time_machine.Coordinates) -> None:
    _, client, _ = _signed_in_with_factor(browsers, factor_clock, Role.AUDITOR)
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = text(client.get(PAGE))
    assert "Two-step verification" in page
    assert "10 unused recovery codes left" in page
