"""The migration that adds the Merkle tree backfills existing logs, and the log tables are append-only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from app.audit import verify
from app.audit.canonical import GENESIS_HASH, canonical_json, chain_hash, entry_fields
from app.extensions import db
from app.models import AuditEntry, AuditKind, AuditTreeNode, utcnow
from tests.audit.helpers import append_entries, verifier

BEFORE = "3c1e16115693"  # the initial schema: hash chain only


def test_existing_entries_get_leaf_hashes_and_subtrees(
    empty_database_url: str, tmp_path: Path, other_app: Callable[..., Flask]
):
    application = other_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url, DOCUMENTS_DIR=str(tmp_path))
    with application.app_context():
        upgrade(revision=BEFORE)
        columns = [c for c in AuditEntry.__table__.columns if c.name != "leaf_hash"]
        running, rows = GENESIS_HASH, []
        for seq in range(1, 14):
            values = {
                "seq": seq,
                "at": utcnow(),
                "kind": AuditKind.ADMIN,
                "case_id": None,
                "folio": None,
                "workflow": None,
                "workflow_version": None,
                "action": "user_created",
                "from_state": None,
                "to_state": None,
                "actor_id": None,
                "actor_role": "system",
                "case_version": None,
                "comment": None,
                "comment_salt": None,
                "comment_digest": None,
                "data_digest": None,
                "documents_digest": None,
                "details": {"roles": ["auditor"], "ñ": seq},
            }
            running = chain_hash(running, canonical_json(entry_fields(values)))
            rows.append(
                {**values, "prev_hash": rows[-1]["entry_hash"] if rows else GENESIS_HASH, "entry_hash": running}
            )
        table = AuditEntry.__table__
        with db.engine.begin() as conn:
            conn.execute(insert(table).values([{c.name: row[c.name] for c in columns} for row in rows]))
            conn.execute(text("UPDATE audit_head SET seq = 13, hash = :hash WHERE id = 1"), {"hash": running})

        upgrade()
        result = verify(db.session())
        db.session.rollback()
        assert result.ok, result.problems
        assert result.checked == 13
        assert db.session.scalar(select(func.count()).select_from(AuditTreeNode)) == 6 + 3 + 1
        leaves = [bytes.fromhex(h) for h in db.session.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.seq))]
        growing = verifier.Tree()
        for leaf in leaves:
            growing.append(leaf)
        assert result.root_hash == growing.root().hex()
        append_entries(3)  # appends continue the backfilled tree
        db.session.rollback()
        assert verify(db.session()).ok
        db.session.remove()  # a reading transaction would block the downgrade's DDL on PostgreSQL

        downgrade(revision=BEFORE)
        names = {c["name"] for c in inspect(db.engine).get_columns("audit_entries")}
        assert "leaf_hash" not in names
        assert "audit_tree_nodes" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("DELETE FROM audit_entries WHERE seq = 1"))
        upgrade()
        assert verify(db.session()).ok
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("table", ["audit_tree_nodes", "audit_checkpoints"])
def test_new_log_tables_reject_update_and_delete(app: Flask, log_key, table: str):
    from app.services.audit_log import sign_checkpoint

    append_entries(4)
    sign_checkpoint(app.config)
    change = "tree_size = 1" if table == "audit_checkpoints" else "hash = hash"
    for statement in (f"UPDATE {table} SET {change}", f"DELETE FROM {table}"):  # noqa: S608 - fixed names
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(f"TRUNCATE {table}"))


def test_on_postgresql_nobody_holds_update_or_delete_on_the_log(app: Flask, backend: str):
    if backend != "postgresql":
        pytest.skip("privileges are a PostgreSQL matter; SQLite relies on its triggers")
    rows = db.session.execute(
        text(
            "SELECT c.relname, a.privilege_type, pg_get_userbyid(a.grantee) "
            "FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "WHERE c.relname IN ('audit_entries', 'audit_tree_nodes', 'audit_checkpoints')"
        )
    ).all()
    granted = {(table, privilege) for table, privilege, _grantee in rows}
    for table in ("audit_entries", "audit_tree_nodes", "audit_checkpoints"):
        assert (table, "INSERT") in granted
        assert (table, "SELECT") in granted
        assert {(table, p) for p in ("UPDATE", "DELETE", "TRUNCATE")} & granted == set()
