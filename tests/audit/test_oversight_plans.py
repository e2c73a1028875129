"""The oversight area's filtered selections read the entries of the value they filter by, whatever the database
guesses about that value (issue 16: pages flat as the log grows).

A filtered page, its next-page checks and its count are each ordered by the filter's column before the entry's
number, so that the ``(column, seq)`` index gives the order and the statement stops at its limit. PostgreSQL keeps
a generic plan for a statement a connection runs often, made without the value; ordered by ``seq`` alone, such a
plan read the log in sequence order and filtered it, and for an actor, an action or a kind with few entries it read
the whole log (the count of an actor with 3 entries among 30,000 read all 30,000). SQLite's plans are checked with
``EXPLAIN QUERY PLAN``; PostgreSQL's by the rows a selection reads under the plans a busy connection would use."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.models import AuditKind, Role
from app.services.oversight import EntryFilter, export_csv, search_entries
from tests.services.test_list_indexes import plans
from tests.support.factories import make_user
from tests.support.generic_plans import as_a_busy_connection, counting_reads

BULK = 30_000
"""Entries appended on PostgreSQL: enough for a plan that reads the log in order to cost what it costs."""
RARE = 3
"""Entries of the rare actor, action and kind, the oldest of the log."""

SELECTIONS: dict[str, Callable[[int], EntryFilter]] = {
    "actor": lambda rare: EntryFilter(actor_id=rare),
    "action": lambda rare: EntryFilter(action="rarely_done"),
    "kind": lambda rare: EntryFilter(kind=AuditKind.DOCUMENT.value),
    "role": lambda rare: EntryFilter(role=Role.GUARANTOR.value),
    "actor and kind": lambda rare: EntryFilter(actor_id=rare, kind=AuditKind.DOCUMENT.value),
}
LEADING = {
    "actor": ("actor_id", "ix_audit_entries_actor_seq"),
    "action": ("action", "ix_audit_entries_action_seq"),
    "kind": ("kind", "ix_audit_entries_kind_seq"),
    "role": ("actor_role", "ix_audit_entries_role_seq"),
    "actor and kind": ("actor_id", "ix_audit_entries_actor_seq"),
}
"""The column each selection is read through (its most selective filter), and that column's index."""


def _append_bulk(common: int, rare: int) -> None:
    """``BULK`` entries after the head's: the first ``RARE`` by ``rare`` (a guarantor's rare document action), the
    rest by ``common`` (an administrator's action). The search reads them as stored; it does not verify them."""
    head = int(db.session.execute(text("SELECT max(seq) FROM audit_entries")).scalar_one() or 0)
    db.session.execute(
        text(
            "INSERT INTO audit_entries (seq, at, kind, action, actor_id, actor_role, details, prev_hash, entry_hash,"
            " leaf_hash) SELECT g, now(),"
            " CASE WHEN rare THEN 'document' ELSE 'admin' END,"
            " CASE WHEN rare THEN 'rarely_done' ELSE 'settings_changed' END,"
            " CASE WHEN rare THEN CAST(:rare_actor AS integer) ELSE CAST(:common AS integer) END,"
            " CASE WHEN rare THEN 'guarantor' ELSE 'admin' END,"
            " '{}', repeat('0', 64), repeat('1', 64), repeat('2', 64)"
            " FROM (SELECT g, g < CAST(:first AS integer) + CAST(:rare AS integer) AS rare"
            " FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g) AS appended"
        ),
        {"first": head + 1, "last": head + BULK, "rare": RARE, "rare_actor": rare, "common": common},
    )
    db.session.commit()
    with db.engine.connect() as connection:  # the statistics autovacuum would gather soon after
        connection.exec_driver_sql("ANALYZE audit_entries")
        connection.commit()


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_a_rare_value_is_read_through_its_index_under_generic_plans(app: Flask, backend: str, name: str) -> None:
    """A page of the selection, its next-page checks, its count and its export read about as many entries as the
    selection holds, not the log."""
    if backend != "postgresql":
        pytest.skip("SQLite has no generic plans: its plans are checked below")
    rare, common = make_user(Role.GUARANTOR), make_user(Role.ADMIN)
    _append_bulk(common, rare)
    selection = SELECTIONS[name](rare)
    db.session.remove()
    as_a_busy_connection()
    with counting_reads("audit_entries") as read:
        for _ in range(3):  # the statements prepared, then run again with the plans kept
            page = search_entries(selection)
            later = search_entries(selection, after=page.entries[0].seq - 1)
            exported = list(export_csv(selection))
    db.session.rollback()
    assert [entry.actor_id for entry in page.entries] == [rare] * RARE
    assert page.total == RARE
    assert page.total_exact
    assert page.before is None
    assert page.after is None
    assert len(later.entries) == RARE
    assert len(exported) == RARE + 1  # the header row
    assert read.rows < 100 * RARE, f"{name}: {read.rows} rows of the log read for {RARE} entries"


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_sqlite_reads_a_filtered_selection_through_its_index_without_sorting(
    app: Flask, backend: str, name: str
) -> None:
    """Each statement of a filtered page (the page, the next-page checks, the count) reads the filter's index in
    sequence order: no scan of the log and no sort of the selection."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL's plans are checked above, by the rows they read")
    rare = make_user(Role.GUARANTOR)
    selection = SELECTIONS[name](rare)
    with plans() as seen:
        page = search_entries(selection)
        search_entries(selection, before=10**6)
        search_entries(selection, after=0)
    assert page.total == 0
    column, index = LEADING[name]
    reads = [plan for sql, plan in seen if f"audit_entries.{column} >=" in sql]
    assert len(reads) >= 6, seen  # three pages, their next-page checks, three counts
    for plan in reads:
        assert any(f"INDEX {index} " in step for step in plan), (name, plan)
        assert not [step for step in plan if "TEMP B-TREE" in step or step == "SCAN audit_entries"], (name, plan)
