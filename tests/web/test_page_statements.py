"""The statements a page request sends, login included (issue 16): each read once, nothing read twice."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.calendar import BusinessCalendar, local_today
from app.extensions import db
from app.models import Case, Role
from app.services import deadlines
from tests.services.test_fire_statements import statements
from tests.support.factories import make_user, submitted_case
from tests.web.helpers import clerk_at_intake, login_as, text

CASE_PAGE_MAX = 7
"""The login (its session, user and roles, and the audit head's calendar_seq), the case, its documents, its
timeline with the actors' names, its timers, its clocks and its certificates (8 before the login carried the
calendar_seq)."""
QUEUE_MAX = 4
"""The login with the calendar_seq, the cases, their timers and their clocks (5 before)."""
POST_MAX = {"sqlite": 9, "postgresql": 7}
"""A plain step's POST (11 on both before the transition read its case with its inputs, 16 before that)."""


def touching(seen: list[str], fragment: str) -> list[str]:
    return [s for s in seen if fragment in s]


def test_a_case_page_reads_each_thing_once_and_the_calendar_only_when_it_changed(
    app: Flask, client: FlaskClient
) -> None:
    owner, clerk, admin = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK), make_user(Role.ADMIN)
    case_id = submitted_case(owner)
    login_as(client, clerk)
    assert client.get(f"/expedientes/{case_id}").status_code == 200  # the process keeps the calendar now
    with statements() as seen:
        page = client.get(f"/expedientes/{case_id}")
    assert page.status_code == 200
    assert len(seen) <= CASE_PAGE_MAX, seen
    # the login: the session, its user and the user's roles in one statement
    assert len(touching(seen, "FROM user_sessions")) == 1, seen
    assert touching(seen, "user_roles") == touching(seen, "FROM user_sessions"), seen
    assert len(touching(seen, "FROM users")) == 0, seen  # the actors' names come with the timeline
    assert len(touching(seen, "FROM cases")) == 1, seen  # the certificates do not check the case again
    assert len(touching(seen, "FROM certificates")) == 1, seen
    assert not touching(seen, "non_working_days"), seen  # kept while the head's calendar_seq stays put
    assert touching(seen, "calendar_seq") == touching(seen, "FROM user_sessions"), seen  # carried by the login
    assert "Le toca actuar" in text(page)

    # a declaration moves the head's calendar_seq: the next page reads the days again and counts with them
    first = BusinessCalendar().first_counting_day(local_today())
    deadlines.declare_non_working_days(first, first, "Suspensión", "Gaceta 1/2026", admin)
    with statements() as seen:
        assert client.get(f"/expedientes/{case_id}").status_code == 200
    assert len(touching(seen, "FROM non_working_days")) == 1, seen
    with statements() as seen:
        assert client.get(f"/expedientes/{case_id}").status_code == 200
    assert not touching(seen, "non_working_days"), seen


def test_a_copy_kept_under_an_older_calendar_seq_is_read_again(app: Flask, client: FlaskClient) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    case_id = submitted_case(owner)
    login_as(client, clerk)
    deadlines._PROCESS_CALENDARS[db.engine] = (-1, BusinessCalendar())
    with statements() as seen:
        assert client.get(f"/expedientes/{case_id}").status_code == 200
    assert len(touching(seen, "FROM non_working_days")) == 1, seen


def test_the_queue_reads_the_login_and_its_cases_once(app: Flask, client: FlaskClient) -> None:
    owner, clerk = make_user(Role.APPLICANT), make_user(Role.INTAKE_CLERK)
    for _ in range(3):
        submitted_case(owner)
    login_as(client, clerk)
    assert client.get("/bandeja").status_code == 200
    with statements() as seen:
        assert client.get("/bandeja").status_code == 200
    assert len(seen) <= QUEUE_MAX, seen
    assert touching(seen, "user_roles") == touching(seen, "FROM user_sessions"), seen
    assert touching(seen, "calendar_seq") == touching(seen, "FROM user_sessions"), seen
    assert not touching(seen, "non_working_days"), seen


def test_terms_read_without_a_login_read_the_calendar_seq_on_their_own(app: Flask) -> None:
    """No login carried it (a public page, a worker): the terms read it alone, once, and keep the calendar."""
    case_id = submitted_case(make_user(Role.APPLICANT))
    for _ in range(2):
        db.session.rollback()
        with statements() as seen:
            deadlines.case_terms([db.session.get_one(Case, case_id)])
    assert len(touching(seen, "calendar_seq")) == 1, seen
    assert not touching(seen, "non_working_days"), seen


def test_a_step_without_points_to_correct_reads_the_documents_only_in_the_transition(
    app: Flask, client: FlaskClient
) -> None:
    case_id, action, data = clerk_at_intake(client)
    with statements() as seen:
        answer = client.post(action, data=data)
    assert answer.status_code == 302, answer.status_code
    assert answer.headers["Location"].endswith(f"/expedientes/{case_id}")
    assert len(touching(seen, "FROM documents")) == 1, seen  # the engine's inputs; the form needs none
    assert not touching(seen, "FROM idempotency_records"), seen  # a first attempt only writes its key
    # the login, the case for its access rule, then the transition (its inputs with the case; the versioned
    # UPDATE, on PostgreSQL with the head's lock; the entry; the timers) and the key; on SQLite the head's move
    # and the timers' cancel are statements of their own, and an entry may complete Merkle subtrees
    tree = [s for s in seen if s.startswith("INSERT INTO audit_tree_nodes")]
    assert len(seen) - len(tree) <= POST_MAX[db.engine.dialect.name], seen
