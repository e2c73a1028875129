"""Declarative building blocks for workflow definitions.

A workflow is data: states, transitions, guards and deadline rules. Nothing here knows about Flask,
SQLAlchemy or the ``transitions`` library; the engine turns a :class:`Workflow` into a state machine.
Guards are pure functions of a :class:`GuardInput` and return ``None`` when the transition may go
ahead, or a human-readable reason (marked for translation with :func:`N_`) when it may not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

SYSTEM_ROLE = "system"
"""Pseudo-role of the timer worker: transitions fired when a term lapses."""


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it here (the UI translates on display)."""
    return message


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One earlier transition of the same case, as guards and the four-eyes rule see it."""

    trigger: str
    actor_id: int | None


@dataclass(frozen=True, slots=True)
class GuardInput:
    """Everything a guard may look at. Built by the engine; guards must not reach for anything else."""

    data: Mapping[str, Any]
    documents: frozenset[str]
    history: tuple[HistoryItem, ...]
    actor_id: int | None
    actor_roles: frozenset[str]
    today: date
    params: Mapping[str, Any]

    def count(self, trigger: str) -> int:
        """How many times ``trigger`` was fired on this case before."""
        return sum(1 for item in self.history if item.trigger == trigger)


Guard = Callable[[GuardInput], str | None]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A term that starts when a case enters a state and fires ``on_expiry`` when it lapses.

    ``days_param`` names the workflow parameter holding the number of days, so that each
    jurisdiction can configure it; ``business`` says whether only business days count.
    """

    days_param: str
    on_expiry: str
    description: str
    business: bool = True
    on_expiry_param: str | None = None

    def expiry_trigger(self, params: Mapping[str, Any]) -> str:
        """The trigger that fires on lapse: ``on_expiry``, or the one the jurisdiction chose in
        ``on_expiry_param`` (e.g. afirmativa or negativa ficta)."""
        if self.on_expiry_param is not None:
            return str(params.get(self.on_expiry_param, self.on_expiry))
        return self.on_expiry


@dataclass(frozen=True, slots=True)
class Target:
    """A service-level target for the staff's work in a state (e.g. 4 business days for the land-use
    ruling). Lapsing fires nothing: the case is flagged overdue and the assignee is told."""

    days_param: str
    description: str
    business: bool = True


@dataclass(frozen=True, slots=True)
class State:
    """A state of the workflow. ``deadline`` binds the party that must act (its lapse fires a system
    transition); ``target`` measures the authority's own speed."""

    name: str
    description: str
    terminal: bool = False
    deadline: Deadline | None = None
    target: Target | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A trigger that moves a case from one of ``sources`` to ``dest``.

    - ``roles``: roles allowed to fire it (``system`` for timer-driven transitions).
    - ``owner_only``: only the case's applicant may fire it (roles must then include ``applicant``).
    - ``guards``: names of guards (keys of :attr:`Workflow.guards`) that must all pass.
    - ``fields``: data keys the trigger may write into the case data; anything else is refused.
    - ``required_fields`` / ``required_documents``: what the case must hold after the data is merged.
    - ``four_eyes_with``: triggers whose actor on this case may not also fire this one.
    - ``comment_required``: a reasoned comment is mandatory (denials, prevenciones).
    - ``notify``: parties that receive a notification (``applicant``, ``assignee``).
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    description: str
    owner_only: bool = False
    guards: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()
    required_documents: tuple[str, ...] = ()
    four_eyes_with: tuple[str, ...] = ()
    comment_required: bool = False
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    """A complete, versioned workflow definition."""

    name: str
    version: int
    title: str
    folio_prefix: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    guards: Mapping[str, Guard] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    param_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """For parameters with a closed set of values (e.g. which trigger silence fires), the allowed values."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "guards", MappingProxyType(dict(self.guards)))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "param_choices", MappingProxyType(dict(self.param_choices)))
        problems = validate(self)
        if problems:
            raise ValueError(f"workflow {self.name} v{self.version} is inconsistent: " + "; ".join(problems))

    @property
    def key(self) -> tuple[str, int]:
        """The (name, version) pair that identifies this definition."""
        return (self.name, self.version)

    def state(self, name: str) -> State:
        """Return the state called ``name``; raises ``KeyError`` if there is none."""
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(name)

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """All transitions whose sources include ``state``, in definition order."""
        return tuple(t for t in self.transitions if state in t.sources)

    def find(self, trigger: str, state: str) -> tuple[Transition, ...]:
        """The transitions fired by ``trigger`` from ``state`` (several only when guards choose)."""
        return tuple(t for t in self.transitions if t.trigger == trigger and state in t.sources)

    @property
    def triggers(self) -> frozenset[str]:
        """Every trigger name of the workflow."""
        return frozenset(t.trigger for t in self.transitions)


def validate(workflow: Workflow) -> list[str]:
    """Return the structural problems of ``workflow`` (empty when it is consistent)."""
    problems: list[str] = []
    names = [s.name for s in workflow.states]
    if len(names) != len(set(names)):
        problems.append("duplicate state names")
    known = set(names)
    if workflow.initial not in known:
        problems.append(f"initial state {workflow.initial!r} is not a state")
    terminal = {s.name for s in workflow.states if s.terminal}
    for t in workflow.transitions:
        for src in t.sources:
            if src not in known:
                problems.append(f"{t.trigger}: unknown source {src!r}")
            if src in terminal:
                problems.append(f"{t.trigger}: leaves terminal state {src!r}")
        if t.dest not in known:
            problems.append(f"{t.trigger}: unknown destination {t.dest!r}")
        for g in t.guards:
            if g not in workflow.guards:
                problems.append(f"{t.trigger}: unknown guard {g!r}")
        if not t.roles:
            problems.append(f"{t.trigger}: no role may fire it")
        if t.owner_only and "applicant" not in t.roles:
            problems.append(f"{t.trigger}: owner_only needs the applicant role")
        for other in t.four_eyes_with:
            if other not in workflow.triggers:
                problems.append(f"{t.trigger}: four-eyes names unknown trigger {other!r}")
    for s in workflow.states:
        if s.deadline is not None:
            if s.deadline.days_param not in workflow.params:
                problems.append(f"{s.name}: deadline parameter {s.deadline.days_param!r} missing")
            choices = {s.deadline.on_expiry}
            if s.deadline.on_expiry_param is not None:
                choices.add(str(workflow.params.get(s.deadline.on_expiry_param, s.deadline.on_expiry)))
                choices |= set(workflow.param_choices.get(s.deadline.on_expiry_param, ()))
            for trigger in sorted(choices):
                expiring = workflow.find(trigger, s.name)
                if not expiring or not any(SYSTEM_ROLE in t.roles for t in expiring):
                    problems.append(f"{s.name}: expiry trigger {trigger!r} is not a system transition")
        if s.target is not None and s.target.days_param not in workflow.params:
            problems.append(f"{s.name}: target parameter {s.target.days_param!r} missing")
    return problems
