"""The work queue's page a page at a time, and the home page's share of it: the "next page" links, followed,
give every case of the queue in the queue's order once; a cursor that is not one gives the first page; the home
page shows the most urgent cases and links to the whole queue when there are more. Both languages."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from app.extensions import db
from app.models import Case, Role
from app.procedures.access_request import services as ar
from app.services.cases import fire
from app.services.queues import staff_queue
from tests.support.access_requests import appealed_on
from tests.support.factories import case_version, make_user, vecs_case
from tests.web.helpers import login_as, logout, set_language


def _folios(body: str) -> list[str]:
    tbody = body[body.index("<tbody>") : body.index("</tbody>")] if "<tbody>" in body else ""
    return re.findall(r'<a href="/expedientes/\d+">([^<]+)</a>', tbody)


def _next(body: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', body)
    return None if found is None else found[1].replace("&amp;", "&")


def _pages(client: FlaskClient, path: str, link: str = r"/expedientes/\d+") -> tuple[list[str], list[str]]:
    """Every page of a list from ``path``, following its "next page" links: the folios linked (``link``: their
    addresses) on each, in order, and the pages."""
    seen: list[str] = []
    pages: list[str] = []
    following: str | None = path
    while following is not None:
        response = client.get(following)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        pages.append(body)
        seen += re.findall(rf'<a href="{link}">([^<]+)</a>', body)
        following = _next(body)
        assert len(pages) <= 10, "the pages never end"
    return seen, pages


def _filed(count: int) -> tuple[int, list[str]]:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    folios = []
    for _ in range(count):
        draft = vecs_case(owner)
        fire(draft.case_id, "submit", owner, expected_version=draft.version)
        folios.append(draft.folio)
    return clerk, folios


def test_the_next_page_links_give_the_whole_queue_once_in_its_order(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.web.queue.views.QUEUE_PAGE", 2)
    clerk, folios = _filed(5)
    whole = staff_queue(clerk, frozenset({Role.INTAKE_CLERK.value}))
    assert whole is not None
    login_as(client, clerk)
    seen, pages = _pages(client, "/bandeja")
    assert seen == [row.case.folio for row in whole]
    assert sorted(seen) == sorted(folios)
    assert [len(_folios(body)) for body in pages] == [2, 2, 1]
    assert "Primera página" not in pages[0]
    assert all("Primera página" in body for body in pages[1:])
    assert "Página siguiente" not in pages[-1]
    set_language(client, "en", "/bandeja")
    english = client.get("/bandeja").get_data(as_text=True)
    assert "Next page" in english
    assert "Página siguiente" not in english


NOT_CURSORS = (
    "x",
    "2026-13-01_1_1",
    "2026-01-01_1_0",
    "2026-01-01_1_99999999999",
    "9999-12-31_999999999999999999_1",
    "2026-01-01_-1_1",
    "٢٠٢٦-01-01_1_1",
    "2026-01-01_1_1_1",
    "",
)


def test_a_cursor_that_is_not_one_gives_the_first_page(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.web.queue.views.QUEUE_PAGE", 2)
    clerk, _folios_filed = _filed(3)
    login_as(client, clerk)
    first = client.get("/bandeja").get_data(as_text=True)
    for cursor in NOT_CURSORS:
        response = client.get("/bandeja", query_string={"tras": cursor})
        assert response.status_code == 200, cursor
        body = response.get_data(as_text=True)
        assert _folios(body) == _folios(first), cursor
        assert "Primera página" not in body, cursor


def test_a_page_beyond_the_last_says_so(client: FlaskClient) -> None:
    clerk, _folios_filed = _filed(1)
    login_as(client, clerk)
    body = client.get("/bandeja", query_string={"tras": "9999-12-31_4102444800000000_2147483647"}).get_data(
        as_text=True
    )
    assert "No hay más expedientes en esta vista." in body
    assert "Primera página" in body


def test_the_home_page_shows_the_most_urgent_cases_and_links_to_the_whole_queue(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.web.home.views.HOME_QUEUE_ROWS", 2)
    clerk, _folios_filed = _filed(3)
    whole = staff_queue(clerk, frozenset({Role.INTAKE_CLERK.value}))
    assert whole is not None
    login_as(client, clerk)
    body = client.get("/inicio").get_data(as_text=True)
    assert _folios(body) == [row.case.folio for row in whole[:2]]
    assert 'href="/bandeja">Ver toda la bandeja de trabajo</a>' in body
    set_language(client, "en", "/inicio")
    assert "See the whole work queue" in client.get("/inicio").get_data(as_text=True)


def test_the_home_page_links_to_no_more_when_it_shows_the_whole_queue(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.web.home.views.HOME_QUEUE_ROWS", 3)
    clerk, folios = _filed(3)
    login_as(client, clerk)
    body = client.get("/inicio").get_data(as_text=True)
    assert sorted(_folios(body)) == sorted(folios)
    assert "Ver toda la bandeja de trabajo" not in body


def test_the_transparency_unit_s_queue_a_page_at_a_time(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.procedures.access_request.services.UNIT_PAGE", 2)
    filed = [
        ar.file_request("Lector Curioso", "lector@example.test", "Contratos de obra de 2025", "electronic").folio
        for _ in range(3)
    ]
    unit = make_user(Role.TRANSPARENCY_UNIT)
    login_as(client, unit)
    seen, pages = _pages(client, "/transparencia/unidad", r"/transparencia/solicitudes/\d+")
    assert sorted(seen) == sorted(filed)
    assert len(seen) == 3
    assert "Primera página" in pages[1]
    _refuses_false_cursors(client, "/transparencia/unidad", "2_2026-01-01_1")


def _refuses_false_cursors(client: FlaskClient, path: str, hostile: str) -> None:
    """A transparency queue at ``path`` (of more than a page) shows its first page for the cursor ``hostile``,
    which is not one, and says that a page past the last one holds nothing more."""
    first = client.get(path, query_string={"tras": hostile})
    assert first.status_code == 200
    assert "Primera página" not in first.get_data(as_text=True)
    assert 'rel="next"' in first.get_data(as_text=True)
    beyond = client.get(path, query_string={"tras": "0_9999-12-31_2147483647"})
    assert beyond.status_code == 200
    assert "No hay más solicitudes en esta cola." in beyond.get_data(as_text=True)


def test_an_area_s_queue_a_page_at_a_time(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The requests turned to the user's area and not answered by it, followed page by page; another area's turn
    is not among them; a cursor that is not one gives the first page."""
    monkeypatch.setattr("app.procedures.access_request.services.UNIT_PAGE", 2)
    unit = make_user(Role.TRANSPARENCY_UNIT)
    area = make_user((Role.AREA, "obras"))
    make_user((Role.AREA, "tesoreria"))
    filed = [
        ar.file_request("Lector Curioso", "lector@example.test", "Contratos de obra de 2025", "electronic")
        for _ in range(4)
    ]
    for request, turned_to in zip(filed, (["obras"], ["obras"], ["obras", "tesoreria"], ["tesoreria"]), strict=True):
        ar.turn_request(request.case_id, turned_to, unit, expected_version=case_version(request.case_id))
    login_as(client, area)
    seen, pages = _pages(client, "/transparencia/areas", r"/transparencia/solicitudes/\d+")
    assert sorted(seen) == sorted(f.folio for f in filed[:3])
    assert len(pages) == 2
    assert "Primera página" in pages[1]
    _refuses_false_cursors(client, "/transparencia/areas", "1_2026-02-30_1")


def test_one_s_own_cases_a_page_at_a_time_newest_first(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.web.home.views.OWN_PAGE", 2)
    monkeypatch.setattr("app.web.home.views.HOME_OWN_ROWS", 2)
    owner = make_user(Role.APPLICANT)
    folios = [vecs_case(owner).folio for _ in range(5)]
    login_as(client, owner)
    home = client.get("/inicio").get_data(as_text=True)
    assert re.findall(r'<a href="/expedientes/\d+">([^<]+)</a>', home) == folios[::-1][:2]
    assert 'href="/mis-expedientes">Ver todas mis solicitudes</a>' in home
    seen, pages = _pages(client, "/mis-expedientes")
    assert seen == folios[::-1]
    assert [len(_folios(body)) for body in pages] == [2, 2, 1]
    assert "Más recientes" in pages[1]
    assert "Más recientes" not in pages[0]
    for hostile in ("x", "1_0", "9" * 19 + "_1", "1_99999999999", "١_1", "-1_1"):
        body = client.get("/mis-expedientes", query_string={"antes": hostile}).get_data(as_text=True)
        assert _folios(body) == _folios(pages[0]), hostile
    set_language(client, "en", "/mis-expedientes")
    english = client.get("/mis-expedientes").get_data(as_text=True)
    assert "My requests" in english
    assert "Older" in english


def test_one_s_own_cases_are_one_s_own(client: FlaskClient) -> None:
    owner, other = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    mine = vecs_case(owner).folio
    theirs = vecs_case(other).folio
    login_as(client, owner)
    body = client.get("/mis-expedientes").get_data(as_text=True)
    assert _folios(body) == [mine]
    assert theirs not in body
    clerk = make_user(Role.INTAKE_CLERK)
    logout(client)
    login_as(client, clerk)
    assert client.get("/mis-expedientes").status_code == 403


def test_the_assignment_overview_a_page_at_a_time(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.web.assignment.views.ASSIGNMENT_PAGE", 2)
    owner, admin = make_user(Role.APPLICANT), make_user(Role.ADMIN)
    make_user((Role.REVIEWER, "revision_obra"))  # the department exists
    filed = [vecs_case(owner) for _ in range(3)]
    for draft in filed:  # filed: waiting for staff (a draft rests, with its applicant)
        fire(draft.case_id, "submit", owner, expected_version=draft.version)
    db.session.execute(
        update(Case).where(Case.id.in_([f.case_id for f in filed])).values(department_code="revision_obra")
    )
    db.session.commit()
    login_as(client, admin)
    _linked, pages = _pages(client, "/admin/asignaciones")
    assert len(pages) == 2
    listed = [re.findall(r'<tr id="caso-\d+">\s*<td>([^<]+)', body) for body in pages]
    assert sorted(listed[0] + listed[1]) == sorted(f.folio for f in filed)
    assert [len(folios) for folios in listed] == [2, 1]
    assert "Primera página" in pages[1]
    for cursor in ("x", "20_1_1", "01_1_0", "11_" + "9" * 18 + "_1"):
        body = client.get("/admin/asignaciones", query_string={"tras": cursor}).get_data(as_text=True)
        assert re.findall(r'<tr id="caso-\d+">\s*<td>([^<]+)', body) == listed[0], cursor
    set_language(client, "en", "/admin/asignaciones")
    assert "Next page" in client.get("/admin/asignaciones").get_data(as_text=True)


def test_the_guarantor_s_queue_a_page_at_a_time(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, mailbox: Any
) -> None:
    """The appeals before the guarantor, followed page by page; a cursor that is not one gives the first page."""
    monkeypatch.setattr("app.procedures.access_request.services.UNIT_PAGE", 2)
    appeals = [appealed_on(mailbox, date(2025, 7, day)) for day in (7, 8, 9)]
    login_as(client, appeals[0][2])
    seen, pages = _pages(client, "/transparencia/garante", r"/transparencia/solicitudes/\d+")
    assert sorted(seen) == sorted(filed.folio for filed, _unit, _guarantor in appeals)
    assert len(pages) == 2
    assert "Primera página" in pages[1]
    _refuses_false_cursors(client, "/transparencia/garante", "0_2026-01-01_")
    set_language(client, "en", "/transparencia/garante")
    english = client.get("/transparencia/garante").get_data(as_text=True)
    assert "Next page" in english
