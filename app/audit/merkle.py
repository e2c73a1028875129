"""RFC 9162 Merkle tree hashing and proofs over subtrees that are stored as they complete.

Leaves are numbered from 0 (leaf *i* is audit entry ``seq = i + 1``). A *complete subtree* at
``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``; the log stores the hash of
every complete subtree when its last leaf is appended (level 0 is the entry's leaf hash). Every
subtree that RFC 9162's recursion (split at the largest power of two below the size) visits starts
at a multiple of a power of two at least as large as itself, so its hash is the right fold of the
complete subtrees of its binary decomposition: proofs for any tree size read O(log n) stored hashes.

This module is pure (no database); :mod:`app.audit.tree` feeds it stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
"""(level, index) of a complete, aligned subtree."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` ≥ 2)."""
    if n < 2:
        raise ValueError("n must be at least 2")
    return 1 << ((n - 1).bit_length() - 1)


def decompose(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees whose right fold is MTH(D[start:end]), left to right.

    Valid for the ranges RFC 9162's recursion visits (``start`` a multiple of a power of two that is
    at least ``end - start``). Raises ``ValueError`` for an empty or misaligned range.
    """
    size = end - start
    if size <= 0:
        raise ValueError("empty range")
    keys: list[NodeKey] = []
    position = start
    for level in range(size.bit_length() - 1, -1, -1):
        width = 1 << level
        if size & width:
            if position % width:
                raise ValueError(f"range [{start}, {end}) is not aligned")
            keys.append((level, position >> level))
            position += width
    return keys


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of the hashes of a range's decomposition: H(h0, H(h1, … H(hk-1, hk)))."""
    if not hashes:
        raise ValueError("nothing to fold")
    result = hashes[-1]
    for item in reversed(hashes[:-1]):
        result = node_hash(item, result)
    return result


Range = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtree ranges whose hashes form the audit path of leaf ``index`` in a tree of ``size``
    leaves, in RFC 9162 order (nearest sibling first). Raises ``ValueError`` when out of range."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtree ranges whose hashes form the consistency proof from ``first`` to ``second`` leaves
    (RFC 9162 SUBPROOF, in order). Empty when the sizes are equal; raises ``ValueError`` unless
    ``0 < first <= second``."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    ranges: list[Range] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def required_nodes(ranges: Iterable[Range]) -> set[NodeKey]:
    """Every complete subtree needed to hash ``ranges``."""
    keys: set[NodeKey] = set()
    for start, end in ranges:
        keys.update(decompose(start, end))
    return keys


def hash_ranges(ranges: Iterable[Range], nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """The hash of each range, from the stored complete subtrees. Raises ``KeyError`` if one is missing."""
    return [fold([nodes[key] for key in decompose(start, end)]) for start, end in ranges]


NodeReader = Callable[[set[NodeKey]], Mapping[NodeKey, bytes]]


def root_at(size: int, read: NodeReader) -> bytes:
    """MTH of the first ``size`` leaves (the empty-tree hash for 0), reading O(log n) stored nodes."""
    if size == 0:
        return EMPTY_ROOT
    keys = decompose(0, size)
    nodes = read(set(keys))
    return fold([nodes[key] for key in keys])


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of ``size`` leaves, reading O(log n) stored nodes."""
    ranges = inclusion_ranges(index, size)
    return hash_ranges(ranges, read(required_nodes(ranges)))


def consistency_proof(first: int, second: int, read: NodeReader) -> list[bytes]:
    """Consistency proof between tree sizes ``first`` and ``second``, reading O(log n) stored nodes."""
    ranges = consistency_ranges(first, second)
    return hash_ranges(ranges, read(required_nodes(ranges)))


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether ``path`` proves ``leaf`` at ``index`` in the tree of ``size`` with ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0 or len(p) != 32:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether ``path`` proves the tree of ``second`` leaves extends the one of ``first``."""
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
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


@dataclass(slots=True)
class CompactRange:
    """The roots of the perfect subtrees that make up a growing tree (its "frontier").

    Appending a leaf returns the complete subtrees (level ≥ 1) it finished, so a verifier can
    rebuild and check stored nodes while streaming the log once, in O(log n) memory.
    """

    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the (level, index, hash) of every subtree it completed."""
        completed: list[tuple[int, int, bytes]] = []
        current = leaf
        level = 0
        n = self.size
        new_size = self.size + 1
        while n & 1:
            current = node_hash(self.peaks.pop(), current)
            level += 1
            n >>= 1
            completed.append((level, (new_size >> level) - 1, current))
        self.peaks.append(current)
        self.size = new_size
        return completed

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self.peaks:
            return EMPTY_ROOT
        return fold(self.peaks)
