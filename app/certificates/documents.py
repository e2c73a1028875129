"""What each kind of document is: read from the procedure that declares it (``workflows``: its template, its
title, the data it certifies as printed). No kind is known here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import workflows
from app.certificates.formatting import FORMATTERS
from app.certificates.seal import normalise
from workflows.procedure import Document, Row

__all__ = ["Document", "Row", "display", "public_rows", "spec"]


def spec(kind: str) -> Document:
    """The declaration of ``kind``; raises ``KeyError`` when no installed procedure issues it."""
    return workflows.document(kind)


def display(document: Document, fields: Mapping[str, Any]) -> dict[str, str]:
    """The document's printed fields as printed (dates in words, money with currency, areas with units; text
    exactly as the cadena holds it)."""
    shown: dict[str, str] = {}
    for row in document.rows:
        value = fields.get(row.field)
        shown[row.field] = normalise(value) if row.format == "text" else FORMATTERS[row.format](value)
    return shown


def public_rows(document: Document, fields: Mapping[str, Any]) -> list[dict[str, str]]:
    """Label/value pairs of the certified data, as printed on the document."""
    shown = display(document, fields)
    return [{"label": row.label, "value": shown[row.field]} for row in document.rows]
