"""Every state-changing request needs the CSRF token: generated over every POST route of the application.

A user holding every role (so that no access rule answers first) posts to each route without a token; each
must answer 400 with the translated page, and nothing may be written. A new POST route is covered
automatically.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing.converters import NumberConverter

from app.extensions import db
from app.models import AuditEntry, OutboxMessage, Role
from tests.support.factories import make_user
from tests.web.helpers import login_as, text

EVERY_ROLE = tuple(role for role in Role if role is not Role.APPLICANT)


def _post_urls(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        values: dict[str, object] = {
            name: 1 if isinstance(converter, NumberConverter) else "x" for name, converter in rule._converters.items()
        }
        urls.append(rule.build(values, append_unknown=False)[1])
    return sorted(set(urls))


def _written() -> tuple[int, int]:
    db.session.rollback()
    return (
        db.session.scalars(select(func.count()).select_from(AuditEntry)).one(),
        db.session.scalars(select(func.count()).select_from(OutboxMessage)).one(),
    )


def test_every_post_route_refuses_a_request_without_its_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(Role.APPLICANT, *EVERY_ROLE, name="Persona Con Todos Los Roles")
    login_as(client, user)
    urls = _post_urls(app)
    assert len(urls) >= 30, urls  # the application's forms, not a handful
    before = _written()
    refused = {}
    for url in urls:
        response = client.post(url, data={"comment": "sin token"}, headers={"Accept-Language": "es-MX"})
        refused[url] = response.status_code
        if response.status_code == 400:
            body = text(response)
            assert "Traceback" not in body
            assert "<h1>" in body, url
    assert {url: code for url, code in refused.items() if code != 400} == {}
    assert _written() == before
