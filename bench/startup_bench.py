"""Start-up benchmark (``make bench``): ``import wsgi`` against a Flask + psycopg floor, time and memory.

Each measure runs in a fresh interpreter (bytecode already cached, as in a deployment), alternating the
application and the floor so that a busy machine slows both alike:

* the application: ``import wsgi`` (which builds the app: configuration, extensions, blueprints, workflows);
* the floor: ``import flask, psycopg, sqlalchemy`` and ``Flask(__name__)``, what any app of this kind loads;
* the resident memory (``VmRSS``) of each process right after, and whether the PDF renderer (WeasyPrint) and
  the signer (pyHanko) were loaded: they are imported on first use, so that start-up does not pay for them.

Run with ``make bench`` or ``.venv/bin/python bench/startup_bench.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys, time
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
rss = 0
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
heavy = sorted(name for name in ("weasyprint", "pyhanko", "pypdf") if name in sys.modules)
print(json.dumps({{"seconds": elapsed, "rss": rss, "heavy": heavy}}))
"""
APP = "import wsgi"
FLOOR = "import flask, psycopg, sqlalchemy\napp = flask.Flask('floor')"


def probe(body: str, env: dict[str, str]) -> dict[str, object]:
    """Run ``body`` in a fresh interpreter; its import time, resident memory and heavy modules loaded."""
    done = subprocess.run(  # noqa: S603 - this interpreter, with the fixed probe above
        [sys.executable, "-c", PROBE.format(body=body)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Alternate the application and the floor ``--rounds`` times; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'startup.sqlite3'}",
            DOCUMENTS_DIR=str(Path(tmp) / "documents"),
            APP_ENV="development",
            PYTHONPATH=str(ROOT),
        )
        probe(APP, env)  # compile and cache the bytecode once
        probe(FLOOR, env)
        app_runs, floor_runs = [], []
        for _ in range(args.rounds):
            app_runs.append(probe(APP, env))
            floor_runs.append(probe(FLOOR, env))
    app_s = statistics.median(float(str(r["seconds"])) for r in app_runs)
    floor_s = statistics.median(float(str(r["seconds"])) for r in floor_runs)
    app_mb = statistics.median(int(str(r["rss"])) for r in app_runs) / 2**20
    floor_mb = statistics.median(int(str(r["rss"])) for r in floor_runs) / 2**20
    heavy = sorted({name for r in app_runs for name in r["heavy"]})  # type: ignore[attr-defined]
    print(f"start-up benchmark: fresh interpreters, bytecode cached, medians of {args.rounds} alternating rounds")
    print(f"  import wsgi       {app_s * 1000:8.0f} ms   resident {app_mb:6.1f} MB")
    print(f"  Flask + psycopg   {floor_s * 1000:8.0f} ms   resident {floor_mb:6.1f} MB")
    print(f"  ratio             {app_s / floor_s:8.1f}x           memory {app_mb / floor_mb:5.1f}x")
    loaded = (
        ", ".join(heavy) if heavy else "none (WeasyPrint, pyHanko on first use; pypdf in the PDF check's child process)"
    )
    print(f"  heavy modules loaded at start-up: {loaded}")
    return 1 if heavy else 0


if __name__ == "__main__":
    raise SystemExit(main())
