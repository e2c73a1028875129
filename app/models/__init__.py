"""Typed SQLAlchemy 2 models, one module per aggregate. The tables of an installed procedure's own (the
``models`` module of a package listed in its declaration's ``owns``, such as ``app/procedures/<name>``) are
registered from the registry, for the application and for Alembic's autogenerate, so adding a procedure edits
nothing here."""

import importlib
from pathlib import Path

from app.models import clocks, personal_data  # noqa: F401 - registers the clock and data-protection request tables
from app.models.assignment import AssignmentExclusion, CaseEscalation, EscalationKind, ExclusionKind
from app.models.audit import AuditCheckpoint, AuditEntry, AuditHead, AuditKind, AuditTreeNode
from app.models.base import utcnow
from app.models.cases import Case, FolioCounter, IdempotencyRecord, WorkflowConfig, WorkflowConfigChange
from app.models.certificates import Certificate, CertificateStatus
from app.models.documents import Document
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
from app.models.seeds import DrawSeed
from app.models.users import STAFF_ROLES, Department, Locale, Role, RowCount, User, UserRole

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
    "DrawSeed",
    "EmailConfirmation",
    "EscalationKind",
    "ExclusionKind",
    "FolioCounter",
    "IdempotencyRecord",
    "Locale",
    "NonWorkingDay",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordResetToken",
    "RecoveryCode",
    "Role",
    "RowCount",
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
    "WorkflowConfigChange",
    "utcnow",
]


def _register_procedure_tables() -> None:
    """Import the tables of every installed procedure's own places: a module under ``app/models/`` listed in
    ``owns``, or the ``models`` module of a package listed there."""
    from workflows import REGISTRY

    root = Path(__file__).resolve().parents[2]
    for procedure in REGISTRY:
        for place in procedure.owns:
            module = place.removesuffix(".py").replace("/", ".")
            if place.startswith("app/models/") and place.endswith(".py"):
                importlib.import_module(module)
            elif (root / place / "models.py").is_file():
                importlib.import_module(module + ".models")


_register_procedure_tables()
