"""Fuzzing the treasury's reconciliation import (the bank's CSV file, untrusted input).

Properties: any bytes, and mutations of a real file, end in a report or a clear ``InvalidData``, never another
exception; a row is applied only when its reference, exact amount, date and operation match the open order;
and no payment is ever applied twice, however often the file (or a mutation of it) is imported.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.calendar import local_today
from app.engine import DomainError
from app.extensions import db
from app.models import AuditEntry, Case, Role
from app.services.payments import Outcome, import_bank_file, pending_orders
from tests.certificates.conftest import People
from tests.certificates.test_payment_orders import awaiting_payment
from tests.fuzz.profiles import fuzz
from tests.storage.test_storage_faults import PEOPLE
from tests.support.factories import make_user

HEADER = "Referencia,Importe,Fecha,Operación\n"


def _confirmations(case_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.case_id == case_id, AuditEntry.action == "confirm_payment")
    )


def test_any_bank_file_is_reported_or_refused_and_nothing_is_applied_twice(app: Flask) -> None:
    case = awaiting_payment(People(*(make_user(role) for role in PEOPLE)))
    treasurer = make_user(Role.TREASURY)
    (order,) = [o for o in pending_orders(treasurer) if o.case_id == case.case_id]
    today: date = local_today()
    genuine = f"{HEADER}{order.reference},{order.amount},{today.isoformat()},BNK-77\n"
    cells = st.one_of(
        st.just(order.reference),
        st.just(order.amount),
        st.just(today.isoformat()),
        st.just((today + timedelta(days=400)).isoformat()),
        st.text(max_size=40),
        st.from_regex(r"[0-9]{1,30}(\.[0-9]{1,4})?", fullmatch=True),
        st.sampled_from(["=1+1", "-0", "+8420", "8,420.00", "NaN", "inf", "1e400", "²", "\x00", '"', "\r\n"]),
    )
    rows = st.lists(st.lists(cells, min_size=0, max_size=6).map(",".join), max_size=8)
    files = st.one_of(
        st.binary(max_size=400),
        rows.map(lambda body: (HEADER + "\n".join(body)).encode()),
        st.builds(
            lambda keep, junk: (genuine[:keep] + junk + genuine[keep:]).encode(),
            st.integers(0, len(genuine)),
            st.text(max_size=20),
        ),
        st.just(genuine.encode("utf-16")),
        st.just((HEADER + "a" * 140_000 + "\n").encode()),  # beyond the CSV reader's cell limit
    )
    outcomes = {0: 0}

    @fuzz(60, deadline_seconds=20)
    @given(files)
    def imported(content: bytes) -> None:
        try:
            report = import_bank_file(content, treasurer)
        except DomainError:
            db.session.rollback()
            return
        for line in report.lines:
            assert isinstance(line.outcome, Outcome)
            if line.applied:
                outcomes[0] += 1
                assert line.amount.strip() == order.amount
        db.session.rollback()
        assert _confirmations(case.case_id) <= 1

    imported()
    # the genuine file applies once (unless a fuzzed file already carried it), and never again
    import_bank_file(genuine.encode(), treasurer)
    db.session.rollback()
    assert _confirmations(case.case_id) == 1
    again = import_bank_file(genuine.encode(), treasurer)
    assert again.count(Outcome.APPLIED) == 0
    db.session.rollback()
    assert _confirmations(case.case_id) == 1
    stored = db.session.get(Case, case.case_id)
    assert stored is not None
    assert stored.state == "licence_review"
    assert outcomes[0] <= 1


@pytest.mark.parametrize("operation", ["OP\x00NUL", "OP\x01\x1b", "OP\u200b7", "OP\u202e7"])
def test_an_operation_with_control_or_invisible_characters_is_not_applied(app: Flask, operation: str) -> None:
    """A NUL in a cell was applied and stored in the case data: on PostgreSQL the data could no longer be read as
    text, and the treasury's page (and ``payments pending``) answered 500 from then on."""
    case = awaiting_payment(People(*(make_user(role) for role in PEOPLE)))
    treasurer = make_user(Role.TREASURY)
    (order,) = [o for o in pending_orders(treasurer) if o.case_id == case.case_id]
    day = local_today().isoformat()
    report = import_bank_file(f"{HEADER}{order.reference},{order.amount},{day},{operation}\n".encode(), treasurer)
    (line,) = report.lines
    assert line.outcome is Outcome.INVALID
    assert _confirmations(case.case_id) == 0
    assert [o.case_id for o in pending_orders(treasurer)] == [case.case_id]  # still readable, still owed
    clean = import_bank_file(f"{HEADER}{order.reference},{order.amount},{day},OP-7\n".encode(), treasurer)
    assert [line.outcome for line in clean.lines] == [Outcome.APPLIED]


def test_a_missing_column_is_named_in_spanish(app: Flask) -> None:
    treasurer = make_user(Role.TREASURY)
    with pytest.raises(DomainError) as refused:
        import_bank_file(b"Referencia,Fecha,Operacion\n1,2026-01-01,OP\n", treasurer)
    assert "«importe»" in str(refused.value)
