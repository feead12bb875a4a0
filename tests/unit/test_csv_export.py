"""CSV cells that a spreadsheet would run as formulas are made inert; everything else reads back as written."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.csv_export import FORMULA_PREFIXES, csv_document, spreadsheet_cell


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    "hostile", ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("x")']
)
def test_a_cell_starting_like_a_formula_is_prefixed_with_a_quote(hostile: str) -> None:
    assert spreadsheet_cell(hostile) == "'" + hostile


@pytest.mark.parametrize("number", [-1250, "-1250", "-12.50", "-0.01"])
def test_a_negative_number_stays_a_number(number: str | int) -> None:
    assert spreadsheet_cell(number) == str(number)


def test_ordinary_text_and_empty_cells_are_unchanged() -> None:
    assert [spreadsheet_cell(v) for v in ("school-meals", "a=b", "", None, 0)] == [
        "school-meals",
        "a=b",
        "",
        "",
        "0",
    ]


def test_separators_quotes_and_line_breaks_are_quoted_and_read_back() -> None:
    text = csv_document(["id", "name"], [["a,b", 'say "hi"'], ["line\r\nbreak", "x"]])
    assert _read(text) == [["id", "name"], ["a,b", 'say "hi"'], ["line\r\nbreak", "x"]]
    assert text.endswith("\r\n") and text.count("\r\n") == 4


def test_a_hostile_cell_cannot_spill_into_the_next_cell() -> None:
    assert _read(csv_document(["id"], [['=1,"=2"']])) == [["id"], ['\'=1,"=2"']]


@settings(max_examples=200)
@given(st.lists(st.lists(st.one_of(st.text(max_size=12), st.integers()), min_size=3, max_size=3), max_size=8))
def test_every_cell_reads_back_as_written_or_quoted_and_never_as_a_formula(
    rows: list[list[str | int]],
) -> None:
    parsed = _read(csv_document(["a", "b", "c"], rows))[1:]
    assert len(parsed) == len(rows)
    for row, line in zip(rows, parsed, strict=True):
        for value, cell in zip(row, line, strict=True):
            text = str(value)
            assert cell in (text, "'" + text)
            if cell.startswith(FORMULA_PREFIXES):
                assert isinstance(value, int) or cell.lstrip("-").replace(".", "", 1).isdigit()
