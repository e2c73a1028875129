"""The work queue's lines as the page shows them, built in Python rather than by the template per row.

A queue shows tens of cases, and each line used to cost the template a dozen calls (the state's label and the
workflow's title through the engine, a URL, texts, dates, plurals). Here what depends only on the language
and the case's (workflow, version, state) is kept per process (:func:`~app.web.translation.kept_for_locale`),
the links come from one URL builder per page, and the legal term's cell is assembled from the same marked-up
texts the template's ``_()`` and ``ngettext()`` give. The lines are then written as one piece of markup
(:data:`LINE` each, the case's own values, its folio and link, escaped here): a template outputs each of its
expressions through an escape and a ``Markup``, and each piece of a loop's body passes up through every block
and template that encloses it, which cost the queue over a hundred function calls per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial

from markupsafe import Markup, escape

from app.services.cases import describe
from app.services.deadlines import ClockView
from app.services.listing import ListedCase
from app.services.queues import DUE_SOON_BUSINESS_DAYS, QueueRow
from app.templating import TEXT_ESCAPES
from app.web.translation import format_date, gettext, kept_pieces, locale_memo, plural_markup, text_markup
from app.web.urls import id_url

DASH = Markup("—")
"""What an empty cell shows."""

LINE = (
    '<tr class="{css}"><td><a href="{url}">{folio}</a>{mine}</td><td>{workflow}</td><td>{state}</td>'
    '<td class="legal-term">{legal}</td><td>{term_day}</td><td>{term_left}</td></tr>'
)
"""The markup of one line of the queue (``str.format``: the fields are markup already, or escaped text)."""


def _labels(case: ListedCase) -> tuple[Markup, Markup]:
    """The translated, escaped title of the case's workflow and label of its state (as the template escaped
    them)."""
    described = describe(case)
    return escape(gettext(described.workflow_title)), escape(gettext(described.state_description))


def _long_day(day: date) -> Markup:
    return escape(format_date(day, "long"))


def _mine_tag() -> Markup:
    return Markup(' <span class="tag">%s</span>') % text_markup("Asignado a mí")


def _overdue() -> Markup:
    return Markup("<strong>%s</strong>") % text_markup("Vencido")


def _days(num: int | None) -> Markup:
    return plural_markup("%(num)s día hábil", "%(num)s días hábiles", num)  # type: ignore[arg-type] # as the template passed it


def _legal(legal: ClockView) -> Markup:
    if legal.overdue:
        return _overdue()
    if legal.paused:
        days = _days(legal.days_remaining)
        return text_markup("Suspendido") + Markup(" · ") + days
    if legal.due_on:
        days = _days(legal.business_days_left)
        return escape(format_date(legal.due_on, "long")) + Markup(" · ") + days
    return DASH


def shown_lines(rows: Sequence[QueueRow], viewer_id: int) -> Markup:
    """The queue's lines for ``rows`` (``<tr>`` each, :data:`LINE`), as seen by the user ``viewer_id`` in the
    request's language, as one piece of markup. The cells built from texts, days and counts only are kept per
    language (the same few recur on every line: each is looked up, and made only when missing); the case's link
    and folio are escaped here."""
    url = id_url("cases.show", "case_id")
    kept = locale_memo()
    pieces = kept_pieces()
    overdue = kept(("queue", "overdue"), _overdue)
    mine_tag = kept(("queue", "mine"), _mine_tag)
    lines = []
    term_left: str
    for row in rows:
        case, term, legal = row.case, row.term, row.legal
        key: tuple[object, ...] = ("queue", "labels", case.workflow, case.workflow_version, case.state)
        described = pieces.get(key) or kept(key, partial(_labels, case))
        if term is None:
            term_day = term_left = DASH
            css = ""
        else:
            key = ("queue", "day", term.due_on)
            term_day = pieces.get(key) or kept(key, partial(_long_day, term.due_on))
            if term.overdue:
                term_left, css = overdue, "overdue"
            else:
                term_left = str(term.business_days_left)  # a number: nothing to escape
                css = "due-soon" if term.business_days_left <= DUE_SOON_BUSINESS_DAYS else ""
        if legal is None:
            legal_cell = DASH
        else:
            key = ("queue", "legal", legal)  # the term itself: equal terms show the same cell
            legal_cell = pieces.get(key) or kept(key, partial(_legal, legal))
        lines.append(
            LINE.format(
                css=css,
                url=url(case.id).translate(TEXT_ESCAPES),
                folio=case.folio.translate(TEXT_ESCAPES),
                mine=mine_tag if case.assignee_id == viewer_id else "",
                workflow=described[0],
                state=described[1],
                legal=legal_cell,
                term_day=term_day,
                term_left=term_left,
            )
        )
    return Markup("\n".join(lines))  # noqa: S704 - every field of every line is markup or escaped just here
