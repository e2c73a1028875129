"""The guarantor's sample of published obligations cannot be steered by the audited body: the seed of each
quarter is committed (only its SHA-256 logged) when the quarter opens, before any record exists, is no
setting and is read by nothing before the draw; the draw after the deadline reveals it, anyone recomputes
the draw from the log alone, late and missing records are drawn, records published after the draw are
drawn with the same seed, and a seed that does not match its commitment stops the draw. Both databases."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from fractions import Fraction

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from app.audit import verify
from app.calendar import LOCAL_TZ
from app.engine import InvalidData, NotAllowed
from app.extensions import db
from app.models import AuditEntry, Case, Role, WorkflowConfig
from app.procedures.obligation_publication.models import ObligationPublication, PublicationSample, PublicationSeed
from app.procedures.obligation_publication.services import (
    commit_seed,
    decide,
    draw_sample,
    draw_supplementary,
    open_quarter,
    public_sampling,
    save_record,
    submit_record,
)
from app.services.auth import decrypt, encrypt
from app.services.config import current_params
from app.services.users import ensure_department
from tests.support.factories import make_user
from workflows.base import seed_matches

ROW = {"capitulo": "1000 Servicios personales", "aprobado": "1500000.00", "ejercido": "350000", "hipervinculo": ""}
CONTRACT = {
    "numero_contrato": "OP-2026-014",
    "objeto": "Repavimentación de la calle Juárez",
    "fecha_firma": "2026-02-11",
    "monto": "2450000.00",
    "contratista": "Pavimentos del Bajío, S.A. de C.V.",
}
DEADLINE = date(2026, 4, 30)
"""The first quarter of 2026 is due on 30 April (a Thursday, a business day)."""


@dataclass(frozen=True)
class Staff:
    finance_area: int
    works_area: int
    urban_area: int
    unit: int
    guarantor: int
    admin: int


@pytest.fixture
def staff(app: Flask) -> Staff:
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    return Staff(
        finance_area=make_user((Role.AREA, "finanzas")),
        works_area=make_user((Role.AREA, "obras_publicas")),
        urban_area=make_user((Role.AREA, "desarrollo_urbano")),
        unit=make_user(Role.TRANSPARENCY_UNIT),
        guarantor=make_user(Role.GUARANTOR),
        admin=make_user(Role.ADMIN),
    )


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL_TZ)


def case_of(code: str, year: int = 2026, quarter: int = 1) -> Case:
    db.session.rollback()
    stmt = (
        select(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(
            ObligationPublication.format_code == code,
            ObligationPublication.year == year,
            ObligationPublication.quarter == quarter,
        )
    )
    return db.session.scalars(stmt).one()


def publish(code: str, area: int, unit: int, rows: list[dict[str, str]]) -> Case:
    case = case_of(code)
    note = "" if rows else "Sin licencias emitidas en el trimestre"
    result = save_record(case.id, area, rows=rows, note=note, expected_version=case.version)
    result = submit_record(case.id, area, expected_version=result.version)
    result = decide(
        case.id, "validate", unit, expected_version=result.version, idempotency_key=uuid.uuid4().hex, comment=None
    )
    decide(case.id, "publish", unit, expected_version=result.version, idempotency_key=uuid.uuid4().hex, comment=None)
    return case_of(code)


def the_seed(year: int = 2026, quarter: int = 1) -> str:
    row = db.session.scalars(
        select(PublicationSeed).where(PublicationSeed.year == year, PublicationSeed.quarter == quarter)
    ).one()
    seed = decrypt(row.seed_encrypted)
    assert seed is not None
    return seed


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_the_seed_is_committed_before_the_records_exist_and_the_audited_body_cannot_read_it(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    (commitment,) = entries("publication_seed_committed")
    opened = entries("open")
    assert len(opened) == 3
    assert all(commitment.seq < entry.seq for entry in opened)  # committed before any record of the quarter
    assert commitment.actor_role == "system"
    assert commitment.details["for"] == "guarantor"
    assert commitment.details["published_records"] == 0
    seed = the_seed()
    assert len(seed) == 64  # 256 random bits
    assert commitment.details["digest"] == hashlib.sha256(seed.encode()).hexdigest()
    # only the digest: the seed is in no entry of the log, no setting, no case, no service's answer
    every_entry = db.session.scalars(select(AuditEntry)).all()
    assert all(seed not in json.dumps(entry.details, ensure_ascii=False) for entry in every_entry)
    assert "sample_seed" not in current_params("obligation_publication")
    assert all(seed not in json.dumps(value) for value in current_params("obligation_publication").values())
    config = db.session.get(WorkflowConfig, "obligation_publication")
    assert config is None or seed not in json.dumps(config.params)
    for case in db.session.scalars(select(Case)).all():
        assert seed not in json.dumps(case.params)
        assert seed not in json.dumps(case.data)
    (shown,) = public_sampling(2026)
    assert shown.digest == commitment.details["digest"]
    assert shown.seed is None
    assert shown.reveal_seq is None
    assert seed not in repr(shown)
    # opening again commits nothing new: one commitment per quarter, never replaced
    open_quarter(2026, 1, today=date(2026, 4, 2))
    assert len(entries("publication_seed_committed")) == 1
    with pytest.raises(InvalidData):
        commit_seed(2026, 1, staff.guarantor)
    assert the_seed() == seed


def test_the_draw_waits_for_the_deadline_and_only_the_guarantor_draws(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    with pytest.raises(InvalidData, match="después del plazo"):
        draw_sample(2026, 1, staff.guarantor, today=DEADLINE)
    for actor in (staff.unit, staff.finance_area, staff.admin):
        with pytest.raises(NotAllowed):
            draw_sample(2026, 1, actor, today=date(2026, 5, 4))
        with pytest.raises(NotAllowed):
            commit_seed(2026, 2, actor)
    assert entries("publication_seed_revealed") == []
    assert public_sampling(2026)[0].seed is None


def test_the_guarantor_commits_ahead_and_opening_keeps_that_commitment(staff: Staff) -> None:
    seq = commit_seed(2026, 2, staff.guarantor)
    (commitment,) = entries("publication_seed_committed")
    assert (commitment.seq, commitment.actor_id, commitment.actor_role) == (seq, staff.guarantor, "guarantor")
    open_quarter(2026, 2, today=date(2026, 7, 1))
    assert len(entries("publication_seed_committed")) == 1
    assert seed_matches(the_seed(2026, 2), commitment.details["digest"])


def test_the_reveal_verifies_and_anyone_recomputes_the_draw_from_the_log_alone(staff: Staff) -> None:
    from app.services.config import update_config

    update_config("obligation_publication", {"sample_rate": "0.5"}, staff.admin)
    open_quarter(2026, 1, today=date(2026, 4, 1))
    with time_machine.travel(at_noon(date(2026, 4, 15)), tick=False):
        publish("presupuesto", staff.finance_area, staff.unit, [ROW])
        publish("contratos", staff.works_area, staff.unit, [CONTRACT])
    report = draw_sample(2026, 1, staff.guarantor, today=date(2026, 5, 4))

    # what an auditor reads: the commitment, the reveal and the draw entries (nothing else of the server)
    (commitment,) = entries("publication_seed_committed")
    (reveal,) = entries("publication_seed_revealed")
    (drawn,) = entries("publication_sample_drawn")
    assert commitment.seq < reveal.seq < drawn.seq
    assert reveal.details["commit_seq"] == commitment.seq
    seed = reveal.details["seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment.details["digest"]
    assert drawn.details["reveal_seq"] == reveal.seq
    rate = Fraction(drawn.details["rate"])
    opened = {entry.folio: entry.seq for entry in entries("open")}
    assert {item["folio"] for item in drawn.details["draws"]} == set(opened)  # every record of the quarter
    for item in drawn.details["draws"]:
        assert item["seq"] == opened[item["folio"]]  # the entry that opened the record, fixed before the draw
        mac = hmac.new(seed.encode(), f"{item['folio']}|{item['seq']}".encode(), hashlib.sha256).hexdigest()
        assert item["digest"] == mac[:16]
        assert item["selected"] == (Fraction(int(mac[:16], 16), 2**64) < rate)
        assert report.draws[item["folio"]]["selected"] == item["selected"]
    (shown,) = public_sampling(2026)
    assert shown.seed == seed
    assert shown.reveal_seq == reveal.seq
    assert [d.audit_seq for d in shown.draws] == [drawn.seq]
    assert verify(db.session()).ok


def test_late_and_missing_records_are_drawn_and_those_published_after_the_draw_too(staff: Staff) -> None:
    from app.services.config import update_config

    update_config("obligation_publication", {"sample_rate": "1"}, staff.admin)
    open_quarter(2026, 1, today=date(2026, 4, 1))
    with time_machine.travel(at_noon(date(2026, 4, 15)), tick=False):
        on_time = publish("presupuesto", staff.finance_area, staff.unit, [ROW])
    with time_machine.travel(at_noon(date(2026, 5, 2)), tick=False):  # after the deadline, before the draw
        late = publish("contratos", staff.works_area, staff.unit, [CONTRACT])
    missing = case_of("licencias_construccion")
    with time_machine.travel(at_noon(date(2026, 5, 4)), tick=False):
        report = draw_sample(2026, 1, staff.guarantor)
    assert report.draws[on_time.folio]["status"] == "published"
    assert not report.draws[on_time.folio]["late"]
    assert report.draws[late.folio]["status"] == "published"
    assert report.draws[late.folio]["late"]
    assert report.draws[missing.folio]["status"] == "missing"
    assert report.missing == [missing.folio]  # selected while not published: a finding
    assert case_of("presupuesto").state == "under_verification"
    assert case_of("contratos").state == "under_verification"  # late, but drawn like the others
    first = db.session.scalars(select(PublicationSample)).one()
    assert (first.round, first.population, first.selected, first.missing, first.late) == (0, 3, 3, 1, 2)

    with time_machine.travel(at_noon(date(2026, 5, 11)), tick=False):  # the missing record is published late
        publish("licencias_construccion", staff.urban_area, staff.unit, [])
    assert case_of("licencias_construccion").state == "under_verification"  # drawn at once, same seed
    rounds = db.session.scalars(select(PublicationSample).order_by(PublicationSample.round)).all()
    assert [(s.round, s.population, s.selected, s.late) for s in rounds] == [(0, 3, 3, 2), (1, 1, 1, 1)]
    supplementary = entries("publication_sample_drawn")[-1]
    assert supplementary.actor_role == "system"
    (item,) = supplementary.details["draws"]
    assert item["folio"] == missing.folio
    assert item["status"] == "published"
    assert item["late"]
    assert item["digest"] == report.draws[missing.folio]["digest"]  # the number it had in the draw
    assert len(entries("publication_seed_revealed")) == 1  # the seed is revealed once, reused after
    assert draw_supplementary(2026, 1, staff.guarantor) is None  # nothing new to draw
    assert verify(db.session()).ok


def test_a_tampered_seed_fails_verification_and_stops_the_draw(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    digest = entries("publication_seed_committed")[0].details["digest"]
    assert seed_matches(the_seed(), digest)
    assert not seed_matches(the_seed()[:-1] + ("0" if the_seed()[-1] != "0" else "1"), digest)
    row = db.session.scalars(select(PublicationSeed)).one()
    original = row.seed_encrypted
    row.seed_encrypted = encrypt("una-semilla-elegida-despues")  # someone with the server's key swaps it
    db.session.commit()
    with pytest.raises(InvalidData, match="no corresponde a su compromiso"):
        draw_sample(2026, 1, staff.guarantor, today=date(2026, 5, 4))
    assert entries("publication_seed_revealed") == []
    assert db.session.scalars(select(PublicationSample)).all() == []
    row = db.session.scalars(select(PublicationSeed)).one()
    row.seed_encrypted = original
    db.session.commit()
    draw_sample(2026, 1, staff.guarantor, today=date(2026, 5, 4))
    # a revealed seed changed afterwards no longer matches either: no supplementary draw with it
    row = db.session.scalars(select(PublicationSeed)).one()
    row.revealed_seed = "otra-semilla"
    db.session.commit()
    with time_machine.travel(at_noon(date(2026, 5, 11)), tick=False):
        publish("presupuesto", staff.finance_area, staff.unit, [ROW])
        with pytest.raises(InvalidData, match="no corresponde a su compromiso"):
            draw_supplementary(2026, 1, staff.guarantor)
