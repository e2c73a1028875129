"""Demo data for a first start: one user per role and a few cases in different states."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from app.calendar import local_today
from app.extensions import db
from app.models import Case, Role, User
from app.services.case_actions import act
from app.services.cases import open_case
from app.services.config import update_config
from app.services.departments import create_department, ensure_declared_departments, list_departments
from app.services.documents import attach_document
from app.services.payments import confirm_payment, pending_orders
from app.services.users import RoleGrant, create_user
from workflows import REGISTRY
from workflows.procedure import Demo, DemoStep, Payment, Procedure

DEMO_PASSWORD = "Demo-Tramites-2026"  # noqa: S105 - printed on purpose; demo data only
DEMO_DOMAIN = "demo.gob.mx"

EXTRA_DEPARTMENTS = (("proteccion_civil", "Protección Civil", "Civil Protection"),)
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
    ("comite2", "Joaquín Comité", (RoleGrant(Role.COMMITTEE_MEMBER),)),  # the quorum is two of three members
    ("garante", "Gerardo Garante", (RoleGrant(Role.GUARANTOR),)),
    ("auditor", "Aurora Auditora", (RoleGrant(Role.AUDITOR),)),
    ("admin", "Adán Administrador", (RoleGrant(Role.ADMIN),)),
)


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


def _users() -> list[tuple[str, str, tuple[RoleGrant, ...]]]:
    """The common demo logins, then those the installed procedures declare."""
    users = list(USERS)
    for procedure in REGISTRY:
        for user in procedure.demo.users if procedure.demo is not None else ():
            users.append((user.handle, user.name, (RoleGrant(Role(user.role), user.department),)))
    return users


def _logins() -> tuple[DemoLogin, ...]:
    return tuple(
        DemoLogin(_email(handle), DEMO_PASSWORD, ", ".join(g.role.value for g in grants))
        for handle, _, grants in _users()
    )


def _ids() -> dict[str, int]:
    rows = db.session.execute(select(User.email, User.id).where(User.email.like(f"%@{DEMO_DOMAIN}")))
    return {email.split("@")[0]: user_id for email, user_id in rows}


def _demo_case(procedure: Procedure, demo: Demo, ids: Mapping[str, int], steps: tuple[DemoStep, ...]) -> None:
    applicant = ids[demo.applicant]
    opened = open_case(procedure.name, applicant, demo.data)
    version = opened.version
    if steps:
        for kind in demo.documents:
            version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), applicant).case_version
    payment = procedure.payment
    for step in steps:
        named = ids[step.actor]
        if payment is not None and step.trigger == payment.confirm_trigger:  # the treasury confirms the order
            version = _pay_demo_order(opened.case_id, payment, named, step)
            continue
        # the reviewer draw decides who acts on a department's stage: the named person stands in otherwise
        assignee = db.session.scalar(select(Case.assignee_id).where(Case.id == opened.case_id))
        actor = assignee if assignee is not None and named != applicant else named
        version = act(  # as on the case page: computed fields (fees from the published table) are never typed
            opened.case_id,
            step.trigger,
            actor,
            expected_version=version,
            idempotency_key=uuid.uuid4().hex,
            inputs=step.data,
            comment=step.comment,
        ).version


def _pay_demo_order(case_id: int, payment: Payment, treasurer: int, step: DemoStep) -> int:
    """Confirm the case's payment order as the treasury would at its cashier; the case's new version."""
    order = next(o for o in pending_orders(treasurer) if o.case_id == case_id)
    operation = str((step.data or {}).get(payment.operation_field) or "DEMO-0001")
    result = confirm_payment(order.reference, order.amount, local_today(), operation, treasurer, source="cashier")
    if not result.applied:
        raise RuntimeError(f"demo payment of case {case_id} not applied: {result.outcome}")
    return int(db.session.scalars(select(Case.version).where(Case.id == case_id)).one())


def _loader(dotted: str) -> Callable[[Mapping[str, int]], None]:
    module_name, _, function = dotted.partition(":")
    if not module_name.startswith(("app.services.", "app.procedures.")) or not function:
        raise LookupError(f"demo loader {dotted!r} is not a function of app.services or app.procedures")
    loader: Callable[[Mapping[str, int]], None] = getattr(importlib.import_module(module_name), function)
    return loader


def load_demo() -> DemoResult:
    """Create the demo departments, users and cases unless they exist already (then nothing changes)."""
    if db.session.scalars(select(User.id).where(User.email == _email("solicitante"))).first() is not None:
        return DemoResult(False, _logins())
    ensure_declared_departments(None)
    existing = {department.code for department in list_departments()}
    for code, name, name_en in EXTRA_DEPARTMENTS:
        if code not in existing:
            create_department(code, name, None, name_en=name_en)
    for handle, name, grants in _users():
        create_user(_email(handle), name, DEMO_PASSWORD, grants)
    ids = _ids()
    for procedure in REGISTRY:  # each installed procedure's own demo data, as it declares it
        demo = procedure.demo
        if demo is None:
            continue
        if demo.settings:
            update_config(procedure.name, dict(demo.settings), ids["admin"])
        for steps in demo.cases:
            _demo_case(procedure, demo, ids, steps)
        if demo.loader is not None:
            _loader(demo.loader)(ids)
    return DemoResult(True, _logins())
