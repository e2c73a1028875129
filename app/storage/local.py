"""Stores bytes under their SHA-256, outside the web root. Writing the same content twice stores it once.

A file is written under a temporary name in its final folder, flushed and fsynced, renamed into place and
the folder fsynced: a process killed, or a disk that fills, in the middle of a write leaves at most a
temporary file (``.tmp-…``), never a file under a document's name with other bytes than its hash says. The
database row that names a file is written only after the file is in place (see ``app.services.files``), and a
file written for a transaction that then rolls back is removed again unless another upload has claimed it in
the meantime (:meth:`LocalStorage.discard`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TEMP_PREFIX = ".tmp-"
"""Files being written; one left behind was interrupted (killed process, full disk)."""
TRASH_PREFIX = ".trash-"
"""Files being removed; one left behind was interrupted too."""
_HEX = frozenset("0123456789abcdef")
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored content: its key and SHA-256 and, when this call wrote the file, the file's identity
    (inode, modification time in ns) so that :meth:`LocalStorage.discard` removes only that very file."""

    key: str
    sha256: str
    created: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file found under the storage root: a content's key, or a leftover of an interrupted write."""

    name: str
    path: Path
    size: int
    mtime_ns: int
    inode: int
    leftover: bool


class Storage(Protocol):
    """What the services need from a document store (a local directory, or an S3-compatible bucket)."""

    def put(self, content: bytes) -> tuple[str, str]:
        """Store ``content``; return (storage key, SHA-256 hex)."""
        ...

    def store(self, content: bytes) -> Stored:
        """Store ``content``; say whether this call wrote it (so that it can be discarded on rollback)."""
        ...

    def discard(self, stored: Stored) -> bool:
        """Remove what :meth:`store` wrote, unless someone has claimed it since; whether it was removed."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises ``FileNotFoundError``."""
        ...


def is_key(name: str) -> bool:
    """Whether ``name`` has the form of a storage key (64 lower-case hexadecimal digits)."""
    return len(name) == 64 and all(c in _HEX for c in name)


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX: the folder itself must be fsynced)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, content: bytes) -> None:
    """Write every byte of ``content`` to ``fd`` and fsync it (``OSError`` on a full disk or an I/O error)."""
    view = memoryview(content)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def file_sha256(path: Path) -> str:
    """SHA-256 hex of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LocalStorage:
    """A directory tree ``ab/cd/<sha256>``; files are written atomically and never modified."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """Where the content named ``key`` lives; ``FileNotFoundError`` for a malformed key."""
        if not is_key(key):
            raise FileNotFoundError(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, content: bytes) -> tuple[str, str]:
        """Store ``content`` under its SHA-256 (fsynced, atomically renamed into place)."""
        stored = self.store(content)
        return stored.key, stored.sha256

    def store(self, content: bytes) -> Stored:
        """Store ``content`` under its SHA-256 and say whether this call wrote the file.

        A copy already in place is claimed first (its modification time is set to now, so that a concurrent
        :meth:`discard` or orphan clean-up keeps it) and then checked: a copy whose bytes no longer match its
        name is replaced. Raises ``OSError`` when the disk is full or failing; nothing is left under the
        content's name then.
        """
        digest = hashlib.sha256(content).hexdigest()
        path = self.path(digest)
        intact: bool | None
        try:
            os.utime(path)
            intact = file_sha256(path) == digest
        except FileNotFoundError:
            intact = None
        if intact is None:
            return Stored(digest, digest, self._write(path, content))
        if not intact:  # rows may already name this damaged copy: repair it, but it is not ours to discard
            self._write(path, content)
        return Stored(digest, digest, None)

    def _write(self, path: Path, content: bytes) -> tuple[int, int]:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        try:
            try:
                write_all(fd, content)
                status = os.fstat(fd)  # before the rename: a claim right after it changes the time we keep
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        _fsync_dir(path.parent.parent)
        return status.st_ino, status.st_mtime_ns

    def discard(self, stored: Stored) -> bool:
        """Remove the file :meth:`store` wrote for ``stored`` when nobody has claimed it since.

        Used when the transaction that was to name the file rolls back. The file is first renamed aside and
        checked again, so that an upload of the same content that claims it at that very moment keeps it.
        """
        if stored.created is None:
            return False
        return self.remove_unclaimed(stored.key, stored.created)

    def remove_unclaimed(self, key: str, identity: tuple[int, int]) -> bool:
        """Remove the file of ``key`` if it is still the file ``identity`` (inode, mtime ns) describes."""
        path = self.path(key)
        if not _same(path, identity):
            return False
        trash = path.with_name(f"{TRASH_PREFIX}{key}-{secrets.token_hex(4)}")
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return False
        if not _same(trash, identity):  # claimed between the two looks: put it back (same bytes)
            os.replace(trash, path)
            return False
        trash.unlink()
        _fsync_dir(path.parent)
        return True

    def remove_leftover(self, path: Path) -> None:
        """Remove a temporary or trash file an interrupted write or removal left behind."""
        if not path.name.startswith((TEMP_PREFIX, TRASH_PREFIX)) or self.root not in path.parents:
            raise ValueError(f"{path} is not a leftover of this store")
        path.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        """The stored bytes; raises ``FileNotFoundError`` for an unknown or malformed key."""
        return self.path(key).read_bytes()

    def files(self) -> Iterator[StoredFile]:
        """Every file under the root: contents (named by their key) and leftovers of interrupted writes.

        Files with other names are reported as leftovers too: nothing else belongs in this folder.
        """
        if not self.root.is_dir():
            return
        for folder, _dirs, names in os.walk(self.root):
            for name in sorted(names):
                path = Path(folder) / name
                try:
                    status = path.stat()
                except FileNotFoundError:  # removed while we walked
                    continue
                expected = is_key(name) and path == self.root / name[:2] / name[2:4] / name
                yield StoredFile(name, path, status.st_size, status.st_mtime_ns, status.st_ino, not expected)


def _same(path: Path, identity: tuple[int, int]) -> bool:
    try:
        status = path.stat()
    except FileNotFoundError:
        return False
    return (status.st_ino, status.st_mtime_ns) == identity


_stores: dict[Path, LocalStorage] = {}


def get_storage(root: Path) -> LocalStorage:
    """The store rooted at ``root`` (one object per directory)."""
    store = _stores.get(root)
    if store is None:
        store = _stores[root] = LocalStorage(root)
    return store
