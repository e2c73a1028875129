"""The unit of work: every public service function runs in exactly one database transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.database import begin_write, continues_open_read, session_connection, transaction_from_here
from app.engine.errors import ConflictError, Msg
from app.extensions import db
from app.services.files import discard_uncommitted, forget_committed

_DEPTH = "uow_depth"
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
CONFLICT_MESSAGE = Msg("El expediente cambió mientras lo consultaba; recargue la página e intente de nuevo.")


class SettleFirst(ConflictError):
    """A conflict that something must first be recorded in its own transactions: raised inside a unit of work, it
    rolls the unit back, then, once the outermost unit has ended, ``settle`` runs (each of its steps its own unit
    of work) before the conflict goes on to the caller. A case whose term lapsed while a person looked at it
    raises it, so that the lapse is on record when they reload the page (:func:`app.services.cases.fire`)."""

    def __init__(self, message: Msg, settle: Callable[[], object]) -> None:
        super().__init__(message)
        self.settle = settle


def is_conflict(exc: BaseException) -> bool:
    """Whether a database error means 'someone else changed this at the same time'."""
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if sqlstate in CONFLICT_SQLSTATES:
            return True
        if "database is locked" in str(orig):
            return True
    return False


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Run the block in one transaction: commit on success, roll back on any exception.

    A read transaction left open by the caller (a view that looked something up) is ended first so
    that, on SQLite, the write transaction takes its lock up front; on PostgreSQL it goes on as the unit's
    own, with what it loaded expired (:func:`app.database.continues_open_read` says when). Nested use joins
    the outer unit.
    Concurrent-modification errors become :class:`ConflictError`; a :class:`SettleFirst` settles what it
    carries once the outermost unit has rolled back.
    """
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            yield session
        finally:
            session.info[_DEPTH] = depth
        return
    continued = session.in_transaction() and continues_open_read(session)
    if continued:
        # PostgreSQL: the read transaction goes on as this unit's; what it loaded is read again when used,
        # as after the rollback that would have ended it
        session.expire_all()
        transaction_from_here(session_connection(session))  # the reads ran as their own transactions
    elif session.in_transaction():
        session.rollback()
    session.info[_DEPTH] = 1
    forget_committed(session)  # files listed by an earlier transaction that did not end here are not ours
    try:
        if not continued:
            begin_write(session)
        yield session
        session.commit()
        forget_committed(session)
    except BaseException as exc:
        session.rollback()
        discard_uncommitted(session)
        if is_conflict(exc) and not isinstance(exc, IntegrityError):
            raise ConflictError(CONFLICT_MESSAGE) from exc
        if isinstance(exc, SettleFirst):
            session.info[_DEPTH] = 0  # the settling's units are outermost ones, each committed on its own
            exc.settle()
        raise
    finally:
        session.info[_DEPTH] = 0
