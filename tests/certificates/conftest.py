"""Certificates: development keys made once per run, documents rendered once per run, helpers to read PDFs.

Rendering and RSA key generation are the slow parts, so the session fixtures do them once; every test's
application reads the same development keys.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from flask import Flask
from flask.testing import FlaskClient

from app.certificates import IssuedDocument, issue
from app.keys import SigningMaterial, init_development_keys, load_signing_material, trust_root
from app.models import Role
from app.services.cases import FireResult
from tests.certificates.samples import OFFICE, request
from tests.support.factories import PASSWORD, advance, email_of, make_user, vecs_case
from workflows import REGISTRY

KINDS = tuple(d.kind for d in REGISTRY.documents())
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "certificates"


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development root CA and signing certificate, generated once for the whole run."""
    folder = tmp_path_factory.mktemp("dev-keys")
    init_development_keys(folder, OFFICE.institution)
    return folder


@pytest.fixture(scope="session")
def material(dev_keys: Path) -> SigningMaterial:
    """The signing key and chain of :func:`dev_keys`."""
    return load_signing_material({"KEYS_DIR": str(dev_keys)})


@pytest.fixture(scope="session")
def root(dev_keys: Path) -> x509.Certificate:
    """The development trust root."""
    return trust_root({"KEYS_DIR": str(dev_keys)})


@pytest.fixture(autouse=True)
def _keys_for_the_app(request: pytest.FixtureRequest, dev_keys: Path) -> None:
    """Point the test's application at the run's development keys (only read: nothing writes there, so
    tests share them, and the service's key cache saves re-parsing the RSA key in every test)."""
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    application.config["KEYS_DIR"] = str(dev_keys)


@pytest.fixture(scope="session")
def samples(material: SigningMaterial) -> dict[str, IssuedDocument]:
    """Every kind of document issued once from sample data, with a screenshot of its first page kept in
    ``test-output/certificates/`` for a person to look at."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    documents = {}
    for kind in KINDS:
        document = issue(request(kind), OFFICE, material)
        (OUTPUT / f"{kind}.pdf").write_bytes(document.pdf)
        for stale in OUTPUT.glob(f"{kind}-*.png"):
            stale.unlink()
        subprocess.run(
            ["pdftoppm", "-r", "110", "-png", str(OUTPUT / f"{kind}.pdf"), str(OUTPUT / kind)],
            check=True,
            timeout=60,
        )
        documents[kind] = document
    return documents


# -- reading PDFs back ------------------------------------------------------------------------------


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc") -> str:
    """The text of ``pdf`` as pdftotext reads it, white space collapsed."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, timeout=60)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8"))


def squeeze(text: str) -> str:
    """``text`` without any white space (to find strings that the layout broke across lines)."""
    return re.sub(r"\s+", "", text)


# -- cases through the real services ------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    """The people of a VECS case."""

    owner: int
    other_applicant: int
    clerk: int
    land_use_reviewer: int
    approver: int
    inspector: int
    auditor: int


@pytest.fixture
def people(app: Flask) -> People:
    """One user per part of the VECS flow (two reviewers: four-eyes)."""
    return People(
        owner=make_user(Role.APPLICANT, name="José Ángel Muñoz Peñaloza"),
        other_applicant=make_user(Role.APPLICANT, name="Otra Solicitante"),
        clerk=make_user((Role.INTAKE_CLERK, "ventanilla")),
        land_use_reviewer=make_user((Role.REVIEWER, "desarrollo_urbano"), name="Diana Dictaminadora"),
        approver=make_user((Role.REVIEWER, "desarrollo_urbano"), name="Arq. María José Peña Núñez"),
        inspector=make_user((Role.INSPECTOR, "obras_publicas")),
        auditor=make_user(Role.AUDITOR),
    )


def to_licence_review(people: People, case: FireResult | None = None) -> FireResult:
    """A VECS case paid and waiting for the licence."""
    case = case or vecs_case(people.owner)
    return advance(
        case,
        [
            ("submit", people.owner, None, None),
            ("start_intake", people.clerk, None, None),
            ("accept_intake", people.clerk, None, None),
            ("rule_land_use", people.land_use_reviewer, {"land_use_ruling": "Compatible con zonificación H3-C"}, None),
            (
                "assess_fees",
                people.land_use_reviewer,
                {
                    "fees": [
                        {"concept": "Licencia de construcción", "amount": "7569.00"},
                        {"concept": "Alineamiento y número oficial", "amount": "851.00"},
                    ]
                },
                None,
            ),
            ("confirm_payment", None, None, None),
        ],
    )


def licensed(people: People, data: dict[str, Any] | None = None) -> FireResult:
    """A VECS case whose licence was just issued (by a reviewer other than the one who ruled: four-eyes)."""
    case = to_licence_review(people)
    payload = {"licence_number": "LC-2026-0001"} if data is None else data
    return advance(case, [("approve_licence", people.approver, payload, None)])


# -- browser-like client --------------------------------------------------------------------------------


def csrf_from(page: str) -> str:
    """The CSRF token of the first form of ``page``."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: FlaskClient, user_id: int) -> None:
    """Log in as a factory user through the login form."""
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"csrf_token": csrf_from(page), "email": email_of(user_id), "password": PASSWORD, "next": ""}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
