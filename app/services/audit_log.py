"""Use cases of the audit log itself: signing checkpoints (on demand and on a schedule) and verifying."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from app.audit import KeptCheckpoint, VerifyResult, verify
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


def sign_checkpoint(config: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Sign the current tree head with the log key and store it (one transaction); returns its JSON form.

    Raises ``KeyMaterialError`` when the key is missing and ``CheckpointError`` when the log is empty,
    the key is not the log's current key or the stored tree does not extend the latest checkpoint.
    """
    key = load_log_key(config)
    with unit_of_work() as session:
        checkpoint = create_checkpoint(session, key, now=now)
        return checkpoint_json(checkpoint)


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
            if checkpoint is None:
                return ScheduledCheckpoint(None, "not due")
            return ScheduledCheckpoint(checkpoint_json(checkpoint))
    except CheckpointError as exc:
        return ScheduledCheckpoint(None, problem=str(exc))


def verify_log(
    trusted_keys: Sequence[ed25519.Ed25519PublicKey] = (), kept: Sequence[KeptCheckpoint] = ()
) -> VerifyResult:
    """Verify the whole live log (read-only; see :func:`app.audit.verify`)."""
    session = db.session()
    try:
        return verify(session, trusted_keys=trusted_keys, kept=kept)
    finally:
        session.rollback()
