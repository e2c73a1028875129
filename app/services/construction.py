"""Construction requests before and while they are drafted: eligibility, opening, catalogues.

The eligibility rules are the procedure's own (``Procedure.eligibility``, which its ``eligible`` guard applies at
submission); nothing here repeats them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.engine import DomainError, GuardRefused, InvalidData, Msg, NotFound, get_engine
from app.extensions import db
from app.models import Case, IdempotencyRecord
from app.services.cases import FireResult, open_case
from app.services.config import current_params
from app.services.uow import unit_of_work
from workflows import REGISTRY
from workflows.base import Workflow

OTHER = "otro"
"""The choice offered next to every catalogue: a value outside it (never eligible where a catalogue rules)."""


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Whether a request qualifies for a procedure, and every reason it does not."""

    eligible: bool
    reasons: tuple[Msg, ...]


def procedures() -> list[Workflow]:
    """The procedures whose requests are checked for eligibility before filing (newest versions)."""
    engine = get_engine()
    return [engine.latest(p.name) for p in REGISTRY.with_eligibility()]


def procedure(name: str) -> Workflow:
    """The newest version of the construction procedure ``name``. Raises ``NotFound``."""
    if name not in REGISTRY or REGISTRY.get(name).eligibility is None:
        raise NotFound(Msg("El trámite «%(name)s» no existe.", {"name": name}))
    return get_engine().latest(name)


def catalogue_values(workflow: Workflow, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each catalogued data field, the codes ``params`` lists for it (settings order, no repeats)."""
    result: dict[str, list[str]] = {}
    for field_name, param_names in workflow.catalogues.items():
        codes: list[str] = []
        for param in param_names:
            for code in params.get(param) or ():
                if isinstance(code, str) and code not in codes:
                    codes.append(code)
        result[field_name] = codes
    return result


def new_request_catalogues(name: str) -> dict[str, list[str]]:
    """The catalogues a new request of ``name`` chooses from (the settings in force now). Raises ``NotFound``."""
    return catalogue_values(procedure(name), current_params(name))


def case_catalogues(case: Case) -> dict[str, list[str]]:
    """The catalogues of an open case (the settings it was opened under)."""
    workflow = get_engine().definition(case.workflow, case.workflow_version)
    return catalogue_values(workflow, case.params or workflow.params)


def check_eligibility(name: str, data: Mapping[str, Any]) -> Eligibility:
    """Check ``data`` (area, kind of works, lot, use, building type) against the rules of ``name`` under the
    settings in force now. Raises ``NotFound`` for an unknown procedure."""
    procedure(name)
    rules = REGISTRY.get(name).eligibility
    reasons = rules(data, current_params(name)) if rules is not None else []
    return Eligibility(not reasons, tuple(Msg(reason) for reason in reasons))


def start_request(name: str, applicant_id: int, data: Mapping[str, Any], idempotency_key: str) -> FireResult:
    """Open a draft of ``name`` with the eligibility data, once per ``idempotency_key``.

    A repeated key (a double submit) returns the case the first request opened. Raises ``GuardRefused``
    with every reason when the request does not qualify, and what ``open_case`` raises.
    """
    result = check_eligibility(name, data)
    if not result.eligible:
        raise GuardRefused(result.reasons[0], result.reasons)
    try:
        with unit_of_work() as session:
            replayed = _opened(idempotency_key, applicant_id)
            if replayed is not None:
                return replayed
            opened = open_case(name, applicant_id, data)
            session.add(
                IdempotencyRecord(
                    key=idempotency_key,
                    actor_id=applicant_id,
                    case_id=opened.case_id,
                    trigger="open",
                    audit_seq=opened.audit_seq,
                    state=opened.to_state,
                    version=opened.version,
                )
            )
            return opened
    except IntegrityError:  # the same key won a race a moment ago: nothing of this attempt was kept
        replayed = _opened(idempotency_key, applicant_id)
        if replayed is None:
            raise
        return replayed


def _opened(key: str, applicant_id: int) -> FireResult | None:
    record = db.session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if record.trigger != "open" or record.actor_id != applicant_id:
        raise DomainError(Msg("La clave de idempotencia ya se usó para otra acción."))
    case = db.session.get(Case, record.case_id)
    if case is None:
        raise InvalidData(Msg("El expediente no existe."))
    return FireResult(case.id, case.folio, "open", None, record.state, record.version, record.audit_seq, True)
