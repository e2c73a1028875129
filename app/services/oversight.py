"""Read-only use cases of oversight bodies: browse and filter the log, case timelines, exports, bundles, proofs.

Nothing here writes. Query parameters arrive as plain strings (from the web form or the API) and are
validated here, so that both front ends refuse the same things with the same translatable messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, UnaryExpression, and_, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.operators import custom_op

from app.audit.canonical import CANONICAL_FIELDS, format_instant
from app.audit.checkpoints import checkpoint_for_size, checkpoint_json, latest_checkpoint
from app.audit.export import (
    LINE_COLUMNS,
    ExportError,
    bundle_lines,
    consistency_document,
    dumps_line,
    entry_line,
    inclusion_document,
)
from app.audit.tree import TreeDataMissing
from app.audit.verification import log_coverage
from app.engine import DomainError, Msg
from app.extensions import db
from app.models import AuditCheckpoint, AuditEntry, AuditHead, AuditKind, Case, Role, User
from app.services.csv_export import csv_lines

LOCAL_TZ = ZoneInfo("America/Mexico_City")
MAX_INT = 2**31 - 1  # sequence numbers and ids are 32-bit columns
PAGE_SIZE = 50
MAX_TEXT = 64

CSV_COLUMNS = (*CANONICAL_FIELDS, "leaf_hash", "chain_hash")


class OversightError(DomainError):
    """A parameter is malformed or names something that does not exist (HTTP 400 / 404)."""

    code = "bad_parameter"

    def __init__(self, message: Msg, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class LogDamaged(DomainError):
    """The stored log lacks hashes a proof needs: the log was damaged (see ``audit verify``)."""

    code = "log_damaged"


def parse_int(raw: str | None, name: str, minimum: int = 1, maximum: int = MAX_INT) -> int | None:
    """A whole-number parameter (``None`` when absent or blank). Raises :class:`OversightError` naming it."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not minimum <= int(text) <= maximum:
        raise OversightError(
            Msg(
                "El parámetro «%(name)s» debe ser un número entero entre %(min)s y %(max)s.",
                {"name": name, "min": str(minimum), "max": str(maximum)},
            )
        )
    return int(text)


def _text(raw: str | None, name: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if len(text) > MAX_TEXT or not text.isprintable():
        raise OversightError(Msg("El parámetro «%(name)s» es demasiado largo o no es válido.", {"name": name}))
    return text


def _date(raw: str | None, name: str) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise OversightError(Msg("El parámetro «%(name)s» debe ser una fecha AAAA-MM-DD.", {"name": name})) from None
    if value.year < 2000 or value.year > 9998:
        raise OversightError(Msg("El parámetro «%(name)s» está fuera de rango.", {"name": name}))
    return value


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """A selection of the log. Dates are local (America/Mexico_City) calendar days, both inclusive."""

    case_id: int | None = None
    folio: str | None = None
    workflow: str | None = None
    actor_id: int | None = None
    role: str | None = None
    action: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filter as query parameters (for links that keep it)."""
        values = {
            "caso": self.case_id,
            "folio": self.folio,
            "tramite": self.workflow,
            "actor": self.actor_id,
            "rol": self.role,
            "accion": self.action,
            "tipo": self.kind,
            "desde": self.date_from.isoformat() if self.date_from else None,
            "hasta": self.date_to.isoformat() if self.date_to else None,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    @property
    def empty(self) -> bool:
        """Whether the filter selects the whole log."""
        return not self.query_args()


FILTER_PARAMS = {
    "case": "caso",
    "folio": "folio",
    "workflow": "tramite",
    "actor": "actor",
    "role": "rol",
    "trigger": "accion",
    "kind": "tipo",
    "from": "desde",
    "to": "hasta",
}
"""English (API) parameter names and their Spanish (web) equivalents; both are accepted everywhere."""


def parse_filter(args: Mapping[str, str]) -> EntryFilter:
    """Build a filter from query parameters (Spanish or English names). Raises :class:`OversightError`."""

    def get(english: str) -> str | None:
        spanish = FILTER_PARAMS[english]
        return args.get(spanish) or args.get(english)

    kind = _text(get("kind"), "tipo")
    if kind is not None and kind not in {k.value for k in AuditKind}:
        raise OversightError(
            Msg(
                "El parámetro «%(name)s» debe ser uno de: %(values)s.",
                {"name": "tipo", "values": ", ".join(k.value for k in AuditKind)},
            )
        )
    folio = _text(get("folio"), "folio")
    result = EntryFilter(
        case_id=parse_int(get("case"), "caso"),
        folio=folio.upper() if folio else None,
        workflow=_text(get("workflow"), "tramite"),
        actor_id=parse_int(get("actor"), "actor"),
        role=_text(get("role"), "rol"),
        action=_text(get("trigger"), "accion"),
        kind=kind,
        date_from=_date(get("from"), "desde"),
        date_to=_date(get("to"), "hasta"),
    )
    if result.date_from and result.date_to and result.date_from > result.date_to:
        raise OversightError(Msg("La fecha inicial es posterior a la final."))
    return result


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


def _conditions(
    selection: EntryFilter, span: DaysSpan | None = None
) -> tuple[list[ColumnElement[bool]], SQLColumnExpression[Any] | None]:
    """The selection's conditions and the column its statements are ordered by before ``seq`` (:func:`_leading`),
    decided together: when that column is a value filter's, each value filter is written as the range of its one
    value. ``span`` (SQLite: :func:`_days_span`) adds the range of sequence numbers its days hold, or, when they
    hold too many to bound, keeps the days' conditions off the instants' index."""
    conditions: list[ColumnElement[bool]] = []
    if selection.case_id is not None:
        conditions.append(AuditEntry.case_id == selection.case_id)
    if selection.folio is not None:
        # an entry names its case by both, written together from the case (app.audit.log.append): the folio is
        # found in the cases' unique index and the entries through their case's index (no index of their own
        # folios, which every entry would write)
        case_of_folio = select(Case.id).where(Case.folio == selection.folio).scalar_subquery()
        conditions.append(AuditEntry.case_id == case_of_folio)
    lead = _leading(selection)
    ranges = any(column is lead for _, column in _BY_VALUE)
    for name, column in _BY_VALUE:
        value = getattr(selection, name)
        if value is None:
            continue
        if name == "kind":
            value = AuditKind(value)
        # as ranges beside the leading one too: SQLite, which has no statistics, reads through the index of an
        # equality rather than of a range, and would then sort the selection
        conditions.append(and_(column >= value, column <= value) if ranges else column == value)
    instant: SQLColumnExpression[Any] = AuditEntry.at
    if span is not None and span.bounds is not None:
        conditions.extend((AuditEntry.seq >= span.bounds[0], AuditEntry.seq <= span.bounds[1]))
    elif span is not None:
        instant = _unindexed(AuditEntry.at.expression)
    conditions.extend(_days(selection, instant))
    return conditions, lead


def _days(selection: EntryFilter, instant: SQLColumnExpression[Any]) -> list[ColumnElement[bool]]:
    """The selection's days as conditions on ``instant``: from the first day's local midnight to the midnight
    after the last."""
    days: list[ColumnElement[bool]] = []
    if selection.date_from is not None:
        days.append(instant >= _local_midnight(selection.date_from))
    if selection.date_to is not None:
        days.append(instant < _local_midnight(selection.date_to + timedelta(days=1)))
    return days


def _unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``+column``: the same value, which SQLite does not look up through the column's indexes."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


_BY_VALUE: tuple[tuple[str, SQLColumnExpression[Any]], ...] = (
    ("actor_id", AuditEntry.actor_id),
    ("action", AuditEntry.action),
    ("kind", AuditEntry.kind),
    ("role", AuditEntry.actor_role),
    ("workflow", AuditEntry.workflow),
)
"""The filters by a value that many entries share (a public servant, an action, a kind, a role, a procedure),
most selective first, each with the column of its ``(column, seq)`` index."""


def _leading(selection: EntryFilter) -> SQLColumnExpression[Any] | None:
    """The column whose ``(column, seq)`` index a filtered selection is read through, in sequence order: the
    case's, when it names one (a case has few entries), else that of its most selective filter by a value
    (:data:`_BY_VALUE`); none when it has dates (their index of instants then bounds it).

    Every statement of the selection is ordered by that column before ``seq`` (the same order: the column holds
    one value in the selection), and a value filter is written as the range of its one value
    (``action >= 'x' AND action <= 'x'``): then that index alone gives the order, and the database reads the
    entries of that value in sequence order and stops at the limit, whatever it guesses about the value.
    Written as an equality, PostgreSQL takes the column for a constant, finds the log's own order (its key) as
    good, and may read the log in sequence order and filter it: the plan it keeps for a statement a connection
    runs often (a prepared statement's generic plan) is made without the value, from an average, and for an
    actor, action or kind with few entries, or none lately, such a plan read back through the whole log."""
    if selection.case_id is not None or selection.folio is not None:
        return AuditEntry.case_id
    if selection.date_from is not None or selection.date_to is not None:
        return None
    for name, column in _BY_VALUE:
        if getattr(selection, name) is not None:
            return column
    return None


COUNT_LIMIT = 10_000
"""A filtered selection is counted up to this many entries; beyond, the page says "more than" (counting
millions of log rows for one figure would cost more than the page itself)."""


SPAN_LIMIT = COUNT_LIMIT
"""On SQLite, the most entries a selection's days may hold for :func:`_days_span` to bound them by sequence
number; the count of those it makes is the selection's, when it has no other filter (up to :data:`COUNT_LIMIT`)."""


@dataclass(frozen=True, slots=True)
class DaysSpan:
    """On SQLite, the entries a selection's days hold (:func:`_days_span`)."""

    bounds: tuple[int, int] | None
    """The first and last sequence numbers among them; ``None`` when they are more than :data:`SPAN_LIMIT`."""
    held: int
    """How many they are, counted up to one more than :data:`SPAN_LIMIT`."""


def _days_span(session: Session, selection: EntryFilter) -> DaysSpan | None:
    """On SQLite, for a selection led by its dates (:func:`_leading`), the first and last sequence numbers of the
    entries its days hold, when they hold at most :data:`SPAN_LIMIT` (read through the index of the instants,
    counting at most one more); ``None`` on other databases and for other selections.

    The log's pages are read in sequence order, and SQLite keeps no statistics to choose how. Of a day that is
    not the log's last, its search for a next entry walked the log in that order from the page's end to the log's
    end, reading every later entry to find none; of a year, it read the year's entries through the instants'
    index and sorted them all for one page (and again to count them). With the range of sequence numbers beside
    the dates, it walks the log only from the first to the last entry of those days. Days that hold more entries
    are read in sequence order (their instants not through their index): a walk that stops once it has a page's
    entries (having read those between the page's place and the days' entries), instead of a sort of them all.
    PostgreSQL chooses by its statistics of the instants. The instants' index finds the entries whatever their
    order: an entry's instant is not assumed to grow with its sequence number."""
    if (selection.date_from is None and selection.date_to is None) or _leading(selection) is not None:
        return None
    if session.get_bind().dialect.name != "sqlite":
        return None
    entries = select(AuditEntry.seq).where(*_days(selection, AuditEntry.at)).limit(SPAN_LIMIT + 1).subquery()
    held, first, last = session.execute(select(func.count(), func.min(entries.c.seq), func.max(entries.c.seq))).one()
    if held > SPAN_LIMIT:
        return DaysSpan(None, held)
    return DaysSpan((first, last) if held else (1, 0), held)


def _in_order(query: Select[Any], lead: SQLColumnExpression[Any] | None, *, descending: bool = False) -> Select[Any]:
    """``query`` in sequence order (newest first when ``descending``), through the leading column's index."""
    keys = [AuditEntry.seq] if lead is None else [lead, AuditEntry.seq]
    return query.order_by(*(key.desc() for key in keys) if descending else keys)


def _select(selection: EntryFilter) -> Select[Any]:
    """The selection's entries in sequence order."""
    conditions, lead = _conditions(selection, _days_span(db.session(), selection))
    return _in_order(select(*LINE_COLUMNS).where(and_(True, *conditions)), lead)


@dataclass(frozen=True, slots=True)
class EntryRow:
    """An entry as the oversight screens show it (no comment text: see the case timeline)."""

    seq: int
    at: datetime
    kind: str
    case_id: int | None
    folio: str | None
    workflow: str | None
    action: str
    from_state: str | None
    to_state: str | None
    actor_id: int | None
    actor_role: str
    details: dict[str, Any]
    leaf_hash: str
    line: dict[str, Any]
    """The entry as exports carry it: ``{"entry": canonical object, "leaf_hash", "chain_hash"}``."""
    comment: str | None = None


def _row(mapping: Mapping[Any, Any]) -> EntryRow:
    return EntryRow(
        seq=mapping["seq"],
        at=mapping["at"],
        kind=str(mapping["kind"]),
        case_id=mapping["case_id"],
        folio=mapping["folio"],
        workflow=mapping["workflow"],
        action=mapping["action"],
        from_state=mapping["from_state"],
        to_state=mapping["to_state"],
        actor_id=mapping["actor_id"],
        actor_role=mapping["actor_role"],
        details=dict(mapping["details"] or {}),
        leaf_hash=mapping["leaf_hash"],
        line=entry_line(mapping),
    )


@dataclass(frozen=True, slots=True)
class EntryPage:
    """One page of a selection, in sequence order, with the cursors of the neighbouring pages."""

    entries: tuple[EntryRow, ...]
    total: int
    before: int | None
    after: int | None
    log_size: int
    total_exact: bool = True
    """False when ``total`` is :data:`COUNT_LIMIT` and the selection holds more entries."""
    covered: int = 0
    """Entries covered by the largest signed checkpoint; the rest could still be removed without a trace."""
    oldest_uncovered: str | None = None
    """When the first entry no checkpoint covers was appended (UTC), if there is one."""


def search_entries(
    selection: EntryFilter, *, after: int | None = None, before: int | None = None, limit: int = PAGE_SIZE
) -> EntryPage:
    """A page of the selection, in sequence order: the entries right after ``after``, or right before
    ``before``, or (neither given) the latest ones. ``before``/``after`` of the result are the cursors of
    the previous and next pages (``None`` when there is none)."""
    session = db.session()
    span = _days_span(session, selection)
    conditions, lead = _conditions(selection, span)
    query = select(*LINE_COLUMNS).where(and_(True, *conditions))
    if after is not None:
        later = _in_order(query.where(AuditEntry.seq > after), lead).limit(limit + 1)
        found = [_row(r) for r in session.execute(later).mappings()]
        more_after = len(found) > limit
        found = found[:limit]
        anchor = found[0].seq if found else after + 1
        more_before = _exists(session, conditions, lead, before=anchor)
    else:
        if before is not None:
            query = query.where(AuditEntry.seq < before)
        latest = _in_order(query, lead, descending=True).limit(limit + 1)
        found = [_row(r) for r in session.execute(latest).mappings()]
        more_before = len(found) > limit
        found = found[:limit][::-1]
        anchor = found[-1].seq if found else (before or 1) - 1
        more_after = _exists(session, conditions, lead, after=anchor)
    log_size = entries_in_log()
    days_alone = span is not None and all(getattr(selection, name) is None for name, _ in _BY_VALUE)
    total, exact = _selected(session, conditions, lead, log_size, span.held if span and days_alone else None)
    coverage = log_coverage(session)
    return EntryPage(
        entries=tuple(found),
        total=total,
        total_exact=exact,
        before=(found[0].seq if found else anchor) if more_before else None,
        after=(found[-1].seq if found else anchor) if more_after else None,
        log_size=log_size,
        covered=coverage.covered,
        oldest_uncovered=format_instant(coverage.oldest_uncovered_at) if coverage.oldest_uncovered_at else None,
    )


def entries_in_log() -> int:
    """How many entries the log holds: the head's sequence number (the log is gapless), not a count of its rows,
    which costs more as the log grows."""
    head = db.session.get(AuditHead, 1)
    return head.seq if head is not None else 0


def _selected(
    session: Session,
    conditions: list[ColumnElement[bool]],
    lead: SQLColumnExpression[Any] | None,
    log_size: int,
    counted: int | None = None,
) -> tuple[int, bool]:
    """How many entries the selection holds, and whether that figure is exact: the whole log is the head's
    sequence number (gapless, nothing to count); a filtered selection is counted up to :data:`COUNT_LIMIT`,
    through its leading column's index (:func:`_leading`), unless ``counted`` gives that count already (a
    selection of days alone, counted by :func:`_days_span`)."""
    if not conditions:
        return log_size, True
    if counted is None:
        capped = _in_order(select(AuditEntry.seq).where(and_(True, *conditions)), lead).limit(COUNT_LIMIT + 1)
        counted = int(session.scalar(select(func.count()).select_from(capped.subquery())) or 0)
    return min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT


def _exists(
    session: Session,
    conditions: list[ColumnElement[bool]],
    lead: SQLColumnExpression[Any] | None,
    *,
    before: int | None = None,
    after: int | None = None,
) -> bool:
    """Whether the selection has an entry before (or after) the sequence number given, read from it outwards
    through the leading column's index (:func:`_leading`)."""
    if before is not None:
        query = _in_order(select(AuditEntry.seq).where(AuditEntry.seq < before, *conditions), lead, descending=True)
    else:
        query = _in_order(select(AuditEntry.seq).where(AuditEntry.seq > after, *conditions), lead)
    return session.scalar(query.limit(1)) is not None


def export_jsonl(selection: EntryFilter, batch: int = 2000) -> Iterator[str]:
    """The selection as JSON lines, each ``{"entry": canonical object, "leaf_hash", "chain_hash"}``."""
    rows = db.session().execute(_select(selection).execution_options(yield_per=batch))
    for row in rows.mappings():
        yield dumps_line(entry_line(row))


def export_csv(selection: EntryFilter, batch: int = 2000, *, bom: bool = False) -> Iterator[str]:
    """The selection as CSV (UTF-8, optional byte order mark, header row, instants in UTC, details as
    compact JSON), written by the shared writer that neutralises formula cells."""

    def table() -> Iterator[list[Any]]:
        yield list(CSV_COLUMNS)
        query = _select(selection).execution_options(yield_per=batch)
        for row in db.session().execute(query).mappings():
            line = entry_line(row)
            values = {**line["entry"], "leaf_hash": line["leaf_hash"], "chain_hash": line["chain_hash"]}
            yield [values[name] for name in CSV_COLUMNS]

    return csv_lines(table(), bom=bom)


@dataclass(frozen=True, slots=True)
class CaseTimeline:
    """A case and every log entry about it, oldest first (with comments, for the oversight screen)."""

    case_id: int
    folio: str
    workflow: str
    state: str
    entries: tuple[EntryRow, ...]


COMMENT_READERS = frozenset({Role.AUDITOR, Role.GUARANTOR})
"""Oversight roles that read case comments; administrators read no case files, comments included."""


def case_timeline(case_id: int, reader_id: int | None = None) -> CaseTimeline:
    """The timeline of ``case_id``, with each entry's comment only when ``reader_id`` holds an auditor or
    guarantor role (administrators see the entries without comments). Raises :class:`OversightError` (404)
    when there is no such case."""
    session = db.session()
    case = session.get(Case, case_id)
    if case is None:
        raise OversightError(Msg("No existe el expediente %(id)s.", {"id": str(case_id)}), status=404)
    reader = session.get(User, reader_id) if reader_id is not None else None
    with_comments = reader is not None and reader.active and any(g.role in COMMENT_READERS for g in reader.roles)
    rows = session.execute(
        select(*LINE_COLUMNS, AuditEntry.comment).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
    )
    entries = tuple(replace(_row(r), comment=r["comment"] if with_comments else None) for r in rows.mappings())
    return CaseTimeline(case.id, case.folio, case.workflow, case.state, entries)


def entry_document(seq: int) -> dict[str, Any]:
    """One entry as JSON: canonical object and stored hashes. Raises :class:`OversightError` (404)."""
    entry = db.session().get(AuditEntry, seq)
    if entry is None:
        raise OversightError(Msg("No existe la entrada %(seq)s de la bitácora.", {"seq": str(seq)}), status=404)
    return {"seq": seq, **entry_line(entry)}


def list_checkpoints(limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
    """Checkpoints, newest first, ``limit`` at a time (public)."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditCheckpoint.id < before_id)
    return [checkpoint_json(c) for c in db.session().scalars(query)]


_SIGNING_KEYS = text(
    # A checkpoint is signed every minute the log grows, by one of the few keys the log ever had: each key is
    # found from the previous one through the (key_fingerprint, id) index, a step per key however many
    # checkpoints there are, with the first checkpoint it signed (its order of first use, and its PEM).
    "WITH RECURSIVE signing(fingerprint) AS ("
    " SELECT (SELECT min(key_fingerprint) FROM audit_checkpoints)"
    " UNION ALL"
    " SELECT (SELECT later.key_fingerprint FROM audit_checkpoints later"
    " WHERE later.key_fingerprint > signing.fingerprint ORDER BY later.key_fingerprint LIMIT 1)"
    " FROM signing WHERE signing.fingerprint IS NOT NULL)"
    " SELECT signing.fingerprint,"
    " (SELECT used.public_key FROM audit_checkpoints used WHERE used.key_fingerprint = signing.fingerprint"
    " ORDER BY used.id LIMIT 1),"
    " (SELECT used.id FROM audit_checkpoints used WHERE used.key_fingerprint = signing.fingerprint"
    " ORDER BY used.id LIMIT 1) AS first_use"
    # the recursion ends on a NULL fingerprint: left out before the look-ups (matching no row, a look-up of it
    # would walk the whole table)
    " FROM signing WHERE signing.fingerprint IS NOT NULL ORDER BY first_use"
)


def log_public_keys() -> list[dict[str, str]]:
    """Every public key that ever signed a checkpoint, with its fingerprint, in order of first use (public).
    Read a key at a time through an index: the checkpoints themselves (one a minute) are not read."""
    rows = db.session().execute(_SIGNING_KEYS)
    return [{"fingerprint": fingerprint, "pem": pem} for fingerprint, pem, _ in rows]


def _checkpoint(tree_size: int | None) -> AuditCheckpoint:
    session = db.session()
    found = latest_checkpoint(session) if tree_size is None else checkpoint_for_size(session, tree_size)
    if found is None:
        if tree_size is None:
            raise OversightError(Msg("Todavía no hay puntos de control firmados."), status=404)
        raise OversightError(
            Msg(
                "Ningún punto de control firmado tiene tamaño %(size)s; elija uno de la lista publicada.",
                {"size": str(tree_size)},
            )
        )
    return found


def inclusion_proof(seq: int, tree_size: int | None = None) -> dict[str, Any]:
    """Inclusion proof of entry ``seq`` against the checkpoint of ``tree_size`` (default: the latest).

    Raises :class:`OversightError` for an entry the checkpoint does not cover or an unknown size,
    :class:`LogDamaged` if stored hashes are missing.
    """
    checkpoint = _checkpoint(tree_size)
    if seq > checkpoint.tree_size:
        raise OversightError(
            Msg(
                "La entrada %(seq)s no está cubierta por el punto de control de tamaño %(size)s.",
                {"seq": str(seq), "size": str(checkpoint.tree_size)},
            )
        )
    try:
        return inclusion_document(db.session(), seq, checkpoint)
    except (TreeDataMissing, ExportError) as exc:
        raise LogDamaged(Msg("La bitácora almacenada está dañada: %(detail)s", {"detail": str(exc)})) from None


def consistency_proof(first: int, second: int | None = None) -> dict[str, Any]:
    """Consistency proof between the checkpoints of sizes ``first`` and ``second`` (default: the latest).

    Raises :class:`OversightError` when a size has no checkpoint or ``first`` is larger than ``second``.
    """
    older, newer = _checkpoint(first), _checkpoint(second)
    if older.tree_size > newer.tree_size:
        raise OversightError(Msg("El primer punto de control no puede ser mayor que el segundo."))
    try:
        return consistency_document(db.session(), older, newer)
    except (TreeDataMissing, ExportError) as exc:
        raise LogDamaged(Msg("La bitácora almacenada está dañada: %(detail)s", {"detail": str(exc)})) from None


def parse_bundle_format(raw: str | None, name: str) -> int:
    """A bundle format parameter: 1 (the default) or 2. Raises :class:`OversightError` naming it."""
    return parse_int(raw, name, minimum=1, maximum=2) or 1


def bundle(tree_size: int | None = None, version: int = 1) -> tuple[dict[str, Any], Iterator[str]]:
    """The checkpoint (JSON form) and the bundle lines for it (default: the latest checkpoint), in format
    ``version`` (1 or 2, ``docs/audit-log.md`` section 6). The lines read through the session in use when the
    first of them is asked for: a page streams them after its request's session was let go.

    Format 2's header names every key that ever signed a checkpoint (the public list: a key a bundle's
    checkpoints do not use is unused there, and one they use is never missing).
    """
    checkpoint = _checkpoint(tree_size)
    keys = log_public_keys() if version == 2 else None
    return checkpoint_json(checkpoint), bundle_lines(db.session, checkpoint, version=version, keys=keys)


def write_bundle(path: Path, tree_size: int | None = None, version: int = 1) -> int:
    """Write the bundle for a checkpoint to ``path`` in format ``version``; returns how many entries it holds."""
    checkpoint, lines = bundle(tree_size, version)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line)
    return int(checkpoint["tree_size"])


def latest_checkpoint_json() -> dict[str, Any] | None:
    """The latest checkpoint (JSON form), if any."""
    found = latest_checkpoint(db.session())
    return checkpoint_json(found) if found is not None else None
