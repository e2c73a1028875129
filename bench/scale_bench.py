"""Scale benchmark (``make bench``): pages and ``fire()`` on a small and a large PostgreSQL database (or, with
``--sqlite``, two SQLite files: the embedded default).

A data generator streams cases and audit entries into a throw-away PostgreSQL server with ``COPY`` (or into the
SQLite files with ``INSERT``; rows are produced and sent a batch at a time; nothing holds the whole data set):
real canonical forms, chain hashes, Merkle leaves and stored subtrees, so the log verifies and ``fire()`` appends
to it as in production. History grows, the workload does not: both sizes hold the same number of open cases
(``--open``), the rest are closed or, one in three, licensed works resting in that state with their fees paid
(works never reported finished), each case with its share of the log and its timers (``FINISHED_TIMERS_PER_CASE``
cancelled or fired; an open case also the pending ones of the state it waits in). Before the generator runs, the
demo's departments, logins and cases of every procedure are made through the services (the same in both sizes); the
other procedures' history is copied from the demo's rows: a concluded access request for every
``REQUESTS_PER_CASES`` VECS cases (with its request row, its areas' turns and its stopped clocks), a committee
session for every ``ITEMS_PER_SESSION`` of them with their resolved items, one publication of each format a
quarter for more past quarters in the larger size (each quarter with its revealed seeds, the guarantor's sampling
draw, and each year with its declared non-working days), a licence for each licensed work and an answered
data-protection request for every ``CITIZENS_PER_ARCO`` citizens. The log is checkpointed every
``CHECKPOINT_EVERY`` entries (real roots, signed with the log's key).

Both sizes are built first; then every figure is timed on the small and the large database alternately, run by
run, in the same process against the same server (medians of ``--repeat`` runs), so both sides of a ratio see the
same moments of a shared machine. The log's entries are spread at ``DAILY_ENTRIES`` a day: a larger log covers
more days, each as busy as the small log's. Measured:

* the oversight area's page (``search_entries``): unfiltered, by folio, by actor, by one day, of an actor and of a
  kind with few entries (the demo's reviewer, the demo's documents);
* the intake clerk's queue; the assignment's open-case count for ten reviewers;
* a citizen's notices and the committee's members, among a citizen for every three cases (each an applicant, with
  two notices of each of their cases, one of them kept back, failed, for one case in ``KEPT_BACK_EVERY``: the
  administrators' mail page lists the newest failed messages; each registered, logged in after a mistyped
  password and logged out: the security log and the sessions grow with them, and the administrators read the
  log's newest entries, of every kind or of one);
* the home panels' counts (cases, users, log entries) and the departments page (grants and cases per department);
* the timer worker's due timers and the calendar's recomputation of the pending terms, among every case's
  finished timers;
* every page: each GET route without parameters in its URL, and the page of an open case, as a user of each role,
  as the demo's staff with departments and transparency roles (``DEMO_STAFF``) and anonymously, through the
  test client, in passes over every page (a stall of the machine slows one run of a page, not all); the auditor's
  oversight pages of one case, one entry, one day and the middle of the log; an
  access request's, a publication's and a committee session's pages as their staff; the public pages of a
  request's status and tracking, a year of obligations, a format's open data (whole and of one year), a year of
  draws' seeds and of samplings, a licence's verification and a case's status; the guarantor's samplings and the
  administrator's calendar of one year (the largest ratios are printed, ``--show`` of them, and every page whose
  statements differ in number between the sizes);
* ``fire()`` (start_intake) on open cases.

Each figure is printed for both sizes with the ratio large / small (target: within 2x). The default sizes
keep ``make bench`` short (small: 1,000 cases / 10,000 entries; large: 10,000 / 100,000); ``--full`` builds
1,000,000 cases and 10,000,000 entries (tens of minutes; several GB of disk).

With ``--generic-plans`` (PostgreSQL) every statement is prepared at its first run and planned without its values,
as a long-running server's connections come to (psycopg prepares what a connection runs often, and PostgreSQL
then keeps a plan made from averages): a page whose plan reads more for some values than for others shows it.

Run with ``make bench`` or ``.venv/bin/python bench/scale_bench.py [--cases N --entries N | --full] [--generic-plans]``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BATCH = 20_000
CASES_PER_CITIZEN = 3
NOTICES_PER_CASE = 2
USER_COLUMNS = ("id", "email", "display_name", "password_hash", "locale", "active", "created_at", "email_confirmed_at")
OUTBOX_COLUMNS = (
    "topic",
    "dedup_key",
    "recipient_id",
    "case_id",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "sent_at",
    "last_error",
)
KEPT_BACK_EVERY = 8
"""One case in this many has a notice kept back (failed: its citizen never confirmed the address): the failed
messages grow with the citizens, and the administrators' mail page shows the newest hundred (the smaller
database holds more than that)."""
KEPT_BACK = "not sent: nobody confirmed the address yet"
FINISHED_TIMERS_PER_CASE = 6
"""Timers each generated case started in the states it went through and that were cancelled or fired since (a
move cancels the timers of the state left): the timers table grows with the history, most of it finished. An
open case also has the pending timers of the state it waits in, as the demo's submitted case has them."""
SECURITY_COLUMNS = ("occurred_at", "kind", "user_id", "ip", "path", "details")
SESSION_COLUMNS = ("token_hash", "user_id", "created_at", "last_seen_at", "user_agent", "revoked_at", "revoked_reason")
TIMER_COLUMNS = (
    "case_id",
    "kind",
    "state",
    "trigger",
    "rule",
    "notified_on",
    "term_days",
    "business",
    "remind_before",
    "party",
    "starts_on",
    "due_on",
    "due_at",
    "status",
    "created_seq",
    "created_at",
    "finished_at",
)
REQUESTS_PER_CASES = 4
"""One concluded access request for every so many VECS cases (copied from the demo's answered request)."""
ITEMS_PER_SESSION = 2
"""Resolved items of each committee session (the history's sessions: one for every so many requests)."""
MAX_QUARTERS = 100
"""Past quarters of publications in the largest database (fewer in a smaller one: see ``_quarters``)."""
CITIZENS_PER_ARCO = 20
"""One answered data-protection (ARCO) request for every so many citizens."""
CHECKPOINT_EVERY = 100
"""Entries between two signed checkpoints of the generated log (the schedule signs one a minute while it grows)."""
CHECKPOINT_COLUMNS = ("tree_size", "root_hash", "created_at", "key_fingerprint", "public_key", "signature")
ACTIONS = ("assign", "remind", "note_received", "inspection_scheduled", "fees_reviewed")
START = datetime(2024, 1, 1, tzinfo=UTC)
DAILY_ENTRIES = 150
"""Entries per day in both sizes: a log grows by adding days, so "one day" selects as many entries in the large
log as in the small one (a date filter costs what that day holds: its index is read for the day's entries)."""
PAGES_PASSWORD = "Bench-Password-2026"  # noqa: S105 - throw-away users (bench.http_bench's login uses it)


def _sqlite_value(value: Any) -> Any:
    """A value as the application stores it in SQLite: an instant as naive UTC text, as ``UTCDateTime`` writes."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class _Writer:
    """The generator's connection: ``COPY`` on PostgreSQL (the append-only triggers off for the bulk load, as a
    restore would), ``executemany`` in one transaction on SQLite (whose triggers only refuse updates, deletes and
    replaced rows, none of which the generator writes). Statements use ``%s`` placeholders on both."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            import sqlite3

            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level="DEFERRED")
            self.cursor: Any = self.conn.cursor()
        else:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
            self.cursor = self.conn.cursor()
            self.cursor.execute("SET session_replication_role = replica")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.cursor.execute(sql.replace("%s", "?") if self.sqlite else sql, params)

    def continue_ids(self, table: str, last: int) -> None:
        """Make ``table``'s next key follow ``last`` (PostgreSQL's sequence; SQLite's keys continue from the
        largest stored by themselves)."""
        if not self.sqlite:
            self.cursor.execute("SELECT setval(%s, %s)", (f"{table}_id_seq", last))

    def copy(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            self.cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [tuple(_sqlite_value(value) for value in row) for row in rows],
            )
            return
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        """Commit; on PostgreSQL, the triggers back on and the planner's statistics gathered. SQLite is given no
        statistics, as in production (nothing runs ``ANALYZE``)."""
        if not self.sqlite:
            self.cursor.execute("SET session_replication_role = DEFAULT")
        self.conn.commit()
        if not self.sqlite:
            self.conn.autocommit = True
            self.cursor.execute("VACUUM ANALYZE")

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()  # uncommitted work (a failed run) is dropped


def _notice(key: str, recipient: int, case_id: int, at: datetime, *, kept_back: bool = False) -> tuple[Any, ...]:
    """An outbox row (:data:`OUTBOX_COLUMNS`) of a case's notice: sent at ``at``, or kept back (failed, never
    tried: its citizen never confirmed the address)."""
    if kept_back:
        return ("case_transition", key, recipient, case_id, "{}", "failed", 0, at, at, None, KEPT_BACK)
    return ("case_transition", key, recipient, case_id, "{}", "sent", 1, at, at, at, None)


def _timer_rows(templates: list[dict[str, Any]], case_id: int, opened: datetime, *, pending: bool) -> list[Any]:
    """Rows (:data:`TIMER_COLUMNS`) of ``case_id``'s timers copied from the demo's: pending, as started when the
    case entered its state at ``opened``, or finished (cancelled or fired, alternately) a day after each began."""
    rows: list[tuple[Any, ...]] = []
    for n, timer in enumerate(templates):
        start = opened + timedelta(days=n)
        due = start + timedelta(days=int(timer["term_days"]))
        status = "pending" if pending else ("cancelled", "fired")[n % 2]
        finished = None if pending else start + timedelta(days=1)
        rows.append(
            (
                case_id,
                timer["kind"],
                timer["state"],
                timer["trigger"],
                timer["rule"],
                start.date(),
                timer["term_days"],
                timer["business"],
                timer["remind_before"],
                timer["party"],
                start.date(),
                due.date(),
                due,
                status,
                timer["created_seq"],
                start,
                finished,
            )
        )
    return rows


def vecs_folio(case_id: int) -> str:
    """A generated VECS case's folio (of 2025, seven digits: never one the application hands out in the run)."""
    return f"VECS-2025-{case_id:07d}"


def _requests(cases: int) -> int:
    """Concluded access requests in the history of a database of ``cases`` VECS cases."""
    return cases // REQUESTS_PER_CASES


def _quarters(cases: int) -> int:
    """Past quarters of published obligations: a larger database has more of them, each as full."""
    return min(MAX_QUARTERS, max(4, cases // 1000))


def _template(writer: _Writer, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows the demo wrote through the services, as dictionaries of plain values (JSON as text), to copy."""
    cursor = writer.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [
        {n: json.dumps(v) if isinstance(v, dict | list) else v for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def _copy_rows(writer: _Writer, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = tuple(rows[0])
        writer.copy(table, columns, [tuple(row[c] for c in columns) for row in rows])


def _demo_user(writer: _Writer, handle: str) -> int:
    """The id of the demo's login ``handle``."""
    from app.services.demo import DEMO_DOMAIN

    return int(writer.execute("SELECT id FROM users WHERE email = %s", (f"{handle}@{DEMO_DOMAIN}",)).fetchone()[0])


def _history(
    writer: _Writer, last_case: int, cases: int, citizens: int, first_citizen: int
) -> tuple[int, dict[str, int]]:
    """The closed history of the other procedures, copied from what the demo wrote through the services: concluded
    access requests (each with its request row, its areas' turns and its clocks, stopped), the committee's sessions
    and resolved items, the past quarters' publications of obligations (published or verified: one of each
    format of the settings a quarter; each quarter with its seeds and sampling draw, each year with its declared
    non-working days), and answered data-protection requests. Returns the last case id and the
    folios taken by prefix."""
    request_case, *_ = _template(
        writer, "SELECT * FROM cases WHERE workflow = 'access_request' AND state = 'answered' ORDER BY id LIMIT 1"
    )
    request_row, *_ = _template(writer, "SELECT * FROM access_requests WHERE case_id = %s", (request_case["id"],))
    turns = _template(writer, "SELECT * FROM area_turns WHERE case_id = %s", (request_case["id"],))
    clocks = _template(writer, "SELECT * FROM case_clocks WHERE case_id = %s", (request_case["id"],))
    publication_case, *_ = _template(
        writer, "SELECT * FROM cases WHERE workflow = 'obligation_publication' ORDER BY id LIMIT 1"
    )
    period, *_ = _template(
        writer, "SELECT * FROM obligation_publications WHERE case_id = %s", (publication_case["id"],)
    )
    codes = [fmt["code"] for fmt in json.loads(publication_case["params"])["formats"]]
    publication_seed, *_ = _template(writer, "SELECT * FROM publication_seeds ORDER BY id LIMIT 1")
    draw_seeds = list({row["scope"]: row for row in _template(writer, "SELECT * FROM draw_seeds ORDER BY id")}.values())
    guarantor = _demo_user(writer, "garante")
    member = _demo_user(writer, "comite")
    next_session = int(writer.execute("SELECT coalesce(max(id), 0) FROM committee_sessions").fetchone()[0]) + 1
    batch: dict[str, list[dict[str, Any]]] = {}

    def add(table: str, row: dict[str, Any]) -> None:
        batch.setdefault(table, []).append(row)
        if len(batch[table]) >= BATCH:
            _copy_rows(writer, table, batch.pop(table))

    case_id = last_case
    for n in range(1, _requests(cases) + 1):
        case_id += 1
        filed = START + timedelta(minutes=n)
        citizen = first_citizen + n % citizens
        add(
            "cases",
            {
                **request_case,
                "id": case_id,
                "folio": f"SAI-2025-{n:07d}",
                "state": "concluded",
                "resting": True,
                "department_code": None,
                "assignee_id": None,
                "applicant_id": citizen,
                "created_at": filed,
                "updated_at": filed,
                "closed_at": filed + timedelta(days=20),
            },
        )
        token = hashlib.sha256(f"scale-token-{n}".encode()).hexdigest()
        add(
            "access_requests",
            {
                **request_row,
                "case_id": case_id,
                "requester_id": citizen,
                "token_sha256": token,
                "received_on": filed.date(),
                "created_at": filed,
            },
        )
        for turn in turns:
            add("area_turns", {**{k: v for k, v in turn.items() if k != "id"}, "case_id": case_id, "turned_at": filed})
        for clock in clocks:
            add(
                "case_clocks",
                {
                    **{k: v for k, v in clock.items() if k != "id"},
                    "case_id": case_id,
                    "status": "stopped",
                    "segment_notified_on": None,
                    "lapsed_on": None,
                    "started_on": filed.date(),
                    "updated_at": filed,
                },
            )
        if n % ITEMS_PER_SESSION == 0:  # a session for every few requests, its items the last of them
            number = next_session + n // ITEMS_PER_SESSION - 1
            held = filed + timedelta(days=10)
            add(
                "committee_sessions",
                {
                    "id": number,
                    "number": f"CT-2025-{number:07d}",
                    "held_on": held.date(),
                    "created_by_id": member,
                    "created_at": held,
                },
            )
            for item in range(ITEMS_PER_SESSION):
                add(
                    "committee_items",
                    {
                        "session_id": number,
                        "case_id": case_id - item,
                        "matter": "classification",
                        "decision": "confirm",
                        "resolution_text": "Se confirma la clasificación.",
                        "decided_by_id": member,
                        "decided_at": held,
                        "audit_seq": None,
                    },
                )
    publications = _quarters(cases) * len(codes)
    for n in range(publications):
        case_id += 1
        back = n // len(codes)  # quarters before the last of 2025
        year, quarter = 2025 - back // 4, 4 - back % 4
        due = datetime(year, 3 * quarter, 28, tzinfo=UTC) + timedelta(days=30)
        verified = n % 2 == 0
        add(
            "cases",
            {
                **publication_case,
                "id": case_id,
                "folio": f"OT-2025-{n + 1:07d}",
                "state": "closed" if verified else "published",
                "resting": True,  # closed, or published waiting for the sampling draw (the system's step)
                "assignee_id": None,
                "department_code": None,
                "created_at": due,
                "updated_at": due,
                "closed_at": due + timedelta(days=60) if verified else None,
            },
        )
        add(
            "obligation_publications",
            {
                **{k: v for k, v in period.items() if k != "id"},
                "case_id": case_id,
                "format_code": codes[n % len(codes)],
                "year": year,
                "quarter": quarter,
                "due_on": due.date(),
                "created_at": due,
            },
        )
        if n % len(codes) == 0:  # the quarter's seeds (revealed) and its sampling draw
            _past_quarter(add, publication_seed, draw_seeds, guarantor, year, quarter, due)
    admin = _demo_user(writer, "admin")
    for n in range(citizens // CITIZENS_PER_ARCO):  # the data-protection requests answered over the years
        received = START + timedelta(days=n % 700)
        add(
            "personal_data_requests",
            {
                "user_id": first_citizen + n * CITIZENS_PER_ARCO,
                "kind": "access",
                "status": "resolved",
                "received_on": received.date(),
                "due_on": (received + timedelta(days=30)).date(),
                "registered_by_id": admin,
                "registered_at": received,
                "resolved_by_id": admin,
                "resolved_at": received + timedelta(days=10),
            },
        )
    for table, rows in batch.items():
        _copy_rows(writer, table, rows)
    writer.continue_ids("committee_sessions", next_session + _requests(cases) // ITEMS_PER_SESSION)
    return case_id, {"SAI": _requests(cases), "OT": publications}


PAID = {
    "payment_reference": "00000000000000000097",
    "payment_amount": "8420.00",
    "payment_paid_on": "2025-01-15",
    "payment_operation": "SPEI-2025-SCALE",
}
"""The payment a generated licensed work recorded (the treasury's list of pending orders must not read it)."""

NON_WORKING_DAYS = ((2, 5, "Día de la Constitución"), (3, 19, "Natalicio de Benito Juárez"), (11, 2, "Día de Muertos"))
"""The days each past year of the generated history declares non-working (the calendar's rows, a few a year)."""


def _past_quarter(
    add: Callable[[str, dict[str, Any]], None],
    publication_seed: dict[str, Any],
    draw_seeds: list[dict[str, Any]],
    guarantor: int,
    year: int,
    quarter: int,
    due: datetime,
) -> None:
    """A past quarter's draws, copied from the demo's commitments: the guarantor's sampling seed (revealed) and
    its draw, each of the case draws' seeds (revealed), and, with the year's first quarter, the year's declared
    non-working days. The entries they name are the demo's (the log's rows are the generator's own)."""
    revealed = hashlib.sha256(f"seed-{year}-{quarter}".encode()).hexdigest()
    add(
        "publication_seeds",
        {
            **{k: v for k, v in publication_seed.items() if k != "id"},
            "year": year,
            "quarter": quarter,
            "digest": hashlib.sha256(revealed.encode()).hexdigest(),
            "revealed_seed": revealed,
            "reveal_seq": publication_seed["commit_seq"],
            "revealed_at": due,
            "committed_at": due - timedelta(days=120),
        },
    )
    add(
        "publication_samples",
        {
            "year": year,
            "quarter": quarter,
            "round": 0,
            "missing": 0,
            "late": 0,
            "rate": "0.2",
            "population": 10,
            "selected": 2,
            "audit_seq": publication_seed["commit_seq"],
            "drawn_by_id": guarantor,
            "drawn_at": due + timedelta(days=5),
        },
    )
    for seed in draw_seeds:
        add(
            "draw_seeds",
            {
                **{k: v for k, v in seed.items() if k != "id"},
                "period": f"{year}-T{quarter}",
                "revealed_seed": revealed,
                "reveal_seq": seed["commit_seq"],
                "revealed_at": due,
            },
        )
    if quarter == 1:
        for month, day, description in NON_WORKING_DAYS:
            add(
                "non_working_days",
                {
                    "day": date(year, month, day),
                    "description": description,
                    "gazette_reference": f"Gaceta Municipal {year}",
                    "created_at": datetime(year - 1, 12, 15, tzinfo=UTC),
                },
            )


def _certificates(writer: _Writer, base: int, cases: int, open_cases: int, first_seq: int, per_case: int) -> None:
    """A licence for every third closed VECS case (the licensed works), copied from the demo's licence (its
    number, folio, code, case and audit entry the case's own)."""
    template, *_ = _template(
        writer, "SELECT * FROM certificates WHERE folio LIKE 'VECS-%%' AND status = 'valid' ORDER BY id LIMIT 1"
    )
    template.pop("id")
    rows: list[dict[str, Any]] = []
    for index in range(3, cases - open_cases + 1, 3):
        case_id = base + index
        rows.append(
            {
                **template,
                "case_id": case_id,
                "number": f"LIC-2025-{case_id:07d}",
                "folio": vecs_folio(case_id),
                "verification_code": hashlib.sha256(f"code-{case_id}".encode()).hexdigest()[:16].upper(),
                "issued_at": START + timedelta(minutes=case_id, days=25),
                "status": "valid",
                "audit_seq": first_seq + (index - 1) * per_case,
                "superseded_by_id": None,
            }
        )
        if len(rows) >= BATCH:
            _copy_rows(writer, "certificates", rows)
            rows = []
    _copy_rows(writer, "certificates", rows)


class _Signer:
    """Checkpoints of the generated log signed with the log's key, as ``permits tick`` signs them."""

    def __init__(self, key: Any) -> None:
        from app.audit.checkpoints import public_key_pem
        from app.keys import public_fingerprint

        self.key = key
        self.fingerprint = public_fingerprint(key.public_key())
        self.pem = public_key_pem(key.public_key())

    def checkpoint(self, size: int, root: bytes, at: datetime) -> tuple[Any, ...]:
        """The row of a checkpoint of the first ``size`` entries, whose tree has ``root``, signed at ``at``."""
        from app.audit.canonical import format_instant
        from app.audit.checkpoints import checkpoint_message

        message = checkpoint_message(size, root.hex(), format_instant(at), self.fingerprint)
        signature = base64.b64encode(self.key.sign(message)).decode("ascii")
        return (size, root.hex(), at, self.fingerprint, self.pem, signature)


def generate(url: str, cases: int, entries: int, open_cases: int, people: dict[str, Any]) -> float:
    """Stream ``cases`` cases and ``entries`` log entries into the database at ``url`` (PostgreSQL or a SQLite
    file); seconds taken."""
    from app.audit import merkle
    from app.audit.canonical import CANONICAL_FIELDS, GENESIS_HASH, canonical_json, chain_hash, format_instant

    started = time.perf_counter()
    reviewers: list[int] = people["reviewers"]
    data = json.dumps(people["data"])
    licensed = json.dumps({**people["data"], **PAID})  # a licensed work that paid its fees, resting for years
    with _Writer(url) as writer:
        licence_office = writer.execute(
            "SELECT department_code FROM cases WHERE workflow = 'vecs' AND state = 'licensed' LIMIT 1"
        ).fetchone()[0]
        case_columns = (
            "id, folio, workflow, workflow_version, state, version, applicant_id, assignee_id, data, params, "
            "created_at, updated_at, closed_at, department_code, resting"
        )
        # The citizens who filed the cases: one for every CASES_PER_CITIZEN cases, each an applicant (a grant
        # of that role) with NOTICES_PER_CASE notices of each case (one kept back for one case in KEPT_BACK_EVERY),
        # as the roles and the outbox grow in production.
        citizens = max(1, cases // CASES_PER_CITIZEN)
        first_citizen = int(writer.execute("SELECT max(id) FROM users").fetchone()[0]) + 1
        rows: list[tuple[Any, ...]] = []
        grants: list[tuple[Any, ...]] = []
        # Each registered and logged in after a mistyped password (the security log's entries: those of one kind,
        # which the administrators filter by, more than the page shows in either size) and logged out.
        events: list[tuple[Any, ...]] = []
        sessions: list[tuple[Any, ...]] = []
        for n in range(citizens):
            user_id = first_citizen + n
            at = START + timedelta(seconds=n)
            rows.append((user_id, f"c{n}@scale.example", f"Ciudadano {n}", "!", "es_MX", True, START, START))
            grants.append((user_id, "applicant"))
            events += [
                (at, "registration", user_id, "192.0.2.1", "/registro", "{}"),
                (at, "login_failed", user_id, "192.0.2.1", "/ingresar", '{"reason": "credentials"}'),
                (at, "login_succeeded", user_id, "192.0.2.1", "/ingresar", "{}"),
            ]
            token = hashlib.sha256(f"scale-session-{user_id}".encode()).hexdigest()
            sessions.append((token, user_id, at, at, "scale", at + timedelta(hours=1), "logout"))
            if len(rows) >= BATCH:
                writer.copy("users", USER_COLUMNS, rows)
                writer.copy("user_roles", ("user_id", "role"), grants)
                writer.copy("security_events", SECURITY_COLUMNS, events)
                writer.copy("user_sessions", SESSION_COLUMNS, sessions)
                rows, grants, events, sessions = [], [], [], []
        writer.copy("users", USER_COLUMNS, rows)
        writer.copy("user_roles", ("user_id", "role"), grants)
        writer.copy("security_events", SECURITY_COLUMNS, events)
        writer.copy("user_sessions", SESSION_COLUMNS, sessions)
        writer.continue_ids("users", first_citizen + citizens)
        rows = []
        notices: list[tuple[Any, ...]] = []
        timers: list[tuple[Any, ...]] = []
        # the pending timers and the running clock of the state the generated open cases wait in (the demo's
        # submitted case's), and the timers the history's finished ones copy
        # (and its definition's version: the timers and clocks copied name that version's terms and triggers)
        submitted, version = writer.execute(
            "SELECT id, workflow_version FROM cases WHERE workflow = 'vecs' AND state = 'submitted' ORDER BY id LIMIT 1"
        ).fetchone()
        waiting_timers = _template(
            writer, "SELECT * FROM timers WHERE case_id = %s AND status = 'pending' ORDER BY id", (submitted,)
        )
        waiting_clocks = [
            {name: value for name, value in clock.items() if name != "id"}
            for clock in _template(writer, "SELECT * FROM case_clocks WHERE case_id = %s ORDER BY id", (submitted,))
        ]
        clocks: list[dict[str, Any]] = []
        finished_timers = _template(
            writer,
            "SELECT timers.* FROM timers JOIN cases ON cases.id = timers.case_id WHERE cases.workflow = 'vecs' "
            "ORDER BY timers.id LIMIT %s",
            (FINISHED_TIMERS_PER_CASE,),
        )
        if not waiting_timers or len(finished_timers) < FINISHED_TIMERS_PER_CASE:
            raise RuntimeError("the demo's VECS cases have too few timers to copy")
        base = people["case_base"]  # the demo's cases come first
        for case_id in range(base + 1, base + cases + 1):
            opened = START + timedelta(minutes=case_id)
            is_open = case_id > base + cases - open_cases
            assignee = reviewers[case_id % len(reviewers)] if (not is_open or case_id % 2) else None
            citizen = first_citizen + case_id % citizens
            notices += [
                _notice(
                    f"scale:{case_id}:{k}", citizen, case_id, opened, kept_back=not (k or case_id % KEPT_BACK_EVERY)
                )
                for k in range(NOTICES_PER_CASE)
            ]
            rests = not is_open and (case_id - base) % 3 == 0  # licensed, the works never reported finished
            timers += _timer_rows(finished_timers, case_id, opened, pending=False)
            if is_open:
                timers += _timer_rows(waiting_timers, case_id, opened, pending=True)
                clocks += [{**clock, "case_id": case_id} for clock in waiting_clocks]
            rows.append(
                (
                    case_id,
                    vecs_folio(case_id),
                    "vecs",
                    version,
                    "submitted" if is_open else "licensed" if rests else "closed",
                    2,
                    citizen,
                    assignee,
                    licensed if rests else data,
                    "{}",
                    opened,
                    opened,
                    None if is_open or rests else opened + timedelta(days=30),
                    licence_office if rests else None,
                    not is_open,  # licensed and closed cases wait for no one on staff
                )
            )
            if len(rows) >= BATCH:
                writer.copy("cases", tuple(case_columns.split(", ")), rows)
                writer.copy("outbox", OUTBOX_COLUMNS, notices)
                writer.copy("timers", TIMER_COLUMNS, timers)
                rows, notices, timers = [], [], []
        writer.copy("cases", tuple(case_columns.split(", ")), rows)
        writer.copy("outbox", OUTBOX_COLUMNS, notices)
        writer.copy("timers", TIMER_COLUMNS, timers)
        _copy_rows(writer, "case_clocks", clocks)
        rows = []
        # the owner's own notices, as many in both sizes (the page reads the newest fifty)
        owner = people["owner"]
        owner_notices = [_notice(f"scale:owner:{k}", owner, base + 1 + k % cases, START) for k in range(60)]
        writer.copy("outbox", OUTBOX_COLUMNS, owner_notices)
        last_case, folios = _history(writer, base + cases, cases, citizens, first_citizen)
        writer.continue_ids("cases", last_case)
        per_case = max(1, entries // cases)
        span = timedelta(days=1) / DAILY_ENTRIES  # a larger log spans more days, each as busy as the small one's
        entry_columns = (*CANONICAL_FIELDS, "prev_hash", "entry_hash", "leaf_hash")
        # The entries already written (the users' creation) stay first: the tree and the chain continue them.
        tree = merkle.CompactRange()
        running = GENESIS_HASH
        for leaf_hex, entry_hash in writer.execute(
            "SELECT leaf_hash, entry_hash FROM audit_entries ORDER BY seq"
        ).fetchall():
            tree.append(bytes.fromhex(leaf_hex))
            running = entry_hash
        first = tree.size + 1
        last = tree.size + entries
        rows, nodes = [], []
        checkpoints: list[tuple[Any, ...]] = []
        signer = _Signer(people["log_key"])
        for seq in range(first, last + 1):
            case_id = base + min(cases, 1 + (seq - first) // per_case)
            at = START + span * seq
            fields = {
                "seq": seq,
                "at": format_instant(at),
                "kind": "admin",
                "case_id": case_id,
                "folio": vecs_folio(case_id),
                "workflow": "vecs",
                "workflow_version": 1,
                "action": ACTIONS[seq % len(ACTIONS)],
                "from_state": None,
                "to_state": None,
                "actor_id": reviewers[seq % len(reviewers)],
                "actor_role": "reviewer",
                "case_version": 2,
                "comment_digest": None,
                "data_digest": None,
                "documents_digest": None,
                "details": {"n": seq % 97},
            }
            canonical = canonical_json(fields)
            previous, running = running, chain_hash(running, canonical)
            leaf = merkle.leaf_hash(canonical)
            nodes += [(level, idx, value.hex()) for level, idx, value in tree.append(leaf)]
            if seq % CHECKPOINT_EVERY == 0:  # signed as the schedule would, a minute's entries apart
                checkpoints.append(signer.checkpoint(seq, tree.root(), at))
            values = dict(fields, at=at, details=json.dumps(fields["details"]))
            rows.append((*(values[name] for name in CANONICAL_FIELDS), previous, running, leaf.hex()))
            if len(rows) >= BATCH:
                writer.copy("audit_entries", entry_columns, rows)
                writer.copy("audit_tree_nodes", ("level", "idx", "hash"), nodes)
                writer.copy("audit_checkpoints", CHECKPOINT_COLUMNS, checkpoints)
                rows, nodes, checkpoints = [], [], []
                print(f"\r  {entries:,}: {seq:,} entries", end="", file=sys.stderr, flush=True)
        writer.copy("audit_entries", entry_columns, rows)
        writer.copy("audit_tree_nodes", ("level", "idx", "hash"), nodes)
        writer.copy("audit_checkpoints", CHECKPOINT_COLUMNS, checkpoints)
        writer.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", (last, running))
        _certificates(writer, base, cases, open_cases, first, per_case)
        # what the application keeps as it goes, and COPY with the triggers off does not: the folios handed out
        # (the count of cases) and the count of users
        for prefix, count in {"VECS": cases, **folios}.items():
            writer.execute(
                "INSERT INTO folio_counters (prefix, year, last_number) VALUES (%s, 2025, %s) "
                "ON CONFLICT (prefix, year) DO UPDATE "
                "SET last_number = folio_counters.last_number + excluded.last_number",
                (prefix, count),
            )
        writer.execute("UPDATE row_counts SET n = (SELECT count(*) FROM users) WHERE name = 'users'")
        writer.finish()
    print(file=sys.stderr)
    return time.perf_counter() - started


@dataclass
class Size:
    """One database of the comparison: its application and the timed checks."""

    name: str
    app: Any
    build_seconds: float
    checks: dict[str, Callable[[], Any]]
    clerk: int
    owner: int
    pages: dict[str, Callable[[], Any]]


def build(name: str, url: str, folder: Path, cases: int, entries: int, open_cases: int) -> Size:
    """Build one database of the given size (users, cases, log) and the checks to time on it."""
    from argon2 import PasswordHasher
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    import app.services.users as users_service
    from app import create_app
    from app.extensions import db
    from app.keys import load_log_key
    from app.models import Case, Role, User, utcnow
    from app.services.assignment import loads
    from app.services.cases import count_cases
    from app.services.deadlines import recompute_pending
    from app.services.demo import DEMO_DOMAIN, load_demo
    from app.services.departments import list_departments
    from app.services.notices import notices_for
    from app.services.oversight import EntryFilter, entries_in_log, search_entries
    from app.services.queues import staff_queue
    from app.services.timers import _due_ids
    from app.services.users import RoleGrant, active_holders, count_users, create_user
    from workflows.construction import DEMO_DATA

    app = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=url,
        DOCUMENTS_DIR=str(folder / f"documents-{name}"),
        KEYS_DIR=str(folder / "keys"),
    )
    with app.app_context():
        upgrade()
        users_service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # set-up only
        owner = create_user("owner@scale.example", "Owner", "Scale-Password-2026", (RoleGrant(Role.APPLICANT),))
        clerk = create_user("clerk@scale.example", "Clerk", "Scale-Password-2026", (RoleGrant(Role.INTAKE_CLERK),))
        reviewers = [
            create_user(f"r{n}@scale.example", f"Reviewer {n}", "Scale-Password-2026", (RoleGrant(Role.REVIEWER),))
            for n in range(10)
        ]
        for n in range(5):
            create_user(
                f"m{n}@scale.example", f"Member {n}", "Scale-Password-2026", (RoleGrant(Role.COMMITTEE_MEMBER),)
            )
        for role in Role:  # who opens the pages: one user of each role
            create_user(f"{role.value}@pages.example", role.value, PAGES_PASSWORD, (RoleGrant(role),))
        # the demo's departments, users and cases of every procedure in their states, through the services: the
        # same in both sizes, and the rows the history of the other procedures is copied from
        load_demo()
        demo = demo_objects()
        db.session.remove()
        base = int(db.session.scalar(select(func.max(Case.id))) or 0)
        db.session.remove()
        people = {
            "owner": owner,
            "reviewers": reviewers,
            "data": DEMO_DATA,
            "case_base": base,
            "log_key": load_log_key(app.config),
        }
        seconds = generate(url, cases, entries, open_cases, people)
        db.session.remove()
    middle = START + timedelta(days=20)  # a day both sizes hold, with DAILY_ENTRIES entries
    folio = vecs_folio(base + cases // 2)
    with app.app_context():
        demo_reviewer = int(db.session.scalar(select(User.id).where(User.email == f"dictaminador@{DEMO_DOMAIN}")))
        db.session.remove()
    clerk_roles = frozenset({Role.INTAKE_CLERK.value})
    checks: dict[str, Callable[[], Any]] = {
        "oversight, unfiltered": lambda: search_entries(EntryFilter()),
        "oversight, by folio": lambda: search_entries(EntryFilter(folio=folio)),
        "oversight, by actor": lambda: search_entries(EntryFilter(actor_id=reviewers[3])),
        "oversight, one day": lambda: search_entries(EntryFilter(date_from=middle.date(), date_to=middle.date())),
        "oversight, by actor, next page": lambda: search_entries(
            EntryFilter(actor_id=reviewers[3]), before=entries // 2
        ),
        # a public servant and a kind with few entries, the same in both sizes (the demo's reviewer, the demo's
        # documents), among the generated entries of ten reviewers
        "oversight, a rare actor": lambda: search_entries(EntryFilter(actor_id=demo_reviewer)),
        "oversight, a rare kind": lambda: search_entries(EntryFilter(kind="document")),
        "intake queue": lambda: staff_queue(clerk, clerk_roles),
        "open-case count (10 reviewers)": lambda: loads(db.session(), reviewers),
        "a citizen's notices": lambda: notices_for(owner),
        "the committee's members": lambda: active_holders(Role.COMMITTEE_MEMBER),
        "home panels' counts": lambda: (count_cases(), count_users(), entries_in_log()),
        "departments page": list_departments,
        "the worker's due timers": lambda: _due_ids(utcnow(), 100),
        "pending terms recomputed": lambda: recompute_pending(db.session()),
    }
    pages = page_checks(app, base + cases - open_cases + 1, folio, entries // 2, middle.date().isoformat(), demo)
    return Size(name, app, seconds, checks, clerk, owner, pages)


DEMO_STAFF = ("transparencia", "area", "area_finanzas", "garante", "comite", "tesoreria", "dictaminador", "economia")
"""Demo logins (department grants, the transparency roles) who also open every page without parameters."""


def demo_objects() -> dict[str, Any]:
    """What the demo made that pages with parameters show: an access request turned to the areas, its folio, the
    committee's session, a publication of obligations and a format's code, a VECS licence (folio, verification
    code, case)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Case, Certificate
    from app.procedures.access_request.models import CommitteeSession

    session = db.session()
    request_id, request_folio = session.execute(
        select(Case.id, Case.folio).where(Case.workflow == "access_request", Case.state == "turned").limit(1)
    ).one()
    publication = session.execute(
        select(Case.id, Case.params).where(Case.workflow == "obligation_publication").order_by(Case.id).limit(1)
    ).one()
    licence = session.execute(
        select(Certificate.folio, Certificate.verification_code, Certificate.case_id)
        .where(Certificate.folio.like("VECS-%"))
        .order_by(Certificate.id)
        .limit(1)
    ).one()
    return {
        "request": request_id,
        "request_folio": request_folio,
        "session": session.scalars(select(CommitteeSession.id).order_by(CommitteeSession.id).limit(1)).one(),
        "publication": publication[0],
        "format": publication[1]["formats"][0]["code"],
        "licence": tuple(licence),
    }


def page_checks(
    app: Any, open_case: int, folio: str, seq: int, day: str, demo: dict[str, Any]
) -> dict[str, Callable[[], Any]]:
    """Every page without parameters in the URL, and the page of an open case, as a user of each role (logged in
    through the login form; what a role may not see answers 403, itself a page to keep flat): a request each.
    The auditor also opens the oversight area's pages of one case, one entry, one day and the middle of the log
    (``folio``, ``seq``, ``day``: the same place in both sizes), as pages and through the API."""
    from app.models import Role
    from app.services.demo import DEMO_DOMAIN, DEMO_PASSWORD
    from bench.http_bench import login

    app.config["RATELIMIT_ENABLED"] = False  # thousands of requests from one address
    paths = sorted(
        rule.rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ()) and not rule.arguments
    )
    paths.append(f"/expedientes/{open_case}")
    pages: dict[str, Callable[[], Any]] = {}
    clients = {role.value: login(app, f"{role.value}@pages.example") for role in Role}
    clients |= {f"{handle}@demo": login(app, f"{handle}@{DEMO_DOMAIN}", DEMO_PASSWORD) for handle in DEMO_STAFF}
    clients["anonymous"] = app.test_client()
    for who, client in clients.items():
        for path in paths:
            name = f"{who} {path if not path.startswith('/expedientes/') else '/expedientes/<open case>'}"
            pages[name] = lambda client=client, path=path: _page(client, path)
    unit, committee, public = clients["transparencia@demo"], clients["comite@demo"], clients["anonymous"]
    licence_folio, licence_code, licence_case = demo["licence"]
    for who, client, name, path in (
        ("transparency unit", unit, "an access request", f"/transparencia/solicitudes/{demo['request']}"),
        ("transparency unit", unit, "a publication", f"/transparencia/publicaciones/{demo['publication']}"),
        ("transparency unit", unit, "the committee's session", f"/transparencia/comite/{demo['session']}"),
        ("committee", committee, "the committee's session", f"/transparencia/comite/{demo['session']}"),
        ("public", public, "a request's status", f"/transparencia/consulta?folio={demo['request_folio']}"),
        ("public", public, "a request's tracking page", "/transparencia/seguimiento/scale-token-1"),
        ("public", public, "obligations of 2025", "/transparencia/obligaciones?ejercicio=2025"),
        ("public", public, "a format's open data (CSV)", f"/transparencia/obligaciones/{demo['format']}.csv"),
        ("public", public, "a format's open data (JSON)", f"/transparencia/obligaciones/{demo['format']}.json"),
        (
            "public",
            public,
            "a format's open data of 2025 (CSV)",
            f"/transparencia/obligaciones/{demo['format']}.csv?ejercicio=2025",
        ),
        ("public", public, "the draws' seeds of 2025", "/sorteos?ejercicio=2025"),
        ("public", public, "the samplings of 2025", "/transparencia/obligaciones/sorteos?ejercicio=2025"),
        (
            "guarantor",
            clients["garante@demo"],
            "the samplings of 2025",
            "/transparencia/publicaciones/muestreo?ejercicio=2025",
        ),
        ("administrator", clients[Role.ADMIN.value], "the calendar of 2025", "/admin/calendario?anio=2025"),
        ("administrator", clients[Role.ADMIN.value], "failed logins", "/admin/seguridad?tipo=login_failed"),
        ("public", public, "a licence's verification", f"/verificar/{licence_folio}?c={licence_code}"),
        ("public", public, "a case's status", f"/consulta?folio={licence_folio}"),
    ):
        pages[f"{who}: {name}"] = lambda client=client, path=path: _page(client, path)
    applicant = login(app, f"solicitante@{DEMO_DOMAIN}", DEMO_PASSWORD)
    pages["applicant: a licensed case's documents"] = lambda: _page(
        applicant, f"/expedientes/{licence_case}/documentos"
    )
    auditor = clients[Role.AUDITOR.value]
    case_id = int(folio.rsplit("-", 1)[1])
    for name, path in {
        "the oversight timeline of a case": f"/supervision/expedientes/{case_id}",
        "an entry of the log": f"/supervision/entradas/{seq}",
        "an entry through the API": f"/api/v1/audit/entries/{seq}",
        "oversight, older than the middle": f"/supervision/?antes={seq}",
        "oversight, newer than the middle": f"/supervision/?despues={seq}",
        "oversight, one folio": f"/supervision/?folio={folio}",
        "oversight, one kind": "/supervision/?tipo=admin",
        "oversight, one day": f"/supervision/?desde={day}&hasta={day}",
        "oversight, one folio as CSV": f"/supervision/exportar.csv?folio={folio}",
        "API, entries after the middle": f"/api/v1/audit/entries?after={seq}&limit=100",
        "API, entries before the middle": f"/api/v1/audit/entries?before={seq}&limit=100",
    }.items():
        pages[f"auditor: {name}"] = lambda path=path: _page(auditor, path)
    return pages


def _page(client: Any, path: str) -> None:
    answer = client.get(path)
    answer.close()
    if answer.status_code >= 500:
        raise SystemExit(f"GET {path}: HTTP {answer.status_code}")


def _timed_once(size: Size, action: Callable[[], Any]) -> float:
    from app.extensions import db

    with size.app.app_context():
        started = time.perf_counter()
        action()
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed


def a_fire(size: Size) -> Callable[[], Any]:
    """``fire()`` of start_intake, by the clerk the draw assigned, on a VECS case of ``size`` submitted now through
    the services, outside the timing. (The generated open cases wait with terms that lapsed long ago, which the
    worker's due timers and the terms' recomputation find; a person's step records those lapses first, and one of
    them moves the case.)"""
    from app.extensions import db
    from app.models import Case
    from app.services.cases import fire, open_case
    from app.services.demo import demo_pdf
    from app.services.documents import attach_document
    from workflows.construction import DEMO_DATA, DEMO_DOCUMENTS

    with size.app.app_context():
        opened = open_case("vecs", size.owner, DEMO_DATA)
        version = opened.version
        for kind in DEMO_DOCUMENTS:
            version = attach_document(opened.case_id, kind, f"{kind}.pdf", demo_pdf(kind), size.owner).case_version
        version = fire(opened.case_id, "submit", size.owner, expected_version=version).version
        clerk = db.session.get_one(Case, opened.case_id).assignee_id or size.clerk  # the one the draw assigned
        db.session.remove()
    return lambda: fire(opened.case_id, "start_intake", clerk, expected_version=version)


def _alternately(
    small: Size, large: Size, action_of: Callable[[Size], Callable[[], Any]], repeat: int
) -> tuple[float, float]:
    """The median seconds of ``action_of(size)`` on the small and on the large size, timed alternately run by run
    (each after one untimed run), with the garbage collector held off as ``timeit`` does: a collection of the
    whole process, paid by whichever request happens to trigger it, would otherwise make a page of a
    millisecond look several times slower on one side."""
    times: dict[str, list[float]] = {small.name: [], large.name: []}
    gc.collect()
    gc.disable()
    try:
        for size in (small, large):
            _timed_once(size, action_of(size))
        for _ in range(repeat):
            for size in (small, large):
                times[size.name].append(_timed_once(size, action_of(size)))
    finally:
        gc.enable()
    return statistics.median(times[small.name]), statistics.median(times[large.name])


def measure_interleaved(small: Size, large: Size, repeat: int) -> dict[str, tuple[float, float]]:
    """Time every check on both sizes, alternating small and large run by run (each after one untimed run), so
    that both sides of a ratio see the same moments of a shared machine. Medians of ``repeat`` runs each
    (``fire()``: twice as many, at least 5)."""
    figures = {
        name: _alternately(small, large, lambda size, name=name: size.checks[name], repeat) for name in small.checks
    }
    figures["fire() start_intake"] = _alternately(small, large, a_fire, max(5, repeat * 2))
    return figures


def measure_pages(small: Size, large: Size, repeat: int) -> list[tuple[float, str, float, float]]:
    """Every page of :func:`page_checks` on both sizes, small and large alternately; the ratios large / small,
    largest first, with the medians (seconds). One untimed pass over every page, then ``repeat`` passes, each
    timing every page once on each size: a page's runs are minutes apart, so a stall of the machine (a commit
    waiting for the disk after the bulk load, another process) slows one of them, not all (timed in a row, the
    three runs of a page refused with a 403, whose security-log entry is a commit, once fell within the same
    second of a stall). The garbage collector is held off as in :func:`_alternately`."""
    times: dict[str, dict[str, list[float]]] = {name: {small.name: [], large.name: []} for name in small.pages}
    gc.collect()
    gc.disable()
    try:
        for timed in (False, *([True] * repeat)):
            for name in small.pages:
                for size in (small, large):
                    seconds = _timed_once(size, size.pages[name])
                    if timed:
                        times[name][size.name].append(seconds)
    finally:
        gc.enable()
    figures = []
    for name, by_size in times.items():
        small_seconds, large_seconds = statistics.median(by_size[small.name]), statistics.median(by_size[large.name])
        figures.append((large_seconds / small_seconds, name, small_seconds, large_seconds))
    return sorted(figures, reverse=True)


def statements_sent(size: Size, action: Callable[[], Any]) -> int:
    """How many statements ``action`` sends to ``size``'s database (counted by the engine's cursor events): a page
    whose count differs between the sizes reads row by row something that grows, whatever the timings say."""
    from sqlalchemy import event

    from app.extensions import db

    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    with size.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        _timed_once(size, action)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent[0]


def unequal_statements(small: Size, large: Size) -> list[tuple[str, tuple[int, int]]]:
    """The pages of :func:`page_checks` that send a different number of statements on the two sizes, with both
    counts. A page whose counts differ is asked twice more on each size and the fewest kept: a request now and then
    also records that the session was seen (once a minute: two statements that have nothing to do with the
    data)."""
    unequal = []
    for name in small.pages:
        on_small, on_large = (statements_sent(size, size.pages[name]) for size in (small, large))
        if on_small != on_large:
            on_small, on_large = (
                min([first, *(statements_sent(size, size.pages[name]) for _ in range(2))])
                for first, size in ((on_small, small), (on_large, large))
            )
        if on_small != on_large:
            unequal.append((name, (on_small, on_large)))
    return unequal


def prepare_every_statement(size: Size, *, generic: bool) -> None:
    """Make ``size``'s connections run as a long-running server's come to: psycopg prepares a statement a
    connection runs often, and PostgreSQL then keeps for it, after five runs, a plan made without the values (a
    generic plan, from averages) when that plan's estimated cost is no more than the plans made for the values.
    Here every statement is prepared at its first run; ``generic``: every plan generic from the start (the worst
    a server could come to: a page whose plan reads more rows for some values than for others shows it at once,
    and some that the server's own choice would avoid); otherwise the server chooses, as it does in production."""
    from sqlalchemy import event

    from app.extensions import db

    mode = "force_generic_plan" if generic else "auto"

    def prepared(connection: Any, _record: Any) -> None:
        connection.prepare_threshold = 0
        connection.execute(f"SET plan_cache_mode = {mode}")
        connection.commit()

    with size.app.app_context():
        event.listen(db.engine, "connect", prepared)
        db.engine.dispose()  # the connections open from now on
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW plan_cache_mode").scalar() == mode


@contextmanager
def _databases(sqlite: bool, folder: Path) -> Iterator[tuple[str, str, Path | None]]:
    """The small and the large database's URLs and the server's log: two files in ``folder`` (no log), or two
    databases of a throw-away PostgreSQL server (durable, as in production) stopped at the end."""
    if sqlite:
        yield (f"sqlite:///{folder}/scale_small.sqlite3", f"sqlite:///{folder}/scale_large.sqlite3", None)
        return
    from sqlalchemy import create_engine, text

    from tests.support.postgres import PostgresServer

    server = PostgresServer(durable=True)
    server.start()
    try:
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE scale_small"))
            conn.execute(text("CREATE DATABASE scale_large"))
        admin.dispose()
        yield (server.url_for("scale_small"), server.url_for("scale_large"), server.log)
    finally:
        server.stop()


def explain_slow_statements(size: Size, milliseconds: float) -> None:
    """Have the server log the plan, as run (rows, loops, buffers), of every statement of ``size`` taking more
    than ``milliseconds`` from now on (PostgreSQL's ``auto_explain``, loaded by each new connection); read back by
    :func:`slow_plans`."""
    from sqlalchemy import event

    from app.extensions import db

    def explained(connection: Any, _record: Any) -> None:
        connection.execute("LOAD 'auto_explain'")
        connection.execute(f"SET auto_explain.log_min_duration = {float(milliseconds)}")
        connection.execute("SET auto_explain.log_analyze = on")
        connection.execute("SET auto_explain.log_buffers = on")
        connection.commit()

    with size.app.app_context():
        event.listen(db.engine, "connect", explained)
        db.engine.dispose()


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_EXPLAINED = re.compile(r"LOG:  duration: ([\d.]+) ms  plan:")


def slow_plans(log: Path, limit: int) -> list[tuple[float, int, str]]:
    """The ``limit`` slowest statements the server's ``log`` explained: (the longest duration in ms, times
    explained, the plan as logged then), one for each statement text, slowest first."""
    entries: list[tuple[float, list[str]]] = []
    for line in log.read_text(errors="replace").splitlines():
        found = _EXPLAINED.search(line)
        if found:
            entries.append((float(found.group(1)), []))
        elif entries and not _LOG_LINE.match(line):
            entries[-1][1].append(line)
        elif _LOG_LINE.match(line):
            entries.append((-1.0, []))  # another message: ends the plan before it
    plans: dict[str, tuple[float, int, str]] = {}
    for duration, lines in entries:
        if duration < 0:
            continue
        statement = "\n".join(itertools.takewhile(lambda text: "(cost=" not in text, lines))
        longest, seen, plan = plans.get(statement, (0.0, 0, ""))
        plans[statement] = (duration, seen + 1, "\n".join(lines)) if duration > longest else (longest, seen + 1, plan)
    return sorted(plans.values(), reverse=True)[:limit]


def main() -> int:
    """Build both sizes, time them and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases of the large database")
    parser.add_argument("--entries", type=int, default=100_000, help="log entries of the large database")
    parser.add_argument("--small-cases", type=int, default=1_000)
    parser.add_argument("--small-entries", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=300, help="open cases in each database")
    parser.add_argument("--full", action="store_true", help="1,000,000 cases and 10,000,000 entries (slow)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show", type=int, default=5, help="pages printed, largest ratio first")
    parser.add_argument(
        "--sqlite", action="store_true", help="two SQLite files (the embedded default) instead of PostgreSQL"
    )
    parser.add_argument(
        "--generic-plans",
        action="store_true",
        help="PostgreSQL: every statement prepared at its first run and planned without its values",
    )
    parser.add_argument(
        "--prepared",
        action="store_true",
        help="PostgreSQL: every statement prepared at its first run, the server choosing its plans as it does "
        "for a busy connection (a generic plan after five runs when it costs no more); use --repeat 10 or more",
    )
    parser.add_argument(
        "--explain-slower",
        type=float,
        metavar="MS",
        help="PostgreSQL: print the plans, as run, of the large database's statements slower than MS milliseconds "
        "(the slowest --show of them)",
    )
    args = parser.parse_args()
    if args.full:
        args.cases, args.entries, args.small_cases, args.small_entries = 1_000_000, 10_000_000, 10_000, 100_000
    os.environ.setdefault("SECRET_KEY", "scale-bench-not-secret")
    explaining = args.explain_slower is not None and not args.sqlite
    with (
        tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp,
        _databases(args.sqlite, Path(tmp)) as (small_url, large_url, server_log),
    ):
        folder = Path(tmp)
        small = build("small", small_url, folder, args.small_cases, args.small_entries, args.open)
        large = build("large", large_url, folder, args.cases, args.entries, args.open)
        if (args.generic_plans or args.prepared) and not args.sqlite:
            for size in (small, large):
                prepare_every_statement(size, generic=args.generic_plans)
        if explaining:
            explain_slow_statements(large, args.explain_slower)
        try:
            figures = measure_interleaved(small, large, args.repeat)
            pages = measure_pages(small, large, args.repeat)
            unequal = unequal_statements(small, large)
        finally:
            for size in (small, large):
                with size.app.app_context():
                    from app.extensions import db

                    db.engine.dispose()
        plans = slow_plans(server_log, args.show) if explaining and server_log is not None else []
    database = "SQLite" if args.sqlite else "PostgreSQL"
    print(
        f"scale benchmark ({database}): {args.small_cases:,} cases / {args.small_entries:,} entries against "
        f"{args.cases:,} / {args.entries:,}, {args.open} open cases each, {DAILY_ENTRIES} entries a day; "
        f"small and large timed alternately, medians of {args.repeat} runs"
    )
    how = "INSERT, a batch at a time" if args.sqlite else "COPY, streamed"
    print(f"  built in {small.build_seconds:.1f} s and {large.build_seconds:.1f} s ({how})")
    worst = 0.0
    for name, (small_seconds, large_seconds) in figures.items():
        ratio = large_seconds / small_seconds
        worst = max(worst, ratio)
        print(
            f"  {name:32} {small_seconds * 1000:8.2f} ms   {large_seconds * 1000:8.2f} ms   "
            f"ratio {ratio:4.1f}x (target 2x)"
        )
    print(
        f"  pages: {len(pages)} (every GET route without parameters and an open case's page as a user of each role, "
        "as the demo's staff and anonymously; the auditor's pages of one case, one entry and the middle of the log; "
        "the other procedures' pages with parameters); the largest ratios:"
    )
    for ratio, name, small_seconds, large_seconds in pages[: args.show]:
        print(f"  {name:48} {small_seconds * 1000:8.2f} ms   {large_seconds * 1000:8.2f} ms   ratio {ratio:4.1f}x")
    worst = max(worst, pages[0][0])
    print(
        f"  statements per page: the same at both sizes for {len(pages) - len(unequal)} of {len(pages)} pages"
        + "".join(f"; {name}: {a} against {b}" for name, (a, b) in unequal)
    )
    print(f"  largest ratio {worst:.1f}x")
    if explaining:
        print(f"  the large database's statements slower than {args.explain_slower:g} ms, slowest first:")
        for milliseconds, seen, plan in plans:
            print(f"  --- {milliseconds:.1f} ms at the slowest ({seen} logged)\n{plan}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
