"""Transparency-obligation publications: the public page and open data (CSV, JSON), and the staff pages (the
area's record, the unit's validation, the guarantor's verification and sampling draw)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.engine import ConflictError, DomainError, NotFound
from app.models import Role, User
from app.procedures.obligation_publication.services import (
    ACTION_DESCRIPTIONS,
    DECISIONS,
    STATE_DESCRIPTIONS,
    PublicationDetail,
    SampleReport,
    attach_file,
    commit_seed,
    decide,
    draw_sample,
    draw_supplementary,
    latest_sampling_year,
    latest_year,
    may_act_on,
    open_data_csv,
    open_data_json,
    public_format,
    public_formats,
    public_sampling,
    publication_cases,
    publication_detail,
    publication_triggers,
    published_attachment,
    record_attachment,
    refresh_licence_rows,
    samples,
    save_record,
    state_description,
    submit_record,
    term_of_findings,
)
from app.services.departments import all_department_names
from app.web.access import public, roles_required
from app.web.errors import ExplainedBadRequest, requested_bom
from app.web.labels import message_text, translated
from app.web.throttling import throttle_uploads
from app.web.translation import reader_language
from app.web.years import year_shown
from forms import YearFilter
from forms.publications import AttachmentForm, DecisionForm, PeriodFilter, RecordForm, SampleForm
from workflows.obligation_publication import SAMPLE_METHOD

bp = Blueprint("publications", __name__, template_folder="templates")

STAFF = (Role.AREA, Role.TRANSPARENCY_UNIT, Role.GUARANTOR, Role.AUDITOR)

FIELD_TYPES = {
    "text": _l("texto"),
    "date": _l("fecha AAAA-MM-DD"),
    "number": _l("número"),
    "integer": _l("número entero"),
    "url": _l("dirección http(s)"),
}


# -- public ------------------------------------------------------------------------------------------


@bp.get("/transparencia/obligaciones")
@public
def public_index() -> tuple[str, int]:
    """Published records by format and period, with their update and validation dates; the formats' titles and
    columns in the reader's language (the English ones where the settings give them)."""
    form, year, quarter, status = _period(request.args)
    code = request.args.get("formato") or None
    formats = public_formats(code, year, quarter, reader_language())
    if code is not None and not formats:
        status = 404
        flash(_("El formato «%(code)s» no existe.", code=code[:40]), "error")
        formats = public_formats(None, year, quarter, reader_language())
    return render_template("publications/public.html", formats=formats, form=form, code=code, year=year), status


def _period(args: MultiDict[str, str]) -> tuple[PeriodFilter, int | None, int | None, int]:
    """The year and quarter a list of publications shows, with the filter's form and the HTTP status: the year
    asked for, or the latest with publications (one year at a time: the lists do not grow with the years kept);
    a filter that is not a period is said so (400) and the latest year shown."""
    form = PeriodFilter(args)
    message = _("Revise los filtros: el ejercicio debe ser un año entre 2000 y 2200 y el trimestre de 1 a 4.")
    year, status = year_shown(form, latest_year, message)
    quarter = int(form.trimestre.data) if status == 200 and form.trimestre.data else None
    return form, year, quarter, status


def _format_or_404(code: str, year: int | None = None, quarter: int | None = None) -> Any:
    try:
        return public_format(code, year, quarter)
    except NotFound:
        abort(404)


def _download_period(args: MultiDict[str, str]) -> tuple[int | None, int | None]:
    """The period a download holds: every year's records, or those of ``?ejercicio=`` (and ``?trimestre=``, which
    needs a year), as SIPOT's queries do; anything else is a 400 that says what a period is."""
    form = PeriodFilter(args)
    if not form.validate() or (form.trimestre.data and form.ejercicio.data is None):
        raise ExplainedBadRequest(
            _(
                "Revise el periodo: el ejercicio debe ser un año entre 2000 y 2200 y el trimestre, de 1 a 4, "
                "va con su ejercicio. Sin periodo, los datos abiertos contienen todos los ejercicios."
            )
        )
    return form.ejercicio.data, int(form.trimestre.data) if form.trimestre.data else None


def _download_name(code: str, year: int | None, quarter: int | None, extension: str) -> str:
    period = "" if year is None else f"-{year}" if quarter is None else f"-{year}-T{quarter}"
    return f"obligaciones-{code}{period}.{extension}"


def _open_data_response(body: str, mimetype: str, filename: str) -> Response:
    """A download of open data, with a validator of its content: a client that already holds the same bytes
    (``If-None-Match``) is answered 304 without them."""
    response = Response(body.encode("utf-8"), mimetype=mimetype)
    response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-cache"  # kept, but checked again each time: a record may be published
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/transparencia/obligaciones/<code>.csv")
@public
def open_data_csv_view(code: str) -> Response:
    """A format's published records as CSV open data (UTF-8, stable columns): every year's, or one period's
    (``?ejercicio=``, ``?trimestre=``); ``?bom=1`` adds a byte order mark for spreadsheet programs."""
    bom = requested_bom()
    year, quarter = _download_period(request.args)
    body = open_data_csv(_format_or_404(code, year, quarter), bom=bom)
    return _open_data_response(body, "text/csv", _download_name(code, year, quarter, "csv"))


@bp.get("/transparencia/obligaciones/<code>.json")
@public
def open_data_json_view(code: str) -> Response:
    """A format's published records as JSON open data: every year's, or one period's (``?ejercicio=``,
    ``?trimestre=``)."""
    year, quarter = _download_period(request.args)
    document = open_data_json(_format_or_404(code, year, quarter), year, quarter)
    body = json.dumps(document, ensure_ascii=False, indent=1)
    return _open_data_response(body, "application/json", _download_name(code, year, quarter, "json"))


# -- staff -------------------------------------------------------------------------------------------


def _detail(case_id: int) -> PublicationDetail:
    try:
        detail = publication_detail(case_id)
    except NotFound:
        abort(404)
    user: User = current_user
    if not may_act_on(user, detail):
        abort(403)
    return detail


@bp.get("/transparencia/publicaciones")
@roles_required(*STAFF)
def staff_index() -> tuple[str, int]:
    """The publication cases of one year (the latest by default; ``?ejercicio=``, ``?trimestre=``) by period
    and format, with their state and due date."""
    form, year, quarter, status = _period(request.args)
    rows = publication_cases(year, quarter, reader_language()) if year is not None else []
    page = render_template(
        "publications/index.html",
        rows=rows,
        department_names=all_department_names(reader_language()) if rows else {},
        form=form,
        year=year,
        state_descriptions=STATE_DESCRIPTIONS,
        roles=Role,
    )
    return page, status


def _page(
    detail: PublicationDetail,
    *,
    rows: list[dict[str, str]] | None = None,
    note: str | None = None,
    posted: tuple[str, DecisionForm] | None = None,
) -> str:
    triggers = {t.trigger: t for t in publication_triggers(detail.case.id, current_user.id)}
    version = str(detail.case.version)
    record_form = None
    attachment_form = None
    if "save_draft" in triggers:
        attachment_form = AttachmentForm(formdata=None)
        attachment_form.expected_version.data = version
        attachment_form.idempotency_key.data = uuid.uuid4().hex
        names = [str(f["name"]) for f in detail.format["fields"]]
        record_form = RecordForm(names, formdata=None)
        record_form.expected_version.data = version
        record_form.idempotency_key.data = uuid.uuid4().hex
        record_form.note.data = note if note is not None else str(detail.case.data.get("note") or "")
    decisions = []
    for trigger, available in triggers.items():
        if trigger not in DECISIONS:
            continue
        form = posted[1] if posted is not None and posted[0] == trigger else DecisionForm(formdata=None)
        form.expected_version.data = version
        form.idempotency_key.data = uuid.uuid4().hex
        decisions.append((available, form))
    shown_rows = rows if rows is not None else [dict(r) for r in detail.case.data.get("rows") or []]
    return render_template(
        "publications/show.html",
        detail=detail,
        record_form=record_form,
        attachment_form=attachment_form,
        rows=shown_rows,
        decisions=decisions,
        may_submit="submit" in triggers or "correct" in triggers,
        term=term_of_findings(detail.case.id),
        state_description=STATE_DESCRIPTIONS[detail.case.state],
        action_descriptions=ACTION_DESCRIPTIONS,
        field_types=FIELD_TYPES,
    )


@bp.get("/transparencia/publicaciones/<int:case_id>")
@roles_required(*STAFF)
def show(case_id: int) -> str:
    """A publication: its format, due date, record, observations and the steps the user may take."""
    return _page(_detail(case_id))


def _flash_error(exc: DomainError) -> None:
    for reason in exc.reasons:
        flash(message_text(reason), "error")


@bp.post("/transparencia/publicaciones/<int:case_id>/registro")
@roles_required(Role.AREA)
def save(case_id: int) -> Response | tuple[str, int]:
    """Save the area's record (and, with «Guardar y enviar», send it to validation or present the
    correction). On any error the page comes back with what was typed."""
    detail = _detail(case_id)
    names = [str(f["name"]) for f in detail.format["fields"]]
    form = RecordForm(names)
    rows = form.rows(request.form)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return _page(detail, rows=rows, note=form.note.data), 422
    try:
        result = save_record(
            case_id,
            current_user.id,
            rows=None if detail.generated else rows,
            note=form.note.data or "",
            expected_version=int(form.expected_version.data or 0),
            language=reader_language(),
        )
        if form.send.data:
            submit_record(case_id, current_user.id, expected_version=result.version, language=reader_language())
    except DomainError as exc:
        _flash_error(exc)
        status = 409 if isinstance(exc, ConflictError) else 422
        return _page(_detail(case_id), rows=rows, note=form.note.data), status
    flash(_("Registro enviado a validación.") if form.send.data else _("Registro guardado."), "info")
    return redirect(url_for("publications.show", case_id=case_id))


@bp.post("/transparencia/publicaciones/<int:case_id>/licencias")
@roles_required(Role.AREA)
def refresh(case_id: int) -> Response:
    """Regenerate a permits-issued record from the licences issued in its quarter."""
    _detail(case_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("El formulario está incompleto; recargue la página."), "error")
        return redirect(url_for("publications.show", case_id=case_id))
    try:
        refresh_licence_rows(case_id, current_user.id, expected_version=int(form.expected_version.data or 0))
    except DomainError as exc:
        _flash_error(exc)
    else:
        flash(_("Renglones generados de las licencias emitidas en el trimestre."), "info")
    return redirect(url_for("publications.show", case_id=case_id))


@bp.post("/transparencia/publicaciones/<int:case_id>/acciones/<trigger>")
@roles_required(Role.TRANSPARENCY_UNIT, Role.GUARANTOR)
def act_on(case_id: int, trigger: str) -> Response | tuple[str, int]:
    """Validate, return with observations, publish; clear, file findings, accept or reject a correction."""
    detail = _detail(case_id)
    if trigger not in DECISIONS:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        # shown again with what was typed, at the case's version and with a fresh key: sent again, it acts
        if form.comment.errors:
            flash(_("Revise los datos marcados."), "error")
        else:
            flash(_("El formulario llegó incompleto; envíelo de nuevo."), "error")
        return _page(detail, posted=(trigger, form)), 422
    try:
        result = decide(
            case_id,
            trigger,
            current_user.id,
            expected_version=int(form.expected_version.data or 0),
            idempotency_key=form.idempotency_key.data or "",
            comment=form.comment.data or None,
        )
    except DomainError as exc:
        _flash_error(exc)
        status = 409 if isinstance(exc, ConflictError) else 422
        return _page(_detail(case_id), posted=(trigger, form)), status
    flash(
        _(
            "Hecho. El expediente %(folio)s quedó en: %(state)s",
            folio=result.folio,
            state=translated(state_description(result.to_state)),
        ),
        "info",
    )
    return redirect(url_for("publications.show", case_id=case_id))


@bp.route("/transparencia/publicaciones/muestreo", methods=["GET", "POST"])
@roles_required(Role.GUARANTOR)
def sample() -> str | tuple[str, int] | Response:
    """The guarantor's reproducible draw over a quarter's records (once per quarter, after its deadline,
    revealing the seed committed when it opened), the supplementary draw of records published after it, and
    the commitment of a quarter without one."""
    form = SampleForm()
    status = 200
    if form.validate_on_submit():
        year, quarter = int(form.year.data or 0), int(form.quarter.data)
        try:
            if form.commit.data:
                seq = commit_seed(year, quarter, current_user.id)
                flash(_("Semilla comprometida (entrada %(seq)s de la bitácora).", seq=seq), "info")
            elif form.supplementary.data:
                report = draw_supplementary(year, quarter, current_user.id)
                if report is None:
                    flash(_("No hay registros publicados después del sorteo que sortear."), "info")
                else:
                    _flash_report(report)
            else:
                _flash_report(draw_sample(year, quarter, current_user.id))
        except DomainError as exc:
            _flash_error(exc)
            status = 422
        else:
            return redirect(url_for("publications.sample"))
    elif form.is_submitted():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        status = 422
    filters = YearFilter(request.args)
    shown, filter_status = year_shown(filters, latest_sampling_year)
    page = render_template(
        "publications/sample.html",
        form=form,
        filters=filters,
        year=shown,
        samples=samples(shown) if shown is not None else [],
        quarters=public_sampling(shown, with_draws=False) if shown is not None else [],
        one_day=timedelta(days=1),
    )
    return page, status if status != 200 else filter_status


def _flash_report(report: SampleReport) -> None:
    flash(
        _(
            "Sorteo realizado (entrada %(seq)s de la bitácora): %(selected)s de %(total)s registros "
            "seleccionados; %(missing)s no estaban publicados y quedan como hallazgo.",
            seq=report.audit_seq,
            selected=len(report.selected),
            total=len(report.draws),
            missing=len(report.missing),
        ),
        "info",
    )


@bp.get("/transparencia/obligaciones/sorteos")
@public
def public_sampling_view() -> tuple[str, int]:
    """Each quarter's seed commitment, its reveal and the draws, with how to recompute them: one year at a time
    (``?ejercicio=``; the latest with a commitment by default)."""
    filters = YearFilter(request.args)
    year, status = year_shown(filters, latest_sampling_year)
    quarters = public_sampling(year) if year is not None else []
    page = render_template(
        "publications/sampling.html", quarters=quarters, method=SAMPLE_METHOD, filters=filters, year=year
    )
    return page, status


def _pdf(name: str, content: bytes, folio: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{folio}-{name}")[:120]
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/transparencia/publicaciones/<int:case_id>/anexos")
@roles_required(Role.AREA)
@throttle_uploads
def attach(case_id: int) -> Response | tuple[str, int]:
    """Annex a PDF to the area's record."""
    detail = _detail(case_id)
    form = AttachmentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return _page(detail), 422
    try:
        attach_file(
            case_id,
            form.document.data.filename or "anexo.pdf",
            form.document.data.read(),
            current_user.id,
            expected_version=int(form.expected_version.data or 0),
        )
    except DomainError as exc:
        _flash_error(exc)
        status = 409 if isinstance(exc, ConflictError) else 422
        return _page(_detail(case_id)), status
    flash(_("Anexo agregado al registro."), "info")
    return redirect(url_for("publications.show", case_id=case_id))


@bp.get("/transparencia/publicaciones/<int:case_id>/anexos/<sha256>")
@roles_required(*STAFF)
def staff_attachment(case_id: int, sha256: str) -> Response:
    """An annex of the record as it stands (for the staff of the publication)."""
    detail = _detail(case_id)
    try:
        name, content = record_attachment(case_id, sha256)
    except NotFound:
        abort(404)
    return _pdf(name, content, detail.case.folio)


@bp.get("/transparencia/obligaciones/anexos/<int:case_id>/<sha256>")
@public
def public_attachment(case_id: int, sha256: str) -> Response:
    """An annex of a published record, as published."""
    try:
        name, content = published_attachment(case_id, sha256)
    except NotFound:
        abort(404)
    return _pdf(name, content, "anexo")
