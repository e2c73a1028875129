"""The installed procedures: declarative workflows and what the product needs to serve them (standard library
only). This module holds the one list of installed procedures; everything generic reads :data:`REGISTRY`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workflows import access_request, business_licence, cdmx_tipo_b, obligation_publication, vecs
from workflows.base import Workflow
from workflows.procedure import Document, Procedure, Registry

PROCEDURES: tuple[Procedure, ...] = (
    vecs.PROCEDURE,
    cdmx_tipo_b.PROCEDURE,
    access_request.PROCEDURE,
    obligation_publication.PROCEDURE,
    business_licence.PROCEDURE,
)
"""The one list of installed procedures. Adding a procedure means adding its declaration here."""

REGISTRY = Registry(PROCEDURES)
"""The installed procedures by name."""

DEFINITIONS: tuple[Workflow, ...] = REGISTRY.definitions()
"""Every (workflow, version) of the shipped procedures; the engine builds a machine for each of
``REGISTRY.definitions()`` (the same, plus any procedure installed before the application starts)."""

ELIGIBILITY: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]] = {
    p.name: p.eligibility for p in REGISTRY.with_eligibility() if p.eligibility is not None
}
"""The shipped procedures checked before anything is filed (see ``Procedure.eligibility``)."""


def latest(name: str) -> Workflow:
    """The newest version of workflow ``name``; raises ``KeyError`` if there is none."""
    return REGISTRY.get(name).latest


def procedure(name: str) -> Procedure:
    """The installed procedure ``name``; raises ``KeyError`` if there is none."""
    return REGISTRY.get(name)


def document(kind: str) -> Document:
    """The declared document ``kind`` (whichever installed procedure issues it); raises ``KeyError`` if none does.

    Reads :data:`REGISTRY` at each call, so that a registry replaced as a whole (tests) is seen everywhere."""
    return REGISTRY.document(kind)
