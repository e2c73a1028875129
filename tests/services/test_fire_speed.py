"""A quick version of the engine benchmark (``bench/engine_bench.py``) with a loose bound.

It is timed, so it runs only with ``TIMED_TESTS=1`` (``make bench`` sets it); ``make test`` counts the same steps' work
instead (``test_fire_work.py``: function calls, the same at any load). In ``make test`` the machine is
shared with the other test worker and anything else running, and the ratio swung from 3x to 30x there. The
statement counts of ``test_fire_statements.py`` are the regression guard that runs everywhere.

``fire()`` is timed against its SQL floor on the same database in the same run, interleaved, so that a
loaded machine slows both alike; only a regression of several times (the engine doing far more work per
transition than it does now) fails. The real figures come from ``make bench``, never from a timed test.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from bench.engine_bench import side_by_side

# The benchmark's target on SQLite is 3x. In the suite, with two worker processes on two cores, the Python
# part is inflated far more than the fsync-bound floor: 2.7x to 10.5x measured on a loaded machine. The bound
# only catches a regression of several times (the engine before its rework measured 27-37x).
RATIO_BOUND = 20.0


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TIMED_TESTS") != "1",
    reason="timed: runs in `make bench` (TIMED_TESTS=1), not in `make test`, where other work shares the cores",
)
def test_fire_stays_within_a_loose_multiple_of_its_sql_floor(app: Flask, backend: str) -> None:
    if backend != "sqlite":
        # The suite's PostgreSQL server runs without fsync, so its floor is not the benchmark's (a commit
        # that waits for the disk): the ratio would measure nothing. There, test_fire_statements.py guards.
        pytest.skip("the suite's PostgreSQL runs without fsync: see test_fire_statements.py")
    fire_times, floor_times = side_by_side(8, _timed, warm_up=3)
    ratio = statistics.median(fire_times) / statistics.median(floor_times)
    assert ratio <= RATIO_BOUND, f"fire() is {ratio:.1f}x its SQL floor on SQLite"
