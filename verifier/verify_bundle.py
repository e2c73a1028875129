#!/usr/bin/env python3
"""Verify a Trámites audit bundle, inclusion proof or consistency proof, trusting nothing but the keys you give.

    python verify_bundle.py bundle.jsonl --public-key institution.pem [--trusted-checkpoint kept.json]
    python verify_bundle.py proof.json --public-key institution.pem

Needs only Python 3.11+ and the ``cryptography`` package. The formats and every check are described in
``docs/audit-log.md``. For a bundle it recomputes every entry's canonical form, leaf hash and the hash
chain, rebuilds the RFC 9162 Merkle tree, checks each checkpoint's Ed25519 signature and root, follows
logged key rotations from the keys you trust, and checks that the log still contains exactly what
the checkpoints you kept signed. It names the first entry that does not match. It reads both bundle formats;
a format 2 bundle (each checkpoint right after the entries it covers) is verified in constant memory.

Exit status: 0 verified; 1 verification failed (the log or a checkpoint does not match); 2 the input
cannot be read (malformed file, unreadable key, wrong usage). It never reports success otherwise.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

BUNDLE_FORMAT = "tramites-audit-bundle/1"
BUNDLE_FORMAT_2 = "tramites-audit-bundle/2"
BUNDLE_FORMATS = {BUNDLE_FORMAT: 1, BUNDLE_FORMAT_2: 2}
INCLUSION_FORMAT = "tramites-inclusion-proof/1"
CONSISTENCY_FORMAT = "tramites-consistency-proof/1"
CHECKPOINT_HEADER = "tramites audit checkpoint v1"
GENESIS_HASH = "0" * 64
ENTRY_FIELDS = frozenset(
    {
        "seq",
        "at",
        "kind",
        "case_id",
        "folio",
        "workflow",
        "workflow_version",
        "action",
        "from_state",
        "to_state",
        "actor_id",
        "actor_role",
        "case_version",
        "comment_digest",
        "data_digest",
        "documents_digest",
        "details",
    }
)
MAX_SIZE = 2**63 - 1
MAX_PATH = 64  # a proof never has more hashes than the tree has levels
MAX_HEADER_BYTES = 512 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
HEX = frozenset("0123456789abcdef")


class Malformed(Exception):
    """The input is not a document of the expected format; the message says where and why."""


# ---------------------------------------------------------------------------------------------------
# RFC 9162 hashing


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """The right edge of a growing Merkle tree: O(log n) memory, the root at every size."""

    def __init__(self) -> None:
        self.size = 0
        self.peaks: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash."""
        current, n = leaf, self.size
        while n & 1:
            current = node_hash(self.peaks.pop(), current)
            n >>= 1
        self.peaks.append(current)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves so far (SHA-256 of nothing for an empty tree)."""
        if not self.peaks:
            return hashlib.sha256(b"").digest()
        result = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            result = node_hash(peak, result)
        return result


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0 or len(p) != 32:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2 (equal sizes: the proof is empty and the roots are equal)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path or any(len(p) != 32 for p in path):
        return False
    nodes = list(path)
    if first & (first - 1) == 0:
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# ---------------------------------------------------------------------------------------------------
# Parsing, strictly


MAX_SAFE_INTEGER = 2**53 - 1  # larger integers are read differently by readers that use IEEE 754 doubles


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate key {name[:40]!r} (readers disagree on which value counts)")
        result[name] = value
    return result


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(f"the integer {text[:40]} is too large to be read the same way everywhere")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} overflows")
    return value


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # a lone surrogate escape cannot be encoded (UnicodeEncodeError)
        elif isinstance(item, dict):
            for name, member in item.items():
                name.encode("utf-8")
                stack.append(member)
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(data: bytes | str, where: str) -> Any:
    """Strict JSON: UTF-8 without a byte-order mark, no duplicate keys, no NaN/Infinity, no integer beyond
    ±(2^53 - 1), no number overflowing to infinity, no lone surrogate, bounded nesting. Raises :class:`Malformed`.
    """
    try:
        if isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf"):
            raise ValueError("a byte-order mark is not allowed")
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if text.startswith("\ufeff"):
            raise ValueError("a byte-order mark is not allowed")
        value = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_constant=_reject_constant,
            parse_int=_safe_int,
            parse_float=_finite_float,
        )
        _check_strings(value)
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise Malformed(f"{where}: not valid JSON ({str(exc)[:200]})") from None
    return value


def canonical_line(value: Any) -> bytes:
    """The one byte form of a bundle's entry line: sorted keys, compact, UTF-8, without the newline."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _int(obj: dict[str, Any], name: str, where: str, low: int = 0, high: int = MAX_SIZE) -> int:
    value = obj.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Malformed(f"{where}: {name} must be a whole number from {low} to {high}")
    return value


def _hex(obj: dict[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= HEX:
        raise Malformed(f"{where}: {name} must be 64 lower-case hexadecimal digits")
    return value


def _str(obj: dict[str, Any], name: str, where: str, limit: int = 4096) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Malformed(f"{where}: {name} must be a non-empty string")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{where}: must be a JSON object")
    return value


def _list(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"{where}: must be a JSON array")
    if len(value) > limit:
        raise Malformed(f"{where}: has {len(value)} items, more than the {limit} allowed")
    return value


def _hashes(value: Any, where: str) -> list[bytes]:
    items = _list(value, where, MAX_PATH)
    result = []
    for number, item in enumerate(items):
        if not isinstance(item, str) or len(item) != 64 or not set(item) <= HEX:
            raise Malformed(f"{where}[{number}]: must be 64 lower-case hexadecimal digits")
        result.append(bytes.fromhex(item))
    return result


def fingerprint(key: ed25519.Ed25519PublicKey) -> str:
    """SHA-256 of the key's DER SubjectPublicKeyInfo, hex: how the log names keys."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_public_key(pem: bytes | str, where: str) -> ed25519.Ed25519PublicKey:
    """An Ed25519 public key from PEM. Raises :class:`Malformed`."""
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # a damaged key can name an unknown algorithm
        raise Malformed(f"{where}: not a PEM public key ({str(exc)[:200]})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise Malformed(f"{where}: not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_fingerprint: str
    signature: str
    label: str = field(compare=False)

    @classmethod
    def parse(cls, value: Any, where: str) -> Checkpoint:
        """Parse the JSON form. Raises :class:`Malformed`."""
        obj = _object(value, where)
        identifier = obj.get("id")
        label = (
            f"checkpoint {identifier}" if isinstance(identifier, int) and not isinstance(identifier, bool) else where
        )
        return cls(
            tree_size=_int(obj, "tree_size", where, 1),
            root_hash=_hex(obj, "root_hash", where),
            timestamp=_str(obj, "timestamp", where, 64),
            key_fingerprint=_hex(obj, "key_fingerprint", where),
            signature=_str(obj, "signature", where, 256),
            label=f"{label} (tree size {_int(obj, 'tree_size', where, 1)})",
        )

    def message(self) -> bytes:
        """The exact bytes the signature covers."""
        return (
            f"{CHECKPOINT_HEADER}\n"
            f"tree_size: {self.tree_size}\n"
            f"root_hash: {self.root_hash}\n"
            f"timestamp: {self.timestamp}\n"
            f"key_fingerprint: {self.key_fingerprint}\n"
        ).encode()

    def signed_by(self, key: ed25519.Ed25519PublicKey) -> bool:
        """Whether ``key`` (whose fingerprint must be the one named) made the signature."""
        if fingerprint(key) != self.key_fingerprint:
            return False
        try:
            signature = base64.b64decode(self.signature, validate=True)
            # only the encoding the signer wrote: the unused low bits of the last character are zero
            if base64.b64encode(signature).decode("ascii") != self.signature:
                return False
            key.verify(signature, self.message())
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True


def canonical(entry: Any, where: str) -> bytes:
    """The canonical bytes of an entry object (sorted keys, compact, UTF-8). Raises :class:`Malformed`."""
    obj = _object(entry, where)
    if set(obj) != ENTRY_FIELDS:
        missing, extra = sorted(ENTRY_FIELDS - set(obj)), sorted(set(obj) - ENTRY_FIELDS)
        raise Malformed(f"{where}: fields differ from the canonical form (missing {missing}, unexpected {extra})")
    _int(obj, "seq", where, 1)
    if not isinstance(obj["details"], dict):
        raise Malformed(f"{where}: details must be a JSON object")
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (ValueError, TypeError, RecursionError) as exc:
        raise Malformed(f"{where}: cannot be put in canonical form ({str(exc)[:200]})") from None


def rotation_of(entry: dict[str, Any]) -> tuple[str, str] | None:
    """(old, new) fingerprints when the entry logs a rotation of the log key."""
    details = entry.get("details")
    if entry.get("action") != "key_rotated" or not isinstance(details, dict):
        return None
    if details.get("purpose") != "audit_log":
        return None
    old, new = details.get("old_fingerprint"), details.get("new_fingerprint")
    if isinstance(old, str) and isinstance(new, str):
        return old, new
    return None


# ---------------------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class Problem:
    """Something that does not match; ``first_bad``/``last_bad`` name the entries when known."""

    message: str
    first_bad: int | None = None
    last_bad: int | None = None


@dataclass
class Report:
    """What a verification found. ``ok`` only when nothing is wrong."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    latest: Checkpoint | None = None
    latest_json: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True only if every check passed."""
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The problem naming the earliest entry (then any other)."""
        ordered = sorted(self.problems, key=lambda p: (p.first_bad is None, p.first_bad or 0))
        return ordered[0] if ordered else None

    @property
    def first_bad(self) -> int | None:
        """The first entry that does not match, when one is named."""
        first = self.first
        return first.first_bad if first else None


@dataclass
class _Signed:
    checkpoint: Checkpoint
    kept: bool


# ---------------------------------------------------------------------------------------------------
# Bundles


def _read_line(handle: BinaryIO, limit: int, where: str) -> bytes | None:
    line = handle.readline(limit + 1)
    if not line:
        return None
    if len(line) > limit:
        raise Malformed(f"{where}: longer than {limit} bytes")
    return line


def _bundle_keys(header: dict[str, Any]) -> dict[str, ed25519.Ed25519PublicKey]:
    keys: dict[str, ed25519.Ed25519PublicKey] = {}
    for number, item in enumerate(_list(header.get("public_keys"), "header public_keys", 10_000)):
        where = f"header public_keys[{number}]"
        obj = _object(item, where)
        key = load_public_key(_str(obj, "pem", where), where)
        if fingerprint(key) != _hex(obj, "fingerprint", where):
            raise Malformed(f"{where}: the fingerprint does not belong to the key")
        keys[fingerprint(key)] = key
    return keys


def _signature_problem(cp: Checkpoint, keys: dict[str, ed25519.Ed25519PublicKey]) -> Problem | None:
    """Why ``cp``'s signature is not good, or ``None`` when a key of ``keys`` made it."""
    key = keys.get(cp.key_fingerprint)
    if key is None:
        return Problem(f"{cp.label}: signed by key {cp.key_fingerprint[:16]}…, which neither you nor the bundle gave")
    if not cp.signed_by(key):
        return Problem(f"{cp.label}: its signature does not verify (the checkpoint was altered or replaced)")
    return None


def _more(count: int) -> str:
    if not count:
        return ""
    return f" and {count} later checkpoint{'s' if count > 1 else ''} signed by the same key"


def _mismatch(cp: Checkpoint, reach: dict[str, int], endorsed: set[str]) -> Problem:
    """The entries ``cp``'s root does not match, from the last trusted checkpoint that matched below it."""
    first = max((size for signer, size in reach.items() if signer in endorsed), default=0) + 1
    return Problem(
        f"entries {first}–{cp.tree_size} do not hash to the root signed in {cp.label}: at least one of them was "
        "changed, removed, inserted or reordered",
        first,
        cp.tree_size,
    )


@dataclass
class _KeyUse:
    """What the good signatures of one key leave as its checkpoints are met in order of tree size: a few numbers and
    the first checkpoint of each kind of problem, never every checkpoint."""

    first: str
    signed: int = 0
    reach: int = 0  # the largest tree size of a checkpoint it signed whose root matched
    below: int = 0  # the largest such size before the reach (for a checkpoint of the reach's own size)
    early: tuple[str, int] | None = None  # the first it signed below the rotation that introduced it; how many
    late: tuple[str, int, int] | None = None  # the first it signed above the rotation that retired it, how many, where
    mismatch: tuple[Checkpoint, dict[str, int]] | None = None  # the first whose root differs, each key's reach below
    mismatches: int = 0  # how many of the bundle's differ after it
    kept_mismatches: list[tuple[Checkpoint, dict[str, int]]] = field(default_factory=list)  # yours: each named
    unmet: list[_Signed] = field(default_factory=list)  # those covering more entries than the bundle holds

    def reach_below(self, size: int) -> int:
        """The largest tree size below ``size`` of a matching checkpoint this key signed (0: none)."""
        return self.reach if self.reach < size else self.below


class _Ledger:
    """The checkpoints of a bundle, met in order of tree size as the entries are read: each leaves a few numbers
    with its key (:class:`_KeyUse`), so that a bundle with each checkpoint after the entries it covers (format 2)
    is verified in constant memory however old the log is. The keys' trust is decided at the end, when every
    logged rotation and every matching checkpoint is known."""

    def __init__(self) -> None:
        self.uses: dict[str, _KeyUse] = {}
        self.rotations: list[tuple[int, str, str]] = []
        self.retired: dict[str, int] = {}
        self.introduced: dict[str, int] = {}
        self.verified = 0  # the bundle's checkpoints with a good signature
        self.kept: list[_Signed] = []

    def _use(self, item: _Signed) -> _KeyUse:
        cp = item.checkpoint
        use = self.uses.setdefault(cp.key_fingerprint, _KeyUse(cp.label))
        use.signed += 1
        if item.kept:
            self.kept.append(item)
        else:
            self.verified += 1
        retired = self.retired.get(cp.key_fingerprint)
        if retired is not None and cp.tree_size > retired:
            use.late = (use.late[0], use.late[1] + 1, use.late[2]) if use.late else (cp.label, 0, retired)
        return use

    def rotation(self, seq: int, old: str, new: str) -> None:
        """A logged rotation at entry ``seq``: ``new`` signs from there on, ``old`` no more."""
        self.rotations.append((seq, old, new))
        self.retired[old] = seq
        self.introduced[new] = seq
        use = self.uses.get(new)
        if use is not None:  # what the new key signed before this entry: everything met so far
            use.early = (use.first, use.signed)

    def met(self, item: _Signed, root: str) -> None:
        """A checkpoint with a good signature, when the entries read are as many as it covers (their root: ``root``)."""
        cp = item.checkpoint
        use = self._use(item)
        if root == cp.root_hash:
            if cp.tree_size > use.reach:
                use.below, use.reach = use.reach, cp.tree_size
            return
        reach = {key: each.reach_below(cp.tree_size) for key, each in self.uses.items()}
        if item.kept:
            use.kept_mismatches.append((cp, reach))
        elif use.mismatch is None:
            use.mismatch = (cp, reach)
        else:
            use.mismatches += 1

    def unmet(self, item: _Signed) -> None:
        """A checkpoint with a good signature covering more entries than the bundle holds."""
        self._use(item).unmet.append(item)

    def _endorsed(self, trusted: Iterable[str]) -> set[str]:
        endorsed = set(trusted)
        changed = True
        while changed:
            changed = False
            for seq, old, new in self.rotations:
                if {old, new} <= endorsed or not ({old, new} & endorsed):
                    continue
                if any(self.uses[key].reach >= seq for key in endorsed if key in self.uses):
                    endorsed |= {old, new}
                    changed = True
        return endorsed

    def judge(self, trusted: Iterable[str], report: Report, count: int, broken: bool) -> None:
        """Report what the checkpoints met say of the log, trusting the keys ``trusted`` and those a logged
        rotation, covered by a matching checkpoint of a key already trusted, links to them."""
        endorsed = self._endorsed(trusted)
        for key, use in self.uses.items():
            if key not in endorsed:
                report.problems.append(
                    Problem(
                        f"{use.first}{_more(use.signed - 1)}: signed by key {key[:16]}…, which you do not trust and "
                        "which no logged key rotation links to a key you trust"
                    )
                )
                continue
            if use.late is not None:
                label, more, seq = use.late
                report.problems.append(Problem(f"{label}{_more(more)}: signed by a key retired at entry {seq}"))
            if use.early is not None and use.early[1] > 0:
                label, signed = use.early
                report.problems.append(
                    Problem(
                        f"{label}{_more(signed - 1)}: signed by a key introduced only at entry {self.introduced[key]}"
                    )
                )
            if use.mismatch is not None:
                report.problems.append(_mismatch(*use.mismatch, endorsed))
            if use.mismatches:
                plural = "s" if use.mismatches > 1 else ""
                report.problems.append(
                    Problem(
                        f"{use.mismatches} later checkpoint{plural} of the bundle signed by the same key "
                        f"do{'' if plural else 'es'} not match the entries either"
                    )
                )
            report.problems.extend(_mismatch(cp, reach, endorsed) for cp, reach in use.kept_mismatches)
            for item in () if broken else use.unmet:
                cp = item.checkpoint
                if item.kept:
                    message = (
                        f"{cp.label} covers {cp.tree_size} entries but this log ends at entry {count}: entries "
                        f"{count + 1}–{cp.tree_size} are missing (the log was truncated after you kept that "
                        "checkpoint, or this bundle is older than it)"
                    )
                else:
                    message = f"{cp.label} covers {cp.tree_size} entries but the bundle ends at entry {count}"
                report.problems.append(Problem(message, count + 1, cp.tree_size))


@dataclass
class _Header:
    """A bundle's first line, read: its format, size, checkpoint, keys and (format 1) every checkpoint."""

    version: int
    tree_size: int
    main: Checkpoint
    keys: dict[str, ed25519.Ed25519PublicKey]
    checkpoints: list[Checkpoint]


def _bundle_version(header: Any) -> int | None:
    """The bundle format (1 or 2) a header names, or ``None`` when it is not a bundle's header."""
    name = header.get("format") if isinstance(header, dict) else None
    return BUNDLE_FORMATS.get(name) if isinstance(name, str) else None


def _read_header(handle: BinaryIO, report: Report, parsed: Any = None) -> _Header:
    """The bundle's header: read from ``handle``, or ``parsed`` already (line 1 as JSON, the handle past it)."""
    if parsed is None:
        raw = _read_line(handle, MAX_HEADER_BYTES, "line 1 (header)")
        if raw is None:
            raise Malformed("the bundle is empty")
        parsed = parse_json(raw, "line 1 (header)")
    header = _object(parsed, "line 1 (header)")
    version = _bundle_version(header)
    if version is None:
        formats = " or ".join(repr(name) for name in BUNDLE_FORMATS)
        raise Malformed(f"line 1 (header): format must be {formats}, not {str(header.get('format'))[:80]!r}")
    tree_size = _int(header, "tree_size", "header", 1)
    main = Checkpoint.parse(header.get("checkpoint"), "header checkpoint")
    if main.tree_size != tree_size:
        raise Malformed("header: tree_size differs from the checkpoint's")
    checkpoints: list[Checkpoint] = []
    if version == 1:
        raw_checkpoints = _list(header.get("checkpoints"), "header checkpoints", 10_000_000)
        checkpoints = [Checkpoint.parse(item, f"header checkpoints[{n}]") for n, item in enumerate(raw_checkpoints)]
        if not any(c == main for c in checkpoints):
            raise Malformed("header: the bundle's checkpoint is not among its checkpoints")
        if any(c.tree_size > tree_size for c in checkpoints):
            raise Malformed("header: a checkpoint covers more entries than the bundle")
    report.latest = main
    report.latest_json = header["checkpoint"]
    log_size, uncovered = header.get("log_size"), header.get("uncovered")
    if isinstance(log_size, int) and isinstance(uncovered, int) and not isinstance(uncovered, bool) and uncovered > 0:
        # Unsigned information from the server: the verifier cannot check it, only pass it on.
        report.warnings.append(
            f"the server reported {log_size} entries when exporting, of which the latest {uncovered} were covered "
            "by no checkpoint yet (they are not in this bundle and could still be removed without a trace)"
        )
    return _Header(version, tree_size, main, _bundle_keys(header), checkpoints)


def _entry_hashes(raw: bytes, where: str) -> tuple[dict[str, Any], bytes, str, str]:
    """An entry line's entry, canonical bytes, and stored leaf and chain hashes. Raises :class:`Malformed`."""
    line = _object(parse_json(raw, where), where)
    if canonical_line(line) != raw.rstrip(b"\n"):
        raise Malformed(
            f"{where}: not in canonical form (sorted keys, no spaces, characters as themselves): "
            "another reader could see different content than the one hashed"
        )
    entry = _object(line.get("entry"), f"{where} entry")
    return entry, canonical(entry, f"{where} entry"), _hex(line, "leaf_hash", where), _hex(line, "chain_hash", where)


class _DamagedLine(Exception):
    """A format 2 checkpoint line that cannot be read, or that stands where no entry completes its tree."""


def _checkpoint_line(raw: bytes, where: str) -> Checkpoint | None:
    """The checkpoint of a format 2 checkpoint line (``{"checkpoint": {…}}``, canonical), or ``None`` for any other
    line. Raises :class:`_DamagedLine`."""
    if not raw.startswith(b'{"checkpoint":'):
        return None
    try:
        line = _object(parse_json(raw, where), where)
        if set(line) != {"checkpoint"} or canonical_line(line) != raw.rstrip(b"\n"):
            raise Malformed(f"{where}: a checkpoint line holds one checkpoint, in canonical form")
        return Checkpoint.parse(line["checkpoint"], where)
    except Malformed as exc:
        raise _DamagedLine(str(exc)) from None


def verify_bundle(
    handle: BinaryIO,
    trusted_keys: Sequence[ed25519.Ed25519PublicKey],
    kept: Sequence[Checkpoint] = (),
    *,
    parsed_header: Any = None,
) -> Report:
    """Verify a bundle read from ``handle`` (JSON lines, format 1 or 2). Raises :class:`Malformed` if the header
    is unusable.

    The entries are read once, in order; a checkpoint is met when the entries read are as many as it covers: those
    of a format 1 header and the ones you kept, kept aside until then, and a format 2 bundle's where they stand,
    right after the entry that completes their tree, so that nothing grows with the log but the tree's right edge.
    ``parsed_header``: line 1 already parsed, the handle past it (a format 1 header holds every checkpoint: it is parsed
    once).
    """
    report = Report()
    header = _read_header(handle, report, parsed_header)
    trusted = {fingerprint(key): key for key in trusted_keys}
    keys = {**header.keys, **trusted}
    ledger = _Ledger()
    waiting: dict[int, list[_Signed]] = {}  # checkpoints known before their entries, by tree size
    known = [(c, False) for c in header.checkpoints or [header.main]] + [(c, True) for c in kept]
    for cp, is_kept in known:
        problem = _signature_problem(cp, keys)
        if problem is not None:
            report.problems.append(problem)
        else:
            waiting.setdefault(cp.tree_size, []).append(_Signed(cp, is_kept))

    tree = Tree()
    running = GENESIS_HASH
    count = 0
    number = 1  # the line's
    broken = False
    root = ""
    while True:
        number += 1
        seq = count + 1
        where = f"line {number} (entry {seq})"
        try:
            raw = _read_line(handle, MAX_LINE_BYTES, where)
            if raw is None:
                break
            if not raw.strip():
                continue  # a blank line (a trailing newline) is not an entry
            if header.version == 2:
                signed = _checkpoint_line(raw, f"line {number} (after entry {count})")
                if signed is not None:
                    if signed.tree_size != count:
                        raise _DamagedLine(
                            f"line {number}: {signed.label} stands after entry {count}, not after the entry "
                            "that completes its tree"
                        )
                    if signed != header.main:  # met already, from the header
                        problem = _signature_problem(signed, keys)
                        if problem is not None:
                            report.problems.append(problem)
                        else:
                            root = root or tree.root().hex()
                            ledger.met(_Signed(signed, False), root)
                    continue
            if seq > header.tree_size:
                report.problems.append(
                    Problem(f"the bundle has more entries than its tree size {header.tree_size}", seq)
                )
                broken = True
                break
            entry, data, stored_leaf, stored_chain = _entry_hashes(raw, where)
        except Malformed as exc:
            report.problems.append(Problem(f"entry {seq} is damaged: {exc}", seq))
            broken = True
            break
        except _DamagedLine as exc:
            report.problems.append(Problem(f"the bundle is damaged after entry {count}: {exc}", seq))
            broken = True
            break
        if entry["seq"] != seq:
            if entry["seq"] > seq:
                message = f"entry {seq} is missing (the next entry in the bundle is {entry['seq']})"
            else:
                message = f"entries are out of order (entry {entry['seq']} appears again after {seq - 1})"
            report.problems.append(Problem(message, seq))
            broken = True
            break
        leaf = leaf_hash(data)
        if leaf.hex() != stored_leaf:
            report.problems.append(Problem(f"entry {seq}: its contents do not match its leaf hash", seq))
            broken = True
            break
        running = hashlib.sha256(bytes.fromhex(running) + data).hexdigest()
        if running != stored_chain:
            report.problems.append(Problem(f"entry {seq}: it does not continue the hash chain", seq))
            broken = True
            break
        pair = rotation_of(entry)
        if pair is not None:
            ledger.rotation(seq, *pair)
        tree.append(leaf)
        count = seq
        root = tree.root().hex() if seq in waiting else ""  # a format 2 bundle's checkpoint lines make it if needed
        for item in waiting.pop(seq, ()):
            ledger.met(item, root)
    report.checked = count
    for items in waiting.values():
        for item in items:
            ledger.unmet(item)

    if not trusted:
        report.warnings.append("no trusted key: signatures cannot prove who signed")
    ledger.judge(trusted, report, count, broken)
    if report.ok:
        report.notes.append(
            f"{count} entries and {ledger.verified} checkpoints verified; "
            f"tree root {tree.root().hex()} signed at {header.main.timestamp} "
            f"by key {header.main.key_fingerprint[:16]}…"
        )
        for item in ledger.kept:
            report.notes.append(f"the log still contains exactly what {item.checkpoint.label} signed")
    return report


# ---------------------------------------------------------------------------------------------------
# Proofs


def _trusted_signer(cp: Checkpoint, trusted: dict[str, ed25519.Ed25519PublicKey], report: Report) -> bool:
    key = trusted.get(cp.key_fingerprint)
    if key is None:
        report.problems.append(Problem(f"{cp.label}: signed by key {cp.key_fingerprint[:16]}…, which you do not trust"))
        return False
    if not cp.signed_by(key):
        report.problems.append(Problem(f"{cp.label}: its signature does not verify"))
        return False
    return True


def verify_inclusion_document(doc: dict[str, Any], trusted_keys: Sequence[ed25519.Ed25519PublicKey]) -> Report:
    """Verify an inclusion proof document. Raises :class:`Malformed` when it is not one."""
    report = Report()
    trusted = {fingerprint(key): key for key in trusted_keys}
    seq = _int(doc, "seq", "proof", 1)
    size = _int(doc, "tree_size", "proof", 1)
    if _int(doc, "leaf_index", "proof") != seq - 1:
        raise Malformed("proof: leaf_index must be seq - 1")
    cp = Checkpoint.parse(doc.get("checkpoint"), "proof checkpoint")
    if cp.tree_size != size:
        raise Malformed("proof: tree_size differs from the checkpoint's")
    entry = _object(doc.get("entry"), "proof entry")
    data = canonical(entry, "proof entry")
    if entry["seq"] != seq:
        raise Malformed("proof: the entry's seq differs from the proof's")
    path = _hashes(doc.get("audit_path"), "proof audit_path")
    signed = _trusted_signer(cp, trusted, report)
    leaf = leaf_hash(data)
    if leaf.hex() != _hex(doc, "leaf_hash", "proof"):
        report.problems.append(Problem(f"entry {seq}: its contents do not match its leaf hash", seq))
    elif not verify_inclusion(seq - 1, size, leaf, path, bytes.fromhex(cp.root_hash)):
        report.problems.append(Problem(f"the audit path does not lead from entry {seq} to the root of {cp.label}", seq))
    if report.ok and signed:
        report.checked = 1
        report.notes.append(f"entry {seq} is in the log of {size} entries signed at {cp.timestamp}")
    return report


def verify_consistency_document(doc: dict[str, Any], trusted_keys: Sequence[ed25519.Ed25519PublicKey]) -> Report:
    """Verify a consistency proof document. Raises :class:`Malformed` when it is not one."""
    report = Report()
    trusted = {fingerprint(key): key for key in trusted_keys}
    first = Checkpoint.parse(doc.get("first"), "proof first")
    second = Checkpoint.parse(doc.get("second"), "proof second")
    path = _hashes(doc.get("consistency_path"), "proof consistency_path")
    _trusted_signer(first, trusted, report)
    _trusted_signer(second, trusted, report)
    if not verify_consistency(
        first.tree_size, second.tree_size, bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash), path
    ):
        report.problems.append(
            Problem(
                f"the log of {second.tree_size} entries is not an extension of the log of {first.tree_size} "
                "entries (or the proof is damaged)"
            )
        )
    if report.ok:
        report.notes.append(
            f"the log only grew from {first.tree_size} entries ({first.timestamp}) to {second.tree_size} "
            f"({second.timestamp})"
        )
    return report


# ---------------------------------------------------------------------------------------------------
# Command line


def _read_small(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise Malformed(f"{what} {path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Malformed(f"{what} {path}: larger than {MAX_DOCUMENT_BYTES} bytes")
    return data


def verify_file(path: str, trusted_keys: Sequence[ed25519.Ed25519PublicKey], kept: Sequence[Checkpoint] = ()) -> Report:
    """Verify a bundle (JSON lines) or a proof (one JSON document), whichever the file holds.

    Raises :class:`Malformed` when it is neither or cannot be read.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; a bundle is read as a stream
    except OSError as exc:
        raise Malformed(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        first_line = _read_line(handle, MAX_HEADER_BYTES, "line 1")
        if first_line is None:
            raise Malformed(f"{path}: the file is empty")
        header: Any = None
        header_error: Malformed | None = None
        try:
            header = parse_json(first_line, "line 1")
        except Malformed as exc:
            header_error = exc
        if _bundle_version(header) is not None:
            return verify_bundle(handle, trusted_keys, kept, parsed_header=header)
        handle.seek(0)
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Malformed(f"{path}: not a bundle (line 1 is not a bundle header) and too large for a proof")
    try:
        doc = _object(parse_json(data, path), path)
    except Malformed as exc:
        detail = f"; line 1 is not a bundle header either ({header_error})" if header_error else ""
        raise Malformed(f"{exc}{detail}") from None
    kind = doc.get("format")
    if kind == INCLUSION_FORMAT:
        return verify_inclusion_document(doc, trusted_keys)
    if kind == CONSISTENCY_FORMAT:
        return verify_consistency_document(doc, trusted_keys)
    raise Malformed(
        f"{path}: format must be {BUNDLE_FORMAT!r}, {BUNDLE_FORMAT_2!r}, {INCLUSION_FORMAT!r} or "
        f"{CONSISTENCY_FORMAT!r}, not {str(kind)[:80]!r}"
    )


def _print_report(report: Report, out: Any) -> None:
    for warning in report.warnings:
        print(f"warning: {warning}", file=out)
    if report.ok:
        print("VERIFIED", file=out)
        for note in report.notes:
            print(f"  {note}", file=out)
        return
    first = report.first
    if first is None:
        return
    if first.first_bad is not None:
        print(f"FAILED at entry {first.first_bad}: {first.message}", file=out)
    else:
        print(f"FAILED: {first.message}", file=out)
    for problem in report.problems:
        if problem is not first:
            print(f"  also: {problem.message}", file=out)
    print(f"  ({report.checked} entries read)", file=out)


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    """Run the verifier; returns the exit status (0 verified, 1 failed, 2 unreadable input)."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        description="Verify a Trámites audit bundle (JSON lines) or an inclusion/consistency proof (JSON)."
    )
    parser.add_argument("file", help="bundle.jsonl, or an inclusion or consistency proof (.json)")
    parser.add_argument(
        "--public-key",
        action="append",
        required=True,
        metavar="PEM",
        help="the institution's audit-log public key you trust (repeat for keys used before a rotation)",
    )
    parser.add_argument(
        "--trusted-checkpoint",
        action="append",
        default=[],
        metavar="JSON",
        help="a checkpoint you kept earlier: the log must still contain exactly what it signed (repeatable)",
    )
    parser.add_argument(
        "--save-checkpoint",
        metavar="JSON",
        help="after a successful bundle verification, save its checkpoint here to use next time",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        keys = [load_public_key(_read_small(path, "public key"), path) for path in args.public_key]
        kept = []
        for path in args.trusted_checkpoint:
            checkpoint = Checkpoint.parse(parse_json(_read_small(path, "checkpoint"), path), path)
            kept.append(replace(checkpoint, label=f"your kept {checkpoint.label}"))
        report = verify_file(args.file, keys, kept)
    except Malformed as exc:
        print(f"CANNOT VERIFY: {exc}", file=out)
        return 2
    except Exception as exc:  # the verifier must answer, never crash
        print(f"CANNOT VERIFY: unexpected {type(exc).__name__}: {str(exc)[:300]}", file=out)
        return 2
    _print_report(report, out)
    if report.ok and args.save_checkpoint and report.latest_json is not None:
        try:
            Path(args.save_checkpoint).write_text(json.dumps(report.latest_json, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"warning: could not save the checkpoint: {exc.strerror}", file=out)
        else:
            print(
                f"  checkpoint saved to {args.save_checkpoint}: pass it with --trusted-checkpoint next time", file=out
            )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
