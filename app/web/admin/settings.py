"""Administration: each procedure's settings (catalogues, requirements, fee table, terms, targets, extension
limit, silence rule, inspection sampling, departments). Changes are audited and apply to new cases."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.engine import DomainError, NotFound, get_engine
from app.extensions import db
from app.models import Department, Role
from app.services.config import current_params, update_config
from app.services.construction import procedure, procedures
from app.web.access import roles_required
from app.web.labels import message_text
from forms.construction import area_value
from forms.settings import SettingSpec, parse_requirements, settings_form
from workflows.base import DEPARTMENTS_PARAM, Workflow

bp = Blueprint("admin_settings", __name__, url_prefix="/admin")

LABELS: dict[str, tuple[Any, Any]] = {
    "max_built_area_m2": (_l("Superficie construida máxima (m²)"), ""),
    "max_housing_area_m2": (_l("Superficie máxima de vivienda (m²)"), ""),
    "min_housing_area_m2": (_l("Superficie de vivienda a partir de la cual aplica (m²)"), ""),
    "low_risk_uses": (_l("Catálogo de giros de bajo riesgo"), _l("Un código por renglón.")),
    "land_uses": (_l("Catálogo de usos"), _l("Un código por renglón.")),
    "housing_types": (_l("Tipos de edificación de vivienda"), _l("Un código por renglón.")),
    "building_types": (_l("Tipos de edificación admitidos"), _l("Un código por renglón.")),
    "excluded_building_types": (_l("Tipos de edificación excluidos"), _l("Un código por renglón.")),
    "requirements": (
        _l("Requisitos documentales"),
        _l("Un requisito por renglón, con la forma «código | Descripción»; cada uno es un PDF."),
    ),
    "fee_table": (
        _l("Tabla de derechos"),
        _l("Cada concepto con su tarifa y su fundamento legal; deje vacíos los renglones que no use."),
    ),
    "prevention_answer_days": (_l("Plazo para desahogar la prevención (días hábiles)"), ""),
    "legal_bases": (
        _l("Fundamento legal de cada acto que se notifica"),
        _l(
            "Prevención, incompetencia, recurso, resolución del recurso y cumplimiento; se cita en avisos y documentos."
        ),
    ),
    "prevention_effect": (
        _l("Efecto de la prevención sobre el plazo de respuesta"),
        _l(
            "La ley general (art. 128, LGTAIP 2015) interrumpe el plazo: corre de nuevo, completo, desde el día "
            "hábil siguiente al desahogo."
        ),
    ),
    "observations_answer_days": (_l("Plazo para subsanar observaciones (días hábiles)"), ""),
    "payment_days": (_l("Plazo para pagar los derechos (días hábiles)"), ""),
    "extension_answer_days": (_l("Plazo para responder una prórroga (días hábiles)"), ""),
    "reminder_business_days": (_l("Recordatorio antes del vencimiento (días hábiles)"), ""),
    "max_preventions": (_l("Número máximo de prevenciones"), ""),
    "max_extensions": (_l("Número máximo de prórrogas"), ""),
    "extension_silence": (_l("Si la autoridad no responde la prórroga a tiempo"), ""),
    "intake_target_days": (_l("Meta: revisión de integración (días hábiles)"), ""),
    "land_use_target_days": (_l("Meta: dictamen de uso de suelo (días hábiles)"), ""),
    "fees_target_days": (_l("Meta: determinación de derechos (días hábiles)"), ""),
    "licence_target_days": (_l("Meta: emisión de la licencia (días hábiles)"), ""),
    "completion_target_days": (_l("Meta: autorización de ocupación (días hábiles)"), ""),
    "review_target_days": (_l("Meta: revisión del registro (días hábiles)"), ""),
    "completion_answer_days": (_l("Plazo para responder el aviso de terminación (días hábiles)"), ""),
    "inspection_rate": (
        _l("Porcentaje de obras terminadas que se inspeccionan"),
        _l("El sorteo es reproducible y queda en la bitácora."),
    ),
    "inspection_seed": (
        _l("Semilla del sorteo de inspección"),
        _l(
            "Se genera al azar con el primer expediente y la bitácora guarda solo su huella SHA-256. Manténgala "
            "en reserva; al divulgarla, cualquiera puede reproducir los sorteos."
        ),
    ),
    DEPARTMENTS_PARAM: (_l("Áreas responsables"), _l("Qué área atiende cada etapa; sin área, cualquiera con el rol.")),
    "formats": (
        _l("Formatos de obligaciones"),
        _l(
            "JSON: una lista de formatos con code, title, legal_basis, department, source (vacío o "
            "«vecs_licences») y fields (name, label, type: text, date, number, integer o url; required)."
        ),
    ),
    "calendar": (
        _l("Calendario de publicación"),
        _l("JSON: para cada trimestre («1» a «4»), opens y due como MM-DD, posteriores al cierre del trimestre."),
    ),
    "drafting_target_days": (_l("Meta de elaboración sin fecha del calendario (días hábiles)"), ""),
    "findings_correction_days": (_l("Plazo para corregir las observaciones del garante (días hábiles)"), ""),
    "sample_rate": (
        _l("Porcentaje de registros publicados que verifica el garante"),
        _l("El sorteo es reproducible y queda en la bitácora."),
    ),
    "sample_seed": (
        _l("Semilla del sorteo de verificación"),
        _l("Cámbiela por un texto propio que no sea público; los auditores la usan para reproducir el sorteo."),
    ),
    "response_days": (_l("Plazo de respuesta a la solicitud (días hábiles)"), ""),
    "extension_days": (_l("Ampliación del plazo de respuesta (días hábiles, una vez)"), ""),
    "prevention_issue_days": (_l("Plazo para formular la prevención (días hábiles)"), ""),
    "incompetence_days": (_l("Plazo para declarar la incompetencia (días hábiles)"), ""),
    "appeal_days": (_l("Plazo para interponer el recurso de revisión (días hábiles)"), ""),
    "resolution_days": (_l("Plazo del órgano garante para resolver el recurso (días hábiles)"), ""),
    "resolution_extension_days": (_l("Ampliación del plazo para resolver el recurso (días hábiles, una vez)"), ""),
    "compliance_days": (
        _l("Plazo para cumplir la resolución del órgano garante (días hábiles)"),
        _l("Artículo 196 de la LGTAIP (2015): no más de diez días."),
    ),
    "delivery_formats": (_l("Modalidades de entrega"), _l("Un código por renglón.")),
    "reproduction_fees": (
        _l("Costos de reproducción por modalidad"),
        _l("JSON: modalidad → importe en pesos; no se cobra cuando la respuesta fue extemporánea."),
    ),
    "appeal_grounds": (_l("Causas del recurso de revisión"), _l("Un código por renglón.")),
}

SECTIONS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (
        _l("Elegibilidad y catálogos"),
        (
            "max_built_area_m2",
            "max_housing_area_m2",
            "min_housing_area_m2",
            "low_risk_uses",
            "land_uses",
            "housing_types",
            "building_types",
            "excluded_building_types",
        ),
    ),
    (_l("Requisitos"), ("requirements",)),
    (_l("Derechos"), ("fee_table",)),
    (
        _l("Plazos del solicitante y silencio de la autoridad"),
        (
            "prevention_answer_days",
            "observations_answer_days",
            "payment_days",
            "extension_answer_days",
            "reminder_business_days",
            "max_preventions",
            "max_extensions",
            "extension_silence",
        ),
    ),
    (
        _l("Metas de servicio"),
        (
            "intake_target_days",
            "land_use_target_days",
            "fees_target_days",
            "licence_target_days",
            "completion_target_days",
            "review_target_days",
            "completion_answer_days",
        ),
    ),
    (_l("Inspección por sorteo"), ("inspection_rate", "inspection_seed")),
    (_l("Áreas responsables"), (DEPARTMENTS_PARAM,)),
    (_l("Obligaciones de transparencia"), ("formats", "calendar", "drafting_target_days", "findings_correction_days")),
    (_l("Verificación por sorteo"), ("sample_rate", "sample_seed")),
    (
        _l("Acceso a la información"),
        (
            "response_days",
            "extension_days",
            "prevention_issue_days",
            "incompetence_days",
            "prevention_effect",
            "legal_bases",
            "appeal_days",
            "resolution_days",
            "resolution_extension_days",
            "compliance_days",
            "delivery_formats",
            "reproduction_fees",
            "appeal_grounds",
        ),
    ),
)

EXTRA_PROCEDURES = ("obligation_publication", "access_request")
"""Workflows without an eligibility check whose settings are edited here too."""

OFFICE_LABELS: dict[str, Any] = {
    "intake": _l("Ventanilla: integración del expediente"),
    "land_use": _l("Dictamen de uso de suelo y alineamiento"),
    "fees": _l("Determinación de derechos"),
    "licence": _l("Licencia, prórrogas y ocupación"),
    "inspection": _l("Inspección de obra"),
    "review": _l("Revisión del registro"),
    "area": _l("Área responsable (cada formato de obligaciones indica la suya)"),
}

CHOICE_LABELS: dict[str, Any] = {
    "grant_extension_ficta": _l("Se concede (afirmativa ficta)"),
    "refuse_extension_ficta": _l("Se niega (negativa ficta)"),
    "restart": _l("Se interrumpe: el plazo corre de nuevo, completo"),
    "pause": _l("Se suspende: el plazo se reanuda con los días ya transcurridos"),
}

KINDS = {
    "fee_table": "fees",
    "requirements": "requirements",
    DEPARTMENTS_PARAM: "departments",
    "inspection_rate": "rate",
    "inspection_seed": "secret",
    "formats": "json",
    "calendar": "json",
    "sample_rate": "rate",
    "sample_seed": "secret",
    "reproduction_fees": "json",
    "legal_bases": "json",
}


def _kind(workflow: Workflow, key: str) -> str:
    if key in KINDS:
        return KINDS[key]
    if key in workflow.param_choices:
        return "choice"
    default = workflow.params[key]
    if isinstance(default, int):
        return "int"
    if isinstance(default, tuple | list):
        return "codes"
    return "decimal"


def _specs(workflow: Workflow, departments: list[tuple[str, str]]) -> list[SettingSpec]:
    specs = []
    for key in workflow.params:
        label, help_text = LABELS.get(key, (key, ""))
        kind = _kind(workflow, key)
        choices: tuple[tuple[str, Any], ...] = ()
        if kind == "choice":
            choices = tuple((c, CHOICE_LABELS.get(c, c)) for c in workflow.param_choices[key])
        elif kind == "departments":
            choices = (("", _l("Cualquier área (sin restricción)")), *departments)
        specs.append(SettingSpec(key, kind, label, help_text, choices))
    return specs


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
            data[spec.key] = "\n".join(f"{item['kind']} | {item['label']}" for item in value)
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
        elif spec.kind == "fees":
            values[spec.key] = [
                {
                    "concept": row.concept.data.strip(),
                    "unit": row.unit.data,
                    "rate": area_value(row.rate.data) or "0",
                    "legal_basis": row.legal_basis.data.strip(),
                }
                for row in form[spec.key]
                if not row.blank()
            ]
        elif spec.kind == "secret":
            values[spec.key] = raw.strip()
        elif spec.kind == "json":
            values[spec.key] = json.loads(raw)
        else:
            values[spec.key] = raw
    return values


def _same(workflow: Workflow, key: str, old: Any, new: Any) -> bool:
    parser = workflow.param_parsers.get(key)
    if parser is not None:
        try:
            return bool(parser(old) == parser(new))
        except (TypeError, ValueError):
            return False
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return sorted(set(old)) == sorted(set(new))
    return bool(str(old) == str(new))


def _procedures() -> list[Workflow]:
    engine = get_engine()
    return [*procedures(), *(engine.latest(name) for name in EXTRA_PROCEDURES)]


def _procedure(name: str) -> Workflow:
    if name in EXTRA_PROCEDURES:
        return get_engine().latest(name)
    return procedure(name)


def _departments() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))]


@bp.get("/tramites")
@roles_required(Role.ADMIN)
def index() -> str:
    """The procedures whose settings an administrator can change."""
    return render_template("admin/procedures.html", procedures=_procedures())


@bp.route("/tramites/<name>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(name: str) -> str | Response | tuple[str, int]:
    """Show and change the settings of ``name``; only what changed is saved (and logged)."""
    try:
        workflow = _procedure(name)
    except NotFound:
        abort(404)
    params = current_params(name)
    specs = _specs(workflow, _departments())
    offices = [(office, OFFICE_LABELS.get(office, office)) for office in params.get(DEPARTMENTS_PARAM) or {}]
    form = settings_form(specs, offices, data=_form_data(specs, params))
    fee_field = next((spec.key for spec in specs if spec.kind == "fees"), None)
    if form.validate_on_submit():
        values = _values(form, specs, params)
        changes = {k: v for k, v in values.items() if not _same(workflow, k, params[k], v)}
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
    by_key = {spec.key: spec for spec in specs}
    sections = [(title, [by_key[k] for k in keys if k in by_key]) for title, keys in SECTIONS]
    listed = {k for _title, keys in SECTIONS for k in keys}
    others = [spec for spec in specs if spec.key not in listed]
    if others:
        sections.append((_l("Otros"), others))
    return (
        render_template(
            "admin/settings.html",
            form=form,
            workflow=workflow,
            sections=[(t, s) for t, s in sections if s],
            offices=offices,
        ),
        status,
    )
