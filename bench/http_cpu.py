"""CPU per request of the HTTP benchmark's pages, in process (the test client): steadier than rates.

The data of ``bench/http_bench.py`` (the intake clerk, submitted VECS cases) in a throw-away SQLite file, or
with ``--postgres`` on a throw-away PostgreSQL server; each request is timed in process time (CPU of this
process: the application and the driver, no network and no server), after a warm-up. ``--profile`` prints a
cProfile of the timed requests of one kind instead.

``.venv/bin/python bench/http_cpu.py [--requests N] [--postgres [--reads-in-transactions]] [--queue-cases N]
[--profile case|queue|post] [--calls]``; ``--calls`` counts the function calls of each request instead of timing
it (a count does not depend on the machine's load, so two versions compare on a busy machine);
``--reads-in-transactions`` times the GET pages' requests in pairs, the application's reads outside transactions
against the same reads in one transaction, as they were sent before.
Not run by ``make bench``
(a measuring aid while working on the pages; the benchmark with a floor is ``bench/http_bench.py``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    """Prepare the data, then time (or profile) the case page, the queue and the POST of a transition."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed GET requests of each page")
    parser.add_argument("--posts", type=int, default=40, help="timed POST requests (one fresh case each)")
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--profile", choices=("case", "queue", "post"), help="profile these requests")
    parser.add_argument("--top", type=int, default=45, help="lines of the profile printed")
    parser.add_argument("--sort", default="cumulative", help="profile sort key")
    parser.add_argument("--dump", help="with --profile: also write the raw profile to this file")
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL server, not SQLite")
    parser.add_argument(
        "--calls", action="store_true", help="count Python and C function calls per request (the same at any load)"
    )
    parser.add_argument("--queue-cases", type=int, default=20, help="submitted cases in the clerk's queue")
    parser.add_argument(
        "--reads-in-transactions",
        action="store_true",
        help="with --postgres: the case page and the queue, each request sent twice in a row (in turn first), once "
        "as the application sends its reads (no transaction) and once with its connection made to begin one as "
        "before; wall and process time of each",
    )
    args = parser.parse_args()
    if args.reads_in_transactions and not args.postgres:
        parser.error("--reads-in-transactions needs --postgres")

    from bench.http_bench import throwaway_database

    if args.postgres:
        with throwaway_database("http_cpu") as (url, folder):
            return measure(args, url, folder, "PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="http-cpu-") as tmp:
        folder = Path(tmp)
        return measure(args, f"sqlite:///{folder / 'bench.sqlite3'}", folder, "SQLite")


def measure(args: argparse.Namespace, url: str, folder: Path, database: str) -> int:
    """Time (or profile) the requests on the database at ``url`` (documents and keys in ``folder``)."""
    from bench.engine_bench import counted_calls
    from bench.http_bench import action_form, app_environment, prepare

    app_environment(url, folder)
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
        posts = args.posts + args.warm_up
        prepared = prepare(app, args.queue_cases, posts)
    client, csrf, cases = prepared["client"], prepared["csrf"], prepared["cases"]
    show = cases[0][0]
    post_cases = iter(cases[args.queue_cases :])

    def get(path: str) -> None:
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {answer.status_code}")

    def post() -> None:
        case_id, version = next(post_cases)
        answer = client.post(f"/expedientes/{case_id}/acciones/start_intake", data=action_form(csrf, version))
        if answer.status_code != 302:
            raise SystemExit(f"POST on case {case_id}: HTTP {answer.status_code}")

    def read_flashes() -> None:
        # what the page the browser is sent to does: the POST's message leaves the session, which would
        # otherwise grow by one message per POST (and every later request with it); not timed
        with client.session_transaction() as session:
            session.pop("_flashes", None)

    kinds = {
        "case": (lambda: get(f"/expedientes/{show}"), args.requests),
        "queue": (lambda: get("/bandeja"), args.requests),
        "post": (post, args.posts),
    }

    def nothing() -> None:
        return None

    after: dict[str, Callable[[], None]] = {"case": nothing, "queue": nothing, "post": read_flashes}
    for name, (send, _) in kinds.items():
        for _ in range(args.warm_up):
            send()
            after[name]()
    if args.reads_in_transactions:
        return _reads_in_transactions(app, kinds, args.requests)
    if args.profile:
        send, count = kinds[args.profile]
        profiler = cProfile.Profile()
        for _ in range(count):
            profiler.enable()
            send()
            profiler.disable()
            after[args.profile]()
        if args.dump:
            profiler.dump_stats(args.dump)
        stats = pstats.Stats(profiler)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
        return 0
    if args.calls:
        print(f"function calls per request (median, in process, {database}):")
        for name, (send, count) in kinds.items():
            calls = []
            for _ in range(count):
                calls.append(counted_calls(send)[0])
                after[name]()
            print(f"  {name:6} {statistics.median(calls):8.0f} calls   ({count} requests)")
        return 0
    print(f"CPU per request (process time, in process, {database}):")
    for name, (send, count) in kinds.items():
        times: list[float] = []
        for _ in range(count):
            started = time.process_time()
            send()
            times.append(time.process_time() - started)
            after[name]()
        times.sort()
        print(
            f"  {name:6} mean {statistics.fmean(times) * 1000:6.2f} ms   "
            f"median {statistics.median(times) * 1000:6.2f} ms   "
            f"p10 {times[len(times) // 10] * 1000:6.2f} ms   ({count} requests)"
        )
    return 0


def _reads_in_transactions(app: Any, kinds: dict[str, tuple[Callable[[], None], int]], count: int) -> int:
    """The GET pages' requests in pairs, one with the application's reads each its own transaction and one with
    the connection in a transaction from its first statement (a pool listener turns the driver's autocommit off
    again as a connection is given out: ``BEGIN`` before the first read, ``COMMIT`` after the last, as before
    the application sent its reads outside transactions); which goes first alternates."""
    from sqlalchemy import event

    from app.extensions import db

    inside = {"on": False}

    def in_a_transaction(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if inside["on"] and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False

    with app.app_context():
        event.listen(db.engine, "checkout", in_a_transaction)
    print("GET requests, reads outside transactions (as sent) against in one transaction (as before), in pairs:")
    for name in ("case", "queue"):
        send = kinds[name][0]
        wall: dict[bool, list[float]] = {False: [], True: []}
        cpu: dict[bool, list[float]] = {False: [], True: []}
        for i in range(count):
            for transaction in (False, True) if i % 2 else (True, False):
                inside["on"] = transaction
                started, started_cpu = time.perf_counter(), time.process_time()
                send()
                wall[transaction].append(time.perf_counter() - started)
                cpu[transaction].append(time.process_time() - started_cpu)
        outside, before = statistics.median(wall[False]), statistics.median(wall[True])
        print(
            f"  {name:6} wall {outside * 1000:6.2f} ms against {before * 1000:6.2f} ms ({outside / before:.2f}x);   "
            f"process time {statistics.median(cpu[False]) * 1000:6.2f} ms against "
            f"{statistics.median(cpu[True]) * 1000:6.2f} ms   (medians of {count} pairs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
