"""What reaches the database driver inside a block: the statements a piece of code sends, for tests that bound
their number or their size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.extensions import db


@contextmanager
def sent_statements() -> Iterator[list[tuple[str, int]]]:
    """Each statement sent through the application's engine inside the block (its whitespace collapsed), with how
    many parameters it carried (an ``executemany`` counts its parameter sets)."""
    sent: list[tuple[str, int]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((" ".join(statement.split()), len(parameters or ())))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
