"""Typed SQLAlchemy 2 models, one module per aggregate."""

from app.models.audit import AuditEntry, AuditHead, AuditKind
from app.models.base import utcnow
from app.models.cases import Case, FolioCounter, IdempotencyRecord, WorkflowConfig
from app.models.documents import Document
from app.models.scheduling import NonWorkingDay, OutboxMessage, OutboxStatus, Timer, TimerKind, TimerStatus
from app.models.users import STAFF_ROLES, Department, Locale, Role, User, UserRole

__all__ = [
    "STAFF_ROLES",
    "AuditEntry",
    "AuditHead",
    "AuditKind",
    "Case",
    "Department",
    "Document",
    "FolioCounter",
    "IdempotencyRecord",
    "Locale",
    "NonWorkingDay",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "Timer",
    "TimerKind",
    "TimerStatus",
    "User",
    "UserRole",
    "WorkflowConfig",
    "utcnow",
]
