"""Appending to the audit log: sequence number, chain hash, Merkle leaf and completed subtrees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, Update, bindparam, exists, literal, select, update
from sqlalchemy.orm import Session

from app.audit import tree
from app.audit.canonical import (
    DIGEST_SCHEME,
    canonical_entry,
    chain_hash,
    entry_data_digest,
    leaf_hash_hex,
    new_salt,
    salted_digest,
)
from app.database import FixedStatement, insert_of, session_connection
from app.models import AuditEntry, AuditHead, AuditKind, Case, utcnow


@dataclass(frozen=True, slots=True)
class EntryInput:
    """What the caller knows about an event; the log adds sequence, time and hashes."""

    kind: AuditKind
    action: str
    actor_id: int | None
    actor_role: str
    case: Case | None = None
    from_state: str | None = None
    to_state: str | None = None
    comment: str | None = None
    data_digest: str | None = None
    documents_digest: str | None = None
    details: Mapping[str, Any] | None = None
    calendar_change: bool = False  # the entry records a change of the declared non-working days


def _details(item: EntryInput) -> dict[str, Any]:
    details = dict(item.details or {})
    if item.data_digest is not None or any(name.endswith("_digest") for name in details):
        details["digest_scheme"] = DIGEST_SCHEME  # hashed: auditors know which digest scheme the entry used
    return details


_HEAD_KEY = "audit_head_locked"
_ENTRY_TABLE = cast(Table, AuditEntry.__table__)
_ENTRY_KEYS = tuple(column.key for column in _ENTRY_TABLE.columns)
_INSERT_ENTRY = FixedStatement(insert_of(_ENTRY_TABLE, _ENTRY_KEYS))
_HEAD_TABLE = cast(Table, AuditHead.__table__)
_HEAD_MOVE = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(
        seq=bindparam("new_seq"),
        hash=bindparam("new_hash"),
        frontier=bindparam("new_frontier"),
        calendar_seq=bindparam("new_calendar_seq"),
    )
)


_UPDATE_HEAD = FixedStatement(_HEAD_MOVE)
_WRITE_ENTRY_AND_HEAD = FixedStatement(
    insert_of(_ENTRY_TABLE, _ENTRY_KEYS).add_cte(_HEAD_MOVE.cte("moved_head")).add_cte(tree.stored_subtrees_cte())
)
"""On PostgreSQL, one statement stores the entry, moves the head and stores the subtrees the entry completed
(data-modifying ``WITH`` parts: one round trip instead of two or three). The head's trigger
(``audit_head_forward_only``) runs after the statement's rows are written, so it finds the new entry."""


@dataclass(slots=True)
class Head:
    """The audit head as this transaction holds it: the last entry's sequence number and chain hash, the
    Merkle tree's right edge and the sequence number of the last calendar change (``audit_head``'s row)."""

    seq: int
    hash: str
    frontier: str
    calendar_seq: int
    read_calendar_seq: int
    """``calendar_seq`` as this transaction read it (before any calendar change of its own)."""

    @property
    def calendar_changed(self) -> bool:
        """Whether this transaction changed the declared non-working days (they are not committed yet)."""
        return self.calendar_seq != self.read_calendar_seq


_HEAD_LOCKED = (
    select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.hash, _HEAD_TABLE.c.frontier, _HEAD_TABLE.c.calendar_seq)
    .where(_HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_LOCK_HEAD = FixedStatement(_HEAD_LOCKED)


def _locked_head(session: Session) -> Head:
    """The head row, locked for the rest of the transaction; read once per (sub)transaction.

    The entries of one unit of work (a transition, its assignment, its automatic steps) thus share one
    head lock and one read: the lock is held until commit, so the head cannot move under us meanwhile.
    A savepoint is its own key, so a rolled-back savepoint never leaves a stale head behind.
    """
    cached = read_head(session)
    if cached is not None:
        return cached
    rows = _LOCK_HEAD.rows(session_connection(session))
    if not rows:
        raise RuntimeError("audit log head missing: run the migrations")
    return _keep_head(session, *rows[0])


def lock_head(session: Session) -> None:
    """Take the log's head lock now rather than at the first :func:`append`, for a unit of work whose decisions
    must not interleave with other units' appends: a calendar change, which recomputes every pending term, must
    see the terms of every transition that read the calendar before it, and a transition that reads the
    calendar after it must see its days (a transition reads the calendar under this lock). Lock the head before
    writing or locking any other row: a unit that locks a row first and then waits on the head while the holder
    of the head waits on that row is a deadlock, which PostgreSQL ends by failing one of them."""
    _locked_head(session)


def _keep_head(session: Session, seq: int, hash_: str, frontier: str, calendar_seq: int) -> Head:
    """Keep the head row just read (locked, or under the database's write lock) as this (sub)transaction's."""
    head = Head(seq, hash_, frontier, calendar_seq, calendar_seq)
    session.info[_HEAD_KEY] = ((session.get_transaction(), session.get_nested_transaction()), head)
    return head


def lock_head_with(session: Session, statement: FixedStatement, params: Mapping[str, Any]) -> bool:
    """On PostgreSQL, run ``statement`` (an ``UPDATE`` of one row) and lock and read the head in one statement,
    as the transaction's head for the entries it appends: one round trip instead of two. The ``UPDATE`` runs
    first (a data-modifying ``WITH`` the head's read waits on), so its row is locked before the head, the order
    every unit of work takes them in. Returns whether the ``UPDATE`` matched its row; when it did not, the head
    is neither locked nor read. Call it only where the entry follows at once (nothing slow in between: the head
    is the log's one lock)."""
    if session.get_bind().dialect.name != "postgresql":
        raise RuntimeError("the head is locked with another statement only on PostgreSQL")
    rows = _head_after(statement).rows(session_connection(session), params)
    if not rows:
        return False
    _keep_head(session, *rows[0])
    return True


_HEADS_AFTER: dict[FixedStatement, FixedStatement] = {}


def _head_after(statement: FixedStatement) -> FixedStatement:
    """The head's locked read after ``statement`` (built once per statement)."""
    built = _HEADS_AFTER.get(statement)
    if built is None:
        moved = cast(Update, statement.statement).returning(literal(1).label("moved")).cte("moved")
        locked: Select[Any] = _HEAD_LOCKED.where(exists(select(moved.c.moved)))
        built = _HEADS_AFTER.setdefault(statement, FixedStatement(locked))
    return built


def hold_head(session: Session, seq: int, hash_: str, frontier: str, calendar_seq: int) -> None:
    """Keep the head row a caller read with other rows (one statement instead of two) as this transaction's:
    only for a transaction that already holds the database's write lock, so that nobody else can move the head
    before it commits (SQLite's ``BEGIN IMMEDIATE``, which every unit of work there starts with). On PostgreSQL
    the head is read under its row lock, by :func:`lock_head_with` or by :func:`append`."""
    if session.get_bind().dialect.name != "sqlite":
        raise RuntimeError("the audit head is held without a row lock only under SQLite's write lock")
    if read_head(session) is None:  # one already held knows what this transaction changed (the calendar)
        _keep_head(session, seq, hash_, frontier, calendar_seq)


def read_head(session: Session) -> Head | None:
    """The head row if this (sub)transaction has already locked and read it, else ``None`` (nothing is read):
    callers that only want to know whether something cached is still current use it for free."""
    cached = session.info.get(_HEAD_KEY)
    if cached is None:
        return None
    if cached[0] == (session.get_transaction(), session.get_nested_transaction()):
        return cast(Head, cached[1])
    return None


@dataclass(frozen=True, slots=True)
class Appended:
    """An entry just appended: its sequence number, time, details and hashes (the stored row, not a loaded
    object)."""

    seq: int
    at: datetime
    details: Mapping[str, Any]
    prev_hash: str
    entry_hash: str
    leaf_hash: str


def append(session: Session, item: EntryInput) -> Appended:
    """Append one entry inside the caller's transaction and return it.

    The single head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; the SQLite write lock
    is already held) so that sequence numbers are gapless and the chain and the Merkle tree have no
    forks. Writes the entry with its chain and leaf hashes and the tree's newly completed subtrees.
    Call it as the last write of a unit of work to keep the lock short. Raises ``RuntimeError`` if
    the log has not been initialised by the migrations.
    """
    head = _locked_head(session)
    salt = digest = None
    if item.comment:
        salt = new_salt()
        digest = salted_digest(salt, item.comment)
    case = item.case
    seq = head.seq + 1
    row: dict[str, Any] = {
        "seq": seq,
        "at": utcnow(),
        "kind": item.kind,
        "case_id": case.id if case is not None else None,
        "folio": case.folio if case is not None else None,
        "workflow": case.workflow if case is not None else None,
        "workflow_version": case.workflow_version if case is not None else None,
        "action": item.action,
        "from_state": item.from_state,
        "to_state": item.to_state,
        "actor_id": item.actor_id,
        "actor_role": item.actor_role,
        "case_version": case.version if case is not None else None,
        "comment": item.comment,
        "comment_salt": salt,
        "comment_digest": digest,
        "data_digest": entry_data_digest(item.data_digest, seq) if item.data_digest else None,
        "documents_digest": item.documents_digest,
        "details": _details(item),
        "prev_hash": head.hash,
    }
    canonical = canonical_entry(row)
    row["entry_hash"] = chain_hash(head.hash, canonical)
    row["leaf_hash"] = leaf_hash_hex(canonical)
    # The subtrees the leaf completes come from the right edge kept on the head: nothing is read.
    edge, completed = tree.append_leaf(session, head.seq, head.frontier, bytes.fromhex(row["leaf_hash"]))
    calendar_seq = seq if item.calendar_change else head.calendar_seq
    session.flush()  # the caller's pending rows first, as before (the entry may refer to them)
    # The entry is stored before the head moves: the database refuses a head that names no entry.
    # Core statements built once: the ORM's unit of work costs more than the two writes themselves. No
    # object of the entry is made; the transaction's head is told its new values.
    connection = session_connection(session)
    entry = {key: row.get(key) for key in _ENTRY_KEYS}
    moved = {"new_seq": seq, "new_hash": row["entry_hash"], "new_frontier": edge, "new_calendar_seq": calendar_seq}
    if connection.dialect.name == "postgresql":
        # sent with the transaction's next statement or its commit, with its other held writes (one round trip)
        _WRITE_ENTRY_AND_HEAD.send_later(connection, {**entry, **moved, **tree.subtree_rows(completed)})
    else:
        _INSERT_ENTRY.execute(connection, entry)
        _UPDATE_HEAD.execute(connection, moved)
        tree.store_subtrees(session, completed)
    head.seq, head.hash, head.frontier, head.calendar_seq = seq, row["entry_hash"], edge, calendar_seq
    return Appended(seq, row["at"], row["details"], row["prev_hash"], row["entry_hash"], row["leaf_hash"])
