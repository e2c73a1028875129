"""The standalone verifier is the security boundary: it rejects malformed input with a clear message, never
crashes, never accepts what it cannot verify, and needs nothing but the standard library and `cryptography`."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit import merkle
from app.audit.canonical import GENESIS_HASH, canonical_json, chain_hash
from app.audit.checkpoints import checkpoint_message, public_key_pem
from app.keys import public_fingerprint
from tests.audit.helpers import VERIFIER_PATH, public_pem, run_verifier

KEY = ed25519.Ed25519PrivateKey.generate()
FINGERPRINT = public_fingerprint(KEY.public_key())


def _entry(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": f"2026-11-27T10:{seq % 60:02d}:00.000000Z",
        "kind": "transition",
        "case_id": 1,
        "folio": "VECS-2026-000001",
        "workflow": "vecs",
        "workflow_version": 1,
        "action": "submit" if seq % 2 else "start_intake",
        "from_state": "draft",
        "to_state": "submitted",
        "actor_id": 3,
        "actor_role": "applicant",
        "case_version": seq,
        "comment_digest": None,
        "data_digest": None,
        "documents_digest": None,
        "details": {"motivo": "revisión ✓"},
    }


def _checkpoint(size: int, root: bytes, identifier: int, key: ed25519.Ed25519PrivateKey = KEY) -> dict[str, Any]:
    fingerprint = public_fingerprint(key.public_key())
    stamp = f"2026-11-27T11:00:{identifier:02d}.000000Z"
    signature = key.sign(checkpoint_message(size, root.hex(), stamp, fingerprint))
    return {
        "id": identifier,
        "tree_size": size,
        "root_hash": root.hex(),
        "timestamp": stamp,
        "key_fingerprint": fingerprint,
        "signature": base64.b64encode(signature).decode(),
    }


def make_bundle(
    count: int = 10, checkpoint_sizes: tuple[int, ...] = (4, 10)
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A bundle built the way the log builds one (header, entry lines), independent of any database."""
    lines, running, growing, checkpoints = [], GENESIS_HASH, merkle.CompactRange(), []
    for seq in range(1, count + 1):
        entry = _entry(seq)
        canonical = canonical_json(entry)
        running = chain_hash(running, canonical)
        leaf = merkle.leaf_hash(canonical)
        growing.append(leaf)
        lines.append({"entry": entry, "leaf_hash": leaf.hex(), "chain_hash": running})
        if seq in checkpoint_sizes:
            checkpoints.append(_checkpoint(seq, growing.root(), len(checkpoints) + 1))
    header = {
        "format": "tramites-audit-bundle/1",
        "generated_at": "2026-11-27T12:00:00.000000Z",
        "tree_size": count,
        "checkpoint": checkpoints[-1],
        "checkpoints": checkpoints,
        "public_keys": [{"fingerprint": FINGERPRINT, "pem": public_key_pem(KEY.public_key())}],
    }
    return header, lines


def as_format_2(header: dict[str, Any], lines: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The same bundle in format 2: the header without its checkpoints, each one on a line right after the entry
    that completes its tree."""
    second = {key: value for key, value in header.items() if key != "checkpoints"}
    second["format"] = "tramites-audit-bundle/2"
    by_size: dict[int, list[dict[str, Any]]] = {}
    for checkpoint in header["checkpoints"]:
        by_size.setdefault(checkpoint["tree_size"], []).append(checkpoint)
    interleaved: list[dict[str, Any]] = []
    for line in lines:
        interleaved.append(line)
        interleaved.extend({"checkpoint": c} for c in by_size.get(line["entry"]["seq"], ()))
    return second, interleaved


def write_bundle(path: Path, header: Any, lines: list[Any]) -> Path:
    # Entry lines in canonical form, as the log writes them (the verifier refuses any other form).
    lines_text = "".join(
        json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n" for line in lines
    )
    text = json.dumps(header) + "\n" + lines_text
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "institution.pem"
    path.write_bytes(public_pem(KEY))
    return path


def test_a_well_formed_bundle_verifies(tmp_path: Path, key_file: Path):
    header, lines = make_bundle()
    code, output = run_verifier(write_bundle(tmp_path / "b.jsonl", header, lines), "--public-key", key_file)
    assert code == 0, output
    assert "10 entries and 2 checkpoints verified" in output


def _mutated(mutation: str) -> tuple[Any, list[Any] | str]:
    header, lines = make_bundle()
    if mutation == "tree size huge":
        header["tree_size"] = 10**30
    elif mutation == "tree size negative":
        header["tree_size"] = -3
    elif mutation == "tree size boolean":
        header["tree_size"] = True
    elif mutation == "tree size float":
        header["tree_size"] = 10.0
    elif mutation == "tree size string":
        header["tree_size"] = "10"
    elif mutation == "checkpoint size huge":
        header["checkpoints"][0]["tree_size"] = 2**64
    elif mutation == "checkpoints not a list":
        header["checkpoints"] = {"a": 1}
    elif mutation == "root not hex":
        header["checkpoint"]["root_hash"] = "Z" * 64
    elif mutation == "key fingerprint lies":
        header["public_keys"][0]["fingerprint"] = "0" * 64
    elif mutation == "key not a key":
        header["public_keys"][0]["pem"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    elif mutation == "main checkpoint missing from the list":
        header["checkpoints"] = header["checkpoints"][:1]
    elif mutation == "header not an object":
        header = [header]
    elif mutation == "wrong format":
        header["format"] = "something-else/9"
    return header, lines


@pytest.mark.parametrize(
    "mutation",
    [
        "tree size huge",
        "tree size negative",
        "tree size boolean",
        "tree size float",
        "tree size string",
        "checkpoint size huge",
        "checkpoints not a list",
        "root not hex",
        "key fingerprint lies",
        "key not a key",
        "main checkpoint missing from the list",
        "header not an object",
        "wrong format",
    ],
)
def test_malformed_headers_are_refused_clearly(tmp_path: Path, key_file: Path, mutation: str):
    header, lines = _mutated(mutation)
    code, output = run_verifier(write_bundle(tmp_path / "b.jsonl", header, list(lines)), "--public-key", key_file)
    assert code == 2, output
    assert output.startswith("CANNOT VERIFY:"), output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"{not json\n", "not valid JSON"),
        (b"\xff\xfe\x00garbage\n", "not valid JSON"),
        (b'{"format": "tramites-audit-bundle/1", "tree_size": NaN}\n', "not valid JSON"),
        (b'{"tree_size": ' + b"9" * 5000 + b"}\n", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "not valid JSON"),
        (b'{"format": "tramites-inclusion-proof/1"}', "proof"),
        (b'{"format": 12}', "format must be"),
        (b'{"format": ["tramites-audit-bundle/2"]}', "format must be"),
        (b'{"format": {"tramites-audit-bundle/1": 1}}\n{}\n', "not valid JSON"),
        (b"null", "must be a JSON object"),
    ],
)
def test_garbage_files_are_refused(tmp_path: Path, key_file: Path, content: bytes, expected: str):
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(content)
    code, output = run_verifier(path, "--public-key", key_file)
    assert code == 2, output
    assert output.startswith("CANNOT VERIFY:"), output
    assert expected in output, output


def _entry_damage(kind: str, lines: list[Any]) -> list[Any] | str:
    if kind == "extra field":
        lines[3]["entry"]["nombre"] = "Ana"
    elif kind == "missing field":
        del lines[3]["entry"]["actor_role"]
    elif kind == "seq as text":
        lines[3]["entry"]["seq"] = "4"
    elif kind == "seq huge":
        lines[3]["entry"]["seq"] = 10**40
    elif kind == "details not an object":
        lines[3]["entry"]["details"] = [1]
    elif kind == "leaf hash wrong length":
        lines[3]["leaf_hash"] = "ab"
    elif kind == "one entry too many":
        lines.append(lines[-1])
    elif kind == "last entry missing":
        lines.pop()
    return lines


@pytest.mark.parametrize(
    ("kind", "first_bad"),
    [
        ("extra field", 4),
        ("missing field", 4),
        ("seq as text", 4),
        ("seq huge", 4),
        ("details not an object", 4),
        ("leaf hash wrong length", 4),
        ("one entry too many", 11),
        ("last entry missing", 10),
    ],
)
def test_damaged_entries_fail_and_are_named(tmp_path: Path, key_file: Path, kind: str, first_bad: int):
    header, lines = make_bundle()
    lines = _entry_damage(kind, lines)
    code, output = run_verifier(write_bundle(tmp_path / "b.jsonl", header, list(lines)), "--public-key", key_file)
    assert code == 1, output
    assert output.startswith(f"FAILED at entry {first_bad}:"), output


def test_bad_json_inside_the_entries_names_the_entry(tmp_path: Path, key_file: Path):
    header, lines = make_bundle()
    path = write_bundle(tmp_path / "b.jsonl", header, lines)
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    text[5] = text[5][:40] + "\n"  # entry 5 cut in the middle
    path.write_text("".join(text), encoding="utf-8")
    code, output = run_verifier(path, "--public-key", key_file)
    assert code == 1
    assert output.startswith("FAILED at entry 5: entry 5 is damaged"), output


def test_wrong_or_unusable_keys(tmp_path: Path, key_file: Path):
    bundle = write_bundle(tmp_path / "b.jsonl", *make_bundle())
    other = tmp_path / "other.pem"
    other.write_bytes(public_pem(ed25519.Ed25519PrivateKey.generate()))
    code, output = run_verifier(bundle, "--public-key", other)
    assert code == 1
    assert "which you do not trust" in output
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # a key whose algorithm identifier is damaged (1.3.101.112 read as 0.39.101.112): an unknown algorithm
    der = KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert der[6:8] == bytes([0x2B, 0x65])
    damaged = tmp_path / "damaged.pem"
    damaged.write_bytes(
        b"-----BEGIN PUBLIC KEY-----\n"
        + base64.encodebytes(der[:6] + bytes([0x27]) + der[7:])
        + b"-----END PUBLIC KEY-----\n"
    )
    for path, expected in (
        (rsa_key, "not an Ed25519"),
        (damaged, "not a PEM"),
        (bundle, "not a PEM"),
        (tmp_path / "missing.pem", "cannot be read"),
    ):
        code, output = run_verifier(bundle, "--public-key", path)
        assert code == 2, output
        assert expected in output, output
    assert run_verifier(bundle)[0] == 2  # no key at all: refused, never trusted blindly
    assert run_verifier(tmp_path, "--public-key", key_file)[0] == 2  # a directory


def test_forged_signatures_and_checkpoints(tmp_path: Path, key_file: Path):
    header, lines = make_bundle()
    header["checkpoints"][0]["signature"] = "not base64!"
    code, output = run_verifier(write_bundle(tmp_path / "a.jsonl", header, lines), "--public-key", key_file)
    assert code == 1
    assert "checkpoint 1 (tree size 4): its signature does not verify" in output
    header, lines = make_bundle()
    header["checkpoints"][0]["root_hash"] = "00" * 32  # a different root, signature kept
    code, output = run_verifier(write_bundle(tmp_path / "b.jsonl", header, lines), "--public-key", key_file)
    assert code == 1
    assert "signature does not verify" in output
    # A kept checkpoint whose log this bundle contradicts.
    kept = _checkpoint(4, b"\x11" * 32, 7)
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    code, output = run_verifier(
        write_bundle(tmp_path / "c.jsonl", *make_bundle()),
        "--public-key",
        key_file,
        "--trusted-checkpoint",
        tmp_path / "kept.json",
    )
    assert code == 1
    assert output.startswith("FAILED at entry 1: entries 1–4 do not hash to the root signed in your kept checkpoint 7")
    (tmp_path / "kept.json").write_text('{"tree_size": 4}')
    code, output = run_verifier(
        tmp_path / "c.jsonl", "--public-key", key_file, "--trusted-checkpoint", tmp_path / "kept.json"
    )
    assert code == 2
    assert "root_hash" in output


def _proofs() -> tuple[dict[str, Any], dict[str, Any]]:
    header, lines = make_bundle(13, (5, 13))
    leaves = [bytes.fromhex(line["leaf_hash"]) for line in lines]
    nodes: dict[tuple[int, int], bytes] = {}
    growing = merkle.CompactRange()
    for index, leaf in enumerate(leaves):
        nodes[(0, index)] = leaf
        for level, idx, value in growing.append(leaf):
            nodes[(level, idx)] = value

    def read(keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {key: nodes[key] for key in keys}

    first, second = header["checkpoints"]
    inclusion = {
        "format": "tramites-inclusion-proof/1",
        "seq": 3,
        "leaf_index": 2,
        "tree_size": 13,
        **lines[2],
        "audit_path": [p.hex() for p in merkle.inclusion_proof(2, 13, read)],
        "checkpoint": second,
        "public_key": public_key_pem(KEY.public_key()),
    }
    consistency = {
        "format": "tramites-consistency-proof/1",
        "first": first,
        "second": second,
        "consistency_path": [p.hex() for p in merkle.consistency_proof(5, 13, read)],
        "public_keys": header["public_keys"],
    }
    return inclusion, consistency


def _proof_damage(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    path_name = "audit_path" if "audit_path" in doc else "consistency_path"
    if kind == "truncated":
        doc[path_name] = doc[path_name][:-1]
    elif kind == "empty":
        doc[path_name] = []
    elif kind == "extended":
        doc[path_name] = [*doc[path_name], "00" * 32]
    elif kind == "flipped":
        doc[path_name][0] = ("1" if doc[path_name][0][0] != "1" else "2") + doc[path_name][0][1:]
    return doc


@pytest.mark.parametrize("kind", ["truncated", "empty", "extended", "flipped"])
@pytest.mark.parametrize("which", ["inclusion", "consistency"])
def test_damaged_proofs_never_verify(tmp_path: Path, key_file: Path, kind: str, which: str):
    inclusion, consistency = _proofs()
    good = inclusion if which == "inclusion" else consistency
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(good))
    assert run_verifier(path, "--public-key", key_file)[0] == 0
    path.write_text(json.dumps(_proof_damage(good, kind)))
    code, output = run_verifier(path, "--public-key", key_file)
    assert code == 1, output
    assert output.startswith("FAILED"), output


@pytest.mark.parametrize(
    "change",
    [
        {"audit_path": ["00" * 32] * 65},
        {"audit_path": "abc"},
        {"audit_path": ["AB" * 32]},
        {"tree_size": 12},
        {"seq": 10**19},
        {"leaf_index": 7},
        {"checkpoint": None},
        {"entry": {"seq": 3}},
    ],
)
def test_malformed_inclusion_proofs_are_refused(tmp_path: Path, key_file: Path, change: dict[str, Any]):
    inclusion, _ = _proofs()
    path = tmp_path / "proof.json"
    path.write_text(json.dumps({**inclusion, **change}))
    code, output = run_verifier(path, "--public-key", key_file)
    assert code == 2, output
    assert output.startswith("CANNOT VERIFY:"), output


def test_a_proof_signed_by_an_untrusted_key_fails(tmp_path: Path):
    inclusion, consistency = _proofs()
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(public_pem(ed25519.Ed25519PrivateKey.generate()))
    for doc in (inclusion, consistency):
        path = tmp_path / "proof.json"
        path.write_text(json.dumps(doc))
        code, output = run_verifier(path, "--public-key", stranger)
        assert code == 1
        assert "which you do not trust" in output


def corrupt(original: bytes, data: st.DataObject) -> bytes:
    """``original`` with one to four random changes: a bit flipped, the end cut, bytes inserted or deleted."""
    corrupted = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(corrupted) - 1, 0)))
        if action == "flip" and corrupted:
            corrupted[position] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del corrupted[position:]
        elif action == "insert":
            corrupted[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        elif corrupted:
            del corrupted[position]
    return bytes(corrupted)


def accepted_lines(bundle: bytes) -> list[Any]:
    """The JSON values of a bundle's lines as the verifier reads them: a line ends at a line feed only (a carriage
    return or another separator ``str.splitlines`` would break at is white space inside a JSON text, or part of a
    string), and blank lines are skipped."""
    return [json.loads(line) for line in bundle.decode().split("\n") if line.strip()]


def verify_corrupted(folder: Path, corrupted: bytes) -> int:
    """Run the verifier on ``corrupted`` trusting ``KEY``: it never crashes, and answers 0, 1 or 2 (returned)."""
    key_path = folder / "k.pem"
    key_path.write_bytes(public_pem(KEY))
    path = folder / "fuzz.jsonl"
    path.write_bytes(corrupted)
    code, output = run_verifier(path, "--public-key", key_path)
    assert code in (0, 1, 2), output
    assert "Traceback" not in output, output
    assert "CANNOT VERIFY: unexpected" not in output, output
    return code


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_corruption_never_crashes_and_never_changes_what_is_accepted(tmp_path: Path, data: st.DataObject):
    header, lines = make_bundle(6, (3, 6))
    original = (json.dumps(header) + "\n" + "".join(json.dumps(line) + "\n" for line in lines)).encode()
    corrupted = corrupt(original, data)
    code = verify_corrupted(tmp_path, corrupted)
    if code == 0:
        # Accepted only if every signed fact is unchanged: the same entries and checkpoints.
        back_header, *back = accepted_lines(corrupted)
        signed = ("tree_size", "root_hash", "timestamp", "key_fingerprint", "signature")
        assert [{k: c[k] for k in signed} for c in back_header["checkpoints"]] == [
            {k: c[k] for k in signed} for c in header["checkpoints"]
        ]
        assert [line["entry"] for line in back] == [x["entry"] for x in lines]


def test_the_verifier_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(VERIFIER_PATH.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports are not allowed"
            roots.add((node.module or "").split(".")[0])
    outside = roots - set(sys.stdlib_module_names) - {"cryptography"}
    assert outside == set(), outside


def test_the_verifier_runs_as_a_plain_script_away_from_the_project(tmp_path: Path, key_file: Path):
    bundle = write_bundle(tmp_path / "b.jsonl", *make_bundle())
    copy = tmp_path / "verify_bundle.py"
    copy.write_bytes(VERIFIER_PATH.read_bytes())
    result = subprocess.run(
        [sys.executable, "-I", str(copy), str(bundle), "--public-key", str(key_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("VERIFIED")
