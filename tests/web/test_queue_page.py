"""What each line of the staff queue shows, in both languages, and that a case's values stay escaped there and
on the case page (the queue's lines are built in Python, their cells kept per language: app.web.queue.rows)."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import format_date as babel_format_date
from markupsafe import escape
from sqlalchemy import select, update

from app.extensions import db
from app.models import Case, Role
from app.models.clocks import CaseClock, ClockStatus
from app.services.deadlines import legal_terms
from app.templating import TEXT_ESCAPES
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import login_as, set_language

HOSTILE = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


def _rows(client: FlaskClient, path: str = "/bandeja") -> list[list[str]]:
    """The queue's lines: each one's class, then its cells' HTML."""
    page = client.get(path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    tbody = body[body.index("<tbody>") : body.index("</tbody>")]
    return [
        [css, *re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        for css, cells in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', tbody, re.S)
    ]


def test_a_queue_line_shows_the_case_its_stage_and_both_terms_in_each_language(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(vecs_case(applicant), [("submit", applicant, None, None), ("start_intake", clerk, None, None)])
    legal = legal_terms([case.case_id])[case.case_id]
    assert legal.due_on is not None
    assert legal.business_days_left is not None
    db.session.commit()
    login_as(client, clerk)
    [row] = _rows(client)
    css, link, workflow, state, legal_cell, term_day, term_left = row
    assert link == f'<a href="/expedientes/{case.case_id}">{case.folio}</a>'
    assert workflow == "Ventanilla de Construcción Simplificada"
    assert state == "Revisión de integración del expediente"
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        with force_locale("es_MX"):
            spanish_day = babel_format_date(legal.due_on, "long")
        with force_locale("en"):
            english_day = babel_format_date(legal.due_on, "long")
    assert legal_cell == f"{spanish_day} · {legal.business_days_left} días hábiles"
    assert css in ("", "due-soon")
    assert term_day not in ("", "—")
    assert term_left.isdigit()

    set_language(client, "en", "/bandeja")
    [english] = _rows(client)
    assert english[2] == "Simplified Construction Window"
    assert english[3] == "Completeness review of the case file"
    assert english[4] == f"{english_day} · {legal.business_days_left} business days"


def test_a_queue_line_shows_a_suspended_and_a_lapsed_legal_term_and_whose_case_it_is(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    paused = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    lapsed = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    clock = CaseClock.__table__.c
    db.session.execute(
        update(CaseClock)
        .where(clock.case_id == paused.case_id)
        .values(status=ClockStatus.PAUSED, segment_notified_on=None, term_days=20, extension_days=0, used_days=19)
    )
    db.session.execute(
        update(CaseClock)
        .where(clock.case_id == lapsed.case_id)
        .values(status=ClockStatus.LAPSED, segment_notified_on=None, lapsed_on=date(2026, 1, 5))
    )
    db.session.execute(update(Case).where(Case.id == lapsed.case_id).values(assignee_id=clerk))
    db.session.commit()
    login_as(client, clerk)
    cells = {row[1]: row for row in _rows(client)}
    [paused_row] = [row for link, row in cells.items() if f">{paused.folio}</a>" in link]
    [lapsed_row] = [row for link, row in cells.items() if f">{lapsed.folio}</a>" in link]
    assert paused_row[4] == "Suspendido · 1 día hábil"
    assert lapsed_row[4] == "<strong>Vencido</strong>"
    assert lapsed_row[1].endswith(' <span class="tag">Asignado a mí</span>')
    assert "tag" not in paused_row[1]
    set_language(client, "en", "/bandeja")
    english = {row[1]: row for row in _rows(client)}
    assert [row[4] for link, row in english.items() if f">{paused.folio}</a>" in link] == ["Suspended · 1 business day"]
    assert [row[4] for link, row in english.items() if f">{lapsed.folio}</a>" in link] == ["<strong>Overdue</strong>"]
    assert next(link for link in english if f">{lapsed.folio}</a>" in link).endswith(
        ' <span class="tag">Assigned to me</span>'
    )
    assert not next(link for link in english if f">{paused.folio}</a>" in link).endswith("</span>")


def test_a_case_s_values_are_escaped_in_the_queue_and_on_the_case_page(app: Flask, client: FlaskClient):
    applicant = make_user(Role.APPLICANT, name=HOSTILE)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case = advance(
        vecs_case(applicant, data={"property_address": HOSTILE, "dro_name": HOSTILE}),
        [("submit", applicant, None, HOSTILE)],
    )
    db.session.execute(update(Case).where(Case.id == case.case_id).values(folio=HOSTILE))
    db.session.commit()
    assert db.session.scalar(select(Case.folio).where(Case.id == case.case_id)) == HOSTILE
    login_as(client, clerk)
    queue = client.get("/bandeja").get_data(as_text=True)
    assert f'<a href="/expedientes/{case.case_id}">{ESCAPED}</a>' in queue
    assert "<script>" not in queue
    page = client.get(f"/expedientes/{case.case_id}").get_data(as_text=True)
    assert "<script>" not in page
    assert page.count(ESCAPED) >= 4  # the folio (title and header), the address, the responsible's name, the comment


def test_a_line_escapes_its_values_as_markupsafe_does() -> None:
    """The folio and link of a line are escaped by one ``str.translate``: for every character, and for texts
    that mix them, the same as markupsafe's ``escape``."""
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    assert every.translate(TEXT_ESCAPES) == str(escape(every))
    for text in ("", HOSTILE, "a&b<c>d'e\"f", "&amp;", "VECS-2026-000001", "/expedientes/1?x=1&y=2"):
        assert text.translate(TEXT_ESCAPES) == str(escape(text))
