"""Transparency-obligation publications through the services on both databases: opening a quarter
(idempotent, also when two servers race), drafting, returning, validating and publishing, field errors,
the permits-issued record generated from real VECS licences, the recorded sampling draw, findings with
their term and its lapse, and wrong actors."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from app.audit import verify
from app.calendar import LOCAL_TZ, local_today
from app.engine import GuardRefused, IllegalTrigger, InvalidData, NotAllowed, NotFound
from app.extensions import db
from app.keys import init_development_keys
from app.models import (
    AuditEntry,
    Case,
    Certificate,
    Role,
    Timer,
    TimerKind,
    TimerStatus,
    User,
)
from app.procedures.obligation_publication.models import ObligationPublication, PublicationSample
from app.procedures.obligation_publication.services import (
    SYSTEM_EMAIL,
    attach_file,
    decide,
    draw_sample,
    open_data_columns,
    open_data_csv,
    open_data_json,
    open_quarter,
    public_formats,
    publication_cases,
    publication_detail,
    published_attachment,
    record_attachment,
    refresh_licence_rows,
    save_record,
    submit_record,
)
from app.services.cases import FireResult, fire
from app.services.config import update_config
from app.services.deadlines import pending_terms
from app.services.demo import demo_pdf
from app.services.timers import fire_due_timers
from app.services.users import ensure_department
from tests.support.concurrency import race
from tests.support.factories import advance, make_user, vecs_case
from workflows.base import InvalidSetting, draw
from workflows.obligation_publication import DEFAULT_FORMATS, LICENCE_FIELDS, parse_formats, quarter_period

ROW = {"capitulo": "1000 Servicios personales", "aprobado": "1500000.00", "ejercido": "350000", "hipervinculo": ""}
AFTER_Q1_DEADLINE = date(2026, 5, 4)
"""The first business day after the first quarter's publication deadline (2026-04-30, a Thursday)."""

CONTRACT = {
    "numero_contrato": "OP-2026-014",
    "objeto": "Repavimentación de la calle Juárez",
    "fecha_firma": "2026-02-11",
    "monto": "2450000.00",
    "contratista": "Pavimentos del Bajío, S.A. de C.V.",
}


@dataclass(frozen=True)
class Staff:
    finance_area: int
    works_area: int
    urban_area: int
    unit: int
    guarantor: int
    admin: int
    applicant: int


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
        applicant=make_user(Role.APPLICANT),
    )


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


def key() -> str:
    return uuid.uuid4().hex


def publish_budget(staff: Staff, rows: list[dict[str, str]] | None = None, quarter: int = 1) -> Case:
    case = case_of("presupuesto", quarter=quarter)
    result = save_record(case.id, staff.finance_area, rows=rows or [ROW], note="", expected_version=case.version)
    result = submit_record(case.id, staff.finance_area, expected_version=result.version)
    result = decide(
        case.id, "validate", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None
    )
    decide(case.id, "publish", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None)
    return case_of("presupuesto", quarter=quarter)


# -- opening -----------------------------------------------------------------------------------------


def test_open_quarter_opens_one_case_per_format_once(staff: Staff) -> None:
    report = open_quarter(2026, 1, today=date(2026, 4, 1))
    assert len(report.opened) == 3
    assert report.existing == 0
    assert report.due_on == date(2026, 4, 30)
    again = open_quarter(2026, 1, today=date(2026, 4, 2))
    assert again.opened == ()
    assert again.existing == 3
    db.session.rollback()
    assert db.session.scalars(select(func.count()).select_from(ObligationPublication)).one() == 3
    budget = case_of("presupuesto")
    assert budget.state == "drafting"
    assert budget.department_code == "finanzas"
    assert budget.data["due_on"] == "2026-04-30"
    assert budget.params["departments"]["area"] == "finanzas"
    system = db.session.get(User, budget.applicant_id)
    assert system is not None
    assert system.email == SYSTEM_EMAIL
    assert not system.active
    assert not system.roles
    target = db.session.scalars(select(Timer).where(Timer.case_id == budget.id)).one()
    assert target.kind == TimerKind.TARGET
    assert target.due_on == date(2026, 4, 30)
    assert not target.business
    assert verify(db.session()).ok
    rows = publication_cases(2026, 1)
    assert sorted(r.format_code for r in rows) == ["contratos", "licencias_construccion", "presupuesto"]


def test_a_due_date_on_a_non_working_day_shows_the_next_business_day(staff: Staff) -> None:
    # the calendar's 30 October 2027 is a Saturday: the last day is Monday 1 November 2027
    open_quarter(2027, 3, today=date(2027, 10, 1))
    rows = publication_cases(2027, 3)
    assert {row.due_on for row in rows} == {date(2027, 11, 1)}
    assert publication_detail(rows[0].case_id).due_on == date(2027, 11, 1)
    assert publication_detail(rows[0].case_id).period.due_on == date(2027, 10, 30)  # as the calendar says
    # the first quarter of 2026 is due on Thursday 30 April: unchanged
    open_quarter(2026, 1, today=date(2026, 4, 1))
    assert {row.due_on for row in publication_cases(2026, 1)} == {date(2026, 4, 30)}


def test_open_quarter_refuses_a_bad_period(staff: Staff) -> None:
    for year, quarter in ((2026, 5), (2026, 0), (1999, 1), (2026, True)):
        with pytest.raises(InvalidData):
            open_quarter(year, quarter)  # type: ignore[arg-type]


def test_concurrent_opening_does_not_duplicate(app: Flask, staff: Staff) -> None:
    results = race(app, [lambda: open_quarter(2026, 2, today=date(2026, 7, 1)) for _ in range(3)])
    errors = [r for r in results if isinstance(r, BaseException)]
    # A server that lost the race either skipped the formats or was told to try again; none duplicated.
    assert all(type(e).__name__ == "ConflictError" for e in errors), errors
    assert sum(len(r.opened) for r in results if not isinstance(r, BaseException)) == 3
    db.session.rollback()
    assert db.session.scalars(select(func.count()).select_from(ObligationPublication)).one() == 3
    assert db.session.scalars(select(func.count()).select_from(User).where(User.email == SYSTEM_EMAIL)).one() == 1
    assert verify(db.session()).ok
    assert open_quarter(2026, 2).existing == 3


# -- drafting, validation, publication ----------------------------------------------------------------


def test_returned_once_then_published_with_dates(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    case = case_of("presupuesto")
    with pytest.raises(InvalidData) as bad:
        save_record(
            case.id,
            staff.finance_area,
            rows=[{**ROW, "aprobado": "mucho", "hipervinculo": "no es url"}],
            note="",
            expected_version=case.version,
        )
    texts = [str(r) for r in bad.value.reasons]
    assert "Renglón 1: «Presupuesto aprobado» debe ser un número." in texts
    assert "Renglón 1: «Hipervínculo al informe» debe ser una dirección http(s) completa." in texts
    assert case_of("presupuesto").version == case.version  # nothing stored

    saved = save_record(
        case.id, staff.finance_area, rows=[{**ROW, "ejercido": ""}], note="", expected_version=case.version
    )
    with pytest.raises(InvalidData) as incomplete:
        submit_record(case.id, staff.finance_area, expected_version=saved.version)
    assert [str(r) for r in incomplete.value.reasons] == ["Renglón 1: falta «Presupuesto ejercido»."]
    assert case_of("presupuesto").data["rows"] == [{**ROW, "ejercido": ""}]  # the draft is kept

    saved = save_record(case.id, staff.finance_area, rows=[ROW], note="", expected_version=saved.version)
    sent = submit_record(case.id, staff.finance_area, expected_version=saved.version)
    assert sent.to_state == "submitted"
    with pytest.raises(GuardRefused):  # observations are mandatory
        decide(case.id, "return_record", staff.unit, expected_version=sent.version, idempotency_key=key(), comment="")
    returned = decide(
        case.id,
        "return_record",
        staff.unit,
        expected_version=sent.version,
        idempotency_key=key(),
        comment="El ejercido no coincide con la cuenta pública.",
    )
    assert returned.to_state == "returned"
    assert public_formats("presupuesto")[0].records == []  # nothing public yet

    fixed = save_record(
        case.id, staff.finance_area, rows=[{**ROW, "ejercido": "351000"}], note="", expected_version=returned.version
    )
    sent = submit_record(case.id, staff.finance_area, expected_version=fixed.version)
    valid = decide(case.id, "validate", staff.unit, expected_version=sent.version, idempotency_key=key(), comment=None)
    assert valid.to_state == "validated"
    published = decide(
        case.id, "publish", staff.unit, expected_version=valid.version, idempotency_key=key(), comment=None
    )
    assert published.to_state == "published"
    record = public_formats("presupuesto")[0].records[0]
    assert record.rows == [{**ROW, "ejercido": "351000"}]
    assert record.year == 2026
    assert record.quarter == 1
    assert record.updated_on is not None
    assert record.validated_on is not None
    assert record.published_on is not None
    assert record.updated_on <= record.validated_on <= record.published_on
    # the due-date target stopped when the record left drafting
    db.session.rollback()
    assert not db.session.scalars(
        select(Timer).where(Timer.case_id == case.id, Timer.status == TimerStatus.PENDING)
    ).all()
    assert verify(db.session()).ok


def test_a_period_without_information_is_published_with_a_note(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    case = case_of("contratos")
    saved = save_record(
        case.id,
        staff.works_area,
        rows=[],
        note="En el trimestre no se celebraron contratos.",
        expected_version=case.version,
    )
    sent = submit_record(case.id, staff.works_area, expected_version=saved.version)
    assert sent.to_state == "submitted"


def test_wrong_actors_are_refused(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    case = case_of("presupuesto")
    for actor in (staff.works_area, staff.unit, staff.guarantor, staff.applicant):
        with pytest.raises(NotAllowed):
            save_record(case.id, actor, rows=[ROW], note="", expected_version=case.version)
    saved = save_record(case.id, staff.finance_area, rows=[ROW], note="", expected_version=case.version)
    with pytest.raises(NotAllowed):  # another area cannot submit it
        submit_record(case.id, staff.works_area, expected_version=saved.version)
    with pytest.raises(IllegalTrigger):  # nothing to validate before it is submitted
        decide(case.id, "validate", staff.unit, expected_version=saved.version, idempotency_key=key(), comment=None)
    saved = submit_record(case.id, staff.finance_area, expected_version=saved.version)
    with pytest.raises(NotAllowed):  # the area cannot validate its own record
        decide(
            case.id, "validate", staff.finance_area, expected_version=saved.version, idempotency_key=key(), comment=None
        )
    with pytest.raises(IllegalTrigger):
        decide(case.id, "publish", staff.unit, expected_version=saved.version, idempotency_key=key(), comment=None)
    with pytest.raises(InvalidData):  # not a decision: the sample is drawn, never fired by hand
        decide(case.id, "sample", staff.guarantor, expected_version=saved.version, idempotency_key=key(), comment=None)
    saved = decide(case.id, "validate", staff.unit, expected_version=saved.version, idempotency_key=key(), comment=None)
    saved = decide(case.id, "publish", staff.unit, expected_version=saved.version, idempotency_key=key(), comment=None)
    with pytest.raises(NotAllowed):
        fire(
            case.id, "sample", staff.guarantor, expected_version=saved.version, data={"sample_draw": {"selected": True}}
        )
    with pytest.raises(IllegalTrigger):  # only sampled records are verified
        decide(case.id, "clear", staff.guarantor, expected_version=saved.version, idempotency_key=key(), comment=None)
    for actor in (staff.unit, staff.finance_area, staff.admin):
        with pytest.raises(NotAllowed):
            draw_sample(2026, 1, actor, today=AFTER_Q1_DEADLINE)
    assert case_of("presupuesto").version == saved.version


def test_publishing_something_else_than_the_validated_record_is_refused(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    case = case_of("presupuesto")
    result = save_record(case.id, staff.finance_area, rows=[ROW], note="", expected_version=case.version)
    result = submit_record(case.id, staff.finance_area, expected_version=result.version)
    result = decide(
        case.id, "validate", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None
    )
    forged = {"rows": [{**ROW, "ejercido": "0"}], "note": ""}
    with pytest.raises(GuardRefused):
        fire(case.id, "publish", staff.unit, expected_version=result.version, data={"published_record": forged})
    assert case_of("presupuesto").state == "validated"


# -- permits issued, from real VECS licences ----------------------------------------------------------


@pytest.fixture(scope="module")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("publication-keys")
    init_development_keys(folder, "Municipio de Prueba")
    return folder


def licence_for(owner: int, clerk: int, ruler: int, approver: int) -> FireResult:
    case = vecs_case(owner, data={"property_address": "Calle Morelos 45, Barrio de San Juan"})
    return advance(
        case,
        [
            ("submit", owner, None, None),
            ("start_intake", clerk, None, None),
            ("accept_intake", clerk, None, None),
            ("rule_land_use", ruler, {"land_use_ruling": "Compatible con zonificación H3-C"}, None),
            ("assess_fees", ruler, {"fees": [{"concept": "Licencia de construcción", "amount": "7569.00"}]}, None),
            ("confirm_payment", None, None, None),
            ("approve_licence", approver, {"licence_number": "LC-2026-0042"}, None),
        ],
    )


@contextmanager
def after_the_quarter(year: int, quarter: int) -> Iterator[None]:
    """The clock on the day after the quarter ends (noon in Mexico City): its record may be published."""
    _, last = quarter_period(year, quarter)
    noon = datetime.combine(last + timedelta(days=1), time(12, 0), tzinfo=LOCAL_TZ)
    with time_machine.travel(noon, tick=False):
        yield


def test_permits_issued_record_comes_from_real_licences(app: Flask, staff: Staff, dev_keys: Path) -> None:
    app.config["KEYS_DIR"] = str(dev_keys)
    owner = make_user(Role.APPLICANT, name="María Guadalupe Titular Persona")
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    ruler = make_user((Role.REVIEWER, "desarrollo_urbano"))
    approver = make_user((Role.REVIEWER, "desarrollo_urbano"))
    licensed = licence_for(owner, clerk, ruler, approver)
    assert licensed.to_state == "licensed"
    today = local_today()
    quarter = (today.month - 1) // 3 + 1
    open_quarter(today.year, quarter, today=today)
    case = case_of("licencias_construccion", today.year, quarter)
    with pytest.raises(InvalidData):  # not a generated format
        refresh_licence_rows(case_of("presupuesto", today.year, quarter).id, staff.urban_area, expected_version=1)
    with pytest.raises(NotAllowed):  # another department's area
        refresh_licence_rows(case.id, staff.finance_area, expected_version=case.version)
    result = refresh_licence_rows(case.id, staff.urban_area, expected_version=case.version)
    rows = case_of("licencias_construccion", today.year, quarter).data["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert row["folio"] == licensed.folio
    assert row["numero_licencia"] == "LC-2026-0042"
    assert row["uso"] == "Comercio de abarrotes"
    assert row["superficie_m2"] == "420.50"
    assert row["zona"] == "Barrio de San Juan"
    assert row["fecha_emision"] == today.isoformat()
    # typed rows are ignored for a generated format: nobody copies licences by hand
    result = save_record(
        case.id, staff.urban_area, rows=[{"folio": "INVENTADO"}], note="", expected_version=result.version
    )
    assert case_of("licencias_construccion", today.year, quarter).data["rows"] == rows
    result = submit_record(case.id, staff.urban_area, expected_version=result.version)
    result = decide(
        case.id, "validate", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None
    )
    with pytest.raises(GuardRefused, match="trimestre aún no termina"):
        decide(case.id, "publish", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None)
    with after_the_quarter(today.year, quarter):
        decide(case.id, "publish", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None)
    published = public_formats("licencias_construccion", today.year, quarter)[0].records[0]
    assert published.rows == rows
    assert "Titular" not in repr(published)
    assert "Morelos" not in repr(published)


def test_permits_record_names_the_holder_where_the_setting_requires_it(
    app: Flask, staff: Staff, dev_keys: Path
) -> None:
    app.config["KEYS_DIR"] = str(dev_keys)
    formats = [dict(f) for f in DEFAULT_FORMATS]
    for fmt in formats:
        if fmt["code"] == "licencias_construccion":
            fmt["publish_holder"] = True
    update_config("obligation_publication", {"formats": formats}, staff.admin)
    owner = make_user(Role.APPLICANT, name="María Guadalupe Titular Persona")
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    ruler = make_user((Role.REVIEWER, "desarrollo_urbano"))
    approver = make_user((Role.REVIEWER, "desarrollo_urbano"))
    licensed = licence_for(owner, clerk, ruler, approver)
    issued = db.session.scalars(
        select(Certificate).where(Certificate.case_id == licensed.case_id, Certificate.kind != "payment_order")
    ).one()
    holder = str(issued.public_data["fields"]["titular"])
    assert holder
    today = local_today()
    quarter = (today.month - 1) // 3 + 1
    open_quarter(today.year, quarter, today=today)
    case = case_of("licencias_construccion", today.year, quarter)
    result = refresh_licence_rows(case.id, staff.urban_area, expected_version=case.version)
    rows = case_of("licencias_construccion", today.year, quarter).data["rows"]
    assert [(row["folio"], row["titular"]) for row in rows] == [(licensed.folio, holder)]
    result = submit_record(case.id, staff.urban_area, expected_version=result.version)
    result = decide(
        case.id, "validate", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None
    )
    with after_the_quarter(today.year, quarter):
        decide(case.id, "publish", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None)
    published = public_formats("licencias_construccion", today.year, quarter)[0]
    columns = open_data_columns(published)
    assert columns[-1] == "titular"
    assert len(columns) == len(set(columns))
    table = list(csv.reader(io.StringIO(open_data_csv(published), newline="")))
    line = dict(zip(table[0], table[1], strict=True))
    assert (line["folio"], line["folio_registro"], line["titular"]) == (licensed.folio, case.folio, holder)
    assert line["superficie_m2"] == "420.50"
    document = open_data_json(published)
    assert document["registros"][0]["renglones"][0]["titular"] == holder
    assert document["registros"][0]["renglones"][0]["superficie_m2"] == 420.5


def test_the_holder_setting_is_checked() -> None:
    licences = next(dict(f) for f in DEFAULT_FORMATS if f["code"] == "licencias_construccion")
    assert [f["name"] for f in parse_formats([licences])[0]["fields"]] == [f["name"] for f in LICENCE_FIELDS]
    with_holder = parse_formats([{**licences, "publish_holder": True}])[0]
    assert [f["name"] for f in with_holder["fields"]] == [*(f["name"] for f in LICENCE_FIELDS), "titular"]
    assert parse_formats([with_holder]) == [with_holder]  # parsing what was parsed changes nothing
    without = parse_formats([{**with_holder, "publish_holder": False}])[0]
    assert "titular" not in [f["name"] for f in without["fields"]]
    with pytest.raises(InvalidSetting, match="publish_holder es true o false"):
        parse_formats([{**licences, "publish_holder": "sí"}])
    with pytest.raises(InvalidSetting, match="campos fijos de las licencias emitidas"):
        parse_formats([{**licences, "fields": [*licences["fields"], {"name": "domicilio", "label": "Domicilio"}]}])


BUDGET = next(dict(f) for f in DEFAULT_FORMATS if f["code"] == "presupuesto")


@pytest.mark.parametrize(
    ("formats", "said"),
    [
        ([], "Los formatos son una lista JSON con al menos un formato."),
        (
            ["presupuesto"],
            "Cada formato es un objeto JSON con code, title, legal_basis, department y fields: presupuesto",
        ),
        ([{**BUDGET, "code": "Presupuesto 2026"}], "El código de formato «Presupuesto 2026» falta, no es válido"),
        ([BUDGET, BUDGET], "El código de formato «presupuesto» falta, no es válido o se repite"),
        ([{**BUDGET, "source": "sat"}], "Formato «presupuesto»: el origen «sat» no existe"),
        (
            [{**BUDGET, "title": " "}],
            "Formato «presupuesto»: el título (title) es un texto de 1 a 300 caracteres, sin caracteres de control.",
        ),
        ([{**BUDGET, "title": "Presupuesto\nasignado"}], "Formato «presupuesto»: el título (title) es un texto"),
        ([{**BUDGET, "legal_basis": None}], "Formato «presupuesto»: el fundamento legal (legal_basis)"),
        ([{**BUDGET, "legal_basis": "Art. 70\x00"}], "Formato «presupuesto»: el fundamento legal (legal_basis)"),
        ([{**BUDGET, "department": "ob\tras"}], "Formato «presupuesto»: el área responsable (department)"),
        ([{**BUDGET, "department": "x" * 65}], "Formato «presupuesto»: el área responsable (department)"),
        ([{**BUDGET, "fields": []}], "Formato «presupuesto»: necesita al menos un campo (fields)."),
        (
            [{**BUDGET, "fields": [7]}],
            "Formato «presupuesto»: cada campo es un objeto JSON con name, label, type y required: 7",
        ),
        ([{**BUDGET, "fields": [{"name": "Monto", "label": "Monto"}]}], "el nombre de campo «Monto» falta"),
        (
            [{**BUDGET, "fields": [{"name": "monto", "label": "Monto", "type": "money"}]}],
            "Formato «presupuesto», campo «monto»: el tipo «money» no existe; use text, date, number, integer, url.",
        ),
        (
            [{**BUDGET, "fields": [{"name": "monto", "label": "Monto", "required": "sí"}]}],
            "Formato «presupuesto», campo «monto»: required es true o false.",
        ),
        (
            [{**BUDGET, "fields": [{"name": "monto", "label": ""}]}],
            "Formato «presupuesto», campo «monto»: la etiqueta (label) es un texto de 1 a 120 caracteres, sin "
            "caracteres de control.",
        ),
        (
            [{**BUDGET, "fields": [{"name": "monto", "label": "Monto\u0085total"}]}],
            "Formato «presupuesto», campo «monto»: la etiqueta (label) es un texto de 1 a 120 caracteres",
        ),
    ],
)
def test_a_bad_format_is_refused_saying_which_format_and_field_and_why(formats: list[Any], said: str) -> None:
    """The formats are JSON an administrator writes: each refusal names the format and field and says what is
    wrong, in words of the settings page (translated there), never a generic "invalid value"."""
    with pytest.raises(InvalidSetting) as refused:
        parse_formats(formats)
    assert said in str(refused.value)
    assert refused.value.msgid  # a message of the catalogue, shown in the reader's language


# -- the guarantor's sample, findings, their term ----------------------------------------------------------


def test_sampling_draw_is_reproducible_recorded_and_once_per_quarter(staff: Staff) -> None:
    update_config("obligation_publication", {"sample_rate": "0.5"}, staff.admin)
    open_quarter(2026, 1, today=date(2026, 4, 1))
    published: dict[str, int] = {}
    budget = publish_budget(staff)
    published[budget.folio] = budget.id
    contracts = case_of("contratos")
    result = save_record(contracts.id, staff.works_area, rows=[CONTRACT], note="", expected_version=contracts.version)
    result = submit_record(contracts.id, staff.works_area, expected_version=result.version)
    result = decide(
        contracts.id, "validate", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None
    )
    decide(contracts.id, "publish", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None)
    published[contracts.folio] = contracts.id
    licences = case_of("licencias_construccion")

    report = draw_sample(2026, 1, staff.guarantor, today=AFTER_Q1_DEADLINE)
    # every record of the quarter is drawn: the licences record, never published, as missing
    assert set(report.draws) == {*published, licences.folio}
    assert report.draws[licences.folio]["status"] == "missing"
    db.session.rollback()
    entry = db.session.get(AuditEntry, report.audit_seq)
    assert entry is not None
    assert entry.action == "publication_sample_drawn"
    assert entry.actor_id == staff.guarantor
    assert entry.details["rate"] == "0.5"
    seed = db.session.get(AuditEntry, entry.details["reveal_seq"]).details["seed"]
    for item in entry.details["draws"]:
        case_id = published.get(item["folio"], licences.id)
        opened_seq = db.session.scalars(
            select(AuditEntry.seq).where(AuditEntry.case_id == case_id, AuditEntry.action == "open")
        ).one()
        again = draw(seed, item["folio"], opened_seq, "0.5")
        assert item["seq"] == opened_seq
        assert item["digest"] == again.digest
        assert item["selected"] == again.selected
        state = db.session.get(Case, case_id)
        assert state is not None
        if item["folio"] in published:
            assert state.state == ("under_verification" if again.selected else "published")
            if again.selected:
                assert state.data["sample_draw"]["digest"] == again.digest
    sample = db.session.scalars(select(PublicationSample)).one()
    assert (sample.population, sample.selected) == (3, len(report.selected))
    assert sample.missing == len(report.missing)
    with pytest.raises(InvalidData):
        draw_sample(2026, 1, staff.guarantor, today=AFTER_Q1_DEADLINE)
    with pytest.raises(InvalidData):  # that quarter was never opened
        draw_sample(2026, 3, staff.guarantor, today=date(2026, 12, 1))
    assert verify(db.session()).ok


def test_findings_have_a_term_that_lapses_and_the_correction_is_published(staff: Staff) -> None:
    update_config("obligation_publication", {"sample_rate": "1"}, staff.admin)
    open_quarter(2026, 1, today=date(2026, 4, 1))
    case = publish_budget(staff)
    report = draw_sample(2026, 1, staff.guarantor, today=AFTER_Q1_DEADLINE)
    assert case.folio in report.selected  # the two records not published are selected as missing
    assert sorted(report.missing) == sorted(f for f in report.selected if f != case.folio)
    case = case_of("presupuesto")
    assert case.state == "under_verification"
    with pytest.raises(NotAllowed):
        decide(case.id, "clear", staff.unit, expected_version=case.version, idempotency_key=key(), comment=None)
    found = decide(
        case.id,
        "file_findings",
        staff.guarantor,
        expected_version=case.version,
        idempotency_key=key(),
        comment="Falta el hipervínculo al informe trimestral.",
    )
    assert found.to_state == "findings"
    db.session.rollback()
    term = db.session.scalars(
        select(Timer).where(
            Timer.case_id == case.id, Timer.kind == TimerKind.DEADLINE, Timer.status == TimerStatus.PENDING
        )
    ).one()
    assert term.trigger == "lapse_correction"
    assert term.term_days == 10
    assert term.business
    # before the term lapses nothing happens; after it, the lapse is recorded and the area can still correct
    # (the two records still in drafting were due on 2026-04-30: their targets fire as missed, nothing moves)
    assert fire_due_timers(now=term.due_at - timedelta(seconds=1)).fired == 2
    assert case_of("presupuesto").state == "findings"
    assert case_of("contratos").state == "drafting"
    terms = pending_terms([case_of("contratos").id], today=date(2026, 5, 4))
    assert [(t.kind, t.due_on, t.overdue) for t in terms[case_of("contratos").id]] == [
        (TimerKind.TARGET, date(2026, 4, 30), True)
    ]
    assert fire_due_timers(now=term.due_at + timedelta(seconds=1)).fired == 1
    case = case_of("presupuesto")
    assert case.state == "correction_overdue"
    link = {**ROW, "hipervinculo": "https://transparencia.municipio.example/informe-2026-1.pdf"}
    saved = save_record(case.id, staff.finance_area, rows=[link], note="", expected_version=case.version)
    assert public_formats("presupuesto")[0].records[0].rows == [ROW]  # the correction is not public yet
    corrected = submit_record(case.id, staff.finance_area, expected_version=saved.version)
    assert corrected.to_state == "corrected"
    closed = decide(
        case.id,
        "accept_correction",
        staff.guarantor,
        expected_version=corrected.version,
        idempotency_key=key(),
        comment=None,
    )
    assert closed.to_state == "closed"
    assert public_formats("presupuesto")[0].records[0].rows == [link]
    assert verify(db.session()).ok


def test_attachments_are_checked_listed_and_published_with_the_record(staff: Staff) -> None:
    open_quarter(2026, 1, today=date(2026, 4, 1))
    case = case_of("presupuesto")
    with pytest.raises(InvalidData):
        attach_file(case.id, "informe.pdf", b"no es un pdf", staff.finance_area, expected_version=case.version)
    with pytest.raises(NotAllowed):
        attach_file(case.id, "informe.pdf", demo_pdf("Informe"), staff.works_area, expected_version=case.version)
    document_id = attach_file(
        case.id, "../informe trimestral.pdf", demo_pdf("Informe"), staff.finance_area, expected_version=case.version
    )
    case = case_of("presupuesto")
    [listed] = case.data["attachments"]
    assert listed["document_id"] == document_id
    assert listed["name"] == "informe trimestral.pdf"
    with pytest.raises(InvalidData):  # the same file twice
        attach_file(case.id, "otra.pdf", demo_pdf("Informe"), staff.finance_area, expected_version=case.version)
    name, content = record_attachment(case.id, listed["sha256"])
    assert content == demo_pdf("Informe")
    with pytest.raises(NotFound):  # not public before publication
        published_attachment(case.id, listed["sha256"])
    # saving the rows keeps the attachment
    result = save_record(case.id, staff.finance_area, rows=[ROW], note="", expected_version=case.version)
    result = submit_record(case.id, staff.finance_area, expected_version=result.version)
    with pytest.raises(IllegalTrigger):  # once submitted, the area cannot add files
        attach_file(case.id, "tarde.pdf", demo_pdf("Tarde"), staff.finance_area, expected_version=result.version)
    result = decide(
        case.id, "validate", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None
    )
    decide(case.id, "publish", staff.unit, expected_version=result.version, idempotency_key=key(), comment=None)
    assert published_attachment(case.id, listed["sha256"]) == (name, content)
    with pytest.raises(NotFound):
        published_attachment(case.id, "0" * 64)
    record = public_formats("presupuesto")[0].records[0]
    assert record.attachments == [{"name": "informe trimestral.pdf", "sha256": listed["sha256"]}]
    db.session.rollback()
    entries = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.case_id == case.id, AuditEntry.action == "document_attached")
    ).all()
    assert entries == ["document_attached"]
    assert verify(db.session()).ok
