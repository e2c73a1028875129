"""Ids and sequence numbers in URLs are bounded to what a record can have: a larger number is a page that does
not exist (404), never a server error (SQLite refuses to bind an integer past 64 bits)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.models import Role
from app.web.urls import MAX_ID, RecordIdConverter, _id_parts, record_id
from tests.support.factories import make_user
from tests.web.helpers import login_as

TOO_LARGE = (MAX_ID + 1, 2**63, 2**64, 10**40)


def _int_rules(app: Flask) -> list[Rule]:
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if any(type(rule._converters[name]) is RecordIdConverter for name in rule.arguments)
    ]
    assert len(rules) > 20  # cases, documents, certificates, oversight, admin, transparency…
    return rules


def _path(rule: Rule, number: int) -> str:
    """``rule``'s path with ``number`` for every integer part and a plausible word for the others."""
    path = rule.rule
    for name in rule.arguments:
        value = str(number) if type(rule._converters[name]) is RecordIdConverter else "x"
        path = re.sub(rf"<[^>]*\b{name}>", value, path)
    return path


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_numbers_no_record_can_have_are_not_found(app: Flask, client: FlaskClient, who: str) -> None:
    if who == "admin":
        login_as(client, make_user(Role.ADMIN, Role.REVIEWER, Role.AUDITOR))
    for rule in _int_rules(app):
        for number in TOO_LARGE:
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(_path(rule, number), method=method)
                response.close()
                assert response.status_code == 404, (method, rule.rule, number, response.status_code)


def test_the_largest_id_reaches_the_page_and_is_not_found_there(app: Flask, client: FlaskClient) -> None:
    login_as(client, make_user(Role.ADMIN, Role.REVIEWER, Role.AUDITOR))
    for path in (f"/expedientes/{MAX_ID}", f"/supervision/entradas/{MAX_ID}", f"/expedientes/{MAX_ID}/documentos"):
        response = client.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)


def test_lists_still_write_their_links_without_matching_each(app: Flask) -> None:
    with app.test_request_context("/"):
        assert _id_parts("cases.show", "case_id") == ("/expedientes/", "")


def test_a_record_id_in_a_query_string_is_ascii_digits_within_the_bound() -> None:
    assert [record_id(raw) for raw in ("1", " 42 ", str(MAX_ID))] == [1, 42, MAX_ID]
    for raw in ("", " ", "0", "-1", "+1", "1.0", "1_000", "١٢٣", "²", "abc", str(MAX_ID + 1), "9" * 400):
        with pytest.raises(ValueError, match="not a record id"):
            record_id(raw)


@pytest.mark.parametrize(
    ("path", "role"),
    [("/admin/datos-personales", Role.ADMIN), ("/transparencia/comite", Role.TRANSPARENCY_UNIT)],
)
def test_a_list_cursor_no_record_can_have_shows_the_first_page(
    app: Flask, client: FlaskClient, path: str, role: Role
) -> None:
    """The lists paged by ``?antes=<id>`` (the data-protection requests, the committee's sessions) take a number
    no record can have, or one written otherwise than in plain digits, as no cursor: their first page. A number
    past 64 bits was a server error on SQLite, which cannot bind it."""
    login_as(client, make_user(role))
    for raw in [*map(str, TOO_LARGE), "-1", "0", "١٢٣", "1_0", "abc"]:
        response = client.get(path, query_string={"antes": raw})
        response.close()
        assert response.status_code == 200, (path, raw, response.status_code)
    assert client.get(path, query_string={"antes": "5"}).status_code == 200  # a cursor within the bound pages
