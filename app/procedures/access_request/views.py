"""Access-to-information requests on the web: the public filing form and tracking pages, the requester's
secret tracking page, and the pages of the transparency unit, the areas, the committee and the guarantor.

Views validate the form, call one service and redirect; a refused step is shown with its reasons and the
typed text kept (status 422); someone else's request is a 404 that says nothing about it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from app.engine import ConflictError, DomainError, Msg, NotFound
from app.extensions import limiter
from app.models import Role
from app.procedures.access_request import services as svc
from app.services.config import current_params
from app.services.uploads import download_name
from app.web.access import public, roles_required
from app.web.auth.support import filing_email_key, filing_limit_per_email, filing_limit_per_ip, redirected
from app.web.cases.actions import new_key
from app.web.headers import FILE_CONTENT_SECURITY_POLICY
from app.web.labels import message_text
from app.web.throttling import throttle_uploads
from app.web.translation import reader_language
from app.web.urls import cursor_parts, record_id
from forms.access_requests import (
    VOTE_CHOICES,
    AppealClarificationForm,
    AppealForm,
    AppealResolutionForm,
    AreaAnswerForm,
    AreaDocumentForm,
    ClarificationForm,
    CommentForm,
    ComplianceRemarksForm,
    DecisionForm,
    DeliverForm,
    FilingForm,
    PublicSourceForm,
    RequesterPleadingsForm,
    SessionChoiceForm,
    SessionForm,
    TrackForm,
    TurnForm,
    UnitPleadingsForm,
    decision_form,
    ids_apart,
)
from workflows.base import in_language

bp = Blueprint("transparency", __name__, url_prefix="/transparencia", template_folder="templates")

STAFF = (Role.TRANSPARENCY_UNIT, Role.AREA, Role.COMMITTEE_MEMBER, Role.GUARANTOR, Role.AUDITOR)
FORMAT_LABELS = {
    "electronic": _l("Electrónica, a través del sistema"),
    "simple_copies": _l("Copias simples"),
    "certified_copies": _l("Copias certificadas"),
    "usb": _l("Dispositivo USB"),
    "consulta_directa": _l("Consulta directa (en las oficinas de la Unidad)"),
}
GROUND_LABELS = {
    "classification": _l("La clasificación de la información"),
    "inexistence": _l("La declaración de inexistencia"),
    "incompetence": _l("La declaración de incompetencia"),
    "incomplete": _l("La entrega de información incompleta"),
    "not_matching": _l("La información no corresponde a lo solicitado"),
    "no_response": _l("La falta de respuesta en el plazo"),
    "format": _l("La modalidad de entrega"),
    "costs": _l("Los costos de reproducción"),
}
DECISIONS = {
    "confirm": _l("Confirma"),
    "modify": _l("Modifica"),
    "revoke": _l("Revoca"),
    "approve": _l("Aprueba la ampliación"),
    "reject": _l("Rechaza la ampliación"),
}
MATTER_DECISIONS = {"extension": ("approve", "reject")}
ANSWER_LABELS = {
    "available": _l("Disponible"),
    "reserved": _l("Reservada"),
    "confidential": _l("Confidencial"),
    "inexistent": _l("Inexistente"),
}
KIND_LABELS = {
    "respuesta_area": _l("Documento del área"),
    "version_publica": _l("Versión pública"),
    "pruebas_alegatos": _l("Pruebas ofrecidas con los alegatos de la Unidad"),
}
MATTER_LABELS = {
    "classification": _l("Clasificación"),
    "inexistence": _l("Inexistencia"),
    "extension": _l("Ampliación del plazo"),
}


def _label(labels: dict[str, Any], code: Any) -> str:
    return str(labels.get(str(code), str(code).replace("_", " ")))


@bp.context_processor
def _labels() -> dict[str, Any]:
    names: dict[str, str] = {}

    def area_name(code: Any) -> str:
        if not names:
            names.update(svc.department_names(reader_language()))
        return names.get(str(code), str(code))

    return {
        "area_name": area_name,
        "format_label": lambda c: _label(FORMAT_LABELS, c),
        "ground_label": lambda c: _label(GROUND_LABELS, c),
        "decision_label": lambda c: _label(DECISIONS, c),
        "answer_label": lambda c: _label(ANSWER_LABELS, c),
        "matter_label": lambda c: _label(MATTER_LABELS, c),
        "vote_label": lambda c: _label(dict(VOTE_CHOICES), c),
        "kind_label": lambda c: _label(KIND_LABELS, c),
    }


def _area_choices() -> list[tuple[str, str]]:
    """The areas a request can be turned to, by code, with their names in the page's language."""
    language = reader_language()
    return [(d.code, in_language(d.name, d.name_en, language)) for d in svc.departments()]


def _params() -> dict[str, Any]:
    return current_params(svc.WORKFLOW)


FIELD_LABELS = {
    "clarification": _l("Aclaración"),
    "appeal_grounds": _l("Causas del recurso"),
    "competent_body": _l("Sujeto obligado competente"),
    "compliance_report": _l("Informe de cumplimiento"),
    "response_summary": _l("Respuesta"),
    "turned_to": _l("Áreas"),
    "public_source": _l("Fuente de la información ya pública"),
    "committee_item": _l("Asunto del Comité"),
    "appeal_decision": _l("Sentido de la resolución"),
    "appeal_resolution": _l("Resolución del recurso"),
    "unit_pleadings": _l("Alegatos de la Unidad de Transparencia"),
    "requester_pleadings": _l("Alegatos del recurrente"),
    "compliance_remarks": _l("Manifestación sobre el informe de cumplimiento"),
}
"""What people read instead of the field codes the engine names in its refusals."""


def _flash_error(exc: DomainError) -> None:
    for reason in exc.reasons:
        code = reason.params.get("field")
        if code in FIELD_LABELS:
            reason = Msg(reason.msgid, {**reason.params, "field": str(FIELD_LABELS[code])}, reason.labels)
        flash(message_text(reason), "error")


# -- public ---------------------------------------------------------------------------------------


def _filing_form() -> FilingForm:
    formats = [(f, _label(FORMAT_LABELS, f)) for f in _params().get("delivery_formats", [])]
    account = current_user.is_authenticated and current_user.has_role(Role.APPLICANT)
    return FilingForm(formats, email_required=not account)


def _filing_page(form: FilingForm, account: bool, status: int = 200) -> tuple[str, int]:
    """The filing form with the data as sent and a fresh key (a form shown again is a new filing)."""
    form.filing_key.data = new_key()
    return render_template("transparency/file.html", form=form, account=account), status


def _filed_anew(response: Response) -> bool:
    """Counts the filings that filed a request: the same form sent again (a double click) files nothing more and
    takes nothing of the limits."""
    return redirected(response) and not g.get("filing_replayed", False)


@bp.route("/solicitar", methods=["GET", "POST"])
@public
@limiter.limit(filing_limit_per_ip, methods=["POST"], deduct_when=_filed_anew)
@limiter.limit(filing_limit_per_email, methods=["POST"], key_func=filing_email_key, deduct_when=_filed_anew)
def file_request() -> Response | tuple[str, int] | str:
    """File an access request: a pseudonym and an e-mail suffice (an account is optional)."""
    form = _filing_form()
    account = current_user.is_authenticated and current_user.has_role(Role.APPLICANT)
    if request.method == "GET" and account:
        form.pseudonym.data = form.pseudonym.data or current_user.display_name
    if not form.validate_on_submit():
        if form.is_submitted():
            flash(_("Revise los datos marcados."), "error")
            return _filing_page(form, account, 422)
        return _filing_page(form, account)
    try:
        filed = svc.file_request(
            form.pseudonym.data or "",
            form.email.data or "",
            form.information_requested.data or "",
            form.delivery_format.data or "",
            account_id=current_user.id if account else None,
            key=(form.filing_key.data or "")[:64] or None,
        )
    except ConflictError as exc:  # this form already filed a request: said, with the data kept to send again
        _flash_error(exc)
        return _filing_page(form, account, 409)
    except DomainError as exc:
        _flash_error(exc)
        return _filing_page(form, account, 422)
    g.filing_replayed = filed.replayed
    flash(_("Solicitud recibida con el folio %(folio)s.", folio=filed.folio), "info")
    return redirect(url_for("transparency.tracking", token=filed.token, acuse=1))


@bp.get("/consulta")
@public
def lookup() -> tuple[str, int] | str:
    """Follow a request publicly by its folio: state, dates and terms only."""
    form = TrackForm(request.args)
    status = None
    if request.args.get("folio"):
        if not form.validate():  # not a folio's shape (a stray character, a NUL byte): said, not looked up
            for error in form.folio.errors:
                flash(str(error), "error")
            return render_template("transparency/lookup.html", form=form, status=None), 400
        status = svc.public_status(form.folio.data or "")
        if status is None:
            flash(_("No hay ninguna solicitud con ese folio."), "error")
            return render_template("transparency/lookup.html", form=form, status=None), 404
    return render_template("transparency/lookup.html", form=form, status=status)


def _requester_forms(view: svc.RequesterView) -> dict[str, Any]:
    grounds = [(g, _label(GROUND_LABELS, g)) for g in _params().get("appeal_grounds", [])]
    version = {"version": view.version}
    return {
        "clarification": ClarificationForm(data=version),
        "appeal": AppealForm(grounds, data=version),
        "appeal_clarification": AppealClarificationForm(data=version),
        "pleadings": RequesterPleadingsForm(data=version),
        "compliance_remarks": ComplianceRemarksForm(data=version),
    }


@bp.get("/seguimiento/<token>")
@public
def tracking(token: str) -> str:
    """The requester's own page, reached through the secret link of the receipt."""
    try:
        view = svc.requester_view(token, settle=True)
    except NotFound:
        abort(404)
    return render_template(
        "transparency/tracking.html",
        view=view,
        token=token,
        forms=_requester_forms(view),
        receipt=bool(request.args.get("acuse")),
        certificates=svc.requester_certificates(token),
    )


@bp.get("/seguimiento/<token>/documentos/<int:document_id>")
@public
def requester_document(token: str, document_id: int) -> Response:
    """A document delivered to the requester (the area's answer, the versión pública)."""
    try:
        delivered = svc.requester_file(token, document_id=document_id)
    except NotFound:
        abort(404)
    return _pdf(delivered, download_name(delivered.folio, delivered.kind, document_id))


@bp.get("/seguimiento/<token>/resoluciones/<int:certificate_id>")
@public
def requester_certificate(token: str, certificate_id: int) -> Response:
    """A sealed PDF of the request: the response or a resolution of the committee."""
    try:
        delivered = svc.requester_file(token, certificate_id=certificate_id)
    except DomainError:
        abort(404)
    return _pdf(delivered, f"{secure_filename(delivered.name) or 'documento.pdf'}")


def _pdf(delivered: svc.DeliveredFile, name: str) -> Response:
    """A file for the requester, as case files are served: an attachment under a generated name, never
    rendered by the application's origin (``nosniff`` and a sandboxing content security policy)."""
    response = Response(delivered.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    return response


REQUESTER_FORMS = {
    "answer_prevention": "clarification",
    "appeal": "appeal",
    "answer_appeal_prevention": "appeal_clarification",
    "file_compliance_remarks": "compliance_remarks",
}


@bp.post("/seguimiento/<token>/<action>")
@public
def requester_step(token: str, action: str) -> Response | tuple[str, int]:
    """Answer the prevención, appeal, or answer the guarantor's prevención of the appeal, through the secret
    link."""
    if action not in REQUESTER_FORMS:
        abort(404)
    try:
        view = svc.requester_view(token)
    except NotFound:
        abort(404)
    forms = _requester_forms(view)
    form = forms[REQUESTER_FORMS[action]]
    form.process(request.form)

    def act() -> None:
        data = {k: v for k, v in form.data.items() if k not in {"version", "submit", "csrf_token"}}
        svc.requester_act(token, action, expected_version=form.seen_version(), data=data)

    return _requester_step(view, token, forms, form, act)


@bp.post("/seguimiento/<token>/alegatos")
@public
@throttle_uploads
def requester_pleadings(token: str) -> Response | tuple[str, int]:
    """The appellant's pleadings in the admitted appeal, through the secret link, with a PDF of the evidence they
    offer (optional; LGTAIP 2015 art. 150, fr. II: "ofrecer todo tipo de pruebas o alegatos")."""
    try:
        view = svc.requester_view(token)
    except NotFound:
        abort(404)
    forms = _requester_forms(view)
    form = forms["pleadings"]  # a posted form reads the files sent with it

    def act() -> None:
        svc.requester_act(
            token,
            "file_requester_pleadings",
            expected_version=form.seen_version(),
            data={"requester_pleadings": form.requester_pleadings.data or ""},
            evidence=_optional_file(form.file.data),
        )

    return _requester_step(view, token, forms, form, act)


def _requester_step(
    view: svc.RequesterView, token: str, forms: dict[str, Any], form: Any, act: Callable[[], None]
) -> Response | tuple[str, int]:
    """Run ``act`` (the requester's step with what ``form`` holds) when the form is valid: back to the tracking
    page with a notice when it is done, or the page again (422) with the refusal and what was typed."""
    if form.validate():
        try:
            act()
        except DomainError as exc:
            _flash_error(exc)
        else:
            flash(_("Listo: su solicitud se actualizó."), "info")
            return redirect(url_for("transparency.tracking", token=token))
    else:
        flash(_("Revise los datos marcados."), "error")
    return _tracking_again(view, token, forms)


def _optional_file(upload: Any) -> tuple[str, bytes] | None:
    """An optional file field's upload as (name, bytes), or ``None`` when no file was chosen."""
    return (upload.filename or "", upload.read()) if upload and getattr(upload, "filename", "") else None


def _tracking_again(view: svc.RequesterView, token: str, forms: dict[str, Any]) -> tuple[str, int]:
    """The tracking page again after a refused step (422), with what was typed in its form."""
    page = render_template(
        "transparency/tracking.html",
        view=view,
        token=token,
        forms=forms,
        receipt=False,
        certificates=svc.requester_certificates(token),
    )
    return page, 422


@bp.route("/mis-solicitudes/<int:case_id>", methods=["GET", "POST"])
@roles_required(Role.APPLICANT)
def own_request(case_id: int) -> Response | str:
    """A logged-in requester's request: a page whose button (a ``POST`` with the form's token) opens its tracking
    page under a new tracking link; the old one ends (tracking tokens are kept only hashed, so the page cannot be
    reached under it). Following the address (a link on another site) changes nothing: the link the requester
    was mailed keeps working."""
    try:
        if request.method == "POST":
            return redirect(svc.tracking_path_for(svc.reissue_tracking_token(case_id, current_user.id)))
        folio = svc.own_request_folio(case_id, current_user.id)
    except NotFound:
        abort(404)
    return render_template("transparency/own_request.html", folio=folio, case_id=case_id)


# -- staff ----------------------------------------------------------------------------------------


_UNIT_CURSOR = re.compile(r"([01])_(\d{4}-\d{2}-\d{2})_(\d{1,10})")


def unit_cursor_text(cursor: svc.UnitCursor) -> str:
    """A page's cursor as the ``tras`` parameter of the next page's address: whether the last request's term
    had lapsed (1) or not (0), the term's last day and the request's case id."""
    return f"{int(cursor.lapsed)}_{cursor.due_on.isoformat()}_{cursor.case_id}"


def unit_cursor(text: str) -> svc.UnitCursor:
    """The cursor of :func:`unit_cursor_text` (``request.args.get(name, type=unit_cursor)``); anything else
    raises ``ValueError``, so that the argument is taken as absent and the first page is shown."""
    match = cursor_parts(text, _UNIT_CURSOR)
    return svc.UnitCursor(match[1] == "1", date.fromisoformat(match[2]), record_id(match[3]))


def _queue_page(page: svc.UnitQueue, paged: bool, title: str, endpoint: str) -> str:
    """A page of a transparency queue (the unit's, an area's), with the link to the next one."""
    return render_template(
        "transparency/queue.html",
        rows=page.rows,
        title=title,
        paged=paged,
        following=None if page.following is None else unit_cursor_text(page.following),
        endpoint=endpoint,
    )


@bp.get("/unidad")
@roles_required(Role.TRANSPARENCY_UNIT, Role.AUDITOR)
def unit_queue() -> str:
    """Open requests, overdue first, then by the last day of the response term, a page at a time."""
    after = request.args.get("tras", type=unit_cursor)
    page = svc.unit_queue_page(after=after, limit=svc.UNIT_PAGE)
    return _queue_page(page, after is not None, _("Solicitudes de acceso"), "transparency.unit_queue")


@bp.get("/areas")
@roles_required(Role.AREA)
def area_queue() -> str:
    """Requests turned to the user's areas and not yet answered, overdue first, then by the last day of the
    response term, a page at a time."""
    after = request.args.get("tras", type=unit_cursor)
    page = svc.area_queue_page(current_user.id, after=after, limit=svc.UNIT_PAGE)
    return _queue_page(page, after is not None, _("Turnos del área"), "transparency.area_queue")


@bp.get("/garante")
@roles_required(Role.GUARANTOR)
def guarantor_queue() -> str:
    """Appeals to admit or dismiss, appeals to resolve and compliance to verify, the lapsed terms first, then by
    the last day of the guarantor's term, a page at a time."""
    after = request.args.get("tras", type=unit_cursor)
    page = svc.guarantor_queue_page(after=after, limit=svc.UNIT_PAGE)
    return _queue_page(page, after is not None, _("Recursos de revisión"), "transparency.guarantor_queue")


def _session_choices() -> list[tuple[int, str]]:
    return [(s.id, f"{s.number} · {s.held_on.isoformat()}") for s in svc.sessions(svc.SESSIONS_OFFERED)]


def _staff_forms(view: svc.StaffView) -> dict[str, Any]:
    version = {"version": view.case.version}
    areas = _area_choices()
    return {
        "turn": TurnForm(areas, data=version),
        "add_turn": TurnForm(
            [a for a in areas if a[0] not in set(view.case.data.get("turned_to") or ())], data=version, prefix="add"
        ),
        "withdraw": CommentForm(data=version, prefix="withdraw"),
        "public_source": PublicSourceForm(data=version, prefix="source"),
        "comment": CommentForm(data=version),
        "deliver": DeliverForm(_deliverable(view.case.id), data=version),
        "committee": SessionChoiceForm(_session_choices(), data=version),
        "answer": AreaAnswerForm(data=version),
        "document": AreaDocumentForm(),
        "answer_failed": {},
        "document_failed": {},
        "area_forms": {
            code: (ids_apart(AreaAnswerForm, code)(data=version), ids_apart(AreaDocumentForm, code)())
            for code in sorted(view.own_departments)
        },
        "resolution": AppealResolutionForm(data=version),
        "pleadings": UnitPleadingsForm(data=version),
    }


def _deliverable(case_id: int) -> list[tuple[int, str]]:
    return [(d.id, f"{_label(KIND_LABELS, d.kind)} · {d.original_name}") for d in svc.deliverable_documents(case_id)]


def _case_page(case_id: int, forms: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    try:
        view = svc.staff_view(case_id, current_user.id, settle=request.method == "GET")
    except NotFound:
        abort(404)
    merged = {**_staff_forms(view), **(forms or {})}
    return render_template("transparency/case.html", view=view, forms=merged, user=current_user), status


@bp.get("/solicitudes/<int:case_id>")
@roles_required(*STAFF)
def case(case_id: int) -> tuple[str, int]:
    """A request as staff see it (an area only when it was turned to it)."""
    return _case_page(case_id)


def _visible(case_id: int) -> None:
    try:
        svc.staff_view(case_id, current_user.id)
    except NotFound:
        abort(404)


def _done(case_id: int) -> Response:
    flash(_("Listo: la solicitud se actualizó."), "info")
    return redirect(url_for("transparency.case", case_id=case_id))


def _refused(case_id: int, exc: DomainError, name: str, form: Any) -> tuple[str, int]:
    _flash_error(exc)
    return _case_page(case_id, {name: form}, 422)


def _invalid(case_id: int, name: str, form: Any) -> tuple[str, int]:
    flash(_("Revise los datos marcados."), "error")
    return _case_page(case_id, {name: form}, 422)


@bp.post("/solicitudes/<int:case_id>/turnar")
@roles_required(Role.TRANSPARENCY_UNIT)
def turn(case_id: int) -> Response | tuple[str, int]:
    """Turn the request to one or more areas."""
    _visible(case_id)
    form = TurnForm(_area_choices())
    if not form.validate_on_submit():
        return _invalid(case_id, "turn", form)
    try:
        svc.turn_request(case_id, form.departments.data or [], current_user.id, expected_version=form.seen_version())
    except DomainError as exc:
        return _refused(case_id, exc, "turn", form)
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/fuente-publica")
@roles_required(Role.TRANSPARENCY_UNIT)
def public_source(case_id: int) -> Response | tuple[str, int]:
    """Answer that the information is already public, pointing to where and how to consult it."""
    _visible(case_id)
    form = PublicSourceForm(prefix="source")
    if not form.validate_on_submit():
        return _invalid(case_id, "public_source", form)
    try:
        svc.point_to_public_source(
            case_id, form.public_source.data or "", current_user.id, expected_version=form.seen_version()
        )
    except DomainError as exc:
        return _refused(case_id, exc, "public_source", form)
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/turnos/agregar")
@roles_required(Role.TRANSPARENCY_UNIT)
def add_turn(case_id: int) -> Response | tuple[str, int]:
    """Turn a request that is with the areas to another area as well."""
    _visible(case_id)
    form = TurnForm(_area_choices(), prefix="add")
    if not form.validate_on_submit():
        return _invalid(case_id, "add_turn", form)
    try:
        svc.add_turn(case_id, form.departments.data or [], current_user.id, expected_version=form.seen_version())
    except DomainError as exc:
        return _refused(case_id, exc, "add_turn", form)
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/turnos/<department>/retirar")
@roles_required(Role.TRANSPARENCY_UNIT)
def withdraw_turn(case_id: int, department: str) -> Response | tuple[str, int]:
    """Withdraw the turn of an area that has not answered (the request stays with the other areas)."""
    _visible(case_id)
    form = CommentForm(prefix="withdraw")
    if not form.validate_on_submit():
        return _invalid(case_id, "withdraw", form)
    try:
        svc.withdraw_turn(
            case_id, department, form.comment.data or "", current_user.id, expected_version=form.seen_version()
        )
    except DomainError as exc:
        return _refused(case_id, exc, "withdraw", form)
    return _done(case_id)


UNIT_STEPS = frozenset({"prevent", "declare_incompetent", "consolidate", "report_compliance"})


@bp.post("/solicitudes/<int:case_id>/unidad/<step>")
@roles_required(Role.TRANSPARENCY_UNIT)
def unit_step(case_id: int, step: str) -> Response | tuple[str, int]:
    """A step of the unit: prevención, incompetence, consolidation, compliance report."""
    if step not in UNIT_STEPS:
        abort(404)
    _visible(case_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _invalid(case_id, "comment", form)
    data: dict[str, Any] = {}
    if step == "declare_incompetent":
        data["competent_body"] = form.competent_body.data or ""
    if step == "report_compliance":
        data["compliance_report"] = form.compliance_report.data or ""
    try:
        svc.unit_act(
            case_id,
            step,
            current_user.id,
            expected_version=form.seen_version(),
            data=data or None,
            comment=form.comment.data or None,
        )
    except DomainError as exc:
        return _refused(case_id, exc, "comment", form)
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/comite/<matter>")
@roles_required(Role.TRANSPARENCY_UNIT)
def to_committee(case_id: int, matter: str) -> Response | tuple[str, int]:
    """Take the classification or inexistence, or an extension request, to a session of the committee."""
    if matter not in {"clasificacion", "ampliacion"}:
        abort(404)
    _visible(case_id)
    form = SessionChoiceForm(_session_choices())
    if not form.validate_on_submit():
        return _invalid(case_id, "committee", form)
    try:
        if matter == "ampliacion":
            svc.request_extension(
                case_id,
                form.session_id.data,
                form.reasons.data or "",
                current_user.id,
                expected_version=form.seen_version(),
            )
        else:
            svc.submit_to_committee(
                case_id, form.session_id.data, current_user.id, expected_version=form.seen_version()
            )
    except DomainError as exc:
        return _refused(case_id, exc, "committee", form)
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/responder")
@roles_required(Role.TRANSPARENCY_UNIT)
def deliver(case_id: int) -> Response | tuple[str, int]:
    """Deliver the response with its cost sheet (pages, media, envío, a waiver) or the appointment of a consulta
    directa; the payment order is issued with it when something is owed."""
    _visible(case_id)
    form = DeliverForm(_deliverable(case_id))
    if not form.validate_on_submit():
        return _invalid(case_id, "deliver", form)
    try:
        svc.deliver_response(
            case_id,
            form.response_summary.data or "",
            current_user.id,
            expected_version=form.seen_version(),
            document_ids=form.documents.data or [],
            costs=svc.Costs(
                page_count=form.page_count.data or 0,
                media_count=form.media_count.data or 0,
                shipped=bool(form.shipped.data),
                waived=bool(form.waived.data),
                waiver_reason=form.waiver_reason.data or "",
                consultation_at=(
                    datetime.combine(form.consultation_on.data, form.consultation_time.data)
                    if form.consultation_on.data and form.consultation_time.data
                    else None
                ),
                consultation_place=form.consultation_place.data or "",
            ),
        )
    except DomainError as exc:
        return _refused(case_id, exc, "deliver", form)
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/turno/<department>")
@roles_required(Role.AREA)
def answer(case_id: int, department: str) -> Response | tuple[str, int]:
    """An area answers the turn: available, classified (with basis, harm test, period) or inexistent."""
    _visible(case_id)
    form = ids_apart(AreaAnswerForm, department)()
    if not form.validate_on_submit():
        return _invalid(case_id, "answer_failed", {department: form})
    answer = svc.AreaAnswer(
        kind=form.kind.data or "",
        partial=bool(form.partial.data),
        legal_basis=form.legal_basis.data or "",
        harm_test=form.harm_test.data or "",
        reservation_years=form.reservation_years.data,
        answer_text=form.answer_text.data or "",
        redactions=form.redactions.data or "",
    )
    try:
        svc.answer_turn(case_id, department, answer, current_user.id, expected_version=form.seen_version())
    except DomainError as exc:
        return _refused(case_id, exc, "answer_failed", {department: form})
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/turno/<department>/documento")
@roles_required(Role.AREA)
@throttle_uploads
def area_document(case_id: int, department: str) -> Response | tuple[str, int]:
    """An area attaches its answer or the versión pública (PDF)."""
    _visible(case_id)
    form = ids_apart(AreaDocumentForm, department)()
    if not form.validate_on_submit():
        return _invalid(case_id, "document_failed", {department: form})
    upload = form.file.data
    try:
        svc.attach_area_document(
            case_id, department, form.kind.data or "", upload.filename or "", upload.read(), current_user.id
        )
    except DomainError as exc:
        return _refused(case_id, exc, "document_failed", {department: form})
    return _done(case_id)


@bp.post("/solicitudes/<int:case_id>/alegatos")
@roles_required(Role.TRANSPARENCY_UNIT)
@throttle_uploads
def unit_pleadings(case_id: int) -> Response | tuple[str, int]:
    """The unit's pleadings in the admitted appeal, with a PDF of the evidence it offers (optional)."""
    _visible(case_id)
    form = UnitPleadingsForm()
    if not form.validate_on_submit():
        return _invalid(case_id, "pleadings", form)
    try:
        svc.file_unit_pleadings(
            case_id,
            form.unit_pleadings.data or "",
            current_user.id,
            expected_version=form.seen_version(),
            evidence=_optional_file(form.file.data),
        )
    except DomainError as exc:
        return _refused(case_id, exc, "pleadings", form)
    return _done(case_id)


GUARANTOR_STEPS = svc.GUARANTOR_ACTIONS


@bp.post("/solicitudes/<int:case_id>/garante/<step>")
@roles_required(Role.GUARANTOR)
def guarantor_step(case_id: int, step: str) -> Response | tuple[str, int]:
    """The guarantor admits the appeal or dismisses it as improper, closes its instruction, resolves it, extends its
    term once, or rules on compliance."""
    if step not in GUARANTOR_STEPS:
        abort(404)
    _visible(case_id)
    if step == "resolve_appeal":
        resolution = AppealResolutionForm()
        if not resolution.validate_on_submit():
            return _invalid(case_id, "resolution", resolution)
        data = {
            "appeal_decision": resolution.appeal_decision.data,
            "appeal_resolution": resolution.appeal_resolution.data,
        }
        try:
            svc.guarantor_act(case_id, step, current_user.id, expected_version=resolution.seen_version(), data=data)
        except DomainError as exc:
            return _refused(case_id, exc, "resolution", resolution)
        return _done(case_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _invalid(case_id, "comment", form)
    try:
        svc.guarantor_act(
            case_id, step, current_user.id, expected_version=form.seen_version(), comment=form.comment.data or None
        )
    except DomainError as exc:
        return _refused(case_id, exc, "comment", form)
    return _done(case_id)


# -- committee ------------------------------------------------------------------------------------


@bp.route("/comite", methods=["GET", "POST"])
@roles_required(Role.COMMITTEE_MEMBER, Role.TRANSPARENCY_UNIT)
def sessions() -> Response | tuple[str, int]:
    """The committee's sessions, and a form to convene a new one."""
    form = SessionForm()
    if form.validate_on_submit() and form.held_on.data is not None:
        try:
            session_id = svc.open_session(form.number.data or "", form.held_on.data, current_user.id)
        except DomainError as exc:
            _flash_error(exc)
        else:
            flash(_("Sesión convocada."), "info")
            return redirect(url_for("transparency.session", session_id=session_id))
        return _sessions_page(form, 422)
    if form.is_submitted():
        flash(_("Revise los datos marcados."), "error")
        return _sessions_page(form, 422)
    return _sessions_page(form, 200)


def _sessions_page(form: SessionForm, status: int) -> tuple[str, int]:
    """A page of the committee's sessions, newest first (``?antes=<session>``: those after it), and the form."""
    before = request.args.get("antes", type=record_id)
    listed = svc.sessions(svc.SESSIONS_PAGE + 1, before=before)
    older = listed[svc.SESSIONS_PAGE - 1].id if len(listed) > svc.SESSIONS_PAGE else None
    page = render_template(
        "transparency/sessions.html", form=form, sessions=listed[: svc.SESSIONS_PAGE], older=older, paged=bool(before)
    )
    return page, status


def _decision_form(item_id: int, matter: str) -> DecisionForm:
    codes = MATTER_DECISIONS.get(matter, ("confirm", "modify", "revoke"))
    members = [(u.id, u.display_name) for u in svc.committee_members()]
    return decision_form([(c, _label(DECISIONS, c)) for c in codes], members, prefix=f"item{item_id}")


def _session_page(
    session_id: int, failed: tuple[int, DecisionForm] | None = None, status: int = 200
) -> tuple[str, int]:
    try:
        view = svc.session_view(session_id)
    except NotFound:
        abort(404)
    forms = {item.id: _decision_form(item.id, item.matter.value) for item, _folio in view.items}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render_template("transparency/session.html", view=view, forms=forms), status


@bp.get("/comite/<int:session_id>")
@roles_required(Role.COMMITTEE_MEMBER, Role.TRANSPARENCY_UNIT)
def session(session_id: int) -> tuple[str, int]:
    """A session with its agenda and, for committee members, the forms to resolve each item."""
    return _session_page(session_id)


@bp.post("/comite/<int:session_id>/asuntos/<int:item_id>")
@roles_required(Role.COMMITTEE_MEMBER)
def decide(session_id: int, item_id: int) -> Response | tuple[str, int]:
    """Resolve an item: confirm, modify or revoke; approve or reject an extension."""
    try:
        view = svc.session_view(session_id)
    except NotFound:
        abort(404)
    matters = {item.id: item.matter.value for item, _folio in view.items}
    if item_id not in matters:
        abort(404)
    form = _decision_form(item_id, matters[item_id])
    if not form.validate_on_submit():
        flash(_("Revise los datos marcados."), "error")
        return _session_page(session_id, (item_id, form), 422)
    try:
        svc.decide_item(
            item_id, form.decision.data or "", form.resolution_text.data or "", current_user.id, votes=form.votes()
        )
    except DomainError as exc:
        _flash_error(exc)
        return _session_page(session_id, (item_id, form), 422)
    flash(_("Resolución registrada."), "info")
    return redirect(url_for("transparency.session", session_id=session_id))
