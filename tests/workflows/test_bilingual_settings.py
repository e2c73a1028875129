"""Requirements and fee-table items carry an optional English value beside the Spanish one; one rule chooses
which a reader reads."""

from __future__ import annotations

import pytest

from workflows.base import in_language, item_in_language
from workflows.vecs import compute_fees, parse_fee_table, parse_requirements

FEE_ROW = {"concept": "Licencia", "unit": "fixed", "rate": "100", "legal_basis": "Ley de Ingresos, art. 1"}


def test_english_is_read_by_english_readers_only_and_never_left_empty() -> None:
    assert in_language("Tesorería", "Treasury", "en") == "Treasury"
    assert in_language("Tesorería", "Treasury", "en_US") == "Treasury"
    assert in_language("Tesorería", "Treasury", "es_MX") == "Tesorería"
    assert in_language("Tesorería", "Treasury", "") == "Tesorería"
    assert in_language("Tesorería", None, "en") == "Tesorería"
    assert in_language("Tesorería", "  ", "en") == "Tesorería"
    item = {"kind": "planos", "label": "Planos", "label_en": "Drawings"}
    assert item_in_language(item, "label", "en") == "Drawings"
    assert item_in_language(item, "label", "es_MX") == "Planos"
    assert item_in_language({"kind": "planos", "label": "Planos"}, "label", "en") == "Planos"


def test_settings_saved_without_english_values_read_as_before() -> None:
    old = [{"kind": "planos", "label": "Planos"}]
    assert parse_requirements(old) == old
    assert parse_requirements([{"kind": "planos", "label": "Planos", "label_en": ""}]) == old
    assert parse_requirements([{"kind": "planos", "label": "Planos", "label_en": None}]) == old
    assert parse_fee_table([FEE_ROW]) == [{**FEE_ROW, "rate": "100.00"}]
    assert "concept_en" not in compute_fees([FEE_ROW], "10")[0]


def test_english_values_are_kept_normalised_and_carried_into_the_assessed_fees() -> None:
    assert parse_requirements([{"kind": "planos", "label": "Planos", "label_en": "  Building   drawings "}]) == [
        {"kind": "planos", "label": "Planos", "label_en": "Building drawings"}
    ]
    table = parse_fee_table([{**FEE_ROW, "concept_en": "Licence"}])
    assert table[0]["concept_en"] == "Licence"
    (fee,) = compute_fees(table, "10")
    assert (fee["concept"], fee["concept_en"]) == ("Licencia", "Licence")


@pytest.mark.parametrize("english", ["x" * 201, "Drawings\x07", 12])
def test_english_values_are_checked_like_the_spanish_ones(english: object) -> None:
    with pytest.raises(ValueError, match=r"expected text|control characters"):
        parse_requirements([{"kind": "planos", "label": "Planos", "label_en": english}])
    with pytest.raises(ValueError, match=r"expected text|control characters"):
        parse_fee_table([{**FEE_ROW, "concept_en": english}])


def test_spanish_values_with_control_characters_are_refused() -> None:
    with pytest.raises(ValueError, match="control characters"):
        parse_requirements([{"kind": "planos", "label": "Planos\x1b"}])
    with pytest.raises(ValueError, match="control characters"):
        parse_fee_table([{**FEE_ROW, "concept": "Licencia\x00"}])
