"""The demo data the procedures declare, under the names the tests use."""

from __future__ import annotations

from typing import Any

from workflows import REGISTRY
from workflows.construction import DEMO_DATA, DEMO_DOCUMENTS
from workflows.procedure import Demo


def _settings(name: str) -> dict[str, Any]:
    demo = REGISTRY.get(name).demo
    return dict(demo.settings) if isinstance(demo, Demo) else {}


VECS_DATA: dict[str, Any] = dict(DEMO_DATA)
VECS_DOCUMENTS: tuple[str, ...] = DEMO_DOCUMENTS
VECS_SETTINGS: dict[str, Any] = _settings("vecs")
TIPO_B_SETTINGS: dict[str, Any] = _settings("cdmx_tipo_b")
