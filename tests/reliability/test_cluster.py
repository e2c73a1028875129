"""The short version of the reliability runs (the long ones: ``make soak``, figures in docs/reliability.md).

One cluster (PostgreSQL, Redis, the SMTP server, two gunicorn instances, two tick workers) under conflicting
transitions over HTTP for a few seconds, with a handful of SIGKILLs of app workers, a whole app instance and
tick workers, and PostgreSQL stopped and started again once. Afterwards: every acknowledged transition is in
the log, whole; every transition in the log was acknowledged (or its answer was lost to a kill); the entries
of each case chain from state to state and end where the case is; versions only grew; each timer fired once;
each message reached the SMTP server (a repeat only with the same Message-ID); no 5xx but the 503 with
Retry-After while the database was down; the audit log verifies.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import DATABASES
from tests.reliability.cluster import redis_binary
from tests.reliability.scenario import Plan, run


@pytest.mark.slow
def test_several_servers_survive_kills_and_a_database_outage() -> None:
    if "postgresql" not in DATABASES:
        pytest.skip("the cluster runs on PostgreSQL (TEST_DATABASES leaves it out)")
    if redis_binary() is None:
        message = "redis-server is missing: install the Debian package 'redis-server' (make system-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    findings = run(
        Plan(
            seconds=25,
            applicants=3,
            cases_per_applicant=4,
            kills=6,
            outages=1,
            outage_seconds=4,
            gunicorn_workers=1,
        ),
        log=lambda line: None,
    )
    figures = findings.figures
    assert findings.problems == [], "\n".join(findings.problems)
    assert figures["transitions_acknowledged"] > 0
    assert figures["kills_total"] >= 4
    assert figures["database_outages"] == 1
    assert figures["mail_sent"] > 0
