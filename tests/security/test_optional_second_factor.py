"""A second factor any account may turn on (ASVS 5.0 6.3.3): a requester or an applicant turns it on from
``/cuenta/verificacion`` with the password and a code of the app, logs in with it from then on, and turns it off
with the password and a code; staff, whose roles oblige them to one, cannot turn it off. The account's address is
told each time (a real SMTP server)."""

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
from app.models import Role, TotpCredential
from app.services import auth
from tests.security.conftest import FACTOR_START
from tests.security.helpers import events
from tests.security.test_second_factor_change import (
    CODES,
    PAGE,
    _mail,
    _signed_in_with_factor,
    csrf_token_named,
)
from tests.support.factories import PASSWORD, email_of, make_user
from tests.support.smtp import Mailbox
from tests.web.helpers import csrf_token, flashes, login, session_user_id, set_language, text

Browsers = Callable[[], FlaskClient]
ENABLE = "/cuenta/verificacion/activar"
REMOVE = "/cuenta/verificacion/desactivar"
NEW = "/cuenta/verificacion/nueva"
VERIFY = "/login/verificacion"
START = FACTOR_START


@pytest.fixture(autouse=True)
def second_factor_required(app: Flask) -> None:
    app.config["STAFF_TOTP_REQUIRED"] = True


def _post(client: FlaskClient, action: str, prefix: str, **fields: str):
    token = csrf_token_named(text(client.get(PAGE)), f"{prefix}-csrf_token")
    return client.post(action, data={f"{prefix}-csrf_token": token, **{f"{prefix}-{k}": v for k, v in fields.items()}})


def _turn_on(client: FlaskClient, at: datetime) -> tuple[pyotp.TOTP, list[str]]:
    """Turn the second factor on from the account's page; its app and recovery codes."""
    started = _post(client, ENABLE, "activar", password=PASSWORD)
    assert (started.status_code, started.headers["Location"]) == (302, NEW)
    shown = client.get(NEW)
    assert shown.headers["Cache-Control"] == "no-store"
    assert "<h1>Activar la verificación en dos pasos</h1>" in text(shown)
    assert "Cancelar: seguir sin verificación en dos pasos" in text(shown)
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', text(shown))
    assert match is not None
    app = pyotp.TOTP(match.group(1).replace(" ", ""))
    done = client.post(NEW, data={"csrf_token": csrf_token(text(shown), NEW), "code": app.at(at)})
    assert done.status_code == 200, text(done)
    return app, CODES.findall(text(done))


def test_an_applicant_turns_the_second_factor_on_logs_in_with_it_and_turns_it_off(
    app: Flask, browsers: Browsers, mailbox: Mailbox, factor_clock: time_machine.Coordinates
) -> None:
    applicant = make_user(Role.APPLICANT, name="Lucía Solicitante")
    here, elsewhere = browsers(), browsers()
    assert login(here, email_of(applicant)).headers["Location"] != VERIFY  # the password alone, so far
    assert login(elsewhere, email_of(applicant)).status_code == 302
    page = text(here.get(PAGE))
    assert "Su cuenta no usa la verificación en dos pasos" in page
    assert 'href="/cuenta/verificacion"' in text(here.get("/inicio"))  # the header's link, for everyone

    wrong = _post(here, ENABLE, "activar", password="no es la contraseña")
    assert wrong.status_code == 422
    assert "La contraseña no es correcta." in text(wrong)
    assert events("login_failed")[-1].details == {"step": "second_factor_change"}
    assert db.session.get(TotpCredential, applicant) is None
    assert here.get(NEW).headers["Location"] == PAGE  # nothing begun

    factor_clock.shift(30)
    now = START + timedelta(seconds=30)
    totp, codes = _turn_on(here, now)
    assert len(set(codes)) == 10
    db.session.rollback()
    assert auth.totp_status(applicant) == auth.TotpStatus.CONFIRMED
    assert events("totp_enrolled")[-1].details == {"change": "enabled", "sessions_ended": 1}
    assert elsewhere.get("/inicio").status_code == 302  # the other session ended
    assert here.get("/inicio").status_code == 200  # this one stays
    assert _mail(mailbox) == ["[Municipio de Ejemplo] Se activó la verificación en dos pasos de su cuenta"]

    # from now on the password alone is not enough
    later = browsers()
    assert login(later, email_of(applicant)).headers["Location"] == VERIFY
    assert session_user_id(later) is None
    factor_clock.shift(30)
    now += timedelta(seconds=30)
    step = later.post(VERIFY, data={"csrf_token": csrf_token(text(later.get(VERIFY)), VERIFY), "code": totp.at(now)})
    assert step.status_code == 302
    assert session_user_id(later) == str(applicant)

    page = text(here.get(PAGE))
    assert "Activa desde" in page
    assert "Desactivar la verificación en dos pasos" in page
    factor_clock.shift(30)
    now += timedelta(seconds=30)
    refused = _post(here, REMOVE, "desactivar", password=PASSWORD, code="000000" if totp.at(now) != "000000" else "1")
    assert refused.status_code == 422
    assert "El código no es correcto o ya se usó" in text(refused)
    assert auth.totp_status(applicant) == auth.TotpStatus.CONFIRMED
    removed = _post(here, REMOVE, "desactivar", password=PASSWORD, code=codes[0])  # a recovery code serves too
    assert (removed.status_code, removed.headers["Location"]) == (302, PAGE)
    assert "Se desactivó la verificación en dos pasos de su cuenta." in flashes(here.get(PAGE))
    db.session.rollback()
    assert auth.totp_status(applicant) == auth.TotpStatus.NONE
    assert events("second_factor_reset")[-1].details == {"by": applicant}
    assert _mail(mailbox) == ["[Municipio de Ejemplo] Se desactivó la verificación en dos pasos de su cuenta"]
    assert login(browsers(), email_of(applicant)).headers["Location"] != VERIFY  # the password alone again
    assert not auth.verify_second_factor(applicant, totp.at(now + timedelta(seconds=30)))


def test_staff_cannot_turn_off_the_second_factor_their_roles_oblige_them_to(
    app: Flask, browsers: Browsers, factor_clock: time_machine.Coordinates
) -> None:
    staff, client, totp = _signed_in_with_factor(browsers, factor_clock, Role.REVIEWER)
    page = text(client.get(PAGE))
    assert "Desactivar la verificación en dos pasos" not in page
    assert "pida a un administrador que quite su segundo factor" in page
    factor_clock.shift(30)
    now = START + timedelta(seconds=60)
    token = csrf_token_named(page, "codigos-csrf_token")  # any of the page's tokens serves this session
    forged = client.post(
        REMOVE,
        data={"desactivar-csrf_token": token, "desactivar-password": PASSWORD, "desactivar-code": totp.at(now)},
    )
    assert forged.status_code == 422
    assert "Su función en el municipio exige la verificación en dos pasos." in flashes(forged)
    assert auth.totp_status(staff) == auth.TotpStatus.CONFIRMED
    with pytest.raises(NotAllowed):
        auth.remove_second_factor(staff, PASSWORD, totp.at(now + timedelta(seconds=30)))


def test_turning_on_is_refused_once_on_and_lapses_like_a_change_of_app(
    app: Flask, browsers: Browsers, factor_clock: time_machine.Coordinates
) -> None:
    applicant = make_user(Role.APPLICANT)
    sealed = auth.begin_second_factor(applicant, PASSWORD, now=START)
    assert auth.pending_second_factor(applicant, sealed, now=START) is not None
    other = make_user(Role.APPLICANT)
    assert auth.pending_second_factor(other, sealed, now=START) is None  # another account's
    late = START + auth.SECOND_FACTOR_CHANGE_TTL + timedelta(seconds=1)
    assert auth.pending_second_factor(applicant, sealed, now=late) is None
    secret = auth.pending_second_factor(applicant, sealed, now=START)
    assert secret is not None
    totp = pyotp.TOTP(secret.secret)
    with pytest.raises(NotAllowed):
        auth.confirm_second_factor_change(applicant, sealed, totp.at(late), "", now=late)
    auth.confirm_second_factor_change(applicant, sealed, totp.at(START), "", now=START)
    with pytest.raises(NotAllowed):  # spent: the account now has a factor it does not replace
        auth.confirm_second_factor_change(applicant, sealed, totp.at(START), "", now=START)
    with pytest.raises(NotAllowed):
        auth.begin_second_factor(applicant, PASSWORD, now=START)


def test_the_page_in_english(app: Flask, browsers: Browsers) -> None:
    client = browsers()
    login(client, email_of(make_user(Role.APPLICANT)))
    set_language(client, "en", PAGE)
    page = text(client.get(PAGE))
    assert "Your account does not use two-step verification" in page
    assert "Turn on two-step verification" in page
