"""Use cases. Each public function is one unit of work that owns its transaction."""

from app.engine.errors import (
    ConflictError,
    DomainError,
    GuardRefused,
    IllegalTrigger,
    InvalidData,
    Msg,
    NotAllowed,
    NotFound,
    UnknownTrigger,
)

__all__ = [
    "ConflictError",
    "DomainError",
    "GuardRefused",
    "IllegalTrigger",
    "InvalidData",
    "Msg",
    "NotAllowed",
    "NotFound",
    "UnknownTrigger",
]
