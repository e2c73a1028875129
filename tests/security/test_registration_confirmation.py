"""A registration's address is proven before its account logs in (ASVS 6.3.8): logging in after registering
tells nobody whether the address already had an account, and an account registered with someone else's address
never logs in with the password its registrant chose. Through the real pages and a real SMTP server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import app.services.users as users_service
from app.engine import InvalidData
from app.extensions import db
from app.models import Role, User
from app.services.auth import request_password_reset, reset_password
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.registration import register_applicant
from app.services.users import authenticate
from tests.conftest import IsolatedClient
from tests.security.helpers import CountingHasher
from tests.support.factories import email_of, make_user
from tests.web.helpers import LOGIN_ERROR_ES, csrf_token, flashes, login, text

PASSWORD = "una frase larga y propia"
OTHER_PASSWORD = "lluvia sobre el tejado verde"


def _browser(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


def _register(client: FlaskClient, email: str, password: str = PASSWORD, name: str = "Ana Solicitante") -> Any:
    page = text(client.get("/registro"))
    data = {
        "csrf_token": csrf_token(page, "/registro"),
        "display_name": name,
        "email": email,
        "password": password,
        "confirm": password,
    }
    return client.post("/registro", data=data)


def _links(mailbox: Any, address: str, path: str = "/confirmar-correo/") -> list[str]:
    db.session.rollback()
    deliver_pending()
    bodies = [m.get_content() for m in mailbox.messages if m["To"] == address]
    return [found.group(1) for body in bodies if (found := re.search(re.escape(path) + r"([A-Za-z0-9_-]+)", body))]


def _topics_to(mailbox: Any, address: str) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.messages if m["To"] == address]


def test_a_new_account_logs_in_only_once_its_address_is_proven(app: Flask, mailbox: Any) -> None:
    taken = email_of(make_user(Role.APPLICANT))
    browser = _browser(app)
    new = _register(browser, "ana@example.test")
    again = _register(_browser(app), taken)
    assert new.status_code == again.status_code == 302
    assert new.headers["Location"] == again.headers["Location"]

    # before the proof: the new account is refused exactly as the address that was taken (someone else's password)
    refused_new = login(browser, "ana@example.test", PASSWORD)
    refused_taken = login(_browser(app), taken, PASSWORD)
    assert refused_new.status_code == refused_taken.status_code == 200
    assert flashes(refused_new) == flashes(refused_taken) == [LOGIN_ERROR_ES]
    assert authenticate("ana@example.test", PASSWORD) is None

    (link,) = _links(mailbox, "ana@example.test")
    action = f"/confirmar-correo/{link}"
    page = text(browser.get(action))
    done = browser.post(action, data={"csrf_token": csrf_token(page, action)})
    assert done.status_code == 302
    assert "Ya puede iniciar sesión" in " ".join(flashes(browser.get(done.headers["Location"])))
    assert login(browser, "ana@example.test", PASSWORD).status_code == 302
    # the welcome follows the proof, not the form
    deliver_pending()
    assert len(_topics_to(mailbox, "ana@example.test")) == 2
    assert "Su cuenta quedó creada" in _topics_to(mailbox, "ana@example.test")[1]


def test_an_unproven_account_is_refused_after_the_work_of_a_wrong_password(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_applicant("Ana Solicitante", "ana@example.test", PASSWORD)
    counting = CountingHasher()
    monkeypatch.setattr(users_service, "_hasher", counting)
    assert authenticate("ana@example.test", PASSWORD) is None
    assert counting.verified == 1


def test_an_address_registered_by_someone_else_goes_to_its_owner_with_the_owners_password(
    app: Flask, mailbox: Any
) -> None:
    """Someone registers the owner's address with a password of their own and never proves it; the owner
    registers later. Only the last registration's link works: a click on the first mail cannot give the owner's
    address an account with the other person's password."""
    register_applicant("Impostor", "duena@example.test", OTHER_PASSWORD, form_key="a" * 32)
    register_applicant("Dueña Verdadera", "duena@example.test", PASSWORD, form_key="b" * 32)
    first, last = _links(mailbox, "duena@example.test")
    with pytest.raises(InvalidData):
        confirm(first)
    assert authenticate("duena@example.test", OTHER_PASSWORD) is None
    confirm(last)
    db.session.rollback()
    assert authenticate("duena@example.test", OTHER_PASSWORD) is None
    user = authenticate("duena@example.test", PASSWORD)
    assert user is not None
    assert user.display_name == "Dueña Verdadera"
    assert user.role_names == {"applicant"}
    assert db.session.scalars(select(User).where(User.email == "duena@example.test")).one().id == user.id


def test_a_password_reset_proves_the_address_and_sets_the_owners_password(app: Flask, mailbox: Any) -> None:
    register_applicant("Impostor", "duena@example.test", OTHER_PASSWORD)
    (registration_link,) = _links(mailbox, "duena@example.test")
    request_password_reset("duena@example.test")
    (reset_link,) = _links(mailbox, "duena@example.test", "/contrasena/restablecer/")
    reset_password(reset_link, PASSWORD)
    db.session.rollback()
    assert authenticate("duena@example.test", PASSWORD) is not None
    # the registration's own link, used afterwards, proves nothing more and changes no password
    confirm(registration_link)
    db.session.rollback()
    assert authenticate("duena@example.test", PASSWORD) is not None
    assert authenticate("duena@example.test", OTHER_PASSWORD) is None


def test_accounts_an_administrator_creates_log_in_at_once(app: Flask) -> None:
    user_id = make_user((Role.REVIEWER, "desarrollo_urbano"))
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.email_confirmed_at is not None


def test_an_administrator_confirms_an_address_from_the_command_line(app: Flask, mailbox: Any) -> None:
    """Identity seen at the counter, or a deployment without mail: the account logs in, and the link mailed at
    registration no longer does anything."""
    register_applicant("Ana Solicitante", "ana@example.test", PASSWORD)
    (link,) = _links(mailbox, "ana@example.test")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "confirm", "ANA@example.test"])
    assert result.exit_code == 0, result.output
    assert "address confirmed" in result.output
    db.session.rollback()
    assert authenticate("ana@example.test", PASSWORD) is not None
    with pytest.raises(InvalidData):
        confirm(link)
    again = runner.invoke(args=["users", "confirm", "ana@example.test"])
    assert again.exit_code == 0
    assert "already confirmed" in again.output
    unknown = runner.invoke(args=["users", "confirm", "nadie@example.test"])
    assert unknown.exit_code != 0
    assert "No hay una cuenta" in unknown.output


def test_a_closed_account_is_not_taken_over_by_a_registration(app: Flask, mailbox: Any) -> None:
    """An account whose personal data were cancelled (or any account without a password of its own but the
    requester's) answers a registration as a taken address does: nothing is created and no link can reopen it."""
    user_id = make_user(Role.APPLICANT)
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    address = user.email
    user.password_hash = "!cancelled"
    user.email_confirmed_at = None
    db.session.commit()
    register_applicant("Otra Persona", address, PASSWORD)
    assert _links(mailbox, address) == []
    db.session.rollback()
    assert db.session.get(User, user_id).password_hash == "!cancelled"  # type: ignore[union-attr]
    assert authenticate(address, PASSWORD) is None
