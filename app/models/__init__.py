"""Typed SQLAlchemy 2 models, one module per aggregate."""

from app.models import access, clocks, personal_data  # noqa: F401 - registers the access-request, clock and data-protection request tables
from app.models.assignment import AssignmentExclusion, CaseEscalation, EscalationKind, ExclusionKind
from app.models.audit import AuditCheckpoint, AuditEntry, AuditHead, AuditKind, AuditTreeNode
from app.models.base import utcnow
from app.models.cases import Case, FolioCounter, IdempotencyRecord, WorkflowConfig
from app.models.certificates import Certificate, CertificateStatus
from app.models.documents import Document
from app.models.publications import ObligationPublication, PublicationSample
from app.models.scheduling import NonWorkingDay, OutboxMessage, OutboxStatus, Timer, TimerKind, TimerStatus
from app.models.security import (
    EmailConfirmation,
    PasswordResetToken,
    RecoveryCode,
    SecurityEvent,
    SecurityEventKind,
    TotpCredential,
    UserSession,
)
from app.models.users import STAFF_ROLES, Department, Locale, Role, User, UserRole

__all__ = [
    "STAFF_ROLES",
    "AssignmentExclusion",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "AuditKind",
    "AuditTreeNode",
    "Case",
    "CaseEscalation",
    "Certificate",
    "CertificateStatus",
    "Department",
    "Document",
    "EmailConfirmation",
    "EscalationKind",
    "ExclusionKind",
    "FolioCounter",
    "IdempotencyRecord",
    "Locale",
    "NonWorkingDay",
    "ObligationPublication",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordResetToken",
    "PublicationSample",
    "RecoveryCode",
    "Role",
    "SecurityEvent",
    "SecurityEventKind",
    "Timer",
    "TimerKind",
    "TimerStatus",
    "TotpCredential",
    "User",
    "UserRole",
    "UserSession",
    "WorkflowConfig",
    "utcnow",
]
