"""The jurisdiction's workflow settings: data an administrator changes, audited, applied to new cases."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.audit.canonical import keyed_digest
from app.engine import InvalidData, Msg, NotAllowed, NotFound, get_engine
from app.extensions import db
from app.models import AuditKind, Department, Role, User, WorkflowConfig, WorkflowConfigChange, utcnow
from app.services.uow import unit_of_work
from workflows import REGISTRY
from workflows.base import InvalidSetting, Workflow


def effective_params(session: Session, workflow: Workflow) -> dict[str, Any]:
    """The definition's defaults overlaid with the jurisdiction's settings (JSON-ready: lists, not tuples)."""
    row = session.get(WorkflowConfig, workflow.name)
    overrides = row.params if row is not None else {}
    merged: dict[str, Any] = {}
    for key, default in workflow.params.items():
        value = overrides.get(key, default)
        merged[key] = list(value) if isinstance(value, tuple) else value
    return merged


def secret_params(workflow: Workflow) -> frozenset[str]:
    """The settings that must stay secret: any setting named ``*_seed``. The seeds of the states' draws are
    not settings at all: they are committed by the system (:mod:`app.services.seeds`), so that the body whose
    cases are drawn can neither read nor choose them."""
    return frozenset(key for key in workflow.params if key.endswith("_seed"))


def commitment(value: Any) -> str:
    """What the audit log keeps of a secret setting: ``sha256:<hex>`` of its value. Revealing the value
    later lets anyone check it against the log and recompute every draw made with it."""
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def _logged(workflow: Workflow, key: str, value: Any) -> Any:
    return commitment(value) if key in secret_params(workflow) and value is not None else value


def _locked_row(session: Session, name: str) -> WorkflowConfig:
    """The settings row of workflow ``name``, created empty if missing, locked until the transaction ends."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(WorkflowConfig)
        .values(workflow=name, params={}, revision=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[WorkflowConfig.workflow])
    )
    stmt = select(WorkflowConfig).where(WorkflowConfig.workflow == name).with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def params_for_new_case(session: Session, workflow: Workflow) -> dict[str, Any]:
    """The settings a new case of ``workflow`` copies (see :func:`effective_params`).

    A draw seed still at the definition's published default is replaced, once, by a random one kept in
    the jurisdiction's settings; the audit log records only its commitment (:func:`commitment`)."""
    row = session.get(WorkflowConfig, workflow.name)
    missing = [key for key in sorted(secret_params(workflow)) if row is None or key not in row.params]
    if not missing:
        return effective_params(session, workflow)
    row = _locked_row(session, workflow.name)  # two first cases at once: one generates, the other waits
    missing = [key for key in missing if key not in row.params]
    if missing:
        generated = {key: secrets.token_hex(32) for key in missing}
        row.params = {**row.params, **generated}
        row.revision += 1
        row.updated_at = utcnow()
        session.flush()
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="draw_seed_generated",
                actor_id=None,
                actor_role="system",
                details={
                    "workflow": workflow.name,
                    "revision": row.revision,
                    "seeds": {key: commitment(value) for key, value in generated.items()},
                },
            ),
        )
    return effective_params(session, workflow)


def _coerce(workflow: Workflow, key: str, value: Any) -> Any:
    """Check ``value`` against the type of the default; raise ``InvalidData`` naming the setting."""
    if key not in workflow.params:
        raise InvalidData(Msg("El parámetro «%(key)s» no existe.", {"key": key}))
    default = workflow.params[key]
    bad = InvalidData(Msg("Valor no válido para «%(key)s».", {"key": key}))
    parser = workflow.param_parsers.get(key)
    if parser is not None:  # structured settings (fee table, requirements…) are checked by their workflow
        try:
            return parser(value)
        except InvalidSetting as exc:  # the parser says why, in words people read
            raise InvalidData(Msg(exc.msgid, exc.params)) from None
        except (TypeError, ValueError):
            raise bad from None
    if key in workflow.param_choices:
        if value not in workflow.param_choices[key]:
            raise bad
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 3650:
            raise bad
        return value
    if isinstance(default, tuple | list):
        if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise bad
        return sorted({v.strip() for v in value})
    if isinstance(default, str):
        if not isinstance(value, str) or not value.strip():
            raise bad
        try:  # numeric settings (areas, amounts) are kept as decimal strings
            Decimal(default)
        except InvalidOperation:
            return value.strip()
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise bad from None
        if not number.is_finite() or number < 0:
            raise bad
        return str(number)
    raise bad


def _refuse_unknown_departments(
    session: Session, workflow: Workflow, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """Refuse settings that name a department that does not exist (an office mapped to it, a format's
    responsible department…): it would otherwise be ignored when cases reach it. Codes the settings named
    already are left to the departments check. Raises ``InvalidData`` naming every unknown code."""
    if workflow.name not in REGISTRY:
        return
    procedure = REGISTRY.get(workflow.name)
    new_codes = set(procedure.settings_department_codes(after)) - set(procedure.settings_department_codes(before))
    if not new_codes:
        return
    known = set(session.scalars(select(Department.code).where(Department.code.in_(new_codes))))
    unknown = sorted(new_codes - known)
    if unknown:
        reasons = tuple(
            Msg("La configuración nombra el área «%(code)s», que no existe; créela primero.", {"code": code})
            for code in unknown
        )
        raise InvalidData(reasons[0], reasons)


def same_setting(workflow: Workflow, key: str, old: Any, new: Any) -> bool:
    """Whether ``new`` is the value ``old`` of the setting ``key`` again (compared as the setting's parser reads
    them, lists as sets, anything else as text)."""
    parser = workflow.param_parsers.get(key)
    if parser is not None:
        try:
            return bool(parser(old) == parser(new))
        except (TypeError, ValueError, InvalidSetting):
            return False
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return sorted(set(old)) == sorted(set(new))
    return bool(str(old) == str(new))


def update_config(workflow_name: str, changes: Mapping[str, Any], actor_id: int) -> int:
    """Change settings of ``workflow_name`` for new cases; returns the new revision. Values equal to those in
    force when the change is made are left out, and a change that leaves nothing (the same form saved twice)
    makes no revision and logs nothing: it returns the revision in force.

    Only administrators may do it; every change is kept with its old and new values in a
    ``WorkflowConfigChange`` row (draw seeds as commitments only) and logged with their keyed digests.
    Raises ``NotAllowed``, ``NotFound``
    and ``InvalidData``.
    """
    try:
        workflow = get_engine().latest(workflow_name)
    except KeyError:
        raise NotFound(Msg("El trámite «%(name)s» no existe.", {"name": workflow_name})) from None
    cleaned = {key: _coerce(workflow, key, value) for key, value in changes.items()}
    with unit_of_work() as session:
        user = session.get(User, actor_id)
        if user is None or not user.active or not user.has_role(Role.ADMIN):
            raise NotAllowed(Msg("Solo la administración puede cambiar la configuración."))
        # locked: two administrators saving at once save one after the other, each over the other's settings,
        # with revisions of their own (a plain read let the second overwrite the first and repeat its revision)
        row = _locked_row(session, workflow.name)
        before = effective_params(session, workflow)
        cleaned = {k: v for k, v in cleaned.items() if not same_setting(workflow, k, before.get(k), v)}
        if not cleaned:  # read under the lock: a save sent twice finds the first one's values in force
            return row.revision
        _refuse_unknown_departments(session, workflow, before, {**before, **cleaned})
        row.params = {**row.params, **cleaned}
        row.revision += 1
        row.updated_by_id = actor_id
        row.updated_at = utcnow()
        changes = {
            k: {"from": _logged(workflow, k, before.get(k)), "to": _logged(workflow, k, v)} for k, v in cleaned.items()
        }
        change = WorkflowConfigChange(
            workflow=workflow.name, revision=row.revision, changes=changes, changed_by_id=actor_id
        )
        session.add(change)
        session.flush()
        audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="workflow_config_changed",
                actor_id=actor_id,
                actor_role=Role.ADMIN.value,
                details={
                    "workflow": workflow.name,
                    "revision": row.revision,
                    "change_id": change.id,
                    # values may hold text an administrator typed: only keyed digests are hashed into the log
                    "changes": {
                        k: {
                            "from_digest": keyed_digest({"key": k, "value": v["from"]}),
                            "to_digest": keyed_digest({"key": k, "value": v["to"]}),
                        }
                        for k, v in changes.items()
                    },
                },
            ),
        )
        return row.revision


def current_params(workflow_name: str) -> dict[str, Any]:
    """The settings new cases of ``workflow_name`` get. Raises ``NotFound``."""
    try:
        workflow = get_engine().latest(workflow_name)
    except KeyError:
        raise NotFound(Msg("El trámite «%(name)s» no existe.", {"name": workflow_name})) from None
    return effective_params(db.session(), workflow)
