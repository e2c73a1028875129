"""Admin-typed free text stays out of hashed entries: a declared non-working day's description and gazette
reference live in their rows (correctable, erasable), the entry holds references and keyed digests."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select, text

from app.audit import verify
from app.audit.canonical import canonical_entry, keyed_digest
from app.extensions import db
from app.models import AuditEntry, NonWorkingDay, Role
from app.services.deadlines import declare_non_working_days
from tests.support.factories import make_user

DESCRIPTION = "Suspensión por la contingencia de la colonia Roma; contacto: Lic. Pérez, 55 1234 5678"
GAZETTE = "Gaceta Oficial 123/2027, acuerdo de la Lic. María Pérez"


def _declared_entry() -> AuditEntry:
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "non_working_days_declared").order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    return entry


def test_declared_day_texts_stay_out_of_the_hashed_entry(app: Flask):
    admin = make_user(Role.ADMIN)
    declare_non_working_days(date(2027, 3, 15), date(2027, 3, 16), DESCRIPTION, GAZETTE, admin)
    db.session.rollback()
    entry = _declared_entry()
    hashed = canonical_entry(entry).decode()
    for fragment in ("Pérez", "Roma", "Gaceta", "Suspensión", "55 1234"):
        assert fragment not in hashed
    rows = list(db.session.scalars(select(NonWorkingDay).order_by(NonWorkingDay.day)))
    assert entry.details["day_ids"] == [row.id for row in rows]
    assert entry.details["days"] == ["2027-03-15", "2027-03-16"]
    assert entry.details["digest_scheme"] == 2
    # The institution, with its deployment key, can still prove what text was declared.
    assert entry.details["description_digest"] == keyed_digest({"description": DESCRIPTION})
    assert entry.details["gazette_reference_digest"] == keyed_digest({"gazette_reference": GAZETTE})
    assert {row.description for row in rows} == {DESCRIPTION}


def test_erasing_the_text_keeps_the_log_verifiable(app: Flask):
    admin = make_user(Role.ADMIN)
    declare_non_working_days(date(2027, 3, 15), None, DESCRIPTION, GAZETTE, admin)
    db.session.rollback()
    with db.engine.begin() as conn:  # an operator honouring a rectification or cancellation request
        conn.execute(text("UPDATE non_working_days SET description = 'Suspensión de labores', gazette_reference = '-'"))
    result = verify(db.session())
    db.session.rollback()
    assert result.ok, result.problems
    assert _declared_entry().details["description_digest"] != keyed_digest({"description": "Suspensión de labores"})


FEE_CONCEPT = "Derecho especial acordado con el C. Juan Pérez López, CURP PELJ800101HDFRPN09"


def test_settings_values_stay_out_of_the_hashed_entry_and_can_be_erased(app: Flask):
    from app.models import WorkflowConfigChange
    from app.services.config import update_config

    admin = make_user(Role.ADMIN)
    table = [{"concept": FEE_CONCEPT, "unit": "fixed", "rate": "100.00", "legal_basis": "Ley de Ingresos, art. 1"}]
    update_config("vecs", {"fee_table": table, "prevention_answer_days": 12}, admin)
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).one()
    hashed = canonical_entry(entry).decode()
    for fragment in ("Pérez", "PELJ", "Ley de Ingresos", '"12"', "100.00"):
        assert fragment not in hashed
    change = db.session.get(WorkflowConfigChange, entry.details["change_id"])
    assert change is not None
    assert change.changes["fee_table"]["to"][0]["concept"] == FEE_CONCEPT
    assert entry.details["changes"]["prevention_answer_days"]["to_digest"] == keyed_digest(
        {"key": "prevention_answer_days", "value": 12}
    )
    with db.engine.begin() as conn:  # the text is corrected in its row; the log still verifies
        conn.execute(text("UPDATE workflow_config_changes SET changes = '{}'"))
    result = verify(db.session())
    db.session.rollback()
    assert result.ok, result.problems
