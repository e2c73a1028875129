"""Rendering outbox messages as mail in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale, gettext


@dataclass(frozen=True, slots=True)
class CaseNotice:
    """What a case notification says (untranslated msgids for the workflow texts)."""

    recipient_name: str
    folio: str
    workflow_title: str
    action_description: str
    state_description: str
    url: str


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """Subject and plain-text body."""

    subject: str
    body: str


def render_case_notice(notice: CaseNotice, locale: str) -> RenderedMail:
    """The mail for a case transition, in ``locale`` (es_MX or en)."""
    institution = str(current_app.config["INSTITUTION_NAME"])
    with force_locale(locale):
        state = gettext(notice.state_description)
        subject = gettext("Expediente %(folio)s: %(state)s", folio=notice.folio, state=state)
        body = render_template(
            "mail/case_transition.txt",
            name=notice.recipient_name,
            folio=notice.folio,
            workflow=gettext(notice.workflow_title),
            action=gettext(notice.action_description),
            state=state,
            url=notice.url,
            institution=institution,
        )
    return RenderedMail(f"[{institution}] {subject}", body)
