"""Creating key material is an administrative act: each new key is written to the audit log."""

from __future__ import annotations

from pathlib import Path

from app import audit
from app.audit import EntryInput
from app.keys import CreatedKey, init_development_keys
from app.models import AuditKind
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
