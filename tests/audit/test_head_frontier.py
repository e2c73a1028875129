"""The Merkle tree's right edge kept on the head row (issue 16): appending reads no subtree, and the edge is
always the one the stored subtrees give."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app import audit
from app.audit import EntryInput, merkle, tree, verify
from app.extensions import db
from app.models import AuditHead, AuditKind
from app.services.uow import unit_of_work


def _append(n: int) -> None:
    with unit_of_work() as session:
        audit.append(
            session,
            EntryInput(kind=AuditKind.ADMIN, action="test_event", actor_id=None, actor_role="system", details={"n": n}),
        )


def _stored_edge(size: int) -> list[bytes]:
    keys = merkle.decompose(0, size)
    found = tree.read_nodes(db.session(), keys)
    return [found[key] for key in keys]


def test_the_head_keeps_the_right_edge_of_the_stored_tree(app: Flask) -> None:
    for n in range(37):
        _append(n)
        db.session.rollback()
        head = db.session.scalars(select(AuditHead)).one()
        stamp, _, hashes = head.frontier.partition(":")
        assert int(stamp) == head.seq
        assert hashes == "".join(value.hex() for value in _stored_edge(head.seq))
    db.session.rollback()
    assert verify(db.session()).ok


def test_an_edge_stamped_with_another_size_is_rebuilt_from_the_stored_subtrees(app: Flask) -> None:
    for n in range(11):
        _append(n)
    db.session.rollback()
    head = db.session.scalars(select(AuditHead)).one()
    leaf = merkle.leaf_hash(b"next")
    expected = tree.append_leaf(db.session(), head.seq, head.frontier, leaf)
    # a head moved by a bulk load keeps an edge of an older size: it is not trusted
    stale = tree.encode_frontier(head.seq - 2, _stored_edge(head.seq - 2))
    assert tree.append_leaf(db.session(), head.seq, stale, leaf) == expected
    assert tree.append_leaf(db.session(), head.seq, "", leaf) == expected
    assert tree.append_leaf(db.session(), head.seq, f"{head.seq}:zz", leaf) == expected
    edge, completed = expected
    assert edge.startswith(f"{head.seq + 1}:")
    # entry 12 (leaf 11) closes the subtrees of levels 1 and 2
    assert [(level, idx) for level, idx, _ in completed] == [(1, 5), (2, 2)]
