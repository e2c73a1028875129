"""Case pages: where a case stands, its documents and history, and one form per step the user may take;
the applicant's step pages as each procedure declares them, and document viewing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.engine import (
    ConflictError,
    DomainError,
    IllegalTrigger,
    Msg,
    NotAllowed,
    NotFound,
    UnknownTrigger,
)
from app.models import Case
from app.services.case_actions import act, upload_requirement
from app.services.case_pages import (
    ActionContext,
    CasePage,
    action_context,
    case_document,
    case_page,
    refused_case_labels,
    who_acts_next,
)
from app.services.construction import case_catalogues
from app.services.uploads import download_name, size_text
from app.web.access import authenticated
from app.web.cases.actions import KeptInput, action_forms, item_choices, kept_inputs, new_key, step_inputs
from app.web.cases.labels import (
    actor_text,
    area_text,
    code_choices,
    code_label,
    data_rows,
    item_label,
    money_text,
    procedure_of,
    reason_text,
    section_choices,
    state_text,
    trigger_text,
    value_text,
)
from app.web.cases.lines import document_lines, history_lines
from app.web.headers import FILE_CONTENT_SECURITY_POLICY
from app.web.layout import rendered_part
from app.web.throttling import throttle_uploads
from app.web.translation import gettext as _
from app.web.translation import kept_for_locale, reader_language
from app.web.urls import url_for as kept_url
from forms.cases import ActionForm, action_form, action_inputs
from forms.steps import StepForm, UploadForm, VersionedForm, declared_step_form, load_form
from workflows.base import Workflow
from workflows.procedure import Step

bp = Blueprint("cases", __name__)


def _steps(workflow: Workflow) -> tuple[Step, ...]:
    """The applicant's steps of the procedure ``workflow`` belongs to, in order (none: no step pages)."""
    procedure = procedure_of(workflow)
    return procedure.steps if procedure is not None else ()


def _step_titles(workflow: Workflow) -> list[tuple[str, str]]:
    return [(step.slug, str(_(step.title))) for step in _steps(workflow)]


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "area_text": area_text,
        "money_text": money_text,
        "code_label": code_label,
        "state_text": state_text,
        "trigger_text": trigger_text,
        "actor_text": actor_text,
        "item_label": item_label,
        "value_text": value_text,
        "size_text": size_text,
    }


def _versioned(form: VersionedForm, case: Case) -> VersionedForm:
    form.expected_version.data = str(case.version)
    form.idempotency_key.data = new_key()
    return form


def _page(case_id: int) -> CasePage:
    try:
        # a page shown (GET) records the lapses the worker has not recorded yet; a step's POST leaves them to
        # the step, which records them first and says so (cases.fire)
        return case_page(case_id, current_user.id, reader_language(), settle=request.method == "GET")
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403, description=_case_refusal(case_id))


def _case_refusal(case_id: int) -> str:
    """What a person refused a case can do: it is not theirs by role or department; who acts next on it. Only
    public servants of the case's procedure are told this: to anyone else the case answers as one that does
    not exist (``NotFound``, :func:`app.services.visibility.may_know_of_case`)."""
    actors, names = who_acts_next(case_id, reader_language())
    who = ", ".join(actor_text(a.role, a.department, names, a.act) for a in actors)
    if not who:
        return str(_("Este expediente no es suyo ni le corresponde por su rol o su área."))
    return str(
        _(
            "Este expediente no es suyo ni le corresponde por su rol o su área. Ahora le toca actuar a: %(who)s. "
            "Si debería atenderlo, pida a la administración la asignación o el rol que corresponde.",
            who=who,
        )
    )


def _answer_trigger(page: CasePage) -> str | None:
    """The step by which the applicant answers a correction in the current state (not editing, not leaving)."""
    procedure = procedure_of(page.workflow)
    edit = procedure.edit_trigger if procedure is not None else None
    for transition in page.workflow.transitions_from(page.case.state):
        if (
            transition.trigger != edit
            and "applicant" in transition.roles
            and not page.workflow.state(transition.dest).terminal
        ):
            return transition.trigger
    return None


def _stages(page: CasePage) -> Markup:
    """The section of the case's stages (``cases/_stages.html``). It shows only the definition's states, which
    of them the case went through and where it is: rendered once per process for each definition, statuses and
    language, instead of a dozen states' texts on every case page."""
    workflow = page.workflow
    states = page.states
    # the definition itself in the key (its id, held by the kept value so that no other object takes it)
    key = ("case-stages", workflow.name, workflow.version, id(workflow), tuple(row.status for row in states))

    def render() -> tuple[Workflow, Markup]:
        return workflow, rendered_part("cases/_stages.html", states=states)

    return kept_for_locale(key, render)[1]


@dataclass(frozen=True, slots=True)
class Kept:
    """A form sent for a step the page no longer offers: which step, whether the case changed since the form was
    shown, and what was typed and ticked in it (shown back so that nothing is lost)."""

    action: str
    changed: bool
    inputs: list[KeptInput]


@dataclass(frozen=True, slots=True)
class Recusal:
    """A recusal the assignee sent and that was not recorded: the reason typed, shown back, and why."""

    reason: str
    error: str


def _render(
    page: CasePage,
    posted: tuple[str, ActionForm] | None = None,
    status: int = 200,
    kept: Kept | None = None,
    recusal: Recusal | None = None,
) -> tuple[str, int]:
    return (
        render_template(
            "cases/show.html",
            page=page,
            actions=action_forms(page, posted),
            kept=kept,
            recusal=recusal,
            rows=data_rows(page.workflow, page.case.data, page.requirement_labels),
            procedure=procedure_of(page.workflow),
            answer_trigger=_answer_trigger(page),
            documents_slug=next((step.slug for step in _steps(page.workflow) if step.documents), None),
            reason=lambda msg: reason_text(msg, page.workflow, page.requirement_labels, page.department_names),
            steps=_step_titles(page.workflow),
            stages=_stages(page),
            history=history_lines(page.workflow, page.timeline),
            documents=document_lines(
                page.requirements,
                lambda document_id: kept_url("cases.view_document", case_id=page.case.id, document_id=document_id),
            ),
            download_endpoint="documents.download" if "documents.download" in current_app.view_functions else None,
        ),
        status,
    )


def _changed(form: VersionedForm, case: Case) -> bool:
    """Whether ``case`` changed since ``form`` was shown: the version it was shown at is not the case's (a
    version that is not a number says nothing of the case: the form's own error says it is incomplete)."""
    return not form.expected_version.errors and form.expected_version.data != str(case.version)


def _sent_again(
    case_id: int,
    trigger: str,
    form: ActionForm,
    status: int,
    reasons: tuple[Msg, ...] = (),
    *,
    invalid: bool = False,
    conflict: bool = False,
) -> tuple[str, int]:
    """The case page as it is now after ``form`` (the step ``trigger``) was not recorded, losing nothing of
    what was sent: the reasons (``reasons``; the form's own errors when ``invalid``; a ``conflict`` with another
    change of the case in words of this page), and the form with what was typed and ticked when the step is
    still offered, at the case's current version and with a fresh idempotency key, so that sending it again
    acts, once, on the case as the page now shows it. A step the case no longer offers is named with what
    happened, and what was typed and ticked is shown back."""
    try:
        page = case_page(case_id, current_user.id, reader_language())
    except NotFound:
        abort(404)
    except NotAllowed:  # the case was taken from them (reassigned) while they wrote: shown back with the refusal
        return _refused(case_id, lambda workflow, _labels: (trigger_text(workflow, trigger), kept_inputs(form)))
    workflow = page.workflow
    changed = _changed(form, page.case)
    procedure = procedure_of(workflow)
    edit = procedure.edit_trigger if procedure is not None else "edit"  # offered on the step pages only
    offered = trigger != edit and any(t.trigger == trigger and t.enabled for t in page.triggers)
    if invalid and offered:
        flash(_("Revise los datos marcados en «%(action)s».", action=trigger_text(workflow, trigger)), "error")
    for message in reasons:
        flash(reason_text(message, workflow, page.requirement_labels, page.department_names), "error")
    for hidden in (form.expected_version, form.idempotency_key):
        for error in hidden.errors:
            flash(str(error), "error")
    if not offered:
        kept = Kept(trigger_text(workflow, trigger), changed, kept_inputs(form))
        return _render(page, status=status, kept=kept)
    if changed:
        flash(
            _(
                "El expediente cambió mientras usted preparaba «%(action)s»: revise cómo está ahora. El formulario "
                "conserva lo que escribió y marcó; si lo envía de nuevo, actuará sobre el expediente tal como lo ve.",
                action=trigger_text(workflow, trigger),
            ),
            "error",
        )
    elif conflict:  # the case did not move: another change of it at the same moment was refused or undone
        flash(
            _(
                "«%(action)s» no se registró porque otra operación sobre el expediente ocurrió al mismo tiempo. "
                "El formulario conserva lo que escribió y marcó: envíelo de nuevo.",
                action=trigger_text(workflow, trigger),
            ),
            "error",
        )
    _versioned(form, page.case)
    return _render(page, (trigger, form), status)


def _posted_form(
    workflow: Workflow, trigger: str, state: str | None, choices: ActionContext | dict[str, str]
) -> ActionForm:
    """The form of ``trigger`` as posted, its inputs as the step from ``state`` (any state when ``None``)
    declares them. A list of points (a correction's items) offers the case's documents and the request's parts:
    read for the case as ``choices`` lets its reader see them, or named by ``choices``'s labels (a refused
    reader's form, shown back only)."""
    transitions = (workflow.find(trigger, state) if state is not None else ()) or tuple(
        t for t in workflow.transitions if t.trigger == trigger
    )
    if not transitions:
        abort(404)
    spec = transitions[0]
    inputs = step_inputs(workflow, spec.fields)
    items: list[tuple[str, str]] = []
    if any(i.type == "codes" for i in inputs):  # other steps do not read the documents
        if isinstance(choices, ActionContext):
            items = item_choices(choices)
        else:
            items = [*choices.items(), *section_choices(workflow)]
    return action_form(trigger, inputs, spec.comment_required, item_choices=items)


def _refused(case_id: int, sent: Callable[[Workflow, dict[str, str]], tuple[str, list[KeptInput]]]) -> tuple[str, int]:
    """The refusal of a case to a public servant of its procedure who sent one of its forms (``NotAllowed``:
    the case is no longer theirs, e.g. reassigned while they wrote): why, who acts next on it now, and what they
    had typed and ticked, shown back so that nothing is lost. ``sent`` names the step and what was given in its
    form, from the case's definition and its documents' labels."""
    found = refused_case_labels(case_id, reader_language())
    if found is None:
        abort(404)
    action, inputs = sent(*found)
    return (
        render_template(
            "cases/refused.html",
            status=403,
            title=_("Acceso denegado"),
            detail=_case_refusal(case_id),
            kept=Kept(action, False, inputs),
        ),
        403,
    )


@bp.get("/expedientes/<int:case_id>")
@authenticated
def show(case_id: int) -> tuple[str, int]:
    """The case page."""
    return _render(_page(case_id))


def recusal_refused(case_id: int, reason: str, error: str, status: int = 422) -> tuple[str, int]:
    """The case page after the assignee's recusal was refused: the recusal form open with the reason typed and
    the error under it (a redirect lost what was typed). Someone no longer assigned the case is shown no such
    form: the error is a message of the page; someone who may no longer see the case is told so, with the
    reason typed."""
    reasons = [KeptInput(str(_("Motivo")), text=reason)] if reason.strip() else []
    try:
        page = case_page(case_id, current_user.id, reader_language())
    except NotFound:
        abort(404)
    except NotAllowed:
        return _refused(case_id, lambda _workflow, _labels: (str(_("Excusarse por conflicto de interés")), reasons))
    if not page.is_assignee:
        flash(error, "error")
        return _render(page, status=status, kept=Kept(str(_("Excusarse por conflicto de interés")), False, reasons))
    return _render(page, status=status, recusal=Recusal(reason, error))


@bp.post("/expedientes/<int:case_id>/acciones/<trigger>")
@authenticated
def fire_trigger(case_id: int, trigger: str) -> Response | tuple[str, int]:
    """Fire ``trigger`` from its form on the case page; on any refusal the page comes back with the reason
    and what was typed. The whole page is built only then: acting needs the case, its workflow and the
    form's choices."""
    try:
        context = action_context(case_id, current_user.id)
    except NotFound:
        abort(404)
    except NotAllowed:
        return _refused(
            case_id,
            lambda workflow, labels: (
                trigger_text(workflow, trigger),
                kept_inputs(_posted_form(workflow, trigger, None, labels)),
            ),
        )
    form = _posted_form(context.workflow, trigger, context.case.state, context)
    if not form.validate_on_submit():
        return _sent_again(case_id, trigger, form, 422, invalid=True)
    try:
        result = act(
            case_id,
            trigger,
            current_user.id,
            expected_version=int(form.expected_version.data or 0),
            idempotency_key=form.idempotency_key.data or "",
            inputs=action_inputs(form),
            comment=form.comment.data,
        )
    except (NotFound, UnknownTrigger):
        abort(404)
    except ConflictError:
        # what happened is said by the page itself (the form kept at the current version, or what was typed)
        return _sent_again(case_id, trigger, form, 409, conflict=True)
    except DomainError as exc:
        status = 409 if isinstance(exc, IllegalTrigger) else 403 if isinstance(exc, NotAllowed) else 422
        return _sent_again(case_id, trigger, form, status, exc.reasons)
    if result.replayed:
        flash(_("Esta acción ya se había registrado; no se repitió."), "info")
    else:
        flash(_("Listo: %(action)s.", action=trigger_text(context.workflow, trigger)), "info")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.get("/expedientes/<int:case_id>/archivos/<int:document_id>")
@authenticated
def view_document(case_id: int, document_id: int) -> Response:
    """An uploaded PDF, as a download under a generated name, to whoever may read the case.

    Uploaded files are never rendered by the application's origin: they are served as attachments,
    with ``nosniff`` and a sandboxing content security policy, so that even a hostile file opened from
    here runs nothing with the application's rights.
    """
    try:
        document, content = case_document(case_id, document_id, current_user.id)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    response = Response(content, mimetype="application/pdf")
    name = download_name(f"expediente-{case_id}", document.kind, document.id)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    response.set_etag(document.sha256)
    return response


# -- the applicant's steps -----------------------------------------------------------------------------


def _own_editable(case_id: int) -> CasePage:
    page = _page(case_id)
    if not page.is_owner:
        abort(403)
    return page


def _step(page: CasePage, slug: str) -> Step:
    for step in _steps(page.workflow):
        if step.slug == slug:
            return step
    abort(404)


def _documents_step(page: CasePage) -> Step:
    for step in _steps(page.workflow):
        if step.documents:
            return step
    abort(404)


def _step_form(page: CasePage, step: Step, post: bool) -> StepForm:
    """The step's own form, or one built from its declared fields, with the catalogues of the case."""
    procedure = procedure_of(page.workflow)
    if procedure is None:
        abort(404)
    choices = {name: code_choices(page.workflow, name, codes) for name, codes in case_catalogues(page.case).items()}
    if step.form is not None:
        cls = load_form(step.form)
    else:
        specs = [spec for name in step.fields if (spec := procedure.find_field(name)) is not None]
        cls = declared_step_form(specs)
    kwargs: dict[str, Any] = {} if post else {"formdata": None}
    form = cls(choices, **kwargs)
    if not post:
        form.fill(page.case.data)
        _versioned(form, page.case)
    return form


def _next_step(page: CasePage, step: Step) -> str:
    slugs = [s.slug for s in _steps(page.workflow)]
    index = slugs.index(step.slug)
    return slugs[min(index + 1, len(slugs) - 1)]


def _render_step(page: CasePage, step: Step, form: VersionedForm | None, status: int = 200) -> tuple[str, int]:
    uploads: dict[str, UploadForm] = {}
    if step.documents:
        for row in page.requirements:
            upload = UploadForm(formdata=None, prefix=row.kind)
            uploads[row.kind] = upload
            _versioned(upload, page.case)
    return (
        render_template(
            "cases/step.html",
            page=page,
            step=step.slug,
            documents_step=step.documents,
            steps=_step_titles(page.workflow),
            form=form,
            uploads=uploads,
            kept_upload=None,
        ),
        status,
    )


@bp.route("/expedientes/<int:case_id>/pasos/<step>", methods=["GET", "POST"])
@authenticated
def edit_step(case_id: int, step: str) -> Response | tuple[str, int]:
    """One step of the request as the procedure declares it (e.g. property, project, use, documents),
    editable while the applicant may change the request (draft, and while answering a correction)."""
    page = _own_editable(case_id)
    declared = _step(page, step)
    if declared.documents:
        return _render_step(page, declared, None)
    post = request.method == "POST"
    if not page.can_edit:
        flash(_("La solicitud ya no se puede modificar en esta etapa."), "error")
        if not post:
            return redirect(url_for("cases.show", case_id=case_id))
        # sent after the request left the applicant's hands (e.g. from another tab): shown back, not saved
        flash(_("Lo que escribió no se guardó; se muestra abajo para que no se pierda."), "error")
        return _render_step(page, declared, _step_form(page, declared, post), 409)
    form = _step_form(page, declared, post)
    if not post:
        return _render_step(page, declared, form)
    if not form.validate_on_submit():
        flash(_("Revise los datos marcados."), "error")
        broken = [str(error) for hidden in (form.expected_version, form.idempotency_key) for error in hidden.errors]
        for error in dict.fromkeys(broken):
            flash(error, "error")
        if broken:  # shown again whole, at the version the page shows: sending it again works
            form.expected_version.data = str(page.case.version)
            form.idempotency_key.data = new_key()
        return _render_step(page, declared, form, 422)
    procedure = procedure_of(page.workflow)
    try:
        result = act(
            case_id,
            procedure.edit_trigger if procedure is not None else "edit",
            current_user.id,
            expected_version=int(form.expected_version.data or 0),
            idempotency_key=form.idempotency_key.data or "",
            inputs=form.request_data(),
        )
    except (NotFound, UnknownTrigger):
        abort(404)
    except DomainError as exc:
        if isinstance(exc, ConflictError):
            # the form comes back with what was typed, at the case's current version: reloading would lose it
            flash(
                _(
                    "La solicitud cambió mientras usted editaba estos datos: revise cómo está ahora. El formulario "
                    "conserva lo que escribió; si lo envía de nuevo, se guardará sobre la solicitud tal como la ve."
                ),
                "error",
            )
        else:
            for message in exc.reasons:
                flash(reason_text(message, page.workflow, page.requirement_labels), "error")
        page = _page(case_id)
        form.expected_version.data = str(page.case.version)
        form.idempotency_key.data = new_key()
        status = 409 if isinstance(exc, ConflictError | IllegalTrigger) else 403 if isinstance(exc, NotAllowed) else 422
        return _render_step(page, declared, form, status)
    if result.replayed:
        flash(_("Estos datos ya se habían guardado; no se repitió."), "info")
    else:
        flash(_("Datos guardados."), "info")
    return redirect(url_for("cases.edit_step", case_id=case_id, step=_next_step(page, declared)))


@bp.post("/expedientes/<int:case_id>/pasos/documentos/<kind>")
@authenticated
@throttle_uploads
def upload(case_id: int, kind: str) -> Response | tuple[str, int]:
    """Upload (or replace) one required document: PDF only, size-limited, content checked, hashed."""
    page = _own_editable(case_id)
    if kind not in {row.kind for row in page.requirements}:
        abort(404)
    form = UploadForm(prefix=kind)
    if not form.validate_on_submit():
        errors = [str(e) for errors in form.errors.values() for e in errors]
        for error in errors:
            flash(error, "error")
        return _render_step(page, _documents_step(page), None, 422)
    content = form.document.data.read()
    try:
        result = upload_requirement(
            case_id,
            kind,
            form.document.data.filename or "documento.pdf",
            content,
            current_user.id,
            expected_version=int(form.expected_version.data or 0),
        )
    except NotFound:
        abort(404)
    except DomainError as exc:
        for message in exc.reasons:
            flash(reason_text(message, page.workflow, page.requirement_labels), "error")
        status = 409 if isinstance(exc, ConflictError) else 403 if isinstance(exc, NotAllowed) else 422
        return _render_step(_page(case_id), _documents_step(page), None, status)
    label = next(row.label for row in page.requirements if row.kind == kind)
    if result.repeated:
        flash(_("Ese archivo ya estaba adjuntado como «%(kind)s»; no se duplicó.", kind=label), "info")
    else:
        flash(_("Documento «%(kind)s» adjuntado.", kind=label), "info")
    return redirect(url_for("cases.edit_step", case_id=case_id, step=_documents_step(page).slug))
