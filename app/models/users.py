"""Users, the roles they hold and the departments reviewers belong to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.base import UTCDateTime, str_enum, utcnow

PASSWORDLESS = "!requester-without-account"
"""The password hash of an account that has no password (a requester who filed without registering): nothing
verifies against it, and a confirmed registration may take the row over."""


class Role(StrEnum):
    """What a user may do. A user may hold several roles (a reviewer may also be an inspector)."""

    APPLICANT = "applicant"
    INTAKE_CLERK = "intake_clerk"
    REVIEWER = "reviewer"
    INSPECTOR = "inspector"
    TRANSPARENCY_UNIT = "transparency_unit"
    AREA = "area"
    COMMITTEE_MEMBER = "committee_member"
    GUARANTOR = "guarantor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    TREASURY = "treasury"


STAFF_ROLES = frozenset(Role) - {Role.APPLICANT}
"""Roles held by public servants (the anti-bribery and second-factor rules apply to them)."""


class Locale(StrEnum):
    """Languages the interface speaks."""

    ES_MX = "es_MX"
    EN = "en"


class Department(Base):
    """An administrative unit: urban development, civil protection, finance, an area holding information…"""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    """The name in English, when the administrator gave one (English readers read it; others the name)."""


class User(Base):
    """A person who logs in. Passwords are stored only as argon2id hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[Locale] = mapped_column(str_enum(Locale, 8), default=Locale.ES_MX)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When someone proved they read the address (a confirmation link); ``None``: never proven."""

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.id"
    )

    @property
    def has_password(self) -> bool:
        """Whether the account has a password at all: requesters filing without an account and cancelled
        accounts hold a marker starting with ``!`` that no password matches and no reset may replace."""
        return not self.password_hash.startswith("!")

    def has_role(self, role: Role) -> bool:
        """Whether the user holds ``role`` (in any department)."""
        return any(r.role == role for r in self.roles)

    @property
    def role_names(self) -> frozenset[str]:
        """The names of the roles the user holds."""
        return frozenset(r.role.value for r in self.roles)

    def departments(self, role: Role) -> frozenset[str]:
        """The departments in which the user holds ``role``."""
        return frozenset(r.department_code for r in self.roles if r.role == role and r.department_code)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        """Deactivated users cannot log in."""
        return self.active

    @property
    def is_authenticated(self) -> bool:
        """Every stored user is an authenticated principal once loaded by the login manager."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Stored users are never anonymous."""
        return False

    def get_id(self) -> str:
        """The identifier Flask-Login keeps in the session."""
        return str(self.id)


class UserRole(Base):
    """A role held by a user, in a department where the role is departmental (reviewers, areas)."""

    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "department_code", name="uq_user_roles_grant"),
        Index("ix_user_roles_role_department", "role", "department_code"),  # a role's holders (assignment …)
        # The departments page counts each department's grants: the departmental grants only (staff), not every
        # applicant's.
        Index(
            "ix_user_roles_department",
            "department_code",
            postgresql_where=text("department_code IS NOT NULL"),
            sqlite_where=text("department_code IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # found by the unique key
    role: Mapped[Role] = mapped_column(str_enum(Role))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))

    user: Mapped[User] = relationship(back_populates="roles")


class RowCount(Base):
    """How many rows a table holds, kept by the database's own triggers on every insert and delete (migration
    ``b6f2d9e4a317``), for tables that grow with the citizens and whose size a page shows: counting them would
    read them whole on every view. ``users`` is the only one today."""

    __tablename__ = "row_counts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
