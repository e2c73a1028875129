"""Use cases of the audit log itself: signing checkpoints (on demand and on a schedule) and verifying."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from app.audit import KeptCheckpoint, VerifyResult, verify
from app.audit.canonical import strict_loads
from app.audit.checkpoints import CheckpointError, checkpoint_json, create_checkpoint, create_checkpoint_if_due
from app.extensions import db
from app.keys import KeyMaterialError, load_log_key
from app.services.uow import unit_of_work


@dataclass(frozen=True, slots=True)
class ScheduledCheckpoint:
    """What the scheduled pass did: ``checkpoint`` is the new one (JSON form), or ``None`` with the reason
    (``skipped``: nothing to do or no key configured; ``problem``: the log or its key needs attention)."""

    checkpoint: dict[str, Any] | None
    skipped: str | None = None
    problem: str | None = None


def kept_checkpoint_path(config: Mapping[str, Any]) -> Path | None:
    """Where the copy of the latest checkpoint is kept outside the database (``None``: not kept)."""
    value = str(config.get("AUDIT_KEPT_CHECKPOINT_FILE") or "")
    return Path(value) if value else None


def read_kept_checkpoint(config: Mapping[str, Any]) -> KeptCheckpoint | None:
    """The checkpoint kept outside the database, if the file exists.

    Raises ``ValueError`` when the file exists but is not a checkpoint (strict JSON).
    """
    path = kept_checkpoint_path(config)
    if path is None or not path.exists():
        return None
    try:
        return KeptCheckpoint.from_json(strict_loads(path.read_bytes()))
    except (OSError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not a checkpoint ({exc})") from None


def keep_checkpoint(config: Mapping[str, Any], checkpoint: Mapping[str, Any]) -> str | None:
    """Copy a newly signed checkpoint to the file outside the database; returns a problem, or ``None``.

    The copy never moves backwards: a checkpoint smaller than the kept one, or of the same size with
    another root, is not written (the database was rewound or replaced) and the problem says so. The
    file is replaced atomically.
    """
    path = kept_checkpoint_path(config)
    if path is None:
        return None
    try:
        kept = read_kept_checkpoint(config)
    except ValueError as exc:
        return f"the kept checkpoint was not updated: {exc}"
    size, root = int(checkpoint["tree_size"]), str(checkpoint["root_hash"])
    if kept is not None and (kept.tree_size > size or (kept.tree_size == size and kept.root_hash != root)):
        return (
            f"the kept checkpoint {path} covers {kept.tree_size} entries and differs from the new one "
            f"({size} entries): the database was rewound or replaced; run `flask --app wsgi audit verify`"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(dict(checkpoint), indent=2, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        return f"the kept checkpoint {path} could not be written: {exc.strerror}"
    return None


def sign_checkpoint(config: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Sign the current tree head with the log key and store it (one transaction); returns its JSON form.

    Raises ``KeyMaterialError`` when the key is missing and ``CheckpointError`` when the log is empty,
    the key is not the log's current key or the stored tree does not extend the latest checkpoint.
    """
    key = load_log_key(config)
    with unit_of_work() as session:
        signed = checkpoint_json(create_checkpoint(session, key, now=now))
    problem = keep_checkpoint(config, signed)
    if problem is not None:
        raise CheckpointError(f"checkpoint {signed['id']} signed, but {problem}")
    return signed


def checkpoint_if_due(config: Mapping[str, Any], now: datetime | None = None) -> ScheduledCheckpoint:
    """Sign a checkpoint if the log grew since the latest one and that one is older than
    ``AUDIT_CHECKPOINT_INTERVAL`` seconds (``0`` disables scheduled checkpoints). Safe on several servers
    at once (the head lock serialises them). Never raises for a missing key: reports it instead.
    """
    interval = int(config.get("AUDIT_CHECKPOINT_INTERVAL", 600))
    if interval <= 0:
        return ScheduledCheckpoint(None, "disabled")
    try:
        key = load_log_key(config)
    except KeyMaterialError as exc:
        return ScheduledCheckpoint(None, str(exc))
    try:
        with unit_of_work() as session:
            checkpoint = create_checkpoint_if_due(session, key, timedelta(seconds=interval), now=now)
            signed = checkpoint_json(checkpoint) if checkpoint is not None else None
    except CheckpointError as exc:
        return ScheduledCheckpoint(None, problem=str(exc))
    if signed is None:
        return ScheduledCheckpoint(None, "not due")
    return ScheduledCheckpoint(signed, problem=keep_checkpoint(config, signed))


def checkpoint_after_load(config: Mapping[str, Any]) -> ScheduledCheckpoint:
    """Sign a checkpoint covering everything a bulk load (demo data) appended, so that none of it stays
    uncovered. Never raises: a missing key or a refused signature is reported instead."""
    try:
        return ScheduledCheckpoint(sign_checkpoint(config))
    except KeyMaterialError as exc:
        return ScheduledCheckpoint(None, str(exc))
    except CheckpointError as exc:
        return ScheduledCheckpoint(None, problem=str(exc))


def verify_log(
    trusted_keys: Sequence[ed25519.Ed25519PublicKey] = (),
    kept: Sequence[KeptCheckpoint] = (),
    max_uncovered_age: timedelta | None = None,
) -> VerifyResult:
    """Verify the whole live log (read-only; see :func:`app.audit.verify`).

    ``max_uncovered_age``: fail when no checkpoint covers a non-empty log, or when entries after the latest
    checkpoint are older than that (``None``: only report the uncovered window).
    """
    session = db.session()
    try:
        return verify(session, trusted_keys=trusted_keys, kept=kept, max_uncovered_age=max_uncovered_age)
    finally:
        session.rollback()
