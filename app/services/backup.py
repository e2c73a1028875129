"""Backup and restore of everything an installation cannot rebuild: the database, the stored documents, the
signing keys and the kept checkpoint (the procedure is in ``docs/backup.md``).

A backup is a folder (mode 0700) holding a consistent snapshot of the database (SQLite's online backup API,
or ``pg_dump --format=custom`` inside an exported snapshot on PostgreSQL), every stored file that a row of
that snapshot names, the key material and a ``manifest.json`` listing each file with its SHA-256. It is
written under a temporary name and renamed when complete, so a folder with the final name is a whole backup.

A restore goes into an empty database and an empty documents directory (it refuses anything else), checks
every file of the backup against the manifest first, and ends by checking what it restored: the audit log
verifies, every row's file is present with its hash, and the counts match the manifest.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from app.audit import verify
from app.extensions import db
from app.keys import CERT_KEY_NAME, CERT_NAME, LOG_KEY_NAME, ROOT_CERT_NAME
from app.services.storage_check import check_storage
from app.storage import file_sha256, get_storage, is_key

FORMAT = "tramites-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
DOCUMENTS = "documents"
KEYS = "keys"
KEY_FOLDER = "keys/folder"
KEY_FILES = "keys/files"
KEPT_CHECKPOINT = "audit_checkpoint.json"

KEY_SETTINGS: dict[str, str | None] = {
    "AUDIT_LOG_KEY_FILE": LOG_KEY_NAME,
    "CERT_KEY_FILE": CERT_KEY_NAME,
    "CERT_FILE": CERT_NAME,
    "CERT_CHAIN_FILE": ROOT_CERT_NAME,
    "CERT_TRUST_ROOT_FILE": ROOT_CERT_NAME,
    "CERT_P12_FILE": None,
}
"""Key files the configuration may place outside ``KEYS_DIR``, and the name each takes there by default."""

_STORED_KEYS = text("SELECT storage_key, sha256 FROM documents UNION SELECT storage_key, sha256 FROM certificates")
_COUNTS = {
    "documents": text("SELECT count(*) FROM documents"),
    "certificates": text("SELECT count(*) FROM certificates"),
    "audit_entries": text("SELECT count(*) FROM audit_entries"),
    "cases": text("SELECT count(*) FROM cases"),
}


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(slots=True)
class BackupSummary:
    """What a backup holds, or what a restore put back (``problems`` empty when the checks passed)."""

    path: Path
    backend: str
    revision: str
    counts: dict[str, int]
    files: int
    key_files: int
    problems: list[str] = field(default_factory=list)


def _config() -> Mapping[str, Any]:
    return current_app.config


def _url() -> URL:
    return make_url(str(_config()["SQLALCHEMY_DATABASE_URI"]))


def _backend(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up or restored")
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"unsupported database {url.get_backend_name()!r}")


def pg_program(name: str) -> str:
    """The path of a PostgreSQL client program (``PG_BINDIR``, then the newest installed, then ``PATH``)."""
    candidates = [os.environ.get("PG_BINDIR", ""), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if folder and (Path(folder) / name).exists():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs or set PG_BINDIR")
    return found


def _pg_arguments(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", str(url.database or "")]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, timeout=3600, check=False)  # noqa: S603
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise BackupError(f"{Path(command[0]).name} failed (exit {done.returncode}): {message}")


def _copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (new file, mode 0600, fsynced)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle, source.open("rb") as original:
        shutil.copyfileobj(original, handle)
        handle.flush()
        os.fsync(handle.fileno())


# -- creating a backup ------------------------------------------------------------------------------------


def _snapshot_sqlite(url: URL, folder: Path) -> tuple[str, dict[str, int], list[tuple[str, str]]]:
    target = folder / SQLITE_FILE
    with closing(sqlite3.connect(str(url.database))) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    with closing(sqlite3.connect(target)) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        revision = str(copy.execute("SELECT version_num FROM alembic_version").fetchone()[0])
        counts = {name: int(copy.execute(str(query)).fetchone()[0]) for name, query in _COUNTS.items()}
        stored = [(str(key), str(digest)) for key, digest in copy.execute(str(_STORED_KEYS)).fetchall()]
    return revision, counts, stored


def _snapshot_postgresql(url: URL, folder: Path) -> tuple[str, dict[str, int], list[tuple[str, str]]]:
    args, env = _pg_arguments(url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        revision = str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
        counts = {name: int(conn.execute(query).scalar_one()) for name, query in _COUNTS.items()}
        stored = [(str(key), str(digest)) for key, digest in conn.execute(_STORED_KEYS).all()]
        command = [pg_program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--file", str(folder / PG_FILE)]
        _run([*command, *args], env)
    return revision, counts, stored


def _key_sources(config: Mapping[str, Any]) -> Iterator[tuple[str, Path]]:
    """(place in the backup, file) for the key folder's files and the separately configured key files."""
    folder = Path(str(config["KEYS_DIR"]))
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            yield f"{KEY_FOLDER}/{path.relative_to(folder).as_posix()}", path
    for setting in KEY_SETTINGS:
        configured = config.get(setting)
        if configured:
            yield f"{KEY_FILES}/{setting}", Path(str(configured))


def create_backup(destination: Path, *, include_keys: bool = True) -> BackupSummary:
    """Write a complete backup to the new folder ``destination``.

    Raises ``BackupError`` when ``destination`` exists, the database cannot be dumped, or a file that a row
    names is missing or damaged in the store (run ``flask storage check``).
    """
    config = _config()
    url = _url()
    backend = _backend(url)
    if destination.exists():
        raise BackupError(f"{destination} already exists; give a new folder")
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        snapshot = _snapshot_sqlite if backend == "sqlite" else _snapshot_postgresql
        revision, counts, stored = snapshot(url, work)
        store = get_storage(Path(str(config["DOCUMENTS_DIR"])))
        problems = []
        for key, digest in sorted(set(stored)):
            try:
                source = store.path(key)
                actual = file_sha256(source)
            except FileNotFoundError:
                problems.append(f"{key} is named by a row but missing from the store")
                continue
            if actual != digest or actual != key:
                problems.append(f"{key} does not match its SHA-256 in the store")
                continue
            _copy_private(source, work / DOCUMENTS / key[:2] / key[2:4] / key)
        if problems:
            raise BackupError("; ".join(problems) + " (see `flask storage check` and docs/backup.md)")
        key_files = 0
        if include_keys:
            for place, source in _key_sources(config):
                _copy_private(source, work / place)
                key_files += 1
        kept = config.get("AUDIT_KEPT_CHECKPOINT_FILE")
        if kept and Path(str(kept)).is_file():
            _copy_private(Path(str(kept)), work / KEPT_CHECKPOINT)
        files = {
            path.relative_to(work).as_posix(): file_sha256(path) for path in sorted(work.rglob("*")) if path.is_file()
        }
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "backend": backend,
            "alembic_revision": revision,
            "counts": counts,
            "files": files,
        }
        _write_manifest(work / MANIFEST, manifest)
        os.rename(work, destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupSummary(destination, backend, revision, counts, len(stored), key_files)


def _write_manifest(path: Path, manifest: Mapping[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


# -- restoring ------------------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source``, after checking every file it lists against its SHA-256.

    Raises ``BackupError`` when the manifest is missing or unreadable, or a file is missing, damaged or
    not listed.
    """
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup, or an incomplete one") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{source / MANIFEST} is unreadable: {exc}") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
    ):
        raise BackupError(f"{source} is not a backup of format {FORMAT}")
    listed: dict[str, Any] = manifest["files"]
    present = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    if present - set(listed):
        raise BackupError(f"files not in the manifest: {sorted(present - set(listed))[:5]}")
    for name, digest in listed.items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{name} is listed in the manifest but missing from the backup")
        if file_sha256(path) != digest:
            raise BackupError(f"{name} does not match its SHA-256 in the manifest: the backup is damaged")
    return manifest


def _refuse_non_empty_targets(config: Mapping[str, Any], url: URL, backend: str) -> None:
    if backend == "sqlite" and Path(str(url.database)).exists() and Path(str(url.database)).stat().st_size > 0:
        with closing(sqlite3.connect(str(url.database))) as conn:
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables:
            raise BackupError(f"the database {url.database} is not empty; restore into a new, empty one")
    if backend == "postgresql" and inspect(db.engine).get_table_names():
        raise BackupError(f"the database {url.database} is not empty; restore into a new, empty one (createdb)")
    documents = Path(str(config["DOCUMENTS_DIR"]))
    if documents.exists() and any(documents.iterdir()):
        raise BackupError(f"the documents directory {documents} is not empty; restore into an empty one")


def _key_target(config: Mapping[str, Any], place: str) -> Path:
    folder = Path(str(config["KEYS_DIR"]))
    if place.startswith(f"{KEY_FOLDER}/"):
        return folder / place.removeprefix(f"{KEY_FOLDER}/")
    setting = place.removeprefix(f"{KEY_FILES}/")
    configured = config.get(setting)
    if configured:
        return Path(str(configured))
    default = KEY_SETTINGS.get(setting)
    if default is None:
        raise BackupError(f"the backup holds {setting}; set {setting} to where it should be restored")
    return folder / default


def _key_targets(config: Mapping[str, Any], listed: Mapping[str, str]) -> dict[str, Path]:
    """Where each key file of the backup goes; refuses a target that exists with other content."""
    targets = {place: _key_target(config, place) for place in listed if place.startswith(f"{KEYS}/")}
    for place, target in targets.items():
        if target.exists() and file_sha256(target) != listed[place]:
            raise BackupError(f"{target} exists with other content; move it away or restore with --no-keys")
    return targets


def restore_backup(source: Path, *, include_keys: bool = True) -> BackupSummary:
    """Restore the backup in ``source`` into the configured (empty) database and documents directory, with
    its keys (unless ``include_keys`` is false) and kept checkpoint; then check what was restored.

    Raises ``BackupError`` when the backup is damaged, the targets are not empty, the backup was made from
    another kind of database, or a restore program fails. Problems found by the final checks are returned
    in ``problems`` (the data is in place then; see docs/backup.md).
    """
    config = _config()
    url = _url()
    backend = _backend(url)
    manifest = read_manifest(source)
    if manifest.get("backend") != backend:
        raise BackupError(
            f"the backup is of a {manifest.get('backend')} database and the configured database is {backend}"
        )
    listed: dict[str, str] = manifest["files"]
    _refuse_non_empty_targets(config, url, backend)
    # before the database: a conflict stops the restore while nothing is written yet
    key_targets = _key_targets(config, listed) if include_keys else {}
    db.session.remove()
    db.engine.dispose()
    if backend == "sqlite":
        target = Path(str(url.database))
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(source / SQLITE_FILE)) as backup, closing(sqlite3.connect(target)) as live:
            backup.backup(live)
    else:
        args, env = _pg_arguments(url)
        restore = [pg_program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        _run([*restore, *args, str(source / PG_FILE)], env)
    store = get_storage(Path(str(config["DOCUMENTS_DIR"])))
    files = 0
    for place in sorted(listed):
        if place.startswith(f"{DOCUMENTS}/") and is_key(Path(place).name):
            store.store((source / place).read_bytes())
            files += 1
    key_files = 0
    for place, target in key_targets.items():
        if not target.exists():
            _copy_private(source / place, target)
            key_files += 1
    kept = config.get("AUDIT_KEPT_CHECKPOINT_FILE")
    if kept and KEPT_CHECKPOINT in listed and not Path(str(kept)).exists():
        _copy_private(source / KEPT_CHECKPOINT, Path(str(kept)))
    summary = BackupSummary(source, backend, str(manifest.get("alembic_revision")), {}, files, key_files)
    summary.problems = _check_restored(manifest, summary)
    return summary


def _check_restored(manifest: Mapping[str, Any], summary: BackupSummary) -> list[str]:
    problems = []
    with db.engine.connect() as conn:
        summary.counts = {name: int(conn.execute(query).scalar_one()) for name, query in _COUNTS.items()}
        revision = str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    if summary.counts != manifest.get("counts"):
        problems.append(f"restored counts {summary.counts} differ from the backup's {manifest.get('counts')}")
    if revision != manifest.get("alembic_revision"):
        problems.append(f"restored schema revision {revision} differs from the backup's")
    session = db.session()
    try:
        result = verify(session)
    finally:
        session.rollback()
    if not result.ok:
        problems += [f"audit log: {problem.message}" for problem in result.problems] or [f"audit log: {result.reason}"]
    report = check_storage()
    problems += [f"missing file {ref.key} ({ref.table} {ref.row_id})" for ref in report.missing]
    problems += [f"damaged file {ref.key} ({ref.table} {ref.row_id})" for ref in report.damaged]
    return problems
