"""Test harness: every database test runs on SQLite and on a real PostgreSQL server started here.

Each test gets a database in the state of a template that the migrations built once per backend (a file
copy on SQLite; on PostgreSQL a database an earlier test used, brought back to the template's state, or
else a new ``CREATE DATABASE … TEMPLATE``: see :class:`PgDatabases`), so services can commit for real,
threads can race, and nothing leaks between tests. ``TEST_DATABASES`` (default
``sqlite,postgresql``) selects the backends; in CI leaving PostgreSQL out, or PostgreSQL failing to
start, fails the run instead of skipping.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import itertools
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from flask import Flask, current_app
from flask.testing import FlaskClient
from psycopg import sql
from sqlalchemy import create_engine, text
from werkzeug.test import TestResponse

import app.services.seeds as seeds
import app.services.users as users_service
from app import create_app
from app.extensions import db
from app.services.auth import encrypt
from tests.support import clock
from tests.support.postgres import PostgresServer, free_port
from tests.support.smtp import Mailbox, SmtpServer
from workflows.base import seed_digest

ALL_DATABASES = ("sqlite", "postgresql")
DATABASES = tuple(d.strip() for d in os.environ.get("TEST_DATABASES", ",".join(ALL_DATABASES)).split(",") if d.strip())
_used: Counter[str] = Counter()
_clones: Counter[str] = Counter()
_counter = itertools.count(1)
CLOCK = clock.configured()
"""The instant every test starts at when ``TEST_CLOCK`` is set (see :mod:`tests.support.clock`)."""


GC_THRESHOLDS = (20_000, 20, 20)
"""The collector's thresholds in a test process (Python's default: 700, 10, 10). Each test builds an application,
its engine and its pages, and with the default thresholds the collector ran some seventy times a second over a
heap that grows through the run: a tenth of a sample of page and service tests' time (3.2 of 32 s), a third of that
with these (1.1 s)."""


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    unknown = set(DATABASES) - set(ALL_DATABASES)
    if unknown:
        raise pytest.UsageError(f"unknown TEST_DATABASES entries: {sorted(unknown)}")
    if os.environ.get("CI") and set(DATABASES) != set(ALL_DATABASES):
        raise pytest.UsageError("CI must run the suite on both SQLite and PostgreSQL")


def pytest_report_header() -> str:
    return f"clock: every test starts at {CLOCK.isoformat()} (TEST_CLOCK)" if CLOCK else "clock: real"


@pytest.fixture(autouse=True)
def _start_clock() -> Iterator[None]:
    """With ``TEST_CLOCK`` set, start each test at that instant; the clock runs on from there."""
    if CLOCK is None:
        yield
        return
    import time_machine

    with time_machine.travel(CLOCK, tick=True):
        yield


@pytest.fixture(autouse=True)
def reproducible_assignment_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment's assignment seeds are random (``app.services.seeds``). In the suite, the assignment scope's
    seed is one value per ``SECRET_KEY`` (the one the draws used before seeds were committed), so that a test that
    follows a case through its stages, or builds the same history twice, finds the same reviewers on every run.
    The committing, keeping and revealing are the deployment's; the seeds of the procedures' own draws stay random.
    """

    def new_seed(scope: str) -> tuple[str, str, str]:
        if scope != seeds.ASSIGNMENT_SCOPE:
            return seeds.fresh_seed()
        key = str(current_app.config["SECRET_KEY"]).encode()
        seed = hmac.new(key, b"assignment-seed", hashlib.sha256).hexdigest()
        return seed, seed_digest(seed), encrypt(seed)

    monkeypatch.setattr(seeds, "_new_seed", new_seed)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CLOCK:
        terminalreporter.write_line(f"clock: every test started at {CLOCK.isoformat()}")
    if _used:
        ran = ", ".join(f"{name}: {count} tests" for name, count in sorted(_used.items()))
        terminalreporter.write_line(f"databases exercised: {ran}")
        if _clones:
            kept = ", ".join(f"{count} {how}" for how, count in sorted(_clones.items()))
            terminalreporter.write_line(f"PostgreSQL test databases: {kept}")
    else:
        terminalreporter.write_line("databases exercised: none")


def migrate_to_head(url: str, instance: Path) -> None:
    """Build the schema at ``url`` by running the migrations (as production does)."""
    from flask_migrate import upgrade

    app = create_app("test", SQLALCHEMY_DATABASE_URI=url, DOCUMENTS_DIR=str(instance / "documents"))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed by argon2id at its lowest cost. At the production cost (64 MiB, three passes) a user's
    creation took about 0.3 s and each login 0.25 s on the test machine, in most tests that log someone in: that
    is the hashing's cost, not the behaviour under test. A test marked ``production_password_hashing`` keeps the
    production hasher (``tests/security/test_password_storage.py``)."""
    if request.node.get_closest_marker("production_password_hashing") is None:
        monkeypatch.setattr(users_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole run (fails the tests that need it if it cannot start)."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Name of a PostgreSQL database migrated to head, used as the template of every test database."""
    name = "tramites_template"
    admin = create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    migrate_to_head(pg_server.url_for(name), tmp_path_factory.mktemp("pg-template"))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head, copied for every test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    migrate_to_head(f"sqlite:///{path}", folder)
    for suffix in ("-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            raise RuntimeError("template database still has a WAL file; engine not disposed")
    return path


CATALOGS = (
    "pg_class",
    "pg_attribute",
    "pg_attrdef",
    "pg_constraint",
    "pg_index",
    "pg_trigger",
    "pg_proc",
    "pg_type",
    "pg_namespace",
    "pg_rewrite",
    "pg_policy",
    "pg_statistic",
    "pg_statistic_ext",
    "pg_sequence",
    "pg_depend",
    "pg_description",
    "pg_default_acl",
    "pg_event_trigger",
    "pg_extension",
    "pg_inherits",
    "pg_largeobject_metadata",
    "pg_db_role_setting",
)
"""The catalogs a test could change by DDL, grants, statistics or settings: a database whose catalogs changed is
not used again."""

_CATALOG_STATE = sql.SQL(" UNION ALL ").join(
    [
        sql.SQL("SELECT {}, count(*), coalesce(sum(xmin::text::bigint), 0) FROM {}").format(
            sql.Literal(catalog), sql.Identifier(catalog)
        )
        for catalog in CATALOGS
    ]
    + [
        # sizes and row counts the planner reads, which ANALYZE and VACUUM write in place (same row version)
        sql.SQL(
            "SELECT 'planner', count(*), sum(relpages)::bigint * 1000003 + sum(reltuples)::bigint * 101"
            " + sum(relallvisible)::bigint FROM pg_class"
        )
    ]
)
BLOAT_PAGES = 10
"""A table or index of more pages than this after a test is not used again. Below it the planner sees an empty
table (it assumes ten pages for a table never vacuumed nor analysed), so a test meets the plans it would meet in a
fresh database."""


@dataclass
class PgTemplate:
    """What a database cloned from the template holds: the rows of its seeded tables (as ``COPY`` text), its
    sequences' positions, its tables and the state of its catalogs."""

    name: str
    tables: list[str]
    rows: dict[str, bytes]
    sequences: list[tuple[str, int, int | None]]
    catalogs: list[tuple[str, int, int]]


def _catalog_state(raw: psycopg.Connection[Any]) -> list[tuple[str, int, int]]:
    return [(str(n), int(c), int(x)) for n, c, x in raw.execute(_CATALOG_STATE)]


class PgDatabases:
    """Creates and drops PostgreSQL databases on the test server, and keeps a test's database for the next one
    when it can be brought back to the template's state exactly.

    Creating a database from the template (``CREATE DATABASE … TEMPLATE``) was most of a PostgreSQL test's
    set-up. After a test, its database is kept if its catalogs are those of the template (no DDL, grant,
    statistics or setting changed) and no table or index grew past :data:`BLOAT_PAGES`; then every row is
    deleted, the template's rows copied back and the sequences set where the template had them. Otherwise it is
    dropped. Autovacuum is off on the test server, so nothing changes a kept database between two tests."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        self.kept: list[str] = []

    def create(self, template: str | None) -> tuple[str, str]:
        name = f"tramites_t{next(_counter)}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}{clause}"))
        return name, self.server.url_for(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def describe(self, template: str) -> PgTemplate:
        """The state of ``template`` that :meth:`give_back` restores."""
        with psycopg.connect(self._conninfo(template), autocommit=True) as raw:
            tables = [
                str(name)
                for (name,) in raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ]
            rows: dict[str, bytes] = {}
            for table in tables:
                data = bytearray()
                with raw.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))) as copy:
                    for block in copy:
                        data += block
                if data:
                    rows[table] = bytes(data)
            sequences = [
                (str(name), int(start), None if last is None else int(last))
                for name, start, last in raw.execute(
                    "SELECT format('%I.%I', schemaname, sequencename), start_value, last_value FROM pg_sequences"
                )
            ]
            catalogs = _catalog_state(raw)
        return PgTemplate(template, tables, rows, sequences, catalogs)

    def take(self, template: PgTemplate) -> tuple[str, str, bool]:
        """A database in the template's state: one kept from an earlier test, or a new clone (``True``)."""
        if self.kept:
            name = self.kept.pop()
            return name, self.server.url_for(name), False
        return *self.create(template.name), True

    def give_back(self, name: str, template: PgTemplate) -> bool:
        """Keep ``name`` for the next test if it can be brought back to the template's state (``True``); drop it
        otherwise, or when bringing it back fails (a test that dropped it, a connection that would not end)."""
        try:
            restored = self._restored(name, template)
        except psycopg.Error:
            restored = False
        if restored:
            self.kept.append(name)
        else:
            self.drop(name)
        return restored

    def _conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.server.port} user=postgres dbname={database}"

    def _restored(self, name: str, template: PgTemplate) -> bool:
        with psycopg.connect(self._conninfo(name), autocommit=True) as raw:
            # whatever the test left connected (another thread, a second application) ends first
            raw.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            grown = raw.execute(
                "SELECT count(*) FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i', 'S', 'm')"
                " AND (pg_relation_size(c.oid) > %(limit)s OR pg_relation_size(t.oid) > %(limit)s)",
                {"limit": BLOAT_PAGES * 8192},
            ).fetchone()
            if grown is None or grown[0]:
                return False
            if _catalog_state(raw) != template.catalogs:
                return False
            with raw.transaction():
                raw.execute("SET LOCAL session_replication_role = replica")  # the log's triggers, foreign keys
                for table in template.tables:
                    raw.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
                for table, data in template.rows.items():
                    with raw.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
                        copy.write(data)
                for sequence, start, last in template.sequences:
                    if last is None:
                        raw.execute("SELECT setval(%s, %s, false)", (sequence, start))
                    else:
                        raw.execute("SELECT setval(%s, %s, true)", (sequence, last))
        return True


@pytest.fixture(scope="session")
def pg_databases(pg_server: PostgresServer) -> Iterator[PgDatabases]:
    """Factory of PostgreSQL databases."""
    factory = PgDatabases(pg_server)
    yield factory
    factory.admin.dispose()


@pytest.fixture(scope="session")
def pg_described_template(pg_databases: PgDatabases, pg_template: str) -> PgTemplate:
    """What every test database must hold when its test starts."""
    return pg_databases.describe(pg_template)


@pytest.fixture(params=DATABASES)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run ('sqlite' or 'postgresql')."""
    request.node.user_properties.append(("database", request.param))
    return str(request.param)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # counted from the reports, so that the summary is right when worker processes run the tests
    if report.when == "setup":
        for name, value in report.user_properties:
            if name == "database":
                _used[str(value)] += 1
            if name == "pg_database":
                _clones[str(value)] += 1


@pytest.fixture
def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    factory: PgDatabases = request.getfixturevalue("pg_databases")
    name, url = factory.create(None)
    yield url
    factory.drop(name)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the migrations' head."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    factory: PgDatabases = request.getfixturevalue("pg_databases")
    state: PgTemplate = request.getfixturevalue("pg_described_template")
    name, url, new = factory.take(state)
    request.node.user_properties.append(("pg_database", "cloned from the template" if new else "used again"))
    yield url
    factory.give_back(name, state)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback for the whole run."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    """The SMTP server's received messages, emptied for each test."""
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


@pytest.fixture
def app(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Flask]:
    """The application on a fresh database, inside an application context, sending mail to the test server."""
    application = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        DOCUMENTS_DIR=str(tmp_path / "documents"),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        MAIL_SENDER="Trámites <no-responder@municipio.example>",
        PUBLIC_BASE_URL="https://tramites.municipio.example",
    )
    with application.app_context():
        yield application
        db.session.remove()
        if getattr(db.engine.pool, "checkedout", lambda: 0)():
            # A connection the test left unreturned is finalised now, while its database exists. Finalised by the
            # garbage collector later, after the database is dropped, its failed rollback logs a traceback, which
            # Python 3.11 formats with ``ast.parse``: inside another ``ast.parse`` (the next test's URL rules)
            # that makes the outer one raise "AST constructor recursion depth mismatch" (CPython gh-106905).
            gc.collect()
        db.engine.dispose()


@pytest.fixture
def other_app() -> Iterator[Callable[..., Flask]]:
    """``create_app`` for a test that needs a second application (another setting, another database): the
    connections its engines pooled are closed when the test ends, not left to the garbage collector (which
    finalises them whenever it runs, after their database may be gone)."""
    built: list[Flask] = []

    def build(*args: Any, **settings: Any) -> Flask:
        application = create_app(*args, **settings)
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client that runs each request in a new application context, as a real server does.

    The ``app`` fixture keeps one application context pushed for the whole test and Flask would reuse
    it for every request; Flask-Login and Flask-Babel keep the user and the language on ``g``, so they
    would leak from one request to the next whatever cookies are sent.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client with cookies, isolated per request like a browser talking to a real server."""
    app.test_client_class = IsolatedClient
    return app.test_client()
