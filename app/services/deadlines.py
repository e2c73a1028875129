"""Terms of cases in business days: starting and cancelling timers, and the authority's calendar.

Declaring or removing a non-working day recomputes every pending term it affects, in the same
transaction, and is written to the audit log with the gazette reference that declared it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.calendar import LOCAL_TZ, BusinessCalendar, deadline_instant, local_today
from app.engine import InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import AuditKind, Case, NonWorkingDay, Role, Timer, TimerKind, TimerStatus, User
from app.services.uow import unit_of_work
from workflows.base import SYSTEM_ROLE, State, Workflow

REMINDER_HOUR = time(9, 0)
MAX_DECLARED_RANGE_DAYS = 366


def calendar(session: Session) -> BusinessCalendar:
    """The business-day calendar with the authority's declared non-working days."""
    return BusinessCalendar(session.scalars(select(NonWorkingDay.day)))


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
    """Who must act in ``state``: the applicant when one of its exits is theirs, else the assignee."""
    exits = [t for t in workflow.transitions_from(state) if t.roles != {SYSTEM_ROLE}]
    return "applicant" if any(t.owner_only for t in exits) else "assignee"


def start_timers(session: Session, case: Case, state: State, seq: int, today: date) -> None:
    """Create the timers of ``state`` for a case that has just entered it (notified ``today``):
    its deadline, a reminder to the party that must act, and the authority's service target."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    params = case.params or workflow.params
    cal = calendar(session)
    first = cal.first_counting_day(today)
    if state.deadline is not None:
        days = int(params[state.deadline.days_param])
        due_on = _last_day(cal, today, days, state.deadline.business)
        party = acting_party(workflow, state.name)
        session.add(
            Timer(
                case_id=case.id,
                kind=TimerKind.DEADLINE,
                state=state.name,
                trigger=state.deadline.expiry_trigger(params),
                rule=state.deadline.days_param,
                notified_on=today,
                term_days=days,
                business=state.deadline.business,
                party=party,
                starts_on=first,
                due_on=due_on,
                due_at=deadline_instant(due_on),
                created_seq=seq,
            )
        )
        before = int(params.get("reminder_business_days", 0))
        if before > 0:
            remind_on = _reminder_day(cal, due_on, before)
            if remind_on > today:
                session.add(
                    Timer(
                        case_id=case.id,
                        kind=TimerKind.REMINDER,
                        state=state.name,
                        rule=state.deadline.days_param,
                        notified_on=today,
                        term_days=days,
                        business=state.deadline.business,
                        remind_before=before,
                        party=party,
                        starts_on=first,
                        due_on=remind_on,
                        due_at=_reminder_instant(remind_on),
                        created_seq=seq,
                    )
                )
    if state.target is not None:
        days = int(params[state.target.days_param])
        due_on = _last_day(cal, today, days, state.target.business)
        session.add(
            Timer(
                case_id=case.id,
                kind=TimerKind.TARGET,
                state=state.name,
                rule=state.target.days_param,
                notified_on=today,
                term_days=days,
                business=state.target.business,
                party="assignee",
                starts_on=first,
                due_on=due_on,
                due_at=deadline_instant(due_on),
                created_seq=seq,
            )
        )


def cancel_timers(session: Session, case_id: int, now: datetime) -> None:
    """Cancel the pending timers of a case that left the state they belong to."""
    session.execute(
        update(Timer)
        .where(Timer.case_id == case_id, Timer.status == TimerStatus.PENDING)
        .values(status=TimerStatus.CANCELLED, finished_at=now)
    )


def recompute_pending(session: Session) -> int:
    """Recompute the last day of every pending business-day timer with the current calendar.

    Returns how many timers moved. Reminders follow their deadline.
    """
    cal = calendar(session)
    moved = 0
    for timer in session.scalars(select(Timer).where(Timer.status == TimerStatus.PENDING, Timer.business.is_(True))):
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


@dataclass(frozen=True, slots=True)
class CalendarChange:
    """What a calendar change did."""

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
    """Declare ``first``..``last`` (inclusive) non-working and move every pending term they affect.

    Days already declared are left as they are. Raises ``InvalidData`` (empty description or
    reference, reversed or over-long range) and ``NotAllowed`` (not an administrator).
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
        existing = set(session.scalars(select(NonWorkingDay.day).where(NonWorkingDay.day.between(first, last))))
        added: list[date] = []
        day = first
        while day <= last:
            if day not in existing:
                session.add(NonWorkingDay(day=day, description=description, gazette_reference=gazette_reference))
                added.append(day)
            day += timedelta(days=1)
        session.flush()
        moved = recompute_pending(session) if added else 0
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="non_working_days_declared",
                actor_id=actor_id,
                actor_role=Role.ADMIN.value,
                details={
                    "days": [d.isoformat() for d in added],
                    "gazette_reference": gazette_reference,
                    "description": description,
                    "timers_moved": moved,
                },
            ),
        )
        return CalendarChange(tuple(added), moved)


def remove_non_working_day(day_id: int, actor_id: int) -> CalendarChange:
    """Remove a declared non-working day and move every pending term it affected. Raises ``NotFound``."""
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        row = session.get(NonWorkingDay, day_id)
        if row is None:
            raise NotFound(Msg("Ese día inhábil no está declarado."))
        removed = row.day
        session.delete(row)
        session.flush()
        moved = recompute_pending(session)
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="non_working_day_removed",
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


@dataclass(frozen=True, slots=True)
class TermView:
    """A pending term as people see it: its last day and the business days left."""

    kind: TimerKind
    state: str
    due_on: date
    business_days_left: int
    overdue: bool
    party: str | None


def pending_terms(case_ids: Sequence[int], today: date | None = None) -> dict[int, list[TermView]]:
    """The pending deadline and target terms of the given cases, soonest first, keyed by case id."""
    if not case_ids:
        return {}
    today = today or local_today()
    session = db.session()
    cal = calendar(session)
    rows = session.scalars(
        select(Timer)
        .where(
            Timer.case_id.in_(case_ids),
            Timer.kind.in_([TimerKind.DEADLINE, TimerKind.TARGET]),
            Timer.status.in_([TimerStatus.PENDING, TimerStatus.FIRED]),
        )
        .order_by(Timer.due_on)
    )
    current = {c.id: c.state for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    result: dict[int, list[TermView]] = {}
    for timer in rows:
        if current.get(timer.case_id) != timer.state:
            continue
        left = cal.business_days_between(today, timer.due_on)
        result.setdefault(timer.case_id, []).append(
            TermView(timer.kind, timer.state, timer.due_on, left, timer.due_on < today, timer.party)
        )
    return result
