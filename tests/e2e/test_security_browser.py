"""In a real browser: the content security policy breaks nothing on the main pages (Chromium reports no
violation), a refused upload says why, and uploaded documents download as attachments."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import ConsoleMessage, Page, expect

from app.models import Role
from app.services.demo import demo_pdf
from tests.e2e.conftest import People
from tests.support.factories import make_user, vecs_case


def watch_violations(page: Page) -> list[str]:
    """Collect the console messages Chromium writes when the content security policy blocks something."""
    seen: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            seen.append(message.text)

    page.on("console", record)
    return seen


def test_pages_work_under_the_policy_and_documents_download(app: Flask, people: People) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    page = people.logged_in(owner)
    violations = watch_violations(page)
    for path in ("/aviso-de-privacidad", "/aviso-de-privacidad/simplificado", "/verificar", "/inicio"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    expect(page.locator("footer a", has_text="Aviso de privacidad")).to_be_visible()

    page.goto(f"/expedientes/{case.case_id}/pasos/documentos")
    row = page.locator("#requisito-planos")
    row.locator("input[type=file]").set_input_files(
        files=[{"name": "planos.pdf", "mimeType": "application/pdf", "buffer": b"<html><script>alert(1)</script>"}]
    )
    row.locator("button[type=submit]").click()
    expect(page.locator(".flash-error")).to_contain_text("El archivo no es un PDF válido.")

    row = page.locator("#requisito-planos")
    row.locator("input[type=file]").set_input_files(
        files=[{"name": "../../planos\u202e.pdf", "mimeType": "application/pdf", "buffer": demo_pdf("planos")}]
    )
    row.locator("button[type=submit]").click()
    expect(page.locator(".flash-info")).to_contain_text("adjuntado")
    link = page.locator("#requisito-planos a[download]")
    expect(link).to_have_text("planos.pdf")
    with page.expect_download() as download:
        link.click()
    assert re.fullmatch(r"expediente-\d+-[a-z_]+-\d+\.pdf", download.value.suggested_filename)
    assert violations == []
