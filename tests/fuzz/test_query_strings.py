"""Hostile values in every query-string parameter every page reads, found by watching the pages read them, and in
every word of every address.

The form fuzzer (``test_web_forms.py``) sends what the pages' forms offer. A page also reads parameters no form
shows: a list's cursor in its "older" link (``?antes=<id>``), a proof's sizes, an export's options. Those links
appear only when there is more than a page to show, so a crawl of the demo never finds them. Here the pages
tell which parameters they read: the request's ``args`` record every name looked up. Every GET route is
opened as each persona of the demo (its URL variables filled with the demo's records), then each parameter
a page read is sent again with each hostile value, alone, by the first persona that read it, and with the values
that broke pages before by every other persona that read it. Then every route whose address has a word in it (a
tracking token, a format's code, a step's name, a document's digest) is opened with each hostile value as that
word, as each persona.

Property: no answer is a server error (a refusal, a translated error or the first page are all fine). A number
past 64 bits in ``?antes=`` was one, on both databases, and so was a NUL in a format's code in the address, on
PostgreSQL. Both databases are tried: each refuses other values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Rule

from app.extensions import db
from app.keys import init_development_keys
from app.services.demo import DEMO_DOMAIN, DEMO_PASSWORD, load_demo
from tests.conftest import IsolatedClient
from tests.web.helpers import login

PERSONAS = ("", "solicitante", "ventanilla", "dictaminador", "transparencia", "comite", "garante", "auditor", "admin")
"""The demo's logins who open every page ("": anonymous)."""

HOSTILE = (
    "99999999999999999999999",
    str(2**63),
    "-1",
    "0",
    "١٢٣",
    "²",
    "1_000",
    "a\x00b",
    "9" * 400,
    "2026-02-30",
    "x" * 5_000,
    "",
)
"""Each sent alone, in each parameter a page read."""

KNOWN_BREAKERS = ("99999999999999999999999", str(2**63), "a\x00b")
"""The values that gave server errors before (a number past 64 bits, a NUL): sent by every persona that reads a
parameter, where the first one sends all of :data:`HOSTILE`."""

RECORDS = {
    "case_id": "SELECT id FROM cases ORDER BY id",
    "seq": "SELECT max(seq) FROM audit_entries",
    "certificate_id": "SELECT id FROM certificates ORDER BY id",
    "document_id": "SELECT id FROM documents ORDER BY id",
    "request_id": "SELECT id FROM personal_data_requests ORDER BY id",
    "session_id": "SELECT id FROM committee_sessions ORDER BY id",
}
"""A demo record for each integer variable of the routes (others get 1: a page that does not exist)."""

_READ: set[str] = set()


class _RecordingArgs(ImmutableMultiDict[str, str]):
    """A query string that notes every name looked up in it."""

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:
        _READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key: str, type: Any = None) -> Any:
        _READ.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key: str) -> str:
        _READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            _READ.add(key)
        return super().__contains__(key)


def _path(rule: Rule, records: dict[str, int], word: str = "x") -> str:
    """``rule``'s address with a demo record for each integer part and ``word`` (URL-quoted) for the others."""
    path = rule.rule
    for name in rule.arguments:
        integer = isinstance(rule._converters[name], IntegerConverter)
        value = str(records.get(name, 1)) if integer else quote(word, safe="")
        path = re.sub(rf"<[^>]*\b{name}>", value, path)  # whatever the converter; a quoted value has no backslash
    assert "<" not in path, (rule.rule, path)  # an argument left unfilled would test a page that never matches
    return path


def test_hostile_values_in_every_parameter_and_address_part_a_page_reads_never_give_a_server_error(
    app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    init_development_keys(tmp_path / "keys", "Municipio de Ejemplo")
    app.config["KEYS_DIR"] = str(tmp_path / "keys")
    app.config["RATELIMIT_ENABLED"] = False
    load_demo()
    with db.engine.connect() as connection:
        records = {name: connection.execute(text(sql)).scalar() for name, sql in RECORDS.items()}
    db.session.remove()
    monkeypatch.setattr(app, "request_class", type("RecordingRequest", (app.request_class,), {}))
    monkeypatch.setattr(app.request_class, "parameter_storage_class", _RecordingArgs)
    app.test_client_class = IsolatedClient
    rules = sorted(
        (rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ()) and rule.endpoint != "static"),
        key=lambda rule: rule.rule,
    )
    found_records = {k: v for k, v in records.items() if v is not None}
    paths = [_path(rule, found_records) for rule in rules]
    read: dict[tuple[str, str], set[str]] = {}
    clients: dict[str, FlaskClient] = {}
    for persona in PERSONAS:
        client = clients[persona] = app.test_client()
        if persona:
            assert login(client, f"{persona}@{DEMO_DOMAIN}", DEMO_PASSWORD).status_code == 302, persona
        for path in paths:
            _READ.clear()
            response = client.get(path)
            response.close()
            assert response.status_code < 500, (persona, path, response.status_code)
            if _READ:
                read[(persona, path)] = set(_READ)
    names = {name for found in read.values() for name in found}
    # the oversight's filters, a list's cursor, the proofs' sizes and the public lookups are among them
    assert {"antes", "folio", "tree_size", "ejercicio"} <= names, sorted(names)
    tried: set[tuple[str, str]] = set()
    for (persona, path), found in read.items():
        for name in sorted(found):
            # every value by the first persona that reads it; the others (the same parsing, mostly) send those
            # that broke a page before
            values = KNOWN_BREAKERS if (path, name) in tried else HOSTILE
            tried.add((path, name))
            for value in values:
                response = clients[persona].get(path, query_string={name: value})
                response.close()
                assert response.status_code < 500, (persona, path, name, value[:40], response.status_code)
    # the address's own words (a tracking token, a format's code, a step, a document's digest…), each persona
    worded = [
        rule for rule in rules if any(not isinstance(rule._converters[n], IntegerConverter) for n in rule.arguments)
    ]
    assert len(worded) >= 10, [rule.rule for rule in worded]
    for rule in worded:
        for value in filter(None, HOSTILE):
            path = _path(rule, found_records, value)
            for persona, client in clients.items():
                response = client.get(path)
                response.close()
                assert response.status_code < 500, (persona, rule.rule, value[:40], response.status_code)
