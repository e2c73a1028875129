"""Counts the home pages and the departments page show (issue 16: pages flat as the data grows). The users and
the cases grow with every citizen who files; the pages show how many there are without reading them whole: the
users from the count the database's triggers keep, the cases from their folio counters, the departments' grants
and cases through indexes of the rows that name a department. Each count equals a count of the table, however
the rows came."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from app.engine.errors import DomainError, Msg
from app.extensions import db
from app.models import Case, Role, User
from app.procedures.access_request import services as ar
from app.procedures.obligation_publication.services import open_quarter
from app.services.cases import allocate_folio, count_cases
from app.services.departments import list_departments
from app.services.uow import unit_of_work
from app.services.users import count_users, ensure_department
from tests.services.test_list_indexes import plans
from tests.support.factories import make_user, vecs_case


def _table_count(model: type) -> int:
    count = db.session.scalars(select(func.count()).select_from(model)).one()
    db.session.rollback()
    return count


def _publication_departments() -> None:
    """The departments the transparency formats are assigned to, so that opening a quarter opens its cases."""
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())


def _reads(table: str, statements: list[tuple[str, list[str]]]) -> list[str]:
    return [sql for sql, _ in statements if re.search(rf"\b(FROM|JOIN)\s+{table}\b", sql)]


def test_the_count_of_users_follows_every_way_a_user_comes_or_goes(app: Flask) -> None:
    assert count_users() == _table_count(User)
    make_user(Role.APPLICANT)
    make_user(Role.REVIEWER, Role.INSPECTOR)
    assert count_users() == _table_count(User)
    ar.file_request("Lectora", "lectora@example.test", "Planos", "electronic")  # a requester without an account
    assert count_users() == _table_count(User)
    with db.engine.begin() as conn:  # a row the application did not write, then taken away again
        conn.execute(
            text(
                "INSERT INTO users (email, display_name, password_hash, locale, active, created_at) "
                "VALUES ('suelto@example.test', 'S', '!', 'es_MX', :active, CURRENT_TIMESTAMP)"
            ),
            {"active": True},
        )
    before = count_users()
    assert before == _table_count(User)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE email = 'suelto@example.test'"))
    assert count_users() == before - 1 == _table_count(User)


def _add_user_then_fail() -> None:
    with unit_of_work() as session:
        session.add(User(email="a@example.test", display_name="A", password_hash="!"))
        session.flush()
        raise DomainError(Msg("Fallo de prueba."))


def _take_a_folio_then_fail() -> None:
    with unit_of_work() as session:
        allocate_folio(session, "VECS", 2026)
        raise DomainError(Msg("Fallo de prueba."))


def test_a_user_whose_creation_is_rolled_back_is_not_counted(app: Flask) -> None:
    before = count_users()
    with pytest.raises(DomainError):
        _add_user_then_fail()
    assert count_users() == before == _table_count(User)


def test_the_count_of_users_does_not_read_the_users(app: Flask) -> None:
    make_user(Role.APPLICANT)
    with plans() as seen:
        count_users()
    assert seen
    assert not _reads("users", seen)


def test_the_count_of_cases_is_the_folios_handed_out(app: Flask) -> None:
    assert count_cases() == 0
    applicant = make_user(Role.APPLICANT)
    vecs_case(applicant, documents=False)
    vecs_case(applicant, documents=False)
    ar.file_request("Lectora", "lectora@example.test", "Planos", "electronic")
    _publication_departments()
    open_quarter(2026, 1, today=date(2026, 4, 1))  # a case per transparency format, opened by the system
    assert count_cases() == _table_count(Case) > 3
    with pytest.raises(DomainError):
        _take_a_folio_then_fail()
    assert count_cases() == _table_count(Case)
    with plans() as seen:
        count_cases()
    assert seen
    assert not _reads("cases", seen)


def test_the_departments_page_counts_through_the_rows_that_name_a_department(app: Flask) -> None:
    for _ in range(6):
        make_user(Role.APPLICANT)  # grants without a department
    _publication_departments()
    make_user((Role.REVIEWER, "obras_publicas"))
    make_user((Role.REVIEWER, "obras_publicas"), (Role.AREA, "finanzas"))
    open_quarter(2026, 1, today=date(2026, 4, 1))  # cases at a department's stage
    applicant = make_user(Role.APPLICANT)
    vecs_case(applicant, documents=False)  # a draft: no department
    with plans() as seen:
        listed = {d.code: (d.grants, d.cases) for d in list_departments()}
    grants = dict(
        db.session.execute(
            text("SELECT department_code, count(*) FROM user_roles WHERE department_code IS NOT NULL GROUP BY 1")
        ).all()
    )
    cases = dict(
        db.session.execute(
            text("SELECT department_code, count(*) FROM cases WHERE department_code IS NOT NULL GROUP BY 1")
        ).all()
    )
    assert grants["obras_publicas"] == 2
    assert cases
    assert listed == {code: (grants.get(code, 0), cases.get(code, 0)) for code in listed}
    if db.engine.dialect.name == "sqlite":
        read_whole = [
            (sql, plan)
            for sql, plan in seen
            for step in plan
            if step in ("SCAN user_roles", "SCAN cases") or step.startswith(("SCAN user_roles ", "SCAN cases "))
        ]
        assert not read_whole, read_whole
