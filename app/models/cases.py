"""Cases moving through workflows, their folio counters and idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.base import UTCDateTime, utcnow
from app.models.users import User


class Case(Base):
    """One case (a construction request, an information request…) in one workflow version.

    ``params`` is the copy of the jurisdiction's settings in force when the case was opened: later
    changes apply to new cases only.

    ``version`` is the optimistic-locking counter: every UPDATE is ``… WHERE id=? AND version=?``, so two
    people acting on the same case at once cannot both win. ``state`` is validated by the engine
    against the case's workflow definition; ``data`` holds the validated fields of the case.
    """

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("workflow_version >= 1", name="workflow_version_positive"),
        Index("ix_cases_workflow_state", "workflow", "state"),
        # The assignment's open-case count per reviewer reads this small index only (open cases that wait for
        # staff: not the licensed works resting for years).
        Index(
            "ix_cases_open_assignee",
            "assignee_id",
            postgresql_where=text("closed_at IS NULL AND NOT resting"),
            sqlite_where=text("closed_at IS NULL AND resting = 0"),
        ),
        # The departments page counts the cases each department holds: the cases at a department's stage only
        # (a closed case has none), not every case.
        Index(
            "ix_cases_department",
            "department_code",
            postgresql_where=text("department_code IS NOT NULL"),
            sqlite_where=text("department_code IS NOT NULL"),
        ),
        # The departments page counts, and the assignment overview lists, the cases waiting for a department's
        # staff: not the resting ones (licensed works, for years), which the index above still finds.
        Index(  # led by the flag: SQLite (no statistics) takes it for the equality on it over the index above
            "ix_cases_department_waiting",
            "resting",
            "department_code",
            postgresql_where=text("department_code IS NOT NULL AND NOT resting"),
            sqlite_where=text("department_code IS NOT NULL AND resting = 0"),
        ),
        # The treasury's list reads the few cases that owe a fee after the authority's silence granted them,
        # not every case resting where such a fee could still be confirmed (every licensed work).
        Index(  # led by the flag: SQLite takes it for two equalities over the (workflow, state) index's one
            "ix_cases_payment_owed",
            "payment_owed",
            "workflow",
            postgresql_where=text("payment_owed"),
            sqlite_where=text("payment_owed = 1"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    folio: Mapped[str] = mapped_column(String(40), unique=True)
    workflow: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[int]
    state: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resting: Mapped[bool] = mapped_column(default=False, server_default=false())
    """The case rests in a state where no public servant has a step it waits for (a licensed work waiting on its
    owner's completion notice, for years; a prevención): kept by every transition. It weighs on nobody's load in
    the reviewers' draws, which choose among the least loaded."""
    payment_owed: Mapped[bool] = mapped_column(default=False, server_default=false())
    """The case rests in a state its procedure's ``Payment.late_trigger`` leaves (granted by the authority's
    silence before its order was paid) and its data record no payment: kept by every transition. The treasury's
    list reads these cases and shows those with a current payment order (a case granted before any assessment
    has none)."""

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id], lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared


class WorkflowConfig(Base):
    """A jurisdiction's settings for a workflow (fees, terms, catalogues…) that override the definition's
    defaults. Each case keeps a copy of the settings in force when it was opened."""

    __tablename__ = "workflow_configs"

    workflow: Mapped[str] = mapped_column(String(64), primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkflowConfigChange(Base):
    """The values one settings change set, kept outside the audit log: the log entry holds only their keyed
    digests and this row's id, so that text an administrator typed (a fee concept, a requirement's label) can be
    corrected or erased without breaking the log's verification."""

    __tablename__ = "workflow_config_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int]
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Each changed key → ``{"from": old, "to": new}`` (draw seeds as commitments only)."""
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FolioCounter(Base):
    """The last folio number handed out per prefix and year (gapless, allocated inside the transaction)."""

    __tablename__ = "folio_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class IdempotencyRecord(Base):
    """The first result of a request carrying an idempotency key; repeats get this result back."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int]
    state: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
