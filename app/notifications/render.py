"""Rendering outbox messages as mail in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template
from flask_babel import force_locale, format_date, gettext

TEMPLATES = {
    "case_transition": "mail/case_transition.txt",
    "deadline_reminder": "mail/deadline_reminder.txt",
    "target_missed": "mail/target_missed.txt",
    "case_escalated": "mail/case_escalated.txt",
}


@dataclass(frozen=True, slots=True)
class CaseNotice:
    """What a case notification says (untranslated msgids for the workflow texts)."""

    topic: str
    recipient_name: str
    folio: str
    workflow_title: str
    action_description: str
    state_description: str
    url: str
    due_on: date | None = None
    text: str = ""
    """The text of the act the notice tells of, when it asks something of the recipient."""
    legal_basis: str = ""
    due_label: str = ""
    """What the term ``due_on`` is for (a msgid), when it is not the term to answer the act."""
    legal_term: str = ""
    """The description (a msgid) of the procedure's legal term, when the case has one running or paused."""
    legal_due_on: date | None = None
    """The legal term's last day while it runs (``None`` while it is suspended)."""
    legal_days_left: int | None = None
    """Business days of the legal term left."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """Subject and plain-text body."""

    subject: str
    body: str


def render_case_notice(notice: CaseNotice, locale: str) -> RenderedMail:
    """The mail for ``notice`` in ``locale`` (es_MX or en). Raises ``KeyError`` for an unknown topic."""
    template = TEMPLATES[notice.topic]
    institution = str(current_app.config["INSTITUTION_NAME"])
    with force_locale(locale):
        state = gettext(notice.state_description)
        due = format_date(notice.due_on, format="long") if notice.due_on else ""
        if notice.topic == "deadline_reminder":
            subject = gettext(
                "Recordatorio: el plazo del expediente %(folio)s vence el %(due)s", folio=notice.folio, due=due
            )
        elif notice.topic == "target_missed":
            subject = gettext("Expediente %(folio)s fuera de la meta de atención", folio=notice.folio)
        elif notice.topic == "case_escalated":
            subject = gettext("Expediente %(folio)s sin persona asignada: venció su plazo", folio=notice.folio)
        else:
            subject = gettext("Expediente %(folio)s: %(state)s", folio=notice.folio, state=state)
        body = render_template(
            template,
            name=notice.recipient_name,
            folio=notice.folio,
            workflow=gettext(notice.workflow_title),
            action=gettext(notice.action_description),
            state=state,
            due=due,
            text=notice.text,
            legal_basis=notice.legal_basis,
            due_label=gettext(notice.due_label) if notice.due_label else "",
            legal_term=gettext(notice.legal_term) if notice.legal_term else "",
            legal_due=format_date(notice.legal_due_on, format="long") if notice.legal_due_on else "",
            legal_left=notice.legal_days_left,
            url=notice.url,
            institution=institution,
        )
    return RenderedMail(f"[{institution}] {subject}", body)
