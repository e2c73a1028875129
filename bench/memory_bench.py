"""Worker memory benchmark (``make bench``): a gunicorn worker's resident memory across many requests.

A throw-away PostgreSQL server and the application served by gunicorn with **one** worker (``--preload``, as
``make run``, but without ``--max-requests`` so that nothing hides a leak), loaded by a small keep-alive client
with a mix a reviewer's day gives:

* ``GET /expedientes/<id>`` (the case page) and ``GET /bandeja`` (the queue), alternating;
* every ``--every`` requests, ``POST /expedientes/<id>/acciones/approve_licence`` with the real form on a paid
  case: the worker renders the licence with WeasyPrint and seals it with pyHanko (the heavy renderers, loaded
  on first use).

The worker's ``VmRSS`` is read from ``/proc`` every ``--sample`` requests. Beside it, a bare gunicorn worker of
the same interpreter (a Flask app answering ``/ping``) gives the floor. Reported: the memory after the warm-up
(the first issuance loaded the renderers), at the end, its growth, and the growth per 1,000 requests after the
warm-up (target, issue 16: flat across 10,000 requests; ``make run`` recycles a worker after ``MAX_REQUESTS``
requests all the same). Run with ``make bench`` or ``.venv/bin/python bench/memory_bench.py [--requests N]``.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_bench import (  # noqa: E402
    PASSWORD,
    app_environment,
    csrf_of,
    fetch,
    free_port,
    gunicorn,
    login,
    session_cookie,
    throwaway_database,
)

FLOOR_APP = "bench.http_floor_app:app"


def rss_of(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def private_of(pid: int) -> int:
    """Memory of process ``pid`` that it shares with no other process, in bytes (``Private_Clean`` +
    ``Private_Dirty`` of ``/proc/<pid>/smaps_rollup``; 0 when it is gone): for a forked worker, what it does not
    share with the master, which is what each more worker costs."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return sum(int(line.split()[1]) * 1024 for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:")))


def worker_of(master: int) -> int:
    """The one worker of the gunicorn ``master`` (waits for it to be forked)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn forked no worker")


def prepare(app: Any, issuances: int) -> dict[str, Any]:
    """The reviewers, and ``issuances`` paid VECS cases waiting for their licence; the approver's session."""
    from argon2 import PasswordHasher

    import app.services.users as users_service
    from app.models import Role
    from app.services.users import RoleGrant, create_user, ensure_department
    from tests.support.factories import advance, pay, vecs_case

    users_service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # set-up only
    ensure_department("ventanilla", "Ventanilla")
    ensure_department("desarrollo_urbano", "Desarrollo Urbano")
    owner = create_user("owner@bench.example", "Owner", PASSWORD, (RoleGrant(Role.APPLICANT),))
    clerk = create_user("clerk@bench.example", "Clerk", PASSWORD, (RoleGrant(Role.INTAKE_CLERK, "ventanilla"),))
    ruler = create_user("ruler@bench.example", "Ruler", PASSWORD, (RoleGrant(Role.REVIEWER, "desarrollo_urbano"),))
    create_user("approver@bench.example", "Approver", PASSWORD, (RoleGrant(Role.REVIEWER, "desarrollo_urbano"),))
    treasurer = create_user("treasury@bench.example", "Treasury", PASSWORD, (RoleGrant(Role.TREASURY),))
    fees = [{"concept": "Licencia de construcción", "amount": "7569.00"}]
    cases: list[tuple[int, int]] = []
    for n in range(issuances + 1):
        case = advance(
            vecs_case(owner),
            [
                ("submit", owner, None, None),
                ("start_intake", clerk, None, None),
                ("accept_intake", clerk, None, None),
                ("rule_land_use", ruler, {"land_use_ruling": "Compatible con zonificación H3-C"}, None),
                ("assess_fees", ruler, {"fees": fees}, None),
            ],
        )
        case = pay(case, treasurer, operation=f"SPEI-BENCH-{n:05d}")
        cases.append((case.case_id, case.version))
        print(f"\r  paid cases: {n + 1}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    client = login(app, "approver@bench.example")
    csrf = csrf_of(client.get(f"/expedientes/{cases[0][0]}").get_data(as_text=True), "the case page")
    return {"cookie": session_cookie(app, client), "csrf": csrf, "cases": cases}


def approve_form(csrf: str, version: int, number: int) -> str:
    """The case page's approve_licence form, encoded."""
    return urlencode(
        {
            "approve_licence-csrf_token": csrf,
            "approve_licence-expected_version": str(version),
            "approve_licence-idempotency_key": uuid.uuid4().hex,
            "approve_licence-licence_number": f"LC-2026-{number:05d}",
        }
    )


def main() -> int:
    """Serve, load, sample and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="requests to the worker in all")
    parser.add_argument("--every", type=int, default=250, help="one licence issued every N requests")
    parser.add_argument("--sample", type=int, default=500, help="read the worker's memory every N requests")
    parser.add_argument("--warm-up", type=int, default=1_000, help="requests before the reference sample")
    args = parser.parse_args()

    with throwaway_database("memory_bench") as (url, folder):
        return measure(url, folder, args)


def measure(url: str, folder: Path, args: argparse.Namespace) -> int:
    """Prepare the cases, then load one worker and sample its memory."""
    env = app_environment(url, folder)
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    issuances = args.requests // args.every
    with app.app_context():
        upgrade()
        prepared = prepare(app, issuances)
        from app.extensions import db

        db.engine.dispose()
    cookie, csrf, cases = prepared["cookie"], prepared["csrf"], prepared["cases"]
    show = cases[-1][0]  # never approved: its page stays the same all along
    floor_env = {**env, "FLOOR_DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://")}
    floor_env["FLOOR_STATEMENTS"] = ""
    samples: list[tuple[int, int]] = []
    port = free_port()
    with gunicorn("wsgi:app", port, env, "/healthz", workers=1) as master:
        worker = worker_of(master.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started_rss, started_private = rss_of(worker), private_of(worker)
        issued = 0
        for index in range(1, args.requests + 1):
            if index % args.every == 0 and issued < issuances:
                case_id, version = cases[issued]
                body = approve_form(csrf, version, issued + 1)
                status = fetch(conn, "POST", f"/expedientes/{case_id}/acciones/approve_licence", cookie, body)
                issued += 1
            elif index % 2:
                status = fetch(conn, "GET", f"/expedientes/{show}", cookie)
            else:
                status = fetch(conn, "GET", "/bandeja", cookie)
            if status >= 400:
                raise SystemExit(f"request {index} failed: HTTP {status}")
            if index % args.sample == 0:
                samples.append((index, rss_of(worker)))
                print(f"\r  requests: {index}  rss {samples[-1][1] / 2**20:6.1f} MB", end="", file=sys.stderr)
        print(file=sys.stderr)
        final_private = private_of(worker)
        conn.close()
        if worker_of(master.pid) != worker:
            raise SystemExit("the worker was replaced during the run: the figures would mix two processes")
    with gunicorn(FLOOR_APP, free_port(), floor_env, "/ping", workers=1) as master:
        floor_rss = rss_of(worker_of(master.pid))
    reference = next((rss for index, rss in samples if index >= args.warm_up), samples[0][1])
    final = samples[-1][1]
    after = [(i, r) for i, r in samples if i >= args.warm_up]
    span = (after[-1][0] - after[0][0]) / 1000 if len(after) > 1 else 1
    mb = 2**20
    print(f"Worker memory: one gunicorn worker, PostgreSQL; {args.requests} requests, {issued} licences issued")
    print(f"  bare worker (Flask, /ping)          {floor_rss / mb:7.1f} MB")
    print(f"  worker at start                     {started_rss / mb:7.1f} MB")
    warm = f"after {args.warm_up:>6} requests (warm)"
    print(f"  {warm:35} {reference / mb:7.1f} MB   {reference / floor_rss:4.1f}x bare")
    last = f"after {args.requests:>6} requests"
    print(f"  {last:35} {final / mb:7.1f} MB   {final / floor_rss:4.1f}x bare")
    print(
        f"  growth after the warm-up            {(final - reference) / mb:+7.1f} MB "
        f"({(final - reference) / mb / span:+.2f} MB per 1,000 requests; {final / reference:4.2f}x; target flat)"
    )
    print(
        f"  not shared with the master          {started_private / mb:7.1f} MB at start, "
        f"{final_private / mb:.1f} MB at the end (of the resident memory above)"
    )
    print("  samples (requests: MB): " + ", ".join(f"{i}: {r / mb:.0f}" for i, r in samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
