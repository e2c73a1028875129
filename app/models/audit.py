"""The append-only audit log, its head, the Merkle tree's stored subtrees and the signed checkpoints.

All three log tables are append-only (database triggers and, on PostgreSQL, revoked privileges).
See ``docs/audit-log.md`` for the byte formats.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum


class AuditKind(StrEnum):
    """What an entry records."""

    TRANSITION = "transition"
    ADMIN = "admin"
    DOCUMENT = "document"


class AuditEntry(Base):
    """One entry of the global log. Never updated or deleted.

    The hashed (canonical) form holds references and digests only: the free-text ``comment`` is
    covered through ``comment_digest`` = SHA-256(salt ‖ comment), so that it can be erased to honour a
    data-protection request without breaking verification.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("length(entry_hash) = 64", name="entry_hash_length"),
        CheckConstraint("length(leaf_hash) = 64", name="leaf_hash_length"),
        Index("ix_audit_entries_case_seq", "case_id", "seq"),  # a case's entries; by folio, through its case
        # One per filter of the oversight area, ending in seq: a filtered page (newest first, keyset on seq)
        # and its next-page check read only the rows they show.
        Index("ix_audit_entries_workflow_seq", "workflow", "seq"),
        Index("ix_audit_entries_actor_seq", "actor_id", "seq"),
        Index("ix_audit_entries_role_seq", "actor_role", "seq"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_kind_seq", "kind", "seq"),
        Index("ix_audit_entries_at", "at"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[AuditKind] = mapped_column(str_enum(AuditKind, 16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    folio: Mapped[str | None] = mapped_column(String(40))
    workflow: Mapped[str | None] = mapped_column(String(64))
    workflow_version: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    case_version: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    comment_salt: Mapped[str | None] = mapped_column(String(32))
    comment_digest: Mapped[str | None] = mapped_column(String(64))
    data_digest: Mapped[str | None] = mapped_column(String(64))
    documents_digest: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    leaf_hash: Mapped[str] = mapped_column(String(64))
    """RFC 9162 leaf hash, hex: SHA-256(0x00 ‖ canonical form); leaf index ``seq - 1`` of the Merkle tree."""


class AuditHead(Base):
    """Single row holding the last sequence number and hash; locking it serialises appends gaplessly."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # The Merkle tree's right edge at ``seq`` ("<seq>:" then the hex hashes of the complete subtrees of the
    # size's binary decomposition, largest first): appending reads no subtree. Stamped with its size so a
    # head moved by other means (a bulk load) is recognised as stale and rebuilt from the stored subtrees.
    frontier: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The sequence number of the last entry that changed the declared non-working days: processes keep the
    # calendar cached and read it again only when this moves (the head is read by every transition anyway).
    calendar_seq: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditTreeNode(Base):
    """The hash of a complete subtree of the Merkle tree, written when its last leaf is appended.

    ``(level, idx)`` covers leaves ``[idx·2^level, (idx+1)·2^level)``; level 0 (the leaves) lives in
    ``audit_entries.leaf_hash``. Proofs for any tree size read O(log n) of these rows.
    """

    __tablename__ = "audit_tree_nodes"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("idx >= 0", name="idx_not_negative"),
        CheckConstraint("length(hash) = 64", name="hash_length"),
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed tree head: the institution's log key signs (tree size, root hash, time, key fingerprint).

    Kept forever and listed publicly. ``public_key`` (PEM) makes each row verifiable on its own;
    verifiers trust it only through the fingerprint of a key they hold or a logged key rotation.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (
        CheckConstraint("tree_size >= 1", name="tree_size_positive"),
        CheckConstraint("length(root_hash) = 64", name="root_hash_length"),
        CheckConstraint("length(key_fingerprint) = 64", name="key_fingerprint_length"),
        Index("ix_audit_checkpoints_tree_size", "tree_size"),
        Index("ix_audit_checkpoints_key_id", "key_fingerprint", "id"),  # the keys that signed, a step per key
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int]
    root_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
