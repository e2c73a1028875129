"""Creating key material is an administrative act: each new key is written to the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import audit
from app.audit import EntryInput
from app.audit.checkpoints import (
    KEY_ROTATED,
    LOG_KEY_PURPOSE,
    CheckpointError,
    checkpoint_json,
    create_checkpoint,
    current_key_fingerprint,
)
from app.keys import (
    CreatedKey,
    discard_staged_log_key,
    generate_log_key,
    init_development_keys,
    install_staged_log_key,
    load_log_key,
    public_fingerprint,
    stage_log_key,
)
from app.models import AuditKind, utcnow
from app.services.audit_log import keep_checkpoint
from app.services.uow import unit_of_work


def init_keys(folder: Path, institution: str, actor_id: int | None = None) -> list[CreatedKey]:
    """Create the missing development keys in ``folder`` and log each one by its public fingerprint."""
    created = init_development_keys(folder, institution)
    if created:
        with unit_of_work() as session:
            for key in created:
                audit.append(
                    session,
                    EntryInput(
                        kind=AuditKind.ADMIN,
                        action="key_created",
                        actor_id=actor_id,
                        actor_role="admin" if actor_id else "system",
                        details={"purpose": key.purpose, "fingerprint": key.fingerprint},
                    ),
                )
    return created


@dataclass(frozen=True, slots=True)
class LogKeyRotation:
    """A completed rotation of the audit log key."""

    old_fingerprint: str
    new_fingerprint: str
    entry_seq: int
    handover_checkpoint: dict[str, Any]
    archived_key: Path


def rotate_log_key(config: Mapping[str, Any], actor_id: int | None = None) -> LogKeyRotation:
    """Replace the audit log key with a new Ed25519 key, as a logged administrative act.

    In one transaction: the ``key_rotated`` entry naming the old and new fingerprints, then a hand-over
    checkpoint signed by the *old* key that covers it, so an auditor trusting either key can follow the
    chain of keys. Then the old key file is archived and the new one installed. Old checkpoints stay
    verifiable with the old public key, which every bundle carries.

    Raises ``KeyMaterialError`` when the current key is missing and ``CheckpointError`` when the
    configured key is not the log's current key (nothing changes then).
    """
    old = load_log_key(config)
    old_fingerprint = public_fingerprint(old.public_key())
    new = generate_log_key()
    new_fingerprint = public_fingerprint(new.public_key())
    staged = stage_log_key(config, new)
    now = utcnow()
    try:
        with unit_of_work() as session:
            # the log's head first: a rotation at the same moment waits, then finds the key it read replaced
            audit.lock_head(session)
            current = current_key_fingerprint(session)
            if current is not None and current != old_fingerprint:
                raise CheckpointError(
                    f"the configured log key ({old_fingerprint[:16]}…) is not the log's current key "
                    f"({current[:16]}…); restore the current key before rotating"
                )
            entry = audit.append(
                session,
                EntryInput(
                    kind=AuditKind.ADMIN,
                    action=KEY_ROTATED,
                    actor_id=actor_id,
                    actor_role="admin" if actor_id else "system",
                    details={
                        "purpose": LOG_KEY_PURPOSE,
                        "old_fingerprint": old_fingerprint,
                        "new_fingerprint": new_fingerprint,
                    },
                ),
            )
            checkpoint = create_checkpoint(session, old, now=now, handover=True)
            handover = checkpoint_json(checkpoint)
            seq = entry.seq
    except BaseException:
        discard_staged_log_key(staged)
        raise
    archived = install_staged_log_key(config, staged, old_fingerprint, now)
    keep_checkpoint(config, handover)  # a problem with the copy shows at the next `audit verify`
    return LogKeyRotation(old_fingerprint, new_fingerprint, seq, handover, archived)
