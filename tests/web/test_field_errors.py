"""A field's error messages are tied to its input for assistive technology: the input carries
``aria-invalid="true"`` and ``aria-describedby`` naming the ids of the elements holding its messages (a group of
options, its ``fieldset``), each message with an id of its own that nothing else on the page carries."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from wtforms import Form, StringField
from wtforms.validators import DataRequired, Length

from app.web.field_errors import error_ids, field_errors, invalid
from tests.web.helpers import csrf_token, hidden_value


class _Page(HTMLParser):
    """The page's ids, its error messages by id (and those without one), and what each element that says it
    is invalid or points to descriptions names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.errors: dict[str | None, str] = {}
        self.unnamed_errors: list[str] = []
        self.described: list[tuple[str, str | None, list[str]]] = []
        """(tag, name or id, the ids its ``aria-describedby`` names) of the elements naming descriptions."""
        self.invalid: list[tuple[str, str | None]] = []
        self._error: str | None = None
        self._error_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[str(values["id"])] += 1
        named = values.get("name") or values.get("id")
        if values.get("aria-describedby"):
            self.described.append((tag, named, str(values["aria-describedby"]).split()))
        if values.get("aria-invalid") == "true":
            self.invalid.append((tag, named))
        if tag == "p" and "error" in (values.get("class") or "").split():
            self._error, self._error_text = values.get("id"), []

    def handle_data(self, data: str) -> None:
        if self._error_text is not None:
            self._error_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._error_text is not None:
            message = "".join(self._error_text).strip()
            if self._error:
                self.errors[self._error] = message
            else:
                self.unnamed_errors.append(message)
            self._error, self._error_text = None, None


def _tied(response: TestResponse) -> dict[str, list[str]]:
    """The error messages of the page by the name of the field they describe, after checking that every
    message has a unique id that exactly one element names, and that every invalid input names its messages."""
    page = _Page()
    page.feed(response.get_data(as_text=True))
    assert page.errors or page.unnamed_errors, "the page shows no error under a field"
    assert not page.unnamed_errors, f"error messages without an id: {page.unnamed_errors}"
    assert [i for i, n in page.ids.items() if n > 1] == []
    named = Counter(i for _, _, ids in page.described for i in ids if i in page.errors)
    assert set(named) == set(page.errors), f"messages no element names: {set(page.errors) - set(named)}"
    assert [i for i, n in named.items() if n > 1] == []
    described = {name: ids for tag, name, ids in page.described if tag != "fieldset"}
    for tag, name in page.invalid:
        assert name in described, f"the invalid {tag} {name!r} names no message"
        assert all(i in page.errors for i in described[name]), (name, described[name])
    for tag, name, ids in page.described:
        if tag in ("input", "textarea", "select") and any(i in page.errors for i in ids):
            assert (tag, name) in page.invalid, f"the {tag} {name!r} has messages but is not marked invalid"
    return {str(name): [page.errors[i] for i in ids if i in page.errors] for _, name, ids in page.described}


def test_the_login_form_sent_empty_ties_each_message_to_its_input(client: FlaskClient) -> None:
    body = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"csrf_token": csrf_token(body), "next": hidden_value(body, "next", "/login"), "email": ""}
    )
    tied = _tied(response)
    assert set(tied) == {"email", "password"}
    assert all(tied.values())


def test_the_registration_form_ties_each_message_to_its_input(client: FlaskClient) -> None:
    body = client.get("/registro").get_data(as_text=True)
    response = client.post(
        "/registro",
        data={
            "csrf_token": csrf_token(body, "/registro"),
            "display_name": "",
            "email": "no es un correo",
            "password": "x",
            "confirm": "y",
        },
    )
    tied = _tied(response)
    assert {"display_name", "email", "password"} <= set(tied)
    assert all(tied.values())


def test_the_access_request_form_ties_its_messages_to_inputs_and_to_the_group_of_options(client: FlaskClient) -> None:
    body = client.get("/transparencia/solicitar").get_data(as_text=True)
    response = client.post(
        "/transparencia/solicitar",
        data={
            "csrf_token": csrf_token(body, "/transparencia/solicitar"),
            "filing_key": hidden_value(body, "filing_key", "/transparencia/solicitar"),
            "pseudonym": "",
            "email": "",
            "information_requested": "",
        },
    )
    assert response.status_code == 422
    page = _Page()
    page.feed(response.get_data(as_text=True))
    # the delivery format is a group of radio buttons: its fieldset names the message
    assert [(name, ids) for tag, name, ids in page.described if tag == "fieldset"] == [
        (None, ["delivery_format-error"])
    ]
    tied = _tied(response)
    assert {"pseudonym", "email", "information_requested"} <= set(tied)
    assert all(tied.values())


def test_the_verification_lookup_ties_its_messages(client: FlaskClient) -> None:
    tied = _tied(client.get("/verificar", query_string={"folio": "", "codigo": ""}))
    assert {"folio", "codigo"} <= set(tied)


class _Sample(Form):
    name = StringField("Nombre", validators=[DataRequired(), Length(min=3)])


def test_each_message_of_a_field_has_an_id_of_its_own_and_the_input_names_them_all(app: Flask) -> None:
    form = _Sample(data={"name": ""})
    form.validate()
    form.name.errors = [*form.name.errors, "Otro <motivo>"]
    assert error_ids(form.name) == ["name-error", "name-error-2"]
    assert invalid(form.name) == {"aria-invalid": "true", "aria-describedby": "name-error name-error-2"}
    shown = str(field_errors(form.name))
    assert shown.startswith('<p class="error" id="name-error">')
    assert shown.endswith('<p class="error" id="name-error-2">Otro &lt;motivo&gt;</p>')
    # a field shown under an id of its own (the same form twice on a page) names its messages after that id
    assert invalid(form.name, "other-name")["aria-describedby"] == "other-name-error other-name-error-2"
    assert 'id="other-name-error"' in str(field_errors(form.name, "other-name"))
    clean = _Sample(data={"name": "Ana"})
    clean.validate()
    assert (error_ids(clean.name), invalid(clean.name), str(field_errors(clean.name))) == ([], {}, "")
