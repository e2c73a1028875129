"""Access-to-information requests end to end in a real browser: filed without an account and answered in
time; with a prevención; partially classified with its versión pública confirmed by the committee;
inexistence confirmed; an extension approved; incompetence; and an appeal that revokes the classification,
followed by the body's compliance."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Document, Role
from app.procedures.access_request import services as svc
from app.services.demo import demo_pdf
from tests.e2e.conftest import People, flash, press, shot
from tests.support.factories import make_user

pytestmark = pytest.mark.slow


class Office:
    """The body's people for access requests."""

    def __init__(self) -> None:
        self.unit = make_user(Role.TRANSPARENCY_UNIT, name="Tomás Transparencia")
        self.obras = make_user((Role.AREA, "obras"), name="Alicia Obras")
        self.committee = make_user(Role.COMMITTEE_MEMBER, name="Carmen Comité")
        self.committee_second = make_user(Role.COMMITTEE_MEMBER, name="Diego Comité")  # the quorum is 2 of 3
        self.guarantor = make_user(Role.GUARANTOR, name="Gerardo Garante")


def submit(page: Page, form_id: str, fields: dict[str, str] | None = None, checks: tuple[str, ...] = ()) -> None:
    form = page.locator(f"form#{form_id}")
    expect(form).to_be_visible()
    for name, value in (fields or {}).items():
        form.locator(f"[name='{name}']").fill(value)
    for value in checks:
        form.locator(f"input[type=checkbox][value='{value}'], input[type=radio][value='{value}']").check()
    press(form.locator("[type=submit]"))


def file_in_browser(people: People, fmt: str = "electronic") -> tuple[Page, str]:
    """File a request through the public form; return the requester's page (on the receipt) and the folio."""
    page = people.page()
    page.goto("/transparencia/solicitar")
    page.fill("#pseudonym", "Lector Curioso")
    page.fill("#email", "lector@example.test")
    page.fill("#information_requested", "Planos y contratos del mercado municipal")
    page.locator(f"input[name=delivery_format][value={fmt}]").check()
    page.locator("main [type=submit]").click()
    page.wait_for_url(re.compile(r"/transparencia/seguimiento/"))
    expect(page.locator(".receipt")).to_contain_text("Acuse de recibo")
    folio = re.search(r"SAI-\d{4}-\d{6}", page.locator(".receipt").inner_text())
    assert folio is not None
    return page, folio.group(0)


def case_id(folio: str) -> int:
    db.session.rollback()
    return db.session.scalars(select(Case.id).where(Case.folio == folio)).one()


def open_request(page: Page, folio: str) -> None:
    page.goto(f"/transparencia/solicitudes/{case_id(folio)}")
    expect(page.locator("main")).to_contain_text(folio)


def turn_and_answer(people: People, office: Office, folio: str, kind_fields: dict[str, str], kind: str) -> Page:
    unit = people.logged_in(office.unit)
    unit.goto("/transparencia/unidad")
    unit.get_by_role("link", name=folio).click()
    submit(unit, "form-turn", checks=("obras",))
    assert "Listo" in flash(unit)
    area = people.logged_in(office.obras)
    area.goto("/transparencia/areas")
    area.get_by_role("link", name=folio).click()
    form = area.locator("form#form-answer-obras")
    form.locator(f"input[name=kind][value={kind}]").check()
    if kind_fields.pop("partial", None):
        form.locator("input[name=partial]").check()
    submit(area, "form-answer-obras", kind_fields)
    assert "Listo" in flash(area), flash(area)
    return unit


def consolidate(unit: Page, folio: str) -> None:
    open_request(unit, folio)
    submit(unit, "form-consolidate")
    assert "Listo" in flash(unit), flash(unit)


def deliver(unit: Page, folio: str, text: str) -> None:
    """Deliver the response with every document the form offers, each ticked by hand."""
    open_request(unit, folio)
    for box in unit.locator("form#form-deliver input[name=documents]").all():
        box.check()
    submit(unit, "form-deliver", {"response_summary": text})
    assert "Listo" in flash(unit), flash(unit)
    expect(unit.locator("main")).to_contain_text("Respondida")


def committee_decides(people: People, office: Office, unit: Page, folio: str, decision: str, text: str) -> None:
    committee = people.logged_in(office.committee)
    committee.goto("/transparencia/comite")
    committee.fill("#number", f"CT-{folio[-3:]}")
    committee.fill("#held_on", "2026-11-30")
    committee.locator("main [type=submit]").click()
    committee.wait_for_url(re.compile(r"/transparencia/comite/\d+$"))
    open_request(unit, folio)
    submit(unit, "form-committee")
    assert "Listo" in flash(unit), flash(unit)
    committee.reload()
    form = committee.locator("form[id^=form-item-]")
    form.locator(f"input[name$=decision][value={decision}]").check()
    form.locator("[name$=resolution_text]").fill(text)
    for vote in form.locator("select[name*=vote_]").all():
        vote.select_option("favor")
    press(form.locator("[type=submit]"))
    assert "Resolución registrada" in flash(committee), flash(committee)


def test_answered_in_time(app: Flask, people: People):
    office = Office()
    requester, folio = file_in_browser(people)
    shot(requester, "access-receipt")
    tracking = requester.url.split("?")[0]
    unit = turn_and_answer(people, office, folio, {"answer_text": "Se anexan los contratos"}, "available")
    consolidate(unit, folio)
    deliver(unit, folio, "Se entregan los contratos del mercado")
    requester.goto(tracking)
    expect(requester.locator("main")).to_contain_text("Se entregan los contratos del mercado")
    expect(requester.locator("form#form-appeal")).to_be_visible()
    public = people.page()
    public.goto(f"/transparencia/consulta?folio={folio}")
    expect(public.locator("main")).to_contain_text(folio)
    expect(public.locator("main")).not_to_contain_text("Lector Curioso")
    shot(public, "access-public-tracking")


def test_with_prevention(app: Flask, people: People):
    office = Office()
    requester, folio = file_in_browser(people)
    tracking = requester.url.split("?")[0]
    unit = people.logged_in(office.unit)
    open_request(unit, folio)
    submit(unit, "form-prevent", {"comment": "Precise de qué mercado y qué periodo"})
    expect(unit.locator("main")).to_contain_text("Prevención")
    requester.goto(tracking)
    expect(requester.locator("main")).to_contain_text("Interrumpido por la prevención")
    submit(requester, "form-answer_prevention", {"clarification": "Mercado Hidalgo, 2024 y 2025"})
    assert "Listo" in flash(requester)
    expect(requester.locator("main")).to_contain_text("Recibida")


def test_partially_classified_with_public_version_confirmed_by_the_committee(app: Flask, people: People):
    office = Office()
    requester, folio = file_in_browser(people)
    tracking = requester.url.split("?")[0]
    unit = turn_and_answer(
        people,
        office,
        folio,
        {
            "partial": "1",
            "legal_basis": "Art. 113, fracción V, LGTAIP",
            "harm_test": "Los planos estructurales exponen la seguridad del inmueble",
            "reservation_years": "5",
            "redactions": "Se testan los planos estructurales",
        },
        "reserved",
    )
    consolidate(unit, folio)
    committee_decides(people, office, unit, folio, "confirm", "Se confirma la reserva parcial")
    open_request(unit, folio)
    submit(unit, "form-deliver", {"response_summary": "Versión pública"})
    assert "versión pública" in flash(unit), flash(unit)
    area = people.logged_in(office.obras)
    original = demo_pdf("planos estructurales sin testar")
    for kind, name, content in (
        ("respuesta_area", "planos-originales.pdf", original),
        ("version_publica", "version-publica.pdf", demo_pdf("vp")),
    ):
        open_request(area, folio)
        area.locator("form#form-document-obras select[name=kind]").select_option(kind)
        area.locator("form#form-document-obras input[type=file]").set_input_files(
            files=[{"name": name, "mimeType": "application/pdf", "buffer": content}]
        )
        press(area.locator("form#form-document-obras [type=submit]"))
        assert "Listo" in flash(area), flash(area)
    db.session.rollback()
    documents = {d.kind: d.id for d in db.session.scalars(select(Document).where(Document.case_id == case_id(folio)))}
    # the unit is offered the versión pública only: the classified original cannot be chosen
    open_request(unit, folio)
    offered = unit.locator("form#form-deliver input[name=documents]")
    expect(offered).to_have_count(1)
    expect(offered).to_have_attribute("value", str(documents["version_publica"]))
    expect(unit.locator("form#form-deliver")).not_to_contain_text("planos-originales.pdf")
    deliver(unit, folio, "Se entrega la versión pública")
    requester.goto(tracking)
    expect(requester.locator("main")).to_contain_text("version-publica.pdf")
    expect(requester.locator("main")).not_to_contain_text("planos-originales.pdf")
    expect(requester.locator("main")).to_contain_text("Se confirma la reserva parcial")
    shot(requester, "access-public-version")
    # every link on the page is a file the requester may have; none of them is the original
    links = requester.locator("main a[href*='/seguimiento/']").evaluate_all("els => els.map(e => e.href)")
    assert len(links) >= 2  # the versión pública and the sealed response
    for link in links:
        served = requester.request.get(link)
        assert served.status == 200
        assert served.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in served.headers["content-security-policy"]
        assert served.body() != original
    # guessing the original's id in the download URL gets nothing
    guessed = requester.request.get(f"{tracking}/documentos/{documents['respuesta_area']}")
    assert guessed.status == 404
    assert guessed.body() != original
    public = requester.request.get(f"{tracking}/documentos/{documents['version_publica']}")
    assert public.status == 200
    assert public.body() == demo_pdf("vp")


def test_inexistence_confirmed(app: Flask, people: People):
    office = Office()
    _, folio = file_in_browser(people)
    unit = turn_and_answer(people, office, folio, {"answer_text": "Búsqueda exhaustiva sin resultados"}, "inexistent")
    consolidate(unit, folio)
    committee_decides(people, office, unit, folio, "confirm", "Se confirma la inexistencia")
    deliver(unit, folio, "La información es inexistente")


def test_extension_approved(app: Flask, people: People):
    office = Office()
    _, folio = file_in_browser(people)
    unit = turn_and_answer(people, office, folio, {"answer_text": "En proceso"}, "available")
    committee = people.logged_in(office.committee)
    committee.goto("/transparencia/comite")
    committee.fill("#number", "CT-AMP")
    committee.fill("#held_on", "2026-11-30")
    committee.locator("main [type=submit]").click()
    committee.wait_for_url(re.compile(r"/transparencia/comite/\d+$"))
    before = svc.public_status(folio)
    assert before is not None
    open_request(unit, folio)
    submit(unit, "form-extension", {"reasons": "Volumen de la información"})
    assert "Listo" in flash(unit), flash(unit)
    committee.reload()
    form = committee.locator("form[id^=form-item-]")
    form.locator("input[name$=decision][value=approve]").check()
    form.locator("[name$=resolution_text]").fill("Se aprueba la ampliación por 10 días hábiles")
    for vote in form.locator("select[name*=vote_]").all():
        vote.select_option("favor")
    press(form.locator("[type=submit]"))
    open_request(unit, folio)
    expect(unit.locator("main")).to_contain_text("Ampliado")
    db.session.rollback()
    after = svc.public_status(folio)
    assert after is not None
    assert after.response_due_on is not None
    assert before.response_due_on is not None
    assert after.response_due_on > before.response_due_on


def test_incompetence(app: Flask, people: People):
    office = Office()
    requester, folio = file_in_browser(people)
    tracking = requester.url.split("?")[0]
    unit = people.logged_in(office.unit)
    open_request(unit, folio)
    submit(unit, "form-incompetent", {"competent_body": "Secretaría de Educación Pública", "comment": "No la genera"})
    expect(unit.locator("main")).to_contain_text("Incompetencia notificada")
    requester.goto(tracking)
    expect(requester.locator("main")).to_contain_text("Secretaría de Educación Pública")


def test_appeal_revokes_the_classification_and_compliance_follows(app: Flask, people: People):
    office = Office()
    requester, folio = file_in_browser(people)
    tracking = requester.url.split("?")[0]
    unit = turn_and_answer(people, office, folio, {"legal_basis": "Art. 116 LGTAIP"}, "confidential")
    consolidate(unit, folio)
    committee_decides(people, office, unit, folio, "confirm", "Se confirma la confidencialidad")
    deliver(unit, folio, "La información es confidencial")
    requester.goto(tracking)
    submit(requester, "form-appeal", {"appeal_statement": "Son contratos públicos"}, checks=("classification",))
    assert "Listo" in flash(requester), flash(requester)
    guarantor = people.logged_in(office.guarantor)
    guarantor.goto("/transparencia/garante")
    guarantor.get_by_role("link", name=folio).click()
    # the appeal is admitted first: its term to resolve runs from the admission (LGTAIP 2015 art. 146)
    expect(guarantor.locator("form#form-resolve")).to_have_count(0)
    submit(guarantor, "form-admit-appeal")
    requester.goto(tracking)
    expect(requester.locator("#recurso")).to_contain_text("Su recurso de revisión fue admitido")
    # version 3: the parties plead (LGTAIP 2015 art. 150, fr. II and III), then the instruction is closed (fr. VII)
    expect(guarantor.locator("form#form-resolve")).to_have_count(0)
    expect(requester.locator("#alegatos")).to_contain_text("Artículo 150, fracciones II y III")
    submit(requester, "form-file_requester_pleadings", {"requester_pleadings": "Los contratos no son confidenciales"})
    assert "Listo" in flash(requester), flash(requester)
    open_request(unit, folio)
    submit(unit, "form-unit-pleadings", {"unit_pleadings": "La confidencialidad se confirmó por el Comité"})
    guarantor.reload()
    expect(guarantor.locator("#alegatos")).to_contain_text("Los contratos no son confidenciales")
    submit(guarantor, "form-close-instruction")
    requester.goto(tracking)
    expect(requester.locator("#alegatos")).to_contain_text("decretó el cierre de instrucción")
    form = guarantor.locator("form#form-resolve")
    form.locator("input[name=appeal_decision][value=revoke]").check()
    submit(guarantor, "form-resolve", {"appeal_resolution": "Se revoca la clasificación: entréguense los contratos"})
    expect(guarantor.locator("main")).to_contain_text("Cumplimiento")
    open_request(unit, folio)
    submit(unit, "form-compliance", {"compliance_report": "Se entregaron los contratos completos"})
    guarantor.reload()
    # version 4: the appellant has a view of the report first (art. 197); the guarantor rules afterwards (art. 198)
    expect(guarantor.locator("form#form-accept-compliance")).to_have_count(0)
    expect(guarantor.locator("#vista-cumplimiento")).to_be_visible()
    requester.goto(tracking)
    expect(requester.locator("#cumplimiento")).to_contain_text("Se entregaron los contratos completos")
    submit(requester, "form-file_compliance_remarks", {"compliance_remarks": "Recibí los contratos completos"})
    assert "Listo" in flash(requester), flash(requester)
    guarantor.reload()
    expect(guarantor.locator(".compliance-remarks")).to_contain_text("Recibí los contratos completos")
    submit(guarantor, "form-accept-compliance")
    expect(guarantor.locator("main")).to_contain_text("Concluida")
    requester.goto(tracking)
    expect(requester.locator("main")).to_contain_text("Se revoca la clasificación")
    shot(requester, "access-appeal-complied")
