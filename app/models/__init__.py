"""Typed SQLAlchemy 2 models, one module per aggregate."""

from app.models.audit import AuditCheckpoint, AuditEntry, AuditHead, AuditKind, AuditTreeNode
from app.models.base import utcnow
from app.models.cases import Case, FolioCounter, IdempotencyRecord, WorkflowConfig
from app.models.certificates import Certificate, CertificateKind, CertificateStatus
from app.models.documents import Document
from app.models.scheduling import NonWorkingDay, OutboxMessage, OutboxStatus, Timer, TimerKind, TimerStatus
from app.models.users import STAFF_ROLES, Department, Locale, Role, User, UserRole

__all__ = [
    "STAFF_ROLES",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "AuditKind",
    "AuditTreeNode",
    "Case",
    "Certificate",
    "CertificateKind",
    "CertificateStatus",
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
