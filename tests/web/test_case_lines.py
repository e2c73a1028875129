"""The case page's history and documents lines built in Python (``app.web.cases.lines``) give the markup the
template wrote for them (kept below as the reference), in both languages, with hostile values escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from app.engine import Msg, get_engine
from app.services.case_pages import DocumentVersion, RequirementRow, TimelineItem
from app.web.cases.lines import document_lines, history_lines
from app.web.urls import url_for

HOSTILE = "<script>alert('x')</script> & \"comillas\""

HISTORY_REFERENCE = """{% for item in items %}
    <li>
      <time datetime="{{ item.at.isoformat() }}">{{ item.at|datetimeformat('medium') }}</time>
      <strong>{{ message_text(item.description) }}</strong>
      <span class="muted">— {{ item.actor_name or _('Sistema') }} ({{ actor_text(item.actor_role, none, {}) }})</span>
      {% if item.from_state and item.from_state != item.to_state %}<br><span class="muted">{{ state_text(workflow, item.from_state) }} → {{ state_text(workflow, item.to_state) }}</span>{% endif %}
      {% if item.comment %}<blockquote>{{ item.comment }}</blockquote>{% endif %}
      {% if item.draw %}<br><span class="muted">{{ _('Sorteo: número %(number)s contra %(rate)s; %(result)s.', number=item.draw.number, rate=item.draw.rate, result=(_('seleccionada') if item.draw.selected else _('no seleccionada'))) }}</span>{% endif %}
      {% if item.certificate %}<br><span class="muted">{{ _('Documento emitido %(number)s, SHA-256 %(sha)s…', number=item.certificate.number, sha=item.certificate.sha256[:16]) }}</span>{% endif %}
    </li>
{% endfor %}"""  # noqa: E501 - the template's own lines
"""The history's loop as ``cases/show.html`` had it."""

DOCUMENTS_REFERENCE = """{% for row in rows %}
      <tr>
        <td>{{ row.label }}</td>
        {% if row.current %}
          <td><a href="{{ url_for('cases.view_document', case_id=case_id, document_id=row.current.id) }}" download>{{ row.current.original_name }}</a> <span class="muted">({{ (row.current.size_bytes / 1024)|round(1) }} KB)</span>
            {% if row.history %}
            <details><summary>{{ ngettext('%(num)s versión anterior', '%(num)s versiones anteriores', row.history|length) }}</summary>
              <ul>{% for old in row.history %}<li><a href="{{ url_for('cases.view_document', case_id=case_id, document_id=old.id) }}" download>{{ old.original_name }}</a> · {{ old.uploaded_at|datetimeformat('short') }} · <code title="{{ old.sha256 }}">{{ old.sha256[:12] }}…</code></li>{% endfor %}</ul>
            </details>
            {% endif %}
          </td>
          <td><code title="{{ row.current.sha256 }}">{{ row.current.sha256[:16] }}…</code></td>
          <td>{{ row.current.uploaded_at|datetimeformat('short') }}</td>
        {% else %}
          <td colspan="3" class="missing">{{ _('Falta') }}</td>
        {% endif %}
      </tr>
{% endfor %}"""  # noqa: E501 - the template's own lines
"""The documents' loop as ``cases/show.html`` had it."""


def _tight(markup: str) -> str:
    """Markup without the whitespace between tags and with runs of spaces as one (the browser's reading)."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", markup)).strip()


def _items() -> list[TimelineItem]:
    at = datetime(2026, 3, 9, 17, 45, 12, tzinfo=UTC)
    return [
        TimelineItem(1, at, "open", Msg("Solicitud creada"), HOSTILE, "applicant", None, None, "draft", None, None),
        TimelineItem(
            2,
            at,
            "submit",
            Msg("Documento adjuntado: %(kind)s", {"kind": HOSTILE}),
            None,
            "system",
            HOSTILE,
            "draft",
            "registered",
            {"number": 4821, "rate": "0.25", "selected": True},
            {"number": "VECS-2026-000001", "sha256": "ab" * 32},
        ),
        TimelineItem(
            3, at, "note", Msg("Solicitud creada"), "Ana", "reviewer", "", "registered", "registered", None, None
        ),
        TimelineItem(
            4,
            at,
            "draw",
            Msg("Solicitud creada"),
            "Ana",
            "unknown-role",
            None,
            "registered",
            "in_force",
            {},
            {"number": 7, "sha256": "9f" * 32},
        ),
        TimelineItem(
            5, at, "lapse", Msg("Solicitud creada"), None, "system", None, None, None, {"selected": False}, None
        ),
    ]


def _rows() -> list[RequirementRow]:
    at = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    current = DocumentVersion(31, "plans", HOSTILE, 123_456, "cd" * 32, at, True)
    older = (
        DocumentVersion(30, "plans", "plano v2.pdf", 1000, "ef" * 32, at, False),
        DocumentVersion(29, "plans", "plano <v1>.pdf", 0, "01" * 32, at, False),
    )
    return [
        RequirementRow("plans", HOSTILE, current, older),
        RequirementRow("deed", "Escritura", DocumentVersion(32, "deed", "e.pdf", 2048, "23" * 32, at, True), ()),
        RequirementRow("permit", "Licencia & permiso", None, ()),
    ]


@pytest.mark.parametrize("locale", ["es_MX", "en"])
def test_the_lines_are_the_template_s_markup(app: Flask, locale: str) -> None:
    workflow = get_engine().latest("vecs")
    with app.test_request_context("/"), force_locale(locale):
        items, rows = _items(), _rows()
        history = "".join(history_lines(workflow, items))
        expected_history = render_template_string(HISTORY_REFERENCE, items=items, workflow=workflow)
        assert _tight(history) == _tight(expected_history)

        def link(document_id: int) -> str:
            return url_for("cases.view_document", case_id=7, document_id=document_id)

        documents = "".join(document_lines(rows, link))
        assert _tight(documents) == _tight(render_template_string(DOCUMENTS_REFERENCE, rows=rows, case_id=7))
    assert HOSTILE not in history
    assert HOSTILE not in documents
    assert "&lt;script&gt;" in history
    assert "&lt;script&gt;" in documents
