"""Standalone verifier benchmark (``make bench``): a bundle in format 1 and in format 2, time and peak memory.

A checkpoint is signed every minute the log grows: a municipality's log, a few hundred entries a working day, has
about one checkpoint per entry. This builds such a log (real canonical entries, chain and leaf hashes, a signed
checkpoint after every ``--every`` entries) at two sizes, writes the same entries and checkpoints as a format 1
bundle (every checkpoint in the header) and as a format 2 bundle (each checkpoint after the entries it covers), and
runs ``verifier/verify_bundle.py`` on each in a fresh interpreter, alternating, beside a floor: a fresh interpreter
that imports ``cryptography`` and reads the same file, hashing each line with SHA-256. Each run's wall time and its
peak resident memory (``ru_maxrss`` of that process) are printed, with the ratios to the floor and, for memory, the
larger size's to the smaller's (format 2 should stay flat; format 1 grows with the checkpoints).

Run with ``make bench`` or ``.venv/bin/python bench/bundle_bench.py [--entries N] [--every K] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.audit import merkle  # noqa: E402
from app.audit.canonical import GENESIS_HASH, canonical_json, chain_hash  # noqa: E402
from app.audit.checkpoints import checkpoint_message, public_key_pem  # noqa: E402
from app.keys import public_fingerprint  # noqa: E402

FLOOR = """
import hashlib, sys
import cryptography.hazmat.primitives.asymmetric.ed25519
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        hashlib.sha256(line).digest()
"""
# Runs a script as __main__ and then prints its process's peak resident memory (VmHWM, which starts afresh with
# the new program: the rusage of a child counts the memory of the process it was forked from).
PEAK = """
import runpy, sys
script, sys.argv = sys.argv[1], sys.argv[1:]
code = 0
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(f"peak-kb {peak}", file=sys.stderr)
sys.exit(code)
"""


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def build(folder: Path, count: int, every: int, key: ed25519.Ed25519PrivateKey) -> tuple[Path, Path]:
    """Write the same log as a format 1 and a format 2 bundle in ``folder``; returns their paths."""
    fingerprint = public_fingerprint(key.public_key())
    running, growing = GENESIS_HASH, merkle.CompactRange()
    checkpoints: list[dict[str, Any]] = []
    entries_path, second_body = folder / f"entries-{count}.part", folder / f"second-{count}.part"
    with entries_path.open("w", encoding="utf-8") as entries, second_body.open("w", encoding="utf-8") as second:
        for seq in range(1, count + 1):
            entry = {
                "seq": seq,
                "at": f"2026-{1 + seq % 12:02d}-{1 + seq % 28:02d}T{seq % 24:02d}:{seq % 60:02d}:00.000000Z",
                "kind": "transition",
                "case_id": seq // 7 + 1,
                "folio": f"VECS-2026-{seq // 7 + 1:06d}",
                "workflow": "vecs",
                "workflow_version": 2,
                "action": "submit" if seq % 2 else "start_intake",
                "from_state": "draft",
                "to_state": "submitted",
                "actor_id": seq % 50 + 1,
                "actor_role": "applicant",
                "case_version": seq % 9 + 1,
                "comment_digest": None,
                "data_digest": None,
                "documents_digest": None,
                "details": {"n": seq % 1000},
            }
            canonical = canonical_json(entry)
            running = chain_hash(running, canonical)
            leaf = merkle.leaf_hash(canonical)
            growing.append(leaf)
            line = _line({"entry": entry, "leaf_hash": leaf.hex(), "chain_hash": running})
            entries.write(line)
            second.write(line)
            if seq % every == 0 or seq == count:
                stamp = f"2026-12-07T{seq % 24:02d}:{seq % 60:02d}:{seq % 60:02d}.000000Z"
                root = growing.root().hex()
                signature = key.sign(checkpoint_message(seq, root, stamp, fingerprint))
                checkpoint = {
                    "id": len(checkpoints) + 1,
                    "tree_size": seq,
                    "root_hash": root,
                    "timestamp": stamp,
                    "key_fingerprint": fingerprint,
                    "signature": base64.b64encode(signature).decode(),
                }
                checkpoints.append(checkpoint)
                second.write(_line({"checkpoint": checkpoint}))
    common = {
        "generated_at": "2026-12-07T12:00:00.000000Z",
        "tree_size": count,
        "checkpoint": checkpoints[-1],
        "public_keys": [{"fingerprint": fingerprint, "pem": public_key_pem(key.public_key())}],
        "log_size": count,
        "uncovered": 0,
    }
    paths = []
    for name, header, body in (
        ("one", {"format": "tramites-audit-bundle/1", **common, "checkpoints": checkpoints}, entries_path),
        ("two", {"format": "tramites-audit-bundle/2", **common}, second_body),
    ):
        path = folder / f"{name}-{count}.jsonl"
        with path.open("w", encoding="utf-8") as out, body.open(encoding="utf-8") as lines:
            out.write(_line(header))
            for line in lines:
                out.write(line)
        body.unlink()
        paths.append(path)
    return paths[0], paths[1]


def run(arguments: list[str]) -> tuple[float, int]:
    """Run a script (``arguments``: its path and arguments) in a fresh interpreter; its wall time (s) and peak
    resident memory (bytes)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - this interpreter, with fixed arguments
        [sys.executable, "-c", PEAK, *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{arguments[0]} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")
    peak = next(line for line in done.stderr.splitlines() if line.startswith("peak-kb "))
    return elapsed, int(peak.split()[1]) * 1024


def main() -> int:
    """Build the two sizes, alternate the two formats and the floor ``--rounds`` times; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries of the smaller log (the larger: 4x)")
    parser.add_argument("--every", type=int, default=1, help="a checkpoint after every K entries")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    key = ed25519.Ed25519PrivateKey.generate()
    verifier = str(ROOT / "verifier" / "verify_bundle.py")
    with tempfile.TemporaryDirectory(prefix="bundle-bench-") as tmp:
        folder = Path(tmp)
        pem = folder / "institution.pem"
        pem.write_text(public_key_pem(key.public_key()))
        floor_script = folder / "floor.py"
        floor_script.write_text(FLOOR)
        sizes = (args.entries, 4 * args.entries)
        results: dict[tuple[int, str], list[tuple[float, int]]] = {}
        for count in sizes:
            started = time.perf_counter()
            one, two = build(folder, count, args.every, key)
            took = time.perf_counter() - started
            print(
                f"built {count:,} entries, {count // args.every:,} checkpoints in {took:.1f} s: "
                f"format 1 {one.stat().st_size / 1e6:.1f} MB, format 2 {two.stat().st_size / 1e6:.1f} MB",
                flush=True,
            )
            for _ in range(args.rounds):
                for name, arguments in (
                    ("format 1", [verifier, str(one), "--public-key", str(pem)]),
                    ("format 2", [verifier, str(two), "--public-key", str(pem)]),
                    ("floor", [str(floor_script), str(two)]),
                ):
                    results.setdefault((count, name), []).append(run(arguments))
        print(f"\n{'entries':>9} {'what':<9} {'wall s':>8} {'x floor':>8} {'peak RSS MB':>12} {'x floor':>8}")
        medians: dict[tuple[int, str], tuple[float, float]] = {}
        for (count, name), runs in results.items():
            medians[count, name] = (statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs))
        for count, name in results:
            seconds, memory = medians[count, name]
            floor_seconds, floor_memory = medians[count, "floor"]
            print(
                f"{count:>9,} {name:<9} {seconds:>8.2f} {seconds / floor_seconds:>7.1f}x "
                f"{memory / 1e6:>12.1f} {memory / floor_memory:>7.2f}x"
            )
        small, large = sizes
        for name in ("format 1", "format 2"):
            grown = medians[large, name][1] / medians[small, name][1]
            print(f"peak memory, {large:,} against {small:,} entries, {name}: {grown:.2f}x")
        flat = medians[large, "format 2"][1] / medians[small, "format 2"][1]
        print(f"format 2 memory flat as the log grows (target: within 1.1x): {'met' if flat <= 1.1 else 'MISSED'}")
    return 0 if flat <= 1.1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
