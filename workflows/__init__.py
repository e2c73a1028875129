"""Workflow definitions shipped with the product: declarative data and pure rules (standard library only)."""

from __future__ import annotations

from workflows.base import Workflow
from workflows.vecs import VECS_V1

DEFINITIONS: tuple[Workflow, ...] = (VECS_V1,)
"""Every (workflow, version) the engine builds a machine for; cases in flight finish on theirs."""


def latest(name: str) -> Workflow:
    """The newest version of workflow ``name``; raises ``KeyError`` if there is none."""
    versions = [w for w in DEFINITIONS if w.name == name]
    if not versions:
        raise KeyError(name)
    return max(versions, key=lambda w: w.version)
