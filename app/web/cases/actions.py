"""The forms of the steps a person may take on a case page (``cases/_action.html`` each).

A form shown blank is the same for every case of a definition at the same point, but for four values: the
link it posts to (the case's id), the CSRF token, the case's version and a fresh idempotency key. Building it
with WTForms and rendering its fields cost a case page about 1,200 function calls a form (a seventh of the
page). So a blank form is rendered once per process for each definition, step, language and choices
(:func:`~app.web.translation.kept_for_locale`), with marks in place of those four values, and each page puts
its own values, escaped, in place of the marks. A form posted back with errors (a refused step) is built and
rendered as WTForms gives it, in the same template.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from flask import current_app, url_for
from markupsafe import Markup, escape

from app.engine import AvailableTrigger
from app.services.case_pages import ActionContext, CasePage, requirement_items
from app.web.cases.labels import procedure_of, section_choices
from app.web.layout import rendered_part
from app.web.translation import kept_for_locale, reader_language
from forms.cases import ActionForm, action_form
from forms.csrf import csrf_token
from workflows.base import Workflow
from workflows.procedure import Field as FieldSpec

_MARK = secrets.token_hex(8)
URL_MARK = f"url-{_MARK}"
TOKEN_MARK = f"token-{_MARK}"
VERSION_MARK = f"version-{_MARK}"
KEY_MARK = f"key-{_MARK}"
"""What a kept form holds in place of the values of one page (letters, digits and dashes: escaping leaves
them as they are; the random part cannot come from a text or a definition)."""


def new_key() -> str:
    """A fresh idempotency key for a form (a repeat of the same post is then harmless)."""
    return uuid.uuid4().hex


def step_inputs(workflow: Workflow, fields: tuple[str, ...]) -> list[FieldSpec]:
    """The declared fields of a step that a person gives on the case page (not computed by the system, not
    collected by the applicant's step pages)."""
    procedure = procedure_of(workflow)
    if procedure is None:
        return []
    specs = [procedure.find_field(name) for name in fields if name not in workflow.computed_fields]
    return [
        spec for spec in specs if spec is not None and spec.step is None and not spec.system and spec.type != "list"
    ]


@dataclass(frozen=True, slots=True)
class KeptInput:
    """One input of a form whose step the page no longer offers, as the person gave it: its label and the text
    typed, or the labels of the points ticked."""

    label: str
    text: str = ""
    points: tuple[str, ...] = ()


def kept_inputs(form: ActionForm) -> list[KeptInput]:
    """What was typed and ticked in ``form`` (its own inputs, then the comment), for showing it back when its
    step is no longer offered: a list of points by the labels of the points chosen, a text as typed; inputs
    left blank are left out."""
    kept: list[KeptInput] = []
    for name in (*form.input_names, "comment"):
        field = form[name]
        label = str(field.label.text)
        if isinstance(field.data, list):
            labels = {str(value): str(text) for value, text, *_ in field.iter_choices()}
            points = tuple(labels.get(str(value), str(value)) for value in field.data)
            if points:
                kept.append(KeptInput(label, points=points))
        elif isinstance(field.data, str) and field.data.strip():
            kept.append(KeptInput(label, text=field.data))
    return kept


def item_choices(page: CasePage | ActionContext) -> list[tuple[str, str]]:
    """What a list of points (a correction's items) may name: the case's documents and the request's parts."""
    if isinstance(page, ActionContext):
        documents = requirement_items(page, reader_language())
    else:
        documents = [(row.kind, row.label) for row in page.requirements]
    return [*documents, *section_choices(page.workflow)]


def _part(trig: AvailableTrigger, form: ActionForm, action_url: str, ending: bool, style: str) -> Markup:
    return rendered_part("cases/_action.html", trig=trig, form=form, action_url=action_url, ending=ending, style=style)


def _kept_form(page: CasePage, trig: AvailableTrigger, ending: bool, style: str) -> str:
    """The blank form of ``trig`` with the marks in place of the page's values, kept per process and language."""
    workflow = page.workflow
    inputs = step_inputs(workflow, trig.fields)
    choices = tuple(item_choices(page)) if any(spec.type == "codes" for spec in inputs) else ()
    config = current_app.config
    key = (
        "case-action",
        workflow.name,
        workflow.version,
        id(workflow),  # the definition itself, held by the kept value so that no other object takes its id
        trig.trigger,
        trig.description,
        trig.comment_required,
        trig.fields,
        choices,
        ending,
        style,
        bool(config.get("WTF_CSRF_ENABLED", True)),
        config.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
    )

    def render() -> tuple[Workflow, str]:
        form = action_form(trig.trigger, inputs, trig.comment_required, item_choices=choices, formdata=None)
        form.expected_version.data = VERSION_MARK
        form.idempotency_key.data = KEY_MARK
        token = getattr(form, "csrf_token", None)
        if token is not None:
            token.current_token = TOKEN_MARK
        return workflow, str(_part(trig, form, URL_MARK, ending, style))

    return kept_for_locale(key, render)[1]


def action_forms(
    page: CasePage, posted: tuple[str, ActionForm] | None = None, key: str | None = None, token: str | None = None
) -> Markup:
    """The forms of the steps the reader may take now on the case of ``page`` (the edit step aside: it has its
    pages), one ``cases/_action.html`` each. The step of ``posted`` shows that form as it came back (its values
    and errors); the others are blank, at the case's version, each with a fresh idempotency key (``key`` for
    every one of them when given) and the request's CSRF token (``token`` when given)."""
    procedure = procedure_of(page.workflow)
    presentation = procedure.presentation if procedure is not None else None
    edit = procedure.edit_trigger if procedure is not None else "edit"
    version = escape(str(page.case.version))
    shown: list[str] = []
    for trig in page.triggers:
        if not trig.enabled or trig.trigger == edit:
            continue
        ending = page.workflow.state(trig.dest).terminal
        style = presentation.style(trig.trigger) if presentation is not None else "primary"
        url = url_for("cases.fire_trigger", case_id=page.case.id, trigger=trig.trigger)
        if posted is not None and posted[0] == trig.trigger:
            shown.append(_part(trig, posted[1], url, ending, style))
            continue
        kept = _kept_form(page, trig, ending, style)
        if TOKEN_MARK in kept:
            token = token if token is not None else csrf_token()
            kept = kept.replace(TOKEN_MARK, escape(token))
        kept = kept.replace(URL_MARK, escape(url)).replace(VERSION_MARK, version)
        shown.append(kept.replace(KEY_MARK, escape(key if key is not None else new_key())))
    return Markup("\n".join(shown))  # noqa: S704 - rendered by the autoescaping template; the values escaped here
