"""Engine-level settings: SQLite pragmas and write transactions that take the lock up front; column reads
without the ORM's layer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from time import monotonic
from types import FunctionType, ModuleType
from typing import Any, NamedTuple, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Executable,
    Integer,
    Result,
    Select,
    String,
    Table,
    TableValuedAlias,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy import cast as sql_cast
from sqlalchemy import column as sql_column
from sqlalchemy import exc as sa_exc
from sqlalchemy import tuple_ as sql_tuple
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapper, Session, SessionTransaction, class_mapper
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql import operators
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement, Grouping, SQLColumnExpression, UnaryExpression
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.sql.selectable import Join
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import LRUCache

_O = TypeVar("_O")

WRITE_OPTION = "tramites_write"
"""Execution option set by the services' unit of work: on SQLite the transaction starts with BEGIN IMMEDIATE."""


_LAST_USED = "tramites_last_used"
"""Key of a pooled connection's ``info``: when it was last given back to the pool (``monotonic()``)."""


def ping_idle_connections(engine: Engine, after_idle: float) -> None:
    """Check a pooled connection with a ping (``SELECT 1``) when it is taken from the pool only if it lay
    unused for ``after_idle`` seconds or more (0: on every checkout, as ``pool_pre_ping`` does). A connection
    found dead is dropped with every other one the pool holds and a new one is made, so the request does not
    see it. Under load a connection is given back and taken again within milliseconds: the ping, one round
    trip per request, would only confirm what the previous request just proved. A connection just made is
    never pinged."""

    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is None or monotonic() - last_used < after_idle:
            return  # new (the info is emptied when a connection is replaced), or used a moment ago
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # as pool_pre_ping: this connection and every older one are replaced; the pool tries again
                raise sa_exc.InvalidatePoolError(str(error)) from error
            raise


def for_short_statements(engine: Engine) -> None:
    """Turn PostgreSQL's JIT compilation and its parallel workers off for the application's connections (``SET``
    once per new connection, outside any transaction); the application sends short statements and streams plain
    rows, and neither pays for itself here.

    - JIT: the server compiles a statement when its estimated cost passes ``jit_above_cost``, whatever the rows it
      returns first: with a large log, an export of the whole log (a cursor read a batch at a time) spent some
      25 ms compiling before its first row, 33 ms against 6.6 ms with 10,000,000 entries, and the whole scan took
      longer with JIT than without (2.07 s against 1.91 s).
    - Parallel workers: the server plans a parallel scan when it expects many rows, and a plan kept for a prepared
      statement (a generic plan, made from averages without the values) can expect thousands where a list finds
      two: the staff's work queue at 100,000 cases, under such plans, spent 15-20 ms starting workers to read two
      rows through an index in 0.3 ms. The application's reads go through indexes to the rows they show, and its
      long reads (exports, the log's verification) are cursors, which the server never runs in parallel."""

    @event.listens_for(engine, "connect")
    def _short_statements(dbapi_connection: Any, _record: Any) -> None:
        kept = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # session settings, not part of a transaction a rollback would undo
        try:
            dbapi_connection.execute("SET jit = off")
            dbapi_connection.execute("SET max_parallel_workers_per_gather = 0")
        finally:
            dbapi_connection.autocommit = kept


SQLITE_KEPT_STATEMENTS = 512
"""Compiled statements each SQLite connection keeps (the driver's default: 128). The driver compiles a statement the
first time a connection runs its text and keeps the last ones run. The pages, transitions and workers of every role
run several hundred texts (a test that opens every page as each role runs 187, its set-up's included): with the
default, a connection that has served more kinds of request than its cache holds drops the statements of the least
recent ones and compiles them again when they come back (10-100 µs each, against a few µs to run most). A kept
statement takes some 8 KB."""


def engine_options(url: str, options: Mapping[str, Any], *, share_compiled: bool = False) -> dict[str, Any]:
    """The engine options for the database at ``url``: ``options``, and on SQLite the connections' kept statements
    (:data:`SQLITE_KEPT_STATEMENTS`, unless ``options`` give their own). With ``share_compiled``, the engine keeps
    its compiled statements in :data:`PROCESS_STATEMENTS`, with every other engine of the process that asks."""
    merged = dict(options)
    if make_url(url).get_backend_name() == "sqlite":
        merged["connect_args"] = {"cached_statements": SQLITE_KEPT_STATEMENTS, **merged.get("connect_args", {})}
    if share_compiled:
        merged["execution_options"] = {"compiled_cache": PROCESS_STATEMENTS, **merged.get("execution_options", {})}
    return merged


_SETTING_TYPES = (str, int, float, bool, type(None), type, FunctionType, ModuleType)
_SETTINGS_KEY = "_tramites_settings_key"
_SETTINGS_KEYS: dict[tuple[Any, ...], int] = {}


def dialect_settings_key(dialect: Dialect) -> int:
    """A number that two dialect objects share when they compile every statement alike: the same dialect class
    with the same settings (server version, parameter style, identifier lengths, JSON functions, driver module …:
    every attribute the object holds that is a plain value, a class, a function or a module; objects built from
    those, such as its identifier preparer, follow them). Worked out on the first call, which comes with a
    statement's execution, after the dialect has read its server's version on the first connection, and kept on
    the dialect."""
    key: int | None = dialect.__dict__.get(_SETTINGS_KEY)
    if key is None:
        settings = tuple(
            (name, value)
            for name, value in sorted(vars(dialect).items())
            if isinstance(value, _SETTING_TYPES)
            or (isinstance(value, tuple) and all(isinstance(item, _SETTING_TYPES) for item in value))
        )
        key = _SETTINGS_KEYS.setdefault((type(dialect), settings), len(_SETTINGS_KEYS))
        setattr(dialect, _SETTINGS_KEY, key)
    return key


class SharedCompiledStatements(LRUCache[Any, Any]):
    """Compiled statements kept for every engine of the process whose dialect has the same settings.

    SQLAlchemy keys an engine's compiled statements by its dialect object, so each engine compiles every statement
    it runs again. A process that builds many engines on databases of the same kind (the test suite builds an
    application, and so an engine, for every test) compiles them once here instead: the dialect in the key is
    replaced by :func:`dialect_settings_key`. A server builds one engine per process and keeps SQLAlchemy's own
    cache."""

    def get(self, key: Any, default: Any = None) -> Any:
        """The statement compiled under ``key`` (SQLAlchemy's: the dialect first), or ``default``."""
        return super().get((dialect_settings_key(key[0]), *key[1:]), default)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__((dialect_settings_key(key[0]), *key[1:]), value)


PROCESS_STATEMENTS = SharedCompiledStatements(2000)
"""The compiled statements of the engines built with ``engine_options(..., share_compiled=True)``."""


def configure_engine(engine: Engine, ping_after_idle: float = 0.0) -> None:
    """Apply per-dialect connection settings: the pooled connections' ping (:func:`ping_idle_connections`).
    On PostgreSQL: writes held until the next statement (:func:`defer_writes`), no JIT and no parallel workers
    (:func:`for_short_statements`), and the transactions that wrote noted (:func:`note_writes`, for
    :func:`end_read`).
    On SQLite: WAL, synchronous=FULL, foreign keys, busy timeout, and explicit BEGIN (IMMEDIATE for write
    units) instead of the driver's implicit transactions."""
    ping_idle_connections(engine, ping_after_idle)
    if engine.dialect.name == "postgresql":
        defer_writes(engine)
        for_short_statements(engine)
        note_writes(engine)
        reads_outside_transactions(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        # on the driver's cursor, with the cursor events (as ``exec_driver_sql`` would, without its result)
        cursor = conn.connection.cursor()
        try:
            _send(conn, cursor, "BEGIN IMMEDIATE" if immediate else "BEGIN", (), many=False)
        finally:
            cursor.close()


_OPEN_READ_STATES = frozenset({TransactionStatus.IDLE, TransactionStatus.INTRANS})
_FLUSHED_IN = "tramites_flushed_in"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    """Remember which transaction of ``session`` has written through the ORM (see :func:`continues_open_read`)."""
    session.info[_FLUSHED_IN] = session.get_transaction()


def continues_open_read(session: Session) -> bool:
    """Whether a unit of work may go on in the transaction ``session`` has open (the request's reads: the
    login, the access check) instead of ending it and checking out a connection again. On PostgreSQL at READ
    COMMITTED every statement sees what was committed before it started, so the write statements of a
    transaction begun for the reads see what they would in a new one; ending it costs a ``ROLLBACK`` round
    trip and a second checkout of a connection per POST. Only when the
    server's transaction is usable (not failed by an earlier error) and nothing was written in it or is
    pending (those changes are dropped with the transaction, as before). Never on SQLite, where a write
    transaction begins with ``BEGIN IMMEDIATE`` to hold the write lock before its first read."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or dialect.default_isolation_level != "READ COMMITTED":
        return False
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED_IN) is session.get_transaction():
        return False  # changes made outside a unit of work are dropped with the transaction, as before
    connection = session_connection(session).connection.dbapi_connection
    return getattr(getattr(connection, "info", None), "transaction_status", None) in _OPEN_READ_STATES


_WROTE = "tramites_wrote"
"""Key of a connection's ``info``: set when its transaction has sent a statement other than a ``SELECT`` (see
:func:`end_read`)."""


def note_writes(engine: Engine) -> None:
    """On ``engine``'s connections, note whether the transaction has sent anything but a ``SELECT`` or a ``WITH``
    query that only reads (a write, a savepoint, a statement not recognised: anything :func:`end_read` must not
    commit). On a connection still in autocommit (:func:`reads_outside_transactions`), such a statement, a read
    that locks rows and one on a server-side cursor first turn it off: the transaction they need begins with
    them."""

    @event.listens_for(engine, "begin")
    def _nothing_written_yet(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _note_a_write(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("SELECT") and not _reads_with(statement):
            conn.info[_WROTE] = True
            transaction_from_here(conn)
        elif cursor.__class__ is not _PLAIN_CURSOR or _locks(statement):
            transaction_from_here(conn)


_CHANGES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_LOCKING = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
_PLAIN_CURSOR = psycopg.Cursor


@lru_cache(maxsize=4096)
def _locks(statement: str) -> bool:
    """Whether a reading ``statement`` locks the rows it reads (``FOR UPDATE``, ``FOR SHARE`` …): a lock that only a
    transaction keeps. (A word such as ``FOR SHARE`` inside a text it compares counts too.)"""
    return _LOCKING.search(statement) is not None


def reads_outside_transactions(engine: Engine) -> None:
    """On PostgreSQL, run each read that no transaction needs as a transaction of its own (the driver's
    autocommit), and begin a transaction before anything else.

    At READ COMMITTED each statement sees what was committed before it started, inside a transaction or not; a
    transaction that only reads costs two round trips more (``BEGIN`` before its first statement, ``COMMIT`` or
    ``ROLLBACK`` after its last) and the server's work for them, on every page. A connection is given out in
    autocommit; the driver's own transaction is begun again (autocommit off, before the statement is sent) by a
    unit of work (:func:`begin_write`, :func:`transaction_from_here`), and by any statement that needs one: a
    write, a savepoint, anything not recognised as a read, a read that locks rows (``FOR UPDATE`` …), a
    server-side cursor (rows streamed a batch at a time). Everything from there to the end of the session's
    transaction is one transaction, as before."""

    @event.listens_for(engine, "checkout")
    def _autocommit_until_needed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not dbapi_connection.autocommit and dbapi_connection.info.transaction_status is TransactionStatus.IDLE:
            dbapi_connection.autocommit = True


def transaction_from_here(connection: Connection) -> None:
    """On PostgreSQL, make what ``connection`` sends from now on one transaction (see
    :func:`reads_outside_transactions`); nothing is sent until its next statement."""
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def _reads_with(statement: str) -> bool:
    """Whether ``statement`` is a ``WITH`` query that names no writing command anywhere (a word such as
    ``UPDATE`` inside a text it compares counts too: such a statement is taken for a write)."""
    return statement.startswith("WITH") and _CHANGES.search(statement) is None


def end_read(session: Session) -> None:
    """End ``session``'s transaction: with ``COMMIT`` when, on PostgreSQL, it has only read; otherwise (and on
    SQLite) with ``ROLLBACK``, as ending the session would.

    psycopg forgets every statement it has prepared on a connection when the connection rolls back (and, when it
    had prepared any, sends ``DEALLOCATE ALL``: one round trip more), with the run counts that decide what to
    prepare. Each request ends its session, which rolled back the reads still open, so a connection never kept a
    prepared statement from one request to the next: the server parsed and planned every statement of every
    request again, and a page that ran one statement five times paid the ``DEALLOCATE ALL``; the workers' polls
    did the same every few seconds. For a transaction that has only read, ``COMMIT`` ends it as ``ROLLBACK``
    does. Committed only when nothing could have been written: no ORM change pending, no write held for later
    (:func:`defer_writes`), no statement other than a ``SELECT`` or a reading ``WITH`` query sent in it
    (:func:`note_writes`: an ORM flush's, a savepoint's …). A read that failed is committed too: the server ends
    a failed transaction's ``COMMIT`` as a ``ROLLBACK``, without an error."""
    if not commit_read(session):
        session.rollback()


def commit_read(session: Session) -> bool:
    """Commit ``session``'s transaction when, on PostgreSQL, it has only read (see :func:`end_read`); whether it
    did. Anything else is left as it is, for ending the session to roll it back."""
    if _only_read(session):
        session.commit()
        return True
    return False


def _only_read(session: Session) -> bool:
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    if session.get_bind().dialect.name != "postgresql":
        return False
    connection = session_connection(session)
    return not (connection.info.get(_WROTE) or connection.info.get(_DEFERRED))


def past(order: Sequence[ColumnElement[Any]], **types: Any) -> ColumnElement[bool]:
    """The rows after a page's last one in a list read a page at a time (keyset pagination): ``order``, the list's
    ``ORDER BY`` (ascending), compared as a row value with the parameters named in ``types`` (name → SQL type), the
    last row's values in the same order. PostgreSQL and SQLite both compare row values as their sort does."""
    return sql_tuple(*order) > sql_tuple(*(bindparam(name, type_=kind) for name, kind in types.items()))


def one_of(column: SQLColumnExpression[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a fixed list of constants, written as ``column = a OR column = b …``. SQLAlchemy
    renders a list given to ``in_()`` as an expanding parameter, which it writes into the statement's text again
    on every execution (a regular-expression pass and the list's parameters: about a third of a small read's
    time); plain comparisons are compiled once, with the statement."""
    return or_(*(column == value for value in values))


_PLAIN_CONSTANT = re.compile(r"[\w.:/ -]*")


def constant(value: str | int | Enum) -> ColumnElement[Any]:
    """``value`` written into the statement's text instead of bound as a parameter: for values a statement takes
    from the code or the procedures' declarations (a procedure's name, its states, a status, a department's code),
    never from a request, and only plain ones (letters, digits and ``_ . : / -``; a string is quoted).

    psycopg prepares the statements a process runs often, and PostgreSQL may then keep for one a plan made without
    its parameters' values (a generic plan, from averages: a procedure's state as common as the average state, say,
    or a parallel scan for the rows it expects). With the value in the text the plan is made for it, from the
    column's statistics, whatever the server keeps; and a partial index is used only by a query that names its
    condition's constant. A statement so written is one text for each set of constants, so the constants must come
    from a fixed set."""
    plain = value.value if isinstance(value, Enum) else value
    if isinstance(plain, bool) or not isinstance(plain, str | int):
        raise TypeError(f"not a plain constant: {plain!r}")
    if isinstance(plain, int):
        return literal_column(str(int(plain)))
    if not _PLAIN_CONSTANT.fullmatch(plain):
        raise ValueError(f"not a plain constant: {plain!r}")
    return literal_column(f"'{plain}'")


def is_constant(column: SQLColumnExpression[Any], value: Enum) -> ColumnElement[bool]:
    """``column = '<value>'`` with an enumeration's value written into the statement (:func:`constant`), as the
    condition of a partial index states it (the pending or failed messages, the answered requests)."""
    return column == constant(value)


def for_ids(statement: Select[*tuple[Any, ...]], column: Column[int], name: str) -> FixedStatement:
    """``statement`` restricted to the rows whose ``column`` is among the integers bound to ``:name`` as one list,
    one fixed statement whatever the list's length. On PostgreSQL the list is an array (:func:`among`); on SQLite
    its rows (``json_each``) come first and ``column``'s table is joined to them (``CROSS JOIN``, which SQLite
    keeps in the order written), so that SQLite reads the rows through ``column``'s index. Left to choose, SQLite,
    which has no statistics, prefers the index of another condition of the statement when there is one (a
    status, say) and reads every row having that status: a work queue's timers then cost a read of every
    pending timer of every case. A value the list repeats gives its rows once, as an ``IN`` would (the list is
    bound without repeats: :class:`IdList`)."""
    ids = func.json_each(bindparam(name, type_=IdList())).table_valued("value").alias(f"{name}_list")
    return FixedStatement(
        statement.where(among(column, name)),
        sqlite=statement.select_from(_ListFirst(ids, column.table, ids.c.value == column)),
    )


class _ListFirst(Join):
    """An inner join whose left side SQLite reads first (``CROSS JOIN … ON``, SQLite's way of fixing the order)."""

    inherit_cache = True


@compiles(_ListFirst, "sqlite")
def _list_first_sqlite(element: _ListFirst, compiler: Any, **kw: Any) -> str:
    joined: str = compiler.visit_join(element, **kw)
    return joined.replace(" JOIN ", " CROSS JOIN ", 1)  # the first is this join's own: its left side is a list


class IdList(TypeDecorator[list[int]]):
    """A list of integer identifiers bound as one value: a PostgreSQL array, elsewhere JSON text."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[int] | None, dialect: Dialect) -> list[int] | None:
        """The list without repeats, in its order: joined to a table (:func:`for_ids`), a repeated id would give
        its rows again."""
        return None if value is None else list(dict.fromkeys(value))

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """An ``INTEGER[]`` on PostgreSQL, JSON text elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Integer))
        return dialect.type_descriptor(JSON())


class _AmongIds(ColumnElement[bool]):
    __visit_name__ = "among_ids"
    inherit_cache = False  # compiled once by the fixed statements that use it
    type = Boolean()

    def __init__(self, column: SQLColumnExpression[Any], name: str) -> None:
        self.column = column
        self.ids = bindparam(name, type_=IdList())

    def self_group(self, against: OperatorType | None = None) -> ColumnElement[Any]:
        """Itself in a ``WHERE`` or among ``AND``/``OR``, as a comparison is. A boolean-typed expression there is
        otherwise taken for a boolean value and written ``… = 1`` on SQLite, which has no boolean type: the
        comparison then hides the column from its index, and the statement scans the whole table."""
        if against is None or against in (operators.and_, operators.or_, operators._asbool):
            return self
        return Grouping(self)

    def _negate(self) -> ColumnElement[Any]:
        return UnaryExpression(Grouping(self), operator=operators.inv, type_=Boolean())


@compiles(_AmongIds, "postgresql")
def _among_ids_postgresql(element: _AmongIds, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY ({compiler.process(element.ids, **kw)})"


@compiles(_AmongIds, "sqlite")
def _among_ids_sqlite(element: _AmongIds, compiler: Any, **kw: Any) -> str:
    ids = compiler.process(element.ids, **kw)
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 - compiled


def among(column: SQLColumnExpression[Any], name: str) -> ColumnElement[bool]:
    """``column IN`` the list of integers bound to ``:name``, as one statement text whatever the list's length:
    ``column = ANY(:name)`` with an array on PostgreSQL, ``column IN (SELECT value FROM json_each(:name))``
    on SQLite. An expanding ``IN`` writes one parameter per value into the text on every execution, and on
    PostgreSQL each length is a statement of its own for the driver (parsed again, never prepared); this one is
    compiled once (a :class:`FixedStatement`) and its plan reused."""
    return _AmongIds(column, name)


def column_rows(session: Session, statement: Executable, params: Mapping[str, Any] | None = None) -> Result[Any]:
    """The rows of a statement that selects columns (no entities), sent through the session's connection:
    the same transaction as the ORM's ``session.execute``, without the ORM's layer around it (about half the
    CPU of a small read). Changes pending in the session are flushed first, as the ORM's autoflush would."""
    _autoflush(session)
    return session_connection(session).execute(statement, dict(params) if params else None)


_CONNECTION = "tramites_connection"
"""Key of a session's ``info``: the connection of its current transaction (see :func:`session_connection`)."""


def session_connection(session: Session) -> Connection:
    """``session.connection()``: the connection of the session's transaction (begun if none is), kept for that
    transaction. A transition asks for it a dozen times and a page a few, and each ``session.connection()``
    walks the session's bind and transaction states (10-15 µs); the connection of a transaction never changes,
    so while the same transaction is the session's innermost and active it is given back as is. After a commit,
    a rollback or a failed flush it is asked of the session again (which begins anew or raises as usual), and
    so it is inside a savepoint (``begin_nested``) the first time: the session emits the ``SAVEPOINT`` only
    when its connection is first asked for there, and writes held for later
    (:meth:`FixedStatement.send_later`) must be held inside it, to go with it if it is rolled back."""
    transaction = _innermost(session)
    if transaction is not None and transaction.is_active:
        kept = session.info.get(_CONNECTION)
        if kept is not None and kept[0] is transaction:
            held: Connection = kept[1]  # annotated rather than ``cast``, a call each time
            return held
    connection = session.connection()
    session.info[_CONNECTION] = (_innermost(session), connection)
    return connection


def _innermost(session: Session) -> SessionTransaction | None:
    """The session's innermost transaction: its savepoint's, if one is open, else its own."""
    return session.get_nested_transaction() or session.get_transaction()


def begin_write(session: Session) -> Connection:
    """Begin ``session``'s transaction as a write (``BEGIN IMMEDIATE`` on SQLite: the write lock before the first
    read) and keep its connection for :func:`session_connection`, which would otherwise ask the session again."""
    connection = session.connection(execution_options={WRITE_OPTION: True})
    session.info[_CONNECTION] = (_innermost(session), connection)
    if connection.dialect.name == "postgresql":
        transaction_from_here(connection)
    return connection


def _autoflush(session: Session) -> None:
    """Flush the changes pending in ``session`` before a read that bypasses the ORM, as its autoflush would."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()


class _Mapped(NamedTuple):
    """What :func:`attach_loaded` needs of a mapped class, looked up once."""

    mapper: Mapper[Any]
    keys: tuple[str, ...]  # the primary key's attributes
    columns: frozenset[str]  # every column attribute


_MAPPED: dict[type, _Mapped] = {}
_UNLOADED: dict[tuple[type, tuple[str, ...]], frozenset[str]] = {}


def _mapped(cls: type) -> _Mapped:
    kept = _MAPPED.get(cls)
    if kept is None:
        mapper: Mapper[Any] = class_mapper(cls)
        keys = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        kept = _MAPPED[cls] = _Mapped(mapper, keys, frozenset(prop.key for prop in mapper.column_attrs))
    return kept


def attach_loaded(session: Session, cls: type[_O], values: Mapping[str, Any]) -> _O:
    """An object of ``cls`` holding the stored ``values`` (column attributes by name, the primary key's among
    them, as the columns' types give them) as a persistent object of ``session``, as if the ORM had loaded
    the row: the object the session already holds for that identity, told the stored values, or a new one
    attached without a read. Column attributes left out of ``values`` load on first access; relationships
    load on first access unless set with ``set_committed_value``. The hot paths read their rows as columns and
    attach them with this, without the ORM's row processing around the read."""
    mapped = _mapped(cls)
    key = mapped.mapper.identity_key_from_primary_key(tuple(values[name] for name in mapped.keys))
    held: _O | None = session.identity_map.get(key)
    if held is not None:
        for name, value in values.items():
            set_committed_value(held, name, value)
        return held
    loaded: _O = mapped.mapper.class_manager.new_instance()
    # What make_transient_to_detached and Session.add do for a new object, without their general cases: the
    # values straight into its dictionary (a new object has no history to commit), its identity, the column
    # attributes not given marked expired (loaded when first read; a relationship not set loads lazily as
    # on any loaded object), and the object put in the session's identity map with the session's attach events
    # (no cascade: a new object holds no related objects to cascade to).
    state = instance_state(loaded)
    state.dict.update(values)
    state.key = key
    given = tuple(values)
    unloaded = _UNLOADED.get((cls, given))
    if unloaded is None:
        unloaded = _UNLOADED[(cls, given)] = mapped.columns.difference(given)
    if unloaded:
        state.expired_attributes.update(unloaded)
    session._update_impl(state)
    return loaded


_ROW_READS: dict[type, tuple[tuple[str, ...], FixedStatement]] = {}


def get_loaded(session: Session, cls: type[_O], ident: Any) -> _O | None:
    """``session.get(cls, ident)`` (one primary-key column) for the pages' hot paths: the object the session
    already holds, when loaded; else one read of the row's mapped columns, attached as loaded
    (:func:`attach_loaded`), without the ORM's loading around it; ``None`` when no row has that key."""
    mapper = _mapped(cls).mapper
    held: _O | None = session.identity_map.get(mapper.identity_key_from_primary_key((ident,)))
    if held is not None and not instance_state(held).expired_attributes:
        return held
    kept = _ROW_READS.get(cls)
    if kept is None:
        (key_column,) = mapper.primary_key
        keys = tuple(prop.key for prop in mapper.column_attrs)
        statement = select(*(prop.columns[0] for prop in mapper.column_attrs)).where(key_column == bindparam("ident"))
        kept = _ROW_READS[cls] = (keys, FixedStatement(statement))
    keys, fixed = kept
    rows = fixed.read(session, {"ident": ident})
    return attach_loaded(session, cls, dict(zip(keys, rows[0], strict=True))) if rows else None


def _plain_type(column: Column[Any]) -> Any:
    """The SQL type of ``column``'s stored values (an enum is stored as its text; a decorated type as its own)."""
    kind = column.type
    if isinstance(kind, SAEnum):
        return String()
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def json_recordset(param: str, columns: Sequence[Column[Any]], name: str) -> TableValuedAlias:
    """On PostgreSQL, the rows of the JSON array bound to ``:param`` (as :func:`recordset_json` writes it) as a
    table with ``columns``' names and types (``json_to_recordset``): any number of rows as one parameter, so that
    a statement's shape does not depend on how many rows it writes and data-modifying ``WITH`` parts can join it.
    One C-encoded string instead of a driver-adapted array per column."""
    fields = [sql_column(c.key, _plain_type(c)) for c in columns]
    rows = func.json_to_recordset(sql_cast(bindparam(param, type_=String), postgresql.JSON))
    return rows.table_valued(*fields).render_derived(name=name, with_types=True)


def _json_value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()  # an aware datetime keeps its offset: PostgreSQL reads it as the same instant
    raise TypeError(f"not a JSON value: {value!r}")


def recordset_json(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    """``rows`` (their ``keys``) as the JSON array :func:`json_recordset` reads."""
    return json.dumps([{key: row[key] for key in keys} for row in rows], default=_json_value)


def insert_of(table: Table, keys: Sequence[str]) -> Insert:
    """``INSERT INTO table (keys…) VALUES (:key…)``: the columns named, each value from the bind parameter of
    its name and the column's type. Its SQL does not depend on the values given (``insert(table)`` is compiled
    for the keys of each call's parameters), so it can be a :class:`FixedStatement`; every column not named
    must have a server-side default or be the table's generated key."""
    return insert(table).values({key: bindparam(key, type_=table.c[key].type) for key in keys})


class FixedStatement:
    """A Core statement whose SQL text never changes (no expanding ``IN``, no per-call columns), compiled once
    per dialect's settings (:func:`dialect_settings_key`: once per process however many engines it builds) and
    sent straight to the driver's cursor of the session's connection.

    SQLAlchemy's ``Connection.execute`` builds an execution context and a result object around every
    statement (cache look-up, parameter dictionaries, result metadata): on the hot paths that costs several
    times the driver's own work. Here the bind names, their type processors and the columns' result
    processors are worked out once; each call converts its parameters and runs the SQL. What the connection
    promises is kept: the transaction it is in, the ``before_cursor_execute``/``after_cursor_execute`` events
    (the statement counts of the tests and benchmarks), and driver errors raised as SQLAlchemy's
    (``IntegrityError`` …, with a lost connection invalidated as usual). Statements that need SQLAlchemy's work
    per call (Python-side column defaults, expanding parameters, schema translation) are refused when compiled.
    """

    __slots__ = ("_plans", "statement", "variants")

    def __init__(self, statement: Executable, **variants: Executable) -> None:
        """``statement``, or on a database named in ``variants`` (a dialect's name: ``sqlite=…``) the statement
        given for it, which must select the same columns in the same order and take the same parameters."""
        self.statement = statement
        self.variants = variants
        self._plans: dict[int, _Plan] = {}

    def _plan(self, dialect: Any) -> _Plan:
        plan = self._plans.get(dialect.__dict__.get(_SETTINGS_KEY))  # no key yet: the dialect's first statement
        if plan is None:
            statement = self.variants.get(dialect.name, self.statement)
            plan = self._plans[dialect_settings_key(dialect)] = _Plan.compile(statement, dialect)
        return plan

    def read(self, session: Session, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """:meth:`rows` in the session's transaction; changes pending in the session are flushed first, as the
        ORM's autoflush would (rows an earlier step added as objects count)."""
        _autoflush(session)
        return self.rows(session_connection(session), params)

    def execute(self, connection: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run the statement with ``params`` (every bind parameter without a value, by name); returns the
        driver's row count (the rows an ``UPDATE`` or ``DELETE`` matched)."""
        plan = self._plan(connection.dialect)
        cursor = _cursor(connection)
        try:
            _send(connection, cursor, plan.sql, plan.parameters(params or {}), many=False)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def send_later(self, connection: Connection, params: Mapping[str, Any] | None = None) -> None:
        """:meth:`execute`, for a write whose row count nobody reads: on PostgreSQL it is held until the
        transaction's next statement or its commit and sent then with the other held writes in one round trip
        (:func:`send_deferred`); an error it meets is raised then. Elsewhere it runs at once."""
        if connection.dialect.name != "postgresql":
            self.execute(connection, params)
            return
        plan = self._plan(connection.dialect)
        _deferred(connection).append((plan.sql, plan.parameters(params or {}), False))

    def send_many_later(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """:meth:`execute_many` as :meth:`send_later` sends a write."""
        if not rows:
            return
        if connection.dialect.name != "postgresql":
            self.execute_many(connection, rows)
            return
        plan = self._plan(connection.dialect)
        _deferred(connection).append((plan.sql, [plan.parameters(row) for row in rows], True))

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per parameter set of ``rows`` (the driver's ``executemany``: one statement
        for the events, as SQLAlchemy's own ``executemany``)."""
        if not rows:
            return
        plan = self._plan(connection.dialect)
        cursor = _cursor(connection)
        try:
            _send(connection, cursor, plan.sql, [plan.parameters(row) for row in rows], many=True)
        finally:
            cursor.close()

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run the statement (a ``SELECT``, or DML with ``RETURNING``) and return its rows as tuples, each value
        converted by its column's type as SQLAlchemy's results would (dates from SQLite's text, JSON …)."""
        plan = self._plan(connection.dialect)
        cursor = _cursor(connection)
        try:
            _send(connection, cursor, plan.sql, plan.parameters(params or {}), many=False)
            fetched = cursor.fetchall()
            conversions = plan.result_conversions(cursor)
        finally:
            cursor.close()
        if not conversions:
            return [tuple(row) for row in fetched]
        rows: list[tuple[Any, ...]] = []
        for row in fetched:  # a loop, not a generator per row: only the columns that have a conversion
            values = list(row)
            for index, convert in conversions:
                values[index] = convert(values[index])
            rows.append(tuple(values))
        return rows


_Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Plan:
    """A statement compiled for one dialect: its SQL, how each call's parameters become the driver's, and
    (worked out on the first call that returns rows) each result column's conversion."""

    sql: str
    names: tuple[str, ...]
    driver_names: tuple[str, ...] | None  # the keys the driver takes (named style); None: positional
    processors: tuple[tuple[int, _Processor], ...]  # the parameters that have a conversion, by position
    constants: dict[str, Any]
    result_types: tuple[Any, ...]
    dialect: Any
    results: tuple[tuple[int, _Processor], ...] | None = None

    @classmethod
    def compile(cls, statement: Executable, dialect: Any) -> _Plan:
        """Compile ``statement`` for ``dialect``; refuse what would need SQLAlchemy's work on every call."""
        compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a fixed statement cannot have Python-side column defaults: give every value")
        if compiled.literal_execute_params or compiled.post_compile_params or compiled.schema_translate_map:
            raise ValueError("a fixed statement cannot have expanding or literal-execute parameters")
        if compiled.positional:
            names = tuple(compiled.positiontup)
            driver_names = None
        else:
            names = tuple(compiled.binds)
            escaped = compiled.escaped_bind_names or {}
            driver_names = tuple(escaped.get(name, name) for name in names)
        bind_processors = compiled._bind_processors
        constants = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required and name in names
        }
        return cls(
            sql=compiled.string,
            names=names,
            driver_names=driver_names,
            processors=tuple(
                (index, processor)
                for index, processor in enumerate(bind_processors.get(name) for name in names)
                if processor is not None
            ),
            constants=constants,
            result_types=tuple(entry[3] for entry in compiled._result_columns),
            dialect=dialect,
        )

    def parameters(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters for one call (a tuple, or a dictionary in the named style)."""
        if self.constants:
            params = {**self.constants, **params}  # a value given replaces the statement's own
        try:
            values = [params[name] for name in self.names]
        except KeyError as missing:
            raise KeyError(f"no value for the bind parameter {missing} of a fixed statement") from None
        for index, convert in self.processors:  # only the parameters whose type converts them
            values[index] = convert(values[index])
        if self.driver_names is None:
            return tuple(values)
        return dict(zip(self.driver_names, values, strict=True))

    def result_conversions(self, cursor: Any) -> tuple[tuple[int, _Processor], ...]:
        """The result columns that have a conversion, by position, with it (from the types the statement
        selects and the driver's description of the cursor's columns), worked out once: the description is
        read only then (psycopg builds it anew on every access)."""
        results = self.results
        if results is None:
            processors = (
                quick_conversion(kind, kind._cached_result_processor(self.dialect, column[1]))
                for kind, column in zip(self.result_types, cursor.description, strict=True)
            )
            results = self.results = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        return results


def quick_conversion(kind: Any, processor: _Processor | None) -> _Processor | None:
    """``processor``, the conversion SQLAlchemy gives a result column of type ``kind``; for an enumeration
    stored as its values' text, a dictionary's own look-up (one C call) instead of the two Python calls of
    SQLAlchemy's, used only when it gives the same member as SQLAlchemy's for every stored value and ``None``.
    An unknown value raises ``KeyError``, a ``LookupError`` as SQLAlchemy's."""
    if processor is None or not isinstance(kind, SAEnum) or kind.enum_class is None:
        return processor
    members: dict[Any, Any] = {member.value: member for member in kind.enum_class}
    members[None] = None
    try:
        if all(processor(value) is member for value, member in members.items()):
            return members.__getitem__
    except LookupError:  # the column's values are not the members' values: SQLAlchemy's own conversion
        pass
    return processor


def _begun(connection: Connection) -> Connection:
    """``connection``, in a transaction (begun as ``execute`` would begin it)."""
    if not connection.in_transaction():
        connection.begin()
    return connection


def _cursor(connection: Connection) -> Any:
    """A driver cursor on ``connection``, in its transaction."""
    return _begun(connection).connection.cursor()


def _send(connection: Connection, cursor: Any, sql: str, parameters: Any, *, many: bool) -> None:
    """Run ``sql`` on ``cursor`` as SQLAlchemy's connection does: its cursor events before and after, the
    dialect's execute, and a driver error raised as SQLAlchemy's (which also invalidates a lost connection)."""
    dispatch = connection.dispatch
    try:
        before = dispatch.before_cursor_execute
        if before:  # walked only when someone listens (each walk builds the joined listener lists)
            for listener in before:
                sql, parameters = listener(connection, cursor, sql, parameters, None, many)
        if many:
            connection.dialect.do_executemany(cursor, sql, parameters, None)
        else:
            connection.dialect.do_execute(cursor, sql, parameters, None)
        after = dispatch.after_cursor_execute
        if after:
            after(connection, cursor, sql, parameters, None, many)
    except sa_exc.StatementError:
        raise  # already SQLAlchemy's (a deferred write sent first failed): not wrapped again
    except BaseException as error:
        connection._handle_dbapi_exception(error, sql, parameters, cursor, None)  # raises


_DEFERRED = "tramites_deferred_writes"
"""Key of a connection's ``info``: the writes :meth:`FixedStatement.send_later` deferred, with the transaction
they belong to."""


def _deferred(connection: Connection) -> list[tuple[str, Any, bool]]:
    """The writes deferred in ``connection``'s current transaction (begun as ``execute`` would begin it)."""
    transaction = _begun(connection).get_transaction()
    kept = connection.info.get(_DEFERRED)
    if kept is None or kept[0] is not transaction:
        transaction_from_here(connection)  # held writes go out in the transaction they belong to
        kept = connection.info[_DEFERRED] = (transaction, [])
    pending: list[tuple[str, Any, bool]] = kept[1]
    return pending


def send_deferred(connection: Connection, *, commit: bool = False) -> None:
    """Send the writes deferred in ``connection``'s transaction, in order, in one round trip (psycopg's
    pipeline: the statements go out together and their results are read at once); with ``commit``, the
    transaction's ``COMMIT`` goes in the same round trip, after them (the driver then finds the transaction
    ended and sends nothing more). Runs before any other statement of the transaction and at its commit
    (:func:`defer_writes`); writes left from a transaction that ended are dropped, never sent. A failed write
    is raised as SQLAlchemy's error (``IntegrityError``…), nothing is committed, and the transaction is rolled
    back by its unit of work as for any failed statement."""
    kept = connection.info.pop(_DEFERRED, None)
    if kept is None or not kept[1] or kept[0] is not connection.get_transaction():
        return
    pending: list[tuple[str, Any, bool]] = kept[1]
    cursor = connection.connection.cursor()
    try:
        with connection.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
            for sql, parameters, many in pending:
                _send(connection, cursor, sql, parameters, many=many)
            if commit:  # a transaction command, as SQLAlchemy's own COMMIT: no cursor events
                cursor.execute("COMMIT")
    except sa_exc.StatementError:
        raise
    except BaseException as error:  # raised when the pipeline reads the results: which write failed is in it
        statements = "; ".join(sql for sql, _, _ in pending)
        connection._handle_dbapi_exception(error, statements, None, cursor, None)  # raises
    finally:
        cursor.close()


def defer_writes(engine: Engine) -> None:
    """On PostgreSQL, let :meth:`FixedStatement.send_later` hold a transaction's writes whose results nobody
    reads (the audit entry, timers, clocks, outbox rows) until its next statement or its commit, and send them
    then in one round trip: a transition's writes cost one round trip instead of one each, and at the commit
    they go with the ``COMMIT`` itself. Ordering is kept: any statement on the connection (a read, an ORM
    flush, a savepoint) first sends what was held, so it sees those writes; a rollback drops them."""

    @event.listens_for(engine, "before_cursor_execute")
    def _held_writes_first(conn: Connection, *_args: Any) -> None:
        if _DEFERRED in conn.info:
            send_deferred(conn)

    @event.listens_for(engine, "commit")
    def _held_writes_with_the_commit(conn: Connection) -> None:
        if _DEFERRED in conn.info:
            send_deferred(conn, commit=True)

    @event.listens_for(engine, "rollback")
    def _held_writes_dropped(conn: Connection) -> None:
        if not (conn.closed or conn.invalidated):  # a lost connection's writes went with it
            conn.info.pop(_DEFERRED, None)
