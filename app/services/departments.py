"""Departments: administrative units an administrator manages, checked against what the installed procedures need.

Each installed procedure declares the departments it needs (:attr:`workflows.procedure.Procedure.departments`)
and its settings name more (the department each office maps to, a format's responsible department…). A
department that is needed and missing is reported by :func:`missing_departments` (the ``flask departments
check`` command, the administrators' page); an unknown code is refused wherever it comes in, never dropped.
Every change is written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import exists, false, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import EntryInput
from app.database import constant
from app.engine import InvalidData, Msg, NotAllowed, NotFound
from app.extensions import Base, db
from app.models import AuditKind, Case, Department, Role, User, UserRole
from app.services.config import effective_params
from app.services.uow import unit_of_work
from workflows import REGISTRY
from workflows.base import N_, in_language

CODE = re.compile(r"\A[a-z0-9][a-z0-9_]{0,63}\Z")
"""A department code: lowercase letters, digits and underscores (what settings and role grants name)."""

MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class DepartmentInfo:
    """A department as the administrators' list shows it: who and what refer to it."""

    code: str
    name: str
    grants: int
    cases: int
    """The cases waiting for the department's staff (not those resting at its stage, such as licensed works)."""
    needed_by: tuple[str, ...] = ()
    """The installed procedures that declare it or whose settings name it."""
    named_by_cases: bool = False
    """Some case names it (waiting, counted in ``cases``, or resting)."""
    name_en: str = ""
    """Its name in English (empty: none given; English readers read ``name``)."""

    @property
    def in_use(self) -> bool:
        """Whether deleting it would leave something pointing nowhere."""
        return bool(self.grants or self.named_by_cases or self.needed_by)


@dataclass(frozen=True, slots=True)
class MissingDepartment:
    """A department an installed procedure needs and that does not exist.

    ``source`` says why it is needed: ``declared`` (the procedure declares it, ``name`` is its declared
    name) or ``settings`` (the procedure's current settings name it)."""

    procedure: str
    code: str
    source: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class EnsureResult:
    """The declared departments :func:`ensure_declared_departments` created (code, name)."""

    created: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _require_admin(session: Session, actor_id: int | None) -> None:
    """``None`` is the operator at the console (``flask departments …``); otherwise an active administrator."""
    if actor_id is None:
        return
    user = session.get(User, actor_id)
    if user is None or not user.active or not user.has_role(Role.ADMIN):
        raise NotAllowed(Msg("Solo la administración puede cambiar las áreas."))


def _locked(session: Session, code: str, *, renaming: bool = False) -> Department | None:
    """The department ``code`` read again and locked until the transaction ends (on PostgreSQL; SQLite's write
    transactions already run one at a time), so that two administrators acting on it at once act one after the
    other: the second sees what the first did (a deletion, a new name), and the log records only what happened.
    A rename takes the weaker lock that lets grants and cases go on naming the department meanwhile."""
    stmt = select(Department).where(Department.code == code).with_for_update(key_share=renaming)
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidData(Msg("Escriba el nombre del área."))
    if len(cleaned) > MAX_NAME:
        raise InvalidData(Msg("El nombre del área admite hasta %(max)s caracteres.", {"max": str(MAX_NAME)}))
    if not cleaned.isprintable():
        raise InvalidData(Msg("El nombre del área no admite caracteres de control."))
    return cleaned


def _clean_english(name: str | None) -> str | None:
    """The English name checked like the Spanish one; ``None`` when blank (the department has none)."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_NAME:
        raise InvalidData(Msg("El nombre del área en inglés admite hasta %(max)s caracteres.", {"max": str(MAX_NAME)}))
    if not cleaned.isprintable():
        raise InvalidData(Msg("El nombre del área no admite caracteres de control."))
    return cleaned


def _log(session: Session, action: str, actor_id: int | None, details: dict[str, object]) -> None:
    audit.append(
        session,
        EntryInput(
            kind=AuditKind.ADMIN,
            action=action,
            actor_id=actor_id,
            actor_role=Role.ADMIN.value if actor_id is not None else "system",
            details=details,
        ),
    )


def _needed_by(session: Session) -> dict[str, list[str]]:
    """For each department code the installed procedures need (declared or named by their current settings),
    the procedures that need it."""
    needed: dict[str, list[str]] = {}
    for procedure in REGISTRY:
        params = effective_params(session, procedure.latest)
        codes = [*(d.code for d in procedure.departments), *procedure.settings_department_codes(params)]
        for code in dict.fromkeys(codes):
            needed.setdefault(code, []).append(procedure.name)
    return needed


def department_names(codes: Iterable[str], language: str) -> dict[str, str]:
    """The names of the departments ``codes`` as a reader of ``language`` reads them (code → name, in English
    where the language is English and the department has an English name; a code with no department is left
    out): what people read, never the code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    named = select(Department.code, Department.name, Department.name_en).where(Department.code.in_(wanted))
    return {code: in_language(name, name_en, language) for code, name, name_en in db.session.execute(named)}


def all_department_names(language: str) -> dict[str, str]:
    """The name of every department by its code, as a reader of ``language`` reads it (see
    :func:`department_names`)."""
    named = select(Department.code, Department.name, Department.name_en)
    return {code: in_language(name, name_en, language) for code, name, name_en in db.session.execute(named)}


def list_departments() -> list[DepartmentInfo]:
    """Every department by name, with how many role grants and cases refer to it and which installed
    procedures need it."""
    session = db.session()
    grants = dict(
        session.execute(
            select(UserRole.department_code, func.count())
            .where(UserRole.department_code.is_not(None))
            .group_by(UserRole.department_code)
        ).all()
    )
    waiting = dict(
        session.execute(
            select(Case.department_code, func.count())
            .where(Case.department_code.is_not(None), Case.resting == false())
            .group_by(Case.department_code)
        ).all()
    )
    needed = _needed_by(session)
    departments = list(session.scalars(select(Department).order_by(Department.name, Department.code)))
    named = _named_by_cases(session, [d.code for d in departments if not waiting.get(d.code)])
    return [
        DepartmentInfo(
            d.code,
            d.name,
            grants.get(d.code, 0),
            waiting.get(d.code, 0),
            tuple(needed.get(d.code, ())),
            named_by_cases=bool(waiting.get(d.code)) or d.code in named,
            name_en=d.name_en or "",
        )
        for d in departments
    ]


def _named_by_cases(session: Session, codes: list[str]) -> set[str]:
    """The departments among ``codes`` that some case names (resting ones too: a licensed work keeps its licence
    office), each found by one index look-up instead of counting every case that ever named it. The codes are
    written into the statement (:func:`constant`): a plan kept for any code would expect a case of a department
    among the first read, and read every case for a department that no case names."""
    if not codes:
        return set()
    found = union_all(
        *(
            select(literal(code).label("code")).where(exists().where(Case.department_code == constant(code)))
            for code in codes
        )
    )
    return set(session.scalars(select(found.subquery().c.code)))


def unknown_codes(session: Session, codes: Iterable[str]) -> list[str]:
    """The codes among ``codes`` that name no department (in the order given, without repeats)."""
    wanted = list(dict.fromkeys(str(code) for code in codes if code))
    if not wanted:
        return []
    known = set(session.scalars(select(Department.code).where(Department.code.in_(wanted))))
    return [code for code in wanted if code not in known]


def create_department(code: str, name: str, actor_id: int | None, *, name_en: str | None = None) -> None:
    """Create the department ``code`` named ``name`` (and ``name_en`` in English, when given); logged.
    ``actor_id`` ``None``: the console operator.

    Raises ``InvalidData`` (a malformed or taken code, an empty, over-long or unprintable name) and
    ``NotAllowed``."""
    code = (code or "").strip()
    if not CODE.match(code):
        raise InvalidData(
            Msg(
                "El código del área debe tener solo minúsculas, dígitos y guiones bajos (p. ej. %(example)s).",
                {"example": "desarrollo_urbano"},
            )
        )
    cleaned = _clean_name(name)
    english = _clean_english(name_en)
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        taken = InvalidData(Msg("Ya existe un área con el código «%(code)s».", {"code": code}))
        if session.get(Department, code) is not None:
            raise taken
        try:
            with session.begin_nested():  # an administrator creating the same code at once wins; this one is told
                session.add(Department(code=code, name=cleaned, name_en=english))
        except IntegrityError:
            if _locked(session, code) is None:
                raise
            raise taken from None
        details: dict[str, object] = {"code": code, "name": cleaned}
        if english is not None:
            details["name_en"] = english
        _log(session, "department_created", actor_id, details)


def rename_department(code: str, name: str, actor_id: int | None, *, name_en: str | None = None) -> bool:
    """Give the department ``code`` the name ``name`` and, unless ``name_en`` is ``None`` (the English name
    stays as it is), the English name ``name_en`` (blank: none). Its code, which settings and grants name,
    stays. Logged with the old and new names. Returns whether a name changed.

    Raises ``NotFound``, ``InvalidData`` (an empty, over-long or unprintable name) and ``NotAllowed``."""
    cleaned = _clean_name(name)
    english = _clean_english(name_en) if name_en is not None else None
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        department = _locked(session, code, renaming=True)
        if department is None:
            raise NotFound(Msg("El área «%(code)s» no existe.", {"code": code}))
        details: dict[str, object] = {"code": code}
        if department.name != cleaned:
            details.update({"from": department.name, "to": cleaned})
            department.name = cleaned
        if name_en is not None and department.name_en != english:
            details.update({"from_en": department.name_en, "to_en": english})
            department.name_en = english
        if len(details) == 1:
            return False
        session.flush()
        _log(session, "department_renamed", actor_id, details)
        return True


IN_USE: dict[str, str] = {
    "user_roles": N_("%(count)s asignaciones de rol a personas la nombran."),
    "cases": N_("%(count)s expedientes la nombran."),
    "area_turns": N_("%(count)s turnos de solicitudes de acceso la nombran."),
    "case_escalations": N_("%(count)s avisos de escalamiento la nombran."),
}
"""Why a department cannot be deleted, by the table whose rows name it (others: :data:`IN_USE_OTHER`)."""

IN_USE_OTHER = N_("%(count)s registros de la tabla %(table)s la nombran.")


def _references(session: Session, code: str) -> list[Msg]:
    """What names the department ``code``: every table with a foreign key to it, counted."""
    reasons: list[Msg] = []
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name != Department.__tablename__:
                continue
            total = session.scalar(select(func.count()).select_from(table).where(key.parent == code)) or 0
            if total:
                msgid = IN_USE.get(table.name, IN_USE_OTHER)
                reasons.append(Msg(msgid, {"count": str(total), "table": table.name}))
    return reasons


def delete_department(code: str, actor_id: int | None) -> None:
    """Delete the department ``code``, only when nothing refers to it; logged.

    Raises ``NotFound``, ``NotAllowed`` and ``InvalidData`` with every reason it is still in use (role
    grants, cases, access-request turns, escalations, installed procedures that need it) as its reasons."""
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        department = _locked(session, code)
        if department is None:
            raise NotFound(Msg("El área «%(code)s» no existe.", {"code": code}))
        reasons = _references(session, code)
        needed = _needed_by(session).get(code, [])
        if needed:
            reasons.append(
                Msg(
                    "La necesitan estos trámites: %(procedures)s.",
                    {"procedures": ", ".join(needed)},
                )
            )
        if reasons:
            raise InvalidData(
                Msg("El área «%(code)s» está en uso y no se puede eliminar.", {"code": code}), tuple(reasons)
            )
        name = department.name
        try:
            with session.begin_nested():  # a grant or a case naming it, committed since the count: still in use
                session.delete(department)
        except IntegrityError:
            raise InvalidData(
                Msg("El área «%(code)s» está en uso y no se puede eliminar.", {"code": code}),
                tuple(_references(session, code)),
            ) from None
        _log(session, "department_deleted", actor_id, {"code": code, "name": name})


def missing_departments() -> list[MissingDepartment]:
    """Every department an installed procedure declares and that does not exist, and every department
    code a procedure's current settings name that does not exist (by procedure, in declaration order)."""
    session = db.session()
    existing = set(session.scalars(select(Department.code)))
    missing: list[MissingDepartment] = []
    for procedure in REGISTRY:
        reported: set[str] = set()
        for declared in procedure.departments:
            if declared.code not in existing:
                missing.append(MissingDepartment(procedure.name, declared.code, "declared", declared.name))
                reported.add(declared.code)
        for code in procedure.settings_department_codes(effective_params(session, procedure.latest)):
            if code not in existing and code not in reported:
                missing.append(MissingDepartment(procedure.name, code, "settings"))
    return missing


def ensure_declared_departments(actor_id: int | None) -> EnsureResult:
    """Create, with their declared names, the departments the installed procedures declare and that do not
    exist yet (existing ones keep their names); each creation is logged. Raises ``NotAllowed``."""
    created: list[tuple[str, str]] = []
    with unit_of_work() as session:
        _require_admin(session, actor_id)
        existing = set(session.scalars(select(Department.code)))
        for procedure in REGISTRY:
            for declared in procedure.departments:
                if declared.code in existing:
                    continue
                english = declared.name_en or None
                session.add(Department(code=declared.code, name=declared.name, name_en=english))
                session.flush()
                details: dict[str, object] = {"code": declared.code, "name": declared.name}
                if english is not None:
                    details["name_en"] = english
                _log(session, "department_created", actor_id, details)
                existing.add(declared.code)
                created.append((declared.code, declared.name))
    return EnsureResult(tuple(created))
