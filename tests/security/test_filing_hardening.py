"""Anonymous filing of access requests against a hostile outsider: throttled per address and per e-mail,
nothing but a confirmation link mailed to an unproven address, no typed text in any mail, the same answer
for an account's address as for a new one, no squatting of someone else's address, and random tracking
tokens kept only hashed."""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import urlsafe_b64encode
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

import app.services.users as users_service
from app.engine import InvalidData
from app.extensions import db
from app.models import Role, User
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import PASSWORDLESS, AccessRequest
from app.services.confirmation import confirm
from app.services.delivery import deliver_pending
from app.services.users import authenticate
from app.web.headers import SECRET_ARGUMENT
from tests.conftest import IsolatedClient
from tests.security.helpers import CountingHasher
from tests.support.factories import email_of, make_user
from tests.web.helpers import csrf_token, flashes, hidden_value, login, login_as, text

FILING = "/transparencia/solicitar"
HOSTILE_NAME = "GANE DINERO en https://estafa.example/premio"
HOSTILE_TEXT = "Visite https://estafa.example/premio y escriba su contraseña"


def _file(client: FlaskClient, email: str, **changes: str) -> TestResponse:
    page = text(client.get(FILING))
    data = {
        "csrf_token": csrf_token(page, FILING),
        "pseudonym": HOSTILE_NAME,
        "email": email,
        "information_requested": HOSTILE_TEXT,
        "delivery_format": "electronic",
        **changes,
    }
    return client.post(FILING, data=data)


def _from(app: Flask, address: str) -> FlaskClient:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _mails_to(mailbox: Any, address: str) -> list[Any]:
    return [m for m in mailbox.messages if m["To"] == address]


def _link(message: Any, path: str) -> str:
    match = re.search(re.escape(path) + r"([A-Za-z0-9_-]+)", message.get_content())
    assert match is not None, message.get_content()
    return match.group(1)


def test_filing_is_throttled_per_client_address_and_per_e_mail(app: Flask) -> None:
    app.config.update(FILING_LIMIT_PER_EMAIL="2 per 1 hour", FILING_LIMIT_PER_IP="3 per 1 hour")
    one = _from(app, "203.0.113.1")
    assert _file(one, "blanco@example.test").status_code == 302
    assert _file(one, "BLANCO@example.test ").status_code == 302
    assert _file(_from(app, "203.0.113.2"), "blanco@example.test").status_code == 429  # that address, anywhere
    assert _file(one, "otro@example.test").status_code == 302
    assert _file(one, "tercero@example.test").status_code == 429  # that client, any address
    assert _file(_from(app, "198.51.100.3"), "tercero@example.test").status_code == 302


def test_the_same_filing_form_sent_again_takes_nothing_of_the_limits(app: Flask) -> None:
    app.config.update(FILING_LIMIT_PER_EMAIL="2 per 1 hour", FILING_LIMIT_PER_IP="3 per 1 hour")
    client = _from(app, "203.0.113.4")
    page = text(client.get(FILING))
    form = {
        "csrf_token": csrf_token(page, FILING),
        "filing_key": hidden_value(page, "filing_key", FILING),
        "pseudonym": "Lector",
        "email": "doble@example.test",
        "information_requested": "Contratos de 2025",
        "delivery_format": "electronic",
    }
    first = client.post(FILING, data=form)
    for _ in range(3):  # a double click, then the back button and the same form twice more
        assert client.post(FILING, data=form).headers["Location"] == first.headers["Location"]

    assert _file(client, "doble@example.test").status_code == 302  # the second request of that address
    assert _file(client, "doble@example.test").status_code == 429  # its third: the limit is 2


def test_an_unproven_address_gets_only_a_confirmation_link_and_no_typed_text(app: Flask, mailbox: Any) -> None:
    client = _from(app, "203.0.113.9")
    filed = _file(client, "victima@example.test")
    assert filed.status_code == 302
    token = filed.headers["Location"].rsplit("/", 1)[-1].split("?")[0]
    assert _file(client, "victima@example.test").status_code == 302  # a second request, same address
    deliver_pending()
    sent = _mails_to(mailbox, "victima@example.test")
    assert len(sent) == 2  # one confirmation per request, nothing else
    for message in sent:
        body = message.get_content()
        assert "estafa.example" not in body
        assert "GANE DINERO" not in body
        assert token not in body
        assert "/confirmar-correo/" in body
    # opening the link changes nothing; the button does, once
    link = _link(sent[0], "/confirmar-correo/")
    reader = _from(app, "192.0.2.1")
    page = reader.get(f"/confirmar-correo/{link}")
    assert page.status_code == 200
    deliver_pending()
    assert len(_mails_to(mailbox, "victima@example.test")) == 2
    action = f"/confirmar-correo/{link}"
    done = reader.post(action, data={"csrf_token": csrf_token(text(page), action)})
    assert done.status_code == 302
    assert reader.get(action).status_code == 404  # single use
    with pytest.raises(InvalidData):
        confirm(link)
    deliver_pending()
    receipts = _mails_to(mailbox, "victima@example.test")[2:]
    assert len(receipts) == 1
    assert f"/transparencia/seguimiento/{token}" in receipts[0].get_content()
    assert "«Solicitud de acceso a la información»" in receipts[0].get_content()  # the procedure, by its title
    assert "Acuse de recibo: Solicitud de acceso a la información" in " ".join(str(receipts[0]["Subject"]).split())
    assert "estafa.example" not in receipts[0].get_content()
    assert "GANE DINERO" not in receipts[0].get_content()


def test_an_account_address_gets_the_same_answer_and_nothing_is_mailed(app: Flask, mailbox: Any) -> None:
    staff = make_user((Role.REVIEWER, "desarrollo_urbano"))
    applicant = make_user(Role.APPLICANT)
    answers = [
        _file(_from(app, f"203.0.113.{n}"), email)
        for n, email in enumerate((email_of(staff), email_of(applicant), "nueva@example.test"), start=20)
    ]
    assert {a.status_code for a in answers} == {302}
    assert {flashes(_from(app, "192.0.2.1").get(a.headers["Location"])) == [] for a in answers} == {True}
    assert len({a.headers["Location"].split("/seguimiento/")[0] for a in answers}) == 1
    db.session.rollback()
    for account in (staff, applicant):
        assert ar.own_requests(account) == []
        assert db.session.get(User, account).password_hash != PASSWORDLESS  # type: ignore[union-attr]
    deliver_pending()
    assert _mails_to(mailbox, email_of(staff)) == []
    assert _mails_to(mailbox, email_of(applicant)) == []
    assert len(_mails_to(mailbox, "nueva@example.test")) == 1  # the confirmation link only


def test_a_proven_registration_takes_over_a_passwordless_row(app: Flask, mailbox: Any) -> None:
    _file(_from(app, "203.0.113.30"), "duena@example.test")  # someone used the owner's address
    deliver_pending()
    mailbox.messages.clear()
    owner = _from(app, "192.0.2.1")
    page = text(owner.get("/registro"))
    answer = owner.post(
        "/registro",
        data={
            "csrf_token": csrf_token(page, "/registro"),
            "display_name": "Dueña Verdadera",
            "email": "duena@example.test",
            "password": "una-frase-larga-y-propia",
            "confirm": "una-frase-larga-y-propia",
        },
    )
    assert answer.status_code == 302  # the same answer as for a new address
    assert authenticate("duena@example.test", "una-frase-larga-y-propia") is None  # not before proving it
    deliver_pending()
    (message,) = _mails_to(mailbox, "duena@example.test")
    link = _link(message, "/confirmar-correo/")
    confirm(link)
    db.session.rollback()
    user = authenticate("duena@example.test", "una-frase-larga-y-propia")
    assert user is not None
    assert user.display_name == "Dueña Verdadera"
    assert user.has_role(Role.APPLICANT)
    assert login(_from(app, "192.0.2.1"), "duena@example.test", "una-frase-larga-y-propia").status_code == 302


def test_tracking_tokens_are_random_and_stored_hashed(app: Flask, client: FlaskClient) -> None:
    first = ar.file_request("Uno", "uno@example.test", "Algo", "electronic")
    second = ar.file_request("Uno", "uno@example.test", "Algo", "electronic")
    key = str(app.config["SECRET_KEY"]).encode()
    for filed in (first, second):
        derived = hmac.new(key, f"access-tracking|{filed.folio}".encode(), hashlib.sha256).digest()
        assert filed.token != urlsafe_b64encode(derived).decode().rstrip("=")  # not derivable from the folio
        assert len(filed.token) >= 43
        stored = db.session.scalars(select(AccessRequest).where(AccessRequest.case_id == filed.case_id)).one()
        assert stored.token_sha256 == hashlib.sha256(filed.token.encode()).hexdigest()
    assert first.token != second.token
    assert client.get(f"/transparencia/seguimiento/{first.token}").status_code == 200
    # a logged-in requester opening their request gets a new link; the old one ends
    account = make_user(Role.APPLICANT)
    own = ar.file_request("Seudónimo", "", "Algo más", "electronic", account_id=account)
    login_as(client, account)
    # following the address (a link on another site) changes nothing: the mailed link keeps working
    page = client.get(f"/transparencia/mis-solicitudes/{own.case_id}", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200
    assert own.folio in text(page)
    assert client.get(f"/transparencia/seguimiento/{own.token}").status_code == 200
    # the page's button (a POST with the form's token) opens it under a new link
    action = f"/transparencia/mis-solicitudes/{own.case_id}"
    assert client.post(action).status_code == 400  # no form token: refused, nothing changes
    assert client.get(f"/transparencia/seguimiento/{own.token}").status_code == 200
    moved = client.post(action, data={"csrf_token": csrf_token(text(page), action)})
    assert moved.status_code == 302
    assert own.token not in moved.headers["Location"]
    assert client.get(moved.headers["Location"]).status_code == 200
    assert client.get(f"/transparencia/seguimiento/{own.token}").status_code == 404
    # someone else's request: as one that does not exist
    other = ar.file_request("Otra", "", "Algo", "electronic", account_id=make_user(Role.APPLICANT))
    assert client.get(f"/transparencia/mis-solicitudes/{other.case_id}").status_code == 404


def test_pages_reached_through_a_secret_link_are_never_cached(app: Flask, client: FlaskClient) -> None:
    """The tracking page and its receipt show the secret link itself, the pseudonym and the request; the
    confirmation and reset pages carry their link: none is kept in a shared or browser cache, signed in or
    not (only a signed-in person's pages were marked)."""
    filed = ar.file_request("Uno", "uno@example.test", "Algo", "electronic")
    for path in (
        f"/transparencia/seguimiento/{filed.token}",
        f"/transparencia/seguimiento/{filed.token}?acuse=1",
        f"/transparencia/seguimiento/{filed.token}x",  # not found: still the link typed
        "/confirmar-correo/un-enlace-cualquiera",
        "/contrasena/restablecer/un-enlace-cualquiera",
    ):
        answer = client.get(path)
        assert answer.headers.get("Cache-Control") == "no-store", path
    assert "no-store" not in client.get("/transparencia/solicitar").headers.get("Cache-Control", "")
    # every address that carries a secret names it as those do
    secret = {a for rule in app.url_map.iter_rules() for a in rule.arguments if "token" in a or "secret" in a}
    assert secret == {SECRET_ARGUMENT}


def _register(client: FlaskClient, email: str, name: str = HOSTILE_NAME) -> TestResponse:
    page = text(client.get("/registro"))
    password = "una-frase-larga-y-propia"
    return client.post(
        "/registro",
        data={
            "csrf_token": csrf_token(page, "/registro"),
            "display_name": name,
            "email": email,
            "password": password,
            "confirm": password,
        },
    )


def test_registration_mail_carries_no_typed_name_and_is_throttled_per_e_mail(app: Flask, mailbox: Any) -> None:
    app.config["RESET_LIMIT_PER_ACCOUNT"] = "1 per 1 hour"
    assert _register(_from(app, "203.0.113.40"), "ajena@example.test").status_code == 302
    assert _register(_from(app, "203.0.113.41"), "AJENA@example.test").status_code == 429
    assert _register(_from(app, "203.0.113.41"), "otra@example.test").status_code == 302
    deliver_pending()
    (welcome,) = _mails_to(mailbox, "ajena@example.test")
    assert "GANE DINERO" not in welcome.get_content()
    assert "estafa.example" not in welcome.get_content()


def test_a_filing_receipt_goes_only_where_the_procedure_declares_a_tracking_path(app: Flask) -> None:
    """The receipt's link is the procedure's declared tracking path; a procedure without one issues no link."""
    from app.models import OutboxMessage
    from app.services.auth import compose_account_mail, encrypt
    from tests.support.factories import vecs_case

    applicant = make_user(Role.APPLICANT)
    case = vecs_case(applicant)
    session = db.session()
    message = OutboxMessage(
        topic="filing_receipt",
        dedup_key="filing_receipt:test",
        payload={"sealed": encrypt("secreto"), "folio": "X"},
        recipient_id=applicant,
        case_id=case.case_id,
    )
    assert compose_account_mail(session, message) is None  # construction cases have no tracking links
    filed = ar.file_request(
        pseudonym="Lector",
        email="lector@example.test",
        information_requested="Contratos de 2025",
        delivery_format="electronic",
    )
    message.case_id = filed.case_id
    composed = compose_account_mail(session, message)
    assert composed is not None
    assert composed[2].count("/transparencia/seguimiento/secreto") == 1


@pytest.mark.parametrize("kind", ["unknown", "account", "requester", "disabled"])
def test_a_login_does_the_same_work_whoever_the_address_is(app: Flask, monkeypatch: pytest.MonkeyPatch, kind: str):
    """A wrong password costs one argon2 verification for every address. An address that only filed access
    requests (no password of its own) or a disabled account was refused without any: answered in a few
    milliseconds instead of a few hundred, it told anyone which addresses had filed requests."""
    address = f"{kind}@example.test"
    if kind in ("account", "disabled"):
        user = db.session.get(User, make_user(Role.APPLICANT))
        assert user is not None
        address = user.email
        if kind == "disabled":
            user.password_hash = "!disabled:0123456789abcdef"
            db.session.commit()
    elif kind == "requester":
        ar.file_request("Vecina", address, "Padrón de licencias", "electronic")
    counting = CountingHasher()
    monkeypatch.setattr(users_service, "_hasher", counting)
    assert authenticate(address, "una contraseña equivocada") is None
    assert counting.verified == 1
