"""CSV that spreadsheets open safely: RFC 4180 quoting, and no cell a spreadsheet would run as a formula.

Every CSV the service or its commands write goes through `csv_document`. A text cell that begins with
`=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP's rule against CSV injection), so
a cause id such as `@SUM(A1)` or `-2+3` reads as text. A cell that is exactly a number (`-1250`, `-12.50`)
is left as it is: to a spreadsheet it is a number, never a formula, and finance columns stay numeric.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

Cell = str | int | None


def spreadsheet_cell(value: Cell) -> str:
    """One cell's text, made inert when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_document(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A header line and one line per row, CRLF line ends, fields quoted when they need it (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([spreadsheet_cell(column) for column in columns])
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return buffer.getvalue()
