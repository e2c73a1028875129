"""A procedure defined only inside this test, installed before the application starts, is served entirely by
the generic pages: the catalogue, its eligibility check, its steps (a form built from its declared fields), its
documents, the case page's actions, the sealed document it declares, and the public verification page. Nothing
outside this file knows it exists."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engine.core import get_engine
from app.extensions import db
from app.models import Case, Certificate, Role
from app.plugins import installed
from app.services.demo import demo_pdf
from tests.support.factories import make_user
from tests.web.helpers import csrf_token, hidden_value, login_as, logout
from workflows import REGISTRY
from workflows.base import N_, GuardInput, State, Transition, Workflow
from workflows.procedure import Document, Field, Presentation, Procedure, Row, Step

APPLICANT = frozenset({"applicant"})
REVIEWER = frozenset({"reviewer"})


def _reasons(data: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    return [] if str(data.get("animal") or "") in params["animals"] else [N_("Esa especie no se registra aquí.")]


def _eligible(inp: GuardInput) -> str | None:
    reasons = _reasons(inp.data, inp.params)
    return reasons[0] if reasons else None


def _build(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    data = context["data"]
    return (
        {
            "numero_licencia": context["folio"],
            "titular": context["applicant"],
            "nombre_comercial": data.get("pet_name"),
            "domicilio": data.get("home"),
        },
        {"afirmativa_ficta": False},
    )


PET_V1 = Workflow(
    name="pet_registry",
    version=1,
    title="Registro de mascotas (prueba)",
    folio_prefix="MASC",
    initial="draft",
    states=(
        State("draft", "Borrador"),
        State("filed", "Presentada"),
        State("registered", "Registrada", terminal=True),
        State("refused", "Rechazada", terminal=True),
    ),
    transitions=(
        Transition(
            "edit", ("draft",), "draft", APPLICANT, "Capturar", owner_only=True, fields=("pet_name", "animal", "home")
        ),
        Transition(
            "file",
            ("draft",),
            "filed",
            APPLICANT,
            "Presentar",
            owner_only=True,
            guards=("eligible",),
            required_fields=("pet_name", "animal", "home"),
            required_documents=("vacunas",),
        ),
        Transition("register", ("filed",), "registered", REVIEWER, "Registrar", issues="pet_certificate"),
        Transition("refuse", ("filed",), "refused", REVIEWER, "Rechazar", comment_required=True),
    ),
    guards={"eligible": _eligible},
    params={"animals": ("perro", "gato"), "requirements": ({"kind": "vacunas", "label": "Cartilla de vacunación"},)},
    catalogues={"animal": ("animals",)},
    description="Un trámite que solo existe en esta prueba.",
)

PET = Procedure(
    name="pet_registry",
    workflows=(PET_V1,),
    fields=(
        Field("pet_name", "Nombre de la mascota", step="datos", required=True, max_length=80),
        Field("animal", "Especie", "code", catalogue=("animals",), step="datos", required=True),
        Field("home", "Domicilio", step="datos", required=True, max_length=200),
    ),
    steps=(Step("datos", "Datos", ("pet_name", "animal", "home")), Step("documentos", "Documentos", documents=True)),
    presentation=Presentation(styles={"refuse": "danger"}),
    eligibility=_reasons,
    eligibility_fields=("animal",),
    documents=(
        Document(
            kind="pet_certificate",
            title="Constancia de registro de mascota",
            template="business_licence.html",
            tipo="CONSTANCIA_MASCOTA",
            cadena=("numero_licencia", "titular", "nombre_comercial", "domicilio"),
            rows=(
                Row("numero_licencia", "Número"),
                Row("nombre_comercial", "Mascota"),
                Row("titular", "Titular"),
                Row("domicilio", "Domicilio"),
            ),
            build=_build,
        ),
    ),
)


@pytest.fixture
def pet_installed() -> Iterator[None]:
    REGISTRY.install(PET)
    get_engine.cache_clear()
    installed.cache_clear()
    yield
    REGISTRY.uninstall(PET.name)
    get_engine.cache_clear()
    installed.cache_clear()


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _submit(client: FlaskClient, page_url: str, action: str, data: dict[str, Any], prefix: str = "", **kw: Any) -> Any:
    """Post the form of ``page_url`` that goes to ``action`` with its hidden fields, as a browser would."""
    page = client.get(page_url).get_data(as_text=True)
    hidden: dict[str, Any] = {}
    for name in (f"{prefix}csrf_token", f"{prefix}expected_version", f"{prefix}idempotency_key"):
        try:
            hidden[name] = hidden_value(page, name, action)
        except AssertionError:
            continue
    return client.post(action, data={**hidden, **data}, **kw)


def test_a_procedure_declared_only_here_is_filed_acted_on_issued_and_verified(
    pet_installed: None, app: Flask, client: FlaskClient
) -> None:
    owner = make_user(Role.APPLICANT, name="Dora Dueña")
    reviewer = make_user(Role.REVIEWER, name="Rita Registro")

    login_as(client, owner)
    assert "Registro de mascotas (prueba)" in _text(client.get("/tramites").get_data(as_text=True))
    check = "/tramites/pet_registry/elegibilidad"
    refused = _submit(client, check, check, {"animal": "otro"})
    assert "Esa especie no se registra aquí." in _text(refused.get_data(as_text=True))
    eligible = _submit(client, check, check, {"animal": "gato"}).get_data(as_text=True)
    assert "puede tramitarse por esta vía" in _text(eligible)
    start = "/tramites/pet_registry/iniciar"
    started = client.post(
        start,
        data={
            "csrf_token": csrf_token(eligible, start),
            "animal": "gato",
            "idempotency_key": hidden_value(eligible, "idempotency_key", start),
        },
    )
    assert started.status_code == 302, _text(started.get_data(as_text=True))
    assert started.headers["Location"].endswith("/pasos/datos")
    case_id = int(re.search(r"/expedientes/(\d+)/", started.headers["Location"]).group(1))  # type: ignore[union-attr]

    step = f"/expedientes/{case_id}/pasos/datos"
    saved = _submit(client, step, step, {"pet_name": "Misifú", "animal": "gato", "home": "Calle Luna 3"})
    assert saved.status_code == 302, _text(saved.get_data(as_text=True))
    assert saved.headers["Location"].endswith("/pasos/documentos")
    documents = f"/expedientes/{case_id}/pasos/documentos"
    assert "Cartilla de vacunación" in client.get(documents).get_data(as_text=True)
    uploaded = _submit(
        client,
        documents,
        f"{documents}/vacunas",
        {"vacunas-document": (io.BytesIO(demo_pdf("vacunas")), "vacunas.pdf")},
        prefix="vacunas-",
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, _text(uploaded.get_data(as_text=True))

    show = f"/expedientes/{case_id}"
    case_page = _text(client.get(show).get_data(as_text=True))
    assert "Nombre de la mascota Misifú" in case_page
    assert "Especie Gato" in case_page
    filed = _submit(client, show, f"{show}/acciones/file", {}, prefix="file-")
    assert filed.status_code == 302, _text(filed.get_data(as_text=True))

    logout(client)
    login_as(client, reviewer)
    assert 'class="danger"' in client.get(show).get_data(as_text=True)  # the declared style of «Rechazar»
    registered = _submit(client, show, f"{show}/acciones/register", {}, prefix="register-")
    assert registered.status_code == 302, _text(registered.get_data(as_text=True))

    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    assert case.folio.startswith("MASC-")
    assert case.state == "registered"
    certificate = db.session.scalars(select(Certificate).where(Certificate.case_id == case_id)).one()
    assert certificate.kind == "pet_certificate"
    assert "|CONSTANCIA_MASCOTA|" in certificate.cadena_original
    assert "|Dora Dueña|Misifú|Calle Luna 3|" in certificate.cadena_original
    verified = _text(
        client.get(f"/verificar/{certificate.folio}?c={certificate.verification_code}").get_data(as_text=True)
    )
    assert "Documento auténtico y vigente" in verified
    assert "Constancia de registro de mascota" in verified
    assert "Misifú" in verified
