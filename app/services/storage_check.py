"""Checking the document store against the database: what ``flask storage check`` reports.

Four kinds of finding: rows (documents, certificates) whose file is missing; files whose bytes no longer
match the SHA-256 their rows record (or their own name); orphan files that no row names (left by a process
killed between putting the file in place and committing); and leftovers of interrupted writes (temporary and
trash files). Orphans and leftovers are harmless and may be removed once they are older than a grace period
(an upload in flight has a fresh file that no committed row names yet); missing and damaged files are not,
and need the backup (docs/backup.md).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.database import end_read
from app.extensions import db
from app.models import Certificate, Document
from app.services.files import document_store
from app.storage import LocalStorage, file_sha256

DEFAULT_GRACE_SECONDS = 3600
"""Orphans and leftovers younger than this are never removed: an upload may still be committing."""


@dataclass(frozen=True, slots=True)
class RowRef:
    """A database row that names a stored file."""

    table: str
    row_id: int
    key: str
    sha256: str


@dataclass(slots=True)
class StorageReport:
    """What a check found; ``ok`` when nothing is missing or damaged and no orphan or leftover remains."""

    rows: int = 0
    files: int = 0
    missing: list[RowRef] = field(default_factory=list)
    damaged: list[RowRef] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    kept_young: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the store and the database agree (after any removal that was asked for)."""
        removed = set(self.removed)
        return (
            not self.missing
            and not self.damaged
            and all(path in removed for path in self.orphans)
            and all(path in removed for path in self.leftovers)
        )


def _references() -> dict[str, list[RowRef]]:
    by_key: dict[str, list[RowRef]] = defaultdict(list)
    for table, model in (("documents", Document), ("certificates", Certificate)):
        for row_id, key, digest in db.session.execute(select(model.id, model.storage_key, model.sha256)):
            by_key[key].append(RowRef(table, row_id, key, digest))
    end_read(db.session())  # a read transaction only; do not hold it while hashing files
    return by_key


def check_storage(
    store: LocalStorage | None = None,
    *,
    delete_orphans: bool = False,
    grace_seconds: int = DEFAULT_GRACE_SECONDS,
    now: float | None = None,
) -> StorageReport:
    """Compare every stored file with the rows that name it; optionally remove old orphans and leftovers.

    Every file is read and hashed. An orphan is removed only when nobody claimed it since it was looked at
    (``LocalStorage.remove_unclaimed``), so that an upload of the same bytes at that moment keeps its file.
    """
    store = store or document_store()
    report = StorageReport()
    references = _references()
    report.rows = sum(len(refs) for refs in references.values())
    now_ns = int((time.time() if now is None else now) * 1_000_000_000)
    old_enough = now_ns - grace_seconds * 1_000_000_000
    seen: set[str] = set()
    for found in store.files():
        report.files += 1
        if found.leftover:
            report.leftovers.append(found.path)
            if delete_orphans:
                if found.mtime_ns <= old_enough:
                    store.remove_leftover(found.path)
                    report.removed.append(found.path)
                else:
                    report.kept_young.append(found.path)
            continue
        seen.add(found.name)
        refs = references.get(found.name)
        if not refs:
            report.orphans.append(found.path)
            if delete_orphans:
                if found.mtime_ns <= old_enough and store.remove_unclaimed(found.name, (found.inode, found.mtime_ns)):
                    report.removed.append(found.path)
                else:
                    report.kept_young.append(found.path)
            continue
        try:
            actual = file_sha256(found.path)
        except FileNotFoundError:
            report.missing.extend(refs)
            continue
        report.damaged.extend(ref for ref in refs if actual != ref.sha256 or actual != found.name)
    for key, refs in references.items():
        if key not in seen:
            report.missing.extend(refs)
    report.missing.sort(key=lambda ref: (ref.table, ref.row_id))
    report.damaged.sort(key=lambda ref: (ref.table, ref.row_id))
    return report
