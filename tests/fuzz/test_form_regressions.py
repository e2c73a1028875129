"""Defects the form fuzzing found (or that its findings pointed to), each pinned by a plain test."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Role
from tests.support.factories import make_user, vecs_case
from tests.web.helpers import login_as, text
from tests.web.test_construction_pages import form_fields


@pytest.mark.parametrize(("quarter", "status"), [(" ", 200), ("\r\n\r\n", 200), ("5", 400), ("²", 400)])
def test_a_blank_or_odd_quarter_in_the_public_filters_is_no_error(
    app: Flask, client: FlaskClient, quarter: str, status: int
) -> None:
    """Found by fuzzing: a blank quarter passed Optional() and reached int() (a 500 on a public page)."""
    response = client.get("/transparencia/obligaciones", query_string={"trimestre": quarter, "ejercicio": "2026"})
    assert response.status_code == status


def test_digits_int_cannot_read_are_refused(app: Flask, client: FlaskClient):
    """ "²" is a digit to str.isdigit() but not to int(): a hidden version or a year made of it was a 500."""
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    path = f"/expedientes/{case.case_id}/pasos/dro"
    page = text(client.get(path))
    data = {**form_fields(page, path), "dro_name": "Arq. Nueva", "dro_registration": "DRO-0100"}
    assert client.post(path, data={**data, "expected_version": "²"}).status_code == 422
    assert client.post(path, data={**data, "expected_version": "9" * 40}).status_code == 422
    admin = make_user(Role.ADMIN)
    other = app.test_client()
    login_as(other, admin)
    assert other.get("/admin/calendario", query_string={"anio": "²"}).status_code == 200
