"""Which statements SQLite compiles again on a connection that has already compiled them.

The driver (``sqlite3``) keeps each connection's compiled statements by their text and runs a statement it has
seen again without compiling it. SQLite itself throws a compiled statement away and compiles it anew before a run
when a value bound to it may change the plan: a column compared with a bound value that a partial index's
condition names (``timers.status = ?`` beside ``… WHERE status = 'pending'``), and a ``LIKE`` that an index could
serve. The driver binds the values of every run, so such a statement is compiled on every run: a statement of
several branches costs 100 µs or more to compile against a few µs to run. Nothing in the statement's result shows
it; SQLite's authorizer does: SQLite calls it while compiling a statement, never while running one.

:func:`counting_prepares` installs an authorizer on each connection the engine uses inside the block and records,
for each connection, which statements were compiled on it; a statement compiled twice on the same connection was
compiled again (or fell out of the driver's cache). Installing an authorizer makes SQLite compile every statement
of that connection once more, so the first compile of each text after it is not counted.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Engine, event


class Prepares:
    """What SQLite compiled inside a :func:`counting_prepares` block, connection by connection."""

    def __init__(self) -> None:
        self.compiled: dict[int, Counter[str]] = {}
        self._current: tuple[int, str] | None = None
        self._counted = False
        self._armed: dict[int, Any] = {}

    def again(self) -> list[str]:
        """The statements compiled more than once on the same connection, each once."""
        return sorted({text for counts in self.compiled.values() for text, n in counts.items() if n > 1})

    def total(self) -> int:
        """How many compiles were counted."""
        return sum(sum(counts.values()) for counts in self.compiled.values())

    def _authorize(self, action: int, *_args: Any) -> int:
        # BEGIN, COMMIT and ROLLBACK are compiled by the driver itself outside any statement's run
        if self._current is not None and not self._counted and action != sqlite3.SQLITE_TRANSACTION:
            self._counted = True
            connection, text = self._current
            self.compiled.setdefault(connection, Counter())[text] += 1
        return sqlite3.SQLITE_OK

    def _before(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        driver = conn.connection.driver_connection
        if id(driver) not in self._armed:
            self._armed[id(driver)] = driver
            driver.set_authorizer(self._authorize)
        self._current = (id(driver), " ".join(statement.split()))
        self._counted = False

    def _after(self, *_args: Any) -> None:
        self._current = None


@contextmanager
def counting_prepares(engine: Engine) -> Iterator[Prepares]:
    """Record, inside the block, which statements SQLite compiles on each connection of ``engine`` (SQLite only)."""
    prepares = Prepares()
    event.listen(engine, "before_cursor_execute", prepares._before)
    event.listen(engine, "after_cursor_execute", prepares._after)
    try:
        yield prepares
    finally:
        event.remove(engine, "before_cursor_execute", prepares._before)
        event.remove(engine, "after_cursor_execute", prepares._after)
        prepares._current = None
        for driver in prepares._armed.values():
            with suppress(sqlite3.ProgrammingError):  # closed since
                driver.set_authorizer(None)
