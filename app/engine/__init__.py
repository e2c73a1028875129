"""The workflow engine: one state machine per (workflow, version), role and guard checks, state changes."""

from app.engine.core import (
    Actor,
    AvailableTrigger,
    CaseView,
    Engine,
    Outcome,
    field_label,
    get_engine,
)
from app.engine.errors import (
    ConflictError,
    DomainError,
    GuardRefused,
    IllegalTrigger,
    InvalidData,
    Msg,
    NotAllowed,
    NotFound,
    StorageUnavailable,
    UnknownTrigger,
)

__all__ = [
    "Actor",
    "AvailableTrigger",
    "CaseView",
    "ConflictError",
    "DomainError",
    "Engine",
    "GuardRefused",
    "IllegalTrigger",
    "InvalidData",
    "Msg",
    "NotAllowed",
    "NotFound",
    "Outcome",
    "StorageUnavailable",
    "UnknownTrigger",
    "field_label",
    "get_engine",
]
