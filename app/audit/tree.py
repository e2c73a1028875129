"""The Merkle tree as stored: leaf hashes on the entries, complete subtrees in ``audit_tree_nodes``.

Appending a leaf writes every subtree it completes (at most log2(n) rows, one on average) in the
caller's transaction, under the head lock. Roots and proofs for any tree size read O(log n) rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import CTE, Table, TextClause, insert, select, text
from sqlalchemy.orm import Session

from app.audit import merkle
from app.audit.merkle import NodeKey
from app.database import FixedStatement, insert_of, json_recordset, recordset_json, session_connection
from app.models import AuditEntry, AuditTreeNode


class TreeDataMissing(RuntimeError):
    """A stored hash the tree needs is missing or malformed: the log's tables were damaged."""


def _node_query(keys: list[NodeKey]) -> tuple[TextClause, dict[str, int]]:
    """One statement reading the subtrees ``keys`` by primary key.

    An OR of (level, idx) equalities, written as text: SQLite plans a row-value ``IN`` list as a full scan,
    and building the same condition as an expression tree costs more than the lookups themselves.
    """
    terms = " OR ".join(f"(level = :l{n} AND idx = :i{n})" for n in range(len(keys)))
    params: dict[str, int] = {}
    for n, (level, idx) in enumerate(keys):
        params[f"l{n}"] = level
        params[f"i{n}"] = idx
    return text(f"SELECT level, idx, hash FROM audit_tree_nodes WHERE {terms}"), params  # noqa: S608 - placeholders


def read_nodes(session: Session, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """The stored hashes of the complete subtrees ``keys`` (level 0 from the entries' leaf hashes).

    One indexed query (a UNION ALL of the leaves and the inner subtrees when both are wanted). Raises
    :class:`TreeDataMissing` if any is absent or malformed.
    """
    wanted = set(keys)
    found: dict[NodeKey, bytes] = {}
    leaves = sorted(idx + 1 for level, idx in wanted if level == 0)
    inner = sorted((level, idx) for level, idx in wanted if level > 0)
    try:
        if leaves and inner:
            sql, params = _node_query(inner)
            marks = ", ".join(f":s{n}" for n in range(len(leaves)))
            params.update({f"s{n}": seq for n, seq in enumerate(leaves)})
            both = text(
                f"SELECT 0 AS level, seq - 1 AS idx, leaf_hash AS hash FROM audit_entries WHERE seq IN ({marks})"  # noqa: S608 - placeholders
                f" UNION ALL {sql.text}"
            )
            for level, idx, value in session.execute(both, params):
                found[(int(level), int(idx))] = bytes.fromhex(value)
        elif leaves:
            for seq, value in session.execute(
                select(AuditEntry.seq, AuditEntry.leaf_hash).where(AuditEntry.seq.in_(leaves))
            ):
                found[(0, seq - 1)] = bytes.fromhex(value)
        elif inner:
            for level, idx, value in session.execute(*_node_query(inner)):
                found[(level, idx)] = bytes.fromhex(value)
    except ValueError as exc:
        raise TreeDataMissing(f"a stored tree hash is not hexadecimal: {exc}") from None
    missing = wanted - found.keys()
    if missing or any(len(value) != 32 for value in found.values()):
        raise TreeDataMissing(f"stored tree hashes missing or malformed: {sorted(missing)[:5]}")
    return found


def _reader(session: Session) -> merkle.NodeReader:
    def read(keys: set[NodeKey]) -> Mapping[NodeKey, bytes]:
        return read_nodes(session, keys)

    return read


def add_leaf(session: Session, seq: int, leaf: bytes) -> list[tuple[int, int, bytes]]:
    """Store the subtrees completed by appending ``leaf`` as entry ``seq`` and return them.

    The caller holds the head lock and has flushed the entry. Reads the left siblings in one query.
    """
    index = seq - 1
    levels = 0
    while (index >> levels) & 1:
        levels += 1
    if not levels:
        return []
    lefts = read_nodes(session, [(level, (index >> level) - 1) for level in range(levels)])
    completed: list[tuple[int, int, bytes]] = []
    current = leaf
    for level in range(levels):
        current = merkle.node_hash(lefts[(level, (index >> level) - 1)], current)
        completed.append((level + 1, index >> (level + 1), current))
    session.execute(
        insert(AuditTreeNode), [{"level": level, "idx": idx, "hash": value.hex()} for level, idx, value in completed]
    )
    return completed


def _decode_frontier(size: int, stored: str) -> list[bytes] | None:
    """The right edge's subtree hashes stored for ``size`` entries, or ``None`` when ``stored`` belongs to
    another size (the head was moved by other means, e.g. a bulk load) or is malformed."""
    stamp, _, hashes = stored.partition(":")
    if stamp != str(size) or len(hashes) != 64 * size.bit_count():
        return None
    try:
        return [bytes.fromhex(hashes[n : n + 64]) for n in range(0, len(hashes), 64)]
    except ValueError:
        return None


def encode_frontier(size: int, hashes: list[bytes]) -> str:
    """The stored form of the right edge of the tree of ``size`` entries (see ``AuditHead.frontier``)."""
    return f"{size}:" + "".join(value.hex() for value in hashes)


def frontier(session: Session, size: int, stored: str) -> list[bytes]:
    """The hashes of the complete subtrees on the right edge of the tree of ``size`` entries, largest first:
    decoded from ``stored`` (the head's copy) when it belongs to ``size``, read from the stored subtrees
    (one query) otherwise."""
    decoded = _decode_frontier(size, stored)
    if decoded is not None:
        return decoded
    if size == 0:
        return []
    keys = merkle.decompose(0, size)
    found = read_nodes(session, keys)
    return [found[key] for key in keys]


def append_leaf(session: Session, size: int, stored: str, leaf: bytes) -> tuple[str, list[tuple[int, int, bytes]]]:
    """Append ``leaf`` to the tree of ``size`` entries: the new right edge (stored form) and the subtrees the
    leaf completes, ``(level, idx, hash)``, computed from the right edge alone (nothing read when ``stored``
    is the head's copy for ``size``). The caller holds the head lock and writes both."""
    edge = frontier(session, size, stored)
    current = leaf
    completed: list[tuple[int, int, bytes]] = []
    level = 0
    while (size >> level) & 1:  # each trailing one of the size closes a subtree with its left sibling
        current = merkle.node_hash(edge.pop(), current)
        level += 1
        completed.append((level, size >> level, current))
    edge.append(current)
    return encode_frontier(size + 1, edge), completed


_NODE_TABLE = cast(Table, AuditTreeNode.__table__)
_INSERT_NODE = FixedStatement(insert_of(_NODE_TABLE, ("level", "idx", "hash")))


def stored_subtrees_cte() -> CTE:
    """On PostgreSQL, the subtrees an append completed as a data-modifying ``WITH`` part (an ``INSERT`` of the
    rows of the JSON array ``:subtree_rows``; none when it is empty), so that the entry's one statement stores
    them too (:func:`subtree_rows` gives the parameter)."""
    columns = [_NODE_TABLE.c.level, _NODE_TABLE.c.idx, _NODE_TABLE.c.hash]
    rows = json_recordset("subtree_rows", columns, "subtree")
    keys = [c.key for c in columns]
    return insert(_NODE_TABLE).from_select(keys, select(*(rows.c[key] for key in keys))).cte("stored_subtrees")


def subtree_rows(completed: list[tuple[int, int, bytes]]) -> dict[str, str]:
    """The parameter of :func:`stored_subtrees_cte` for the subtrees an append completed."""
    rows = [{"level": level, "idx": idx, "hash": value.hex()} for level, idx, value in completed]
    return {"subtree_rows": recordset_json(rows, ("level", "idx", "hash"))}


def store_subtrees(session: Session, completed: list[tuple[int, int, bytes]]) -> None:
    """Write the subtrees an append completed (one INSERT; nothing when there are none)."""
    if completed:
        _INSERT_NODE.execute_many(
            session_connection(session),
            [{"level": level, "idx": idx, "hash": value.hex()} for level, idx, value in completed],
        )


def root_at(session: Session, size: int) -> bytes:
    """MTH of the first ``size`` entries from the stored subtrees."""
    return merkle.root_at(size, _reader(session))


def inclusion_path(session: Session, seq: int, size: int) -> list[bytes]:
    """Audit path of entry ``seq`` in the tree of the first ``size`` entries (O(log n) reads)."""
    return merkle.inclusion_proof(seq - 1, size, _reader(session))


def consistency_path(session: Session, first: int, second: int) -> list[bytes]:
    """Consistency proof between the trees of the first ``first`` and ``second`` entries (O(log n) reads)."""
    return merkle.consistency_proof(first, second, _reader(session))
