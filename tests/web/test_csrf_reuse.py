"""The request's CSRF token is signed at most once a minute for a session (:mod:`forms.csrf`): the pages of one
session within a minute carry the same signed token, which the checks accept as before; a later page carries a
newly signed one; another session never gets it, and a token of one session is refused in another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask, g
from flask.testing import FlaskClient

import forms.csrf as csrf_tokens
from app.models import Role
from forms.csrf import REUSE_SECONDS, csrf_token
from tests.support.factories import make_user
from tests.web.helpers import hidden_value, login_as

START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def _logout_token(client: FlaskClient) -> str:
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    language = hidden_value(page, "csrf_token", "/language")
    logout = hidden_value(page, "csrf_token", "/logout")
    assert language == logout  # one token per request
    return logout


def test_pages_within_a_minute_share_the_token_and_a_later_page_gets_a_new_one(app: Flask, client: FlaskClient) -> None:
    with time_machine.travel(START, tick=False) as clock:
        login_as(client, make_user(Role.REVIEWER))
        first = _logout_token(client)
        clock.shift(timedelta(seconds=REUSE_SECONDS - 1))
        assert _logout_token(client) == first
        clock.shift(timedelta(seconds=1))
        later = _logout_token(client)
        assert later != first  # signed again, with the new time in it
        # the token signed first is still good (Flask-WTF's signature, within its time limit)
        assert client.post("/logout", data={"csrf_token": first}).status_code == 302


def test_a_reused_token_passes_the_check_and_a_token_of_another_session_does_not(
    app: Flask, client: FlaskClient
) -> None:
    other = app.test_client()
    login_as(client, make_user(Role.REVIEWER))
    login_as(other, make_user(Role.REVIEWER))
    mine = _logout_token(client)
    assert _logout_token(client) == mine
    theirs = _logout_token(other)
    assert theirs != mine  # each session its own secret, so its own signed token
    refused = other.post("/logout", data={"csrf_token": mine})
    assert refused.status_code == 400
    assert "/logout" in other.get("/", follow_redirects=True).get_data(as_text=True)  # still logged in
    accepted = client.post("/logout", data={"csrf_token": mine})
    assert accepted.status_code == 302
    assert "/logout" not in client.get("/", follow_redirects=True).get_data(as_text=True)  # logged out


def test_the_token_is_kept_where_flask_wtf_keeps_it_and_a_clock_set_back_signs_again(app: Flask) -> None:
    csrf_tokens._SIGNED.clear()
    with time_machine.travel(START, tick=False) as clock:
        with app.app_context(), app.test_request_context("/") as context:
            token = csrf_token()
            assert g.csrf_token == token
            assert csrf_token() == token
            secret = context.session["csrf_token"]
        with app.app_context(), app.test_request_context("/") as context:
            assert "csrf_token" not in g
            fresh = csrf_token()  # a new session (no secret yet): its own secret and token
            assert fresh != token
        with app.app_context(), app.test_request_context("/") as context:
            context.session["csrf_token"] = secret
            assert csrf_token() == token  # the same session's secret within the minute: the same token
        clock.shift(timedelta(seconds=-REUSE_SECONDS))
        with app.app_context(), app.test_request_context("/") as context:
            context.session["csrf_token"] = secret
            assert csrf_token() != token  # never a signature from what is now the future


def test_a_short_time_limit_shortens_the_reuse_to_a_sixtieth_of_it(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 600)  # ten minutes: a token is reused for ten seconds
    with time_machine.travel(START, tick=False) as clock:
        login_as(client, make_user(Role.REVIEWER))
        first = _logout_token(client)
        clock.shift(timedelta(seconds=9))
        assert _logout_token(client) == first
        clock.shift(timedelta(seconds=1))
        assert _logout_token(client) != first
        assert client.post("/logout", data={"csrf_token": first}).status_code == 302  # still within its limit
    for limit, window in ((None, REUSE_SECONDS), (3600, REUSE_SECONDS), (60, 1), (0, 0), ("x", 0)):
        assert csrf_tokens._reuse_seconds(limit) == window
