"""A user changes their account's e-mail address (ASVS 5.0 7.5.1: with the password given again): a single-use
link goes to the new address (a real SMTP server), the address changes only once it is confirmed, the old one is
told, and nobody learns through the form which addresses have accounts."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Role, User
from app.services.delivery import deliver_pending
from tests.security.helpers import events
from tests.support.factories import PASSWORD, email_of, make_user
from tests.support.smtp import Mailbox
from tests.web.helpers import csrf_token, flashes, login, login_as, text

Browsers = Callable[[], FlaskClient]
PAGE = "/cuenta/correo"
LINK = re.compile(r"https?://[^/\s]+(/confirmar-correo/\S+)")


def _ask(client: FlaskClient, email: str, password: str = PASSWORD):
    page = text(client.get(PAGE))
    return client.post(PAGE, data={"csrf_token": csrf_token(page, PAGE), "email": email, "password": password})


def _mail() -> None:
    db.session.rollback()
    deliver_pending()


def _email(user_id: int) -> str:
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    return user.email


def test_the_address_changes_once_the_link_sent_to_it_is_confirmed(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    user_id = make_user(Role.APPLICANT, name="Lucía Cambia")
    old = email_of(user_id)
    client = browsers()
    login_as(client, user_id)
    asked = _ask(client, "  Lucia.Nueva@Example.test ")
    assert (asked.status_code, asked.headers["Location"]) == (302, PAGE)
    assert "Le enviamos un enlace a la dirección nueva" in " ".join(flashes(client.get(PAGE)))
    assert _email(user_id) == old  # nothing changes before the link is used
    _mail()
    (message,) = mailbox.messages
    assert message["To"] == "lucia.nueva@example.test"
    assert "Lucía Cambia" not in message.get_content()  # a typed address gets no name, only the link
    link = LINK.search(message.get_content())
    assert link is not None
    mailbox.clear()
    opened = browsers().get(link.group(1))  # a mail scanner opening the link changes nothing
    assert opened.status_code == 200
    assert _email(user_id) == old
    confirmer = browsers()
    page = text(confirmer.get(link.group(1)))
    done = confirmer.post(link.group(1), data={"csrf_token": csrf_token(page, link.group(1))})
    assert done.status_code == 302
    assert _email(user_id) == "lucia.nueva@example.test"
    _mail()
    (notice,) = mailbox.messages
    assert notice["To"] == old
    assert "cambió" in notice["Subject"]
    assert login(browsers(), "lucia.nueva@example.test").status_code == 302
    assert login(browsers(), old).status_code == 200  # the old address no longer logs in
    again = confirmer.post(link.group(1), data={"csrf_token": csrf_token(page, link.group(1))})  # the same browser
    assert again.status_code == 404  # single use
    assert "no es válido, ya se usó o caducó" in text(again)
    assert [e.details for e in events("registration")][-1] == {"confirmed": "email_change"}


def test_a_wrong_password_the_same_address_or_a_bad_one_change_nothing(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    user_id = make_user(Role.REVIEWER)
    client = browsers()
    login_as(client, user_id)
    for email, password, message in (
        ("otra@example.test", "no es la mía", "La contraseña no es correcta."),
        (email_of(user_id).upper(), PASSWORD, "Ese ya es el correo de su cuenta."),
        ("no-es-correo", PASSWORD, "El correo electrónico no es válido."),
        ("a@b", "", "Escriba su contraseña para confirmar."),
    ):
        refused = _ask(client, email, password)
        assert refused.status_code == 422, email
        assert message in text(refused), email
    assert events("login_failed")[-1].details.get("step") == "change_email"
    _mail()
    assert mailbox.messages == []


def test_an_address_another_account_holds_gets_the_same_answer_and_no_mail(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    user_id, other = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    client = browsers()
    login_as(client, user_id)
    taken = _ask(client, email_of(other))
    free = _ask(client, "libre@example.test")
    assert taken.status_code == free.status_code == 302
    _mail()
    assert [m["To"] for m in mailbox.messages] == ["libre@example.test"]  # none to the other account's address
    assert _email(other) == email_of(other)


def test_a_newer_request_spends_the_older_link_and_a_taken_address_is_refused_at_confirmation(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    user_id = make_user(Role.APPLICANT)
    client = browsers()
    login_as(client, user_id)
    _ask(client, "primera@example.test")
    _mail()
    first = LINK.search(mailbox.messages[-1].get_content())
    _ask(client, "segunda@example.test")
    _mail()
    second = LINK.search(mailbox.messages[-1].get_content())
    assert first is not None
    assert second is not None
    assert browsers().get(first.group(1)).status_code == 404  # spent by the newer request
    make_user(Role.APPLICANT)  # someone else
    db.session.rollback()
    squatter = db.session.scalars(db.select(User).order_by(User.id.desc())).first()
    assert squatter is not None
    squatter.email = "segunda@example.test"  # takes the address meanwhile
    db.session.commit()
    confirmer = browsers()
    page = text(confirmer.get(second.group(1)))
    refused = confirmer.post(second.group(1), data={"csrf_token": csrf_token(page, second.group(1))})
    assert refused.status_code == 404
    assert "Esa dirección ya pertenece a otra cuenta" in text(refused)
    assert _email(user_id) == email_of(user_id)
