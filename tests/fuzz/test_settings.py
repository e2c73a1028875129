"""Fuzzing the settings of every installed procedure: the service (``update_config``) with any JSON value for
every setting, and the administrator's settings form with hostile text in every field (the JSON ones with
mutated, deeply nested and ambiguous JSON).

Properties: the service raises nothing but ``DomainError`` and what it accepts reads back as accepted (a
second, identical change is accepted too); the form answers with a page or a redirect, never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from app.engine import DomainError
from app.models import Role
from app.services.config import current_params, update_config
from tests.fuzz.profiles import fuzz
from tests.fuzz.strategies import JSON, near
from tests.fuzz.test_web_forms import submissions
from tests.support.factories import make_user
from tests.support.html_forms import Form, parse_page
from tests.web.helpers import login_as
from workflows import REGISTRY

SETTINGS = [(procedure.name, key) for procedure in REGISTRY for key in procedure.latest.params]


def test_every_setting_takes_any_json_value_or_refuses_it_clearly(app: Flask):
    admin = make_user(Role.ADMIN)
    accepted = refused = 0

    @fuzz(60, deadline_seconds=20)
    @given(st.sampled_from(SETTINGS), st.data())
    def change(setting: tuple[str, str], data: st.DataObject) -> None:
        nonlocal accepted, refused
        name, key = setting
        default = REGISTRY.get(name).latest.params[key]  # not the current value: draws must not depend on state
        value: Any = data.draw(st.one_of(near(default), JSON), label="value")
        try:
            update_config(name, {key: value}, admin)
        except DomainError:
            refused += 1
            return
        accepted += 1
        stored = current_params(name)[key]
        update_config(name, {key: stored}, admin)  # what was kept is itself acceptable

    change()
    assert refused > 0


@pytest.fixture
def settings_forms(app: Flask, client: FlaskClient) -> list[Form]:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    forms = []
    for procedure in REGISTRY:
        path = f"/admin/tramites/{procedure.name}"
        page = client.get(path)
        assert page.status_code == 200
        forms += [form for form in parse_page(page.get_data(as_text=True), path).forms if form.action == path]
    assert len(forms) == len(REGISTRY)
    return forms


def test_the_settings_forms_never_give_a_server_error(client: FlaskClient, settings_forms: list[Form]):
    @fuzz(50, deadline_seconds=20)
    @given(submissions(settings_forms))
    def submit(sample: tuple[Form, dict[str, Any], str]) -> None:
        form, data, _address = sample
        response = client.post(form.action, data=data)
        assert response.status_code < 500, (form.action, response.status_code)

    submit()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5_000 + "]" * 5_000, "demasiados niveles"),  # RecursionError in the reader: was a 500
        ('{"a":' * 40 + "1" + "}" * 40, "demasiados niveles"),  # readable, but deeper than any setting
        ('{"electronic": NaN}', "No es JSON válido"),
    ],
)
def test_json_settings_that_cannot_be_read_safely_are_refused_clearly(
    client: FlaskClient, settings_forms: list[Form], text: str, message: str
) -> None:
    """Found by fuzzing the settings form: deeply nested JSON in a JSON setting gave a 500."""
    tried = 0
    for form in settings_forms:
        shown = {name: values[0] for name, values in form.fields.items() if values}
        for name, value in shown.items():
            if value.strip()[:1] not in ("{", "["):
                continue
            response = client.post(form.action, data={**shown, name: text})
            assert response.status_code == 422, (form.action, name, response.status_code)
            assert message in response.get_data(as_text=True)
            tried += 1
    assert tried >= 2


def test_numbers_with_hundreds_of_digits_are_refused_clearly(client: FlaskClient, settings_forms: list[Form]):
    """Found by fuzzing: a 400-digit number in a whole-number field reached NumberRange, whose float
    conversion overflowed (a 500 on the settings form; the same field type is used by other forms)."""
    form = next(form for form in settings_forms if "response_days" in form.fields)
    shown = {name: values[0] for name, values in form.fields.items() if values}
    for number in ("9" * 400, "-" + "9" * 400, "9" * 16):
        response = client.post(form.action, data={**shown, "response_days": number})
        assert response.status_code == 422, response.status_code
        assert "Escriba un número entero" in response.get_data(as_text=True)
    query = {"ejercicio": "9" * 400}
    assert client.get("/transparencia/obligaciones", query_string=query).status_code < 500
