"""The pages' work, counted rather than timed (issue 16), as ``tests/services/test_fire_work.py`` counts
``fire()``'s: the Python and C function calls of a request for the case page and for the work queue, and what
each more case in the queue adds. The count is the same on any machine and at any load, so the bounds can
catch a change that makes the pages several times heavier; their times come from ``make bench``
(``bench/http_bench.py``; ``bench/http_cpu.py --calls`` gives the same counts for the benchmark's data)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.models import Role
from bench.engine_bench import counted_calls
from tests.support.factories import make_user, submitted_case
from tests.web.helpers import login_as

CASE_PAGE_CALLS = 9_700
"""Function calls of a request for the case page of a submitted VECS case (its documents and history, the
clerk's form), seen by the intake clerk: 1.3 times the count when set (6,668 on SQLite, 7,439 on PostgreSQL;
8,468 and 9,239 before its blank action forms were kept, its lines' values escaped without a ``Markup`` each,
its cookie remembered and Flask's view and hooks not inspected again; 12,368 and 13,142 before its lists'
lines, its stages and the page's frame were built in Python or once per language)."""
QUEUE_CALLS = 6_700
"""Function calls of a request for a queue of 10 cases: 1.3 times the count when set (4,596 and 5,167; 5,206
and 5,777 before the same changes and its lines' own, 7,294 and 7,869 before the round before)."""
QUEUE_CALLS_PER_CASE = 100
"""What each more case in the queue adds: 1.5 times the count when set (56 and 64; 81 and 89 before its lines'
values were escaped without a ``Markup`` each and its cells looked up once per page, 190 and 198 before its
lines were built in Python and its terms held in named tuples)."""


def _calls(client: FlaskClient, path: str) -> int:
    """The calls of a request for ``path`` once the process has seen it (what it keeps is kept)."""
    for _ in range(2):
        assert client.get(path).status_code == 200
    count, answer = counted_calls(lambda: client.get(path))
    assert answer.status_code == 200
    return int(count)


def test_a_case_page_does_a_bounded_amount_of_work(app: Flask, client: FlaskClient, backend: str) -> None:
    case_id = submitted_case(make_user(Role.APPLICANT))
    login_as(client, make_user(Role.INTAKE_CLERK))
    calls = _calls(client, f"/expedientes/{case_id}")
    print(f"{backend}: {calls} calls for the case page")
    assert calls <= CASE_PAGE_CALLS


def test_the_queue_does_a_bounded_amount_of_work_per_case(app: Flask, client: FlaskClient, backend: str) -> None:
    applicant = make_user(Role.APPLICANT)
    for _ in range(10):
        submitted_case(applicant)
    login_as(client, make_user(Role.INTAKE_CLERK))
    ten = _calls(client, "/bandeja")
    for _ in range(10):
        submitted_case(applicant)
    twenty = _calls(client, "/bandeja")
    per_case = (twenty - ten) / 10
    print(f"{backend}: {ten} calls for a queue of 10, {per_case:.0f} more per case")
    assert ten <= QUEUE_CALLS
    assert per_case <= QUEUE_CALLS_PER_CASE
