"""The case page's stages (section «Etapas del trámite»): each case shows where it is and where it has been, in
the page's language, although the section is kept per definition, statuses and language
(``app.web.cases.views._stages``)."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext

from app.engine import get_engine
from app.models import Role
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import login_as, set_language


def _stages(client: FlaskClient, case_id: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The stages the page lists (status, text) and the endings it names (``current`` or '', text)."""
    page = client.get(f"/expedientes/{case_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    section = body[body.index('<section class="card" id="flujo">') :]
    section = section[: section.index("</section>")]
    listed = [
        (status, html.unescape(re.sub(r"<strong>.*?</strong>", "", text)).strip())
        for status, text in re.findall(r'<li class="([a-z]+)"[^>]*>(.*?)</li>', section, re.S)
    ]
    endings = [
        (current.strip(), html.unescape(text))
        for current, text in re.findall(r'<span class="tag( current)?">(.*?)</span>', section, re.S)
    ]
    assert section.count('aria-current="step"') == sum(1 for status, _ in listed if status == "current")
    return listed, endings


def _texts(app: Flask, locale: str) -> dict[str, str]:
    """The VECS states' descriptions in ``locale``, by state name."""
    workflow = get_engine().latest("vecs")
    # a fresh application context: Flask-Babel keeps the catalogue it loaded on ``g``
    with app.app_context(), app.test_request_context("/"), force_locale(locale):
        return {state.name: gettext(state.description) for state in workflow.states}


def test_each_case_shows_its_own_stages_in_the_page_language(app: Flask, client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    draft = vecs_case(applicant)
    moved = advance(vecs_case(applicant), [("submit", applicant, None, None), ("start_intake", clerk, None, None)])
    workflow = get_engine().latest("vecs")
    ongoing = [state.name for state in workflow.states if not state.terminal]
    endings = [state.name for state in workflow.states if state.terminal]
    spanish, english = _texts(app, "es_MX"), _texts(app, "en")
    assert spanish != english
    login_as(client, applicant)

    def expected(case_state: str, went_through: set[str], texts: dict[str, str]) -> list[tuple[str, str]]:
        return [
            ("current" if name == case_state else ("done" if name in went_through else "pending"), texts[name])
            for name in ongoing
        ]

    draft_stages = expected("draft", set(), spanish)
    went_through = {"draft", "submitted", moved.to_state}
    moved_stages = expected(moved.to_state, went_through, spanish)
    assert draft_stages != moved_stages
    for _ in range(2):  # each page again after the other: the kept section is each one's own
        assert _stages(client, draft.case_id) == (draft_stages, [("", spanish[name]) for name in endings])
        assert _stages(client, moved.case_id) == (moved_stages, [("", spanish[name]) for name in endings])

    set_language(client, "en", f"/expedientes/{draft.case_id}")
    assert _stages(client, draft.case_id) == (expected("draft", set(), english), [("", english[n]) for n in endings])
    assert _stages(client, moved.case_id)[0] == expected(moved.to_state, went_through, english)
    set_language(client, "es_MX", f"/expedientes/{draft.case_id}")
    assert _stages(client, draft.case_id)[0] == draft_stages


def test_a_concluded_case_marks_its_ending(app: Flask, client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    withdrawn = advance(vecs_case(applicant), [("submit", applicant, None, None), ("withdraw", applicant, None, None)])
    assert withdrawn.to_state == "withdrawn"
    spanish = _texts(app, "es_MX")
    login_as(client, applicant)
    listed, endings = _stages(client, withdrawn.case_id)
    assert ("current", spanish["withdrawn"]) not in listed
    assert [text for current, text in endings if current] == [spanish["withdrawn"]]
    assert ("done", spanish["draft"]) in listed
