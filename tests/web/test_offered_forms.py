"""The generic case page (and the procedures' own pages) offer a form only for a step that can be taken now:
a step refused for a reason typing cannot change (the one prevención used, a window lapsed, an extension
already granted, a quarter not yet over) is not a form but a short line saying why; a step whose only
obstacle is the form's own input (an appeal's grounds, a resolution's text) is offered. Both databases."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import app.services.cases as cases_service
from app.engine import Actor, CaseView, get_engine
from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as ar
from app.procedures.obligation_publication.models import ObligationPublication
from app.procedures.obligation_publication.services import decide, open_quarter, save_record, submit_record
from app.services.certificates import CertificateEffects
from app.services.users import ensure_department
from tests.support.access_requests import answer_and_appeal
from tests.support.factories import advance, case_version, make_user, vecs_case
from tests.web.helpers import login_as, text
from workflows.base import HistoryItem


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cases_service, "transition_effects", lambda *args, **kwargs: CertificateEffects())


def _form(page: str, trigger: str) -> bool:
    return f'id="accion-{trigger}"' in page


def _unavailable(page: str, trigger: str) -> str:
    found = re.search(rf'<li id="no-disponible-{trigger}">(.*?)</li>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


# -- the engine: guards on the form's input do not hide a step, guards on the case do ------------------


def test_input_guards_wait_for_the_form_and_standing_guards_hide_the_step(app: Flask) -> None:
    engine = get_engine()
    guarantor = Actor(7, frozenset({Role.GUARANTOR.value}))
    appealed = CaseView("access_request", 1, "appealed", 3, applicant_id=1)
    offered = {t.trigger: t for t in engine.available(appealed, guarantor, today=date(2026, 3, 2))}
    assert offered["resolve_appeal"].enabled  # its guards judge the decision and the text the form brings
    assert offered["extend_resolution"].enabled
    extended = CaseView(
        "access_request", 1, "appealed", 4, applicant_id=1, history=(HistoryItem("extend_resolution", 7),)
    )
    offered = {t.trigger: t for t in engine.available(extended, guarantor, today=date(2026, 3, 2))}
    assert not offered["extend_resolution"].enabled
    assert [r.msgid for r in offered["extend_resolution"].reasons] == [
        "El plazo para resolver el recurso solo puede ampliarse una vez."
    ]
    requester = Actor(1, frozenset({Role.APPLICANT.value}))
    answered = CaseView("access_request", 1, "answered", 5, applicant_id=1)
    appeal = next(t for t in engine.available(answered, requester, today=date(2026, 3, 2)) if t.trigger == "appeal")
    assert appeal.enabled  # the grounds come with the form
    lapsed = CaseView("access_request", 1, "received", 2, applicant_id=1, data={"prevention_window_closed_on": "x"})
    unit = Actor(8, frozenset({Role.TRANSPARENCY_UNIT.value}))
    prevent = next(t for t in engine.available(lapsed, unit, today=date(2026, 3, 2)) if t.trigger == "prevent")
    assert not prevent.enabled


def test_every_declared_input_guard_is_a_guard() -> None:
    for workflow in get_engine().definitions:
        assert workflow.input_guards <= set(workflow.guards), workflow.name


# -- VECS: the one prevención ---------------------------------------------------------------------------


def test_vecs_the_used_prevencion_is_not_offered_again(client: FlaskClient) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(vecs_case(owner), [("submit", owner, None, None), ("start_intake", clerk, None, None)])
    login_as(client, clerk)
    page = text(client.get(f"/expedientes/{case.case_id}"))
    assert _form(page, "issue_prevention")
    assert _form(page, "accept_intake")
    assert _unavailable(page, "issue_prevention") == ""
    advance(
        case,
        [
            ("issue_prevention", clerk, {"prevention_items": ["planos"]}, "Faltan cotas."),
            ("answer_prevention", owner, None, None),
        ],
    )
    page = text(client.get(f"/expedientes/{case.case_id}"))
    assert not _form(page, "issue_prevention")
    assert "única prevención permitida" in _unavailable(page, "issue_prevention")
    assert _form(page, "accept_intake")
    assert "disabled" not in page.split('id="acciones"')[1].split("</section>")[0]


def test_vecs_a_request_without_its_documents_is_not_offered_for_filing(client: FlaskClient) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    page = text(client.get(f"/expedientes/{case.case_id}"))
    assert not _form(page, "submit")
    assert "Falta el documento" in _unavailable(page, "submit")


# -- access requests: the guarantor's extension, the appeal's own input ---------------------------------


def _appealed(unit: int, obras: int) -> ar.Filed:
    """A request answered and appealed (awaiting the guarantor's admission)."""
    filed = ar.file_request("Lector", "lector@example.test", "Contratos", "electronic")
    answer_and_appeal(filed, unit, obras)
    return filed


def test_access_the_guarantors_extension_is_offered_once(client: FlaskClient) -> None:
    unit, obras, guarantor = (
        make_user(Role.TRANSPARENCY_UNIT),
        make_user((Role.AREA, "obras")),
        make_user(Role.GUARANTOR),
    )
    filed = _appealed(unit, obras)
    login_as(client, guarantor)
    page = text(client.get(f"/expedientes/{filed.case_id}"))
    assert not _form(page, "extend_resolution")  # not before the appeal is admitted: no term to extend
    staff = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert 'id="form-admit-appeal"' in staff
    assert 'id="form-dismiss-appeal"' in staff
    assert 'id="form-extend-resolution"' not in staff
    ar.guarantor_act(filed.case_id, "admit_appeal", guarantor, expected_version=case_version(filed.case_id))
    page = text(client.get(f"/expedientes/{filed.case_id}"))
    assert not _form(page, "resolve_appeal")  # its own page collects the decision and its text
    assert _form(page, "extend_resolution")
    staff = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert 'id="form-extend-resolution"' in staff
    ar.guarantor_act(
        filed.case_id,
        "extend_resolution",
        guarantor,
        expected_version=case_version(filed.case_id),
        comment="Carga",
    )
    page = text(client.get(f"/expedientes/{filed.case_id}"))
    assert not _form(page, "extend_resolution")
    assert "solo puede ampliarse una vez" in _unavailable(page, "extend_resolution")
    staff = text(client.get(f"/transparencia/solicitudes/{filed.case_id}"))
    assert 'id="form-extend-resolution"' not in staff
    assert 'id="form-resolve"' not in staff  # version 3: resolved once the instruction is closed
    assert 'id="instruction-open"' in staff


# -- publications: not before the quarter ends ----------------------------------------------------------


def test_publication_is_not_offered_before_the_quarter_ends(client: FlaskClient) -> None:
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    area, unit = make_user((Role.AREA, "finanzas")), make_user(Role.TRANSPARENCY_UNIT)
    row = {"capitulo": "1000", "aprobado": "1.00", "ejercido": "1", "hipervinculo": ""}
    with time_machine.travel(datetime(2026, 3, 20, 18, 0, tzinfo=UTC), tick=False):  # the first quarter runs on
        open_quarter(2026, 1, today=date(2026, 3, 20))
        db.session.rollback()
        case = db.session.scalars(
            select(Case)
            .join(ObligationPublication, ObligationPublication.case_id == Case.id)
            .where(ObligationPublication.format_code == "presupuesto")
        ).one()
        result = save_record(case.id, area, rows=[row], note="", expected_version=case.version)
        result = submit_record(case.id, area, expected_version=result.version)
        decide(
            case.id, "validate", unit, expected_version=result.version, idempotency_key=uuid.uuid4().hex, comment=None
        )
        login_as(client, unit)
        page = text(client.get(f"/transparencia/publicaciones/{case.id}"))
        assert 'id="form-publish"' not in page
        assert "El trimestre aún no termina" in _unavailable(page, "publish")
    with time_machine.travel(datetime(2026, 4, 2, 18, 0, tzinfo=UTC), tick=False):
        login_as(client, unit)
        page = text(client.get(f"/transparencia/publicaciones/{case.id}"))
        assert 'id="form-publish"' in page
        assert _unavailable(page, "publish") == ""
