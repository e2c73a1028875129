"""Personal data stays out of the immutable log, its exports and the public pages.

People with distinctive names and e-mail addresses register, file a case, comment on it and get a licence
issued; a data-protection request is registered and answered. Then every export of the log (the bundle an
auditor verifies, the oversight CSV/JSONL selections, the API) and every public page (verification,
checkpoints, public keys, transparency registry, privacy notice) is searched for any of their names,
e-mail addresses or the words of their comments: none may appear.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.canonical import canonical_entry
from app.calendar import local_today
from app.extensions import db
from app.keys import generate_log_key
from app.models import AuditEntry, Case, Certificate, Role, User
from app.models.personal_data import DataRequestKind
from app.services.audit_log import sign_checkpoint
from app.services.oversight import write_bundle
from app.services.personal_data import register_request, resolve_rectification
from tests.certificates.conftest import People, login
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import csrf_token

APPLICANT_NAME = "Eustaquia Villaseñor Tlapanco"
APPLICANT_EMAIL = "eustaquia.villasenor@buzon-unico.example"
CORRECTED_NAME = "Eustaquia Villaseñor Tlapancoatl"
CORRECTED_EMAIL = "e.villasenor.tlapancoatl@buzon-unico.example"
STAFF_NAME = "Filiberto Ochoterena Xicoténcatl"
COMMENT_WORDS = "Teléfono 55-9087-6543, calle Cerrada de los Almendros 17"
SECRETS = (
    APPLICANT_NAME,
    "Eustaquia",
    "Villaseñor",
    "Villase\\u00f1or",
    APPLICANT_EMAIL,
    CORRECTED_EMAIL,
    "buzon-unico",
    STAFF_NAME,
    "Ochoterena",
    "55-9087-6543",
    "Almendros",
)


HOLDER_NAME = frozenset({APPLICANT_NAME, "Eustaquia", "Villaseñor", "Villase\\u00f1or"})


def assert_clean(where: str, body: str, *, allowed: frozenset[str] = frozenset()) -> None:
    found = [secret for secret in SECRETS if secret.lower() in body.lower() and secret not in allowed]
    assert found == [], f"{where} leaks {found}"


def register(client: FlaskClient) -> int:
    page = client.get("/registro").get_data(as_text=True)
    response = client.post(
        "/registro",
        data={
            "csrf_token": csrf_token(page, "/registro"),
            "display_name": APPLICANT_NAME,
            "email": APPLICANT_EMAIL,
            "password": "Milpa-Alta-Xochimilco-2026!",
            "confirm": "Milpa-Alta-Xochimilco-2026!",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.rollback()
    user_id = db.session.scalar(select(User.id).where(User.email == APPLICANT_EMAIL))
    assert user_id is not None
    return int(user_id)


def test_no_personal_data_in_the_log_its_exports_or_public_pages(
    app: Flask, client: FlaskClient, people: People, tmp_path: Path
) -> None:
    owner = register(app.test_client())
    staff = make_user((Role.INTAKE_CLERK, "ventanilla"), name=STAFF_NAME)
    reviewer = people.land_use_reviewer
    case = advance(
        vecs_case(owner),
        [
            ("submit", owner, None, f"{APPLICANT_NAME}. {COMMENT_WORDS}. {APPLICANT_EMAIL}"),
            ("start_intake", staff, None, f"Atiende {STAFF_NAME}; contactar a {APPLICANT_EMAIL}"),
            ("accept_intake", staff, None, f"Expediente completo de {APPLICANT_NAME}"),
            ("rule_land_use", reviewer, {"land_use_ruling": "Compatible con zonificación H3-C"}, None),
            ("assess_fees", reviewer, {"fees": [{"concept": "Licencia de construcción", "amount": "7569.00"}]}, None),
            ("confirm_payment", None, None, None),
            ("approve_licence", people.approver, {"licence_number": "LC-2026-0777"}, None),
        ],
    )
    admin = make_user(Role.ADMIN)
    request_id = register_request(
        admin, APPLICANT_EMAIL, DataRequestKind.RECTIFICATION, local_today() - timedelta(days=1)
    )
    resolve_rectification(request_id, admin, CORRECTED_NAME, CORRECTED_EMAIL)

    db.session.rollback()
    for entry in db.session.scalars(select(AuditEntry)):
        assert_clean(f"canonical form of entry {entry.seq}", canonical_entry(entry).decode())
    app.config["AUDIT_LOG_KEY_FILE"] = str(tmp_path / "log-key.pem")
    key = generate_log_key()
    Path(app.config["AUDIT_LOG_KEY_FILE"]).write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    sign_checkpoint(app.config)
    bundle = tmp_path / "bundle.jsonl"
    write_bundle(bundle)
    assert_clean("the exported bundle", bundle.read_text(encoding="utf-8"))

    login(client, people.auditor)
    for path in (
        "/supervision/exportar.csv",
        "/supervision/exportar.jsonl",
        "/supervision/paquete.jsonl",
        "/api/v1/audit/entries",
        "/api/v1/audit/bundle",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_clean(path, response.get_data(as_text=True))

    certificate = db.session.scalars(
        select(Certificate).where(Certificate.case_id == case.case_id, Certificate.kind != "payment_order")
    ).one()
    folio = db.session.get(Case, case.case_id).folio  # type: ignore[union-attr]
    anonymous = app.test_client()
    public_pages = [
        "/",
        "/verificar",
        f"/verificar?folio={folio}",
        f"/verificar/{folio}",
        f"/verificar/{folio}/prueba-de-inclusion.json?c={certificate.verification_code}",
        "/supervision/puntos-de-control",
        "/api/v1/audit/checkpoints",
        "/api/v1/audit/public-keys",
        "/transparencia/obligaciones",
        "/aviso-de-privacidad",
        "/aviso-de-privacidad/simplificado",
    ]
    seen = 0
    for path in public_pages:
        response = anonymous.get(path)
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        assert_clean(path, response.get_data(as_text=True))
        seen += response.status_code == 200
    # Whoever holds the document (and so its verification code) sees the holder's name exactly as printed on
    # it, to check that the paper matches; nothing else about them (no e-mail, no comments, no staff names).
    verification = anonymous.get(f"/verificar/{folio}?c={certificate.verification_code}")
    assert verification.status_code == 200
    page = verification.get_data(as_text=True)
    assert folio in page
    assert_clean("the verification result", page, allowed=HOLDER_NAME)
    assert seen >= 8
    assert json.loads(anonymous.get("/api/v1/audit/checkpoints").get_data(as_text=True)) is not None
