"""Storing a document's bytes inside a unit of work, so that a rolled-back transaction leaves no file behind.

The file is put in place (fsynced, renamed) before the row that names it is flushed, so that no committed
row ever names a file that is not there. When the transaction then rolls back (a refusal, a conflict, a
database error, a killed request's rollback on the server side), :func:`discard_uncommitted` removes the
files this transaction wrote, unless an upload of the same content has claimed them meanwhile. A process
killed between the rename and the commit leaves an orphan file, which ``flask storage check`` reports and
``--delete-orphans`` removes.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from app.engine.errors import Msg, StorageUnavailable
from app.storage import LocalStorage, Stored, get_storage

_PENDING = "stored_files"
log = logging.getLogger(__name__)

STORAGE_FAILED = Msg(
    "No se pudo guardar el archivo por una falla del almacenamiento del servidor. No se guardó nada; "
    "intente de nuevo más tarde."
)


def document_store() -> LocalStorage:
    """The configured document store (``DOCUMENTS_DIR``)."""
    return get_storage(Path(current_app.config["DOCUMENTS_DIR"]))


def store_file(session: Session, content: bytes, store: LocalStorage | None = None) -> tuple[str, str]:
    """Store ``content`` for the transaction of ``session``; return (storage key, SHA-256 hex).

    Raises ``StorageUnavailable`` when the disk is full or failing (nothing is stored then).
    """
    store = store or document_store()
    try:
        stored = store.store(content)
    except OSError:
        log.exception("document could not be stored (%d bytes)", len(content))
        raise StorageUnavailable(STORAGE_FAILED) from None
    if stored.created is not None:
        session.info.setdefault(_PENDING, []).append((store, stored))
    return stored.key, stored.sha256


def forget_committed(session: Session) -> None:
    """The transaction committed: its files are now named by rows and stay."""
    session.info.pop(_PENDING, None)


def discard_uncommitted(session: Session) -> int:
    """The transaction rolled back: remove the files it wrote (unless claimed since); how many went."""
    pending: list[tuple[LocalStorage, Stored]] = session.info.pop(_PENDING, [])
    removed = 0
    for store, stored in pending:
        try:
            removed += store.discard(stored)
        except OSError:  # left as an orphan, which `flask storage check` finds
            log.exception("file %s of a rolled-back transaction could not be removed", stored.key)
    return removed
