"""Factories for users and cases, going through the real services."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import CommitteeItem
from app.services.cases import FireResult, fire, open_case
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.users import RoleGrant, create_user, ensure_department
from tests.support.demo_data import VECS_DATA, VECS_DOCUMENTS

PASSWORD = "Correcta-Caballo-Bateria"
_seq = itertools.count(1)


def make_user(*roles: Role | tuple[Role, str], name: str | None = None) -> int:
    """Create a user holding ``roles`` (a role, or (role, department)) and return its id."""
    grants = []
    for item in roles or (Role.APPLICANT,):
        role, department = item if isinstance(item, tuple) else (item, None)
        if department:
            ensure_department(department, department.replace("_", " ").title())
        grants.append(RoleGrant(role, department))
    n = next(_seq)
    return create_user(f"user{n}@example.test", name or f"Usuario {n}", PASSWORD, grants)


def email_of(n_user_id: int) -> str:
    """Factories name users predictably only by creation order; look the e-mail up instead."""
    from app.extensions import db
    from app.models import User

    user = db.session.get(User, n_user_id)
    assert user is not None
    return user.email


def vecs_case(applicant: int, *, documents: bool = True, data: dict[str, Any] | None = None) -> FireResult:
    """A VECS draft with complete data and (unless told otherwise) every required document."""
    opened = open_case("vecs", applicant, {**VECS_DATA, **(data or {})})
    version = opened.version
    if documents:
        for kind in VECS_DOCUMENTS:
            version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), applicant).case_version
    return FireResult(opened.case_id, opened.folio, "open", None, "draft", version, opened.audit_seq)


def submitted_case(applicant: int) -> int:
    """The id of a VECS case with every document, submitted by ``applicant``."""
    draft = vecs_case(applicant)
    fire(draft.case_id, "submit", applicant, expected_version=draft.version)
    return draft.case_id


def advance(case: FireResult, steps: list[tuple[str, int | None, dict[str, Any] | None, str | None]]) -> FireResult:
    """Fire each (trigger, actor, data, comment) in turn, carrying the version along. ``confirm_payment`` is
    the treasury's confirmation of the case's payment order (through its service; ``actor`` a treasury user,
    or ``None`` for a new one; ``data`` may name the ``operation``)."""
    result = case
    for trigger, actor, data, comment in steps:
        if trigger == "confirm_payment":
            result = pay(result, actor, operation=str((data or {}).get("operation") or "SPEI-2026-0001"))
            continue
        result = fire(result.case_id, trigger, actor, expected_version=result.version, data=data, comment=comment)
    return result


def quorum(member: int, *others: int) -> dict[int, str]:
    """The votes of a committee in session with its quorum (2 of 3 by default): ``member`` (who records the
    resolution) and ``others`` vote in favour; without ``others`` one more member is created to vote too."""
    if not others:
        others = (make_user(Role.COMMITTEE_MEMBER),)
    return dict.fromkeys((member, *others), "favor")


def pay(case: FireResult, treasurer: int | None = None, *, operation: str = "SPEI-2026-0001") -> FireResult:
    """Confirm the case's current payment order as the treasury, paid in full today (asserts it applied)."""
    from sqlalchemy import func, select

    from app.calendar import local_today
    from app.extensions import db
    from app.models import AuditEntry, Case
    from app.services.payments import confirm_payment, pending_orders
    from workflows.base import fees_total

    treasurer = treasurer if treasurer is not None else make_user(Role.TREASURY)
    order = next((o for o in pending_orders(treasurer) if o.case_id == case.case_id), None)
    if order is None:  # tests that skip rendering documents have no order: confirm as its service would
        stored = db.session.get(Case, case.case_id)
        assert stored is not None
        data = {
            "payment_reference": "SINORDEN",
            "payment_amount": f"{fees_total(stored.data.get('fees')):.2f}",
            "payment_paid_on": local_today().isoformat(),
            "payment_operation": operation,
        }
        return fire(case.case_id, "confirm_payment", treasurer, expected_version=stored.version, data=data)
    result = confirm_payment(order.reference, order.amount, local_today(), operation, treasurer, source="cashier")
    assert result.applied, result
    db.session.rollback()
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    seq = db.session.scalars(select(func.max(AuditEntry.seq)).where(AuditEntry.case_id == case.case_id)).one()
    return FireResult(
        case.case_id, case.folio, "confirm_payment", "awaiting_payment", stored.state, stored.version, seq
    )


def committed_seed(scope: str = "vecs:inspection_seed", period: str | None = None) -> str:
    """The seed the system committed for the draw ``scope`` in ``period`` (default: the current quarter),
    read as the draw reads it (tests only: no page or service gives it out before it is revealed)."""
    from sqlalchemy import select

    from app.calendar import local_today
    from app.extensions import db
    from app.models import DrawSeed
    from app.services.seeds import opened_seed, period_of

    row = db.session.scalars(
        select(DrawSeed).where(DrawSeed.scope == scope, DrawSeed.period == (period or period_of(local_today())))
    ).one()
    return opened_seed(row.seed_encrypted, row.revealed_seed, row.digest)


def stored_case(case_id: int) -> Case:
    """The case as committed (the session's open read ended first)."""
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


def case_version(case_id: int) -> int:
    """The case's version as committed (the session's open read ended first)."""
    return stored_case(case_id).version


def on_committee_agenda(unit: int, committee: int, *, requester: str = "lector@example.test") -> tuple[ar.Filed, int]:
    """An access request whose confidentiality classification is on a committee session's agenda (turned to a
    new member of the area ``obras``, answered, consolidated by ``unit``, a session opened by ``committee``);
    returns the filing and the committee item's id."""
    obras = make_user((Role.AREA, "obras"))
    filed = ar.file_request("Lector", requester, "Contratos", "electronic")
    ar.turn_request(filed.case_id, ["obras"], unit, expected_version=case_version(filed.case_id))
    answer = ar.AreaAnswer("confidential", legal_basis="Art. 116 LGTAIP")
    ar.answer_turn(filed.case_id, "obras", answer, obras, expected_version=case_version(filed.case_id))
    ar.unit_act(filed.case_id, "consolidate", unit, expected_version=case_version(filed.case_id))
    session_id = ar.open_session(f"CT-{filed.case_id}", date(2026, 11, 20), committee)
    ar.submit_to_committee(filed.case_id, session_id, unit, expected_version=case_version(filed.case_id))
    db.session.rollback()
    item = db.session.scalars(select(CommitteeItem.id).where(CommitteeItem.case_id == filed.case_id)).one()
    return filed, item
