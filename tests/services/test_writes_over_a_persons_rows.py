"""Writes over every row a person has of a kind (all their notices read, all their comments erased) are one
statement whose parameters do not grow with the rows: a statement takes at most 65,535 parameters on
PostgreSQL, and a person who gathered more rows than that (a clerk's unread notices over years) must be served as
anyone else, on both databases."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, insert, select

from app.calendar import local_today
from app.extensions import db
from app.models import AuditEntry, OutboxMessage, OutboxStatus, Role, utcnow
from app.models.personal_data import DataRequestKind
from app.services.notices import mark_all_read
from app.services.personal_data import register_request, resolve_cancellation
from tests.support.factories import advance, email_of, make_user, vecs_case
from tests.support.statements import sent_statements

MORE_THAN_A_STATEMENT_TAKES = 70_000


def _notices(user_id: int, count: int, *, read: bool = False) -> None:
    now = utcnow()
    db.session.execute(
        insert(OutboxMessage),
        [
            {
                "topic": "deadline_reminder",
                "dedup_key": f"test:{user_id}:{read}:{n}",
                "recipient_id": user_id,
                "payload": {},
                "status": OutboxStatus.SENT,
                "next_attempt_at": now,
                "created_at": now,
                "read_at": now if read else None,
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def _unread(user_id: int) -> int:
    db.session.rollback()
    stmt = select(func.count()).where(OutboxMessage.recipient_id == user_id, OutboxMessage.read_at.is_(None))
    return db.session.scalars(stmt).one()


def test_more_unread_notices_than_a_statement_takes_are_all_marked_read(app: Flask) -> None:
    clerk, other = make_user(Role.INTAKE_CLERK), make_user(Role.INTAKE_CLERK)
    _notices(clerk, MORE_THAN_A_STATEMENT_TAKES)
    _notices(clerk, 3, read=True)
    _notices(other, 2)
    with sent_statements() as sent:
        assert mark_all_read(clerk) == MORE_THAN_A_STATEMENT_TAKES
    assert max(count for _, count in sent) <= 3  # the person and the instant: no list of the notices
    assert _unread(clerk) == 0
    assert _unread(other) == 2  # someone else's notices stay unread
    assert mark_all_read(clerk) == 0


def test_a_cancellation_erases_every_comment_in_one_statement_of_the_same_parameters(app: Flask) -> None:
    admin = make_user(Role.ADMIN)

    def commenting(comments: int) -> int:
        person = make_user(Role.APPLICANT)
        for n in range(comments):
            advance(vecs_case(person), [("submit", person, None, f"comentario {n}")])
        return person

    bystander = commenting(1)

    sent_for: dict[int, tuple[str, int]] = {}
    for comments in (1, 3):
        person = commenting(comments)
        request = register_request(
            admin, email_of(person), DataRequestKind.CANCELLATION, local_today() - timedelta(days=1)
        )
        with sent_statements() as sent:
            assert resolve_cancellation(request, admin) == comments
        (erasing,) = [(sql, count) for sql, count in sent if sql.startswith("UPDATE audit_entries")]
        sent_for[comments] = erasing
        db.session.rollback()
        left = select(func.count()).where(AuditEntry.actor_id == person, AuditEntry.comment.is_not(None))
        assert db.session.scalars(left).one() == 0
    kept = select(func.count()).where(AuditEntry.actor_id == bystander, AuditEntry.comment.is_not(None))
    assert db.session.scalars(kept).one() == 1  # someone else's comment stays
    assert sent_for[1] == sent_for[3]  # one statement, with as many parameters, for one comment or three
