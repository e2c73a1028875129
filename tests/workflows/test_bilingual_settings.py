"""Requirements, fee-table items and the transparency obligations' formats (their titles and columns) carry an
optional English value beside the Spanish one; one rule chooses which a reader reads."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.base import InvalidSetting, in_language, item_in_language
from workflows.obligation_publication import DEFAULT_FORMATS, parse_fields, parse_formats, record_problems
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


# -- the transparency obligations' formats: a title and column labels, each optionally in English ----------------

SPANISH_FORMAT: dict[str, Any] = {
    "code": "subsidios",
    "title": "Subsidios otorgados",
    "legal_basis": "LGTAIP art. 70, fracción XV",
    "department": "finanzas",
    "source": "",
    "fields": [
        {"name": "programa", "label": "Programa", "type": "text", "required": True},
        {"name": "monto", "label": "Monto", "type": "number", "required": False},
    ],
}


def with_english(title: object = None, **labels: object) -> dict[str, Any]:
    """The Spanish-only format with an English ``title`` and English labels by field name (``None``: absent)."""
    fmt: dict[str, Any] = {**SPANISH_FORMAT, "fields": [dict(f) for f in SPANISH_FORMAT["fields"]]}
    if title is not None:
        fmt["title_en"] = title
    for field in fmt["fields"]:
        if labels.get(field["name"]) is not None:
            field["label_en"] = labels[field["name"]]
    return fmt


def test_formats_saved_without_english_values_read_exactly_as_before() -> None:
    assert parse_formats([SPANISH_FORMAT]) == [SPANISH_FORMAT]
    blank = with_english(" ", programa="", monto=None)
    assert parse_formats([blank]) == [SPANISH_FORMAT]
    assert parse_formats([{**SPANISH_FORMAT, "title_en": None}]) == [SPANISH_FORMAT]
    # a stored format of the defaults without English values (settings saved before them) parses to itself
    spanish_defaults = []
    for fmt in DEFAULT_FORMATS:
        fields = [{k: v for k, v in f.items() if k != "label_en"} for f in fmt["fields"]]
        spanish_defaults.append({**{k: v for k, v in fmt.items() if k != "title_en"}, "fields": fields})
    assert parse_formats(spanish_defaults) == spanish_defaults
    assert all("label_en" not in f for f in parse_fields(SPANISH_FORMAT["fields"]))


def test_english_title_and_labels_are_kept_stripped_and_chosen_for_english_readers() -> None:
    (fmt,) = parse_formats([with_english("  Subsidies granted ", programa=" Programme")])
    assert fmt["title_en"] == "Subsidies granted"
    programme, amount = fmt["fields"]
    assert programme == {
        "name": "programa",
        "label": "Programa",
        "label_en": "Programme",
        "type": "text",
        "required": True,
    }
    assert "label_en" not in amount
    assert item_in_language(fmt, "title", "en") == "Subsidies granted"
    assert item_in_language(fmt, "title", "es_MX") == "Subsidios otorgados"
    assert [item_in_language(f, "label", "en") for f in fmt["fields"]] == ["Programme", "Monto"]
    assert [item_in_language(f, "label", "es_MX") for f in fmt["fields"]] == ["Programa", "Monto"]


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        (with_english("S" * 301), "Formato «subsidios»: el título en inglés (title_en) debe ser un texto de hasta 300"),
        (with_english("Subsidies\x07"), "Formato «subsidios»: el título en inglés"),
        (with_english(12), "Formato «subsidios»: el título en inglés"),
        (with_english(programa="P" * 121), "Formato «subsidios», campo «programa»: la etiqueta en inglés (label_en)"),
        (with_english(monto="Amount\ttotal"), "Formato «subsidios», campo «monto»: la etiqueta en inglés"),
        (with_english(monto=["Amount"]), "Formato «subsidios», campo «monto»: la etiqueta en inglés"),
    ],
    ids=["long-title", "control-title", "number-title", "long-label", "tab-label", "list-label"],
)
def test_bad_english_values_of_a_format_are_refused_saying_why(fmt: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSetting) as refused:
        parse_formats([fmt])
    assert (refused.value.msgid % refused.value.params).startswith(message)


def test_the_english_values_have_the_spanish_ones_limits() -> None:
    (fmt,) = parse_formats([with_english("S" * 300, programa="P" * 120)])
    assert len(fmt["title_en"]) == 300
    assert len(fmt["fields"][0]["label_en"]) == 120


def test_every_default_format_and_column_has_an_english_value() -> None:
    formats = parse_formats(list(DEFAULT_FORMATS))
    assert [f["title_en"] for f in formats] == [
        "Allocated budget and its spending",
        "Contracts for public works, goods and services",
        "Construction licences granted (VECS)",
    ]
    assert all(field.get("label_en") for fmt in formats for field in fmt["fields"])
    licences = {**DEFAULT_FORMATS[2], "publish_holder": True}
    (with_holder,) = parse_formats([licences])
    assert with_holder["fields"][-1]["label_en"] == "Name or company name of the holder"


def test_a_record_s_problems_name_its_fields_in_the_reader_s_language() -> None:
    (fmt,) = parse_formats([with_english(programa="Programme")])
    rows = [{"programa": "", "monto": "mucho"}]
    spanish = record_problems(fmt, rows, "", complete=True)
    english = record_problems(fmt, rows, "", complete=True, language="en")
    assert [p["field"] for _msgid, p in spanish] == ["Programa", "Monto"]
    assert [p["field"] for _msgid, p in english] == ["Programme", "Monto"]  # no English label: the Spanish one
