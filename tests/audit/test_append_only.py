"""The database refuses to rewrite the log through inserts that replace rows, and the head only moves forward."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.canonical import GENESIS_HASH
from app.extensions import db
from app.models import AuditEntry, AuditHead
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries

ENTRY_COLUMNS = (
    "seq, at, kind, case_id, folio, workflow, workflow_version, action, from_state, to_state, actor_id, "
    "actor_role, case_version, comment, comment_salt, comment_digest, data_digest, documents_digest, details, "
    "prev_hash, entry_hash, leaf_hash"
)
EDITED_ENTRY = ENTRY_COLUMNS.replace("action", "'licence_issued'")
# (table, columns, key, a replacement row selected from the table itself, the column changed)
REPLACEMENTS = {
    "audit_entries": (
        ENTRY_COLUMNS,
        "seq",
        f"SELECT {EDITED_ENTRY} FROM audit_entries WHERE seq = 3",  # noqa: S608 - fixed names
        "action",
    ),
    "audit_tree_nodes": (
        "level, idx, hash",
        "level, idx",
        "SELECT level, idx, :zeros FROM audit_tree_nodes WHERE level = 1 AND idx = 0",
        "hash",
    ),
    "audit_checkpoints": (
        "id, tree_size, root_hash, created_at, key_fingerprint, public_key, signature",
        "id",
        "SELECT id, tree_size, :zeros, created_at, key_fingerprint, public_key, signature FROM audit_checkpoints",
        "root_hash",
    ),
    "audit_head": ("id, seq, hash", "id", "SELECT 1, 0, :zeros", "hash"),
}


def _replace_statements(dialect: str, table: str) -> list[str]:
    columns, key, source, changed = REPLACEMENTS[table]
    if dialect == "sqlite":
        return [f"INSERT OR REPLACE INTO {table} ({columns}) {source}", f"REPLACE INTO {table} ({columns}) {source}"]
    return [
        f"INSERT INTO {table} ({columns}) {source} ON CONFLICT ({key}) DO UPDATE SET {changed} = EXCLUDED.{changed}",
        f"INSERT INTO {table} ({columns}) {source} ON CONFLICT DO NOTHING",
    ]


@pytest.mark.parametrize("table", list(REPLACEMENTS))
def test_an_insert_never_replaces_a_log_row(app: Flask, log_key, table: str):
    append_entries(4)
    sign_checkpoint(app.config)
    before = {
        name: db.session.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2")).all()  # noqa: S608 - fixed names
        for name in REPLACEMENTS
    }
    db.session.rollback()
    for statement in _replace_statements(db.engine.dialect.name, table):
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement), {"zeros": GENESIS_HASH})
    for name, rows in before.items():
        assert db.session.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2")).all() == rows  # noqa: S608
    append_entries(1)  # appending still works


def test_the_head_cannot_be_rewound_or_removed(app: Flask):
    append_entries(5)
    attempts = [
        "UPDATE audit_head SET seq = 3, hash = (SELECT entry_hash FROM audit_entries WHERE seq = 3)",
        "UPDATE audit_head SET seq = 0, hash = :zeros",
        "UPDATE audit_head SET hash = (SELECT entry_hash FROM audit_entries WHERE seq = 4)",
        "UPDATE audit_head SET seq = 6, hash = :zeros",  # forward, but to no stored entry
        "DELETE FROM audit_head",
    ]
    if db.engine.dialect.name == "postgresql":
        attempts.append("TRUNCATE audit_head")
    for statement in attempts:
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="audit_head"):
            conn.execute(text(statement), {"zeros": GENESIS_HASH})
    head = db.session.get(AuditHead, 1)
    assert head is not None
    last = db.session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == 5))
    assert (head.seq, head.hash) == (5, last)
    db.session.rollback()
    append_entries(2)  # the application still moves it forward
    assert db.session.scalar(select(AuditHead.seq)) == 7


def test_on_postgresql_nobody_may_insert_delete_or_truncate_the_head(app: Flask, backend: str):
    if backend != "postgresql":
        pytest.skip("privileges are a PostgreSQL matter; SQLite relies on its triggers")
    rows = db.session.execute(
        text(
            "SELECT a.privilege_type FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "WHERE c.relname = 'audit_head'"
        )
    ).all()
    granted = {privilege for (privilege,) in rows}
    assert {"SELECT", "UPDATE"} <= granted
    assert {"INSERT", "DELETE", "TRUNCATE"} & granted == set()
