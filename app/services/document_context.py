"""What a procedure's documents need from the procedure's own tables, gathered as plain data.

A document's builder (declared in ``workflows``) is pure: it reads a plain mapping. Most documents need only
the case's data; those that also need rows of the procedure's own tables (a committee session, the areas an
access request was turned to) name in their declaration (``Document.gatherer``) the module that registers,
for their kind, the function gathering that data. Generic code calls :func:`gather` without knowing which
procedure it serves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.models import Case
from workflows.procedure import Document

Gatherer = Callable[[Session, Case], Mapping[str, Any]]
"""Reads what a document needs from the procedure's tables; returns plain data (strings, numbers, lists,
dicts). May raise ``LookupError`` when the case is not ready for the document."""

_GATHERERS: dict[str, Gatherer] = {}


def register(kind: str, gatherer: Gatherer) -> None:
    """Make ``gatherer`` provide the ``gathered`` data of ``kind`` documents (called by the procedure's own
    service module when it is imported). Registering a kind twice with another function is an error."""
    known = _GATHERERS.get(kind)
    if known is not None and known is not gatherer:
        raise ValueError(f"document kind {kind!r} already has a gatherer")
    _GATHERERS[kind] = gatherer


def gather(session: Session, case: Case, document: Document) -> Mapping[str, Any]:
    """The data ``document`` gathers for ``case`` from its procedure's tables (empty when it declares no
    gatherer). Imports the declared module the first time, so that it registers its functions.

    Raises ``LookupError`` when the declared module registers nothing for the kind.
    """
    if document.gatherer is None:
        return {}
    gatherer = _GATHERERS.get(document.kind)
    if gatherer is None:
        importlib.import_module(document.gatherer)
        gatherer = _GATHERERS.get(document.kind)
    if gatherer is None:
        raise LookupError(f"{document.gatherer} registers no gatherer for document kind {document.kind!r}")
    return gatherer(session, case)
