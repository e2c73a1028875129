"""A user sees where their account is logged in and ends their other sessions, with the password given again
(ASVS 5.0 7.5.2): the page lists only the user's open sessions, ends only theirs, and logs what it ends."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Role, utcnow
from app.services.auth import live_sessions
from tests.security.helpers import cookie_session_id, events, replay, session_cookie, set_session_times
from tests.support.factories import PASSWORD, make_user
from tests.web.helpers import csrf_token, login_as, text

Browsers = Callable[[], FlaskClient]
PAGE = "/cuenta/sesiones"
END = "/cuenta/sesiones/cerrar"
LAPTOP = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"}


def _device(browsers: Browsers, user_id: int, headers: dict[str, str]) -> tuple[FlaskClient, int]:
    """A browser logged in as ``user_id``, and the number of its session."""
    client = browsers()
    client.environ_base["HTTP_USER_AGENT"] = headers["User-Agent"]  # every request, as a browser sends it
    login_as(client, user_id)
    db.session.rollback()
    token = cookie_session_id(client)
    assert token is not None
    return client, max(s.id for s in live_sessions(user_id))


def _rows(page: str) -> dict[int, str]:
    """The sessions listed: number → the row's text."""
    return {
        int(number): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
        for number, row in re.findall(r'<tr id="sesion-(\d+)">(.*?)</tr>', page, re.S)
    }


def _end(client: FlaskClient, page: str, session: int | None, password: str) -> tuple[int, str, str]:
    response = client.post(
        END,
        data={
            "csrf_token": csrf_token(page, END),
            "session": "" if session is None else str(session),
            "password": password,
        },
    )
    return response.status_code, response.headers.get("Location", ""), text(response)


def _logged_in(client: FlaskClient) -> bool:
    return client.get("/inicio").status_code == 200


def test_the_page_lists_the_users_open_sessions_this_one_first(app: Flask, browsers: Browsers) -> None:
    user_id, other = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    laptop, laptop_id = _device(browsers, user_id, LAPTOP)
    _, phone_id = _device(browsers, user_id, PHONE)
    idle, _ = _device(browsers, user_id, PHONE)
    _, others_id = _device(browsers, other, LAPTOP)
    idle_token = cookie_session_id(idle)
    assert idle_token is not None
    set_session_times(idle_token, last_seen_at=utcnow() - timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 1))
    page = text(laptop.get(PAGE))
    rows = _rows(page)
    assert list(rows) == [laptop_id, phone_id]  # this one first; the idle one and the other user's not listed
    assert "Firefox Linux" in rows[laptop_id]
    assert "(esta sesión)" in rows[laptop_id]
    assert "Chrome Android" in rows[phone_id]
    assert "(esta sesión)" not in rows[phone_id]
    assert others_id not in rows
    assert f'href="{PAGE}"' in page  # in the header of every logged-in page
    assert "esta sesión" not in text(browsers().get(PAGE))  # anonymous: to the login page


def test_ending_another_session_needs_the_password_and_ends_only_that_one(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.REVIEWER)
    laptop, _ = _device(browsers, user_id, LAPTOP)
    phone, phone_id = _device(browsers, user_id, PHONE)
    tablet, _ = _device(browsers, user_id, PHONE)
    captured = session_cookie(phone)
    page = text(laptop.get(PAGE))

    status, _, shown = _end(laptop, page, phone_id, "no es mi contraseña")
    assert status == 422
    assert "La contraseña no es correcta." in shown
    assert _logged_in(phone)
    assert events("login_failed")[-1].details.get("step") == "end_sessions"
    assert events("session_revoked") == []

    status, location, _ = _end(laptop, page, phone_id, PASSWORD)
    assert (status, location) == (302, PAGE)
    assert "Se cerró 1 sesión." in text(laptop.get(PAGE))
    assert not _logged_in(phone)
    assert replay(browsers(), captured).status_code == 302  # the captured cookie is useless
    assert _logged_in(laptop)
    assert _logged_in(tablet)
    revoked = events("session_revoked")[-1]
    assert (revoked.user_id, revoked.details) == (user_id, {"reason": "ended_by_user", "sessions": 1})

    again, _, shown = _end(laptop, page, phone_id, PASSWORD)  # already ended
    assert again == 404
    assert "Esa sesión no existe o ya terminó." in shown


def test_ending_all_the_others_keeps_this_one(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.APPLICANT)
    laptop, laptop_id = _device(browsers, user_id, LAPTOP)
    devices = [_device(browsers, user_id, PHONE)[0] for _ in range(3)]
    page = text(laptop.get(PAGE))
    assert 'id="cerrar-todas"' in page
    status, location, _ = _end(laptop, page, None, PASSWORD)
    assert (status, location) == (302, PAGE)
    after = text(laptop.get(PAGE))
    assert "Se cerraron 3 sesiones." in after
    assert list(_rows(after)) == [laptop_id]
    assert 'id="cerrar-todas"' not in after
    assert "No tiene otras sesiones abiertas." in after
    assert not any(_logged_in(device) for device in devices)
    assert _logged_in(laptop)


def test_another_users_session_and_this_one_cannot_be_ended_from_the_page(app: Flask, browsers: Browsers) -> None:
    user_id, victim = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    laptop, laptop_id = _device(browsers, user_id, LAPTOP)
    phone, _ = _device(browsers, user_id, PHONE)  # so that the page has forms
    theirs, theirs_id = _device(browsers, victim, PHONE)
    page = text(laptop.get(PAGE))
    for target in (theirs_id, laptop_id):
        status, _, shown = _end(laptop, page, target, PASSWORD)
        assert status == 404
        assert "Esa sesión no existe o ya terminó." in shown
    assert _logged_in(theirs)
    assert _logged_in(laptop)
    assert events("session_revoked") == []
    for bad in ("abc", "-1", "1" * 40):
        response = laptop.post(END, data={"csrf_token": csrf_token(page, END), "session": bad, "password": PASSWORD})
        assert response.status_code == 422
        assert "La sesión elegida no es válida." in text(response)
    assert _logged_in(theirs)
    assert _logged_in(phone)


def test_without_the_form_token_nothing_ends(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.APPLICANT)
    laptop, _ = _device(browsers, user_id, LAPTOP)
    phone, phone_id = _device(browsers, user_id, PHONE)
    response = laptop.post(END, data={"session": str(phone_id), "password": PASSWORD})
    assert response.status_code == 400
    assert _logged_in(phone)


def test_the_page_in_english(app: Flask, browsers: Browsers) -> None:
    user_id = make_user(Role.APPLICANT)
    laptop, _ = _device(browsers, user_id, LAPTOP)
    _device(browsers, user_id, PHONE)
    shown = text(laptop.get(PAGE))
    laptop.post("/language", data={"csrf_token": csrf_token(shown, "/language"), "locale": "en", "next": PAGE})
    page = text(laptop.get(PAGE))
    assert "Open sessions" in page
    assert "(this session)" in page
    assert "Close all other sessions" in page


def test_each_browser_is_named_as_its_owner_knows_it(app: Flask) -> None:
    from app.web.auth.support import user_agent_summary

    agents = {
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
        "Safari/537.36": "Chrome Android",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1": "Safari iPhone",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 Edg/131.0.0.0": "Edge Windows",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) Gecko/20100101 Firefox/133.0": "Firefox macOS",
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36": "Chrome ChromeOS",
        "curl/8.5.0": "curl",
        "un navegador desconocido": "un navegador desconocido",
        "": "?",
    }
    for agent, expected in agents.items():
        with app.test_request_context(headers={"User-Agent": agent}):
            assert user_agent_summary() == expected, agent
