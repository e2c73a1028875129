"""A quarterly transparency-obligation publication in a real browser: the area drafts it, the transparency unit
returns it once with observations, the area corrects it, the unit validates and publishes it, the public sees
it; then the guarantor draws the quarter's sample, files findings on the sampled record, the area corrects it
and the guarantor accepts the correction, which becomes public."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.models import Role
from app.procedures.obligation_publication.services import open_quarter
from app.services.config import update_config
from app.services.users import ensure_department
from tests.e2e.conftest import People, flash, press, shot
from tests.support.factories import make_user

pytestmark = pytest.mark.slow


def decision(page: Page, trigger: str, comment: str = "") -> None:
    form = page.locator(f"form#form-{trigger}")
    expect(form).to_be_visible()
    if comment:
        form.locator("textarea").fill(comment)
    press(form.locator("button[type=submit]"))


def fill_row(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"[name='row-1-{name}']", value)


def test_quarterly_publication_returned_once_published_and_verified(app: Flask, people: People) -> None:
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    admin = make_user(Role.ADMIN)
    area_id = make_user((Role.AREA, "finanzas"), name="Fernanda Finanzas")
    unit_id = make_user(Role.TRANSPARENCY_UNIT, name="Ulises Unidad")
    guarantor_id = make_user(Role.GUARANTOR, name="Gerardo Garante")
    update_config("obligation_publication", {"sample_rate": "1"}, admin)  # every published record is verified
    open_quarter(2026, 1)

    # The area finds the budget publication from its home page and sends an incomplete record.
    area = people.logged_in(area_id)
    area.click("text=Publicaciones de obligaciones")
    expect(area.locator("h1")).to_have_text("Publicaciones de obligaciones")
    area.click("tr:has-text('Presupuesto asignado') a")
    expect(area.locator("h1")).to_contain_text("Presupuesto asignado y su ejercicio")
    case_url = area.url
    fill_row(area, {"capitulo": "1000 Servicios personales", "aprobado": "1,500,000.00", "ejercido": "uno"})
    press(area.locator("#record-form [name=send]"))
    assert "Renglón 1: «Presupuesto ejercido» debe ser un número." in flash(area)
    expect(area.locator("[name='row-1-ejercido']")).to_have_value("uno")  # nothing typed is lost
    area.fill("[name='row-1-ejercido']", "350000")
    press(area.locator("#record-form [name=send]"))
    assert "Registro enviado a validación." in flash(area)
    expect(area.locator("#state")).to_have_text("En validación por la Unidad de Transparencia")
    shot(area, "60-publication-submitted")

    # The unit returns it with observations (an empty observation is refused first).
    unit = people.logged_in(unit_id)
    unit.goto(case_url)
    decision(unit, "return_record")
    assert "Esta acción requiere un comentario fundado y motivado." in flash(unit)
    decision(unit, "return_record", "Falta el hipervínculo al informe de avance.")
    expect(unit.locator("#state")).to_have_text("Devuelto al área con observaciones")

    # The area reads the observation, completes the record and sends it again.
    area.goto(case_url)
    expect(area.locator("ul.observations")).to_contain_text("Falta el hipervínculo al informe de avance.")
    area.fill("[name='row-1-hipervinculo']", "https://transparencia.municipio.example/avance-2026-1.pdf")
    area.click("#record-form [name=send]")
    expect(area.locator("#state")).to_have_text("En validación por la Unidad de Transparencia")

    # The unit validates and publishes.
    unit.goto(case_url)
    decision(unit, "validate")
    expect(unit.locator("#state")).to_have_text("Validado; pendiente de publicar")
    decision(unit, "publish")
    expect(unit.locator("#state")).to_have_text("Publicado")

    # Anyone sees it, with its dates, and can download the open data.
    public = people.page()
    public.goto("/transparencia/obligaciones?ejercicio=2026&trimestre=1")
    section = public.locator("#formato-presupuesto")
    expect(section).to_contain_text("1000 Servicios personales")
    expect(section).to_contain_text("Fecha de validación:")
    expect(public.locator("main")).not_to_contain_text("Fernanda")
    shot(public, "61-publication-public")
    with public.expect_download() as download:
        section.get_by_role("link", name="CSV de todos los ejercicios").click()
    csv_text = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115
    assert "1000 Servicios personales" in csv_text
    assert csv_text.startswith("formato,fundamento_legal,ejercicio,trimestre,folio_registro,")
    with public.expect_download() as download:
        section.get_by_role("link", name="CSV del ejercicio 2026").click()
    assert download.value.suggested_filename == "obligaciones-presupuesto-2026.csv"
    assert "1000 Servicios personales" in open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115

    # The guarantor draws the quarter's sample: the published record is selected.
    guarantor = people.logged_in(guarantor_id)
    guarantor.click("text=Sorteo de verificación")
    guarantor.fill("[name=year]", "2026")
    guarantor.select_option("[name=quarter]", "1")
    press(guarantor.locator("#sample-form [name=submit]"))
    # every record of the quarter is drawn: the two formats not published are selected as missing (findings)
    assert re.search(
        r"Sorteo realizado \(entrada \d+ de la bitácora\): 3 de 3 registros seleccionados; 2 no estaban publicados",
        flash(guarantor),
    )
    shot(guarantor, "62-publication-sample")
    guarantor.fill("[name=year]", "2026")
    guarantor.select_option("[name=quarter]", "1")
    press(guarantor.locator("#sample-form [name=submit]"))
    assert "El sorteo de ese trimestre ya se realizó" in flash(guarantor)
    guarantor.click("text=Compromisos, revelaciones y cómo reproducir los sorteos")
    expect(guarantor.locator("code.seed")).to_be_visible()  # revealed by the draw, beside its commitment
    expect(guarantor.locator("main")).to_contain_text("Seleccionado: hallazgo por no publicar")

    # Findings on the sampled record, with a term to correct it.
    guarantor.goto(case_url)
    expect(guarantor.locator("#state")).to_contain_text("Seleccionado en el sorteo")
    decision(guarantor, "file_findings", "El monto aprobado no coincide con el presupuesto de egresos publicado.")
    expect(guarantor.locator("#state")).to_have_text("Con observaciones del órgano garante; el área debe corregir")
    expect(guarantor.locator("dl.status")).to_contain_text("Plazo para corregir")

    # The area corrects; the correction is public only once the guarantor accepts it.
    area.goto(case_url)
    area.fill("[name='row-1-aprobado']", "1450000.00")
    area.click("#record-form [name=send]")
    expect(area.locator("#state")).to_have_text("Corrección presentada; en revisión del órgano garante")
    public.goto("/transparencia/obligaciones")
    expect(public.locator("#formato-presupuesto")).not_to_contain_text("1450000.00")
    guarantor.goto(case_url)
    decision(guarantor, "accept_correction")
    expect(guarantor.locator("#state")).to_have_text("Verificado y concluido")
    public.goto("/transparencia/obligaciones")
    expect(public.locator("#formato-presupuesto")).to_contain_text("1450000.00")
    shot(public, "63-publication-corrected")
