"""The prevención of the administrative procedure laws, for the procedures that follow them.

LFPA art. 17-A (and the states' laws written after it): the authority prevents the applicant once, in writing,
"dentro del primer tercio del plazo de respuesta"; if it does not, it "no podrá desechar el trámite argumentando
que está incompleto"; the applicant's term to answer "no podrá ser menor de cinco días hábiles". A procedure
gets a version that applies it from :func:`in_term`: the term to prevent as a :class:`~workflows.base.Clock`,
the guard :func:`prevention_in_term` on its prevención, the system steps that record the term's lapse, and the
two settings checked by the parsers below. The access-to-information requests follow their own law (LGTAIP 2015
art. 128) instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from workflows.base import N_, SYSTEM_ROLE, Clock, GuardInput, InvalidSetting, Transition, Workflow

WINDOW_FIELD = "prevention_window_closed_on"
"""The case data field where the lapse of the term to prevent records its last day."""
WINDOW_LAPSE = "prevention_window_closed"
"""The system self-loop that records that lapse."""
ISSUE_DAYS = "prevention_issue_days"
"""The setting holding the term to prevent, in business days."""
GUARD = "prevention_in_term"
"""The guard's name in a definition's ``guards``."""


def prevention_in_term(inp: GuardInput) -> str | None:
    """The prevención is issued within the first third of the term to resolve (LFPA art. 17-A, third
    paragraph); once that term has run the request can no longer be set aside as incomplete, so the step is
    refused."""
    if inp.data.get(WINDOW_FIELD):
        return N_(
            "Venció el plazo para prevenir (el primer tercio del plazo de resolución, LFPA art. 17-A): la "
            "solicitud ya no puede tenerse por incompleta ni desecharse por ello."
        )
    return None


def parse_prevention_issue_days(value: Any) -> int:
    """The authority's term to issue the prevención, in business days from the day after the filing: 1 to 10
    (LFPA art. 17-A: within the first third of the term to resolve). Raises
    :class:`~workflows.base.InvalidSetting`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise InvalidSetting(
            N_(
                "El plazo para prevenir es de uno a diez días hábiles (LFPA art. 17-A: el primer tercio del plazo "
                "de resolución)."
            )
        )
    return value


def parse_prevention_answer_days(value: Any) -> int:
    """The applicant's term to answer the prevención, in business days: 5 to 30 (LFPA art. 17-A: "no podrá
    ser menor de cinco días hábiles"). Raises :class:`~workflows.base.InvalidSetting`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 30:
        raise InvalidSetting(
            N_(
                "El plazo para desahogar la prevención es de cinco a treinta días hábiles (LFPA art. 17-A: no menos "
                "de cinco)."
            )
        )
    return value


PARAM_PARSERS = {ISSUE_DAYS: parse_prevention_issue_days, "prevention_answer_days": parse_prevention_answer_days}
"""The two settings' parsers, for a definition's ``param_parsers``."""


def _window(running: tuple[str, ...], started_by: tuple[str, ...]) -> Clock:
    """The authority's term to prevent: it runs from the business day after the filing (``started_by``) while
    the authority reviews the request in one of ``running``, and stops for good when the request is prevented
    or goes past them. Its lapse only records its last day (:data:`WINDOW_FIELD`)."""
    return Clock(
        "prevention_window",
        ISSUE_DAYS,
        N_("Plazo para prevenir al solicitante (primer tercio del plazo de resolución, LFPA art. 17-A)"),
        running=running,
        started_by=started_by,
        on_lapse=WINDOW_LAPSE,
        lapse_field=WINDOW_FIELD,
    )


def _with_window(transitions: Iterable[Transition], issue_trigger: str, clock: Clock) -> tuple[Transition, ...]:
    """``transitions`` with the guard :data:`GUARD` added to ``issue_trigger`` and the system self-loops that
    record the lapse of ``clock`` (from :func:`_window`) in each state where it runs."""
    guarded = tuple(
        dataclasses.replace(t, guards=(*t.guards, GUARD)) if t.trigger == issue_trigger else t for t in transitions
    )
    lapses = tuple(
        Transition(
            WINDOW_LAPSE,
            (state,),
            state,
            frozenset({SYSTEM_ROLE}),
            N_("Vence el plazo para prevenir al solicitante"),
            fields=(WINDOW_FIELD,),
        )
        for state in clock.running
    )
    return (*guarded, *lapses)


def in_term(
    workflow: Workflow,
    *,
    version: int,
    running: tuple[str, ...],
    days: int,
    issue_trigger: str = "issue_prevention",
    started_by: tuple[str, ...] = ("submit",),
) -> Workflow:
    """A new ``version`` of ``workflow`` whose prevención (``issue_trigger``) must come within ``days`` business
    days (the default of :data:`ISSUE_DAYS`) from the business day after the filing (``started_by``), counted
    while the authority reviews the request in one of ``running``; the applicant's term to answer is checked
    to be at least five days. Requests filed under ``workflow`` finish under it."""
    clock = _window(running, started_by)
    return dataclasses.replace(
        workflow,
        version=version,
        transitions=_with_window(workflow.transitions, issue_trigger, clock),
        guards={**workflow.guards, GUARD: prevention_in_term},
        params={**workflow.params, ISSUE_DAYS: days},
        clocks=(*workflow.clocks, clock),
        param_parsers={**workflow.param_parsers, **PARAM_PARSERS},
    )
