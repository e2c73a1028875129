"""Engine benchmark (``make bench``): what ``fire()`` costs against its SQL floor, on SQLite and PostgreSQL.

For each database, in one run and interleaved (so that a busy machine slows both alike):

* ``fire()`` on three VECS steps of fresh cases (submit, start_intake, accept_intake: role checks, guards,
  requirements, versioned UPDATE, audit entry with its hashes and Merkle subtrees, timers, outbox), one
  transaction each;
* the floor: with the bare driver on the same database, one version-checked ``UPDATE`` of a case row and one
  ``INSERT`` of a SHA-256-chained row, then ``COMMIT``;
* the SQL statements each ``fire()`` sends (counted with an engine event listener);
* beside the wall time, the process time (CPU) and the wall time less it: the time spent waiting on the
  database (its own work, its disk, the network). That waiting alone, set against the floor's whole time, says
  how close to the floor ``fire()`` could come with no CPU of its own;
* ``fire()``'s own SQL: on as many more cases, after the timed fires, each ``fire()``'s statements recorded as
  the driver got them and sent again at once by the bare driver to a copy of the database taken before them
  (:class:`Replay`: the same rows, so the same work), timed beside the floor. Its ratio to the floor is what a
  transition reads and writes besides one row and one entry (its indexes, timers, Merkle subtrees, outbox, round
  trips); ``fire()``'s ratio over it is its own work, in Python.

SQLite is a file in WAL mode with ``synchronous=FULL`` (the product's settings). PostgreSQL is a throw-away
server started from the installed binaries with ``fsync`` and synchronous commit on, unless ``--pg-url`` names
one (its database must be empty: the migrations build the schema). Ratios measured in one run are what matter;
never a timed test (``tests/services/test_fire_speed.py`` keeps a quick, loose version in the suite).

Run with ``make bench`` or ``.venv/bin/python bench/engine_bench.py [--cases N] [--skip-postgres]``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STEPS = (("submit", "owner"), ("start_intake", "clerk"), ("accept_intake", "clerk"))
FLOOR_TABLE = "bench_floor_log"


@dataclass(frozen=True, slots=True)
class EngineFigures:
    """Medians of one database's run: ``fire()`` and its floor (seconds), and statements per ``fire()``."""

    database: str
    fire_seconds: float
    floor_seconds: float
    fires: int
    statements: tuple[int, ...]
    cpu_seconds: float = 0.0
    floor_cpu_seconds: float = 0.0
    log_written: tuple[int, ...] = ()
    floor_log_written: int = 0
    waiting_seconds: float = 0.0
    floor_waiting_seconds: float = 0.0
    own_sql_seconds: float = 0.0
    """The median of ``fire()``'s own statements sent again by the bare driver (:class:`Replay`), 0 when not run."""
    own_sql_floor_seconds: float = 0.0
    """The floor's median in the same pass, interleaved with the replays."""

    @property
    def ratio(self) -> float:
        """``fire()`` over its floor."""
        return self.fire_seconds / self.floor_seconds


@contextmanager
def counted_statements(engine: Any) -> Iterator[list[str]]:
    """Collect the statements (``BEGIN`` aside) sent through ``engine`` inside the block."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _emptied_log(engine: Any) -> bool:
    """Empty SQLite's write-ahead log (a checkpoint that truncates it); ``False`` when another connection was
    reading and it could not be emptied."""
    with engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        connection.commit()
    return not busy


def _wal_position(engine: Any) -> int:
    """PostgreSQL's WAL insert position, in bytes."""
    with engine.connect() as connection:
        position = connection.exec_driver_sql("SELECT pg_current_wal_insert_lsn() - '0/0'").scalar_one()
        connection.commit()
    return int(position)


def log_written(engine: Any, action: Callable[[], Any]) -> tuple[int, Any]:
    """What ``action`` wrote to the database's write-ahead log, with the action's result. On SQLite the pages:
    the log is emptied first, and each page a transaction changes (of a table and of each of its indexes) is a
    frame of it, the page and a 24-byte header (-1 when the log could not be emptied). On PostgreSQL the bytes
    between the WAL's insert positions before and after (anything else the server wrote meanwhile included)."""
    if engine.dialect.name != "sqlite":
        start = _wal_position(engine)
        result = action()
        return _wal_position(engine) - start, result
    emptied = _emptied_log(engine)
    result = action()
    if not emptied:
        return -1, result
    with engine.connect() as connection:
        page = int(connection.exec_driver_sql("PRAGMA page_size").scalar_one())
    wal = Path(f"{engine.url.database}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    return max(0, size - 32) // (page + 24), result  # the log's own header: 32 bytes


def counted_calls(action: Callable[[], Any]) -> tuple[float, Any]:
    """How many Python and C function calls ``action`` makes, and its result: a figure that does not depend on
    the machine's speed or load (the suite's bound on ``fire()``'s work, ``bench/http_cpu.py --calls``)."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        result = action()
    finally:
        sys.setprofile(None)
    return count, result


class Floor:
    """The SQL floor of a transition with the bare driver: a version-checked UPDATE, a hashed INSERT, COMMIT."""

    def __init__(self, engine: Any, case_ids: list[int]) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.raw = engine.raw_connection()
        self.connection = self.raw.driver_connection
        self.case_ids = case_ids
        self.versions: dict[int, int] = {}
        self.prev = "0" * 64
        self.seq = 0
        cursor = self.connection.cursor()
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (seq INTEGER PRIMARY KEY, body TEXT, hash TEXT)")
        cursor.execute(f"SELECT id, version FROM cases WHERE id IN ({', '.join(str(i) for i in case_ids)})")
        self.versions = {int(i): int(v) for i, v in cursor.fetchall()}
        cursor.execute(f"SELECT seq, hash FROM {FLOOR_TABLE} ORDER BY seq DESC LIMIT 1")  # the chain goes on
        for seq, digest in cursor.fetchall():
            self.seq, self.prev = int(seq), str(digest)
        self._commit(cursor)

    def _commit(self, cursor: Any) -> None:
        if self.sqlite:
            cursor.execute("COMMIT")
        else:
            self.connection.commit()

    def once(self) -> None:
        """One floor transaction on the next case (round robin)."""
        case_id = self.case_ids[self.seq % len(self.case_ids)]
        version = self.versions[case_id]
        self.seq += 1
        body = f'{{"case":{case_id},"seq":{self.seq},"version":{version + 1}}}'
        digest = hashlib.sha256((self.prev + body).encode()).hexdigest()
        m = self.mark
        cursor = self.connection.cursor()
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(
            f"UPDATE cases SET version = {m} WHERE id = {m} AND version = {m}", (version + 1, case_id, version)
        )
        if cursor.rowcount != 1:
            raise RuntimeError("floor UPDATE matched no row")
        cursor.execute(f"INSERT INTO {FLOOR_TABLE} (seq, body, hash) VALUES ({m}, {m}, {m})", (self.seq, body, digest))
        self._commit(cursor)
        self.versions[case_id] = version + 1
        self.prev = digest

    def close(self) -> None:
        """Return the connection to the pool."""
        self.raw.close()


class Sent(NamedTuple):
    """A statement as ``fire()`` gave it to the driver: its text, parameters, whether it ran once per parameter
    set, and the round trip it went in (0: alone; n: the nth batch of writes held for one round trip, which
    ``COMMIT`` may close)."""

    sql: str
    parameters: Any
    many: bool
    batch: int


@contextmanager
def recorded_statements(engine: Any) -> Iterator[list[Sent]]:
    """Collect what is sent through ``engine`` inside the block, ``BEGIN`` included, as the driver got it, and on
    PostgreSQL which writes went together in one round trip (:func:`app.database.send_deferred`, whose ``COMMIT``
    passes no cursor event and is recorded here)."""
    from sqlalchemy import event

    import app.database as database

    sent: list[Sent] = []
    batch = [0, 0]  # the batch being sent (0: none), the last one's number

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(Sent(statement, parameters, executemany, batch[0]))

    original = database.send_deferred

    def sending(connection: Any, *, commit: bool = False) -> None:
        kept = connection.info.get(database._DEFERRED)
        if not (kept and kept[1] and kept[0] is connection.get_transaction()):
            original(connection, commit=commit)  # nothing held: nothing sent
            return
        batch[1] += 1
        batch[0] = batch[1]
        try:
            original(connection, commit=commit)
            if commit:
                sent.append(Sent("COMMIT", None, False, batch[0]))
        finally:
            batch[0] = 0

    database.send_deferred = sending
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
        database.send_deferred = original


class Replay:
    """``fire()``'s own SQL without ``fire()``: the statements one ``fire()`` sent (:func:`recorded_statements`)
    sent again, as they were, by the bare driver to a copy of the database taken before them (the same rows, so
    the same statements do the same work: the same reads, rows, index entries and pages), then ``COMMIT``. On
    PostgreSQL the writes ``fire()`` held for one round trip go in one again (psycopg's pipeline), with the
    ``COMMIT`` where it went with them. What ``fire()`` costs beyond this is its own work, in Python; what this
    costs beyond the floor is what a transition writes and reads besides one row and one entry."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy.engine import make_url

        self.sqlite = engine.dialect.name == "sqlite"
        url = engine.url
        self.admin_url = self.copy_name = None
        if self.sqlite:
            import sqlite3

            from app.database import SQLITE_KEPT_STATEMENTS

            path = f"{url.database}.replay"
            source = sqlite3.connect(url.database)
            self.connection: Any = sqlite3.connect(path, cached_statements=SQLITE_KEPT_STATEMENTS)
            source.backup(self.connection)
            source.close()
            self.connection.isolation_level = None
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
                self.connection.execute(f"PRAGMA {pragma}")
            return
        import psycopg

        engine.dispose()  # a database is copied only while no one is connected to it
        self.copy_name = f"{url.database}_replay"
        libpq = make_url(url).set(drivername="postgresql")
        self.admin_url = libpq.set(database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.copy_name}" TEMPLATE "{url.database}"')
        self.connection = psycopg.connect(libpq.set(database=self.copy_name).render_as_string(hide_password=False))
        self.connection.autocommit = True
        self.connection.execute("SET jit = off")  # as the application's connections (app.database)
        self.connection.execute("SET max_parallel_workers_per_gather = 0")
        self.connection.autocommit = False

    def once(self, sent: list[Sent]) -> None:
        """Send one ``fire()``'s statements, reading every result as ``fire()`` did, and commit."""
        connection = self.connection
        cursor = connection.cursor()
        index = 0
        while index < len(sent):
            item = sent[index]
            if not item.batch:
                self._send(cursor, item, fetch=True)
                index += 1
                continue
            with connection.pipeline():  # its results are read when it ends
                while index < len(sent) and sent[index].batch == item.batch:
                    self._send(cursor, sent[index], fetch=False)
                    index += 1
        if self.sqlite:
            if connection.in_transaction:
                connection.commit()
        elif connection.info.transaction_status != 0:  # not idle: the COMMIT did not go with the writes
            connection.commit()
        cursor.close()

    @staticmethod
    def _send(cursor: Any, item: Sent, *, fetch: bool) -> None:
        if item.many:
            cursor.executemany(item.sql, item.parameters)
        elif item.parameters is None:
            cursor.execute(item.sql)
        else:
            cursor.execute(item.sql, item.parameters)
            if fetch and cursor.description is not None:
                cursor.fetchall()

    def close(self) -> None:
        """Close the copy (a PostgreSQL copy is dropped; a SQLite one goes with the run's folder)."""
        self.connection.close()
        if self.admin_url is not None:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{self.copy_name}"')


def prepare(cases: int) -> tuple[dict[str, int], list[tuple[int, int]], list[int]]:
    """Users, ``cases`` VECS drafts with every document (to fire on) and as many for the floor."""
    from argon2 import PasswordHasher

    import app.services.users as users_service
    from app.models import Role
    from app.services.cases import open_case
    from app.services.demo import demo_pdf
    from app.services.documents import attach_document
    from app.services.users import RoleGrant, create_user
    from workflows.construction import DEMO_DATA as VECS_DATA
    from workflows.construction import DEMO_DOCUMENTS as VECS_DOCUMENTS

    users_service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # set-up only
    people = {
        "owner": create_user("owner@bench.example", "Owner", "Bench-Password-2026", (RoleGrant(Role.APPLICANT),)),
        "clerk": create_user("clerk@bench.example", "Clerk", "Bench-Password-2026", (RoleGrant(Role.INTAKE_CLERK),)),
    }
    pdfs = {kind: demo_pdf(kind) for kind in VECS_DOCUMENTS}
    drafts: list[tuple[int, int]] = []
    for _ in range(cases):
        opened = open_case("vecs", people["owner"], VECS_DATA)
        version = opened.version
        for kind in VECS_DOCUMENTS:
            version = attach_document(opened.case_id, kind, f"{kind}.pdf", pdfs[kind], people["owner"]).case_version
        drafts.append((opened.case_id, version))
    floor_ids = [open_case("vecs", people["owner"], VECS_DATA).case_id for _ in range(max(4, cases // 4))]
    return people, drafts, floor_ids


def side_by_side(
    cases: int, gauge: Callable[[Callable[[], Any]], tuple[float, Any]], warm_up: int = 1
) -> tuple[list[float], list[float]]:
    """The quick form of the comparison, for the suite: ``cases`` drafts, the three :data:`STEPS` on each, every
    ``fire()`` beside one floor transaction, each read by ``gauge`` (runs an action, returns its figure and the
    action's result: its time, its function calls…). The first case's fires warm caches and lazy imports and
    are not kept. Returns (the fires' figures, the floor's). Runs inside an application context."""
    from app.extensions import db
    from app.services.cases import fire

    people, drafts, floor_ids = prepare(cases)
    db.session.remove()
    floor = Floor(db.engine, floor_ids)
    fires: list[float] = []
    floors: list[float] = []
    try:
        for _ in range(warm_up):
            floor.once()
        for n, (case_id, version) in enumerate(drafts):
            for trigger, who in STEPS:
                db.session.remove()
                floors.append(gauge(floor.once)[0])
                figure, result = gauge(
                    lambda: fire(case_id, trigger, people[who], expected_version=version)  # noqa: B023
                )
                version = result.version
                if n:
                    fires.append(figure)
    finally:
        floor.close()
        db.session.remove()
    return fires, floors


def measure(database: str, cases: int, profile: bool = False) -> EngineFigures:
    """Run the comparison inside the current application context (schema migrated, database empty), then
    :func:`own_sql` on as many more cases."""
    from app.extensions import db
    from app.services.cases import fire

    people, drafts, floor_ids = prepare(cases * 2)
    drafts, recorded = drafts[:cases], drafts[cases:]
    db.session.remove()
    if database == "postgresql":
        # what autovacuum does within a minute of the set-up's inserts: without statistics the planner takes
        # the timers' (status, due_at) index for a case's pending timers and the audit log's (kind, seq)
        # index for the head's entry, and walks every row of the other cases
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    floor = Floor(db.engine, floor_ids)
    for _ in range(5):
        floor.once()  # warm the driver and the file
    fire_times: list[float] = []
    floor_times: list[float] = []
    fire_cpu: list[float] = []
    floor_cpu: list[float] = []
    profiler = cProfile.Profile() if profile else None
    statements: list[int] = []
    log: list[int] = []
    floor_log = 0
    try:
        for n, (case_id, version) in enumerate(drafts):
            for trigger, who in STEPS:
                db.session.remove()
                cpu, start = time.process_time(), time.perf_counter()
                floor.once()
                floor_times.append(time.perf_counter() - start)
                floor_cpu.append(time.process_time() - cpu)
                if n == 0:  # count once (the listener's own cost stays out of the timings)

                    def counted(
                        case_id: int = case_id, trigger: str = trigger, who: str = who, version: int = version
                    ) -> Any:
                        with counted_statements(db.engine) as seen:
                            result = fire(case_id, trigger, people[who], expected_version=version)
                        statements.append(len(seen))
                        return result

                    written, result = log_written(db.engine, counted)
                    version = result.version
                    log.append(written)
                    floor_log = log_written(db.engine, floor.once)[0]
                    continue
                if profiler is not None:
                    profiler.enable()
                cpu, start = time.process_time(), time.perf_counter()
                version = fire(case_id, trigger, people[who], expected_version=version).version
                fire_times.append(time.perf_counter() - start)
                fire_cpu.append(time.process_time() - cpu)
                if profiler is not None:
                    profiler.disable()
    finally:
        floor.close()
        db.session.remove()
    if profiler is not None:
        print(f"profile of fire() on {database} ({len(fire_times)} fires, cumulative time):")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    own, own_floor = own_sql(people, recorded, floor_ids)
    return EngineFigures(
        database,
        statistics.median(fire_times),
        statistics.median(floor_times),
        len(fire_times),
        tuple(statements),
        statistics.median(fire_cpu),
        statistics.median(floor_cpu),
        tuple(log),
        floor_log,
        # wall time less process time, run by run: the database's work, its disk, the network
        statistics.median(wall - cpu for wall, cpu in zip(fire_times, fire_cpu, strict=True)),
        statistics.median(wall - cpu for wall, cpu in zip(floor_times, floor_cpu, strict=True)),
        own,
        own_floor,
    )


def own_sql(people: dict[str, int], drafts: list[tuple[int, int]], floor_ids: list[int]) -> tuple[float, float]:
    """``fire()``'s own SQL: the three :data:`STEPS` fired (untimed) on each of ``drafts``, the statements of each
    ``fire()`` recorded and sent again at once to a copy of the database (:class:`Replay`), timed, beside one floor
    transaction. The first case's are not kept (the copy's first statements are compiled then). Returns the
    medians (seconds) of the replays and of the floor."""
    from app.extensions import db
    from app.services.cases import fire

    db.session.remove()
    copy = Replay(db.engine)
    floor = Floor(db.engine, floor_ids)
    replays: list[float] = []
    floors: list[float] = []
    try:
        for n, (case_id, version) in enumerate(drafts):
            for trigger, who in STEPS:
                db.session.remove()
                with recorded_statements(db.engine) as sent:
                    version = fire(case_id, trigger, people[who], expected_version=version).version
                start = time.perf_counter()
                floor.once()
                floor_time = time.perf_counter() - start
                start = time.perf_counter()
                copy.once(sent)
                replay_time = time.perf_counter() - start
                if n:
                    floors.append(floor_time)
                    replays.append(replay_time)
    finally:
        floor.close()
        copy.close()
        db.session.remove()
    return statistics.median(replays), statistics.median(floors)


def run_on(url: str, folder: Path, database: str, cases: int, profile: bool = False) -> EngineFigures:
    """A fresh app on ``url``: migrate, then :func:`measure`."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=url,
        DOCUMENTS_DIR=str(folder / f"documents-{database}"),
        KEYS_DIR=str(folder / "keys"),
    )
    with app.app_context():
        upgrade()
        try:
            return measure(database, cases, profile)
        finally:
            from app.extensions import db

            db.engine.dispose()


def report(figures: list[EngineFigures], sqlite_target: float = 3.0, pg_target: float = 2.0) -> None:
    """Print each figure beside its floor, the ratio and the target."""
    print("engine benchmark: fire() on three VECS steps vs. bare-driver UPDATE + hashed INSERT + COMMIT (medians)")
    for f in figures:
        target = sqlite_target if f.database == "sqlite" else pg_target
        per_second = 1 / f.fire_seconds
        print(
            f"  {f.database:10} fire() {f.fire_seconds * 1000:7.2f} ms ({per_second:5.0f}/s)   "
            f"floor {f.floor_seconds * 1000:6.2f} ms   ratio {f.ratio:5.1f}x (target {target:.0f}x)   "
            f"statements per fire() {'/'.join(map(str, f.statements))} (+ COMMIT)   [{f.fires} fires]"
        )
        print(
            f"  {'':10} CPU per fire() {f.cpu_seconds * 1000:6.2f} ms   "
            f"floor CPU {f.floor_cpu_seconds * 1000:5.2f} ms   (process time: steadier than wall time)"
        )
        print(
            f"  {'':10} waiting per fire() {f.waiting_seconds * 1000:5.2f} ms   "
            f"floor {f.floor_waiting_seconds * 1000:5.2f} ms   (wall less CPU: the database's work, its disk, the "
            f"network); with no CPU of its own, fire() would be {f.waiting_seconds / f.floor_seconds:.1f}x the floor"
        )
        if f.own_sql_seconds:
            own_ratio = f.own_sql_seconds / f.own_sql_floor_seconds
            print(
                f"  {'':10} its own SQL, replayed {f.own_sql_seconds * 1000:5.2f} ms   floor "
                f"{f.own_sql_floor_seconds * 1000:5.2f} ms   ratio {own_ratio:4.1f}x   "
                f"(fire()'s statements sent again by the bare driver to a copy of the database: what a transition "
                f"writes and reads; fire() is about {f.ratio / own_ratio:.1f}x it)"
            )
        if f.log_written:
            unit, what = (
                ("pages", "each page a transaction changes, of a table or of an index")
                if f.database == "sqlite"
                else ("bytes", "a record for each row and index entry written")
            )
            print(
                f"  {'':10} written to the log per fire() {'/'.join(map(str, f.log_written))} {unit}   "
                f"floor {f.floor_log_written} {unit}   ({what})"
            )


def main() -> int:
    """Run on SQLite and PostgreSQL and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40, help="cases per database (three fires each)")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of a throw-away server")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the timed fires")
    args = parser.parse_args()
    figures: list[EngineFigures] = []
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        folder = Path(tmp)
        figures.append(run_on(f"sqlite:///{folder / 'bench.sqlite3'}", folder, "sqlite", args.cases, args.profile))
        if not args.skip_postgres:
            if args.pg_url:
                figures.append(run_on(args.pg_url, folder, "postgresql", args.cases, args.profile))
            else:
                from tests.support.postgres import PostgresServer

                server = PostgresServer(durable=True)
                server.start()
                try:
                    from sqlalchemy import create_engine, text

                    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
                    with admin.connect() as conn:
                        conn.execute(text("CREATE DATABASE engine_bench"))
                    admin.dispose()
                    figures.append(
                        run_on(server.url_for("engine_bench"), folder, "postgresql", args.cases, args.profile)
                    )
                finally:
                    server.stop()
    report(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
