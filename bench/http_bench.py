"""HTTP benchmark (``make bench``): pages and a transition under gunicorn against bare endpoints, PostgreSQL.

A throw-away PostgreSQL server (fsync and synchronous commit on), the application served by gunicorn with two
workers (``--preload``, as ``make run``), and beside it, also under gunicorn with two workers, a bench-only
Flask app (``bench/http_floor_app.py``) whose endpoints send through a bare psycopg connection the very
statements the real request sent (recorded here with an engine listener). A small threaded client with
keep-alive connections loads each, alternating real and bare rounds so a busy machine slows both alike:

* ``GET /expedientes/<id>``: the case page, as the intake clerk;
* ``GET /bandeja``: the clerk's queue (``--queue-cases`` cases in it);
* ``POST /expedientes/<id>/acciones/start_intake``: the real form (CSRF token, expected version, idempotency
  key), one fresh case per request; its floor replays the POST's reads, then a version-checked ``UPDATE``, a
  hashed ``INSERT`` and ``COMMIT``.

Targets (issue 16): within 2x the bare endpoint for the pages, 3x for the transition. Ratios in one run are
what matter. Beside the rates, the CPU the servers' worker processes used per request (from ``/proc``: user +
system time of the workers, and of any worker that exited, summed over the rounds): on a shared machine the
rates move with whatever else runs, the CPU each request costs much less.

Run with ``make bench`` or ``.venv/bin/python bench/http_bench.py [--requests N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-Password-2026"  # noqa: S105 - a throw-away benchmark user
USER_AGENT = "http-bench/1"
SECRET = "http-bench-secret-key-not-for-production"  # noqa: S105 - a throw-away benchmark database


@dataclass
class Load:
    """One load run: requests per second, latency percentiles (seconds) and the CPU seconds the server's
    workers used during it."""

    rate: float
    p50: float
    p90: float
    cpu: float = 0.0
    requests: int = 0


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def workers_cpu(master: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) used so far by the worker processes of the gunicorn ``master``: its living
    children's own times, and the times of the children it has reaped (a worker that was replaced)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # after the command's closing parenthesis: state, ppid, ..., utime (14th field), stime, cutime, cstime
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == master.pid:
            total += int(fields[11]) + int(fields[12])
        elif int(entry.name) == master.pid:
            total += int(fields[13]) + int(fields[14])
    return total / _TICKS


def measured(master: subprocess.Popen[bytes], run: Callable[[], Load]) -> Load:
    """``run()``, with the CPU the workers of ``master`` used meanwhile."""
    before = workers_cpu(master)
    load = run()
    load.cpu = workers_cpu(master) - before
    return load


def free_port() -> int:
    """A free TCP port on loopback."""
    from tests.support.postgres import free_port as pick

    return pick()


def run_load(port: int, request: Callable[[http.client.HTTPConnection, int], int], total: int, threads: int) -> Load:
    """Send ``total`` requests from ``threads`` threads (keep-alive connections); every answer must be 2xx/3xx."""
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            started = time.perf_counter()
            status = request(conn, index)
            elapsed = time.perf_counter() - started
            if status >= 400:
                failures.append(f"request {index}: HTTP {status}")
            with lock:
                latencies.append(elapsed)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"the benchmark's requests failed: {failures[:3]}")
    latencies.sort()
    return Load(total / wall, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.9)], requests=total)


def fetch(conn: http.client.HTTPConnection, method: str, path: str, cookie: str, body: str | None = None) -> int:
    """One request on a kept-alive connection; the body is read (and dropped). A GET must answer 200 and a
    POST must redirect to the case page (a redirect to the login page, for one, counts as a failure: 599)."""
    headers = {"Cookie": cookie, "User-Agent": USER_AGENT}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if method == "GET":
        return response.status if response.status == 200 else 599
    location = response.getheader("Location") or ""
    return response.status if response.status == 302 and "/expedientes/" in location else 599


@contextmanager
def gunicorn(
    spec: str, port: int, env: dict[str, str], ready: str, workers: int = 2, extra: Sequence[str] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """Serve ``spec`` with gunicorn (``workers`` workers, preloaded; ``extra`` options) until the block ends;
    the block receives the master process."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--preload", *extra]
    command += ["--bind", f"127.0.0.1:{port}", spec]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", ready)
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"gunicorn {spec} did not start: {error[-2000:]}")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def csrf_of(page: str, where: str) -> str:
    """The CSRF token of the first form of ``page`` (``where`` names the page in the error)."""
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    if token is None:
        raise SystemExit(f"no CSRF token on {where}")
    return token.group(1)


def login(app: Any, email: str, password: str = PASSWORD) -> Any:
    """Log ``email`` in through the login form with a test client (a new application context per request, as
    a server gives)."""
    from flask.testing import FlaskClient

    class IsolatedClient(FlaskClient):
        """A new application context per request, as a server gives (Flask-WTF keeps the token on ``g``)."""

        def open(self, *args: Any, **kwargs: Any) -> Any:
            with self.application.app_context():
                return super().open(*args, **kwargs)

    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT  # sessions are bound to the browser that logged in
    token = csrf_of(client.get("/login").get_data(as_text=True), "the login page")
    answer = client.post("/login", data={"csrf_token": token, "email": email, "password": password, "next": ""})
    if answer.status_code != 302:
        raise SystemExit(f"login of {email} failed: HTTP {answer.status_code}")
    return client


def session_cookie(app: Any, client: Any) -> str:
    """The ``Cookie`` header value of ``client``'s session (read it after the page whose CSRF token is used:
    the token is kept in the session)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    if cookie is None:
        raise SystemExit("no session cookie after login")
    return f"{name}={cookie.value}"


@contextmanager
def throwaway_database(name: str) -> Iterator[tuple[str, Path]]:
    """A durable throw-away PostgreSQL server with database ``name`` and a temporary folder for the
    documents and keys, for the block; its URL and the folder."""
    from sqlalchemy import create_engine, text

    from tests.support.postgres import PostgresServer

    server = PostgresServer(durable=True)
    server.start()
    try:
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
            yield server.url_for(name), Path(tmp)
    finally:
        server.stop()


def app_environment(url: str, folder: Path) -> dict[str, str]:
    """The environment the application (here and in gunicorn) runs with: ``url``, keys and documents in
    ``folder``; also set in this process."""
    env = dict(os.environ)
    env.update(
        APP_ENV="development",
        DATABASE_URL=url,
        SECRET_KEY=SECRET,
        DOCUMENTS_DIR=str(folder / "documents"),
        KEYS_DIR=str(folder / "keys"),
        PYTHONPATH=str(ROOT),
    )
    os.environ.update(env)
    return env


def prepare(app: Any, queue_cases: int, post_cases: int) -> dict[str, Any]:
    """Users and cases: ``queue_cases + post_cases`` submitted VECS cases (the clerk's queue, and one per
    POST), and the clerk's logged-in session cookie with a CSRF token."""
    from argon2 import PasswordHasher

    import app.services.users as users_service
    from app.models import Role
    from app.services.cases import fire, open_case
    from app.services.demo import demo_pdf
    from app.services.documents import attach_document
    from app.services.users import RoleGrant, create_user
    from workflows.construction import DEMO_DATA, DEMO_DOCUMENTS

    users_service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # set-up only
    owner = create_user("owner@bench.example", "Owner", PASSWORD, (RoleGrant(Role.APPLICANT),))
    create_user("clerk@bench.example", "Clerk", PASSWORD, (RoleGrant(Role.INTAKE_CLERK),))
    pdfs = {kind: demo_pdf(kind) for kind in DEMO_DOCUMENTS}
    cases: list[tuple[int, int]] = []
    for n in range(queue_cases + post_cases):
        opened = open_case("vecs", owner, DEMO_DATA)
        version = opened.version
        for kind in DEMO_DOCUMENTS:
            version = attach_document(opened.case_id, kind, f"{kind}.pdf", pdfs[kind], owner).case_version
        cases.append((opened.case_id, fire(opened.case_id, "submit", owner, expected_version=version).version))
        print(f"\r  cases: {n + 1}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    client = login(app, "clerk@bench.example")
    token = csrf_of(client.get(f"/expedientes/{cases[0][0]}").get_data(as_text=True), "the case page")
    return {"client": client, "cookie": session_cookie(app, client), "csrf": token, "cases": cases}


def action_form(csrf: str, version: int) -> dict[str, str]:
    """The fields of the case page's start_intake form (each action's form carries its trigger as prefix)."""
    return {
        "start_intake-csrf_token": csrf,
        "start_intake-expected_version": str(version),
        "start_intake-idempotency_key": uuid.uuid4().hex,
    }


def record(app: Any, client: Any, case_id: int, post_case: tuple[int, int], csrf: str) -> dict[str, Any]:
    """The statements (and parameters) of one real case page, queue page and POST, for the bare endpoints."""
    from sqlalchemy import event

    from app.extensions import db

    recorded: dict[str, Any] = {}

    def capture(name: str, send: Callable[[], Any]) -> Any:
        seen: list[tuple[str, Any]] = []

        def listener(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = send()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        recorded[name] = seen
        return response

    page = capture("case", lambda: client.get(f"/expedientes/{case_id}"))
    recorded["case_bytes"] = len(page.get_data())
    queue = capture("queue", lambda: client.get("/bandeja"))
    recorded["queue_bytes"] = len(queue.get_data())
    form = action_form(csrf, post_case[1])
    answer = capture("post", lambda: client.post(f"/expedientes/{post_case[0]}/acciones/start_intake", data=form))
    if answer.status_code != 302:
        body = answer.get_data(as_text=True)
        raise SystemExit(f"the recorded POST failed: HTTP {answer.status_code} {body[body.find('<main') :][:1500]}")
    recorded["post_reads"] = [(s, p) for s, p in recorded["post"] if s.lstrip().upper().startswith("SELECT")]
    recorded["post_statements"] = len(recorded["post"])
    return recorded


def main() -> int:
    """Run the comparison and print each figure beside its floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="GET requests per round and endpoint")
    parser.add_argument("--posts", type=int, default=20, help="POST requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--queue-cases", type=int, default=20)
    args = parser.parse_args()

    with throwaway_database("http_bench") as (url, folder):
        return measure(url, folder, args)


def measure(url: str, folder: Path, args: argparse.Namespace) -> int:
    """Prepare the data, record the statements, serve both apps and load them alternately."""
    env = app_environment(url, folder)
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
        from sqlalchemy import text

        from app.extensions import db

        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_floor_log (seq serial PRIMARY KEY, hash text NOT NULL)"))
        posts = args.posts * args.rounds
        prepared = prepare(app, args.queue_cases, posts + 1)
        cases = prepared["cases"]
        show_case = cases[0][0]
        recorded = record(app, prepared["client"], show_case, cases[-1], prepared["csrf"])
        db.engine.dispose()
    post_cases = cases[args.queue_cases : args.queue_cases + posts]
    statements_file = folder / "statements.pickle"
    statements_file.write_bytes(pickle.dumps(recorded))
    floor_env = {**env, "FLOOR_DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://")}
    floor_env["FLOOR_STATEMENTS"] = str(statements_file)
    cookie, csrf = prepared["cookie"], prepared["csrf"]
    real_port, floor_port = free_port(), free_port()
    results: dict[str, list[tuple[Load, Load]]] = {"case": [], "queue": [], "post": []}

    def getter(path: str) -> Callable[[http.client.HTTPConnection, int], int]:
        def send(conn: http.client.HTTPConnection, _index: int) -> int:
            return fetch(conn, "GET", path, cookie)

        return send

    with (
        gunicorn("wsgi:app", real_port, env, "/healthz") as real_server,
        gunicorn("bench.http_floor_app:app", floor_port, floor_env, "/ping") as floor_server,
    ):
        for path_real, path_floor, name in (
            (f"/expedientes/{show_case}", "/case", "case"),
            ("/bandeja", "/queue", "queue"),
        ):
            send_real, send_floor = getter(path_real), getter(path_floor)
            run_load(real_port, send_real, 20, args.threads)  # warm-up
            run_load(floor_port, send_floor, 20, args.threads)
            for _ in range(args.rounds):
                real = measured(real_server, partial(run_load, real_port, send_real, args.requests, args.threads))
                bare = measured(floor_server, partial(run_load, floor_port, send_floor, args.requests, args.threads))
                results[name].append((real, bare))
        for round_number in range(args.rounds):
            batch = post_cases[round_number * args.posts : (round_number + 1) * args.posts]

            def post_real(conn: http.client.HTTPConnection, index: int, batch: list[tuple[int, int]] = batch) -> int:
                case_id, version = batch[index]
                body = urlencode(action_form(csrf, version))
                return fetch(conn, "POST", f"/expedientes/{case_id}/acciones/start_intake", cookie, body)

            def post_floor(conn: http.client.HTTPConnection, index: int, batch: list[tuple[int, int]] = batch) -> int:
                return fetch(conn, "POST", f"/transition/{batch[index][0]}", cookie, "csrf_token=x")

            real = measured(real_server, partial(run_load, real_port, post_real, len(batch), args.threads))
            bare = measured(floor_server, partial(run_load, floor_port, post_floor, len(batch), args.threads))
            results["post"].append((real, bare))
    targets = {"case": 2.0, "queue": 2.0, "post": 3.0}
    labels = {"case": "GET case page", "queue": "GET reviewer queue", "post": "POST a transition"}
    print(
        f"HTTP benchmark: gunicorn, 2 workers each, PostgreSQL; {args.threads} client threads, keep-alive; "
        f"medians of {args.rounds} alternating rounds"
    )
    for name, pairs in results.items():
        real_rate = statistics.median(r.rate for r, _ in pairs)
        bare_rate = statistics.median(b.rate for _, b in pairs)
        real_p50 = statistics.median(r.p50 for r, _ in pairs)
        bare_p50 = statistics.median(b.p50 for _, b in pairs)
        ratio = bare_rate / real_rate
        print(
            f"  {labels[name]:20} {real_rate:7.1f} req/s (p50 {real_p50 * 1000:6.1f} ms)   bare {bare_rate:7.1f} req/s "
            f"(p50 {bare_p50 * 1000:6.1f} ms)   ratio {ratio:4.1f}x (target {targets[name]:.0f}x)"
        )
        real_cpu = sum(r.cpu for r, _ in pairs) / sum(r.requests for r, _ in pairs)
        bare_cpu = sum(b.cpu for _, b in pairs) / sum(b.requests for _, b in pairs)
        print(
            f"  {'':20} server CPU per request {real_cpu * 1000:6.2f} ms   bare {bare_cpu * 1000:6.2f} ms   "
            f"ratio {real_cpu / bare_cpu if bare_cpu else float('inf'):4.1f}x   (workers' user + system time)"
        )
    print(
        f"  statements recorded: case page {len(recorded['case'])}, queue {len(recorded['queue'])}, "
        f"POST {recorded['post_statements']} ({len(recorded['post_reads'])} reads replayed by its floor)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
