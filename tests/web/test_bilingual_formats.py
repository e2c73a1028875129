"""The transparency obligations' formats in Spanish and, optionally, in English: a format's title and its columns'
labels entered as JSON on the settings page (kept, audited, refused clearly with nothing typed lost), and read in
the page's language on the public pages and the staff publication pages (Spanish where no English value was
given); the open data and Spanish pages stay as they were."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, Role, WorkflowConfigChange
from app.procedures.obligation_publication.models import ObligationPublication
from app.procedures.obligation_publication.services import decide, open_quarter, save_record, submit_record
from app.services.config import current_params, update_config
from app.services.users import ensure_department
from tests.support.factories import make_user
from tests.web.helpers import csrf_token, field_errors, flashes, login_as, set_language, settings_form, text
from workflows.obligation_publication import DEFAULT_FORMATS

SETTINGS = "/admin/tramites/obligation_publication"
PUBLIC = "/transparencia/obligaciones"
STAFF = "/transparencia/publicaciones"

SUBSIDIES: dict[str, Any] = {
    "code": "subsidios",
    "title": "Subsidios otorgados",
    "legal_basis": "LGTAIP art. 70, fracción XV",
    "department": "finanzas",
    "source": "",
    "fields": [
        {
            "name": "programa",
            "label": "Programa social",
            "label_en": "Social programme",
            "type": "text",
            "required": True,
        },
        {"name": "monto", "label": "Monto otorgado", "type": "number", "required": False},
    ],
}
"""A format with an English label for one column only and no English title."""

ROW = {"capitulo": "1000 Servicios personales", "aprobado": "1500000.00", "ejercido": "350000", "hipervinculo": ""}


def spanish_only(formats: Any) -> list[dict[str, Any]]:
    """``formats`` without any English value, as settings saved before there were any."""
    result = []
    for fmt in formats:
        fields = [{k: v for k, v in f.items() if k != "label_en"} for f in fmt["fields"]]
        result.append({**{k: v for k, v in fmt.items() if k != "title_en"}, "fields": fields})
    return result


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    for code in ("finanzas", "obras_publicas", "desarrollo_urbano"):
        ensure_department(code, code.replace("_", " ").title())
    open_quarter(2026, 1, today=date(2026, 4, 1))
    return {
        "area": make_user((Role.AREA, "finanzas")),
        "unit": make_user(Role.TRANSPARENCY_UNIT),
        "admin": make_user(Role.ADMIN),
    }


def case_of(code: str, quarter: int = 1) -> Case:
    db.session.rollback()
    return db.session.scalars(
        select(Case)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(ObligationPublication.format_code == code, ObligationPublication.quarter == quarter)
    ).one()


def publish_budget(people: dict[str, int]) -> Case:
    case = case_of("presupuesto")
    result = save_record(case.id, people["area"], rows=[ROW], note="", expected_version=case.version)
    result = submit_record(case.id, people["area"], expected_version=result.version)
    for trigger in ("validate", "publish"):
        key = uuid.uuid4().hex
        result = decide(
            case.id, trigger, people["unit"], expected_version=result.version, idempotency_key=key, comment=None
        )
    return case_of("presupuesto")


# -- the settings page -------------------------------------------------------------------------------------


def test_the_settings_page_takes_english_titles_and_labels_stores_audits_and_shows_them_back(
    client: FlaskClient, people: dict[str, int]
) -> None:
    login_as(client, people["admin"])
    data = settings_form(client, SETTINGS)
    shown = json.loads(data["formats"])
    assert shown[0]["title_en"] == "Allocated budget and its spending"  # the defaults' English values are editable
    formats = [*shown, SUBSIDIES]
    saved = client.post(SETTINGS, data={**data, "formats": json.dumps(formats, ensure_ascii=False)})
    assert saved.status_code == 302, (field_errors(saved), flashes(saved))
    db.session.rollback()
    stored = current_params("obligation_publication")["formats"]
    subsidies = stored[-1]
    assert "title_en" not in subsidies  # none given: no key
    assert subsidies["fields"][0]["label_en"] == "Social programme"
    assert "label_en" not in subsidies["fields"][1]
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "workflow_config_changed")).all()
    change = db.session.get(WorkflowConfigChange, entry.details["change_id"])
    assert change is not None
    assert change.changes["formats"]["to"][-1]["fields"][0]["label_en"] == "Social programme"
    page = text(client.get(SETTINGS))
    assert '"label_en": "Social programme"' in page
    again = client.post(SETTINGS, data=settings_form(client, SETTINGS))  # the page sends back what it shows: no change
    assert "No hubo cambios." in flashes(client.get(again.headers["Location"]))


def test_formats_without_english_values_are_still_saved_and_read_as_before(
    client: FlaskClient, people: dict[str, int]
) -> None:
    login_as(client, people["admin"])
    formats = spanish_only(DEFAULT_FORMATS)
    saved = client.post(
        SETTINGS, data={**settings_form(client, SETTINGS), "formats": json.dumps(formats, ensure_ascii=False)}
    )
    assert saved.status_code == 302, (field_errors(saved), flashes(saved))
    db.session.rollback()
    assert current_params("obligation_publication")["formats"] == formats


def with_english(**changes: Any) -> list[dict[str, Any]]:
    """The subsidies format with ``changes`` (``title_en``, or ``label_en`` of the first field)."""
    fmt = json.loads(json.dumps(SUBSIDIES))
    if "title_en" in changes:
        fmt["title_en"] = changes["title_en"]
    if "label_en" in changes:
        fmt["fields"][0]["label_en"] = changes["label_en"]
    return [fmt]


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        (
            with_english(title_en="S" * 301),
            "Formato «subsidios»: el título en inglés (title_en) debe ser un texto de hasta 300 caracteres, sin "
            "caracteres de control.",
        ),
        (with_english(title_en="Subsidies\u0007granted"), "Formato «subsidios»: el título en inglés (title_en)"),
        (with_english(title_en=12), "Formato «subsidios»: el título en inglés (title_en)"),
        (
            with_english(label_en="P" * 121),
            "Formato «subsidios», campo «programa»: la etiqueta en inglés (label_en) debe ser un texto de hasta 120 "
            "caracteres, sin caracteres de control.",
        ),
        (with_english(label_en="Social\nprogramme"), "Formato «subsidios», campo «programa»: la etiqueta en inglés"),
    ],
    ids=["long-title", "control-title", "number-title", "long-label", "line-break-label"],
)
def test_bad_english_values_are_refused_clearly_and_nothing_typed_is_lost(
    client: FlaskClient, people: dict[str, int], formats: list[dict[str, Any]], message: str
) -> None:
    login_as(client, people["admin"])
    typed = json.dumps(formats, ensure_ascii=False)
    refused = client.post(SETTINGS, data={**settings_form(client, SETTINGS), "formats": typed})
    assert refused.status_code == 422
    assert any(shown.startswith(message) for shown in flashes(refused)), flashes(refused)
    assert typed in text(refused)  # the JSON as typed, to correct
    db.session.rollback()
    assert db.session.scalars(select(WorkflowConfigChange)).all() == []


def test_a_bad_spanish_part_of_a_format_is_refused_saying_what_in_the_page_language(
    client: FlaskClient, people: dict[str, int]
) -> None:
    """Not the generic "invalid value for «formats»": the format, the field and what is wrong, translated."""
    login_as(client, people["admin"])
    fmt = json.loads(json.dumps(SUBSIDIES))
    fmt["fields"][1]["type"] = "money"
    typed = json.dumps([fmt], ensure_ascii=False)
    refused = client.post(SETTINGS, data={**settings_form(client, SETTINGS), "formats": typed})
    assert refused.status_code == 422
    assert (
        "Formato «subsidios», campo «monto»: el tipo «money» no existe; use text, date, number, integer, url."
        in flashes(refused)
    )
    assert typed in text(refused)
    set_language(client, "en", SETTINGS)
    refused = client.post(SETTINGS, data={**settings_form(client, SETTINGS), "formats": typed})
    assert refused.status_code == 422
    assert (
        "Format «subsidios», field «monto»: the type «money» does not exist; use text, date, number, integer, url."
        in flashes(refused)
    )
    db.session.rollback()
    assert db.session.scalars(select(WorkflowConfigChange)).all() == []


# -- the public pages ------------------------------------------------------------------------------------------


def test_the_public_pages_show_english_titles_and_columns_in_english_and_spanish_ones_otherwise(
    client: FlaskClient, people: dict[str, int]
) -> None:
    publish_budget(people)
    for path in (f"{PUBLIC}?ejercicio=2026", f"{PUBLIC}?formato=presupuesto"):
        spanish = text(client.get(path))
        for shown in ("Presupuesto asignado y su ejercicio", "Capítulo de gasto", "Presupuesto aprobado"):
            assert shown in spanish
        for hidden in ("Allocated budget and its spending", "Expenditure chapter", "Approved budget"):
            assert hidden not in spanish
    set_language(client, "en", PUBLIC)
    for path in (f"{PUBLIC}?ejercicio=2026", f"{PUBLIC}?formato=presupuesto"):
        english = text(client.get(path))
        assert '<html lang="en">' in english
        for shown in (
            "Allocated budget and its spending",
            "Expenditure chapter",
            "Approved budget",
            "Link to the report",
        ):
            assert shown in english, shown
        assert "Presupuesto asignado y su ejercicio" not in english
        assert "Capítulo de gasto" not in english
        assert "1000 Servicios personales" in english  # the records' data are what was published

    # settings without some English values: the Spanish ones, never an empty heading
    formats = current_params("obligation_publication")["formats"]
    budget = dict(formats[0])
    budget.pop("title_en")
    budget["fields"] = [
        {k: v for k, v in f.items() if k != "label_en" or f["name"] != "aprobado"} for f in budget["fields"]
    ]
    update_config("obligation_publication", {"formats": [budget, *formats[1:]]}, people["admin"])
    english = text(client.get(f"{PUBLIC}?formato=presupuesto"))
    assert "Presupuesto asignado y su ejercicio" in english
    assert "Presupuesto aprobado" in english
    assert "Expenditure chapter" in english
    assert "Allocated budget and its spending" not in english


def test_open_data_keeps_its_spanish_form_whatever_the_reader_s_language(
    client: FlaskClient, people: dict[str, int]
) -> None:
    publish_budget(people)
    paths = (f"{PUBLIC}/presupuesto.csv", f"{PUBLIC}/presupuesto.json")
    spanish = [client.get(path).get_data() for path in paths]
    set_language(client, "en", PUBLIC)
    english = [client.get(path).get_data() for path in paths]
    assert english == spanish
    csv_header = spanish[0].decode("utf-8").splitlines()[0]
    assert csv_header.endswith(",capitulo,aprobado,ejercido,hipervinculo")  # the columns are the fields' names
    document = json.loads(spanish[1])
    assert document["formato"]["titulo"] == "Presupuesto asignado y su ejercicio"
    assert [f["etiqueta"] for f in document["campos"]][:2] == ["Capítulo de gasto", "Presupuesto aprobado"]
    assert "Allocated" not in spanish[1].decode("utf-8")
    assert "label_en" not in spanish[1].decode("utf-8")


# -- the staff pages -------------------------------------------------------------------------------------------


def test_the_staff_pages_show_english_titles_and_columns_in_english_and_spanish_ones_otherwise(
    client: FlaskClient, people: dict[str, int]
) -> None:
    budget = case_of("presupuesto")
    update_config("obligation_publication", {"formats": [*DEFAULT_FORMATS, SUBSIDIES]}, people["admin"])
    open_quarter(2026, 2, today=date(2026, 7, 1))  # its cases copy the settings with the subsidies format
    subsidies = case_of("subsidios", quarter=2)
    login_as(client, people["area"])
    record = f"{STAFF}/{budget.id}"
    spanish = text(client.get(record))
    assert "<h1>Presupuesto asignado y su ejercicio</h1>" in spanish
    assert "Capítulo de gasto" in spanish
    assert "Expenditure chapter" not in spanish
    assert "Allocated budget" not in text(client.get(f"{STAFF}?ejercicio=2026"))

    set_language(client, "en", record)
    english = text(client.get(record))
    assert "<h1>Allocated budget and its spending</h1>" in english
    for shown in ("Expenditure chapter", 'aria-label="Approved budget 1"', "Budget spent", "Link to the report"):
        assert shown in english, shown
    assert "Capítulo de gasto" not in english
    listed = text(client.get(f"{STAFF}?ejercicio=2026"))
    assert "Allocated budget and its spending" in listed
    assert "Subsidios otorgados" in listed  # no English title: the Spanish one
    assert "Presupuesto asignado y su ejercicio" not in listed
    other = text(client.get(f"{STAFF}/{subsidies.id}"))
    assert "<h1>Subsidios otorgados</h1>" in other
    assert "Social programme" in other
    assert "Monto otorgado" in other  # no English label: the Spanish one

    # a refused record names its fields as the reader reads them
    action = f"{record}/registro"
    form = {
        "csrf_token": csrf_token(english, action),
        "expected_version": str(budget.version),
        "idempotency_key": uuid.uuid4().hex,
        **{f"row-1-{name}": value for name, value in ROW.items()},
        "row-1-aprobado": "doscientos",
        "note": "",
    }
    bad = client.post(action, data=form)
    assert bad.status_code == 422
    assert "Row 1: “Approved budget” must be a number." in flashes(bad)
