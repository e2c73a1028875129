"""Signed checkpoints (signed tree heads): tree size, root hash, time and key fingerprint, signed with Ed25519.

The signed message is ASCII text, one ``name: value`` line each, every line ending in ``\\n``::

    tramites audit checkpoint v1
    tree_size: 42
    root_hash: <64 hex digits>
    timestamp: 2026-11-27T08:52:58.355187Z
    key_fingerprint: <SHA-256 of the key's DER SubjectPublicKeyInfo, 64 hex digits>

The signature is Ed25519 over those bytes, in standard base64. Only the log's *current* key signs:
the first key to sign, then the key named by the latest logged rotation (``key_rotated`` entry), whose
hand-over checkpoint the outgoing key signs (see :mod:`app.services.keys`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import ColumnElement, Row, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.audit import merkle, tree
from app.audit.canonical import format_instant
from app.keys import public_fingerprint, signature_bytes
from app.models import AuditCheckpoint, AuditEntry, AuditHead, utcnow

CHECKPOINT_HEADER = "tramites audit checkpoint v1"
KEY_ROTATED = "key_rotated"
LOG_KEY_PURPOSE = "audit_log"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be created; the message says why and what to do."""


def checkpoint_message(tree_size: int, root_hash: str, timestamp: str, key_fingerprint: str) -> bytes:
    """The exact bytes a checkpoint's signature covers (see the module docstring)."""
    return (
        f"{CHECKPOINT_HEADER}\n"
        f"tree_size: {tree_size}\n"
        f"root_hash: {root_hash}\n"
        f"timestamp: {timestamp}\n"
        f"key_fingerprint: {key_fingerprint}\n"
    ).encode()


def public_key_pem(key: ed25519.Ed25519PublicKey) -> str:
    """A public key as PEM (SubjectPublicKeyInfo), the form bundles carry and auditors keep."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes) -> ed25519.Ed25519PublicKey:
    """Parse a PEM Ed25519 public key. Raises ``ValueError`` for anything else."""
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


class CheckpointFields(Protocol):
    """What a checkpoint's public form is made of: a stored checkpoint, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def tree_size(self) -> int: ...
    @property
    def root_hash(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def key_fingerprint(self) -> str: ...
    @property
    def signature(self) -> str: ...


CHECKPOINT_COLUMNS = (
    AuditCheckpoint.id,
    AuditCheckpoint.tree_size,
    AuditCheckpoint.root_hash,
    AuditCheckpoint.created_at,
    AuditCheckpoint.key_fingerprint,
    AuditCheckpoint.signature,
    AuditCheckpoint.public_key,
)
"""A stored checkpoint's columns, as the live verifier reads them (rows, not objects)."""

PUBLIC_CHECKPOINT_COLUMNS = CHECKPOINT_COLUMNS[:-1]
"""What a checkpoint's public form (:func:`checkpoint_json`) is made of: not the signing key's PEM, which the
bundles give once per key."""


def checkpoints_by_size(
    session: Session,
    batch: int,
    *conditions: ColumnElement[bool],
    columns: Sequence[InstrumentedAttribute[Any]] = CHECKPOINT_COLUMNS,
) -> Iterator[Row[Any]]:
    """The stored checkpoints meeting ``conditions``, in order of tree size (then signing order), as rows of
    ``columns`` (with the tree size and the id among them) read ``batch`` at a time after the last one given: met
    one by one as a reading of the entries reaches them, with no second cursor beside the entries' and nothing
    kept. A checkpoint is signed every minute the log grows: hundreds of thousands in a few years."""
    after = (0, 0)
    while True:
        page = session.execute(
            select(*columns)
            .where(*conditions, tuple_(AuditCheckpoint.tree_size, AuditCheckpoint.id) > after)
            .order_by(AuditCheckpoint.tree_size, AuditCheckpoint.id)
            .limit(batch)
        ).all()
        yield from page
        if len(page) < batch:
            return
        after = (page[-1].tree_size, page[-1].id)


def checkpoint_json(checkpoint: CheckpointFields) -> dict[str, Any]:
    """The public JSON form of a checkpoint (what the API lists and auditors keep)."""
    return {
        "id": checkpoint.id,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "timestamp": format_instant(checkpoint.created_at),
        "key_fingerprint": checkpoint.key_fingerprint,
        "signature": checkpoint.signature,
    }


def signature_valid(checkpoint: AuditCheckpoint, key: ed25519.Ed25519PublicKey) -> bool:
    """Whether ``key`` signed ``checkpoint``'s message (the key's fingerprint must be the one named)."""
    if public_fingerprint(key) != checkpoint.key_fingerprint:
        return False
    try:
        key.verify(
            signature_bytes(checkpoint.signature),
            checkpoint_message(
                checkpoint.tree_size,
                checkpoint.root_hash,
                format_instant(checkpoint.created_at),
                checkpoint.key_fingerprint,
            ),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The most recently created checkpoint, if any."""
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()


def checkpoint_for_size(session: Session, tree_size: int) -> AuditCheckpoint | None:
    """The latest checkpoint of exactly ``tree_size`` entries, if there is one."""
    return session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size == tree_size)
        .order_by(AuditCheckpoint.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True, slots=True)
class Rotation:
    """A logged rotation of the log key: from entry ``seq`` on, ``new`` replaces ``old``."""

    seq: int
    old: str
    new: str


def rotation_of(action: str, details: Any) -> tuple[str, str] | None:
    """(old, new) fingerprints if an entry with this action and details rotates the log key."""
    if action != KEY_ROTATED or not isinstance(details, dict) or details.get("purpose") != LOG_KEY_PURPOSE:
        return None
    old, new = details.get("old_fingerprint"), details.get("new_fingerprint")
    if isinstance(old, str) and isinstance(new, str):
        return old, new
    return None


def latest_rotation(session: Session) -> Rotation | None:
    """The latest logged rotation of the log key."""
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.action, AuditEntry.details)
        .where(AuditEntry.action == KEY_ROTATED)
        .order_by(AuditEntry.seq.desc())
    )
    for seq, action, details in rows:
        pair = rotation_of(action, details)
        if pair is not None:
            return Rotation(seq, *pair)
    return None


def current_key_fingerprint(session: Session) -> str | None:
    """The fingerprint of the key that must sign the next checkpoint (``None`` before the first one)."""
    rotation = latest_rotation(session)
    if rotation is not None:
        return rotation.new
    latest = latest_checkpoint(session)
    return latest.key_fingerprint if latest is not None else None


def _lock_head(session: Session) -> AuditHead:
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if head is None:
        raise CheckpointError("audit log head missing: run the migrations")
    return head


def _check_consistency(session: Session, size: int, root: bytes) -> None:
    """Refuse to sign a tree that does not extend the latest checkpoint (damaged stored hashes)."""
    previous = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc(), AuditCheckpoint.id.desc()).limit(1)
    ).first()
    if previous is None:
        return
    if previous.tree_size > size:
        raise CheckpointError(
            f"the log has {size} entries but checkpoint {previous.id} covers {previous.tree_size}: "
            "entries were removed; run `flask --app wsgi audit verify`"
        )
    path = tree.consistency_path(session, previous.tree_size, size)
    if not merkle.verify_consistency(previous.tree_size, size, bytes.fromhex(previous.root_hash), root, path):
        raise CheckpointError(
            f"the stored tree is not consistent with checkpoint {previous.id}; run `flask --app wsgi audit verify`"
        )


def create_checkpoint(
    session: Session,
    key: ed25519.Ed25519PrivateKey,
    *,
    now: datetime | None = None,
    handover: bool = False,
) -> AuditCheckpoint:
    """Sign the current tree head with ``key`` and store it, inside the caller's transaction.

    Locks the head so the size is stable and concurrent callers serialise. ``handover`` is for the key
    rotation itself, where the outgoing key signs the checkpoint covering the rotation entry.

    Raises :class:`CheckpointError` when the log is empty, when ``key`` is not the log's current key,
    or when the stored tree does not extend the latest checkpoint.
    """
    head = _lock_head(session)
    return _sign(session, key, head.seq, now or utcnow(), handover)


def create_checkpoint_if_due(
    session: Session, key: ed25519.Ed25519PrivateKey, interval: timedelta, *, now: datetime | None = None
) -> AuditCheckpoint | None:
    """Like :func:`create_checkpoint`, but only when the log grew since the latest checkpoint and that one
    is at least ``interval`` old (or there is none); returns ``None`` otherwise. The check runs under the
    head lock, so several servers running the schedule at once create one checkpoint, not several.
    """
    head = _lock_head(session)
    now = now or utcnow()
    latest = latest_checkpoint(session)
    if head.seq == 0 or (latest is not None and (latest.tree_size >= head.seq or now - latest.created_at < interval)):
        return None
    return _sign(session, key, head.seq, now, False)


def _sign(
    session: Session, key: ed25519.Ed25519PrivateKey, size: int, now: datetime, handover: bool
) -> AuditCheckpoint:
    if size == 0:
        raise CheckpointError("the audit log is empty: nothing to sign yet")
    fingerprint = public_fingerprint(key.public_key())
    if not handover:
        expected = current_key_fingerprint(session)
        if expected is not None and expected != fingerprint:
            raise CheckpointError(
                f"the configured log key ({fingerprint[:16]}…) is not the log's current key ({expected[:16]}…); "
                "change keys only with `flask --app wsgi keys rotate-log`"
            )
    root = tree.root_at(session, size)
    _check_consistency(session, size, root)
    timestamp = format_instant(now)
    message = checkpoint_message(size, root.hex(), timestamp, fingerprint)
    checkpoint = AuditCheckpoint(
        tree_size=size,
        root_hash=root.hex(),
        created_at=now,
        key_fingerprint=fingerprint,
        public_key=public_key_pem(key.public_key()),
        signature=base64.b64encode(key.sign(message)).decode("ascii"),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint
