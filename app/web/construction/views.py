"""Procedures before filing: the applicants' catalogue, each procedure's eligibility check, opening a draft.

Every procedure that declares an eligibility check is offered here; its form is the one it declares (or one
built from its declared fields). Nothing here names a procedure."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import DomainError, GuardRefused, NotFound
from app.models import Role
from app.services.construction import (
    check_eligibility,
    new_request_catalogues,
    procedure,
    procedures,
    start_request,
)
from app.web.access import roles_required
from app.web.cases.labels import code_choices
from app.web.labels import message_text
from forms.steps import EligibilityBase, declared_eligibility_form, load_eligibility_form
from workflows import REGISTRY

bp = Blueprint("construction", __name__)


def _form(name: str) -> EligibilityBase:
    try:
        catalogues = new_request_catalogues(name)
    except NotFound:
        abort(404)
    declared = REGISTRY.get(name)
    workflow = declared.latest
    choices = {field: code_choices(workflow, field, codes) for field, codes in catalogues.items()}
    if declared.eligibility_form is not None:
        cls = load_eligibility_form(declared.eligibility_form)
    else:
        specs = [spec for field in declared.eligibility_fields if (spec := declared.find_field(field)) is not None]
        cls = declared_eligibility_form(specs)
    return cls(choices)


@bp.get("/tramites")
@roles_required(Role.APPLICANT)
def index() -> str:
    """The procedures an applicant can start (those with an eligibility check)."""
    return render_template("construction/index.html", procedures=procedures())


@bp.get("/<name>/elegibilidad")
@roles_required(Role.APPLICANT)
def short_eligibility(name: str) -> Response:
    """A procedure's eligibility check at its short address (``/<name>/elegibilidad``)."""
    if name not in REGISTRY or REGISTRY.get(name).eligibility is None:
        abort(404)
    return redirect(url_for("construction.eligibility", name=name))


@bp.route("/tramites/<name>/elegibilidad", methods=["GET", "POST"])
@roles_required(Role.APPLICANT)
def eligibility(name: str) -> tuple[str, int] | str:
    """Check a request against the procedure's rules before filing; say exactly why when it does not
    qualify, or offer to start it."""
    form = _form(name)
    workflow = procedure(name)
    result = None
    status = 200
    if form.validate_on_submit():
        result = check_eligibility(name, form.request_data())
        form.idempotency_key.data = uuid.uuid4().hex
    elif form.is_submitted():
        flash(_("Revise los datos marcados."), "error")
        status = 422
    return render_template("construction/eligibility.html", form=form, workflow=workflow, result=result), status


@bp.post("/tramites/<name>/iniciar")
@roles_required(Role.APPLICANT)
def start(name: str) -> Response | tuple[str, int]:
    """Open a draft with the checked answers (once per form: a double submit lands on the same draft)."""
    form = _form(name)
    workflow = procedure(name)
    if not form.validate_on_submit() or not form.idempotency_key.data:
        flash(_("Revise los datos marcados."), "error")
        return render_template("construction/eligibility.html", form=form, workflow=workflow, result=None), 422
    try:
        opened = start_request(name, current_user.id, form.request_data(), form.idempotency_key.data[:64])
    except GuardRefused:
        result = check_eligibility(name, form.request_data())
        return render_template("construction/eligibility.html", form=form, workflow=workflow, result=result), 422
    except DomainError as exc:
        flash(message_text(exc.message), "error")
        return render_template("construction/eligibility.html", form=form, workflow=workflow, result=None), 422
    if opened.replayed:
        flash(_("Esta solicitud ya se había iniciado; continúe con ella."), "info")
    else:
        flash(_("Solicitud %(folio)s iniciada. Complete los pasos y preséntela.", folio=opened.folio), "info")
    declared = REGISTRY.get(name)
    first = declared.first_step or (declared.steps[0].slug if declared.steps else None)
    if first is None:
        return redirect(url_for("cases.show", case_id=opened.case_id))
    return redirect(url_for("cases.edit_step", case_id=opened.case_id, step=first))
