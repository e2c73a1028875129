"""The privacy notice pages and the administrators' data-protection (ARCO) pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.calendar import local_today
from app.extensions import db
from app.models import AuditEntry, Role, User
from app.models.personal_data import DataRequestStatus, PersonalDataRequest
from app.services.deadlines import calendar
from tests.support.factories import email_of, make_user
from tests.web.helpers import csrf_token, field_errors, flashes, hidden_value, login_as, set_language, text

BASE = "/admin/datos-personales"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, ("Aviso de privacidad integral", "Derechos ARCO", "Transferencias", "Fundamento legal", "Cambios")),
        ({"Accept-Language": "en"}, ("Full privacy notice", "ARCO rights", "Transfers", "Legal basis", "Changes")),
    ],
    ids=["es", "en"],
)
def test_the_privacy_notice_is_public_and_complete(
    client: FlaskClient, headers: dict[str, str], expected: tuple[str, ...]
) -> None:
    response = client.get("/aviso-de-privacidad", headers=headers)
    assert response.status_code == 200
    body = text(response)
    for part in expected:
        assert part in body, part
    assert "Municipio de Ejemplo" in body
    assert "20" in body  # the response term in business days
    short = client.get("/aviso-de-privacidad/simplificado", headers=headers)
    assert short.status_code == 200
    assert 'href="/aviso-de-privacidad"' in short.get_data(as_text=True)


def test_the_notice_is_linked_from_every_page_and_from_registration(client: FlaskClient) -> None:
    for path in ("/login", "/registro", "/no-existe"):
        assert 'href="/aviso-de-privacidad"' in client.get(path).get_data(as_text=True), path
    assert text(client.get("/registro")).count('href="/aviso-de-privacidad"') == 2  # footer and the form
    for form in ("/transparencia/solicitar",):  # request forms show the simplified notice
        page = client.get(form)
        assert page.status_code == 200, form
        assert 'href="/aviso-de-privacidad/simplificado"' in page.get_data(as_text=True), form


def test_only_administrators_reach_the_requests(app: Flask, client: FlaskClient) -> None:
    assert client.get(BASE).status_code == 302  # to the login page
    login_as(client, make_user(Role.APPLICANT))
    assert client.get(BASE).status_code == 403


def register(client: FlaskClient, email: str, kind: str, received: str):  # type: ignore[no-untyped-def]
    page = text(client.get(BASE))
    return client.post(
        BASE,
        data={"csrf_token": csrf_token(page, BASE), "email": email, "kind": kind, "received_on": received},
    )


def count_requests() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(PersonalDataRequest)) or 0)


def test_an_administrator_registers_and_answers_requests(app: Flask, client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT, name="Persona Titular")
    login_as(client, admin)
    assert 'href="/admin/datos-personales"' in client.get("/inicio").get_data(as_text=True)

    bad = register(client, "no-es-correo", "access", "2026-13-45")
    assert bad.status_code == 422
    assert "El correo electrónico no es válido." in field_errors(bad)
    assert "Indique una fecha válida." in field_errors(bad)
    unknown = register(client, "nadie@example.test", "access", local_today().isoformat())
    assert unknown.status_code == 422
    assert "No hay ninguna cuenta con ese correo electrónico." in flashes(unknown)
    future = register(client, email_of(person), "access", (local_today() + timedelta(days=2)).isoformat())
    assert future.status_code == 422
    assert "La fecha de recepción no puede ser futura." in flashes(future)
    assert count_requests() == 0

    received = local_today() - timedelta(days=1)
    created = register(client, email_of(person), "access", received.isoformat())
    assert created.status_code == 302
    shown = client.get(created.headers["Location"])
    body = text(shown)
    assert "Persona Titular" in body
    assert "Pendiente" in body
    db.session.rollback()
    request = db.session.scalars(select(PersonalDataRequest)).one()
    assert request.due_on == calendar(db.session()).add_business_days(received, 20)
    assert client.get(f"{BASE}/{request.id}/datos.json").status_code == 404  # not answered yet
    answer = client.post(
        f"{BASE}/{request.id}/atender", data={"csrf_token": csrf_token(body, f"{BASE}/{request.id}/atender")}
    )
    assert answer.status_code == 302
    download = client.get(f"{BASE}/{request.id}/datos.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(download.data)["account"]["display_name"] == "Persona Titular"

    rectify = register(client, email_of(person), "rectification", received.isoformat())
    page = text(client.get(rectify.headers["Location"]))
    action = rectify.headers["Location"] + "/atender"
    nothing = client.post(action, data={"csrf_token": csrf_token(page, action), "display_name": "", "email": ""})
    assert nothing.status_code == 422
    assert "Indique el nombre o el correo corregidos (distintos de los actuales)." in flashes(nothing)
    done = client.post(
        action, data={"csrf_token": csrf_token(page, action), "display_name": "Persona Corregida", "email": ""}
    )
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.get(User, person).display_name == "Persona Corregida"  # type: ignore[union-attr]
    assert db.session.scalars(select(PersonalDataRequest.status)).all() == [DataRequestStatus.RESOLVED] * 2
    logged = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("personal_data_request_%")).order_by(AuditEntry.seq)
    ).all()
    assert [e.action for e in logged] == [
        "personal_data_request_registered",
        "personal_data_request_resolved",
        "personal_data_request_registered",
        "personal_data_request_resolved",
    ]
    assert all("Persona" not in json.dumps(e.details) for e in logged)

    set_language(client, "en", BASE)
    english = text(client.get(BASE))
    assert "Data-protection requests" in english
    assert "Rectification" in english


def test_the_registration_form_sent_twice_registers_one_request(app: Flask, client: FlaskClient) -> None:
    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT)
    login_as(client, admin)
    page = text(client.get(BASE))
    key = hidden_value(page, "form_key", BASE)
    assert len(key) >= 32
    form = {
        "csrf_token": csrf_token(page, BASE),
        "form_key": key,
        "email": email_of(person),
        "kind": "access",
        "received_on": local_today().isoformat(),
    }

    first = client.post(BASE, data=form)
    again = client.post(BASE, data=form)

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert count_requests() == 1
    changed = client.post(BASE, data={**form, "kind": "opposition"})
    assert changed.status_code == 409
    number = first.headers["Location"].rsplit("/", 1)[-1]
    assert any(f"ya se registró la solicitud {number}" in message for message in flashes(changed))
    assert hidden_value(text(changed), "form_key", BASE) != key  # a fresh form to register another
    assert count_requests() == 1


def test_the_list_shows_every_pending_request_and_the_latest_answered_a_page_at_a_time(
    app: Flask, client: FlaskClient
) -> None:
    """Answered requests pile up over the years; the list shows all the pending ones (earliest due first) and the
    latest answered ones, with a link to the older ones: it does not grow with the years kept."""
    from app.models.personal_data import DataRequestKind
    from app.services.personal_data import RESOLVED_PAGE, register_request, resolve_access

    admin = make_user(Role.ADMIN)
    person = make_user(Role.APPLICANT, name="Persona Titular")
    received = local_today() - timedelta(days=1)
    answered = [
        register_request(admin, email_of(person), DataRequestKind.ACCESS, received) for _ in range(RESOLVED_PAGE + 2)
    ]
    for request_id in answered:
        resolve_access(request_id, admin)
    # received on three business days, so that each is due on its own day (a request received on a weekend counts
    # from the next business day: received on a Saturday and a Sunday, two would be due together, whichever the
    # day the suite runs on)
    cal = calendar(db.session())
    business = [day for day in (received - timedelta(days=n) for n in range(12)) if cal.is_business_day(day)]
    pending = [register_request(admin, email_of(person), DataRequestKind.ACCESS, day) for day in business[:3]]
    login_as(client, admin)
    page = client.get(BASE).get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'href="/admin/datos-personales/(\d+)"', page)]
    # the pending ones first, the one received earliest (due earliest) at the top; then the latest answered
    assert listed == [*reversed(pending), *sorted(answered, reverse=True)[:RESOLVED_PAGE]]
    older = re.search(r'href="(/admin/datos-personales\?antes=\d+)"', page)
    assert older, page
    rest = client.get(older.group(1)).get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/admin/datos-personales/(\d+)"', rest)] == sorted(answered)[:2][::-1]
    assert 'href="/admin/datos-personales?antes=' not in rest  # no older page (the language switch keeps this one)
    assert "Solicitudes más recientes" in text(client.get(older.group(1)))
    assert client.get(f"{BASE}?antes=x").status_code == 200  # not a request: the first page
