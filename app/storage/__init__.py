"""Content-addressed document storage behind a small interface (a local directory by default)."""

from app.storage.local import (
    TEMP_PREFIX,
    TRASH_PREFIX,
    LocalStorage,
    Storage,
    Stored,
    StoredFile,
    file_sha256,
    get_storage,
    is_key,
)

__all__ = [
    "TEMP_PREFIX",
    "TRASH_PREFIX",
    "LocalStorage",
    "Storage",
    "Stored",
    "StoredFile",
    "file_sha256",
    "get_storage",
    "is_key",
]
