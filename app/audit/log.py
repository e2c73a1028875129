"""Appending to the audit log and verifying its hash chain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.canonical import (
    GENESIS_HASH,
    canonical_entry,
    chain_hash,
    new_salt,
    salted_digest,
)
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


def append(session: Session, item: EntryInput) -> AuditEntry:
    """Append one entry inside the caller's transaction and return it.

    The single head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; the SQLite write lock
    is already held) so that sequence numbers are gapless and the chain has no forks. Call it as
    the last write of a unit of work to keep the lock short. Raises ``RuntimeError`` if the log has
    not been initialised by the migrations.
    """
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if head is None:
        raise RuntimeError("audit log head missing: run the migrations")
    salt = digest = None
    if item.comment:
        salt = new_salt()
        digest = salted_digest(salt, item.comment)
    case = item.case
    entry = AuditEntry(
        seq=head.seq + 1,
        at=utcnow(),
        kind=item.kind,
        case_id=case.id if case is not None else None,
        folio=case.folio if case is not None else None,
        workflow=case.workflow if case is not None else None,
        workflow_version=case.workflow_version if case is not None else None,
        action=item.action,
        from_state=item.from_state,
        to_state=item.to_state,
        actor_id=item.actor_id,
        actor_role=item.actor_role,
        case_version=case.version if case is not None else None,
        comment=item.comment,
        comment_salt=salt,
        comment_digest=digest,
        data_digest=item.data_digest,
        documents_digest=item.documents_digest,
        details=dict(item.details or {}),
        prev_hash=head.hash,
        entry_hash="",
    )
    entry.entry_hash = chain_hash(head.hash, canonical_entry(entry))
    head.seq = entry.seq
    head.hash = entry.entry_hash
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a verification: ``first_bad`` is the sequence number of the first bad entry."""

    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH


def verify(session: Session, batch: int = 2000) -> VerifyResult:
    """Recompute the whole chain from the stored rows and compare it with the stored hashes and head.

    Detects edited, deleted, inserted and reordered entries and a head that does not match the
    last entry. Never raises for bad data; reports the first bad entry instead.
    """
    expected_seq = 1
    running = GENESIS_HASH
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch))
    for entry in rows.scalars():
        seq = entry.seq
        if seq != expected_seq:
            return VerifyResult(False, expected_seq - 1, expected_seq, f"gap or reorder: found {seq}", running)
        if entry.prev_hash != running:
            return VerifyResult(False, seq - 1, seq, "previous hash does not match the chain", running)
        try:
            recomputed = chain_hash(running, canonical_entry(entry))
        except (TypeError, ValueError) as exc:
            return VerifyResult(False, seq - 1, seq, f"entry cannot be serialised: {exc}", running)
        if recomputed != entry.entry_hash:
            return VerifyResult(False, seq - 1, seq, "entry hash does not match its contents", running)
        if entry.comment is not None and (
            entry.comment_salt is None or salted_digest(entry.comment_salt, entry.comment) != entry.comment_digest
        ):
            return VerifyResult(False, seq - 1, seq, "comment does not match its digest", running)
        running = recomputed
        expected_seq += 1
    checked = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(False, checked, None, "audit head missing", running)
    if head.seq != checked or head.hash != running:
        first_bad = min(head.seq, checked) + 1
        return VerifyResult(False, checked, first_bad, "log tail does not match the head (entries removed?)", running)
    return VerifyResult(True, checked, None, None, running)
