"""Load on a :class:`~tests.reliability.cluster.Cluster`: people using the real forms over HTTP, faults while they
do, and the checks that nothing acknowledged was lost, nothing was applied twice or half.

The people: applicants with VECS requests already filed, two intake clerks (each logged in twice, on different
servers) and two reviewers, all racing on the same cases. Each loads a case page, picks one of the actions its
forms offer, waits a moment (so that others act first: stale forms and conflicts) and sends the form with its
CSRF token, expected version and idempotency key. A form whose answer was lost (a killed worker, a refused
connection, a 503 while the database is down) is sent again, unchanged, until it gets a definite answer: the
idempotency key makes that safe, and it is how a browser's "resend" behaves. Meanwhile the terms of some cases
are made to lapse (their deadline timers become due), so that the tick workers fire expiry transitions that race
with the applicants' answers.
"""

from __future__ import annotations

import http.client
import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import time_machine
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from tests.reliability.cluster import Cluster
from tests.support.forms import hidden_fields

PASSWORD = "Correcta-Caballo-Bateria"

STAFF_TRIGGERS = {
    "clerk": ("start_intake", "accept_intake", "issue_prevention"),
    "reviewer": ("rule_land_use", "assess_fees"),
}
APPLICANT_TRIGGERS = ("answer_prevention", "record_payment", "withdraw")
INPUTS: dict[str, dict[str, str]] = {
    "issue_prevention": {"prevention_items": "planos", "comment": "Faltan cotas en los planos."},
    "rule_land_use": {"land_use_ruling": "Dictamen favorable: uso habitacional compatible."},
    "record_payment": {"payment_reference": "REF-2026-0001"},
}
STAFF_STATES = {"clerk": ("submitted", "intake_review"), "reviewer": ("land_use_review", "fee_assessment")}
_IN_FLIGHT_LOCK = threading.Lock()
APPLICANT_STATES = ("prevention", "awaiting_payment")  # where the applicant has a step; withdrawing is rarer
OPEN_STATES = ("submitted", "intake_review", "land_use_review", "fee_assessment")


@dataclass
class Tally:
    """What the clients saw (shared by the client threads)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    attempted: int = 0
    acknowledged: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: int = 0
    unavailable_without_retry_after: int = 0
    connection_errors: int = 0
    resent: int = 0
    server_errors: list[str] = field(default_factory=list)
    acks: list[tuple[int, str, int, str]] = field(default_factory=list)  # case, trigger, actor, key
    refused_keys: set[str] = field(default_factory=set)
    ambiguous_keys: set[str] = field(default_factory=set)
    version_regressions: list[str] = field(default_factory=list)

    def count(self, **deltas: int) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)


class Browser:
    """One person's browser: its own cookies, any of the app instances for each request."""

    def __init__(self, ports: list[int], rng: random.Random, in_flight: Counter[int] | None = None) -> None:
        self.ports = ports
        self.rng = rng
        self.cookies: dict[str, str] = {}
        self.in_flight = in_flight  # the instances answering a form right now (where a kill hurts most)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """Send one request to a random instance; raises ``OSError`` when the connection fails."""
        port = self.rng.choice(self.ports)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Accept-Language": "es-MX,es;q=0.9", "User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/128.0"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        tracked = form is not None and self.in_flight is not None
        if tracked:
            with _IN_FLIGHT_LOCK:
                self.in_flight[port] += 1  # type: ignore[index]
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode("utf-8", errors="replace")
            for raw in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(raw)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, {k.lower(): v for k, v in response.getheaders()}, content
        except http.client.HTTPException as exc:
            raise OSError(str(exc)) from exc
        finally:
            if tracked:
                with _IN_FLIGHT_LOCK:
                    self.in_flight[port] -= 1  # type: ignore[index]
            conn.close()


def _enabled(page: str, action: str) -> bool:
    """Whether the page has the form posting to ``action`` and it is not shown disabled (its requirements or
    rules refuse it now: people do not press a greyed-out button)."""
    start = page.find(f'action="{action}"')
    if start < 0:
        return False
    tag = page[page.rfind("<form", 0, start) : page.find(">", start)]
    return "disabled" not in tag and bool(hidden_fields(page, action))


@dataclass
class Person:
    """A client thread's identity: who logs in and which actions they take."""

    user_id: int
    email: str
    kind: str  # clerk, reviewer, applicant
    own_cases: tuple[int, ...] = ()


@dataclass
class Population:
    """The users and cases set up before the load."""

    people: list[Person]
    case_ids: list[int]
    setup_seq: int


def populate(
    app: Flask, *, applicants: int, cases_per_applicant: int, clerks: int = 2, reviewers: int = 2
) -> Population:
    """Create the staff, the applicants and their filed VECS requests (through the services)."""
    from app.extensions import db
    from app.models import AuditEntry, Role
    from app.services.cases import fire
    from app.services.config import update_config
    from tests.support.demo_data import VECS_SETTINGS
    from tests.support.factories import email_of, make_user, vecs_case

    with app.app_context():
        admin = make_user(Role.ADMIN, name="Administración")
        update_config("vecs", {"fee_table": VECS_SETTINGS["fee_table"]}, admin)  # the published fee table
        people: list[Person] = []
        for n in range(clerks):
            uid = make_user(Role.INTAKE_CLERK, name=f"Ventanilla {n + 1}")
            people.append(Person(uid, email_of(uid), "clerk"))
        for n in range(reviewers):
            uid = make_user(Role.REVIEWER, name=f"Revisión {n + 1}")
            people.append(Person(uid, email_of(uid), "reviewer"))
        clerk = people[0].user_id
        case_ids: list[int] = []
        for n in range(applicants):
            uid = make_user(Role.APPLICANT, name=f"Solicitante {n + 1}")
            own = []
            for m in range(cases_per_applicant):
                draft = vecs_case(uid)
                done = fire(draft.case_id, "submit", uid, expected_version=draft.version)
                if m % 3:  # two in three start in intake review, half of those already in prevention (a term runs)
                    done = fire(done.case_id, "start_intake", clerk, expected_version=done.version)
                if m % 3 == 2:
                    done = fire(
                        done.case_id,
                        "issue_prevention",
                        clerk,
                        expected_version=done.version,
                        data={"prevention_items": ["planos"]},
                        comment="Faltan cotas en los planos.",
                    )
                own.append(draft.case_id)
            case_ids += own
            people.append(Person(uid, email_of(uid), "applicant", tuple(own)))
        setup_seq = int(db.session.scalar(select(func.max(AuditEntry.seq))) or 0)
        db.session.remove()
    return Population(people, case_ids, setup_seq)


class Load:
    """Client threads, the lapsing clock and the version monitor, for ``seconds``."""

    def __init__(self, cluster: Cluster, app: Flask, population: Population, *, seed: int = 17) -> None:
        self.cluster = cluster
        self.app = app
        self.population = population
        self.tally = Tally()
        self.stop = threading.Event()
        self.seed = seed
        self.live_staff: dict[str, list[int]] = {kind: list(population.case_ids) for kind in STAFF_STATES}
        self.live_by_applicant: dict[int, list[int]] = {p.user_id: list(p.own_cases) for p in population.people}
        self.open_by_applicant: dict[int, list[int]] = {}
        self.seen_versions: dict[int, int] = {}
        self.threads: list[threading.Thread] = []
        self.lapsed_timers = 0
        self.logged_in = threading.Semaphore(0)
        self.in_flight: Counter[int] = Counter()
        self.go = threading.Event()

    # -- the people ----------------------------------------------------------------------------------

    def _login(self, browser: Browser, person: Person) -> None:
        while not self.stop.is_set():
            try:
                status, _, page = browser.request("GET", "/login")
                if status != 200:
                    self._note(status, {}, "/login")
                    time.sleep(0.5)
                    continue
                form = hidden_fields(page, "/login")
                form.update(email=person.email, password=PASSWORD)
                status, headers, _ = browser.request("POST", "/login", form)
            except OSError:
                self.tally.count(connection_errors=1)
                time.sleep(0.3)
                continue
            if status == 302 and "/login" not in headers.get("location", ""):
                return
            self._note(status, headers, "POST /login")
            time.sleep(0.5)

    def _note(self, status: int, headers: dict[str, str], what: str) -> None:
        with self.tally.lock:
            self.tally.statuses[status] += 1
            if status == 503:
                self.tally.unavailable += 1
                if not headers.get("retry-after"):
                    self.tally.unavailable_without_retry_after += 1
            elif status >= 500:
                self.tally.server_errors.append(f"{status} {what}")

    def _client(self, person: Person, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        browser = Browser(self.cluster.ports, rng, self.in_flight)
        self._login(browser, person)
        self.logged_in.release()
        self.go.wait()
        triggers = APPLICANT_TRIGGERS if person.kind == "applicant" else STAFF_TRIGGERS[person.kind]
        while not self.stop.is_set():
            if person.kind == "applicant":
                pool = self.live_by_applicant.get(person.user_id, [])
                if rng.random() < 0.1:  # now and then, a case waiting on the staff (one might withdraw it)
                    pool = self.open_by_applicant.get(person.user_id, []) or pool
            else:
                pool = self.live_staff[person.kind]
            if not pool:
                time.sleep(0.5)
                continue
            case_id = rng.choice(pool)
            path = f"/expedientes/{case_id}"
            try:
                status, headers, page = browser.request("GET", path)
            except OSError:
                self.tally.count(connection_errors=1)
                time.sleep(0.2)
                continue
            if status == 302 and "/login" in headers.get("location", ""):
                self._login(browser, person)
                continue
            if status != 200:
                self._note(status, headers, f"GET {path}")
                time.sleep(min(float(headers.get("retry-after", "0.3") or 0.3), 2.0))
                continue
            offered = [t for t in triggers if _enabled(page, f"{path}/acciones/{t}")]
            if not offered:
                time.sleep(0.05)
                continue
            if "withdraw" in offered and rng.random() > 0.03:  # people seldom give up
                offered.remove("withdraw")
            if not offered:
                time.sleep(0.05)
                continue
            trigger = rng.choice(offered)
            action = f"{path}/acciones/{trigger}"
            form = hidden_fields(page, action)
            form.update({f"{trigger}-{name}": value for name, value in INPUTS.get(trigger, {}).items()})
            key = form.get(f"{trigger}-idempotency_key", "")
            time.sleep(rng.uniform(0.0, 0.4))  # reading the page: someone else may act meanwhile
            self._send(browser, person, case_id, trigger, action, form, key)

    def _send(
        self, browser: Browser, person: Person, case_id: int, trigger: str, action: str, form: dict[str, str], key: str
    ) -> None:
        self.tally.count(attempted=1)
        deadline = time.monotonic() + 120
        resent = False
        while True:
            if time.monotonic() > deadline:
                with self.tally.lock:
                    self.tally.ambiguous_keys.add(key)
                return
            try:
                status, headers, _ = browser.request("POST", action, form)
            except OSError:
                self.tally.count(connection_errors=1)
                resent = True
                time.sleep(0.3)
                continue
            if status in (502, 503, 504):
                self._note(status, headers, f"POST {action}")
                resent = True
                time.sleep(min(float(headers.get("retry-after", "1") or 1), 2.0))
                continue
            break
        if resent:
            self.tally.count(resent=1)
        with self.tally.lock:
            self.tally.statuses[status] += 1
            if status == 302 and "/login" not in headers.get("location", ""):
                self.tally.acknowledged += 1
                self.tally.acks.append((case_id, trigger, person.user_id, key))
            elif status >= 500:
                self.tally.server_errors.append(f"{status} POST {action}")
            else:
                self.tally.refused_keys.add(key)

    # -- the clock and the monitor ---------------------------------------------------------------------

    def _background(self, every: float, work: Callable[[], None]) -> None:
        while not self.stop.wait(every):
            try:
                with self.app.app_context():
                    work()
            except SQLAlchemyError:
                continue  # the database is down (an outage): try again later

    def _lapse_some_terms(self) -> None:
        """Make the deadlines of a few cases due now, as if their terms had run out."""
        from app.extensions import db
        from app.models import Timer, TimerKind, TimerStatus

        rng = random.Random()
        pending = list(
            db.session.scalars(
                select(Timer.id).where(Timer.status == TimerStatus.PENDING, Timer.kind == TimerKind.DEADLINE)
            )
        )
        chosen = [t for t in pending if rng.random() < 0.25]
        if chosen:
            due = machine_now() - timedelta(minutes=1)
            db.session.execute(update(Timer).where(Timer.id.in_(chosen)).values(due_at=due))
            db.session.commit()
            self.lapsed_timers += len(chosen)
        db.session.remove()

    def _monitor(self) -> None:
        """Versions only grow; and which cases people can still act on."""
        from app.extensions import db
        from app.models import Case

        rows = db.session.execute(select(Case.id, Case.version, Case.state, Case.applicant_id)).all()
        db.session.remove()
        staff: dict[str, list[int]] = {kind: [] for kind in STAFF_STATES}
        by_applicant: dict[int, list[int]] = {}
        open_by_applicant: dict[int, list[int]] = {}
        for case_id, version, state, applicant in rows:
            before = self.seen_versions.get(case_id)
            if before is not None and version < before:
                self.tally.version_regressions.append(f"case {case_id}: version {before} -> {version}")
            self.seen_versions[case_id] = version
            for kind, states in STAFF_STATES.items():
                if state in states:
                    staff[kind].append(case_id)
            if state in APPLICANT_STATES:
                by_applicant.setdefault(applicant, []).append(case_id)
            if state in OPEN_STATES:
                open_by_applicant.setdefault(applicant, []).append(case_id)
        self.live_staff = staff
        for person in self.population.people:
            if person.kind == "applicant":
                self.live_by_applicant[person.user_id] = by_applicant.get(person.user_id, [])
                self.open_by_applicant[person.user_id] = open_by_applicant.get(person.user_id, [])

    # -- running -----------------------------------------------------------------------------------------

    def start(self, *, lapse_every: float = 3.0) -> None:
        """Log everyone in (before the clock starts: logging in is not what is measured), then let them act."""
        clients = []
        for index, person in enumerate(self.population.people):
            sessions = 2 if person.kind == "clerk" else 1  # a clerk with two tabs on two servers
            for n in range(sessions):
                clients.append(threading.Thread(target=self._client, args=(person, index * 10 + n), daemon=True))
        for thread in clients:
            thread.start()
        for _ in clients:
            self.logged_in.acquire(timeout=120)
        self.threads += clients
        self.threads.append(threading.Thread(target=self._background, args=(1.0, self._monitor), daemon=True))
        self.threads.append(
            threading.Thread(target=self._background, args=(lapse_every, self._lapse_some_terms), daemon=True)
        )
        for thread in self.threads[len(clients) :]:
            thread.start()
        self.go.set()

    def busy_port(self, rng: random.Random) -> int | None:
        """An app instance answering a form right now, if any."""
        ports = [port for port, n in list(self.in_flight.items()) if n > 0]
        return rng.choice(ports) if ports else None

    @property
    def clients(self) -> int:
        return sum(2 if p.kind == "clerk" else 1 for p in self.population.people)

    def finish(self) -> None:
        """Stop the people (each finishes the form it is sending) and the background threads."""
        self.stop.set()
        self.go.set()
        for thread in self.threads:
            thread.join(timeout=180)


def machine_now() -> datetime:
    """The machine's clock, which the cluster's servers and workers run on: the suite may have moved this
    process's clock (``TEST_CLOCK``), not theirs, so what is due for them is said in theirs."""
    hatch = time_machine.escape_hatch
    return datetime.fromtimestamp(hatch.time.time() if hatch.is_travelling() else time.time(), UTC)


def drain(app: Flask, seconds: float = 120) -> list[str]:
    """Wait until the tick workers have fired every timer and sent every message due by their clock."""
    from app.extensions import db
    from app.models import OutboxMessage, OutboxStatus, Timer, TimerStatus

    deadline = time.monotonic() + seconds
    left: tuple[int, int] = (0, 0)
    while time.monotonic() < deadline:
        try:
            with app.app_context():
                now = machine_now()
                timers = db.session.scalar(
                    select(func.count())
                    .select_from(Timer)
                    .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
                )
                mail = db.session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                )
                db.session.remove()
        except SQLAlchemyError:
            time.sleep(1)
            continue
        left = (int(timers or 0), int(mail or 0))
        if left == (0, 0):
            return []
        time.sleep(0.5)
    return [f"not drained after {seconds:.0f} s: {left[0]} due timers, {left[1]} due messages"]


@dataclass
class Findings:
    """The end-of-run checks: ``problems`` must be empty; ``figures`` go into docs/reliability.md."""

    problems: list[str]
    figures: dict[str, Any]


def check(cluster: Cluster, app: Flask, load: Load, *, duplicates_allowed: bool) -> Findings:
    """Every check of the issue, on the database, the mailbox and the audit log (after :func:`drain`)."""
    from app.extensions import db
    from app.models import (
        AuditEntry,
        AuditKind,
        Case,
        IdempotencyRecord,
        OutboxMessage,
        OutboxStatus,
        Timer,
        TimerKind,
        TimerStatus,
    )
    from app.notifications import SmtpSettings
    from app.notifications.mail import build_message

    tally = load.tally
    problems: list[str] = []
    problems += [f"server error: {e}" for e in tally.server_errors[:20]]
    if tally.unavailable_without_retry_after:
        problems.append(f"{tally.unavailable_without_retry_after} answers 503 without Retry-After")
    problems += tally.version_regressions[:20]

    with app.app_context():
        session = db.session()
        records = {r.key: r for r in session.scalars(select(IdempotencyRecord))}
        entries = {e.seq: e for e in session.scalars(select(AuditEntry).where(AuditEntry.kind == AuditKind.TRANSITION))}
        cases = {c.id: c for c in session.scalars(select(Case))}
        timers = list(session.scalars(select(Timer)))
        outbox = list(session.scalars(select(OutboxMessage)))

        # every acknowledged transition is there, whole: its idempotency record and its audit entry agree
        acked_keys = set()
        for case_id, trigger, actor, key in tally.acks:
            acked_keys.add(key)
            record = records.get(key)
            if record is None:
                problems.append(f"acknowledged {trigger} on case {case_id} (key {key}) is missing")
                continue
            entry = entries.get(record.audit_seq)
            if entry is None or (entry.case_id, entry.actor_id) != (case_id, actor) or record.trigger != trigger:
                problems.append(
                    f"acknowledged {trigger} on case {case_id}: audit entry {record.audit_seq} does not match"
                )
        for key in tally.refused_keys:
            if key in records:
                problems.append(f"a form refused with a definite answer was applied anyway (key {key})")

        # every transition people made after the set-up was acknowledged (or its answer never came)
        by_seq = {r.audit_seq: r for r in records.values()}
        people_entries = [e for e in entries.values() if e.seq > load.population.setup_seq and e.actor_id is not None]
        unacknowledged = 0
        for entry in people_entries:
            record = by_seq.get(entry.seq)
            if record is None:
                problems.append(f"audit entry {entry.seq} ({entry.action}) has no idempotency record")
            elif record.key not in acked_keys:
                if record.key in tally.ambiguous_keys:
                    unacknowledged += 1
                else:
                    problems.append(f"audit entry {entry.seq} ({entry.action}) was never acknowledged")
        if len(people_entries) != len(acked_keys) + unacknowledged:
            problems.append(f"{len(people_entries)} transitions by people in the log, {len(acked_keys)} acknowledged")

        # per case: the entries chain from state to state and end where the case is; versions only grew
        chains: dict[int, list[AuditEntry]] = {}
        for entry in sorted(entries.values(), key=lambda e: e.seq):
            if entry.case_id is not None:
                chains.setdefault(entry.case_id, []).append(entry)
        for case_id, case in cases.items():
            chain = chains.get(case_id, [])
            for before, after in itertools.pairwise(chain):
                if before.to_state != after.from_state:
                    problems.append(
                        f"case {case_id}: entry {after.seq} starts from {after.from_state}, not {before.to_state}"
                    )
            if chain and chain[-1].to_state != case.state:
                problems.append(f"case {case_id} is in {case.state} but its log ends in {chain[-1].to_state}")
        versions: dict[int, list[tuple[int, int]]] = {}
        for record in records.values():
            versions.setdefault(record.case_id, []).append((record.audit_seq, record.version))
        for case_id, pairs in versions.items():
            ordered = [v for _, v in sorted(pairs)]
            if any(b <= a for a, b in itertools.pairwise(ordered)):
                problems.append(f"case {case_id}: versions did not only grow: {ordered}")
            if ordered and cases[case_id].version < ordered[-1]:
                problems.append(f"case {case_id}: version {cases[case_id].version} below an acknowledged {ordered[-1]}")

        # timers: each fired once, none left due, none pending for a state its case has left
        fired_by_timer: Counter[int] = Counter()
        for entry in entries.values():
            timer_id = (entry.details or {}).get("timer_id")
            if timer_id is not None:
                fired_by_timer[int(timer_id)] += 1
        fired_deadlines = 0
        for timer in timers:
            times = fired_by_timer.get(timer.id, 0)
            if timer.kind == TimerKind.DEADLINE and timer.status == TimerStatus.FIRED:
                fired_deadlines += 1
                if times != 1:
                    problems.append(f"timer {timer.id} fired {times} times")
            elif times:
                problems.append(f"timer {timer.id} ({timer.status}) has {times} expiry entries")
            if timer.status == TimerStatus.PENDING and cases[timer.case_id].state != timer.state:
                problems.append(
                    f"timer {timer.id} still pending for {timer.state}; case is in {cases[timer.case_id].state}"
                )
            if timer.status == TimerStatus.FAILED:
                problems.append(f"timer {timer.id} failed")

        # mail: every message sent reached the SMTP server, none twice (unless a worker died between sending
        # and recording it: then the repeat carries the same Message-ID, and mail clients drop it)
        settings = SmtpSettings.from_config(app.config)
        ids = {
            m.id: str(build_message(settings, "x@example.test", "s", "b", m.dedup_key)["Message-ID"]) for m in outbox
        }
        assert cluster.smtp is not None
        received = Counter(str(m["Message-ID"]) for m in cluster.smtp.mailbox.messages)
        sent = [m for m in outbox if m.status == OutboxStatus.SENT]
        for message in sent:
            if received[ids[message.id]] == 0:
                problems.append(f"outbox message {message.id} marked sent but never received")
        unknown = set(received) - set(ids.values())
        if unknown:
            problems.append(f"{len(unknown)} messages received that the outbox does not hold")
        repeats = sum(n - 1 for n in received.values() if n > 1)
        if repeats and not duplicates_allowed:
            problems.append(f"{repeats} messages delivered twice")
        failed_mail = [m.id for m in outbox if m.status == OutboxStatus.FAILED]
        if failed_mail:
            problems.append(f"outbox messages failed: {failed_mail[:10]}")
        db.session.remove()

    with app.app_context():  # the operators' commands, run in this process (it saves two start-ups)
        runner = app.test_cli_runner()
        checkpoint = runner.invoke(args=["audit", "checkpoint"])
        if checkpoint.exit_code != 0:
            problems.append(f"audit checkpoint failed: {checkpoint.output[-500:]}")
        verified = runner.invoke(args=["audit", "verify"])
        if verified.exit_code != 0:
            problems.append(f"audit verify failed: {verified.output[-1000:]}")
        db.session.remove()
        db.engine.dispose()

    figures = {
        "clients": load.clients,
        "cases": len(load.population.case_ids),
        "transitions_attempted": tally.attempted,
        "transitions_acknowledged": tally.acknowledged,
        "refused_conflict_409": tally.statuses.get(409, 0),
        "answers_by_status": dict(sorted(tally.statuses.items())),
        "refused_other_4xx": sum(n for s, n in tally.statuses.items() if 400 <= s < 500 and s != 409),
        "answers_503": tally.unavailable,
        "forms_resent": tally.resent,
        "connection_errors": tally.connection_errors,
        "applied_without_answer": unacknowledged,
        "unanswered_forms": len(tally.ambiguous_keys),
        "audit_entries_by_people": len(people_entries),
        "deadline_timers_fired": fired_deadlines,
        "terms_made_to_lapse": load.lapsed_timers,
        "mail_sent": len(sent),
        "mail_received": sum(received.values()),
        "mail_repeats_same_message_id": repeats,
        "kills_app_workers": cluster.kills.app_workers,
        "kills_app_instances": cluster.kills.app_instances,
        "kills_tick_workers": cluster.kills.tick_workers,
        "kills_total": cluster.kills.total,
        "database_outages": cluster.outages,
        "audit_verify": next((line for line in verified.output.splitlines() if line.startswith("OK")), "not OK"),
    }
    return Findings(problems, figures)
