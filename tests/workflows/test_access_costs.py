"""The cost sheet of an access request (LGTAIP 2015 arts. 134 and 141): per page, per medium or free, the
first twenty simple pages free, envío where the jurisdiction charges it, nothing when the response was late,
and the unit's waiver for the requester's circumstances. Pure: no Flask, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from workflows import access_request as ar
from workflows.base import GuardInput

PARAMS: dict[str, Any] = dict(ar.ACCESS_V1.params)


def _sheet(**data: Any) -> ar.CostSheet:
    return ar.cost_sheet(data, PARAMS)


def test_twenty_simple_pages_are_free():
    sheet = _sheet(delivery_format="simple_copies", page_count=20)
    assert sheet.total == "0.00"
    assert [r["quantity"] for r in sheet.rows] == ["20"]
    assert "141" in sheet.rows[0]["legal_basis"]


def test_the_twenty_first_simple_page_is_charged():
    sheet = _sheet(delivery_format="simple_copies", page_count=21)
    fee = Decimal(PARAMS["reproduction_fees"]["simple_copies"]["fee"])
    assert Decimal(sheet.total) == fee
    charged = sheet.rows[-1]
    assert (charged["quantity"], charged["unit_fee"], charged["amount"]) == ("1", f"{fee:.2f}", f"{fee:.2f}")
    assert set(charged) == {"concept", "quantity", "unit_fee", "amount", "legal_basis"}


def test_the_free_pages_row_names_the_jurisdictions_number():
    """The row said "(hasta 20)" whatever ``free_pages`` the jurisdiction set."""
    sheet = ar.cost_sheet({"delivery_format": "simple_copies", "page_count": 45}, {**PARAMS, "free_pages": 30})
    assert sheet.rows[0]["concept"] == "Hojas simples sin costo (hasta 30)"
    assert sheet.rows[0]["quantity"] == "30"
    assert (
        _sheet(delivery_format="simple_copies", page_count=5).rows[0]["concept"] == "Hojas simples sin costo (hasta 20)"
    )


def test_certified_copies_are_charged_from_the_first_page():
    sheet = _sheet(delivery_format="certified_copies", page_count=3)
    fee = Decimal(PARAMS["reproduction_fees"]["certified_copies"]["fee"])
    assert Decimal(sheet.total) == 3 * fee


def test_usb_is_charged_per_medium_and_envio_where_the_jurisdiction_sets_it():
    params = {**PARAMS, "shipping_fee": "85.00"}
    fee = Decimal(PARAMS["reproduction_fees"]["usb"]["fee"])
    sheet = ar.cost_sheet({"delivery_format": "usb", "media_count": 2}, params)
    assert Decimal(sheet.total) == 2 * fee
    shipped = ar.cost_sheet({"delivery_format": "usb", "media_count": 2, "shipped": True}, params)
    assert Decimal(shipped.total) == 2 * fee + Decimal("85.00")
    assert shipped.rows[-1]["concept"].startswith("Envío")


def test_electronic_and_consulta_directa_cost_nothing():
    assert _sheet(delivery_format="electronic", page_count=500).total == "0.00"
    assert _sheet(delivery_format=ar.CONSULTATION, page_count=500).total == "0.00"


def test_a_late_response_costs_nothing():
    sheet = _sheet(delivery_format="certified_copies", page_count=10, response_overdue_on="2026-04-01")
    assert sheet.total == "0.00"
    assert sheet.rows[-1]["amount"].startswith("-")
    assert "134" in sheet.rows[-1]["legal_basis"]


def test_the_unit_may_waive_the_cost_with_a_reason():
    sheet = _sheet(
        delivery_format="certified_copies", page_count=10, cost_waived=True, cost_waiver_reason="Adulto mayor"
    )
    assert sheet.total == "0.00"
    assert "Adulto mayor" in sheet.rows[-1]["concept"]
    assert ar.reproduction_cost({"delivery_format": "certified_copies", "page_count": 10}, PARAMS) != "0.00"


def test_the_cost_guard_wants_the_published_sheet_and_a_reasoned_waiver():
    def gi(data: dict[str, Any]) -> GuardInput:
        return GuardInput(data, frozenset(), (), 20, frozenset({"transparency_unit"}), date(2026, 3, 2), PARAMS)

    data: dict[str, Any] = {"delivery_format": "simple_copies", "page_count": 25}
    sheet = ar.cost_sheet(data, PARAMS)
    good = {**data, "reproduction_cost": sheet.total, "cost_sheet": list(sheet.rows)}
    assert ar.cost_as_published(gi(good)) is None
    assert ar.cost_as_published(gi({**good, "reproduction_cost": "0.00"})) is not None
    assert ar.cost_as_published(gi({**good, "page_count": -1})) is not None
    waived = {**data, "cost_waived": True}
    sheet = ar.cost_sheet(waived, PARAMS)
    assert ar.cost_as_published(gi({**waived, "reproduction_cost": sheet.total, "cost_sheet": list(sheet.rows)}))


def test_fee_table_shape():
    table = ar.parse_fees(
        {
            "electronic": {"unit": "free"},
            "simple_copies": {"unit": "simple_page", "fee": "1.5"},
            "usb": {"unit": "medium", "fee": 30},
        }
    )
    assert table["simple_copies"] == {"unit": "simple_page", "fee": "1.50"}
    assert table["electronic"] == {"unit": "free", "fee": "0.00"}
    for bad in (
        {},
        {"usb": "30"},
        {"usb": {"unit": "medium", "fee": "-1"}},
        {"usb": {"unit": "kilo", "fee": "1"}},
        {"usb": {"unit": "medium", "fee": "NaN"}},
        {"": {"unit": "free"}},
        ["usb"],
    ):
        with pytest.raises((TypeError, ValueError)):
            ar.parse_fees(bad)


def test_legacy_flat_fees_convert_to_the_sheet_shape():
    converted = ar.fees_from_flat({"electronic": "0.00", "simple_copies": "50.00", "usb": "30.00", "dvd": "10"})
    assert converted["electronic"]["unit"] == "free"
    assert converted["simple_copies"]["unit"] == "simple_page"
    assert converted["usb"] == {"unit": "medium", "fee": "30.00"}
    assert converted["dvd"] == {"unit": "medium", "fee": "10.00"}
    assert ar.parse_fees(converted) == converted


def test_the_payment_term_is_thirty_days_at_most():
    assert ar.parse_payment_days(30) == 30
    for bad in (31, 0, -1, "10", True):
        with pytest.raises((TypeError, ValueError)):
            ar.parse_payment_days(bad)


def test_a_payment_is_pending_until_the_treasury_confirms_it():
    sheet = ar.cost_sheet({"delivery_format": "usb", "media_count": 1}, PARAMS)
    owed = {"reproduction_cost": sheet.total, "cost_sheet": list(sheet.rows)}
    assert ar.payment_pending(owed)
    assert not ar.payment_pending({**owed, "payment_reference": "SAI202600000101XX"})
    assert not ar.payment_pending({"reproduction_cost": "0.00", "cost_sheet": []})
    assert not ar.payment_pending({"reproduction_cost": "50.00"})  # delivered before payment orders existed


STATE_LAW = "de la Ley de Transparencia del Estado de Ejemplo (POE 2 de enero de 2026)"
STATE_BASES = {
    **PARAMS["legal_bases"],
    "reproduction_costs": f"Artículo 112 {STATE_LAW}",
    "late_response": f"Artículo 113 {STATE_LAW}",
    "cost_waiver": f"Artículo 114, fracción II, {STATE_LAW}",
}
GENERAL_2015 = "de la Ley General de Transparencia y Acceso a la Información Pública (DOF 4 de mayo de 2015)"


def test_each_row_cites_what_the_jurisdiction_set_for_its_act():
    """The rows cited articles 134 and 141 of the 2015 law whatever the jurisdiction's ``legal_bases`` said."""
    params = {**PARAMS, "legal_bases": STATE_BASES, "shipping_fee": "85.00"}
    charged = {"delivery_format": "simple_copies", "page_count": 25, "shipped": True}
    sheet = ar.cost_sheet(charged, params)
    assert [r["legal_basis"] for r in sheet.rows] == [f"Artículo 112 {STATE_LAW}"] * 3  # free, charged, envío
    late = ar.cost_sheet({**charged, "response_overdue_on": "2026-04-01"}, params)
    assert late.rows[-1]["legal_basis"] == f"Artículo 113 {STATE_LAW}"
    waived = ar.cost_sheet({**charged, "cost_waived": True, "cost_waiver_reason": "Adulto mayor"}, params)
    assert waived.rows[-1]["legal_basis"] == f"Artículo 114, fracción II, {STATE_LAW}"


def test_the_rows_cite_the_2015_articles_by_default_and_for_settings_saved_before_the_acts():
    charged = {"delivery_format": "simple_copies", "page_count": 25}
    saved_before = {act: PARAMS["legal_bases"][act] for act in ar.LEGAL_BASIS_ACTS}
    for params in (PARAMS, {**PARAMS, "legal_bases": saved_before}):
        assert {r["legal_basis"] for r in ar.cost_sheet(charged, params).rows} == {f"Artículo 141 {GENERAL_2015}"}
        late = ar.cost_sheet({**charged, "response_overdue_on": "2026-04-01"}, params)
        assert late.rows[-1]["legal_basis"] == f"Artículo 134 {GENERAL_2015}"
        waived = ar.cost_sheet({**charged, "cost_waived": True, "cost_waiver_reason": "Adulto mayor"}, params)
        assert waived.rows[-1]["legal_basis"] == f"Artículo 141, último párrafo, {GENERAL_2015}"


def test_the_cost_guard_reads_the_rows_with_the_cases_citations():
    def gi(data: dict[str, Any], params: dict[str, Any]) -> GuardInput:
        return GuardInput(data, frozenset(), (), 20, frozenset({"transparency_unit"}), date(2026, 3, 2), params)

    params = {**PARAMS, "legal_bases": STATE_BASES}
    data: dict[str, Any] = {"delivery_format": "simple_copies", "page_count": 25}
    sheet = ar.cost_sheet(data, params)
    recorded = {**data, "reproduction_cost": sheet.total, "cost_sheet": list(sheet.rows)}
    assert ar.cost_as_published(gi(recorded, params)) is None
    assert ar.cost_as_published(gi(recorded, PARAMS)) is not None  # a sheet citing other articles is not this one


def test_the_new_acts_are_optional_and_checked_like_the_others():
    assert ar.parse_legal_bases(STATE_BASES)["cost_waiver"] == f"Artículo 114, fracción II, {STATE_LAW}"
    assert "late_response" not in ar.parse_legal_bases(dict.fromkeys(ar.LEGAL_BASIS_ACTS, "Art. 1"))
    for act in ("reproduction_costs", "late_response", "cost_waiver"):
        with pytest.raises(ValueError, match="is empty"):
            ar.parse_legal_bases({**STATE_BASES, act: "  "})
    with pytest.raises(ValueError, match="unknown act"):
        ar.parse_legal_bases({**STATE_BASES, "shipping": "Art. 1"})


@pytest.mark.parametrize(
    ("citation", "in_sentence", "in_parentheses"),
    [
        (
            f"Artículos 134 y 141 {GENERAL_2015}",
            f"los artículos 134 y 141 {GENERAL_2015}",
            "artículos 134 y 141 de la Ley General de Transparencia y Acceso a la Información Pública, "
            "DOF 4 de mayo de 2015",
        ),
        (
            f"Artículo 107 {STATE_LAW}",
            f"el artículo 107 {STATE_LAW}",
            "artículo 107 de la Ley de Transparencia del Estado de Ejemplo, POE 2 de enero de 2026",
        ),
        ("Ley de Transparencia del Estado, art. 80",) * 3,
        ("Art. 5 (reformado) de la Ley (DOF 1 (bis))", None, "Art. 5 (reformado) de la Ley (DOF 1 (bis))"),
    ],
)
def test_a_citation_reads_inside_a_sentence(citation: str, in_sentence: str | None, in_parentheses: str | None):
    """After «Con fundamento en» an opening «Artículo(s)» takes its article and a small letter; between
    parentheses the gazette's parenthetical follows a comma instead of nesting; other citations read as written."""
    if in_sentence is not None:
        assert ar.basis_in_sentence(citation) == in_sentence
    if in_parentheses is not None:
        assert ar.basis_in_parentheses(citation) == in_parentheses
