"""Appends store each leaf and every completed subtree; roots and proofs for any size then read O(log n) rows."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, func, select

from app.audit import merkle, tree
from app.audit.canonical import canonical_entry
from app.extensions import db
from app.models import AuditEntry, AuditTreeNode
from tests.audit.helpers import append_entries, verifier
from tests.audit.test_merkle import bottom_up_roots


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_stored_tree_answers_every_size_with_few_reads(app: Flask):
    total = 45  # several levels, odd sizes, a power of two inside
    append_entries(20)
    append_entries(total - 20)
    session = db.session()
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    leaves = [merkle.leaf_hash(canonical_entry(e)) for e in entries]
    assert [e.leaf_hash for e in entries] == [leaf.hex() for leaf in leaves]
    expected_nodes = sum(total >> level for level in range(1, 7))
    assert session.scalar(select(func.count()).select_from(AuditTreeNode)) == expected_nodes

    rng = random.Random(5)
    for size in range(1, total + 1):
        root = bottom_up_roots(leaves[:size])
        with count_queries() as statements:
            assert tree.root_at(session, size) == root
        assert len(statements) <= 2
        for seq in {1, size, rng.randint(1, size)}:
            with count_queries() as statements:
                path = tree.inclusion_path(session, seq, size)
            assert len(statements) <= 2, statements
            assert len(path) <= math.ceil(math.log2(size)) if size > 1 else path == []
            assert verifier.verify_inclusion(seq - 1, size, leaves[seq - 1], path, root)
        first = rng.randint(1, size)
        with count_queries() as statements:
            proof = tree.consistency_path(session, first, size)
        assert len(statements) <= 2
        assert verifier.verify_consistency(first, size, bottom_up_roots(leaves[:first]), root, proof)
