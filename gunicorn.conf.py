"""gunicorn's settings for this application, read by gunicorn from the directory it starts in (``make run``, the
deployment command in the README, the benchmarks): the application preloaded, and how the garbage collector treats it.

The master imports the application once (``preload_app``, as ``--preload`` does) and forks its workers from it, so
that a recycled worker starts in milliseconds. What that import made (modules, the workflows' state machines,
SQLAlchemy's mappers, translations: about 200,000 objects tracked by the collector) lives as long as the process,
yet each full collection in a worker walks all of it (tens of milliseconds, a pause in whichever request triggered
it) and, by writing the collector's header of every object, copies into each worker the memory pages it shared with
the master. Python's recipe for servers that fork (the ``gc.freeze`` documentation) moves those objects out of the
collector's sight before forking: the master collects its garbage once the application is loaded, then freezes what
survives; each later fork (a worker recycled after ``--max-requests``) freezes what the master made since. Workers
still collect everything they allocate. Measured by ``bench/memory_bench.py`` (the memory a worker does not share
with the master) in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import gc
from typing import Any

preload_app = True


def when_ready(server: Any) -> None:
    """Once the application is loaded and before the first worker is forked: collect, then freeze the survivors."""
    gc.collect()
    gc.freeze()


def pre_fork(server: Any, worker: Any) -> None:
    """Before each fork: freeze what the master allocated since (a no-op when it allocated nothing)."""
    gc.freeze()
