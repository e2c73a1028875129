"""RFC 6962/9162 hashing and proofs: published test vectors, two independent implementations written here,
the application's stored-subtree proofs and the standalone verifier must all agree."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping

import pytest

from app.audit import merkle
from tests.audit.helpers import verifier

# The Certificate Transparency reference leaves (RFC 6962 test data) and the published roots for sizes 0..8.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Published audit paths (leaf index, tree size, path) and consistency proofs (first, second, proof).
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# --- Independent implementation 1: RFC 6962 section 2.1, literally (recursive on lists of leaves) -------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 defines it, over the leaf data."""
    n = len(leaves)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + leaves[0])
    k = _split(n)
    return _sha(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) as RFC 6962 defines it."""
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) as RFC 6962 defines it."""
    n = len(leaves)
    if m == n:
        return [] if whole else [naive_mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], whole), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


# --- Independent implementation 2: bottom-up, level by level (an odd node at the end moves up unchanged) ------


def bottom_up_roots(leaf_hashes: list[bytes]) -> bytes:
    """The root by pairing level by level; for the left-complete RFC 6962 tree this is the same tree."""
    level = list(leaf_hashes)
    if not level:
        return _sha(b"")
    while len(level) > 1:
        nxt = [_sha(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def stored_nodes(leaf_hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """What the log stores for these leaves: every complete subtree, built as appends build it."""
    nodes: dict[tuple[int, int], bytes] = {}
    growing = merkle.CompactRange()
    for index, leaf in enumerate(leaf_hashes):
        nodes[(0, index)] = leaf
        for level, idx, value in growing.append(leaf):
            nodes[(level, idx)] = value
    return nodes


class CountingReader:
    """A node reader over a dict that records how many stored hashes each call reads."""

    def __init__(self, nodes: Mapping[tuple[int, int], bytes]) -> None:
        self.nodes = nodes
        self.reads = 0

    def __call__(self, keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.reads += len(keys)
        return {key: self.nodes[key] for key in keys}


def test_published_roots_are_what_rfc_6962_defines():
    # The literal vectors are checked against the definition before anything relies on them.
    for size, root in enumerate(CT_ROOTS):
        assert naive_mth(CT_LEAVES[:size]).hex() == root


def test_published_proofs_are_what_rfc_6962_defines():
    for index, size, path in CT_INCLUSION:
        assert [p.hex() for p in naive_path(index, CT_LEAVES[:size])] == path
    for first, second, proof in CT_CONSISTENCY:
        expected = [] if first == second else naive_subproof(first, CT_LEAVES[:second], True)
        assert [p.hex() for p in expected] == proof


def test_the_log_reproduces_the_published_vectors():
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES]
    nodes = stored_nodes(leaves)
    read = CountingReader(nodes)
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0]
    for size in range(1, 9):
        assert merkle.root_at(size, read).hex() == CT_ROOTS[size]
    for index, size, path in CT_INCLUSION:
        assert [p.hex() for p in merkle.inclusion_proof(index, size, read)] == path
        root = bytes.fromhex(CT_ROOTS[size])
        hashes = [bytes.fromhex(p) for p in path]
        assert merkle.verify_inclusion(index, size, leaves[index], hashes, root)
        assert verifier.verify_inclusion(index, size, leaves[index], hashes, root)
    for first, second, proof in CT_CONSISTENCY:
        assert [p.hex() for p in merkle.consistency_proof(first, second, read)] == proof
        args = (first, second, bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second]))
        hashes = [bytes.fromhex(p) for p in proof]
        assert merkle.verify_consistency(*args, hashes)
        assert verifier.verify_consistency(*args, hashes)


@pytest.fixture(scope="module")
def two_thousand() -> tuple[list[bytes], list[bytes], dict[tuple[int, int], bytes], list[bytes]]:
    """2000 leaves, the subtrees the log would store for them, and the root of every size (bottom-up)."""
    data = [f"entrada {i}".encode() + bytes([i % 251]) for i in range(2000)]
    leaves = [merkle.leaf_hash(d) for d in data]
    roots = [bottom_up_roots(leaves[:size]) for size in range(len(leaves) + 1)]
    return data, leaves, stored_nodes(leaves), roots


def test_every_size_up_to_2000_agrees_with_two_independent_implementations(two_thousand):
    data, leaves, nodes, roots = two_thousand
    read = CountingReader(nodes)
    growing = merkle.CompactRange()
    streaming = verifier.Tree()
    for size in range(1, len(data) + 1):
        growing.append(leaves[size - 1])
        streaming.append(leaves[size - 1])
        expected = roots[size]
        assert growing.root() == expected
        assert streaming.root() == expected
        assert merkle.root_at(size, read) == expected
    # The recursive definition itself on a spread of sizes (it is quadratic overall).
    for size in [*range(1, 70), 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 1999, 2000]:
        assert naive_mth(data[:size]) == merkle.root_at(size, read)


def test_inclusion_proofs_everywhere_in_small_trees_and_at_random_in_large_ones(two_thousand):
    data, leaves, nodes, roots = two_thousand
    rng = random.Random(6962)
    cases = [(i, n) for n in range(1, 65) for i in range(n)]
    cases += [(rng.randrange(n), n) for n in (rng.randrange(65, 2001) for _ in range(300))]
    for index, size in cases:
        read = CountingReader(nodes)
        path = merkle.inclusion_proof(index, size, read)
        assert read.reads <= 2 * math.ceil(math.log2(size)) + 1, (index, size, read.reads)
        if size <= 300 or index % 7 == 0:
            assert path == naive_path(index, data[:size])
        root = roots[size]
        assert verifier.verify_inclusion(index, size, leaves[index], path, root)
        assert merkle.verify_inclusion(index, size, leaves[index], path, root)
        # ... and nothing else verifies: another leaf, another index, another size, a damaged path.
        other = leaves[(index + 1) % size]
        if other != leaves[index]:
            assert not verifier.verify_inclusion(index, size, other, path, root)
        assert not verifier.verify_inclusion(index ^ 1, size, leaves[index], path, root) or size == 1
        if path:
            assert not verifier.verify_inclusion(index, size, leaves[index], path[:-1], root)
            assert not verifier.verify_inclusion(index, size, leaves[index], [*path, path[0]], root)
            flipped = bytes([path[0][0] ^ 1]) + path[0][1:]
            assert not verifier.verify_inclusion(index, size, leaves[index], [flipped, *path[1:]], root)


def test_consistency_proofs_at_random_pairs(two_thousand):
    data, leaves, nodes, roots = two_thousand
    rng = random.Random(9162)
    pairs = [(m, n) for n in range(1, 40) for m in range(1, n + 1)]
    for _ in range(300):
        n = rng.randrange(1, 2001)
        pairs.append((rng.randrange(1, n + 1), n))
    for first, second in pairs:
        read = CountingReader(nodes)
        proof = merkle.consistency_proof(first, second, read)
        assert read.reads <= 2 * math.ceil(math.log2(second) + 1), (first, second, read.reads)
        if second <= 300:
            expected = [] if first == second else naive_subproof(first, data[:second], True)
            assert proof == expected
        old, new = roots[first], roots[second]
        assert verifier.verify_consistency(first, second, old, new, proof)
        assert merkle.verify_consistency(first, second, old, new, proof)
        if first < second:
            assert not verifier.verify_consistency(first, second, new, old, proof) or old == new
            assert not verifier.verify_consistency(first, second, old, new, proof[:-1])
            assert not verifier.verify_consistency(first, second, old, new, [*proof, proof[0]])
            other = bottom_up_roots([*leaves[: first - 1], _sha(b"otra")])
            assert not verifier.verify_consistency(first, second, other, new, proof)


def test_proofs_refuse_impossible_sizes():
    with pytest.raises(ValueError, match="out of range"):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError, match="first"):
        merkle.consistency_ranges(0, 3)
    with pytest.raises(ValueError, match="first"):
        merkle.consistency_ranges(4, 3)
    assert not verifier.verify_inclusion(0, 0, b"x" * 32, [], b"x" * 32)
    assert not verifier.verify_consistency(0, 1, b"x" * 32, b"x" * 32, [])
    assert not verifier.verify_consistency(3, 2, b"x" * 32, b"x" * 32, [b"y" * 32])
