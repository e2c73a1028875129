"""Workflow definitions shipped with the product: declarative data and pure rules (standard library only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workflows import cdmx_tipo_b, vecs
from workflows.access_request import ACCESS_V1
from workflows.base import Workflow
from workflows.cdmx_tipo_b import TIPO_B_V1
from workflows.obligation_publication import PUBLICATION_V1
from workflows.vecs import VECS_V1

DEFINITIONS: tuple[Workflow, ...] = (VECS_V1, TIPO_B_V1, ACCESS_V1, PUBLICATION_V1)
"""Every (workflow, version) the engine builds a machine for; cases in flight finish on theirs."""

ELIGIBILITY: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]] = {
    VECS_V1.name: vecs.eligibility_reasons,
    TIPO_B_V1.name: cdmx_tipo_b.eligibility_reasons,
}
"""Workflows checked before anything is filed: every reason a request does not qualify (the same rules as
their ``eligible`` guard, which reports the first of them)."""


def latest(name: str) -> Workflow:
    """The newest version of workflow ``name``; raises ``KeyError`` if there is none."""
    versions = [w for w in DEFINITIONS if w.name == name]
    if not versions:
        raise KeyError(name)
    return max(versions, key=lambda w: w.version)
