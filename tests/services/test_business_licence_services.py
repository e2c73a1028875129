"""The low-risk operating licence, installed only through its declaration, on both databases: filing, one
prevención, approval with a sealed licence that verifies, denial, and afirmativa ficta when the resolution term
lapses. Dates are frozen; the expected last days are counted by hand from the calendar."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit import verify
from app.calendar import LOCAL_TZ
from app.engine import GuardRefused
from app.extensions import db
from app.models import Case, Certificate, Role, Timer, TimerStatus
from app.services.case_pages import public_status
from app.services.cases import FireResult, fire, open_case
from app.services.config import update_config
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.timers import fire_due_timers
from tests.support.clock import noon
from tests.support.factories import advance, make_user

BUSINESS = {
    "business_name": "Cafetería El Portal",
    "activity": "cafeteria",
    "floor_area_m2": "60",
    "business_address": "Portal Hidalgo 4, Centro",
}
DEPARTMENT = "desarrollo_economico"


@contextmanager
def _on(day: date) -> Iterator[None]:
    with time_machine.travel(noon(day), tick=False):
        yield


def _people() -> tuple[int, int]:
    admin, owner = make_user(Role.ADMIN), make_user(Role.APPLICANT, name="Beatriz Comerciante")
    reviewer = make_user((Role.REVIEWER, DEPARTMENT), name="Ernesto Economía")
    update_config("business_licence", {"departments": {"licensing": DEPARTMENT}}, admin)
    return owner, reviewer


def _request(owner: int, data: dict[str, str] | None = None) -> FireResult:
    opened = open_case("business_licence", owner, {**BUSINESS, **(data or {})})
    version = opened.version
    for kind in ("identificacion", "comprobante_domicilio"):
        version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), owner).case_version
    return FireResult(opened.case_id, opened.folio, "open", None, "draft", version, opened.audit_seq)


def _certificate(case_id: int) -> Certificate:
    db.session.rollback()
    return db.session.scalars(select(Certificate).where(Certificate.case_id == case_id)).one()


def _resolution_due(case_id: int) -> date | None:
    db.session.rollback()
    rows = db.session.scalars(
        select(Timer.due_on).where(
            Timer.case_id == case_id, Timer.rule == "clock:resolution", Timer.status == TimerStatus.PENDING
        )
    ).all()
    assert len(rows) <= 1
    return rows[0] if rows else None


def _text(client: FlaskClient, url: str) -> str:
    body = client.get(url).get_data(as_text=True)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_filed_prevented_answered_and_approved_with_a_sealed_licence(app: Flask, client: FlaskClient) -> None:
    owner, reviewer = _people()
    case = _request(owner)
    assert case.folio.startswith("LFBR-")
    submitted = fire(case.case_id, "submit", owner, expected_version=case.version)
    assert submitted.to_state == "submitted"
    assert db.session.get(Case, case.case_id).assignee_id == reviewer  # type: ignore[union-attr]
    prevented = fire(
        case.case_id,
        "issue_prevention",
        reviewer,
        expected_version=submitted.version,
        data={"prevention_items": ["comprobante_domicilio"]},
        comment="El comprobante de domicilio no corresponde al establecimiento.",
    )
    answered = advance(
        prevented,
        [
            ("edit", owner, {"business_address": "Portal Hidalgo 4-B, Centro"}, None),
            ("answer_prevention", owner, None, None),
        ],
    )
    assert answered.to_state == "submitted"
    with pytest.raises(GuardRefused, match="única prevención"):
        fire(
            case.case_id,
            "issue_prevention",
            reviewer,
            expected_version=answered.version,
            data={"prevention_items": ["identificacion"]},
            comment="Otra vez.",
        )
    licensed = fire(case.case_id, "approve", reviewer, expected_version=answered.version)
    assert licensed.to_state == "licensed"

    certificate = _certificate(case.case_id)
    assert certificate.kind == "business_licence"
    assert re.search(r"\|LF-\d{4}-\d{6}\|", certificate.cadena_original)  # the licence's own number series
    assert "|LICENCIA_FUNCIONAMIENTO|" in certificate.cadena_original
    assert "|Beatriz Comerciante|Cafetería El Portal|Portal Hidalgo 4-B, Centro|Cafetería|60.00|" in (
        certificate.cadena_original
    )
    assert certificate.valid_until == certificate.issued_at.astimezone(LOCAL_TZ).date() + timedelta(days=365)
    page = _text(client, f"/verificar/{certificate.folio}?c={certificate.verification_code}")
    assert "Documento auténtico y vigente" in page
    assert "Licencia de funcionamiento" in page
    assert "Giro autorizado" in page
    assert verify(db.session()).ok


def test_ineligible_business_and_denial(app: Flask) -> None:
    owner, reviewer = _people()
    too_big = _request(owner, {"floor_area_m2": "250"})
    with pytest.raises(GuardRefused, match="licencia de funcionamiento ordinaria"):
        fire(too_big.case_id, "submit", owner, expected_version=too_big.version)
    bar = _request(owner, {"activity": "bar"})
    with pytest.raises(GuardRefused, match="catálogo de actividades de bajo riesgo"):
        fire(bar.case_id, "submit", owner, expected_version=bar.version)
    case = advance(_request(owner), [("submit", owner, None, None)])
    with pytest.raises(GuardRefused, match="comentario fundado y motivado"):
        fire(case.case_id, "deny", reviewer, expected_version=case.version)
    denied = fire(
        case.case_id,
        "deny",
        reviewer,
        expected_version=case.version,
        comment="El uso de suelo del predio no admite el giro (Programa de Desarrollo Urbano, art. 12).",
    )
    assert denied.to_state == "denied"
    assert db.session.scalars(select(Certificate).where(Certificate.case_id == case.case_id)).first() is None


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        (date(2026, 12, 4), date(2026, 12, 9)),  # Friday: Monday 7, Tuesday 8, Wednesday 9
        (date(2026, 11, 13), date(2026, 11, 19)),  # Friday before the long weekend (Monday 16 is a holiday)
        # Saturday: deemed filed on Monday 7, the next business day; counting starts on Tuesday 8
        (date(2026, 12, 5), date(2026, 12, 10)),
    ],
)
def test_the_resolution_term_counts_business_days_from_the_day_after_filing(app: Flask, filed: date, due: date) -> None:
    owner, _ = _people()
    with _on(filed):
        case = _request(owner)
        submitted = fire(case.case_id, "submit", owner, expected_version=case.version)
    assert _resolution_due(case.case_id) == due
    # the term whose lapse grants the licence is the procedure's legal term: anyone sees it by the folio
    status = public_status(submitted.folio, today=filed)
    assert status is not None
    assert status.legal_term is not None
    assert (status.legal_term.due_on, status.legal_term.business_days_left) == (due, 3)


def test_the_prevention_pauses_the_term_and_its_lapse_is_afirmativa_ficta(app: Flask, client: FlaskClient) -> None:
    owner, reviewer = _people()
    # a regulation giving two days to prevent (the default one, Tuesday 1 December, would have run)
    update_config("business_licence", {"prevention_issue_days": 2}, make_user(Role.ADMIN))
    with _on(date(2026, 11, 30)):  # Monday: counting starts on Tuesday 1 December
        case = _request(owner)
        submitted = fire(case.case_id, "submit", owner, expected_version=case.version)
    assert _resolution_due(case.case_id) == date(2026, 12, 3)
    with _on(date(2026, 12, 2)):  # Wednesday: Tuesday 1 used, two days left
        prevented = fire(
            case.case_id,
            "issue_prevention",
            reviewer,
            expected_version=submitted.version,
            data={"prevention_items": ["identificacion"]},
            comment="La identificación está vencida.",
        )
    assert _resolution_due(case.case_id) is None
    # the applicant's five business days to answer: 3, 4, 7, 8 and 9 December
    with _on(date(2026, 12, 9)):  # Wednesday, the last of them: resumes on Thursday 10 with two days left
        answered = fire(case.case_id, "answer_prevention", owner, expected_version=prevented.version)
    assert answered.to_state == "submitted"
    assert _resolution_due(case.case_id) == date(2026, 12, 11)
    with _on(date(2026, 12, 11)):  # the last day itself: nothing lapses yet
        fire_due_timers()
    db.session.rollback()
    assert db.session.get(Case, case.case_id).state == "submitted"  # type: ignore[union-attr]
    with _on(date(2026, 12, 14)):
        fire_due_timers()
    db.session.rollback()
    lapsed = db.session.get(Case, case.case_id)
    assert lapsed is not None
    assert lapsed.state == "licensed"
    assert lapsed.data["resolution_lapsed_on"] == "2026-12-11"
    certificate = _certificate(case.case_id)
    assert certificate.kind == "business_licence"
    assert certificate.issued_by_id is None  # issued by the system, recorded with the rule
    page = _text(client, f"/verificar/{certificate.folio}?c={certificate.verification_code}")
    assert "Documento auténtico y vigente" in page
    assert verify(db.session()).ok
