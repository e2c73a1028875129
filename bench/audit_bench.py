"""Audit-log benchmark (``make bench``): verification throughput and proof cost on SQLite.

Builds a log of ``--entries`` entries (default 200,000, so that ``make bench`` stays short; ``--entries 1000000``
for the full scale) in a temporary SQLite file with bulk inserts that compute the real canonical form, chain hash,
leaf hash and stored subtrees (the same bytes ``append`` would write), signs a checkpoint, then measures in the same
run:

* the floor: reading the same rows with the bare driver and computing one SHA-256 over each row's values;
* the floor through SQLAlchemy (same query and column types the verifier uses) plus one SHA-256 per row;
* full verification (``app.audit.verify``: canonical form, chain, leaf, tree, stored subtrees, checkpoint), which
  streams the rows through the bare driver and hashes each in one pass (target: at least half the floor's speed);
* inclusion-proof time at 10 thousand and at ``--entries`` entries (separate logs of each size, a proof of each in
  turn), with the ratio expected from log2(n) alone.

It is not part of ``make test``: numbers depend on the machine; ratios measured in one run are what matter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from app.audit import merkle, tree, verify
from app.audit.canonical import CANONICAL_FIELDS, GENESIS_HASH, canonical_json, chain_hash
from app.audit.verification import ENTRY_COLUMNS
from app.extensions import db
from app.models import AuditEntry
from app.services.audit_log import sign_checkpoint

COLUMNS = (*CANONICAL_FIELDS, "comment", "comment_salt", "prev_hash", "entry_hash", "leaf_hash")
ACTIONS = ("submit", "start_intake", "request_correction", "answer_correction", "assess_fee", "pay", "issue_licence")
ROLES = ("applicant", "intake_clerk", "reviewer", "inspector", "system")
BATCH = 20_000


def _entry(seq: int, start: datetime, rng: random.Random, distinct: bool = False) -> dict[str, Any]:
    """A plausible transition entry (references and digests only, like the real ones); with ``distinct``, details
    that no other entry has."""
    case = 1 + seq // 9
    action = ACTIONS[seq % len(ACTIONS)]
    return {
        "seq": seq,
        "at": (start + timedelta(seconds=seq * 3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "kind": "transition",
        "case_id": None,  # no cases table rows in the benchmark; the folio carries the reference
        "folio": f"VECS-2026-{case:06d}",
        "workflow": "vecs",
        "workflow_version": 1,
        "action": action,
        "from_state": "draft" if action == "submit" else "in_review",
        "to_state": "submitted" if action == "submit" else "in_review",
        "actor_id": None,
        "actor_role": ROLES[seq % len(ROLES)],
        "case_version": seq % 9 + 1,
        "comment_digest": None,
        "data_digest": hashlib.sha256(b"%d" % seq).hexdigest() if seq % 3 == 0 else None,
        "documents_digest": hashlib.sha256(b"d%d" % seq).hexdigest() if seq % 5 == 0 else None,
        "details": {"guard": "ok", "n": rng.randrange(1000), **({"entry": seq} if distinct else {})},
    }


def build_log(app: Flask, count: int, label: str, distinct: bool = False) -> float:
    """Append ``count`` entries with bulk inserts; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(count)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    path = str(app.config["SQLALCHEMY_DATABASE_URI"]).removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    entry_sql = f"INSERT INTO audit_entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    node_sql = "INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)"
    running = GENESIS_HASH
    growing = merkle.CompactRange()
    rows: list[tuple[Any, ...]] = []
    nodes: list[tuple[int, int, str]] = []
    for seq in range(1, count + 1):
        fields = _entry(seq, base, rng, distinct)
        canonical = canonical_json(fields)
        previous, running = running, chain_hash(running, canonical)
        leaf = merkle.leaf_hash(canonical)
        nodes += [(level, idx, value.hex()) for level, idx, value in growing.append(leaf)]
        stored = dict(fields)
        stored["at"] = fields["at"].replace("T", " ").removesuffix("Z")  # SQLAlchemy's SQLite DATETIME text
        stored["details"] = json.dumps(fields["details"])
        rows.append((*(stored[name] for name in CANONICAL_FIELDS), None, None, previous, running, leaf.hex()))
        if len(rows) >= BATCH:
            conn.executemany(entry_sql, rows)
            conn.executemany(node_sql, nodes)
            rows, nodes = [], []
            print(f"\r  {label}: {seq:,} entries", end="", file=sys.stderr, flush=True)
    conn.executemany(entry_sql, rows)
    conn.executemany(node_sql, nodes)
    conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (count, running))
    conn.commit()
    conn.close()
    print(f"\r  {label}: {count:,} entries", file=sys.stderr)
    return time.perf_counter() - started


def make_app(folder: Path, name: str) -> Flask:
    """An application on a fresh SQLite file under ``folder``, migrated, with a log key."""
    database = folder / f"{name}.sqlite3"
    app = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        DOCUMENTS_DIR=str(folder / "documents"),
        KEYS_DIR=str(folder / "keys"),
    )
    keys = folder / "keys"
    keys.mkdir(exist_ok=True)
    key_file = keys / "audit_log_ed25519.pem"
    if not key_file.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    with app.app_context():
        upgrade()
    return app


def floor_raw(app: Flask) -> float:
    """Seconds to read every entry with the bare driver and SHA-256 each row's values."""
    path = str(app.config["SQLALCHEMY_DATABASE_URI"]).removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    cursor = conn.execute(f"SELECT {', '.join(c.name for c in ENTRY_COLUMNS)} FROM audit_entries ORDER BY seq")
    sha = hashlib.sha256
    for row in cursor:
        sha(repr(row).encode()).digest()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def floor_sqlalchemy(app: Flask) -> float:
    """Seconds to read every entry through SQLAlchemy (the verifier's query and types) and SHA-256 each row."""
    with app.app_context():
        session = db.session()
        started = time.perf_counter()
        rows = session.connection().execute(
            select(*ENTRY_COLUMNS).order_by(AuditEntry.seq).execution_options(yield_per=2000)
        )
        sha = hashlib.sha256
        for row in rows:
            sha(repr(tuple(row)).encode()).digest()
        elapsed = time.perf_counter() - started
        session.rollback()
        return elapsed


def full_verification(app: Flask, key: ed25519.Ed25519PublicKey) -> tuple[float, int]:
    """Seconds for ``audit verify`` over the whole log, and how many entries it checked."""
    with app.app_context():
        started = time.perf_counter()
        result = verify(db.session(), trusted_keys=[key])
        elapsed = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"verification failed: {result.reason}")
        db.session.rollback()
        return elapsed, result.checked


def verification_passes(app: Flask, key: ed25519.Ed25519PublicKey, count: int) -> list[tuple[float, float, float, int]]:
    """``count`` passes over the log, each (floor, SQLAlchemy floor, verification seconds, entries checked).

    The three measures of a pass run back to back, and every other pass in the reverse order, so that a host
    whose speed drifts (a shared machine) slows or speeds the floor and the verification alike: each pass's own
    ratio is a measurement, and their spread says how far the host moved it."""
    measures = {
        "raw": lambda: (floor_raw(app), 0),
        "orm": lambda: (floor_sqlalchemy(app), 0),
        "verify": lambda: full_verification(app, key),
    }
    passes = []
    for number in range(count):
        names = list(measures) if number % 2 == 0 else list(reversed(measures))
        taken = {name: measures[name]() for name in names}  # run in the order of ``names``
        passes.append((taken["raw"][0], taken["orm"][0], *taken["verify"]))
    return passes


def proof_times(logs: list[tuple[Flask, int]], samples: int) -> list[list[float]]:
    """Seconds per inclusion proof (read O(log n) stored hashes, build the path) at random positions of each log
    ``(app, size)``, one proof of each log in turn, so a busy machine slows them alike; each proof is checked
    against its log's root."""
    opened = []
    for app, size in logs:
        with app.app_context():
            session = Session(db.engine)
        opened.append((session, size, tree.root_at(session, size), random.Random(size)))
    times: list[list[float]] = [[] for _ in logs]
    for _ in range(samples):
        for (session, size, root, rng), taken in zip(opened, times, strict=True):
            seq = rng.randint(1, size)
            started = time.perf_counter()
            path = tree.inclusion_path(session, seq, size)
            taken.append(time.perf_counter() - started)
            leaf = bytes.fromhex(session.scalar(select(AuditEntry.leaf_hash).where(AuditEntry.seq == seq)) or "")
            if not merkle.verify_inclusion(seq - 1, size, leaf, path, root):
                raise SystemExit(f"proof for entry {seq} does not verify")
    for session, *_ in opened:
        session.close()
    return times


def main() -> None:
    """Run the benchmark and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000, help="log size (1000000 for the full scale: minutes)")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="passes of the three measures (the best of each, and each pass's ratio)"
    )
    parser.add_argument(
        "--distinct-details",
        action="store_true",
        help="give every entry details of its own (by default they take 1,000 shapes, which the verifier remembers)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tramites-bench-") as tmp:
        folder = Path(tmp)
        print(f"building logs in {folder} (SQLite, WAL)…", file=sys.stderr)
        big, small = make_app(folder, "big"), make_app(folder, "small")
        build_seconds = build_log(big, args.entries, "large log", args.distinct_details)
        build_log(small, args.small, "small log")
        for app in (big, small):
            with app.app_context():
                sign_checkpoint(app.config)
        key_pem = (folder / "keys" / "audit_log_ed25519.pem").read_bytes()
        private = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        public = private.public_key()

        passes = verification_passes(big, public, max(args.repeat, 1))
        raw, orm, full = (min(p[i] for p in passes) for i in range(3))
        checked = passes[0][3]
        small_times, big_times = proof_times([(small, args.small), (big, args.entries)], args.proofs)

    n = args.entries
    median_small, median_big = statistics.median(small_times), statistics.median(big_times)
    p95 = lambda values: statistics.quantiles(values, n=20)[-1]  # noqa: E731
    print()
    shapes = "every entry's details its own" if args.distinct_details else "details in 1,000 shapes"
    print(f"Audit log benchmark, SQLite, {n:,} entries, {shapes} (built in {build_seconds:.1f} s with bulk inserts)")
    print()
    print("Full verification")
    print(f"  floor (driver read + SHA-256 per row)       {raw:8.2f} s   {n / raw:>12,.0f} entries/s")
    print(f"  SQLAlchemy read + SHA-256 per row           {orm:8.2f} s   {n / orm:>12,.0f} entries/s")
    print(f"  audit verify (streamed, everything)         {full:8.2f} s   {checked / full:>12,.0f} entries/s")
    print(f"  ratio verify / floor                        {full / raw:8.2f} x (target 2x: half the floor's speed)")
    ratios = sorted(p[2] / p[0] for p in passes)
    print(
        f"  ratio in each pass (verify / its floor)     {statistics.median(ratios):8.2f} x median, "
        f"{ratios[0]:.2f}–{ratios[-1]:.2f} x over {len(ratios)} passes"
    )
    print(f"  ratio verify / SQLAlchemy floor             {full / orm:8.2f} x")
    print()
    print(f"Inclusion proofs ({args.proofs} at random positions, each verified)")
    print(f"  {args.small:>9,} entries: median {median_small * 1e6:8.1f} µs   p95 {p95(small_times) * 1e6:8.1f} µs")
    print(f"  {n:>9,} entries: median {median_big * 1e6:8.1f} µs   p95 {p95(big_times) * 1e6:8.1f} µs")
    expected = (n - 1).bit_length() / (args.small - 1).bit_length()
    print(f"  ratio {n:,} / {args.small:,}: {median_big / median_small:.2f} x (log2 ratio {expected:.2f} x)")


if __name__ == "__main__":
    main()
