"""Verifying the live log: chain, Merkle leaves and stored subtrees, checkpoints and their keys.

One pass over the entries in sequence order (O(log n) memory for the tree). The rules are the ones the
standalone verifier (``verifier/verify_bundle.py``) applies to a bundle, plus what only the database
has: the head row, the stored subtrees proofs are served from, and comments against their digests.
It never raises for bad data; it reports the first bad entry (or range of entries) and every damaged
or untrusted checkpoint (the first of each kind per signing key, with the number of the others).

The checkpoints are read in order of tree size, a page at a time, as the entries reach them, and keep nothing but a
few numbers per signing key: the verification's memory does not grow with them. It runs on a live log: what is
appended while it reads is judged against the head and checkpoints as they were before the entries' cursor opened.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import ClauseElement, Select, Text, cast, func, literal_column, select
from sqlalchemy.orm import Session

from app.audit import merkle
from app.audit.canonical import (
    CANONICAL_FIELDS,
    ENTRY_TEMPLATE,
    GENESIS_HASH,
    SORTED_FIELDS,
    canonical_details,
    canonical_json,
    chain_hash,
    format_instant,
    json_values,
    salted_digest,
    strict_loads,
)
from app.audit.checkpoints import KEY_ROTATED, checkpoint_message, checkpoints_by_size, load_public_key, rotation_of
from app.database import transaction_from_here
from app.keys import public_fingerprint, signature_bytes
from app.models import AuditCheckpoint, AuditEntry, AuditHead, AuditTreeNode, utcnow

_HEX = frozenset("0123456789abcdef")


def _is_hex(value: object, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and set(value) <= _HEX


@dataclass(frozen=True, slots=True)
class KeptCheckpoint:
    """A checkpoint an auditor kept (the JSON the API lists), to check the log only grew since."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_fingerprint: str
    signature: str
    id: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> KeptCheckpoint:
        """Parse a checkpoint object. Raises ``ValueError`` with a clear message for anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("a checkpoint must be a JSON object")
        size = data.get("tree_size")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size < 2**63:
            raise ValueError("tree_size must be a whole number between 1 and 2^63 - 1")
        for name in ("root_hash", "key_fingerprint"):
            if not _is_hex(data.get(name), 64):
                raise ValueError(f"{name} must be 64 lower-case hexadecimal digits")
        for name in ("timestamp", "signature"):
            value = data.get(name)
            if not isinstance(value, str) or not value or len(value) > 200:
                raise ValueError(f"{name} must be a non-empty string")
        identifier = data.get("id")
        if not isinstance(identifier, int) or isinstance(identifier, bool):
            identifier = None
        return cls(size, data["root_hash"], data["timestamp"], data["key_fingerprint"], data["signature"], identifier)

    def signed_by(self, key: ed25519.Ed25519PublicKey) -> bool:
        """Whether ``key`` (whose fingerprint must be the one named) signed this checkpoint."""
        if public_fingerprint(key) != self.key_fingerprint:
            return False
        try:
            key.verify(
                signature_bytes(self.signature),
                checkpoint_message(self.tree_size, self.root_hash, self.timestamp, self.key_fingerprint),
            )
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong. ``first_bad``/``last_bad`` name the entries involved when known."""

    message: str
    first_bad: int | None = None
    last_bad: int | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a verification: ``first_bad`` is the sequence number of the first bad entry."""

    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH
    root_hash: str | None = None
    checkpoints_verified: int = 0
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    covered: int = 0
    """Entries covered by the largest stored checkpoint that verified (0: none)."""
    uncovered: int = 0
    """Entries after ``covered``: until a checkpoint covers them, they could be removed without a trace."""
    oldest_uncovered_at: str | None = None
    """When the first uncovered entry was appended (UTC, canonical form), if there is one."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """The window of entries that no verified checkpoint covers."""

    covered: int
    uncovered: int
    oldest_uncovered_at: datetime | None


class _StoredNodes:
    """Stored subtrees, each level read in index order through a driver cursor of its own, opened when the level
    is first asked for. Verification asks each level for its subtrees in index order, once each, and stops at the
    first that does not match: so the answer for ``(level, idx)`` is the level's next stored row, if it is
    ``idx``'s."""

    def __init__(self, session: Session, batch: int, cursors: ExitStack) -> None:
        self.session = session
        self.batch = batch
        self.cursors = cursors
        self.levels: dict[int, Iterator[Sequence[Any]]] = {}

    def get(self, level: int, idx: int) -> str | None:
        """The stored hash of subtree ``(level, idx)``, or ``None``; each call for a level must ask for the index
        after the one the previous call asked for and found."""
        rows = self.levels.get(level)
        if rows is None:
            query = (
                select(AuditTreeNode.idx, AuditTreeNode.hash)
                .where(AuditTreeNode.level == level, AuditTreeNode.idx >= 0)
                .order_by(AuditTreeNode.idx)
            )
            name = f"audit_verify_level_{level}"
            rows = self.levels[level] = self.cursors.enter_context(_driver_rows(self.session, query, self.batch, name))
        row = next(rows, None)
        return str(row[1]) if row is not None and row[0] == idx else None


@dataclass(slots=True)
class _Signed:
    """A checkpoint (stored or kept) with a valid signature, waiting for its root to be compared."""

    label: str
    tree_size: int
    root_hash: str
    fingerprint: str
    stored: bool = True


@dataclass(slots=True)
class _State:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


ENTRY_COLUMNS = [
    cast(column, Text).label("details") if column.name == "details" else column
    for column in AuditEntry.__table__.columns
]
"""Every column of an entry, as the verifier reads them: ``details`` as the stored JSON text, parsed strictly."""

_COLUMN = {column.key: column for column in ENTRY_COLUMNS}
_VERIFY_COLUMNS = [
    *(literal_column("NULL").label("details_place") if name == "details" else _COLUMN[name] for name in SORTED_FIELDS),
    *(column for column in ENTRY_COLUMNS if column.key not in SORTED_FIELDS or column.key == "details"),
]
"""What the verifier reads of each entry: first the canonical values in the order the canonical form writes them
(``details`` there as a NULL, a place for their canonical text; the stored text comes later), then the other
columns."""

_NAMES = [column.key for column in _VERIFY_COLUMNS]
_CANONICAL_NAMES = tuple(CANONICAL_FIELDS)
_canonical_values = itemgetter(*(_NAMES.index(name) for name in CANONICAL_FIELDS))
_SEQ, _AT, _KIND, _DETAILS = (_NAMES.index(name) for name in ("seq", "at", "kind", "details"))
_PREV, _ENTRY_HASH, _LEAF = (_NAMES.index(name) for name in ("prev_hash", "entry_hash", "leaf_hash"))
_COMMENT, _SALT, _COMMENT_DIGEST = (_NAMES.index(name) for name in ("comment", "comment_salt", "comment_digest"))
_ACTION = _NAMES.index("action")
_FIELDS, _DETAILS_PLACE = len(SORTED_FIELDS), _NAMES.index("details_place")
"""``row[:_FIELDS]``: the canonical values, in written order."""


def _instant(value: Any) -> str:
    """The canonical text of a stored instant as the driver returns it: an aware datetime (PostgreSQL) or the
    text SQLAlchemy stores on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not an instant: {type(value).__name__}")
    return format_instant(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


@contextmanager
def _driver_rows(session: Session, query: ClauseElement, batch: int, name: str) -> Iterator[Iterator[Sequence[Any]]]:
    """The rows of ``query`` as the bare driver returns them, from its cursor (a server-side one called ``name``,
    fetching ``batch`` rows at a time, on PostgreSQL): no ORM objects, no result processing, and no Python
    frame per row between the driver and the caller."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("no database connection")
    if connection.dialect.name == "postgresql":
        transaction_from_here(connection)  # a server-side cursor lives in a transaction
        cursor = driver.cursor(name=name)
        cursor.itersize = batch
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(sql)
        yield iter(cursor)
    finally:
        cursor.close()


def _stream_entries(session: Session, batch: int) -> AbstractContextManager[Iterator[Sequence[Any]]]:
    """Every stored entry as a tuple of ``_VERIFY_COLUMNS``, in sequence order, straight from the driver."""
    return _driver_rows(session, select(*_VERIFY_COLUMNS).order_by(AuditEntry.seq), batch, "audit_verify")


_DETAILS_CACHE = 4096
"""Distinct details texts whose canonical form one verification keeps (most entries repeat a few shapes)."""

FastCheck = Callable[[Sequence[Any], int, str], tuple[str, bytes] | None]


def fast_canonical() -> Callable[[Sequence[Any]], bytes | None]:
    """``canonical(row)``: the canonical form of a stored entry (a tuple of ``_VERIFY_COLUMNS``) the fast way, or
    ``None`` where the fast way does not build it (a value of a type the database does not return for its column,
    details that are not strict JSON or not an object, an unusual stored instant) or where it cannot be built.

    The form is written by :func:`app.audit.canonical.json_values` and ``ENTRY_TEMPLATE`` instead of a
    dictionary, a sort and a new writer per entry; the details' by :func:`canonical_details`, remembered by their
    stored text (of which it is a pure function). Where it is not ``None`` it is what :func:`_entry_problem` hashes.
    """
    details_cache: dict[Any, str] = {}
    template = ENTRY_TEMPLATE

    def canonical(row: Sequence[Any]) -> bytes | None:
        if type(row[_KIND]) is not str:
            return None
        try:
            stored = row[_DETAILS]
            details = details_cache.get(stored)
            if details is None:
                details = canonical_details(stored)
                if len(details_cache) >= _DETAILS_CACHE:
                    details_cache.clear()
                details_cache[stored] = details
            at = row[_AT]
            if type(at) is str:  # SQLite's text: the canonical instant is the same text with "T" and "Z" (_instant)
                parts = json_values(row[:_FIELDS])
                written = parts[_AT]
                if len(written) != 28 or written[11] != " ":  # not 26 plain characters with the space at 10
                    return None
                parts[_AT] = f'{written[:11]}T{written[12:-1]}Z"'
            else:
                parts = json_values([*row[:_AT], _instant(at), *row[_AT + 1 : _FIELDS]])
            if len(parts) != _FIELDS:
                return None
            parts[_DETAILS_PLACE] = details
            return (template % tuple(parts)).encode()
        except Exception:  # the general way decides what this row is, and says it
            return None

    return canonical


def fast_entry_check() -> FastCheck:
    """A check of one stored entry that vouches only for a good one, at a fraction of :func:`_entry_problem`'s cost.

    ``check(row, expected_seq, running)`` returns the entry's chain hash (hex) and leaf hash when the entry is in
    place, continues the chain, its canonical form (:func:`fast_canonical`) hashes to both stored hashes and its
    comment matches its digest: exactly when ``_entry_problem`` finds no problem, with the same hashes. It returns
    ``None`` for everything else (a bad entry, or one whose canonical form it does not build), and the caller asks
    ``_entry_problem``, which says what is wrong.
    """
    canonical_of = fast_canonical()
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex

    def check(row: Sequence[Any], expected_seq: int, running: str) -> tuple[str, bytes] | None:
        if row[_SEQ] != expected_seq or row[_PREV] != running:
            return None
        canonical = canonical_of(row)
        if canonical is None:
            return None
        recomputed = sha256(fromhex(running) + canonical).hexdigest()
        if recomputed != row[_ENTRY_HASH]:
            return None
        leaf = sha256(b"\x00" + canonical).digest()
        if leaf.hex() != row[_LEAF]:
            return None
        comment = row[_COMMENT]
        if comment is not None:
            salt = row[_SALT]
            try:
                if salt is None or salted_digest(salt, comment) != row[_COMMENT_DIGEST]:
                    return None
            except (TypeError, ValueError):
                return None
        return recomputed, leaf

    return check


def _entry_problem(row: Sequence[Any], expected_seq: int, running: str) -> tuple[Problem | None, str, bytes]:
    """Check one stored entry (a tuple of ``_VERIFY_COLUMNS``); returns (problem, its chain hash, its leaf hash)."""
    seq = row[_SEQ]
    if seq != expected_seq:
        if seq > expected_seq:
            message = f"entry {expected_seq} is missing (the next stored entry is {seq})"
        else:
            message = f"entries are out of order (entry {seq} stored again after {expected_seq - 1})"
        return Problem(message, expected_seq), running, b""
    if row[_PREV] != running:
        return Problem("its previous-hash does not continue the chain", seq), running, b""
    try:
        details = strict_loads(row[_DETAILS])
    except (TypeError, ValueError) as exc:
        return Problem(f"its stored details are not unambiguous JSON: {exc}", seq), running, b""
    try:
        fields = dict(zip(_CANONICAL_NAMES, _canonical_values(row), strict=True))
        fields["at"] = _instant(row[_AT])
        fields["kind"] = str(row[_KIND])
        fields["details"] = dict(details or {})
        canonical = canonical_json(fields)
    except (TypeError, ValueError, AttributeError) as exc:
        return Problem(f"it cannot be put in canonical form: {exc}", seq), running, b""
    recomputed = chain_hash(running, canonical)
    if recomputed != row[_ENTRY_HASH]:
        return Problem("its contents do not match its chain hash", seq), running, b""
    leaf = merkle.leaf_hash(canonical)
    if row[_LEAF] != leaf.hex():
        return Problem("its contents do not match its Merkle leaf hash", seq), running, b""
    comment = row[_COMMENT]
    if comment is not None and (row[_SALT] is None or salted_digest(row[_SALT], comment) != row[_COMMENT_DIGEST]):
        return Problem("its comment does not match the comment digest", seq), running, b""
    return None, recomputed, leaf


def _more(count: int) -> str:
    if not count:
        return ""
    return f" and {count} later checkpoint{'s' if count > 1 else ''} signed by the same key"


@dataclass(slots=True)
class _KeyUse:
    """What the checkpoints one key signed (with a good signature) leave as they are met in order of tree size."""

    first: str
    signed: int = 0
    reach: int = 0  # the largest tree size of a checkpoint it signed (stored or kept) whose root matched
    below: int = 0  # the largest such size before the reach (for a checkpoint of the reach's own size)
    stored_matched: int = 0  # the stored ones whose root matched
    stored_reach: int = 0  # the largest of those
    early: tuple[str, int] | None = None  # the first it signed below the rotation that introduced it; how many
    late: tuple[str, int, int] | None = None  # the first it signed above the rotation that retired it; how many; where
    mismatch: tuple[_Signed, dict[str, int]] | None = None  # the first stored whose root differs; each key's reach
    mismatches: int = 0  # how many stored differ after it
    kept_mismatches: list[tuple[_Signed, dict[str, int]]] = field(default_factory=list)
    beyond: tuple[_Signed, int] | None = None  # the largest stored covering more than the log holds; how many
    kept_beyond: list[_Signed] = field(default_factory=list)

    def reach_below(self, size: int) -> int:
        """The largest tree size below ``size`` of a matching checkpoint this key signed (0: none)."""
        return self.reach if self.reach < size else self.below


class _Checkpoints:
    """The stored checkpoints, read in order of tree size as the entries reach them, and the kept ones: each is
    checked when the entries read are as many as it covers, and leaves a few numbers with its key. Which keys are
    trusted, and what each checkpoint that does not match puts in doubt, is decided at the end."""

    def __init__(
        self,
        session: Session,
        batch: int,
        kept: Sequence[KeptCheckpoint],
        trusted: Mapping[str, Any],
        state: _State,
        signed_until: int,
    ) -> None:
        self.state = state
        self.trusted = trusted
        # only those signed before the entries are read: one signed meanwhile may cover entries the reading does
        # not see
        self.stored = checkpoints_by_size(session, batch, AuditCheckpoint.id <= signed_until)
        self.uses: dict[str, _KeyUse] = {}
        self.rotations: list[tuple[int, str, str]] = []
        self.retired: dict[str, int] = {}
        self.introduced: dict[str, int] = {}
        self.first_stored_key: str | None = None
        # the few keys that signed them, each read from its PEM once (not once per checkpoint), with its fingerprint
        self.by_pem: dict[str, tuple[ed25519.Ed25519PublicKey, str] | None] = {}
        self.kept: dict[int, list[_Signed]] = {}
        for item in kept:
            checked = self._kept(session, item)
            if checked is not None:
                self.kept.setdefault(item.tree_size, []).append(checked)
        self.waiting: Any = next(self.stored, None)

    def _kept(self, session: Session, item: KeptCheckpoint) -> _Signed | None:
        number = f" {item.id}" if item.id is not None else ""
        label = f"your kept checkpoint{number} (tree size {item.tree_size})"
        signer = self.trusted.get(item.key_fingerprint)
        if signer is None:
            pem = session.scalar(
                select(AuditCheckpoint.public_key)
                .where(AuditCheckpoint.key_fingerprint == item.key_fingerprint)
                .order_by(AuditCheckpoint.id)
                .limit(1)
            )
            loaded = self._key(pem) if pem is not None else None
            signer = loaded[0] if loaded is not None and loaded[1] == item.key_fingerprint else None
        if signer is None:
            self.state.problems.append(
                Problem(f"{label}: signed by key {item.key_fingerprint[:16]}…, which is unknown")
            )
        elif not item.signed_by(signer):
            self.state.problems.append(Problem(f"{label}: its signature does not verify"))
        else:
            return _Signed(label, item.tree_size, item.root_hash, item.key_fingerprint, stored=False)
        return None

    def _key(self, pem: str) -> tuple[ed25519.Ed25519PublicKey, str] | None:
        if pem not in self.by_pem:
            try:
                read = load_public_key(pem)
            except ValueError:
                self.by_pem[pem] = None
            else:
                self.by_pem[pem] = (read, public_fingerprint(read))
        return self.by_pem[pem]

    def _signed(self, cp: Any) -> _Signed | None:
        """A stored checkpoint, if its signature is good (a problem otherwise)."""
        label = f"checkpoint {cp.id} (tree size {cp.tree_size})"
        loaded = self._key(cp.public_key)
        if loaded is None:
            self.state.problems.append(Problem(f"{label}: its public key is unreadable"))
            return None
        key, fingerprint = loaded
        as_kept = KeptCheckpoint(
            cp.tree_size, cp.root_hash, format_instant(cp.created_at), cp.key_fingerprint, cp.signature
        )
        if fingerprint != cp.key_fingerprint or not as_kept.signed_by(key):
            self.state.problems.append(Problem(f"{label}: its signature does not verify (the checkpoint was altered)"))
            return None
        if self.first_stored_key is None:
            self.first_stored_key = fingerprint
        return _Signed(label, cp.tree_size, cp.root_hash, fingerprint)

    def next_size(self) -> int:
        """The tree size of the next checkpoint to meet (0: none is left)."""
        stored = self.waiting.tree_size if self.waiting is not None else 0
        kept = min(self.kept, default=0)
        return min(stored, kept) if stored and kept else stored or kept

    def _use(self, item: _Signed) -> _KeyUse:
        use = self.uses.get(item.fingerprint)
        if use is None:
            use = self.uses[item.fingerprint] = _KeyUse(item.label)
        use.signed += 1
        retired = self.retired.get(item.fingerprint)
        if retired is not None and item.tree_size > retired:
            use.late = (use.late[0], use.late[1] + 1, use.late[2]) if use.late else (item.label, 0, retired)
        return use

    def rotation(self, seq: int, old: str, new: str) -> None:
        """A logged rotation at entry ``seq``: ``new`` signs from there on, ``old`` no more."""
        self.rotations.append((seq, old, new))
        self.retired[old] = seq
        self.introduced[new] = seq
        use = self.uses.get(new)
        if use is not None:  # what the new key signed before this entry: everything met so far
            use.early = (use.first, use.signed)

    def meet(self, size: int, root: str) -> None:
        """Check every checkpoint of tree size ``size`` against ``root``, the root of the first ``size`` entries."""
        while self.waiting is not None and self.waiting.tree_size == size:
            cp, self.waiting = self.waiting, next(self.stored, None)
            item = self._signed(cp)
            if item is not None:
                self._met(item, root)
        for item in self.kept.pop(size, ()):
            self._met(item, root)

    def _met(self, item: _Signed, root: str | None) -> None:
        use = self._use(item)
        if root == item.root_hash:
            if item.tree_size > use.reach:
                use.below, use.reach = use.reach, item.tree_size
            if item.stored:
                use.stored_matched += 1
                use.stored_reach = max(use.stored_reach, item.tree_size)
            return
        if root is None:  # the log ends before the entries it covers
            if not item.stored:
                use.kept_beyond.append(item)
            else:
                use.beyond = (item, use.beyond[1] + 1 if use.beyond else 0)
            return
        reach = {key: each.reach_below(item.tree_size) for key, each in self.uses.items()}
        if not item.stored:
            use.kept_mismatches.append((item, reach))
        elif use.mismatch is None:
            use.mismatch = (item, reach)
        else:
            use.mismatches += 1

    def rest(self) -> None:
        """Every checkpoint not met: those covering more entries than were read (their signatures are checked)."""
        while self.waiting is not None:
            cp, self.waiting = self.waiting, next(self.stored, None)
            item = self._signed(cp)
            if item is not None:
                self._met(item, None)
        for items in self.kept.values():
            for item in items:
                self._met(item, None)
        self.kept.clear()

    def endorsed(self, trusted: Iterable[str]) -> set[str]:
        """The keys trusted: ``trusted``, and those a logged rotation, covered by a matching checkpoint of a key
        already trusted, links to one of them."""
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

    def judge(self, endorsed: set[str], checked: int, broken: bool) -> tuple[int, int]:
        """Turn the root comparisons and the keys' trust into problems; the stored checkpoints that verified, and
        the largest tree one of them covers."""
        problems = self.state.problems
        verified = covered = 0
        for key, use in self.uses.items():
            if key not in endorsed:
                problems.append(
                    Problem(
                        f"{use.first}{_more(use.signed - 1)}: signed by key {key[:16]}…, which is not trusted "
                        "and which no logged key rotation links to a trusted key"
                    )
                )
                continue
            verified += use.stored_matched
            covered = max(covered, use.stored_reach)
            if use.late is not None:
                label, more, seq = use.late
                problems.append(Problem(f"{label}{_more(more)}: signed by a key retired at entry {seq}"))
            if use.early is not None and use.early[1] > 0:
                label, signed = use.early
                problems.append(
                    Problem(
                        f"{label}{_more(signed - 1)}: signed by a key introduced later, at entry {self.introduced[key]}"
                    )
                )
            if use.mismatch is not None:
                problems.append(_mismatch(*use.mismatch, endorsed))
            if use.mismatches:
                plural = "s" if use.mismatches > 1 else ""
                problems.append(
                    Problem(
                        f"{use.mismatches} later stored checkpoint{plural} signed by the same key "
                        f"do{'' if plural else 'es'} not match the entries either"
                    )
                )
            problems.extend(_mismatch(item, reach, endorsed) for item, reach in use.kept_mismatches)
            if broken:
                continue
            beyond = [(item, 0) for item in use.kept_beyond] + ([use.beyond] if use.beyond else [])
            for item, others in beyond:
                also = f" ({others} smaller checkpoint{'s' if others > 1 else ''} of the key too)" if others else ""
                problems.append(
                    Problem(
                        f"the log ends at entry {checked} but {item.label} covers {item.tree_size} entries: "
                        f"entries {checked + 1}–{item.tree_size} were removed{also}",
                        checked + 1,
                        item.tree_size,
                    )
                )
        return verified, covered


def _mismatch(item: _Signed, reach: dict[str, int], endorsed: set[str]) -> Problem:
    """The entries ``item``'s root does not match, from the last trusted checkpoint that matched below it."""
    first = max((size for signer, size in reach.items() if signer in endorsed), default=0) + 1
    return Problem(
        f"entries {first}–{item.tree_size} do not hash to the root signed in {item.label}: "
        "at least one of them was changed, removed, inserted or reordered",
        first,
        item.tree_size,
    )


def verify(
    session: Session,
    batch: int = 2000,
    *,
    trusted_keys: Sequence[ed25519.Ed25519PublicKey] = (),
    kept: Sequence[KeptCheckpoint] = (),
    max_uncovered_age: timedelta | None = None,
    now: datetime | None = None,
) -> VerifyResult:
    """Recompute the chain, every leaf and the tree from the stored rows and compare them with the stored
    hashes, subtrees, head and checkpoints (and the checkpoints an auditor ``kept``).

    Checkpoints must be signed by a ``trusted_keys`` key or a key a logged rotation links to one; without
    trusted keys the first checkpoint's key is taken on trust, with a warning. Detects edited, deleted,
    inserted and reordered entries, a truncated tail, damaged subtrees and replaced checkpoints.

    With ``max_uncovered_age``, a non-empty log that no verified checkpoint covers, or whose first entry
    after the latest verified checkpoint is older than that, is a problem too: those entries could be
    removed without a trace. The result always reports the uncovered window.
    """
    state = _State()
    trusted = {public_fingerprint(key): key for key in trusted_keys}
    # What the log was before its entries are read: the head, and the checkpoints signed until then (a live log
    # grows while it is read; on PostgreSQL each statement but the entries' cursor sees what was committed after)
    head = session.execute(_HEAD).first()
    signed_until = int(session.scalar(select(func.max(AuditCheckpoint.id))) or 0)
    checkpoints = _Checkpoints(session, batch, kept, trusted, state, signed_until)
    head_seq = head[0] if head is not None else -1
    running_at_head = GENESIS_HASH if head_seq == 0 else None

    frontier = merkle.CompactRange()
    running = GENESIS_HASH
    expected_seq = 1
    broken = False
    peaks = frontier.peaks
    # the checkpoints are met in order of tree size as the entries reach them: the next one's size is all the loop
    # looks at (a checkpoint is signed every minute the log grows)
    next_target = checkpoints.next_size()
    fast = fast_entry_check()
    # Rows straight from the driver, streamed: the ORM layer and result processing would double the cost of
    # reading a row, and the log may be larger than memory.
    with ExitStack() as cursors:
        nodes = _StoredNodes(session, max(batch, 256), cursors)
        rows = cursors.enter_context(_stream_entries(session, batch))
        for row in rows:
            checked_row = fast(row, expected_seq, running)
            if checked_row is None:
                problem, running, leaf = _entry_problem(row, expected_seq, running)
                if problem is not None:
                    state.problems.append(problem)
                    broken = True
                    break
            else:
                running, leaf = checked_row
            if expected_seq & 1:  # an odd-numbered leaf completes no subtree
                peaks.append(leaf)
                frontier.size = expected_seq
            else:
                for level, idx, value in frontier.append(leaf):
                    if nodes.get(level, idx) != value.hex():
                        first, last = (idx << level) + 1, (idx + 1) << level
                        state.problems.append(
                            Problem(
                                f"entries {first}–{last} no longer match the tree stored when they were appended "
                                f"(subtree level {level}, index {idx})",
                                first,
                                last,
                            )
                        )
                        broken = True
                        break
                if broken:
                    break
            if row[_ACTION] == KEY_ROTATED:
                pair = rotation_of(row[_ACTION], strict_loads(row[_DETAILS]))
                if pair is not None:
                    checkpoints.rotation(expected_seq, *pair)
            if expected_seq == next_target:
                checkpoints.meet(expected_seq, frontier.root().hex())
                next_target = checkpoints.next_size()
            if expected_seq == head_seq:
                running_at_head = running
            expected_seq += 1
    checked = expected_seq - 1
    checkpoints.rest()

    trusted_fingerprints = set(trusted)
    if not trusted_fingerprints:
        first_key = checkpoints.first_stored_key
        if first_key is not None:
            state.warnings.append(
                "no trusted public key given: the key of the first checkpoint was taken on trust "
                f"({first_key[:16]}…); pass the institution's published key to prove who signed"
            )
            trusted_fingerprints = {first_key}
    verified, covered = checkpoints.judge(checkpoints.endorsed(trusted_fingerprints), checked, broken)

    if not broken:
        _check_tail(session, checked, head, running_at_head, state)
    coverage = _coverage(session, covered, checked)
    if max_uncovered_age is not None:
        _judge_coverage(coverage, checked, max_uncovered_age, now or utcnow(), state)
    return _result(state, checked, running, frontier.root().hex() if checked else None, verified, coverage)


def _coverage(session: Session, covered: int, checked: int) -> Coverage:
    uncovered = max(checked - covered, 0)
    oldest = session.scalar(select(AuditEntry.at).where(AuditEntry.seq == covered + 1)) if uncovered else None
    return Coverage(covered, uncovered, oldest)


def log_coverage(session: Session) -> Coverage:
    """The uncovered window of the live log, cheaply: entries after the largest stored checkpoint (its
    signature and root are not re-checked here; :func:`verify` does that)."""
    head = session.get(AuditHead, 1)
    size = head.seq if head is not None else 0
    largest = session.scalar(select(func.max(AuditCheckpoint.tree_size))) or 0
    return _coverage(session, min(int(largest), size), size)


def _judge_coverage(coverage: Coverage, checked: int, tolerance: timedelta, now: datetime, state: _State) -> None:
    if checked == 0 or coverage.uncovered == 0:
        return
    if coverage.covered == 0:
        state.problems.append(
            Problem(
                f"no verified checkpoint covers the log: its {checked} entries could be removed or rewritten "
                "without a trace; sign one with `flask --app wsgi audit checkpoint`"
            )
        )
        return
    oldest = coverage.oldest_uncovered_at
    if oldest is not None and now - oldest > tolerance:
        state.problems.append(
            Problem(
                f"entries {coverage.covered + 1}–{checked} are covered by no checkpoint, the oldest since "
                f"{format_instant(oldest)} (more than {int(tolerance.total_seconds())} s ago): they could be removed "
                "without a trace; sign a checkpoint with `flask --app wsgi audit checkpoint`"
            )
        )


_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
_subtree_end = (AuditTreeNode.idx + 1).op("<<")(AuditTreeNode.level)
"""The number of entries up to the last one a stored subtree covers."""


def _stored_subtrees(checked: int) -> Select[int, int]:
    """How many stored subtrees lie within the first ``checked`` entries, and how many after the head as it is: one
    pass over them, in one snapshot (an entry, its subtrees and the head's move are committed together)."""
    head = select(AuditHead.seq).where(AuditHead.id == 1).scalar_subquery()
    return select(func.count().filter(_subtree_end <= checked), func.count().filter(_subtree_end > head))


def _check_tail(
    session: Session, checked: int, head: Sequence[Any] | None, running_at_head: str | None, state: _State
) -> None:
    """The entries read against the head as it was before they were read (``head``: its sequence number and hash;
    ``running_at_head``: the chain hash read at that entry), and against the head and subtrees as they are now.

    Entries appended while the log was read (a live log grows) are neither missing nor extra: the head read
    before the entries' cursor opened must be among the entries read, with its hash, and no entry read, nor any
    stored subtree, may lie after the head as it is at the end."""
    if head is None:
        state.problems.append(Problem("the audit head row is missing"))
    else:
        head_seq, head_hash = head
        now = session.execute(_HEAD).first()
        head_now = now[0] if now is not None else head_seq
        short = checked < head_seq or running_at_head != head_hash  # the head before the reading is not among them
        if short or checked > head_now:  # or entries lie after the head as it is now
            state.problems.append(
                Problem(
                    "the log's tail does not match its head (entries removed or added)",
                    min(head_seq if short else head_now, checked) + 1,
                )
            )
    expected = sum(checked >> level for level in range(1, checked.bit_length() + 1))
    within, after = session.execute(_stored_subtrees(checked)).one()
    if within != expected or after:
        stored = within + after
        state.problems.append(
            Problem(
                f"{stored} tree subtrees are stored where {checked} entries make {expected} (entries removed?)",
                checked + 1 if stored > expected else None,
            )
        )


def _result(
    state: _State, checked: int, running: str, root: str | None, verified: int, coverage: Coverage
) -> VerifyResult:
    problems = sorted(state.problems, key=lambda p: (p.first_bad is None, p.first_bad or 0))
    first = problems[0] if problems else None
    return VerifyResult(
        ok=not problems,
        checked=checked,
        first_bad=first.first_bad if first else None,
        reason=first.message if first else None,
        head_hash=running,
        root_hash=root,
        checkpoints_verified=verified,
        problems=tuple(problems),
        warnings=tuple(state.warnings),
        covered=coverage.covered,
        uncovered=coverage.uncovered,
        oldest_uncovered_at=format_instant(coverage.oldest_uncovered_at) if coverage.oldest_uncovered_at else None,
    )
