"""Admin calendar page, the staff queue with due-soon/overdue views, and the notices page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import NonWorkingDay, Role, Timer, TimerKind, TimerStatus
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import csrf_token, field_errors, flashes, login_as, text


def _calendar_form(client: FlaskClient) -> str:
    page = client.get("/admin/calendario")
    assert page.status_code == 200
    return csrf_token(page.get_data(as_text=True), "")


def test_admin_declares_and_removes_days(app: Flask, client: FlaskClient):
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    token = _calendar_form(client)
    response = client.post(
        "/admin/calendario",
        data={
            "csrf_token": token,
            "first": "2027-03-25",
            "last": "2027-03-26",
            "description": "Semana Santa",
            "gazette_reference": "Gaceta Municipal 5/2027",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert any("Se declararon 2 días inhábiles." in f for f in flashes(response))
    page = text(response)
    assert "Semana Santa" in page
    assert "jueves, 25 de marzo de 2027" in page
    db.session.rollback()  # end this test's read snapshot: the requests committed in their own sessions
    day_id = db.session.scalars(select(NonWorkingDay.id).order_by(NonWorkingDay.day)).first()
    removed = client.post(
        f"/admin/calendario/{day_id}/quitar",
        data={"csrf_token": csrf_token(page, f"/admin/calendario/{day_id}/quitar")},
        follow_redirects=True,
    )
    assert any("Día hábil restablecido" in f for f in flashes(removed))
    db.session.rollback()
    assert len(db.session.scalars(select(NonWorkingDay)).all()) == 1


def test_calendar_form_errors_are_clear_and_nothing_is_saved(app: Flask, client: FlaskClient):
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    token = _calendar_form(client)
    response = client.post(
        "/admin/calendario",
        data={
            "csrf_token": token,
            "first": "no-es-fecha",
            "last": "2027-01-01",
            "description": "",
            "gazette_reference": "",
        },
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert "Indique una fecha válida." in errors
    assert "Indique el motivo." in errors
    reversed_range = client.post(
        "/admin/calendario",
        data={
            "csrf_token": token,
            "first": "2027-01-10",
            "last": "2027-01-01",
            "description": "x",
            "gazette_reference": "y",
        },
    )
    assert "La fecha final es anterior a la inicial." in field_errors(reversed_range)
    assert db.session.scalars(select(NonWorkingDay)).all() == []


def test_calendar_is_for_admins_only(app: Flask, client: FlaskClient):
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    assert client.get("/admin/calendario").status_code == 302  # to the login page
    login_as(client, clerk)
    assert client.get("/admin/calendario").status_code == 403


def test_queue_views_sort_and_flag_terms(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    waiting = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    in_review = advance(vecs_case(applicant), [("submit", applicant, None, None), ("start_intake", clerk, None, None)])
    target = db.session.scalars(
        select(Timer).where(Timer.case_id == in_review.case_id, Timer.kind == TimerKind.TARGET)
    ).one()
    assert target.status == TimerStatus.PENDING
    login_as(client, clerk)
    page = text(client.get("/bandeja"))
    # both were filed today: the same legal term (sorted by it), the one waiting longer first
    assert "Plazo legal de resolución" in page
    assert page.index(waiting.folio) < page.index(in_review.folio)
    # Backdate the target so that it has lapsed: the case shows as overdue.
    db.session.rollback()  # logging in wrote a session row after this snapshot began
    target.due_on = target.due_on - timedelta(days=30)
    db.session.commit()
    overdue = text(client.get("/bandeja?vista=vencidos"))
    assert in_review.folio in overdue
    assert waiting.folio not in overdue
    assert "Vencido" in overdue
    assert in_review.folio not in text(client.get("/bandeja?vista=proximos"))
    assert client.get("/bandeja?vista=desconocida").status_code == 200


def test_queue_is_for_staff(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT)
    login_as(client, applicant)
    assert client.get("/bandeja").status_code == 403


def test_notices_list_and_mark_read(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT)
    case = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    login_as(client, applicant)
    page = client.get("/avisos")
    body = text(page)
    assert case.folio in body
    assert 'class="unread"' in page.get_data(as_text=True)
    read = client.post("/avisos/leidos", data={"csrf_token": csrf_token(page.get_data(as_text=True), "/avisos/leidos")})
    assert read.status_code == 302
    assert 'class="unread"' not in client.get("/avisos").get_data(as_text=True)


def test_admin_sees_failed_deliveries_and_requeues_them(app: Flask, client: FlaskClient, mailbox):
    from app.models import OutboxMessage, OutboxStatus
    from app.services.delivery import RETRY_DELAYS, deliver_pending
    from tests.support.postgres import free_port

    admin = make_user(Role.ADMIN)
    applicant = make_user(Role.APPLICANT)
    case = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    message = db.session.scalars(select(OutboxMessage)).one()
    now = message.next_attempt_at
    deliver_pending(now=now)
    login_as(client, admin)
    waiting = text(client.get("/admin/correo"))
    assert case.folio in waiting
    assert "ConnectionRefusedError" in waiting
    for delay in RETRY_DELAYS:
        now += delay
        deliver_pending(now=now)
    db.session.rollback()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.FAILED

    page = client.get("/admin/correo")
    action = f"/admin/correo/{message.id}/reenviar"
    assert case.folio in text(page)
    requeued = client.post(action, data={"csrf_token": csrf_token(page.get_data(as_text=True), action)})
    assert requeued.status_code == 302
    app.config["MAIL_PORT"] = port
    db.session.rollback()
    assert deliver_pending().sent == 1
    assert len(mailbox.messages) == 1
    other = make_user((Role.INTAKE_CLERK, "ventanilla"))
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/inicio").get_data(as_text=True), "/logout")})
    login_as(client, other)
    assert client.get("/admin/correo").status_code == 403


def test_the_calendar_shows_the_year_of_mexico_city(app: Flask, client: FlaskClient) -> None:
    """On New Year's Eve evening in Mexico City it is already 1 January in UTC: the calendar page shows the year
    the authority is in, not the server's."""
    import time_machine

    admin = make_user(Role.ADMIN)
    with time_machine.travel(datetime(2027, 1, 1, 3, 0, tzinfo=UTC), tick=False):  # 21:00 of 31 Dec in CDMX
        login_as(client, admin)
        page = client.get("/admin/calendario")
    assert page.status_code == 200
    assert "Días declarados en 2026" in text(page)
