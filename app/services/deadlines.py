"""Terms of cases in business days: starting and cancelling timers, and the authority's calendar.

Declaring or removing a non-working day recomputes every pending term it affects, in the same
transaction, and is written to the audit log with keyed digests of the gazette reference that declared it
and of its description (the text itself stays in ``non_working_days``, out of the hashed entry).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import ColumnElement, Engine, Insert, Table, and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from app import audit
from app.audit import EntryInput
from app.audit.canonical import keyed_digest
from app.calendar import LOCAL_TZ, BusinessCalendar, deadline_instant, local_today
from app.database import (
    FixedStatement,
    column_rows,
    for_ids,
    insert_of,
    is_constant,
    json_recordset,
    one_of,
    recordset_json,
    session_connection,
)
from app.engine import InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import AuditHead, AuditKind, Case, NonWorkingDay, Role, Timer, TimerKind, TimerStatus, User, utcnow
from app.models.clocks import CaseClock, ClockStatus
from app.models.personal_data import DataRequestStatus, PersonalDataRequest
from app.services.uow import unit_of_work
from workflows import REGISTRY
from workflows.base import SYSTEM_ROLE, Clock, Deadline, State, Target, Workflow

REMINDER_HOUR = time(9, 0)
MAX_DECLARED_RANGE_DAYS = 366


_CALENDAR_KEY = "business_calendar"


# Per database (engine): the calendar last read and the audit head's ``calendar_seq`` it was read under.
_PROCESS_CALENDARS: weakref.WeakKeyDictionary[Engine, tuple[int, BusinessCalendar]] = weakref.WeakKeyDictionary()


def calendar(session: Session) -> BusinessCalendar:
    """The business-day calendar with the authority's declared non-working days.

    Read once per database transaction (kept in ``session.info`` with the transaction it was read in):
    the declared days do not change under a transaction that does not change them itself, and those that
    do (declaring or removing days) call :func:`_forget_calendar`. When the transaction already holds the
    audit head (a transition has appended its entry), the process keeps the calendar across transactions
    and reads the days again only when the head's ``calendar_seq`` moved: every change of the declared days
    is an audit entry that moves it, under the same lock.
    """
    transaction = session.get_transaction()
    cached = session.info.get(_CALENDAR_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cast(BusinessCalendar, cached[1])
    head = audit.read_head(session)
    if head is not None and head.calendar_changed:
        head = None  # days this transaction declared or removed are not the process's to keep (it may roll back)
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else None
    kept = _PROCESS_CALENDARS.get(engine) if engine is not None and head is not None else None
    if kept is not None and head is not None and kept[0] == head.calendar_seq:
        result = kept[1]
    else:
        result = BusinessCalendar(session.scalars(select(NonWorkingDay.day)))
        if engine is not None and head is not None:
            _PROCESS_CALENDARS[engine] = (head.calendar_seq, result)
    if transaction is not None:
        session.info[_CALENDAR_KEY] = (transaction, result)
    return result


_CALENDAR_SEQ_READ = select(AuditHead.calendar_seq).where(AuditHead.id == 1)
CALENDAR_SEQ_COLUMN = _CALENDAR_SEQ_READ.scalar_subquery()
"""The audit head's ``calendar_seq`` as a column that another read of a request carries (the login's): see
:func:`saw_calendar_seq`."""
_CALENDAR_SEQ = FixedStatement(_CALENDAR_SEQ_READ)
_CALENDAR_CHANGED_KEY = "business_calendar_changed"
_CALENDAR_SEQ_SEEN_KEY = "calendar_seq_seen"


def saw_calendar_seq(session: Session, seq: int | None) -> None:
    """Tell :func:`reading_calendar` the audit head's ``calendar_seq`` that a read of ``session``'s transaction
    carried (:data:`CALENDAR_SEQ_COLUMN`): a page of a signed-in person, whose login is read first, then needs no
    statement of its own to know whether the process's calendar is current. ``None`` (no head) tells nothing."""
    transaction = session.get_transaction()
    if transaction is not None and seq is not None:
        session.info[_CALENDAR_SEQ_SEEN_KEY] = (transaction, seq)


def reading_calendar(session: Session) -> BusinessCalendar:
    """The calendar of :func:`calendar` for pages that only read: when the transaction has not locked the
    audit head (a page never does), the head's ``calendar_seq`` is read alone (one small row, no lock), or taken
    from an earlier read of the same transaction that carried it (:func:`saw_calendar_seq`: a signed-in request's
    login), and the process's copy is used while it has not moved, instead of every declared day on every page.
    The seq is read before the days, so a copy is never older than the seq it is kept under; a transaction that
    changed the days itself (:func:`_forget_calendar`) neither uses nor keeps the process's copy."""
    transaction = session.get_transaction()
    cached = session.info.get(_CALENDAR_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cast(BusinessCalendar, cached[1])
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else None
    changed = transaction is not None and session.info.get(_CALENDAR_CHANGED_KEY) is transaction
    if audit.read_head(session) is not None or engine is None or changed:
        return calendar(session)
    seen = session.info.get(_CALENDAR_SEQ_SEEN_KEY)
    if seen is not None and seen[0] is transaction:  # carried by an earlier read of this transaction
        seq = seen[1]
    else:
        head = _CALENDAR_SEQ.read(session)
        if not head:
            return calendar(session)
        seq = head[0][0]
    kept = _PROCESS_CALENDARS.get(engine)
    if kept is not None and kept[0] == seq:
        result = kept[1]
    else:
        result = BusinessCalendar(column_rows(session, select(NonWorkingDay.day)).scalars())
        _PROCESS_CALENDARS[engine] = (seq, result)
    if transaction is not None:
        session.info[_CALENDAR_KEY] = (transaction, result)
    return result


def _forget_calendar(session: Session) -> None:
    session.info[_CALENDAR_CHANGED_KEY] = session.get_transaction()
    session.info.pop(_CALENDAR_KEY, None)
    bind = session.get_bind()
    if isinstance(bind, Engine):
        _PROCESS_CALENDARS.pop(bind, None)


def _last_day(cal: BusinessCalendar, notified_on: date, days: int, business: bool) -> date:
    if business:
        return cal.add_business_days(notified_on, days)
    return notified_on + timedelta(days=days)


def _reminder_day(cal: BusinessCalendar, due_on: date, before: int) -> date:
    """The business day ``before`` business days ahead of ``due_on``."""
    day = due_on
    counted = 0
    while counted < before:
        day -= timedelta(days=1)
        if cal.is_business_day(day):
            counted += 1
    return day


def _reminder_instant(day: date) -> datetime:
    return datetime.combine(day, REMINDER_HOUR, tzinfo=LOCAL_TZ).astimezone(UTC)


def acting_party(workflow: Workflow, state: str) -> str:
    """Who must act in ``state``: the party the procedure declares its term binds (``Presentation.binds``:
    the applicant, or the authority's assignee); for a state without a declared term (a service target
    binds the authority), the applicant when one of its exits is theirs, else the assignee."""
    if workflow.name in REGISTRY:
        declared = REGISTRY.get(workflow.name).presentation.binds.get(state)
        if declared is not None:
            return "applicant" if declared == "applicant" else "assignee"
    exits = [t for t in workflow.transitions_from(state) if t.roles != {SYSTEM_ROLE}]
    return "applicant" if any(t.owner_only for t in exits) else "assignee"


def _in_a_clock(workflow: Workflow, state: State) -> bool:
    """Whether a clock of ``workflow`` may hold a timer while a case is in ``state`` (a clock's timer belongs
    to the state the case is in, and only its running or paused states can hold one)."""
    return any(state.name in clock.running or state.name in clock.paused for clock in workflow.clocks)


def may_have_escalations(workflow: Workflow, state: State) -> bool:
    """Whether a case in ``state`` may have open escalations: they are raised only by the authority's timers
    (a service target, a deadline the assignee must meet, or a clock's), and resolved whenever the case
    leaves the state."""
    if _in_a_clock(workflow, state) or state.target is not None:
        return True
    return state.deadline is not None and acting_party(workflow, state.name) == "assignee"


def _timer_row(case: Case, state: str, seq: int, today: date, first: date, **values: object) -> dict[str, object]:
    """A complete ``timers`` row (every column given, so that the rows of one transition insert in one statement)."""
    return {
        "case_id": case.id,
        "state": state,
        "trigger": None,
        "notified_on": today,
        "remind_before": None,
        "starts_on": first,
        "status": TimerStatus.PENDING,
        "created_seq": seq,
        "created_at": utcnow(),
        "finished_at": None,
        **values,
    }


_TIMER_TABLE = cast(Table, Timer.__table__)
_TIMER_COLUMNS = tuple(column for column in _TIMER_TABLE.columns if column.key != "id")
_TIMER_KEYS = tuple(column.key for column in _TIMER_COLUMNS)
_INSERT_TIMERS = FixedStatement(insert_of(_TIMER_TABLE, _TIMER_KEYS))


def _timers_from_json() -> Insert:
    """On PostgreSQL, an ``INSERT`` of any number of timer rows as one parameter (``:timer_rows``, a JSON array).
    Its shape does not depend on the number of rows, so it can carry the cancel of the case's pending timers as
    a data-modifying ``WITH`` part (which, in the same statement, does not see the rows inserted)."""
    rows = json_recordset("timer_rows", _TIMER_COLUMNS, "timer")
    return insert(_TIMER_TABLE).from_select(_TIMER_KEYS, select(*(rows.c[key] for key in _TIMER_KEYS)))


def insert_timers(
    session: Session,
    rows: Sequence[Mapping[str, object]],
    *,
    cancel_case: int | None = None,
    now: datetime | None = None,
) -> None:
    """Write timer rows (as :func:`state_timer_rows` and :func:`sync_clocks` give them) in one ``INSERT``;
    nothing is sent when there are none. With ``cancel_case``, first cancel that case's pending timers
    (:func:`cancel_timers`, as of ``now``): the rows written here stay pending. On PostgreSQL the cancel and the
    rows go in one statement."""
    connection = session_connection(session)
    if cancel_case is not None:
        if rows and connection.dialect.name == "postgresql":
            params = {
                "timer_case": cancel_case,
                "now": now or utcnow(),
                "timer_rows": recordset_json(rows, _TIMER_KEYS),
            }
            _CANCEL_AND_INSERT_TIMERS.send_later(connection, params)
            return
        cancel_timers(session, cancel_case, now or utcnow())
    _INSERT_TIMERS.send_many_later(connection, rows)


def start_timers(session: Session, case: Case, state: State, seq: int, today: date) -> None:
    """Create the timers of ``state`` for a case that has just entered it (notified ``today``):
    its deadline, a reminder to the party that must act, and the authority's service target.

    A state without terms reads and writes nothing; the others write their rows in one INSERT (no ORM objects)."""
    insert_timers(session, state_timer_rows(session, case, state, seq, today))


def state_timer_rows(session: Session, case: Case, state: State, seq: int, today: date) -> list[dict[str, object]]:
    """The timer rows :func:`start_timers` writes for ``state`` (none for a state without terms; nothing read)."""
    if state.deadline is None and state.target is None:
        return []
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    params = case.params or workflow.params
    cal = calendar(session)
    first = cal.first_counting_day(today)
    rows: list[dict[str, object]] = []
    if state.deadline is not None:
        days, due_on, business = _term(cal, case, today, params, state.deadline)
        party = acting_party(workflow, state.name)
        rows.append(
            _timer_row(
                case,
                state.name,
                seq,
                today,
                first,
                kind=TimerKind.DEADLINE,
                trigger=state.deadline.expiry_trigger(params),
                rule=state.deadline.days_param,
                term_days=days,
                business=business,
                party=party,
                due_on=due_on,
                due_at=deadline_instant(due_on),
            )
        )
        before = int(params.get("reminder_business_days", 0))
        if before > 0:
            remind_on = _reminder_day(cal, due_on, before)
            if remind_on > today:
                rows.append(
                    _timer_row(
                        case,
                        state.name,
                        seq,
                        today,
                        first,
                        kind=TimerKind.REMINDER,
                        rule=state.deadline.days_param,
                        term_days=days,
                        business=business,
                        remind_before=before,
                        party=party,
                        due_on=remind_on,
                        due_at=_reminder_instant(remind_on),
                    )
                )
    if state.target is not None:
        days, due_on, business = _term(cal, case, today, params, state.target)
        rows.append(
            _timer_row(
                case,
                state.name,
                seq,
                today,
                first,
                kind=TimerKind.TARGET,
                rule=state.target.days_param,
                term_days=days,
                business=business,
                party="assignee",
                due_on=due_on,
                due_at=deadline_instant(due_on),
            )
        )
    return rows


def _term(
    cal: BusinessCalendar, case: Case, today: date, params: Mapping[str, Any], term: Deadline | Target
) -> tuple[int, date, bool]:
    """A state's deadline or target entered ``today``: its days, its last day and whether business days count.
    A fixed last day in the case data (``due_field``) replaces the term and is kept as calendar days, so
    that recomputing leaves it alone (a last day that is not a business day moves to the next one)."""
    days = int(params[term.days_param])
    fixed = _fixed_day(case, term.due_field)
    if fixed is None:
        return days, _last_day(cal, today, days, term.business), term.business
    due_on = fixed if cal.is_business_day(fixed) else cal.next_business_day(fixed)
    return max(1, (due_on - today).days), due_on, False


def _fixed_day(case: Case, due_field: str | None) -> date | None:
    """The fixed last day a target's ``due_field`` holds in the case data (``None`` when absent or bad)."""
    value = (case.data or {}).get(due_field) if due_field else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


_TIMERS_CANCELLED = (
    update(_TIMER_TABLE)
    .where(_TIMER_TABLE.c.case_id == bindparam("timer_case"), is_constant(_TIMER_TABLE.c.status, TimerStatus.PENDING))
    .values(status=TimerStatus.CANCELLED, finished_at=bindparam("now"))
)
_CANCEL_TIMERS = FixedStatement(_TIMERS_CANCELLED)
_CANCEL_AND_INSERT_TIMERS = FixedStatement(_timers_from_json().add_cte(_TIMERS_CANCELLED.cte("cancelled")))
"""On PostgreSQL: the cancel of a case's pending timers and its new timers' rows in one statement."""


def cancel_timers(session: Session, case_id: int, now: datetime) -> None:
    """Cancel the pending timers of a case that left the state they belong to (one Core ``UPDATE``: timers
    loaded as objects in this session are not told)."""
    _CANCEL_TIMERS.send_later(session_connection(session), {"timer_case": case_id, "now": now})


def recompute_pending(session: Session) -> int:
    """Recompute the last day of every pending business-day timer with the current calendar.

    Returns how many timers moved. Reminders follow their deadline.
    """
    cal = calendar(session)
    moved = 0
    pending = select(Timer).where(is_constant(Timer.status, TimerStatus.PENDING), Timer.business.is_(True))
    for timer in session.scalars(pending):  # through the pending timers' index: not every timer ever started
        deadline_day = cal.add_business_days(timer.notified_on, timer.term_days)
        if timer.kind == TimerKind.REMINDER:
            day = _reminder_day(cal, deadline_day, timer.remind_before or 0)
            instant = _reminder_instant(day)
        else:
            day, instant = deadline_day, deadline_instant(deadline_day)
        if day != timer.due_on:
            timer.due_on = day
            timer.due_at = instant
            timer.starts_on = cal.first_counting_day(timer.notified_on)
            moved += 1
    return moved


_PENDING_DATA_REQUESTS = select(PersonalDataRequest).where(
    is_constant(PersonalDataRequest.status, DataRequestStatus.PENDING)
)


def _data_request_terms(session: Session, cal: BusinessCalendar) -> list[tuple[PersonalDataRequest, int]]:
    """The pending personal-data requests (ARCO) with the business days of their term, counted on ``cal``, the
    calendar before a change (their rows keep the last day, not the term: the term in force when each was
    registered is what moves, not the one configured now)."""
    return [
        (request, max(1, cal.business_days_between(cal.effective_day(request.received_on), request.due_on)))
        for request in session.scalars(_PENDING_DATA_REQUESTS)  # through the pending requests' partial index
    ]


def _move_data_requests(cal: BusinessCalendar, terms: Sequence[tuple[PersonalDataRequest, int]]) -> int:
    """Give each pending personal-data request the last day of its term on ``cal`` (the calendar after a
    change, LGPDPPSO 2017 art. 51: business days); returns how many moved."""
    moved = 0
    for request, days in terms:
        due_on = cal.add_business_days(request.received_on, days)
        if due_on != request.due_on:
            request.due_on = due_on
            moved += 1
    return moved


@dataclass(frozen=True, slots=True)
class CalendarChange:
    """What a calendar change did: the days declared or removed, and how many running terms moved (the cases'
    pending timers and the pending personal-data requests' last days)."""

    days: tuple[date, ...]
    timers_moved: int


def _require_admin(session: Session, actor_id: int) -> User:
    user = session.get(User, actor_id)
    if user is None or not user.active or not user.has_role(Role.ADMIN):
        raise NotAllowed(Msg("Solo la administración puede cambiar el calendario."))
    return user


def declare_non_working_days(
    first: date, last: date | None, description: str, gazette_reference: str, actor_id: int
) -> CalendarChange:
    """Declare ``first``..``last`` (inclusive) non-working and move every pending term they affect (the cases'
    timers and the pending personal-data requests).

    Days already declared are left as they are; a declaration that adds no day is not logged. Raises
    ``InvalidData`` (empty description or reference, reversed or over-long range) and ``NotAllowed`` (not an
    administrator).
    """
    last = last or first
    description, gazette_reference = description.strip(), gazette_reference.strip()
    if not description or not gazette_reference:
        raise InvalidData(Msg("Indique la descripción y la publicación oficial que declara los días inhábiles."))
    if last < first:
        raise InvalidData(Msg("La fecha final es anterior a la inicial."))
    if (last - first).days >= MAX_DECLARED_RANGE_DAYS:
        raise InvalidData(Msg("Un periodo inhábil no puede exceder un año."))
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        audit.lock_head(session)  # one calendar change at a time, and none beside a transition (see lock_head)
        existing = set(session.scalars(select(NonWorkingDay.day).where(NonWorkingDay.day.between(first, last))))
        added: list[date] = []
        rows: list[NonWorkingDay] = []
        day = first
        while day <= last:
            if day not in existing:
                rows.append(NonWorkingDay(day=day, description=description, gazette_reference=gazette_reference))
                added.append(day)
            day += timedelta(days=1)
        if not added:  # every day already declared (the same form sent twice): nothing changes, nothing is logged
            return CalendarChange((), 0)
        data_requests = _data_request_terms(session, calendar(session))
        session.add_all(rows)
        session.flush()
        _forget_calendar(session)
        moved = recompute_pending(session) + _move_data_requests(calendar(session), data_requests)
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="non_working_days_declared",
                calendar_change=True,
                actor_id=actor_id,
                actor_role=Role.ADMIN.value,
                # Admin-typed text stays out of the hashed entry (docs/audit-log.md): the rows keep it, where it
                # can be corrected or erased; the entry refers to them and holds keyed digests of the text.
                details={
                    "days": [d.isoformat() for d in added],
                    "day_ids": [row.id for row in rows],
                    "gazette_reference_digest": keyed_digest({"gazette_reference": gazette_reference}),
                    "description_digest": keyed_digest({"description": description}),
                    "timers_moved": moved,
                },
            ),
        )
        return CalendarChange(tuple(added), moved)


def remove_non_working_day(day_id: int, actor_id: int) -> CalendarChange:
    """Remove a declared non-working day and move every pending term it affected. Raises ``NotFound``."""
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        audit.lock_head(session)  # one calendar change at a time, and none beside a transition (see lock_head)
        row = session.get(NonWorkingDay, day_id)
        if row is None:
            raise NotFound(Msg("Ese día inhábil no está declarado."))
        removed = row.day
        data_requests = _data_request_terms(session, calendar(session))
        session.delete(row)
        session.flush()
        _forget_calendar(session)
        moved = recompute_pending(session) + _move_data_requests(calendar(session), data_requests)
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="non_working_day_removed",
                calendar_change=True,
                actor_id=actor_id,
                actor_role=Role.ADMIN.value,
                details={"days": [removed.isoformat()], "timers_moved": moved},
            ),
        )
        return CalendarChange((removed,), moved)


def declared_days(year: int | None = None) -> Sequence[NonWorkingDay]:
    """Declared non-working days (of ``year`` when given), in date order."""
    stmt = select(NonWorkingDay).order_by(NonWorkingDay.day)
    if year is not None:
        stmt = stmt.where(NonWorkingDay.day.between(date(year, 1, 1), date(year, 12, 31)))
    return db.session.scalars(stmt).all()


class TermView(NamedTuple):
    """A pending term as people see it: its last day and the business days left. (A named tuple: a queue makes
    one per case, and a frozen dataclass sets each field through a call.)"""

    kind: TimerKind
    state: str
    due_on: date
    business_days_left: int
    overdue: bool
    party: str | None
    rule: str = ""
    """The rule the term applies (a parameter, or ``clock:<name>`` for a case-level clock)."""
    pending: bool = True
    """Whether its timer is still pending (``False`` once the timers' worker, or a step, recorded its end)."""
    trigger: str | None = None
    """The transition its lapse fires (a deadline's)."""


def term_in_force() -> ColumnElement[bool]:
    """The timer (of ``timers``, in the enclosing statement) is a term of its case in its state: pending, or lapsed
    (fired) during the present stay in the state. A term that lapsed during an earlier stay is superseded by the
    timer of the same rule started when the case entered the state again (a compliance term required anew, a
    review entered again after a prevención): that stay's lapse is no term of this one, and neither a page, a
    notice nor a queue reads it as such."""
    later = aliased(Timer, name="later_timer")
    superseded = exists(
        select(1)
        .select_from(later)
        .where(
            later.case_id == Timer.case_id,
            later.state == Timer.state,
            later.rule == Timer.rule,
            later.created_seq > Timer.created_seq,
        )
    )
    return or_(
        is_constant(Timer.status, TimerStatus.PENDING), and_(is_constant(Timer.status, TimerStatus.FIRED), ~superseded)
    )


_TERM_TIMER_ROWS = (
    select(
        Timer.case_id,
        Timer.kind,
        Timer.state,
        Timer.rule,
        Timer.status,
        Timer.party,
        Timer.starts_on,
        Timer.due_on,
        Timer.trigger,
    )
    .where(
        one_of(Timer.kind, [TimerKind.DEADLINE, TimerKind.TARGET]),
        term_in_force(),
    )
    .order_by(Timer.due_on)
)
_TERM_TIMERS = for_ids(_TERM_TIMER_ROWS, _TIMER_TABLE.c.case_id, "case_ids")
"""The timers of a list of cases that people read as terms (a clock's pending timer is among them: a deadline)."""
_ONE_CASE_TERM_TIMERS = FixedStatement(_TERM_TIMER_ROWS.where(Timer.case_id == bindparam("case_id")))


def _of_cases(session: Session, many: FixedStatement, one: FixedStatement, ids: Sequence[int]) -> Sequence[Any]:
    """The rows of the cases ``ids``: ``many`` with the list as ``:case_ids`` (:func:`app.database.among`), or
    for a single case (a case page) ``one`` with ``:case_id``, a plain comparison."""
    if len(ids) == 1:
        return one.read(session, {"case_id": ids[0]})
    return many.read(session, {"case_ids": list(ids)})


_ONE_DAY = timedelta(days=1)


def _term_views(
    rows: Sequence[Any], states: Mapping[int, str], cal: BusinessCalendar, today: date, nearest: bool = False
) -> dict[int, list[TermView]]:
    result: dict[int, list[TermView]] = {}
    # the columns of _TERM_TIMERS, unpacked (a row's attributes cost a look-up each; a queue has hundreds)
    for case_id, kind, state, rule, status, party, starts_on, due_on, trigger in rows:
        if states.get(case_id) != state or (nearest and case_id in result):
            continue
        # a term notified on a non-working day starts counting later: only its counting days are left
        left = cal.business_days_between(max(today, starts_on - _ONE_DAY), due_on)
        view = TermView(kind, state, due_on, left, due_on < today, party, rule, status == TimerStatus.PENDING, trigger)
        listed = result.get(case_id)
        if listed is None:
            result[case_id] = [view]
        else:
            listed.append(view)
    return result


def moving_lapse_unrecorded(workflow: Workflow, state: str, terms: Iterable[TermView]) -> bool:
    """Whether one of the terms of a case in ``state`` (as :func:`case_terms` gives them) is a deadline whose last
    day is over, whose lapse the timers' worker has not recorded yet and moves the case out of ``state`` (an
    expired term: not presented, concluded). A lapse that only records a day is judged without being recorded
    (:func:`unrecorded_lapses`); one the rules refuse is left to the worker, which marks it failed."""
    return any(
        term.overdue
        and term.pending
        and term.kind == TimerKind.DEADLINE
        and term.trigger is not None
        and any(move.dest != state for move in workflow.find(term.trigger, state))
        for term in terms
    )


_CASES = cast(Table, Case.__table__)
_CASE_STATES = for_ids(select(_CASES.c.id, _CASES.c.state), _CASES.c.id, "case_ids")
_CASE_DEFINITIONS = for_ids(select(_CASES.c.id, _CASES.c.workflow, _CASES.c.workflow_version), _CASES.c.id, "case_ids")
"""The state, and the definition, of each case of a list: one statement whatever the list's length (an expanding
``IN`` is a statement of its own for each length, and PostgreSQL takes at most 65,535 parameters)."""


def pending_terms(case_ids: Sequence[int], today: date | None = None) -> dict[int, list[TermView]]:
    """The pending deadline and target terms of the given cases, soonest first, keyed by case id."""
    if not case_ids:
        return {}
    today = today or local_today()
    session = db.session()
    cal = calendar(session)
    ids = {"case_ids": list(case_ids)}
    rows = _TERM_TIMERS.read(session, ids)
    return _term_views(rows, dict(_CASE_STATES.read(session, ids)), cal, today)


class CaseHead(Protocol):
    """What the terms of a list of cases need of each: a loaded case, or a list's row of one."""

    @property
    def id(self) -> int:
        """The case's id."""

    @property
    def workflow(self) -> str:
        """Its workflow's name."""

    @property
    def workflow_version(self) -> int:
        """The version of its workflow's definition."""

    @property
    def state(self) -> str:
        """Its current state."""


def case_terms(
    cases: Sequence[CaseHead], today: date | None = None, *, nearest: bool = False
) -> tuple[dict[int, list[TermView]], dict[int, dict[str, ClockView]]]:
    """What :func:`pending_terms` and :func:`case_clocks` give, for cases already loaded: their state and
    definition come from the objects, their timers are read once for both, and their clocks only when some
    case's workflow declares clocks. With ``nearest``, each case's first term and its legal clock only (a list
    shows no other)."""
    if not cases:
        return {}, {}
    today = today or local_today()
    session = db.session()
    cal = reading_calendar(session)
    ids = [case.id for case in cases]
    rows = _of_cases(session, _TERM_TIMERS, _ONE_CASE_TERM_TIMERS, ids)
    terms = _term_views(rows, {case.id: case.state for case in cases}, cal, today, nearest)
    engine = get_engine()
    workflows = {case.id: engine.definition(case.workflow, case.workflow_version) for case in cases}
    if not any(workflow.clocks for workflow in workflows.values()):
        return terms, {}
    due = {
        (case_id, rule.removeprefix(CLOCK_RULE_PREFIX)): (starts_on, due_on)
        for case_id, _kind, _state, rule, status, _party, starts_on, due_on, _trigger in rows
        if status == TimerStatus.PENDING and rule.startswith(CLOCK_RULE_PREFIX)
    }
    return terms, _clock_views(session, cal, today, workflows, due, legal_only=nearest)


# -- case-level clocks ----------------------------------------------------------------------------

CLOCK_RULE_PREFIX = "clock:"


def clock_rule(clock: Clock) -> str:
    """The ``Timer.rule`` of the pending timer that holds a running clock's last day."""
    return f"{CLOCK_RULE_PREFIX}{clock.name}"


def used_business_days(cal: BusinessCalendar, notified_on: date, interrupted_on: date) -> int:
    """Business days a term notified on ``notified_on`` used before it was interrupted on ``interrupted_on``
    (the day of the interruption itself does not count)."""
    start = cal.effective_day(notified_on)
    last = interrupted_on - timedelta(days=1)
    return max(0, cal.business_days_between(start, last)) if last > start else 0


_CLOCK_TABLE = cast(Table, CaseClock.__table__)
_CANCEL_CLOCK_TIMER = FixedStatement(
    update(_TIMER_TABLE)
    .where(
        _TIMER_TABLE.c.case_id == bindparam("timer_case"),
        is_constant(_TIMER_TABLE.c.status, TimerStatus.PENDING),
        _TIMER_TABLE.c.rule == bindparam("clock_rule"),
    )
    .values(status=TimerStatus.CANCELLED, finished_at=bindparam("now"))
)


def _cancel_clock_timer(session: Session, case_id: int, clock: Clock, now: datetime) -> None:
    values = {"timer_case": case_id, "clock_rule": clock_rule(clock), "now": now}
    _CANCEL_CLOCK_TIMER.send_later(session_connection(session), values)


@dataclass(slots=True)
class ClockRow:
    """A case's clock as :func:`sync_clocks` reads and changes it (columns, not a loaded object)."""

    id: int | None
    name: str
    status: ClockStatus
    term_days: int
    extension_days: int
    used_days: int
    started_on: date
    segment_notified_on: date | None
    lapsed_on: date | None

    @property
    def total_days(self) -> int:
        """The term with its extension."""
        return self.term_days + self.extension_days

    def values(self) -> dict[str, object]:
        """What the row stores besides its keys."""
        return {
            "status": self.status,
            "term_days": self.term_days,
            "extension_days": self.extension_days,
            "used_days": self.used_days,
            "started_on": self.started_on,
            "segment_notified_on": self.segment_notified_on,
            "lapsed_on": self.lapsed_on,
        }


CLOCK_COLUMNS = (
    _CLOCK_TABLE.c.id,
    _CLOCK_TABLE.c.name,
    _CLOCK_TABLE.c.status,
    _CLOCK_TABLE.c.term_days,
    _CLOCK_TABLE.c.extension_days,
    _CLOCK_TABLE.c.used_days,
    _CLOCK_TABLE.c.started_on,
    _CLOCK_TABLE.c.segment_notified_on,
    _CLOCK_TABLE.c.lapsed_on,
)
"""The columns of a :class:`ClockRow`, in its fields' order."""
_CASE_CLOCKS = FixedStatement(select(*CLOCK_COLUMNS).where(_CLOCK_TABLE.c.case_id == bindparam("clock_case")))
_CLOCK_VALUES = (*(column.key for column in CLOCK_COLUMNS[2:]), "updated_at")
"""What :meth:`ClockRow.values` gives, and the time of the change."""
_INSERT_CLOCK = FixedStatement(insert_of(_CLOCK_TABLE, ("case_id", "name", *_CLOCK_VALUES)))
_UPDATE_CLOCK = FixedStatement(
    update(_CLOCK_TABLE)
    .where(_CLOCK_TABLE.c.id == bindparam("clock_id"))
    .values({key: bindparam(key, type_=_CLOCK_TABLE.c[key].type) for key in _CLOCK_VALUES})
)


def _clock_timer(
    cal: BusinessCalendar, case: Case, clock: Clock, row: ClockRow, seq: int, params: Mapping[str, Any]
) -> dict[str, object]:
    """The row of the pending timer that holds a running clock's last day."""
    notified_on = row.segment_notified_on or row.started_on  # a running clock has a segment (CHECK constraint)
    days = max(1, row.total_days - row.used_days)
    due_on = cal.add_business_days(notified_on, days)
    return _timer_row(
        case,
        case.state,
        seq,
        notified_on,
        cal.first_counting_day(notified_on),
        kind=TimerKind.DEADLINE,
        trigger=clock.lapse_trigger(params),
        rule=clock_rule(clock),
        term_days=days,
        business=True,
        party="assignee",
        due_on=due_on,
        due_at=deadline_instant(due_on),
    )


def _lapse_day(workflow: Workflow, trigger: str, data: Mapping[str, Any], params: Mapping[str, Any]) -> date | None:
    """The last day of the term whose lapse ``trigger`` records (its clock's lapse field in ``data``), or
    ``None`` when ``trigger`` is no clock's lapse. A term that another's lapse starts (the 15 days to appeal the
    authority's silence, LGTAIP 2015 art. 142: "dentro de los quince días siguientes a la fecha … del
    vencimiento del plazo para su notificación") counts from the day after that last day, not from the day
    after the system recorded the lapse (the next day's tick, or later)."""
    for other in workflow.clocks:
        if other.lapse_trigger(params) != trigger:
            continue
        value = data.get(other.lapse_field)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return None
    return None


def sync_clocks(
    session: Session,
    case: Case,
    trigger: str,
    seq: int,
    today: date,
    now: datetime,
    *,
    moved: bool = True,
    clocks: Sequence[ClockRow] | None = None,
) -> list[dict[str, object]]:
    """Bring the case's clocks up to date after ``trigger`` (``open`` for the filing) on ``today``; ``moved``
    says whether the case changed state (the caller then cancels its pending timers, and the running clocks'
    timers are reissued; after a step that left the state and a clock as they were, its timer is kept).
    Returns the rows of the clocks' new timers, for the caller to write with the state's own
    (:func:`insert_timers`: one ``INSERT`` for all of a transition's timers, with that cancel).

    A clock starts when the case first enters one of its running states (or when one of its ``started_by``
    triggers fires), pauses in its paused states keeping the business days used, resumes the business day
    after the case leaves them, takes its extension once, records its lapse when its ``on_lapse`` trigger
    fires, and stops for good in any other state. While it runs, one pending timer holds its last day; that
    timer is reissued on every change, so the existing tick fires the lapse and calendar changes move it.
    The clock rows are read as columns (unless the caller read them already: ``clocks``, as
    :data:`CLOCK_COLUMNS` gives them) and written with Core statements only when they change.
    """
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if not workflow.clocks:
        return []
    params = case.params or workflow.params
    merged = {**workflow.params, **params}
    connection = session_connection(session)
    if clocks is None:
        clocks = [ClockRow(*r) for r in _CASE_CLOCKS.rows(connection, {"clock_case": case.id})]
    rows = {r.name: r for r in clocks}
    cal = calendar(session)
    timers: list[dict[str, object]] = []
    for clock in workflow.clocks:
        where = clock.status_in(case.state, merged)
        row = rows.get(clock.name)
        if row is None:
            starts = trigger in clock.started_by if clock.started_by else True
            if not starts or where != "running":
                continue
            begun = _lapse_day(workflow, trigger, case.data, merged) or today
            row = ClockRow(
                None, clock.name, ClockStatus.RUNNING, int(params[clock.days_param]), 0, 0, begun, begun, None
            )
            values = {"case_id": case.id, "name": clock.name, **row.values(), "updated_at": now}
            _INSERT_CLOCK.send_later(connection, values)
            timers.append(_clock_timer(cal, case, clock, row, seq, merged))
            continue  # a clock that starts now has no earlier timer to cancel
        if row.status in (ClockStatus.STOPPED, ClockStatus.LAPSED):
            continue
        before = row.values()
        if trigger == clock.lapse_trigger(merged):
            row.status, row.lapsed_on, row.segment_notified_on = ClockStatus.LAPSED, today, None
            _UPDATE_CLOCK.send_later(connection, {"clock_id": row.id, **row.values(), "updated_at": now})
            _cancel_clock_timer(session, case.id, clock, now)
            continue
        if trigger == clock.extension_trigger and row.extension_days == 0 and clock.extension_days_param:
            row.extension_days = int(params[clock.extension_days_param])
        if where == "stopped":
            row.status, row.segment_notified_on = ClockStatus.STOPPED, None
        elif where == "paused" and row.status == ClockStatus.RUNNING:
            segment = row.segment_notified_on or row.started_on
            row.used_days += used_business_days(cal, segment, today)
            row.status, row.segment_notified_on = ClockStatus.PAUSED, None
        elif where == "running" and row.status == ClockStatus.PAUSED:
            if clock.restarts(merged):  # an interruption: the whole term again
                row.used_days = 0
            row.status, row.segment_notified_on = ClockStatus.RUNNING, today
        if row.values() != before:
            _UPDATE_CLOCK.send_later(connection, {"clock_id": row.id, **row.values(), "updated_at": now})
        elif not moved:
            continue  # neither the case nor the clock moved: its timer stands
        if not moved:  # a move already cancelled every pending timer of the state the case left
            _cancel_clock_timer(session, case.id, clock, now)
        if row.status == ClockStatus.RUNNING:
            timers.append(_clock_timer(cal, case, clock, row, seq, merged))
    return timers


def clock_lapse_data(case: Case, timer: Timer) -> dict[str, str] | None:
    """The data a clock's lapse transition records (its lapse field: the last day of the term), or ``None``
    when ``timer`` belongs to no clock."""
    if not timer.rule.startswith(CLOCK_RULE_PREFIX):
        return None
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    name = timer.rule.removeprefix(CLOCK_RULE_PREFIX)
    for clock in workflow.clocks:
        if clock.name == name:
            return {clock.lapse_field: timer.due_on.isoformat()}
    return None


class ClockView(NamedTuple):
    """A case's clock as people see it (a named tuple, as :class:`TermView`)."""

    name: str
    description: str
    status: ClockStatus
    due_on: date | None
    business_days_left: int | None
    extended: bool
    lapsed_on: date | None
    legal: bool = False
    """Whether this is the procedure's legal term (:attr:`workflows.base.Clock.legal_term`)."""
    days_remaining: int | None = None
    """Business days of the term not yet used (while it runs or is paused; ``None`` once it stopped)."""

    @property
    def overdue(self) -> bool:
        """Whether the term lapsed."""
        return self.status == ClockStatus.LAPSED

    @property
    def paused(self) -> bool:
        """Whether the term is suspended (the applicant holds the case)."""
        return self.status == ClockStatus.PAUSED


_CLOCK_DUE = for_ids(
    select(_TIMER_TABLE.c.case_id, _TIMER_TABLE.c.rule, _TIMER_TABLE.c.starts_on, _TIMER_TABLE.c.due_on).where(
        is_constant(_TIMER_TABLE.c.status, TimerStatus.PENDING), _TIMER_TABLE.c.rule.startswith(CLOCK_RULE_PREFIX)
    ),
    _TIMER_TABLE.c.case_id,
    "case_ids",
)
"""The first counting days and last days of the running clocks of a list of cases (their pending timers)."""


def case_clocks(case_ids: Sequence[int], today: date | None = None) -> dict[int, dict[str, ClockView]]:
    """The clocks of the given cases (by case id, then clock name), with the last day of the running ones."""
    if not case_ids:
        return {}
    today = today or local_today()
    session = db.session()
    cal = calendar(session)
    due = {
        (case_id, rule.removeprefix(CLOCK_RULE_PREFIX)): (starts_on, due_on)
        for case_id, rule, starts_on, due_on in _CLOCK_DUE.read(session, {"case_ids": list(case_ids)})
    }
    # only what names each case's definition: a list of cases must not read their data
    engine = get_engine()
    workflows = {
        case_id: engine.definition(name, version)
        for case_id, name, version in _CASE_DEFINITIONS.read(session, {"case_ids": list(case_ids)})
    }
    return _clock_views(session, cal, today, workflows, due)


_CLOCK_ROWS = select(
    CaseClock.case_id,
    CaseClock.name,
    CaseClock.status,
    CaseClock.term_days,
    CaseClock.extension_days,
    CaseClock.used_days,
    CaseClock.lapsed_on,
).order_by(CaseClock.id)
"""What the clock views of a list of cases show (columns, not loaded objects)."""
_CLOCKS_OF_CASES = for_ids(_CLOCK_ROWS, _CLOCK_TABLE.c.case_id, "case_ids")
_CLOCKS_OF_CASE = FixedStatement(_CLOCK_ROWS.where(CaseClock.case_id == bindparam("case_id")))


def _clock_views(
    session: Session,
    cal: BusinessCalendar,
    today: date,
    workflows: Mapping[int, Workflow],
    due: Mapping[tuple[int, str], tuple[date, date]],
    *,
    legal_only: bool = False,
) -> dict[int, dict[str, ClockView]]:
    """The clock views of the cases of ``workflows`` (case id → definition), given the first counting days and
    last days of their running clocks (``due``: (case id, clock name) → (first counting day, last day)); with
    ``legal_only``, of each case's procedure-level legal term only (what a list shows)."""
    result: dict[int, dict[str, ClockView]] = {}
    declared: dict[int, dict[str, Clock]] = {}  # each definition's clocks by name, for this list
    # the columns of _CLOCK_ROWS, unpacked (a row's attributes cost a look-up each; a queue has hundreds)
    rows = _of_cases(session, _CLOCKS_OF_CASES, _CLOCKS_OF_CASE, list(workflows))
    for case_id, name, status, term_days, extension_days, used_days, lapsed_on in rows:
        workflow = workflows[case_id]
        clocks = declared.get(id(workflow))
        if clocks is None:
            clocks = declared[id(workflow)] = {c.name: c for c in workflow.clocks if c.legal_term or not legal_only}
        clock = clocks.get(name)
        if clock is None:
            continue
        running = due.get((case_id, name))
        due_on: date | None = None
        left: int | None = None
        if running is not None:
            # as for the terms: a clock notified on a non-working day has only its counting days left
            starts_on, due_on = running
            left = cal.business_days_between(max(today, starts_on - _ONE_DAY), due_on)
        remaining: int | None = None
        if status == ClockStatus.PAUSED:
            remaining = max(0, term_days + extension_days - used_days)
        elif status == ClockStatus.RUNNING:
            remaining = left
        view = ClockView(
            name, clock.description, status, due_on, left, extension_days > 0, lapsed_on, clock.legal_term, remaining
        )
        views = result.get(case_id)
        if views is None:
            result[case_id] = {name: view}
        else:
            views[name] = view
    return result


def unrecorded_lapses(
    workflow: Workflow, state: str, params: Mapping[str, Any], clocks: Mapping[str, ClockView], today: date
) -> dict[str, str]:
    """What the lapses of a case's running clocks whose last day is before ``today`` will record (each clock's
    lapse field: its last day), for those not yet recorded by the timers' worker whose lapse leaves the case in
    ``state`` (a term that only records that it ended: a window to prevent, to appeal). A person's step is judged
    with them, since :func:`app.services.cases.fire` records them first; a page offering steps takes them in so
    that it offers what such a step will allow (and says why not)."""
    data: dict[str, str] = {}
    for clock in workflow.clocks:
        view = clocks.get(clock.name)
        if view is None or view.status != ClockStatus.RUNNING or view.due_on is None or view.due_on >= today:
            continue
        moves = workflow.find(clock.lapse_trigger(params), state)
        if moves and all(t.dest == state for t in moves):
            data[clock.lapse_field] = view.due_on.isoformat()
    return data


def lapsed_data(case: Case, today: date) -> dict[str, str]:
    """:func:`unrecorded_lapses` of a loaded case (its clocks read; nothing when its definition has none)."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    if not workflow.clocks:
        return {}
    clocks = case_clocks([case.id], today).get(case.id, {})
    return unrecorded_lapses(workflow, case.state, case.params or workflow.params, clocks, today)


def legal_terms(case_ids: Sequence[int], today: date | None = None) -> dict[int, ClockView]:
    """The procedure-level legal term of each of the given cases that has one (started), by case id."""
    return legal_of(case_clocks(case_ids, today))


def legal_of(clocks: Mapping[int, Mapping[str, ClockView]]) -> dict[int, ClockView]:
    """The legal term among each case's clocks (as :func:`case_clocks` gives them), by case id."""
    return {case_id: view for case_id, views in clocks.items() for view in views.values() if view.legal}
