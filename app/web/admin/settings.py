"""Administration: each installed procedure's settings (catalogues, requirements, fee table, terms, targets,
extension limit, silence rule, sampling, departments). Each setting's label, help, section and input come from
its procedure's declaration (:attr:`workflows.procedure.Procedure.parameters`); the page names no procedure.
Changes are audited and apply to new cases."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.engine import DomainError
from app.extensions import db
from app.models import Department, Role
from app.services.config import current_params, same_setting, update_config
from app.services.departments import missing_departments
from app.web.access import roles_required
from app.web.labels import message_text
from app.web.translation import reader_language
from forms.construction import area_value
from forms.settings import SettingSpec, parse_requirements, requirements_text, settings_form
from workflows import REGISTRY
from workflows.base import DEPARTMENTS_PARAM, Workflow, in_language
from workflows.procedure import Parameter, Procedure

bp = Blueprint("admin_settings", __name__, url_prefix="/admin")

logger = logging.getLogger(__name__)


def _kind(workflow: Workflow, declared: Parameter | None, key: str) -> str:
    if declared is not None and declared.kind:
        return declared.kind
    if key in workflow.param_choices:
        return "choice"
    default = workflow.params[key]
    if isinstance(default, int):
        return "int"
    if isinstance(default, tuple | list):
        return "codes"
    return "decimal"


def _specs(
    procedure: Procedure, workflow: Workflow, departments: list[tuple[str, str]]
) -> list[tuple[str, SettingSpec]]:
    """Each setting of ``workflow`` with the section it goes in, as its procedure declares it. A parameter
    without a declaration (a test forbids it) is shown under its key in a section of its own, and logged."""
    specs: list[tuple[str, SettingSpec]] = []
    for key in workflow.params:
        declared = procedure.find_parameter(key)
        if declared is None:
            logger.warning("procedure %s: parameter %r has no declared label", procedure.name, key)
        kind = _kind(workflow, declared, key)
        choices: tuple[tuple[str, Any], ...] = ()
        if kind == "choice":
            choices = tuple((c, _(declared.label_of(c)) if declared else c) for c in workflow.param_choices[key])
        elif kind == "departments":
            choices = (("", _l("Cualquier área (sin restricción)")), *departments)
        label = _(declared.label) if declared is not None else key
        help_text = _(declared.help) if declared is not None and declared.help else ""
        section = declared.section if declared is not None else ""
        specs.append((section, SettingSpec(key, kind, label, help_text, choices)))
    return specs


def _sections(specs: list[tuple[str, SettingSpec]]) -> list[tuple[str, list[SettingSpec]]]:
    """The settings grouped by section, sections in the order of their first setting; those without a
    section last, under «Otros»."""
    grouped: dict[str, list[SettingSpec]] = {}
    for section, spec in specs:
        grouped.setdefault(section, []).append(spec)
    others = grouped.pop("", [])
    sections = [(_(title), items) for title, items in grouped.items()]
    if others:
        sections.append((_("Otros"), others))
    return sections


def _offices(procedure: Procedure, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    declared = procedure.find_parameter(DEPARTMENTS_PARAM)
    return [
        (office, _(declared.label_of(office)) if declared is not None else office)
        for office in params.get(DEPARTMENTS_PARAM) or {}
    ]


def _percent(rate: Any) -> str:
    text = f"{Decimal(str(rate)) * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _form_data(specs: list[SettingSpec], params: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in specs:
        value = params[spec.key]
        if spec.kind == "codes":
            data[spec.key] = "\n".join(value)
        elif spec.kind == "requirements":
            data[spec.key] = requirements_text(value)
        elif spec.kind == "rate":
            data[spec.key] = _percent(value)
        elif spec.kind == "departments":
            for office, code in dict(value).items():
                data[f"department__{office}"] = code
        elif spec.kind == "fees":
            data[spec.key] = [dict(row) for row in value]
        elif spec.kind == "json":
            data[spec.key] = json.dumps(value, ensure_ascii=False, indent=2)
        else:
            data[spec.key] = value
    return data


def _values(form: Any, specs: list[SettingSpec], params: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "departments":
            values[spec.key] = {office: form[f"department__{office}"].data or "" for office in params[spec.key]}
            continue
        raw = form[spec.key].data
        if spec.kind == "codes":
            values[spec.key] = [line.strip() for line in (raw or "").splitlines() if line.strip()]
        elif spec.kind == "requirements":
            values[spec.key] = parse_requirements(raw)
        elif spec.kind == "rate":
            values[spec.key] = str(Decimal(raw.strip()) / 100)
        elif spec.kind == "decimal":
            values[spec.key] = area_value(raw)
        elif spec.kind == "money":
            values[spec.key] = str(Decimal(raw.strip()).quantize(Decimal("0.01")))
        elif spec.kind == "fees":
            values[spec.key] = [_fee_row(row) for row in form[spec.key] if not row.blank()]
        elif spec.kind == "secret":
            values[spec.key] = raw.strip()
        elif spec.kind == "json":
            values[spec.key] = json.loads(raw)
        else:
            values[spec.key] = raw
    return values


def _fee_row(row: Any) -> dict[str, str]:
    """A row of the fee table as the form gives it, with its English concept only when one was typed (a table
    saved without English concepts reads as it did)."""
    fee = {
        "concept": row.concept.data.strip(),
        "unit": row.unit.data,
        "rate": area_value(row.rate.data) or "0",
        "legal_basis": row.legal_basis.data.strip(),
    }
    english = " ".join((row.concept_en.data or "").split())
    if english:
        fee["concept_en"] = english
    return fee


def _procedure(name: str) -> Procedure:
    if name not in REGISTRY:
        abort(404)
    return REGISTRY.get(name)


def _departments(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The departments an office may map to; a code the settings map an office to that does not exist is
    kept as a choice, marked, so that saving other settings neither drops nor silently changes it."""
    language = reader_language()
    choices = [
        (d.code, in_language(d.name, d.name_en, language))
        for d in db.session.scalars(select(Department).order_by(Department.name))
    ]
    known = {code for code, _name in choices}
    mapped = dict(params.get(DEPARTMENTS_PARAM) or {})
    for code in dict.fromkeys(str(c) for c in mapped.values() if c):
        if code not in known:
            choices.append((code, _("%(code)s (no existe)", code=code)))
    return choices


@bp.get("/tramites")
@roles_required(Role.ADMIN)
def index() -> str:
    """The procedures whose settings an administrator can change."""
    return render_template(
        "admin/procedures.html", procedures=[p.latest for p in REGISTRY], missing=missing_departments()
    )


@bp.route("/tramites/<name>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(name: str) -> str | Response | tuple[str, int]:
    """Show and change the settings of ``name``; only what changed is saved (and logged)."""
    procedure = _procedure(name)
    workflow = procedure.latest
    params = current_params(name)
    placed = _specs(procedure, workflow, _departments(params))
    specs = [spec for _section, spec in placed]
    offices = _offices(procedure, params)
    form = settings_form(specs, offices, data=_form_data(specs, params))
    fee_field = next((spec.key for spec in specs if spec.kind == "fees"), None)
    if form.validate_on_submit():
        values = _values(form, specs, params)
        changes = {k: v for k, v in values.items() if not same_setting(workflow, k, params[k], v)}
        if not changes:
            flash(_("No hubo cambios."), "info")
            return redirect(url_for("admin_settings.edit", name=name))
        try:
            revision = update_config(name, changes, current_user.id)
        except DomainError as exc:
            flash(message_text(exc.message), "error")
        else:
            flash(
                _(
                    "Configuración guardada (revisión %(revision)s); se aplica a las solicitudes nuevas.",
                    revision=revision,
                ),
                "info",
            )
            return redirect(url_for("admin_settings.edit", name=name))
        status = 422
    else:
        status = 422 if form.is_submitted() else 200
        if form.is_submitted():
            flash(_("Revise los datos marcados."), "error")
    if fee_field is not None and not form.is_submitted():
        for _row in range(3):
            form[fee_field].append_entry()
    return (
        render_template(
            "admin/settings.html", form=form, workflow=workflow, sections=_sections(placed), offices=offices
        ),
        status,
    )
