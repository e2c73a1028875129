"""The low-risk operating licence in a real browser, served entirely by the generic pages from its declaration:
catalogue, eligibility, the applicant's steps (a form built from the declared fields), documents, filing, one
prevención answered, approval, the sealed licence downloaded and verified through its public page."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Certificate, Role
from app.services.config import update_config
from app.services.demo import demo_pdf
from tests.e2e.conftest import People, press, shot
from tests.support.factories import make_user

pytestmark = pytest.mark.slow


def action(page: Page, trigger: str, fields: dict[str, str] | None = None, checks: tuple[str, ...] = ()) -> None:
    form = page.locator(f"form#accion-{trigger}")
    expect(form).to_be_visible()
    for name, value in (fields or {}).items():
        form.locator(f"[name='{trigger}-{name}']").fill(value)
    for value in checks:
        form.locator(f"input[type=checkbox][value='{value}']").check()
    press(form.locator("button[type=submit]"))


def upload(page: Page, kind: str) -> None:
    row = page.locator(f"#requisito-{kind}")
    row.locator("input[type=file]").set_input_files(
        files=[{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": demo_pdf(kind)}]
    )
    press(row.locator("button[type=submit]"))


def test_a_business_licence_from_the_catalogue_to_its_verification(app: Flask, people: People) -> None:
    admin = make_user(Role.ADMIN)
    reviewer = make_user((Role.REVIEWER, "desarrollo_economico"), name="Ernesto Economía")
    owner = make_user(Role.APPLICANT, name="Beatriz Comerciante")
    update_config("business_licence", {"departments": {"licensing": "desarrollo_economico"}}, admin)

    applicant = people.logged_in(owner)
    applicant.goto("/tramites")
    expect(applicant.locator("main")).to_contain_text("Licencia de funcionamiento de bajo riesgo")
    applicant.click("a[href='/tramites/business_licence/elegibilidad']")
    # too large a floor area is refused with the reason and the procedure that applies instead
    applicant.select_option("#activity", "cafeteria")
    applicant.fill("#floor_area_m2", "350")
    applicant.click("#check")
    expect(applicant.locator(".result.not-eligible")).to_contain_text("licencia de funcionamiento ordinaria")
    applicant.fill("#floor_area_m2", "60")
    applicant.click("#check")
    expect(applicant.locator(".result.eligible")).to_be_visible()
    shot(applicant, "40-business-licence-eligible")
    applicant.click("text=Iniciar solicitud")
    expect(applicant).to_have_url(re.compile(r"/pasos/negocio$"))
    case_id = int(re.search(r"/expedientes/(\d+)/", applicant.url).group(1))  # type: ignore[union-attr]
    expect(applicant.locator("#floor_area_m2")).to_have_value("60.00")  # stored in its canonical form
    applicant.fill("#business_name", "Cafetería El Portal")
    applicant.fill("#business_address", "Portal Hidalgo 4, Centro")
    shot(applicant, "41-business-licence-step")
    applicant.click("main input[type=submit]")
    expect(applicant).to_have_url(re.compile(r"/pasos/documentos$"))
    for kind in ("identificacion", "comprobante_domicilio"):
        upload(applicant, kind)
    applicant.goto(f"/expedientes/{case_id}")
    expect(applicant.locator("#datos")).to_contain_text("Cafetería El Portal")
    expect(applicant.locator("#datos")).to_contain_text("60 m²")
    expect(applicant.locator("#datos")).to_contain_text("Cafetería")
    action(applicant, "submit")
    expect(applicant.locator(".state-badge")).to_contain_text("Dirección de Desarrollo Económico")

    office = people.logged_in(reviewer)
    office.goto(f"/expedientes/{case_id}")
    expect(office.locator("form#accion-deny button")).to_have_class(re.compile("danger"))
    action(
        office,
        "issue_prevention",
        {"comment": "El comprobante no corresponde al domicilio del establecimiento."},
        checks=("comprobante_domicilio",),
    )
    expect(office.locator(".state-badge")).to_contain_text("Prevención")

    applicant.goto(f"/expedientes/{case_id}")
    box = applicant.locator("#prevencion")
    expect(box).to_contain_text("Comprobante de domicilio del establecimiento")
    expect(box).to_contain_text("no corresponde al domicilio")
    shot(applicant, "42-business-licence-prevention")
    applicant.goto(f"/expedientes/{case_id}/pasos/negocio")
    applicant.fill("#business_address", "Portal Hidalgo 4-B, Centro")
    applicant.click("main input[type=submit]")
    upload(applicant, "comprobante_domicilio")
    applicant.goto(f"/expedientes/{case_id}")
    action(applicant, "answer_prevention")
    expect(applicant.locator(".state-badge")).to_contain_text("Presentada")

    office.goto(f"/expedientes/{case_id}")
    expect(office.locator("form#accion-issue_prevention")).to_have_count(0)  # the one prevención was used
    expect(office.locator("#no-disponible-issue_prevention")).to_contain_text("única prevención")
    action(office, "approve")
    expect(office.locator(".state-badge")).to_contain_text("Licencia de funcionamiento expedida")

    applicant.goto(f"/expedientes/{case_id}")
    shot(applicant, "43-business-licence-issued")
    issued = applicant.locator("#documentos-emitidos")
    expect(issued).to_contain_text("Licencia de funcionamiento")
    with applicant.expect_download() as download:
        issued.locator("a", has_text="Descargar PDF").first.click()
    content = download.value.path().read_bytes()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "LICENCIA DE FUNCIONAMIENTO" in text.upper()
    assert "Cafetería El Portal" in text
    assert "Portal Hidalgo 4-B, Centro" in text
    db.session.rollback()
    certificate = db.session.scalars(select(Certificate).where(Certificate.case_id == case_id)).one()
    assert certificate.verification_code in text  # printed beside the QR code, with the folio

    public = people.page()
    public.goto("/verificar")
    public.fill("#folio", certificate.folio)
    public.fill("#codigo", certificate.verification_code)
    public.locator("main form button[type=submit]").click()
    expect(public.locator("main")).to_contain_text("Documento auténtico y vigente")
    expect(public.locator("main")).to_contain_text("Licencia de funcionamiento")
    shot(public, "44-business-licence-verified")
