"""Declarative building blocks for workflow definitions.

A workflow is data: states, transitions, guards and deadline rules. Nothing here knows about Flask,
SQLAlchemy or the ``transitions`` library; the engine turns a :class:`Workflow` into a state machine.
Guards are pure functions of a :class:`GuardInput` and return ``None`` when the transition may go
ahead, or a human-readable reason (marked for translation with :func:`N_`) when it may not.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType
from typing import Any

SYSTEM_ROLE = "system"
"""Pseudo-role of the timer worker: transitions fired when a term lapses."""

DEPARTMENTS_PARAM = "departments"
"""The parameter mapping each office of a workflow (``State.department``) to the jurisdiction's department code."""


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it here (the UI translates on display)."""
    return message


ENGLISH_SUFFIX = "_en"
"""Beside a value an administrator enters in Spanish (a requirement's ``label``, a fee's ``concept``), the key
that holds its optional English value (``label_en``, ``concept_en``)."""


def is_english(language: str | None) -> bool:
    """Whether ``language`` (a locale such as ``en``, ``en_US`` or ``es_MX``) is English."""
    return (language or "").replace("-", "_").partition("_")[0].lower() == "en"


def in_language(spanish: str, english: str | None, language: str | None) -> str:
    """What a reader of ``language`` reads of a value an administrator entered in Spanish and, optionally, in
    English (a requirement's label, a fee's concept, a department's name): the English value for an English
    reader when one was given, else the Spanish one."""
    if english and english.strip() and is_english(language):
        return english
    return spanish


def item_in_language(item: Mapping[str, Any], key: str, language: str | None) -> str:
    """``item[key]``, a Spanish value of a setting's item, as a reader of ``language`` reads it: its English
    value ``item[key + "_en"]`` where :func:`in_language` chooses it."""
    english = item.get(key + ENGLISH_SUFFIX)
    return in_language(str(item.get(key) or ""), english if isinstance(english, str) else None, language)


class InvalidSetting(ValueError):
    """A setting's parser refuses a value and says why in words people read: ``msgid`` (marked with ``N_``,
    translated on display) with its ``params``. The settings service shows it instead of a generic refusal."""

    def __init__(self, msgid: str, params: dict[str, str] | None = None) -> None:
        super().__init__(msgid % (params or {}) if params else msgid)
        self.msgid = msgid
        self.params = dict(params or {})


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
    jurisdiction can configure it; ``business`` says whether only business days count. ``due_field``, as
    for a :class:`Target`, names a case data field holding a fixed last day (e.g. the due date printed on a
    payment order) that replaces the ``days_param`` term when the case holds it.
    """

    days_param: str
    on_expiry: str
    description: str
    business: bool = True
    on_expiry_param: str | None = None
    due_field: str | None = None

    def expiry_trigger(self, params: Mapping[str, Any]) -> str:
        """The trigger that fires on lapse: ``on_expiry``, or the one the jurisdiction chose in
        ``on_expiry_param`` (e.g. afirmativa or negativa ficta)."""
        if self.on_expiry_param is not None:
            return str(params.get(self.on_expiry_param, self.on_expiry))
        return self.on_expiry


@dataclass(frozen=True, slots=True)
class Target:
    """A service-level target for the staff's work in a state (e.g. 4 business days for the land-use
    ruling). Lapsing fires nothing: the case is flagged overdue and the assignee is told.

    ``due_field`` names a case data field holding a fixed last day (an ISO date, e.g. a publication
    calendar's due date); when the case holds it, it replaces the ``days_param`` term (a last day that is
    not a business day moves to the next one)."""

    days_param: str
    description: str
    business: bool = True
    due_field: str | None = None


RESTART = "restart"
"""Value of a clock's ``restart_param`` under which an interruption makes the term count anew."""
PAUSE = "pause"
"""Value of a clock's ``restart_param`` under which an interruption only suspends the term."""
RUN = "run"
"""Value of a clock's ``restart_param`` under which the term keeps running while the case is in its paused
states (the jurisdiction's law does not interrupt it while the applicant holds the case)."""
INTERRUPTIONS = frozenset({RESTART, PAUSE, RUN})


@dataclass(frozen=True, slots=True)
class Clock:
    """A case-level term that spans several states (e.g. the 20 business days to answer a request).

    - it starts when the case first enters one of ``running`` (the opening included), or, when
      ``started_by`` names triggers, when one of them fires; counting begins the next business day (after the
      last day of the term whose lapse fired it, when the trigger is another clock's ``on_lapse``);
    - it is interrupted in the ``paused`` states and resumes the business day after the case leaves them,
      with the days already used kept; when ``restart_param`` names a parameter whose value is
      ``restart``, it counts anew instead, whole, from the business day after the case leaves them;
    - ``extension_trigger`` adds the days of ``extension_days_param`` once;
    - it stops for good when the case enters any state that is neither running nor paused;
    - when it lapses the system fires ``on_lapse`` (a system transition from every running state: a
      self-loop only records the lapse day under ``lapse_field``; another destination is a silence rule),
      or the trigger the jurisdiction chose in ``on_lapse_param`` (afirmativa or negativa ficta);
    - ``restart_param`` may also allow ``run``: the paused states then do not interrupt the term (each lapse
      trigger must then also leave them);
    - ``legal_term`` marks the procedure's overall legal term (e.g. the ten business days to resolve): it is
      shown with the case everywhere (case page, queues sorted by it, notices), while per-state targets stay
      the authority's internal ones.
    """

    name: str
    days_param: str
    description: str
    running: tuple[str, ...]
    on_lapse: str
    lapse_field: str
    paused: tuple[str, ...] = ()
    started_by: tuple[str, ...] = ()
    extension_trigger: str | None = None
    extension_days_param: str | None = None
    restart_param: str | None = None
    on_lapse_param: str | None = None
    legal_term: bool = False

    def restarts(self, params: Mapping[str, Any]) -> bool:
        """Whether leaving a paused state starts the term anew (``restart``) rather than resuming it."""
        return self.restart_param is not None and params.get(self.restart_param, RESTART) == RESTART

    def keeps_running(self, params: Mapping[str, Any]) -> bool:
        """Whether the paused states leave the term running under ``params`` (``restart_param`` is ``run``)."""
        return self.restart_param is not None and params.get(self.restart_param) == RUN

    def lapse_trigger(self, params: Mapping[str, Any]) -> str:
        """The trigger fired when the term lapses: ``on_lapse``, or the jurisdiction's choice in
        ``on_lapse_param``."""
        if self.on_lapse_param is not None:
            return str(params.get(self.on_lapse_param) or self.on_lapse)
        return self.on_lapse

    def status_in(self, state: str, params: Mapping[str, Any] | None = None) -> str:
        """``running``, ``paused`` or ``stopped``: what the clock does while the case is in ``state`` (under
        ``params``, a paused state may leave it running: see :meth:`keeps_running`)."""
        if state in self.running:
            return "running"
        if state in self.paused:
            return "running" if params is not None and self.keeps_running(params) else "paused"
        return "stopped"


@dataclass(frozen=True, slots=True)
class Draw:
    """A reproducible random selection the system makes when a case enters a state (e.g. which completed
    works are inspected).

    ``rate_param`` holds the selection rate (a decimal string from 0 to 1); ``seed_param`` names the draw's
    seed, which is not a setting: the system commits one per quarter before the draws and reveals it after
    (``app.services.seeds``), so the body whose cases are drawn can neither read nor choose it. The number
    is HMAC-SHA-256(seed, ``folio|seq``) read as a fraction in [0, 1), where ``seq`` is the audit sequence
    number of the entry that brought the case into the state; the case is selected when the number is below
    the rate. The outcome goes into the case data under ``field``
    and the whole record (number, rate, digest, seq) under ``record_field``, so anyone holding the seed
    can recompute it from the log.
    """

    rate_param: str
    seed_param: str
    field: str
    record_field: str
    description: str


@dataclass(frozen=True, slots=True)
class DrawResult:
    """The outcome of a :class:`Draw` for one case."""

    number: Fraction
    digest: str
    rate: str
    seq: int
    selected: bool

    def record(self) -> dict[str, Any]:
        """The JSON-ready record kept in the case data and in the audit entry."""
        return {
            "method": "HMAC-SHA256(seed, folio|seq)",
            "digest": self.digest,
            "number": f"{float(self.number):.6f}",
            "rate": self.rate,
            "seq": self.seq,
            "selected": self.selected,
        }


def seed_digest(seed: str) -> str:
    """The commitment to a draw's seed: SHA-256 of its UTF-8 bytes, as lowercase hex."""
    return hashlib.sha256(seed.encode()).hexdigest()


def seed_matches(seed: str, digest: str) -> bool:
    """Whether ``seed`` is the one committed as ``digest`` (compared in constant time)."""
    return hmac.compare_digest(seed_digest(seed), digest.strip().lower())


def draw(seed: str, folio: str, seq: int, rate: Any) -> DrawResult:
    """Draw for the case ``folio`` whose entering audit entry is ``seq``; pure and reproducible.

    The first 64 bits of HMAC-SHA-256(seed, ``folio|seq``) give a number in [0, 1); it is compared
    exactly (as fractions) with ``rate``. Raises ``ValueError`` when ``rate`` is not a number from 0 to 1.
    """
    try:
        threshold = Fraction(Decimal(str(rate)))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"draw rate {rate!r} is not a number") from None
    if not 0 <= threshold <= 1:
        raise ValueError(f"draw rate {rate!r} is not between 0 and 1")
    digest = hmac.new(seed.encode(), f"{folio}|{seq}".encode(), hashlib.sha256).hexdigest()
    number = Fraction(int(digest[:16], 16), 2**64)
    return DrawResult(number, digest[:16], str(rate), seq, number < threshold)


@dataclass(frozen=True, slots=True)
class State:
    """A state of the workflow. ``deadline`` binds the party that must act (its lapse fires a system
    transition); ``target`` measures the authority's own speed.

    - ``department``: the office whose staff act on cases in this state (a key of the
      :data:`DEPARTMENTS_PARAM` parameter, which the jurisdiction maps to one of its departments; an
      unmapped office restricts nobody).
    - ``draw``: a random selection the system makes when a case enters the state.
    - ``automatic``: system transitions fired as soon as a case enters the state, in the same
      transaction: the first of them whose rules pass (e.g. the two outcomes of the draw).
    """

    name: str
    description: str
    terminal: bool = False
    deadline: Deadline | None = None
    target: Target | None = None
    department: str | None = None
    draw: Draw | None = None
    automatic: tuple[str, ...] = ()


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
    - ``issues``: kind of certificate this transition issues (e.g. ``licence``): rendered, sealed, signed
      and stored in the same transaction, its SHA-256 recorded in the transition's audit entry.
    - ``revokes``: the case's valid certificates are revoked, with the (mandatory) comment as the reason.
    - ``documents_param``: a parameter listing the required documents (the jurisdiction's requirements
      list); when the case's settings hold it, it replaces ``required_documents`` (see :func:`documents_for`).
    - ``dedicated``: only the feature's own service fires it (see the attribute's note).
    - ``exceptional``: a step staff may take at any time in its sources but that no case waits for (revoking a
      licence for false data): offered on the case page, it puts no case in its roles' work queues.
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
    issues: str | None = None
    revokes: bool = False
    documents_param: str | None = None
    dedicated: bool = False
    """Fired only through the feature's own service, which checks what the engine cannot (e.g. that an area
    answers only its own turn, that a committee decision belongs to an agenda item); the generic case page
    neither offers it nor accepts it."""
    exceptional: bool = False
    """No case waits for this step in its sources (a revocation): a case resting there (a licensed work, for
    years) is not work for the step's roles, and their queues leave it out. The step stays on the case page."""


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
    param_parsers: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    """For structured parameters (a fee table, a requirements list), a pure function that checks a new value
    and returns it normalised and JSON-ready; it raises ``ValueError`` or ``TypeError`` for a bad value."""
    computed_fields: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Any]] = field(default_factory=dict)
    """Data fields the system computes from the case data and settings (e.g. fees from the published table)
    when a trigger that writes them is used from a form; nobody types them."""
    catalogues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Data fields whose values are codes from settings catalogues: field → the parameters listing the codes
    (forms offer their union)."""
    clocks: tuple[Clock, ...] = ()
    """Case-level terms spanning several states (see :class:`Clock`)."""
    opening_fields: tuple[str, ...] = ()
    """Data keys the filing itself writes (besides those of the initial state's transitions)."""
    audience_field: str | None = None
    """A data field listing the departments a case was brought to (e.g. the areas a request was turned to):
    staff holding a role only in some departments see the case only when one of theirs is listed."""
    input_guards: frozenset[str] = frozenset()
    """Guards that judge what a trigger's own form supplies (an appeal's grounds, a resolution's text, a
    committee's vote): while the form is blank they cannot be judged, so a trigger is still offered when only
    they would refuse. Every other guard judges the case as it stands (a window that lapsed, a step already
    taken once): when one refuses, typing cannot change it, and the trigger is not offered as a form."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "guards", MappingProxyType(dict(self.guards)))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "param_choices", MappingProxyType(dict(self.param_choices)))
        object.__setattr__(self, "param_parsers", MappingProxyType(dict(self.param_parsers)))
        object.__setattr__(self, "computed_fields", MappingProxyType(dict(self.computed_fields)))
        object.__setattr__(self, "catalogues", MappingProxyType(dict(self.catalogues)))
        object.__setattr__(self, "input_guards", frozenset(self.input_guards))
        problems = validate(self)
        if problems:
            raise ValueError(f"workflow {self.name} v{self.version} is inconsistent: " + "; ".join(problems))

    @property
    def key(self) -> tuple[str, int]:
        """The (name, version) pair that identifies this definition."""
        return (self.name, self.version)

    # A definition never changes once built, and a transition or a page asks these look-ups many times: each
    # is worked out once per definition, on first use (kept in the instance's own dictionary).

    @cached_property
    def _states_by_name(self) -> Mapping[str, State]:
        named: dict[str, State] = {}
        for state in self.states:
            named.setdefault(state.name, state)  # the first of a repeated name, as a scan finds it
        return named

    @cached_property
    def _transitions_by_source(self) -> Mapping[str, tuple[Transition, ...]]:
        sources: dict[str, list[Transition]] = {}
        for transition in self.transitions:
            for source in dict.fromkeys(transition.sources):
                sources.setdefault(source, []).append(transition)
        return {source: tuple(found) for source, found in sources.items()}

    @cached_property
    def _transitions_by_step(self) -> Mapping[tuple[str, str], tuple[Transition, ...]]:
        steps: dict[tuple[str, str], list[Transition]] = {}
        for source, found in self._transitions_by_source.items():
            for transition in found:
                steps.setdefault((transition.trigger, source), []).append(transition)
        return {step: tuple(found) for step, found in steps.items()}

    def state(self, name: str) -> State:
        """Return the state called ``name``; raises ``KeyError`` if there is none."""
        try:
            return self._states_by_name[name]
        except KeyError:
            raise KeyError(name) from None

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """All transitions whose sources include ``state``, in definition order."""
        return self._transitions_by_source.get(state, ())

    def find(self, trigger: str, state: str) -> tuple[Transition, ...]:
        """The transitions fired by ``trigger`` from ``state`` (several only when guards choose)."""
        return self._transitions_by_step.get((trigger, state), ())

    @cached_property
    def triggers(self) -> frozenset[str]:
        """Every trigger name of the workflow."""
        return frozenset(t.trigger for t in self.transitions)


def fees_total(fees: Any) -> Decimal:
    """The sum of the amounts of assessed ``fees`` (rows with an ``amount``; rows without a valid amount count
    as zero)."""
    total = Decimal(0)
    for item in fees or ():
        if not isinstance(item, Mapping):
            continue
        try:
            amount = Decimal(str(item.get("amount")))
        except (InvalidOperation, ValueError):
            continue
        if amount.is_finite():
            total += amount
    return total


def requirement_kinds(value: Any) -> tuple[str, ...]:
    """The document kinds of a requirements list (items are kinds or mappings with a ``kind``), in order."""
    kinds: list[str] = []
    for item in value or ():
        kind = item.get("kind") if isinstance(item, Mapping) else item
        if isinstance(kind, str) and kind and kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def documents_for(transition: Transition, params: Mapping[str, Any]) -> tuple[str, ...]:
    """The documents ``transition`` requires under ``params``: the settings' requirements list when the
    transition names one and the settings hold it, else the definition's ``required_documents``."""
    if transition.documents_param is not None and transition.documents_param in params:
        return requirement_kinds(params[transition.documents_param])
    return transition.required_documents


def department_of(state: State, params: Mapping[str, Any]) -> str | None:
    """The department code whose staff act on cases in ``state`` under ``params`` (``None``: anyone)."""
    if state.department is None:
        return None
    mapping = params.get(DEPARTMENTS_PARAM)
    code = mapping.get(state.department) if isinstance(mapping, Mapping) else None
    return str(code) if code else None


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]*")


def validate(workflow: Workflow) -> list[str]:
    """Return the structural problems of ``workflow`` (empty when it is consistent)."""
    problems: list[str] = []
    names = [s.name for s in workflow.states]
    for name in (workflow.name, *names):  # written into statements as constants (lists planned for their values)
        if not _PLAIN_NAME.fullmatch(name):
            problems.append(f"{name!r}: a procedure's or state's name is lower-case letters, digits and underscores")
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
        if t.revokes and not t.comment_required:
            problems.append(f"{t.trigger}: revoking certificates needs a comment (the reason)")
        if t.revokes and t.issues:
            problems.append(f"{t.trigger}: cannot both issue and revoke certificates")
        if t.documents_param is not None and t.documents_param not in workflow.params:
            problems.append(f"{t.trigger}: documents parameter {t.documents_param!r} missing")
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
        problems.extend(_state_extras(workflow, s))
    for g in sorted(set(workflow.input_guards) - set(workflow.guards)):
        problems.append(f"input guard {g!r} is not a guard")
    problems.extend(_workflow_extras(workflow))
    return problems


def _state_extras(workflow: Workflow, s: State) -> list[str]:
    problems: list[str] = []
    if s.department is not None:
        offices = workflow.params.get(DEPARTMENTS_PARAM)
        if not isinstance(offices, Mapping) or s.department not in offices:
            problems.append(f"{s.name}: office {s.department!r} missing from {DEPARTMENTS_PARAM!r}")
    if s.draw is not None:
        if s.draw.rate_param not in workflow.params:
            problems.append(f"{s.name}: draw parameter {s.draw.rate_param!r} missing")
        if s.draw.seed_param in workflow.params:
            problems.append(f"{s.name}: the draw's seed {s.draw.seed_param!r} is committed, not a setting")
    for trigger in s.automatic:
        if not any(SYSTEM_ROLE in t.roles for t in workflow.find(trigger, s.name)):
            problems.append(f"{s.name}: automatic trigger {trigger!r} is not a system transition")
    if s.automatic and s.terminal:
        problems.append(f"{s.name}: a terminal state has no automatic exits")
    return problems


def _workflow_extras(workflow: Workflow) -> list[str]:
    problems: list[str] = []
    for key, parser in workflow.param_parsers.items():
        if key not in workflow.params:
            problems.append(f"parser for unknown parameter {key!r}")
            continue
        try:
            parser(workflow.params[key])
        except (TypeError, ValueError) as exc:
            problems.append(f"default of {key!r} refused by its parser: {exc}")
    written = {f for t in workflow.transitions for f in t.fields}
    for name in workflow.computed_fields:
        if name not in written:
            problems.append(f"computed field {name!r} is written by no transition")
    for name, params in workflow.catalogues.items():
        for param in params:
            if param not in workflow.params:
                problems.append(f"catalogue of {name!r}: parameter {param!r} missing")
    for clock in workflow.clocks:
        problems.extend(_clock_problems(workflow, clock))
    if len({c.name for c in workflow.clocks}) != len(workflow.clocks):
        problems.append("duplicate clock names")
    return problems


def _clock_problems(workflow: Workflow, clock: Clock) -> list[str]:
    problems: list[str] = []
    known = {s.name for s in workflow.states}
    terminal = {s.name for s in workflow.states if s.terminal}
    for param in (clock.days_param, clock.extension_days_param):
        if param is not None and param not in workflow.params:
            problems.append(f"clock {clock.name}: parameter {param!r} missing")
    interruptions = set(workflow.param_choices.get(clock.restart_param, ())) if clock.restart_param else set()
    if clock.restart_param is not None and (len(interruptions) < 2 or not interruptions <= INTERRUPTIONS):
        problems.append(f"clock {clock.name}: {clock.restart_param!r} must be a choice of restart, pause or run")
    if (clock.extension_trigger is None) != (clock.extension_days_param is None):
        problems.append(f"clock {clock.name}: an extension needs both its trigger and its days parameter")
    for state in (*clock.running, *clock.paused):
        if state not in known:
            problems.append(f"clock {clock.name}: unknown state {state!r}")
        elif state in terminal:
            problems.append(f"clock {clock.name}: runs in terminal state {state!r}")
    if set(clock.running) & set(clock.paused):
        problems.append(f"clock {clock.name}: a state cannot both run and pause it")
    for trigger in (*clock.started_by, *((clock.extension_trigger,) if clock.extension_trigger else ())):
        if trigger not in workflow.triggers:
            problems.append(f"clock {clock.name}: unknown trigger {trigger!r}")
    triggers = {clock.on_lapse}
    if clock.on_lapse_param is not None:
        if clock.on_lapse_param not in workflow.params:
            problems.append(f"clock {clock.name}: parameter {clock.on_lapse_param!r} missing")
        triggers |= {str(workflow.params.get(clock.on_lapse_param, clock.on_lapse))}
        triggers |= set(workflow.param_choices.get(clock.on_lapse_param, ()))
    lapsing = (*clock.running, *(clock.paused if RUN in interruptions else ()))
    for trigger in sorted(triggers):
        for state in lapsing:
            lapses = [t for t in workflow.find(trigger, state) if SYSTEM_ROLE in t.roles]
            if not lapses:
                problems.append(f"clock {clock.name}: {trigger!r} is not a system transition from {state!r}")
            elif any(clock.lapse_field not in t.fields for t in lapses):
                problems.append(f"clock {clock.name}: {trigger!r} does not record {clock.lapse_field!r}")
    if sum(1 for c in workflow.clocks if c.legal_term) > 1:
        problems.append("a workflow has at most one legal term")
    return problems
