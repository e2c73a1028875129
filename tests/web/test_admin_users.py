"""The administrators' account pages: who holds which roles, and giving or taking roles, ending sessions,
deactivating and removing a second factor from the web, as from the command line: at once, logged, refused
cleanly (no server error) for bad input, for the last administrator and for roles open cases still need."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, AuditKind, Role, TotpCredential, User, UserRole, utcnow
from app.services import accounts
from app.services.auth import encrypt
from app.services.config import update_config
from app.services.delivery import deliver_pending
from app.services.users import ensure_department
from tests.conftest import IsolatedClient
from tests.security.helpers import events
from tests.services.test_assignment import OFFICE, manifestation
from tests.support.demo_data import TIPO_B_SETTINGS
from tests.support.factories import email_of, make_user, stored_case
from tests.support.smtp import Mailbox
from tests.web.helpers import csrf_token, flashes, login, login_as, text

Browsers = Callable[[], FlaskClient]
LIST = "/admin/usuarios"


def _admin(browsers: Browsers) -> tuple[FlaskClient, int]:
    admin = make_user(Role.ADMIN, name="Administradora")
    client = browsers()
    login_as(client, admin)
    return client, admin


def _post(client: FlaskClient, user_id: int, action: str, data: dict[str, str]):
    page = text(client.get(f"{LIST}/{user_id}"))
    token = re.search(r'name="[a-z-]*csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    prefixes = ("", "sesiones-", "desactivar-", "factor-", "enlace-")
    fields = {f"{prefix}csrf_token": token.group(1) for prefix in prefixes}
    return client.post(f"{LIST}/{user_id}/{action}", data={**fields, **data})


def _roles(user_id: int) -> set[tuple[str, str | None]]:
    db.session.rollback()
    rows = db.session.execute(select(UserRole.role, UserRole.department_code).where(UserRole.user_id == user_id))
    return {(role.value, department) for role, department in rows}


def _logged(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.kind == AuditKind.ADMIN, AuditEntry.action == action))
    )


@pytest.fixture
def browsers(app: Flask) -> Browsers:
    app.test_client_class = IsolatedClient
    return app.test_client


def test_only_administrators_reach_the_pages(app: Flask, browsers: Browsers) -> None:
    reviewer = make_user((Role.REVIEWER, OFFICE))
    client = browsers()
    assert client.get(LIST).status_code == 302  # to the login page
    login_as(client, reviewer)
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}/{reviewer}").status_code == 403
    assert client.post(f"{LIST}/{reviewer}/roles", data={"role": "admin"}).status_code in (400, 403)
    assert _roles(reviewer) == {("reviewer", OFFICE)}


def test_the_list_finds_accounts_by_a_part_of_the_name_or_address_a_page_at_a_time(
    app: Flask, browsers: Browsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, admin = _admin(browsers)
    reviewer = make_user((Role.REVIEWER, OFFICE), name="Renata Revisora")
    applicant = make_user(Role.APPLICANT, name="Pablo Público")
    staff = text(client.get(LIST))
    assert f'id="usuario-{reviewer}"' in staff
    assert f'id="usuario-{applicant}"' not in staff  # the public's accounts apart
    assert "Revisor" in staff
    assert OFFICE.replace("_", " ").title() in staff  # the department's name, not its code
    found = text(client.get(LIST, query_string={"q": "RENATA"}))
    assert f'id="usuario-{reviewer}"' in found
    assert f'id="usuario-{admin}"' not in found
    public = text(client.get(LIST, query_string={"publico": "1", "q": "%"}))  # a wildcard is a character
    assert "No hay cuentas que coincidan." in public
    public = text(client.get(LIST, query_string={"publico": "1"}))
    assert f'id="usuario-{applicant}"' in public
    monkeypatch.setattr(accounts, "PAGE_SIZE", 1)
    first = text(client.get(LIST))
    assert list(map(int, re.findall(r'id="usuario-(\d+)"', first))) == [admin]
    following = re.search(r'href="([^"]+)" rel="next"', first)
    assert following is not None
    second = text(client.get(following.group(1).replace("&amp;", "&")))
    assert list(map(int, re.findall(r'id="usuario-(\d+)"', second))) == [reviewer]
    for hostile in ("abc", "-1", "9" * 40, "1e3"):
        assert client.get(LIST, query_string={"desde": hostile}).status_code == 200


def test_a_role_given_and_taken_from_the_page_applies_at_once_and_names_the_administrator(
    app: Flask, browsers: Browsers
) -> None:
    client, admin = _admin(browsers)
    inspector = make_user(Role.INSPECTOR)
    theirs = browsers()
    login_as(theirs, inspector)
    assert theirs.get("/supervision/").status_code == 403
    granted = _post(client, inspector, "roles", {"role": "auditor", "department": ""})
    assert granted.status_code == 302
    assert theirs.get("/supervision/").status_code == 200  # their next page
    assert "Rol otorgado." in flashes(client.get(f"{LIST}/{inspector}"))
    (entry,) = _logged("role_granted")
    assert (entry.actor_id, entry.details) == (admin, {"user_id": inspector, "role": "auditor:"})
    taken = _post(client, inspector, "roles/retirar", {"held": "auditor:"})
    assert taken.status_code == 302
    assert theirs.get("/supervision/").status_code == 403
    assert _roles(inspector) == {("inspector", None)}
    assert _logged("role_revoked")[0].actor_id == admin
    for data in ({"role": "alcalde"}, {"role": "reviewer", "department": "no_existe"}, {}):
        refused = _post(client, inspector, "roles", data)
        assert refused.status_code == 422, data
    for held in ("alcalde:", "", ":" * 300):
        assert _post(client, inspector, "roles/retirar", {"held": held}).status_code == 422
    assert client.get(f"{LIST}/999999").status_code == 404
    assert _post(client, inspector, "roles", {"role": "auditor"}).status_code == 302
    token = csrf_token(text(client.get(f"{LIST}/{inspector}")), f"{LIST}/{inspector}/roles")
    assert client.post(f"{LIST}/999999/roles", data={"csrf_token": token, "role": "auditor"}).status_code == 404
    assert _roles(inspector) == {("inspector", None), ("auditor", None)}


def test_the_page_refuses_the_last_administrators_role_and_one_open_cases_need(app: Flask, browsers: Browsers) -> None:
    client, admin = _admin(browsers)
    refused = _post(client, admin, "roles/retirar", {"held": "admin:"})
    assert refused.status_code == 422
    assert "No se puede retirar el rol de administrador a la última cuenta activa que lo tiene." in flashes(refused)
    reviewer = make_user((Role.REVIEWER, OFFICE))
    update_config("cdmx_tipo_b", TIPO_B_SETTINGS, admin)
    case = manifestation(make_user(Role.APPLICANT))
    assert stored_case(case.case_id).assignee_id == reviewer
    page = text(client.get(f"{LIST}/{reviewer}"))
    assert re.search(r"Expedientes abiertos asignados</dt><dd>1<", page)
    stranded = _post(client, reviewer, "roles/retirar", {"held": f"reviewer:{OFFICE}"})
    assert stranded.status_code == 422
    assert any(case.folio in message for message in flashes(stranded))
    assert _roles(reviewer) == {("reviewer", OFFICE)}


def test_sessions_deactivation_and_second_factor_need_the_confirmation(app: Flask, browsers: Browsers) -> None:
    client, admin = _admin(browsers)
    clerk = make_user(Role.INTAKE_CLERK)
    theirs = browsers()
    login_as(theirs, clerk)
    unconfirmed = _post(client, clerk, "sesiones", {})
    assert unconfirmed.status_code == 422
    assert "Marque la casilla para confirmar." in text(unconfirmed)
    assert theirs.get("/inicio").status_code == 200
    assert _post(client, clerk, "sesiones", {"sesiones-confirm": "y"}).status_code == 302
    assert theirs.get("/inicio").status_code == 302
    assert events("session_revoked")[-1].details == {"reason": "ended_by_admin", "sessions": 1}

    db.session.add(TotpCredential(user_id=clerk, secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"), confirmed_at=utcnow()))
    db.session.commit()
    assert f'action="/admin/usuarios/{clerk}/segundo-factor"' in text(client.get(f"{LIST}/{clerk}"))
    assert _post(client, clerk, "segundo-factor", {}).status_code == 422
    assert _post(client, clerk, "segundo-factor", {"factor-confirm": "y"}).status_code == 302
    db.session.rollback()
    assert db.session.get(TotpCredential, clerk) is None
    assert _logged("second_factor_reset")[0].actor_id == admin

    own = _post(client, admin, "desactivar", {"desactivar-confirm": "y"})
    assert own.status_code == 422
    assert "No puede desactivar su propia cuenta" in text(own)
    assert _post(client, clerk, "desactivar", {"desactivar-confirm": "y"}).status_code == 302
    db.session.rollback()
    assert db.session.get(User, clerk).active is False  # type: ignore[union-attr]
    assert _logged("user_deactivated")[0].actor_id == admin
    assert login(browsers(), email_of(clerk)).status_code == 200  # refused: the login page again
    assert client.get(f"{LIST}/{admin}").status_code == 200  # the administrator is still in


def test_the_pages_in_english(app: Flask, browsers: Browsers) -> None:
    client, admin = _admin(browsers)
    shown = text(client.get(LIST))
    client.post("/language", data={"csrf_token": csrf_token(shown, "/language"), "locale": "en", "next": LIST})
    listing = text(client.get(LIST))
    assert "Users" in listing
    assert "Second factor" in listing
    detail = text(client.get(f"{LIST}/{admin}"))
    assert "Give a role" in detail
    assert "Close all their sessions" in detail


def test_a_staff_account_created_from_the_page_chooses_its_own_password_through_the_mailed_link(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    """The administrator creates a reviewer's account: the audit log names them and the role; a single-use link
    goes to the address (a real SMTP server) and its owner chooses the password there and logs in with it; nobody
    logs in before; a taken address or a bad one is refused on the form, nothing created."""
    client, admin = _admin(browsers)
    ensure_department(OFFICE, "Desarrollo Urbano")
    page = text(client.get(LIST))
    token = csrf_token(page, f"{LIST}/nueva")
    fields = {"csrf_token": token, "display_name": "  Nora   Nueva ", "email": "Nora@Example.test", "role": "reviewer"}
    created = client.post(f"{LIST}/nueva", data={**fields, "department": OFFICE})
    assert created.status_code == 302
    user_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert _roles(user_id) == {("reviewer", OFFICE)}
    entry = _logged("user_created")[-1]
    assert (entry.actor_id, entry.details) == (admin, {"user_id": user_id, "roles": [f"reviewer:{OFFICE}"]})
    shown = text(client.get(created.headers["Location"]))
    assert "Nora Nueva" in shown
    assert "Cuenta creada; el enlace para elegir la contraseña se envió a su correo." in shown
    db.session.rollback()
    assert deliver_pending().sent == 1
    (mail,) = mailbox.messages
    assert mail["To"] == "nora@example.test"
    assert "elija su contraseña" in mail["Subject"]
    body = mail.get_content()
    assert "Hola, Nora Nueva:" in body
    assert "72 horas" in body
    link = re.search(r"https?://[^/\s]+(/contrasena/restablecer/\S+)", body)
    assert link is not None, body
    assert login(browsers(), "nora@example.test", "una contraseña cualquiera larga").status_code == 200  # refused
    owner = browsers()
    chosen = owner.get(link.group(1))
    assert chosen.status_code == 200
    form = text(chosen)
    password = "mi propia frase de acceso segura"
    done = owner.post(
        link.group(1),
        data={"csrf_token": csrf_token(form, link.group(1)), "password": password, "confirm": password},
    )
    assert done.status_code == 302
    assert login(browsers(), "nora@example.test", password).status_code == 302
    assert browsers().get(link.group(1)).status_code == 404  # single use

    english = client.post(
        f"{LIST}/nueva",
        data={**fields, "email": "ellen@example.test", "display_name": "Ellen", "department": "", "locale": "en"},
    )
    assert english.status_code == 302
    mailbox.clear()
    db.session.rollback()
    assert deliver_pending().sent == 1
    (invitation,) = mailbox.messages
    assert (invitation["To"], invitation["Subject"].endswith("Your account: choose your password")) == (
        "ellen@example.test",
        True,
    )
    assert "expires in 72 hours" in invitation.get_content()

    for data, message in (
        ({**fields, "locale": "fr"}, "Opción inválida."),
        ({**fields, "email": "nora@example.test"}, "Ya existe una cuenta con ese correo electrónico."),
        ({**fields, "email": "no-es-correo"}, "El correo electrónico no es válido."),
        ({**fields, "role": "applicant"}, "Opción inválida."),
        ({**fields, "display_name": ""}, "Escriba el nombre completo."),
        ({**fields, "email": "otra@example.test", "department": "no_existe"}, "Opción inválida."),
    ):
        refused = client.post(f"{LIST}/nueva", data=data)
        assert refused.status_code == 422, data
        assert message in text(refused), data
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 3


def test_a_new_link_to_choose_the_password_goes_to_the_account_s_own_address(
    app: Flask, browsers: Browsers, mailbox: Mailbox
) -> None:
    """An invitation that expired unused is sent again (an invitation: the account never logged in); an account
    that has logged in gets a reset link instead. Only with the confirmation; never to an inactive account."""
    client, admin = _admin(browsers)
    invited = make_user(Role.AUDITOR, name="Inés Invitada")  # never logged in
    active = make_user(Role.AUDITOR, name="Ana Activa")
    login_as(browsers(), active)
    assert f'action="{LIST}/{invited}/enlace"' in text(client.get(f"{LIST}/{invited}"))
    unconfirmed = _post(client, invited, "enlace", {})
    assert unconfirmed.status_code == 422
    assert "Marque la casilla para confirmar." in text(unconfirmed)
    db.session.rollback()
    assert deliver_pending().sent == 0

    sent = _post(client, invited, "enlace", {"enlace-confirm": "y"})
    assert sent.status_code == 302
    assert "nueva invitación" in " ".join(flashes(client.get(sent.headers["Location"])))
    assert _post(client, active, "enlace", {"enlace-confirm": "y"}).status_code == 302
    db.session.rollback()
    assert deliver_pending().sent == 2
    mails = {m["To"]: m for m in mailbox.messages}
    invitation, reset = mails[email_of(invited)], mails[email_of(active)]
    assert "elija su contraseña" in invitation["Subject"]
    assert "72 horas" in invitation.get_content()
    assert "Restablecer su contraseña" in reset["Subject"]
    link = re.search(r"https?://[^/\s]+(/contrasena/restablecer/\S+)", invitation.get_content())
    assert link is not None
    assert browsers().get(link.group(1)).status_code == 200  # the link works
    assert [(e.actor_id, e.details) for e in _logged("password_link_sent")] == [
        (admin, {"user_id": invited, "topic": "account_invitation"}),
        (admin, {"user_id": active, "topic": "password_reset"}),
    ]
    assert events("password_reset_requested")[-1].details == {"sent": True, "by": admin}

    mailbox.clear()
    assert _post(client, active, "desactivar", {"desactivar-confirm": "y"}).status_code == 302
    assert f'action="{LIST}/{active}/enlace"' not in text(client.get(f"{LIST}/{active}"))
    refused = _post(client, active, "enlace", {"enlace-confirm": "y"})
    assert refused.status_code == 422
    assert "no se le envía un enlace" in text(refused)
    token = re.search(r'name="enlace-csrf_token" type="hidden" value="([^"]+)"', text(client.get(f"{LIST}/{invited}")))
    assert token is not None
    unknown = client.post(f"{LIST}/999999/enlace", data={"enlace-csrf_token": token.group(1), "enlace-confirm": "y"})
    assert unknown.status_code == 404
    db.session.rollback()
    assert deliver_pending().sent == 0
