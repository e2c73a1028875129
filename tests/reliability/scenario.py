"""One run of the cluster under load, with the faults asked for: kills, database outages, or neither."""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from app import create_app
from tests.reliability.cluster import Cluster
from tests.reliability.load import Findings, Load, check, drain, populate


@dataclass(frozen=True)
class Plan:
    """How big and how hostile a run is."""

    seconds: float
    applicants: int
    cases_per_applicant: int
    kills: int = 0
    outages: int = 0
    outage_seconds: float = 6.0
    seed: int = 17
    gunicorn_workers: int = 2


def _status(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return int(response.status), str(response.headers.get("Retry-After") or "")
    except urllib.error.HTTPError as exc:
        return int(exc.code), str(exc.headers.get("Retry-After") or "")
    except OSError:
        return 0, ""


def _pids(cluster: Cluster) -> set[int]:
    return {m.process.pid for m in [*cluster.apps, *cluster.ticks] if m.process is not None} | set(
        cluster.app_worker_pids()
    )


def run(plan: Plan, log: object = print) -> Findings:
    """Start the cluster, set up the people and cases, load it for ``plan.seconds`` with the planned faults, let
    the workers drain, stop it and check everything. Returns the findings (``problems`` empty: all held)."""
    say = log if callable(log) else print
    cluster = Cluster(gunicorn_workers=plan.gunicorn_workers)
    rng = random.Random(plan.seed)
    begun = time.monotonic()
    try:
        cluster.start_services()
        say(f"services up in {time.monotonic() - begun:.0f} s")
        app = create_app("development", **cluster.app_overrides())
        started = time.monotonic()
        population = populate(app, applicants=plan.applicants, cases_per_applicant=plan.cases_per_applicant)
        say(f"set up {len(population.case_ids)} cases in {time.monotonic() - started:.0f} s")
        cluster.start_processes()
        say(f"app instances and tick workers up at {time.monotonic() - begun:.0f} s")
        throttling = _shared_throttling(cluster)
        pids_before = _pids(cluster)
        load = Load(cluster, app, population, seed=plan.seed)
        load.start()
        t0 = time.monotonic()
        outage_checks: list[str] = []
        faults = _schedule(plan, rng)
        for at, fault in faults:
            wait = at - (time.monotonic() - t0)
            if wait > 0:
                time.sleep(wait)
            if fault == "outage":
                seen: list[tuple[int, str]] = []

                def probe(seen: list[tuple[int, str]] = seen) -> None:
                    time.sleep(1.0)
                    seen.append(_status(cluster.ports[0], "/readyz"))

                cluster.outage(plan.outage_seconds, during=probe)
                if not seen or seen[0][0] != 503 or not seen[0][1]:
                    outage_checks.append(f"readyz during the outage answered {seen}")
                say(f"outage {cluster.outages}: readyz said {seen}")
            else:
                choose = rng.randrange(1000)
                if fault == "app_worker":
                    cluster.kill_app_worker(choose, load.busy_port(rng))
                elif fault == "app_instance":
                    cluster.kill_app_instance(choose)
                else:
                    cluster.kill_tick_worker(choose)
        remaining = plan.seconds - (time.monotonic() - t0)
        if remaining > 0:
            time.sleep(remaining)
        duration = time.monotonic() - t0
        load.finish()
        after_outages = [_status(port, "/readyz")[0] for port in cluster.ports]
        if plan.outages and not plan.kills and _pids(cluster) != pids_before:
            outage_checks.append("an app process was restarted during the outage run")
        if plan.outages and any(status != 200 for status in after_outages):
            outage_checks.append(f"instances not ready after the outages: {after_outages}")
        problems = drain(app)
        say(f"load stopped and drained at {time.monotonic() - begun:.0f} s")
        cluster.stop_processes()
        findings = check(cluster, app, load, duplicates_allowed=bool(plan.kills or plan.outages))
        findings.problems[:0] = problems + outage_checks + throttling
        findings.figures["seconds"] = round(duration)
        findings.figures["restarts_by_supervisor"] = sum(m.restarts for m in [*cluster.apps, *cluster.ticks])
        return findings
    finally:
        cluster.stop()


def _schedule(plan: Plan, rng: random.Random) -> list[tuple[float, str]]:
    """Random moments for the kills and evenly spread outages, in order."""
    faults: list[tuple[float, str]] = []
    for _ in range(plan.kills):
        kind = rng.choices(("app_worker", "app_instance", "tick_worker"), weights=(55, 15, 30))[0]
        faults.append((rng.uniform(1.0, plan.seconds - 2.0), kind))
    for n in range(plan.outages):
        faults.append((plan.seconds * (n + 1) / (plan.outages + 1), "outage"))
    return sorted(faults)


def _shared_throttling(cluster: Cluster) -> list[str]:
    """Failed logins on both instances count in the one store (Redis): the throttling is shared."""
    import http.client
    from urllib.parse import urlencode

    from tests.support.forms import hidden_fields

    email = "nadie-soak@example.test"
    for port in cluster.ports:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        form = hidden_fields(page, "/login")
        form.update(email=email, password="equivocada-equivocada")
        conn.request(
            "POST",
            "/login",
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        conn.getresponse().read()
        conn.close()
    import redis

    client = redis.Redis(host="127.0.0.1", port=cluster.redis_port)
    counts = []
    for key in client.scan_iter(match="*login-account*"):
        if client.type(key) == b"string":
            counts.append(int(client.get(key) or 0))
    if 2 not in counts:
        return [f"failed logins on two instances were not counted together in Redis: {counts}"]
    return []
