"""The case page's lists that grow with the case (its history, its documents), each line built in Python as one
piece of markup, like the work queue's (:mod:`app.web.queue.rows`).

A template outputs each expression through an escape and a ``Markup`` and resolves each attribute through
Jinja's look-up, and every piece of a loop's body passes up through the blocks that enclose it: a history line
cost the case page about a hundred and fifty function calls, a document's about as many. Here a line is one
``str.format`` of escaped values and of the program's texts (translated, and kept per language where they
depend on nothing else). The markup is what ``cases/show.html`` wrote for each line, whitespace aside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from markupsafe import Markup, escape

from app.services.case_pages import DocumentVersion, RequirementRow, TimelineItem
from app.templating import TEXT_ESCAPES
from app.web.cases.labels import actor_text, state_text
from app.web.labels import message_text
from app.web.translation import format_datetime, locale_memo, plural_markup, text_markup
from workflows.base import Workflow

HISTORY_LINE = (
    '<li><time datetime="{iso}">{at}</time> <strong>{description}</strong> '
    '<span class="muted">— {actor} ({role})</span>{moved}{comment}{draw}{certificate}</li>'
)
"""One line of the case's history (``str.format``: every field markup or escaped text)."""

MOVED = Markup('<br><span class="muted">{} → {}</span>')
MUTED = Markup('<br><span class="muted">{}</span>')
QUOTED = Markup("<blockquote>{}</blockquote>")

DOCUMENT_LINE = (
    '<tr><td>{label}</td><td><a href="{url}" download>{name}</a> <span class="muted">({size} KB)</span>{older}'
    '</td><td><code title="{sha256}">{sha256_start}…</code></td><td>{uploaded}</td></tr>'
)
"""One requirement of the documents' table with its current file (``str.format``, as :data:`HISTORY_LINE`)."""

MISSING_LINE = Markup('<tr><td>{}</td><td colspan="3" class="missing">{}</td></tr>')
"""A requirement without a file."""

OLDER_LINE = '<li><a href="{url}" download>{name}</a> · {uploaded} · <code title="{sha256}">{sha256_start}…</code></li>'
"""A replaced version of a requirement's file."""


def _role_text(role: str) -> Markup:
    return escape(actor_text(role, None, {}))


def _draw_text(draw: dict[str, Any]) -> Markup:
    result = text_markup("seleccionada") if draw.get("selected") else text_markup("no seleccionada")
    return text_markup(
        "Sorteo: número %(number)s contra %(rate)s; %(result)s.",
        number=draw.get("number", ""),
        rate=draw.get("rate", ""),
        result=result,
    )


def _certificate_text(certificate: dict[str, Any]) -> Markup:
    return text_markup(
        "Documento emitido %(number)s, SHA-256 %(sha)s…",
        number=certificate.get("number", ""),
        sha=str(certificate.get("sha256") or "")[:16],
    )


def history_lines(workflow: Workflow, items: Sequence[TimelineItem]) -> list[Markup]:
    """The lines of the case's history (``<li>``), oldest first, in the request's language."""
    kept = locale_memo()
    system = text_markup("Sistema")
    lines = []
    for item in items:
        role = item.actor_role
        moved = ""
        if item.from_state and item.from_state != item.to_state:
            moved = MOVED.format(state_text(workflow, item.from_state), state_text(workflow, item.to_state))
        lines.append(
            Markup(  # noqa: S704 - every field is markup or escaped just here
                HISTORY_LINE.format(
                    iso=item.at.isoformat().translate(TEXT_ESCAPES),
                    at=format_datetime(item.at, "medium").translate(TEXT_ESCAPES),
                    description=message_text(item.description).translate(TEXT_ESCAPES),
                    actor=item.actor_name.translate(TEXT_ESCAPES) if item.actor_name else system,
                    role=kept(("history", "role", role), partial(_role_text, role)),
                    moved=moved,
                    comment=QUOTED.format(item.comment) if item.comment else "",
                    draw=MUTED.format(_draw_text(item.draw)) if item.draw else "",
                    certificate=MUTED.format(_certificate_text(item.certificate)) if item.certificate else "",
                )
            )
        )
    return lines


def _older(versions: Sequence[DocumentVersion], url: Callable[[int], str]) -> Markup:
    summary = plural_markup("%(num)s versión anterior", "%(num)s versiones anteriores", len(versions))
    listed = "".join(
        OLDER_LINE.format(
            url=url(old.id).translate(TEXT_ESCAPES),
            name=old.original_name.translate(TEXT_ESCAPES),
            uploaded=format_datetime(old.uploaded_at, "short").translate(TEXT_ESCAPES),
            sha256=old.sha256.translate(TEXT_ESCAPES),
            sha256_start=old.sha256[:12].translate(TEXT_ESCAPES),
        )
        for old in versions
    )
    return Markup("<details><summary>{}</summary><ul>{}</ul></details>").format(
        summary,
        Markup(listed),  # noqa: S704 - built just above from escaped values
    )


def document_lines(rows: Sequence[RequirementRow], url: Callable[[int], str]) -> list[Markup]:
    """The lines of the documents' table (``<tr>``): each requirement with its current file (its link from
    ``url(document id)``) and the versions it replaced, or marked missing."""
    missing = text_markup("Falta")
    lines = []
    for row in rows:
        current = row.current
        if current is None:
            lines.append(MISSING_LINE.format(row.label, missing))
            continue
        lines.append(
            Markup(  # noqa: S704 - every field is markup or escaped just here
                DOCUMENT_LINE.format(
                    label=row.label.translate(TEXT_ESCAPES),
                    url=url(current.id).translate(TEXT_ESCAPES),
                    name=current.original_name.translate(TEXT_ESCAPES),
                    size=round(current.size_bytes / 1024, 1),  # a number: nothing to escape
                    older=_older(row.history, url) if row.history else "",
                    sha256=current.sha256.translate(TEXT_ESCAPES),
                    sha256_start=current.sha256[:16].translate(TEXT_ESCAPES),
                    uploaded=format_datetime(current.uploaded_at, "short").translate(TEXT_ESCAPES),
                )
            )
        )
    return lines
