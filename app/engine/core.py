"""Builds one ``transitions.Machine`` per (workflow, version) and decides transitions.

The engine works on plain views of a case (:class:`CaseView`) and never writes to the database:
the services apply an :class:`Outcome` to the stored case, append the audit entry, write timers and
outbox rows and commit, all in one transaction. Machines are built once at start-up with
``auto_transitions=False`` and no attached models; events are fired on a throw-away token that
carries only the state, so firing costs no per-case machine set-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from transitions import EventData, Machine, MachineError

from app.engine.errors import (
    ConflictError,
    GuardRefused,
    IllegalTrigger,
    InvalidData,
    Msg,
    NotAllowed,
    UnknownTrigger,
)
from app.models import Role
from workflows import REGISTRY
from workflows.base import (
    SYSTEM_ROLE,
    GuardInput,
    HistoryItem,
    Transition,
    Workflow,
    department_of,
    documents_for,
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who fires a trigger: a user id and the roles they hold (the timer worker is the system actor).

    ``department_grants`` lists (role, department) for the roles the user holds only in some departments;
    such a role acts only in states whose office the jurisdiction maps to one of those departments. A role
    held without a department is not restricted.
    """

    id: int | None
    roles: frozenset[str]
    department_grants: frozenset[tuple[str, str]] = frozenset()

    def serves(self, role: str, department: str) -> bool:
        """Whether the actor may act as ``role`` on behalf of ``department``."""
        scoped = {r for r, _ in self.department_grants}
        return role not in scoped or (role, department) in self.department_grants

    @classmethod
    def system(cls) -> Actor:
        """The timer worker, acting when a term lapses."""
        return cls(None, frozenset({SYSTEM_ROLE}))

    @property
    def is_system(self) -> bool:
        """Whether this is the timer worker."""
        return self.id is None and SYSTEM_ROLE in self.roles


@dataclass(frozen=True, slots=True)
class CaseView:
    """What the engine needs to know about a case."""

    workflow: str
    workflow_version: int
    state: str
    version: int
    applicant_id: int
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    documents: frozenset[str] = frozenset()
    history: tuple[HistoryItem, ...] = ()
    assignee_id: int | None = None
    """The public servant the case is assigned to: in a department's stage only they take its steps."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decided transition: where the case goes, as whom the actor acted, and the data to store."""

    transition: Transition
    from_state: str
    to_state: str
    role: str
    data: dict[str, Any]
    written: dict[str, Any]
    comment: str | None


@dataclass(frozen=True, slots=True)
class AvailableTrigger:
    """A trigger the actor could fire now; ``enabled`` is false when requirements or guards refuse it."""

    trigger: str
    description: str
    dest: str
    enabled: bool
    reasons: tuple[Msg, ...]
    fields: tuple[str, ...]
    comment_required: bool


class _Token:
    """The only object the shared machines ever see: it carries a state and nothing else."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _is_chosen(transition: Transition) -> Any:
    def condition(event: EventData) -> bool:
        return event.kwargs.get("chosen") is transition

    return condition


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def _trigger_label(workflow: Workflow, trigger: str) -> str:
    """The description (a msgid) of ``trigger``, for messages people read; the id when it has none."""
    return next((t.description for t in workflow.transitions if t.trigger == trigger), trigger)


def field_label(workflow: Workflow, name: str) -> str:
    """The label (a msgid) the procedure declares for the data field ``name``; the key when none does."""
    declared = REGISTRY.get(workflow.name).find_field(name) if workflow.name in REGISTRY else None
    return declared.label if declared is not None else name


def _state_label(workflow: Workflow, state: str) -> str:
    try:
        return workflow.state(state).description
    except KeyError:
        return state


def _missing_document(t: Transition, params: Mapping[str, Any], kind: str) -> Msg:
    """The refusal for a missing document ``kind``, named by the label the jurisdiction's requirements list
    gives it (else the kind), and by its English label for an English reader where one was given."""
    if t.documents_param is not None:
        for item in params.get(t.documents_param) or ():
            if isinstance(item, Mapping) and item.get("kind") == kind and item.get("label"):
                english = item.get("label_en")
                return Msg(
                    "Falta el documento «%(kind)s».",
                    {"kind": kind},
                    {"kind": str(item["label"])},
                    {"kind": english} if isinstance(english, str) else {},
                )
    return Msg("Falta el documento «%(kind)s».", {"kind": kind}, {"kind": kind})


class Engine:
    """All workflow definitions with their machines, built once."""

    def __init__(self, definitions: Iterable[Workflow], roles: Iterable[str]) -> None:
        self._definitions: dict[tuple[str, int], Workflow] = {}
        self._machines: dict[tuple[str, int], Machine] = {}
        known_roles = frozenset(roles) | {SYSTEM_ROLE}
        for workflow in definitions:
            if workflow.key in self._definitions:
                raise ValueError(f"workflow {workflow.name} v{workflow.version} defined twice")
            unknown = {r for t in workflow.transitions for r in t.roles} - known_roles
            if unknown:
                raise ValueError(f"workflow {workflow.name} names unknown roles {sorted(unknown)}")
            self._definitions[workflow.key] = workflow
            self._machines[workflow.key] = self._build(workflow)

    @staticmethod
    def _build(workflow: Workflow) -> Machine:
        machine = Machine(
            model=None,
            states=[s.name for s in workflow.states],
            initial=workflow.initial,
            auto_transitions=False,
            send_event=True,
            name=f"{workflow.name}-v{workflow.version}",
        )
        for t in workflow.transitions:
            machine.add_transition(t.trigger, list(t.sources), t.dest, conditions=[_is_chosen(t)])
        return machine

    @property
    def definitions(self) -> tuple[Workflow, ...]:
        """Every loaded definition."""
        return tuple(self._definitions.values())

    def definition(self, name: str, version: int) -> Workflow:
        """The definition of ``name`` at ``version``; raises ``KeyError`` if it is not loaded."""
        return self._definitions[(name, version)]

    def latest(self, name: str) -> Workflow:
        """The newest loaded version of ``name``; raises ``KeyError`` if there is none."""
        versions = [w for (n, _), w in self._definitions.items() if n == name]
        if not versions:
            raise KeyError(name)
        return max(versions, key=lambda w: w.version)

    def machine(self, name: str, version: int) -> Machine:
        """The shared machine of ``name`` at ``version``."""
        return self._machines[(name, version)]

    # -- deciding -----------------------------------------------------------------------------

    def _acting_role(
        self, workflow: Workflow, t: Transition, view: CaseView, actor: Actor, params: Mapping[str, Any]
    ) -> str | Msg:
        if SYSTEM_ROLE in t.roles and actor.is_system:
            return SYSTEM_ROLE
        roles = sorted((t.roles - {SYSTEM_ROLE}) & actor.roles)
        if not roles or actor.is_system:
            return Msg("Su rol no le permite «%(trigger)s».", {"trigger": t.trigger}, {"trigger": t.description})
        if t.owner_only and actor.id != view.applicant_id:
            return Msg(
                "Solo quien presentó la solicitud puede «%(trigger)s».",
                {"trigger": t.trigger},
                {"trigger": t.description},
            )
        if actor.id == view.applicant_id and Role.APPLICANT.value not in roles:
            return Msg("No puede actuar como servidor público sobre una solicitud que usted presentó.")
        if Role.APPLICANT.value in roles:
            return Role.APPLICANT.value
        department = department_of(workflow.state(view.state), params)
        if department is not None:
            roles = [r for r in roles if actor.serves(r, department)]
            if not roles:
                return Msg(
                    "Este paso corresponde a otra área (%(department)s); su rol no le permite «%(trigger)s».",
                    {"department": department, "trigger": t.trigger},
                    {"trigger": t.description},
                )
            if view.assignee_id is not None and actor.id != view.assignee_id:
                return Msg(
                    "El expediente está asignado a otra persona servidora pública; solo ella puede «%(trigger)s» "
                    "(la administración puede reasignarlo).",
                    {"trigger": t.trigger},
                    {"trigger": t.description},
                )
        return roles[0]

    def _refusals(
        self,
        workflow: Workflow,
        t: Transition,
        view: CaseView,
        actor: Actor,
        merged: Mapping[str, Any],
        comment: str | None,
        today: date,
        params: Mapping[str, Any],
        skip_guards: frozenset[str] = frozenset(),
    ) -> list[Msg]:
        reasons: list[Msg] = []
        for name in t.required_fields:
            if _blank(merged.get(name)):
                reasons.append(
                    Msg(
                        "Falta el dato obligatorio «%(field)s».",
                        {"field": name},
                        {"field": field_label(workflow, name)},
                    )
                )
        for kind in documents_for(t, params):
            if kind not in view.documents:
                reasons.append(_missing_document(t, params, kind))
        if t.comment_required and (comment is None or not comment.strip()):
            reasons.append(Msg("Esta acción requiere un comentario fundado y motivado."))
        if t.four_eyes_with and actor.id is not None:
            for item in view.history:
                if item.trigger in t.four_eyes_with and item.actor_id == actor.id:
                    reasons.append(
                        Msg(
                            "Quien realizó «%(step)s» no puede también «%(trigger)s» (regla de cuatro ojos).",
                            {"step": item.trigger, "trigger": t.trigger},
                            {"step": _trigger_label(workflow, item.trigger), "trigger": t.description},
                        )
                    )
                    break
        inp = GuardInput(
            data=MappingProxyType(dict(merged)),
            documents=view.documents,
            history=view.history,
            actor_id=actor.id,
            actor_roles=actor.roles,
            today=today,
            params=params,
        )
        for guard_name in t.guards:
            if guard_name in skip_guards:
                continue
            reason = workflow.guards[guard_name](inp)
            if reason is not None:
                reasons.append(Msg(reason))
        return reasons

    def decide(
        self,
        view: CaseView,
        trigger: str,
        actor: Actor,
        *,
        today: date,
        expected_version: int | None = None,
        data: Mapping[str, Any] | None = None,
        comment: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Check every rule for firing ``trigger`` on the case and move the state on the shared machine.

        Raises ``ConflictError`` (stale ``expected_version``), ``UnknownTrigger``, ``IllegalTrigger``
        (not from this state), ``NotAllowed`` (role or relation to the case), ``InvalidData`` (fields
        the trigger does not accept) or ``GuardRefused`` (requirements, four-eyes, guards; every reason
        is listed). Nothing is written anywhere.
        """
        if expected_version is not None and expected_version != view.version:
            raise ConflictError(
                Msg("El expediente cambió mientras lo consultaba; recargue la página e intente de nuevo.")
            )
        workflow = self.definition(view.workflow, view.workflow_version)
        if trigger not in workflow.triggers:
            raise UnknownTrigger(Msg("La acción «%(trigger)s» no existe en este trámite.", {"trigger": trigger}))
        if workflow.state(view.state).terminal:
            raise IllegalTrigger(
                Msg(
                    "El expediente está concluido («%(state)s»): ya no admite «%(trigger)s» ni otros cambios.",
                    {"trigger": trigger, "state": view.state},
                    {"trigger": _trigger_label(workflow, trigger), "state": _state_label(workflow, view.state)},
                )
            )
        candidates = workflow.find(trigger, view.state)
        if not candidates:
            raise IllegalTrigger(
                Msg(
                    "La acción «%(trigger)s» no es posible en el estado «%(state)s».",
                    {"trigger": trigger, "state": view.state},
                    {"trigger": _trigger_label(workflow, trigger), "state": _state_label(workflow, view.state)},
                )
            )
        written = dict(data or {})
        if written and workflow.name in REGISTRY:  # stored in each field type's one canonical form
            written = REGISTRY.get(workflow.name).canonical(written)
        params = workflow.params if params is None else params
        first_refusal: Exception | None = None
        for t in candidates:
            role = self._acting_role(workflow, t, view, actor, params)
            if isinstance(role, Msg):
                first_refusal = first_refusal or NotAllowed(role)
                continue
            unexpected = sorted(set(written) - set(t.fields))
            if unexpected:
                first_refusal = first_refusal or InvalidData(
                    Msg(
                        "La acción no admite los datos: %(fields)s.",
                        {"fields": ", ".join(unexpected)},
                        {"fields": tuple(field_label(workflow, name) for name in unexpected)},
                    )
                )
                continue
            merged = {**view.data, **written}
            reasons = self._refusals(workflow, t, view, actor, merged, comment, today, params)
            if reasons:
                first_refusal = first_refusal or GuardRefused(reasons[0], tuple(reasons))
                continue
            to_state = self._move(workflow, view.state, t)
            return Outcome(t, view.state, to_state, role, merged, written, comment)
        if first_refusal is None:  # every candidate either moved or refused; unreachable by construction
            raise RuntimeError(f"no outcome for {trigger} from {view.state}")
        raise first_refusal

    def _move(self, workflow: Workflow, state: str, t: Transition) -> str:
        token = _Token(state)
        machine = self._machines[workflow.key]
        try:
            moved = machine.events[t.trigger].trigger(token, chosen=t)
        except MachineError as exc:  # the definition and the machine disagree: a bug, not user input
            raise RuntimeError(f"machine refused {t.trigger} from {state}: {exc}") from exc
        if not moved or token.state != t.dest:
            raise RuntimeError(f"machine did not move {t.trigger} from {state} to {t.dest}")
        return token.state

    def available(
        self,
        view: CaseView,
        actor: Actor,
        *,
        today: date,
        params: Mapping[str, Any] | None = None,
    ) -> list[AvailableTrigger]:
        """The triggers ``actor`` may fire on the case now (system-only transitions excluded).

        A trigger whose requirements or guards are not met is listed with ``enabled=False`` and its
        reasons, so that the interface can say why it is not offered. Guards the workflow declares as judging
        the form's own input (:attr:`Workflow.input_guards`) are left to the submission: a blank form cannot
        satisfy them, yet filling it can. Requirements on data the trigger itself supplies count as met, too.
        """
        workflow = self.definition(view.workflow, view.workflow_version)
        params = workflow.params if params is None else params
        result: list[AvailableTrigger] = []
        seen: set[str] = set()
        for t in workflow.transitions_from(view.state):
            if t.trigger in seen or t.roles == {SYSTEM_ROLE}:
                continue
            if isinstance(self._acting_role(workflow, t, view, actor, params), Msg):
                continue
            reasons = self._refusals(
                workflow, t, view, actor, view.data, "-", today, params, skip_guards=workflow.input_guards
            )
            # Requirements on data the trigger itself supplies are met by the form, not the case.
            reasons = [r for r in reasons if r.params.get("field") not in t.fields]
            seen.add(t.trigger)
            result.append(
                AvailableTrigger(
                    trigger=t.trigger,
                    description=t.description,
                    dest=t.dest,
                    enabled=not reasons,
                    reasons=tuple(reasons),
                    fields=t.fields,
                    comment_required=t.comment_required,
                )
            )
        return result


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine with every installed procedure's definitions (built on first use, then shared)."""
    return Engine(REGISTRY.definitions(), (r.value for r in Role))
