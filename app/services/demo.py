"""Demo data for a first start: one user per role and a few cases in different states."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Case, Role, User
from app.services.access_demo import load_demo_requests
from app.services.case_actions import act
from app.services.cases import fire, open_case
from app.services.config import update_config
from app.services.departments import create_department, ensure_declared_departments, list_departments
from app.services.documents import attach_document
from app.services.publications import load_demo_publications
from app.services.users import RoleGrant, create_user

DEMO_PASSWORD = "Demo-Tramites-2026"  # noqa: S105 - printed on purpose; demo data only
DEMO_DOMAIN = "demo.gob.mx"

EXTRA_DEPARTMENTS = (("proteccion_civil", "Protección Civil"),)
"""Demo departments no installed procedure declares (those declared are created from the declarations)."""

USERS: tuple[tuple[str, str, tuple[RoleGrant, ...]], ...] = (
    ("solicitante", "Ana Solicitante", (RoleGrant(Role.APPLICANT),)),
    ("ventanilla", "Víctor Ventanilla", (RoleGrant(Role.INTAKE_CLERK, "ventanilla"),)),
    ("dictaminador", "Diana Dictaminadora", (RoleGrant(Role.REVIEWER, "desarrollo_urbano"),)),
    ("aprobador", "Alma Aprobadora", (RoleGrant(Role.REVIEWER, "desarrollo_urbano"),)),
    ("revisor", "Raúl Revisor", (RoleGrant(Role.REVIEWER, "finanzas"),)),
    ("inspector", "Irene Inspectora", (RoleGrant(Role.INSPECTOR, "obras_publicas"),)),
    ("transparencia", "Tomás Transparencia", (RoleGrant(Role.TRANSPARENCY_UNIT, "transparencia"),)),
    ("area", "Alicia Área", (RoleGrant(Role.AREA, "obras_publicas"),)),
    ("area_finanzas", "Fernando Finanzas", (RoleGrant(Role.AREA, "finanzas"),)),
    ("comite", "Carmen Comité", (RoleGrant(Role.COMMITTEE_MEMBER),)),
    ("garante", "Gerardo Garante", (RoleGrant(Role.GUARANTOR),)),
    ("auditor", "Aurora Auditora", (RoleGrant(Role.AUDITOR),)),
    ("admin", "Adán Administrador", (RoleGrant(Role.ADMIN),)),
)

VECS_DATA: dict[str, Any] = {
    "property_address": "Av. Hidalgo 123, Centro",
    "cadastral_key": "001-002-003",
    "lot_area_m2": "600",
    "built_area_m2": "420.5",
    "land_use": "comercio_abarrotes",
    "building_type": "local_comercial",
    "new_construction": True,
    "works_started": False,
    "lot_vacant": True,
    "dro_name": "Arq. Daniel Responsable",
    "dro_registration": "DRO-0421",
}

VECS_DOCUMENTS = ("identificacion", "propiedad", "alineamiento", "planos", "memoria_estructural", "carta_dro")

VECS_SETTINGS: dict[str, Any] = {
    "departments": {
        "intake": "ventanilla",
        "land_use": "desarrollo_urbano",
        "fees": "finanzas",
        "licence": "desarrollo_urbano",
        "inspection": "obras_publicas",
    },
    "fee_table": [
        {
            "concept": "Licencia de construcción de obra nueva, uso comercial",
            "unit": "m2",
            "rate": "18.50",
            "legal_basis": "Ley de Ingresos del Municipio de Ejemplo para el ejercicio fiscal 2026, art. 25, fracc. I",
        },
        {
            "concept": "Constancia de alineamiento y número oficial",
            "unit": "fixed",
            "rate": "851.00",
            "legal_basis": "Ley de Ingresos del Municipio de Ejemplo para el ejercicio fiscal 2026, art. 27",
        },
    ],
}
"""Demo settings: which department acts at each VECS stage, and a published fee table citing its basis."""

TIPO_B_SETTINGS: dict[str, Any] = {"departments": {"review": "desarrollo_urbano"}}


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A printed demo login."""

    email: str
    password: str
    roles: str


@dataclass(frozen=True, slots=True)
class DemoResult:
    """Whether demo data was created now, and the logins to print."""

    created: bool
    logins: tuple[DemoLogin, ...]


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF with ``title`` on it (ASCII), with a correct cross-reference table."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _email(handle: str) -> str:
    return f"{handle}@{DEMO_DOMAIN}"


def _logins() -> tuple[DemoLogin, ...]:
    return tuple(
        DemoLogin(_email(handle), DEMO_PASSWORD, ", ".join(g.role.value for g in grants)) for handle, _, grants in USERS
    )


def _ids() -> dict[str, int]:
    rows = db.session.execute(select(User.email, User.id).where(User.email.like(f"%@{DEMO_DOMAIN}")))
    return {email.split("@")[0]: user_id for email, user_id in rows}


def _vecs_case(
    applicant: int, steps: list[tuple[str, int, dict[str, Any] | None, str | None]], workflow: str = "vecs"
) -> None:
    opened = open_case(workflow, applicant, VECS_DATA)
    version = opened.version
    if steps:
        kinds = VECS_DOCUMENTS if workflow == "vecs" else (*VECS_DOCUMENTS, "zonificacion", "pago_derechos")
        for kind in kinds:
            version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), applicant).case_version
    for trigger, named, data, comment in steps:
        # the reviewer draw decides who acts on a department's stage: the named person stands in otherwise
        assignee = db.session.scalar(select(Case.assignee_id).where(Case.id == opened.case_id))
        actor = assignee if assignee is not None and named != applicant else named
        if trigger == "assess_fees":  # computed from the published fee table, never typed
            version = act(
                opened.case_id, trigger, actor, expected_version=version, idempotency_key=uuid.uuid4().hex
            ).version
            continue
        version = fire(opened.case_id, trigger, actor, expected_version=version, data=data, comment=comment).version


def load_demo() -> DemoResult:
    """Create the demo departments, users and cases unless they exist already (then nothing changes)."""
    if db.session.scalars(select(User.id).where(User.email == _email("solicitante"))).first() is not None:
        return DemoResult(False, _logins())
    ensure_declared_departments(None)
    existing = {department.code for department in list_departments()}
    for code, name in EXTRA_DEPARTMENTS:
        if code not in existing:
            create_department(code, name, None)
    for handle, name, grants in USERS:
        create_user(_email(handle), name, DEMO_PASSWORD, grants)
    ids = _ids()
    update_config("vecs", VECS_SETTINGS, ids["admin"])
    update_config("cdmx_tipo_b", TIPO_B_SETTINGS, ids["admin"])
    applicant, clerk = ids["solicitante"], ids["ventanilla"]
    reviewer, finance, approver = ids["dictaminador"], ids["revisor"], ids["aprobador"]
    _vecs_case(applicant, [])
    _vecs_case(applicant, [("submit", applicant, None, None)])
    _vecs_case(
        applicant,
        [
            ("submit", applicant, None, None),
            ("start_intake", clerk, None, None),
            (
                "issue_prevention",
                clerk,
                {"prevention_items": ["planos"]},
                "Los planos no muestran las cotas del predio.",
            ),
        ],
    )
    _vecs_case(
        applicant,
        [
            ("submit", applicant, None, None),
            ("start_intake", clerk, None, None),
            ("accept_intake", clerk, None, None),
            ("rule_land_use", reviewer, {"land_use_ruling": "Compatible con zonificación H3-C"}, None),
            ("assess_fees", finance, None, None),
            ("record_payment", applicant, {"payment_reference": "TES-2026-88123"}, None),
            ("approve_licence", approver, {"licence_number": "LC-2026-0001"}, None),
        ],
    )
    _vecs_case(
        applicant,
        [
            ("submit", applicant, None, None),
            ("start_intake", clerk, None, None),
            ("accept_intake", clerk, None, None),
            ("rule_land_use", reviewer, {"land_use_ruling": "Compatible con zonificación H3-C"}, None),
        ],
    )
    _vecs_case(applicant, [("submit", applicant, None, None)], workflow="cdmx_tipo_b")
    load_demo_publications(ids["area"], ids["transparencia"])
    load_demo_requests(
        ids["transparencia"], (ids["area"], ids["area_finanzas"]), ("obras_publicas", "finanzas"), ids["comite"]
    )
    return DemoResult(True, _logins())
