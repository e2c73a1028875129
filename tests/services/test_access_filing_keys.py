"""A filing form sent twice files one access request, on both databases: the repeat shows the first request's
receipt and working link for a short window, and afterwards names the folio it filed instead of filing again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from app.engine import ConflictError
from app.extensions import db
from app.models import Case, EmailConfirmation, OutboxMessage, Role
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import AccessRequest, FilingKey
from app.services.auth import decrypt
from tests.support.factories import make_user

FILED_AT = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Mexico City
KEY = "c2a4f1d0-forma-de-prueba"
REQUEST = ("Lector Curioso", "lector@example.test", "Contratos de alumbrado público de 2025", "electronic")


def _count(model: type) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _file(*changes: str, key: str | None = KEY, account_id: int | None = None) -> ar.Filed:
    values = list(REQUEST)
    values[: len(changes)] = changes
    return ar.file_request(*values, account_id=account_id, key=key)


@pytest.fixture
def clock():
    with time_machine.travel(FILED_AT, tick=False) as traveller:
        yield traveller


def test_the_same_form_sent_again_returns_the_first_request_and_its_working_link(app: Flask, clock):
    first = _file()
    counts = (_count(Case), _count(OutboxMessage), _count(EmailConfirmation))
    clock.shift(timedelta(minutes=29))

    again = _file()

    assert again.replayed
    assert not first.replayed
    assert (again.case_id, again.folio, again.token, again.received_on) == (
        first.case_id,
        first.folio,
        first.token,
        first.received_on,
    )
    assert (_count(Case), _count(OutboxMessage), _count(EmailConfirmation)) == counts  # nothing filed, mailed or asked
    assert ar.requester_view(again.token).status.case_id == first.case_id


def test_the_same_key_with_an_account_replays_under_that_account_only(app: Flask, clock):
    applicant = make_user(Role.APPLICANT)
    other = make_user(Role.APPLICANT)
    first = _file(key=KEY, account_id=applicant)

    assert _file(key=KEY, account_id=applicant).token == first.token
    with pytest.raises(ConflictError):  # the same key sent by someone else is not their receipt
        _file(key=KEY, account_id=other)
    assert _count(AccessRequest) == 1


@pytest.mark.parametrize(
    "changes",
    [
        ("Otro Nombre",),
        ("Lector Curioso", "otro@example.test"),
        ("Lector Curioso", "lector@example.test", "Contratos de 2024"),
        ("Lector Curioso", "lector@example.test", REQUEST[2], "simple_copies"),
    ],
    ids=["pseudonym", "email", "text", "format"],
)
def test_the_same_form_with_other_data_files_nothing_and_names_the_folio(app: Flask, clock, changes: tuple[str, ...]):
    first = _file()

    with pytest.raises(ConflictError) as refused:
        _file(*changes)

    assert first.folio in str(refused.value.message.params.values())
    assert "ya se presentó la solicitud" in refused.value.message.msgid
    assert _count(AccessRequest) == 1


def test_the_address_is_compared_as_filing_compares_it(app: Flask, clock):
    first = _file()

    assert _file(REQUEST[0], "  LECTOR@Example.test ").token == first.token


def test_after_the_window_a_repeat_names_the_folio_and_the_tick_clears_the_sealed_token(app: Flask, clock):
    first = _file()
    row = db.session.get(FilingKey, KEY)
    assert row is not None
    assert row.sealed_token
    assert row.request_sha256
    assert first.token not in row.sealed_token  # sealed, not kept in clear
    assert decrypt(row.sealed_token) == first.token
    clock.shift(ar.REPLAY_WINDOW - timedelta(seconds=1))
    assert ar.close_filing_replays() == 0  # still open: kept

    clock.shift(timedelta(seconds=1))
    with pytest.raises(ConflictError) as refused:  # the window is closed even before the tick clears it
        _file()
    assert first.folio in str(refused.value.message.params.values())
    assert ar.close_filing_replays() == 1
    assert ar.close_filing_replays() == 0

    db.session.rollback()
    row = db.session.get(FilingKey, KEY)
    assert row is not None
    assert (row.case_id, row.sealed_token, row.request_sha256) == (first.case_id, None, None)
    with pytest.raises(ConflictError):
        _file()
    assert _count(AccessRequest) == 1


def test_a_repeat_after_the_link_was_reissued_does_not_show_the_dead_link(app: Flask, clock):
    applicant = make_user(Role.APPLICANT)
    first = _file(account_id=applicant)
    new = ar.reissue_tracking_token(first.case_id, applicant)

    with pytest.raises(ConflictError):
        _file(account_id=applicant)
    assert ar.requester_view(new).status.case_id == first.case_id


def test_without_a_key_each_filing_is_a_request(app: Flask, clock):
    one, two = _file(key=None), _file(key=None)

    assert one.case_id != two.case_id
    assert _count(FilingKey) == 0


def test_the_periodic_tick_clears_the_sealed_tokens_of_closed_windows(app: Flask, clock):
    first = _file()
    runner = app.test_cli_runner()
    assert "filing forms closed" not in runner.invoke(args=["permits", "tick"]).output
    clock.shift(ar.REPLAY_WINDOW)

    result = runner.invoke(args=["permits", "tick"])

    assert result.exit_code == 0, result.output
    assert "filing forms closed to repeats: 1" in result.output
    db.session.rollback()
    row = db.session.get(FilingKey, KEY)
    assert row is not None
    assert row.sealed_token is None
    assert row.case_id == first.case_id
