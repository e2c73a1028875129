"""The long reliability runs (``make soak``): several servers, a crash loop and database outages, minutes each.

Each run starts its own cluster (PostgreSQL, Redis, a real SMTP server, two gunicorn instances with two workers
each, two tick workers; see tests/reliability/cluster.py), loads it with people racing on the same cases through
the real forms (tests/reliability/load.py), and checks afterwards that nothing acknowledged was lost, nothing
was applied twice or half, each timer fired once, each message was sent once (or repeated with the same
Message-ID after a kill), no 5xx but the documented 503, and that the audit log verifies.

1. ``servers``: no faults, for ``--seconds``; mail must go out exactly once.
2. ``crash``: ``--kills`` SIGKILLs (at least 50) of app workers, whole app instances and tick workers at random
   moments.
3. ``outage``: PostgreSQL stopped ``--outages`` times for ``--outage-seconds`` and started again; the app
   processes must not be restarted.

The figures are printed and written to ``test-output/soak.json``; the last run's go into docs/reliability.md.
Exit status 1 when any check failed. The short version of the same runs is tests/reliability (``make test``).

Run with ``make soak`` or ``.venv/bin/python soak/run.py [--seconds 180] [--kills 60] [--outages 3] [--only crash]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.reliability.scenario import Plan, run  # noqa: E402 - after the path set-up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180, help="load time of each run")
    parser.add_argument("--applicants", type=int, default=8)
    parser.add_argument("--cases-per-applicant", type=int, default=8)
    parser.add_argument("--kills", type=int, default=60, help="SIGKILLs in the crash run (at least 50)")
    parser.add_argument("--outages", type=int, default=3)
    parser.add_argument("--outage-seconds", type=float, default=8)
    parser.add_argument("--only", choices=("servers", "crash", "outage"), action="append")
    parser.add_argument("--output", type=Path, default=ROOT / "test-output" / "soak.json")
    args = parser.parse_args()
    if args.kills < 50:
        parser.error("the crash run needs at least 50 kills")
    common = {"seconds": args.seconds, "applicants": args.applicants, "cases_per_applicant": args.cases_per_applicant}
    plans = {
        "servers": Plan(**common),
        "crash": Plan(**common, kills=args.kills),
        "outage": Plan(**common, outages=args.outages, outage_seconds=args.outage_seconds),
    }
    results: dict[str, object] = {
        "machine": f"{platform.node()}: {platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "command": " ".join(sys.argv),
        "runs": {},
    }
    failed = False
    for name, plan in plans.items():
        if args.only and name not in args.only:
            continue
        began = time.monotonic()
        print(f"== {name}: {plan}", flush=True)
        findings = run(plan, log=lambda line: print(f"   {line}", flush=True))
        figures = {**findings.figures, "wall_seconds": round(time.monotonic() - began), "problems": findings.problems}
        results["runs"][name] = figures  # type: ignore[index]
        for key, value in figures.items():
            print(f"   {key}: {value}", flush=True)
        if findings.problems:
            failed = True
            print(f"   FAILED: {len(findings.problems)} problems", flush=True)
        else:
            print("   OK: nothing acknowledged lost, nothing applied twice or half, the log verifies", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"figures written to {args.output}")
    return 1 if failed else 0


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
