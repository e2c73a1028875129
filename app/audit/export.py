"""The documents auditors take away: entry lines, bundles and proofs (formats in ``docs/audit-log.md``).

Everything here is JSON built from the canonical form: references and digests, never the free-text
comments or any other personal data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import tree
from app.audit.canonical import entry_fields, format_instant
from app.audit.checkpoints import PUBLIC_CHECKPOINT_COLUMNS, checkpoint_json, checkpoints_by_size
from app.models import AuditCheckpoint, AuditEntry, AuditHead, utcnow

BUNDLE_FORMAT = "tramites-audit-bundle/1"
BUNDLE_FORMAT_2 = "tramites-audit-bundle/2"
BUNDLE_VERSIONS = (1, 2)
INCLUSION_FORMAT = "tramites-inclusion-proof/1"
CONSISTENCY_FORMAT = "tramites-consistency-proof/1"

LINE_COLUMNS = [column for column in AuditEntry.__table__.columns if column.name not in ("comment", "comment_salt")]
"""What exports read: every column but the comment text and its salt."""


def entry_line(row: AuditEntry | Mapping[Any, Any]) -> dict[str, Any]:
    """One entry as bundles and JSON-lines exports carry it: its canonical object and stored hashes."""
    if isinstance(row, AuditEntry):
        leaf, chain = row.leaf_hash, row.entry_hash
    else:
        leaf, chain = row["leaf_hash"], row["entry_hash"]
    return {"entry": entry_fields(row), "leaf_hash": leaf, "chain_hash": chain}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def dumps_line(value: Any) -> str:
    """A compact JSON line (UTF-8 text, newline-terminated)."""
    return _compact(value) + "\n"


def public_keys(checkpoints: Sequence[AuditCheckpoint]) -> list[dict[str, str]]:
    """Every distinct key that signed one of ``checkpoints``, in order of first use."""
    seen: dict[str, str] = {}
    for checkpoint in checkpoints:
        seen.setdefault(checkpoint.key_fingerprint, checkpoint.public_key)
    return [{"fingerprint": fingerprint, "pem": pem} for fingerprint, pem in seen.items()]


class ExportError(ValueError):
    """The requested document cannot be built (no such checkpoint, sizes out of range…)."""


def bundle_lines(
    session: Session | Callable[[], Session],
    checkpoint: AuditCheckpoint,
    batch: int = 2000,
    version: int = 1,
    keys: Sequence[Mapping[str, str]] | None = None,
) -> Iterator[str]:
    """The audit bundle for ``checkpoint``, JSON lines in pieces to write one after the other (formats in
    ``docs/audit-log.md``, section 6).

    Format 1 (``version=1``): a header (format, tree size, every checkpoint up to that size, every public key that
    signed one, the log's size when exported and how many of its latest entries no checkpoint covered), then the
    first ``tree_size`` entries in order. Format 2: the header without the checkpoints, with the public keys
    ``keys`` (at least every key that signed one of its checkpoints, in order of first use); then the entries, each
    checkpoint on a line of its own right after the entry that completes the tree it signs, so that a verifier
    meets them as it reads and keeps none: it verifies a log of any age in constant memory.

    Streams the entries and the checkpoints (constant memory: a checkpoint is signed every minute the log grows,
    so a year's log has hundreds of thousands); format 1's header is one JSON line, written in pieces, the same
    text as :func:`dumps_line` of the whole header. Entries and checkpoints up to a checkpoint never change, so no
    lock is needed.

    What it needs of ``checkpoint`` is read at once, not when the first line is asked for: a page streams the
    lines after its request ended, when the request's session has committed (expiring the object) and let it go.
    For such a page ``session`` is what gives the session when the first line is asked for (the application's
    scoped session): the session taken then ends with the streaming, where one taken before, already let go,
    would open a connection nothing returns to the pool.
    """
    if version not in BUNDLE_VERSIONS:
        raise ExportError(f"no bundle format {version}")
    if version == 2 and keys is None:
        raise ExportError("format 2 names its public keys in the header: give them")
    size, first = checkpoint.tree_size, checkpoint_json(checkpoint)
    session_of = session if callable(session) else lambda: session
    if version == 2:
        return _bundle_lines_2(session_of, size, first, [dict(key) for key in keys or ()], batch)
    return _bundle_lines(session_of, size, first, batch)


def _bundle_header(session: Session, size: int) -> dict[str, Any]:
    """What both formats' headers say besides the checkpoints and keys: their format is set by the caller."""
    head = session.get(AuditHead, 1)
    log_size = head.seq if head is not None else size
    largest = int(session.scalar(select(func.max(AuditCheckpoint.tree_size))) or 0)
    return {
        "generated_at": format_instant(utcnow()),
        # Not signed, for the auditor's information: how long the log was when exported, and how many of
        # its latest entries no checkpoint covered yet (they are not in the bundle).
        "log_size": log_size,
        "uncovered": max(log_size - largest, 0),
        "tree_size": size,
    }


def _entry_lines(session: Session, size: int, batch: int) -> Iterator[tuple[int, str]]:
    """The first ``size`` entries' lines, streamed in order, each with its sequence number."""
    rows = session.execute(
        select(*LINE_COLUMNS).where(AuditEntry.seq <= size).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    )
    for row in rows.mappings():
        yield row["seq"], dumps_line(entry_line(row))


def _bundle_lines(session_of: Callable[[], Session], size: int, first: dict[str, Any], batch: int) -> Iterator[str]:
    """:func:`bundle_lines` in format 1 for the checkpoint of ``size`` (its JSON form: ``first``)."""
    session = session_of()
    rest = {"format": BUNDLE_FORMAT, **_bundle_header(session, size)}
    # the header's keys in sorted order, as dumps_line writes them: checkpoint, checkpoints, then the rest with
    # public_keys among them (collected while the checkpoints stream)
    yield '{"checkpoint":' + _compact(first) + ',"checkpoints":['
    keys: dict[str, str] = {}
    signed = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size <= size)
        .order_by(AuditCheckpoint.id)
        .execution_options(yield_per=batch)
    )
    for n, part in enumerate(signed.partitions()):
        for c in part:
            keys.setdefault(c.key_fingerprint, c.public_key)
        yield ("," if n else "") + ",".join(_compact(checkpoint_json(c)) for c in part)
    rest["public_keys"] = [{"fingerprint": fingerprint, "pem": pem} for fingerprint, pem in keys.items()]
    yield "]," + _compact(rest)[1:] + "\n"
    for _seq, line in _entry_lines(session, size, batch):
        yield line


def _bundle_lines_2(
    session_of: Callable[[], Session], size: int, first: dict[str, Any], keys: list[dict[str, str]], batch: int
) -> Iterator[str]:
    """:func:`bundle_lines` in format 2 for the checkpoint of ``size`` (its JSON form: ``first``)."""
    session = session_of()
    yield dumps_line(
        {"format": BUNDLE_FORMAT_2, **_bundle_header(session, size), "checkpoint": first, "public_keys": keys}
    )
    checkpoints = checkpoints_by_size(
        session, batch, AuditCheckpoint.tree_size <= size, columns=PUBLIC_CHECKPOINT_COLUMNS
    )
    waiting = next(checkpoints, None)
    for seq, line in _entry_lines(session, size, batch):
        yield line
        while waiting is not None and waiting.tree_size == seq:
            yield dumps_line({"checkpoint": checkpoint_json(waiting)})
            waiting = next(checkpoints, None)


def inclusion_document(session: Session, seq: int, checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """An inclusion proof of entry ``seq`` in the tree signed by ``checkpoint``, verifiable offline.

    Raises :class:`ExportError` when the entry is not covered, and ``tree.TreeDataMissing`` when stored
    hashes are missing.
    """
    if not 1 <= seq <= checkpoint.tree_size:
        raise ExportError(f"entry {seq} is not covered by a tree of {checkpoint.tree_size} entries")
    entry = session.get(AuditEntry, seq)
    if entry is None:
        raise tree.TreeDataMissing(f"entry {seq} is missing")
    path = tree.inclusion_path(session, seq, checkpoint.tree_size)
    return {
        "format": INCLUSION_FORMAT,
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": checkpoint.tree_size,
        **entry_line(entry),
        "audit_path": [node.hex() for node in path],
        "checkpoint": checkpoint_json(checkpoint),
        "public_key": checkpoint.public_key,
    }


def consistency_document(session: Session, first: AuditCheckpoint, second: AuditCheckpoint) -> dict[str, Any]:
    """A consistency proof between two checkpoints (the second may not be smaller), verifiable offline."""
    if first.tree_size > second.tree_size:
        raise ExportError("the first checkpoint must not be larger than the second")
    path = tree.consistency_path(session, first.tree_size, second.tree_size)
    return {
        "format": CONSISTENCY_FORMAT,
        "first": checkpoint_json(first),
        "second": checkpoint_json(second),
        "consistency_path": [node.hex() for node in path],
        "public_keys": public_keys([first, second]),
    }
