"""The CSRF token of a case's action forms is signed when a form is shown, not when it is built: a POST that
succeeds only validates its form. The token is still checked on every POST, and a form shown again after a
refusal carries a token that the next POST accepts."""

from __future__ import annotations

from flask import Flask, g
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from forms.cases import action_form
from tests.web.helpers import clerk_at_intake, flashes, hidden_value, text

FIELDS = ("start_intake-csrf_token", "start_intake-expected_version", "start_intake-idempotency_key")


def test_a_posted_form_signs_no_token_until_it_is_shown(app: Flask) -> None:
    posted = {"start_intake-expected_version": "3", "start_intake-idempotency_key": "k" * 32}
    with app.test_request_context("/", method="POST", data=posted):
        form = action_form("start_intake", (), comment_required=False)
        assert "csrf_token" not in g  # nothing signed for a form that is only read
        assert form.csrf_token.data is None  # no token was posted: the form itself refuses it
        assert not form.validate()
        assert form.csrf_token.errors
        shown = str(form.csrf_token)
        assert f'value="{generate_csrf()}"' in shown  # shown: the request's token, signed once
        assert form.expected_version.label.text == "Expected Version"  # as WTForms names an unlabelled field
        assert form.csrf_token.type == "CSRFTokenField"  # templates leave it out of the inputs they list


def test_a_blank_form_shows_the_token_of_the_request(app: Flask) -> None:
    with app.test_request_context("/"):
        form = action_form("start_intake", (), comment_required=False, formdata=None)
        token = generate_csrf()
        assert f'value="{token}"' in form.hidden_tag()
        other = action_form("start_intake", (), comment_required=False, formdata=None)
        assert f'value="{token}"' in str(other.csrf_token)


def test_the_posted_token_is_checked_and_a_refused_form_comes_back_with_a_token_that_works(
    app: Flask, client: FlaskClient
) -> None:
    case_id, action, data = clerk_at_intake(client)

    forged = {**data, "start_intake-csrf_token": "not-a-token"}
    assert client.post(action, data=forged).status_code == 400

    tampered = {**data, "start_intake-expected_version": "x"}
    refused = client.post(action, data=tampered)
    assert refused.status_code == 422
    assert "El formulario llegó incompleto; envíelo de nuevo." in flashes(refused)
    again = {name: hidden_value(text(refused), name, action) for name in FIELDS}
    assert again["start_intake-csrf_token"]
    # shown back at the case's version with a fresh key: sent again as it is, it acts
    assert again["start_intake-expected_version"] == data["start_intake-expected_version"]
    assert again["start_intake-idempotency_key"] != data["start_intake-idempotency_key"]
    answer = client.post(action, data=again)
    assert answer.status_code == 302, answer.status_code
    assert answer.headers["Location"].endswith(f"/expedientes/{case_id}")
