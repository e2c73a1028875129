"""The citations an access request prints follow the jurisdiction's ``legal_bases`` setting, on SQLite and
PostgreSQL: the cost sheet's rows (response PDF, payment order PDF, tracking page), the payment order's opening
and its *Fundamento legal*, the consulta directa paragraph of the response PDF, the notice of incompetence's
*Fundamento legal*, and the citations beside the unit's forms. A jurisdiction under its own law (or the 2025
general law) changes the setting and no document, page or mail cites the 2015 law any more; under the default
setting the documents say what they said before. PDFs are read back with pypdf."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

import time_machine
from flask import Flask, current_app
from flask.testing import FlaskClient

from app.models import Role
from app.procedures.access_request import services as ar
from app.services.config import update_config
from app.services.delivery import deliver_pending
from app.services.timers import fire_due_timers
from tests.support.access_requests import ADDRESS, consolidated, deliver, issued_pdf_text
from tests.support.clock import noon
from tests.support.factories import case_version, make_user, stored_case
from tests.web.helpers import login_as
from workflows import access_request as wf

STATE_LAW = "de la Ley de Transparencia del Estado de Ejemplo (POE 2 de enero de 2026)"
STATE_LAW_INLINE = "de la Ley de Transparencia del Estado de Ejemplo, POE 2 de enero de 2026"
ARTICLES = {
    "prevention": 101,
    "incompetence": 102,
    "appeal": 103,
    "resolution": 104,
    "compliance": 105,
    "public_source": 106,
    "payment": 107,
    "extension": 108,
    "classification": 109,
    "consultation": 110,
    "inexistence": 111,
    "reproduction_costs": 112,
    "late_response": 113,
    "cost_waiver": 114,
}
STATE_BASES = {act: f"Artículo {n} {STATE_LAW}" for act, n in ARTICLES.items()}
LAW_2015 = "DOF 4 de mayo de 2015"
"""What every citation of the 2015 general law says (the law's name alone is also the 2025 law's)."""
GENERAL_2015 = "de la Ley General de Transparencia y Acceso a la Información Pública"


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _says(text: str, phrase: str) -> bool:
    """Whether ``text`` says ``phrase``, wherever the layout broke its lines."""
    return _squeezed(phrase) in _squeezed(text)


def _state_law() -> None:
    update_config("access_request", {"legal_bases": STATE_BASES}, make_user(Role.ADMIN))


def _tracking_page(filed: ar.Filed) -> str:
    return current_app.test_client().get(f"/transparencia/seguimiento/{filed.token}").get_data(as_text=True)


# -- the cost sheet and the payment order -----------------------------------------------------------------


def test_the_cost_sheet_and_the_payment_order_cite_the_jurisdictions_articles(app: Flask, mailbox):
    _state_law()
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, unit, document = consolidated("simple_copies", mailbox)
        deliver(filed, unit, document, ar.Costs(page_count=25))
        rows = stored_case(filed.case_id).data["cost_sheet"]
        assert [r["legal_basis"] for r in rows] == [f"Artículo 112 {STATE_LAW}"] * 2
        response = issued_pdf_text(filed.case_id, "access_response")
        assert _says(response, f"Fundamento: Artículo 112 {STATE_LAW}")
        order = issued_pdf_text(filed.case_id, wf.PAYMENT_ORDER)
        # the order opens with the payment's basis, lists each row with its own and closes with the payment's
        assert _says(order, f"Con fundamento en el artículo 107 {STATE_LAW}, y determinados los costos")
        assert _says(order, f"Fundamento: Artículo 112 {STATE_LAW}")
        assert _says(order, f"a los costos de reproducción y envío (artículo 107 {STATE_LAW_INLINE}).")
        for text in (response, order):
            assert LAW_2015 not in text
        page = _tracking_page(filed)
        assert f"Artículo 112 {STATE_LAW}" in page
        assert f"Artículo 107 {STATE_LAW}" in page  # the payment's basis beside the reference
        assert LAW_2015 not in page
        deliver_pending()
        body = [m for m in mailbox.messages if m["To"] == ADDRESS][-1].get_content()
        assert f"Artículo 107 {STATE_LAW}" in body
        assert LAW_2015 not in body


def test_the_waiver_and_the_late_response_rows_cite_the_jurisdictions_articles(app: Flask):
    _state_law()
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        waived, unit, document = consolidated("certified_copies")
        deliver(waived, unit, document, ar.Costs(page_count=3, waived=True, waiver_reason="Adulto mayor"))
        text = issued_pdf_text(waived.case_id, "access_response")
        assert _says(text, f"Adulto mayor Fundamento: Artículo 114 {STATE_LAW}")
        assert LAW_2015 not in text
        late, unit, document = consolidated("certified_copies")
    # the response term (20 business days) lapsed on Tuesday 5 August 2025; the silence's appeal term still runs
    with time_machine.travel(noon(date(2025, 8, 11)), tick=False):
        fire_due_timers()
        assert stored_case(late.case_id).data.get("response_overdue_on")
        deliver(late, unit, document, ar.Costs(page_count=3))
        text = issued_pdf_text(late.case_id, "access_response")
        assert _says(text, f"la entrega no tiene costo Fundamento: Artículo 113 {STATE_LAW}")
        assert LAW_2015 not in text


def test_under_the_default_setting_the_order_and_the_sheet_say_what_they_said(app: Flask):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed, unit, document = consolidated("simple_copies")
        deliver(filed, unit, document, ar.Costs(page_count=25))
        order = issued_pdf_text(filed.case_id, wf.PAYMENT_ORDER)
        # the text the template and the declaration wrote before the citations followed the setting
        assert _says(
            order,
            f"Con fundamento en los artículos 134 y 141 {GENERAL_2015} (DOF 4 de mayo de 2015), y determinados "
            "los costos de reproducción y envío",
        )
        assert _says(
            order, f"a los costos de reproducción y envío (artículos 134 y 141 {GENERAL_2015}, DOF 4 de mayo de 2015)."
        )
        for text in (order, issued_pdf_text(filed.case_id, "access_response")):
            assert _says(text, f"Fundamento: Artículo 141 {GENERAL_2015} (DOF 4 de mayo de 2015)")


# -- consulta directa ---------------------------------------------------------------------------------------


def _consultation(mailbox: Any = None) -> ar.Filed:
    filed, unit, document = consolidated(wf.CONSULTATION, mailbox)
    deliver(
        filed,
        unit,
        document,
        ar.Costs(
            consultation_at=datetime.combine(date(2025, 7, 15), time(10, 30)),
            consultation_place="Archivo municipal, Av. Juárez 10",
        ),
    )
    return filed


def test_the_consulta_directa_paragraph_cites_the_jurisdictions_article(app: Flask, mailbox):
    _state_law()
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed = _consultation(mailbox)
        text = issued_pdf_text(filed.case_id, "access_response")
        assert _says(
            text,
            f"en Archivo municipal, Av. Juárez 10 (artículo 110 {STATE_LAW_INLINE}). La consulta no tiene costo.",
        )
        assert LAW_2015 not in text
        page = _tracking_page(filed)
        assert f"Artículo 110 {STATE_LAW}" in page
        assert LAW_2015 not in page
        deliver_pending()
        body = [m for m in mailbox.messages if m["To"] == ADDRESS][-1].get_content()
        assert f"Artículo 110 {STATE_LAW}" in body
        assert LAW_2015 not in body


def test_under_the_default_setting_the_consulta_directa_paragraph_says_what_it_said(app: Flask):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        filed = _consultation()
        text = issued_pdf_text(filed.case_id, "access_response")
        assert _says(
            text,
            "en Archivo municipal, Av. Juárez 10 (artículo 133 de la Ley General de Transparencia y Acceso a la "
            "Información Pública, DOF 4 de mayo de 2015). La consulta no tiene costo.",
        )


# -- the notice of incompetence -----------------------------------------------------------------------------


def _incompetent() -> ar.Filed:
    unit = make_user(Role.TRANSPARENCY_UNIT)
    filed = ar.file_request("Lector", ADDRESS, "Calificaciones escolares", "electronic")
    ar.unit_act(
        filed.case_id,
        "declare_incompetent",
        unit,
        expected_version=case_version(filed.case_id),
        data={"competent_body": "Secretaría de Educación del Estado"},
        comment="La información la genera la autoridad educativa estatal",
    )
    return filed


def test_the_notice_of_incompetence_cites_the_jurisdictions_article_under_its_legal_basis(app: Flask):
    _state_law()
    filed = _incompetent()
    text = issued_pdf_text(filed.case_id, "incompetence_notice")
    assert _says(text, f"a la notoria incompetencia (artículo 102 {STATE_LAW_INLINE}).")
    assert LAW_2015 not in text


def test_under_the_default_setting_the_notice_of_incompetence_says_what_it_said(app: Flask):
    text = issued_pdf_text(_incompetent().case_id, "incompetence_notice")
    assert _says(
        text,
        "a la notoria incompetencia (artículo 136 de la Ley General de Transparencia y Acceso a la Información "
        "Pública, DOF 4 de mayo de 2015).",
    )


# -- the unit's page ----------------------------------------------------------------------------------------


def test_the_units_forms_show_the_jurisdictions_citations(app: Flask, client: FlaskClient):
    """The forms cited "(art. 130, LGTAIP 2015)", "(art. 133)" and "(arts. 134 y 141)" whatever the setting."""
    _state_law()
    received = ar.file_request("Lector", ADDRESS, "Presupuesto", "electronic")
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        consultation, unit, _document = consolidated(wf.CONSULTATION)
        copies, _unit, _document = consolidated("simple_copies")
    login_as(client, unit)
    pages = {
        case.case_id: client.get(f"/transparencia/solicitudes/{case.case_id}").get_data(as_text=True)
        for case in (received, consultation, copies)
    }
    assert f"Fundamento legal: Artículo 106 {STATE_LAW}" in pages[received.case_id]
    assert f"Fundamento legal: Artículo 110 {STATE_LAW}" in pages[consultation.case_id]
    assert f"Fundamento legal: Artículo 107 {STATE_LAW}" in pages[copies.case_id]
    for page in pages.values():
        assert "LGTAIP" not in page
        assert LAW_2015 not in page
        assert not re.search(r"\(arts?\. 1[34]\d", page)


def test_under_the_default_setting_the_units_forms_cite_the_2015_articles(app: Flask, client: FlaskClient):
    with time_machine.travel(noon(date(2025, 7, 8)), tick=False):
        consultation, unit, _document = consolidated(wf.CONSULTATION)
    login_as(client, unit)
    page = client.get(f"/transparencia/solicitudes/{consultation.case_id}").get_data(as_text=True)
    assert f"Fundamento legal: Artículo 133 {GENERAL_2015} (DOF 4 de mayo de 2015)" in page
