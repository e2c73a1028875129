"""Stores bytes under their SHA-256, outside the web root. Writing the same content twice is a no-op."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    """What the services need from a document store (a local directory, or an S3-compatible bucket)."""

    def put(self, content: bytes) -> tuple[str, str]:
        """Store ``content``; return (storage key, SHA-256 hex)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises ``FileNotFoundError``."""
        ...


class LocalStorage:
    """A directory tree ``ab/cd/<sha256>``; files are written atomically and never modified."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise FileNotFoundError(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, content: bytes) -> tuple[str, str]:
        """Store ``content`` under its SHA-256 (fsynced, atomically renamed into place)."""
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return digest, digest

    def get(self, key: str) -> bytes:
        """The stored bytes; raises ``FileNotFoundError`` for an unknown or malformed key."""
        return self._path(key).read_bytes()


_stores: dict[Path, LocalStorage] = {}


def get_storage(root: Path) -> LocalStorage:
    """The store rooted at ``root`` (one object per directory)."""
    store = _stores.get(root)
    if store is None:
        store = _stores[root] = LocalStorage(root)
    return store
