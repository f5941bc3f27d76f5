"""Exports of any table as CSV (UTF-8 with BOM) or XLSX, streamed with bounded memory.

Both take the rows as an iterable and write them as they come, so a table of 100,000 rows
never sits in memory: CSV through :mod:`csv`, XLSX through openpyxl's write-only workbook.

Cell values may be ``str``, ``int``, ``Decimal``, ``date``, ``datetime``, ``bool`` or ``None``.
A ``float`` is refused (money is never a float). A ``Decimal`` (money, weighted days) is written
with 2 places, rounded half-up: in CSV as ``1500.00`` (no thousands separators, so spreadsheets
read it as a number), in XLSX as a numeric cell with the number format ``0.00``.

Files are written to a temporary name beside ``path`` and renamed when complete, so a reader
never sees half a file.
"""

from __future__ import annotations

import csv
import itertools
import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from services.billing.outputs.money import plain_money, to_fen

Cell = str | int | Decimal | date | datetime | bool | None
Row = Sequence[Cell]
Sheet = tuple[Sequence[str], Iterable[Row]]
Sheets = Mapping[str, Sheet]

MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_WIDTH_SAMPLE = 200  # rows looked at to size the columns
_MIN_WIDTH, _MAX_WIDTH = 6, 60


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain_money(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        # a text that a spreadsheet would take for a formula is quoted (CSV injection)
        return f"'{value}" if value.startswith(_FORMULA_START) else value
    raise TypeError(f"cannot export a {type(value).__name__}: {value!r}")


def write_csv(path: str | os.PathLike[str], headers: Sequence[str], rows: Iterable[Row]) -> int:
    """Write one table as CSV, UTF-8 with a BOM (so Excel reads the Chinese), ``\\r\\n`` line
    ends. Returns the number of data rows."""
    target = Path(path)
    partial = _temporary(target)
    width = len(headers)
    count = 0
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(headers)
            for row in rows:
                if len(row) != width:
                    raise ValueError(f"row {count + 1} has {len(row)} cells, not {width}")
                writer.writerow([_csv_text(value) for value in row])
                count += 1
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(value: Cell) -> str:
    if isinstance(value, Decimal):
        return f"{to_fen(value):,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def sheet_title(name: str) -> str:
    """An Excel sheet title: at most 31 characters, none of ``[]:*?/\\``."""
    title = name.translate(_SHEET_FORBIDDEN).strip("'")[:31]
    return title or "Sheet"


class _RowWriter:
    """Turns values into cells, reusing one styled cell per column and type.

    openpyxl's write-only sheet writes a row out as soon as it is appended, so a styled cell can
    be filled again for the next row: no cell objects pile up for 100,000 rows.
    """

    def __init__(self, sheet: Any, width: int) -> None:
        self.sheet = sheet
        self.width = width
        self.money = [self._styled(MONEY_FORMAT) for _ in range(width)]
        self.dates = [self._styled(DATE_FORMAT) for _ in range(width)]
        self.datetimes = [self._styled(DATETIME_FORMAT) for _ in range(width)]
        self.texts = [WriteOnlyCell(sheet) for _ in range(width)]

    def _styled(self, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet)
        cell.number_format = number_format
        return cell

    def cells(self, row: Row, index: int) -> list[Any]:
        if len(row) != self.width:
            raise ValueError(f"row {index} has {len(row)} cells, not {self.width}")
        out: list[Any] = []
        for column, value in enumerate(row):
            if value is None or isinstance(value, bool | int):
                out.append(value)
            elif isinstance(value, Decimal):
                cell = self.money[column]
                cell.value = to_fen(value)
                out.append(cell)
            elif isinstance(value, str):
                if ILLEGAL_CHARACTERS_RE.search(value):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if value.startswith("="):  # text, not a formula
                    cell = self.texts[column]
                    cell.value = value
                    cell.data_type = "s"
                    out.append(cell)
                else:
                    out.append(value)
            elif isinstance(value, datetime):
                if value.tzinfo is not None:  # Excel has no time zones: keep it exact as text
                    out.append(value.isoformat())
                else:
                    cell = self.datetimes[column]
                    cell.value = value
                    out.append(cell)
            elif isinstance(value, date):
                cell = self.dates[column]
                cell.value = value
                out.append(cell)
            else:
                raise TypeError(f"cannot export a {type(value).__name__}: {value!r}")
        return out


def _write_sheet(book: Workbook, name: str, headers: Sequence[str], rows: Iterable[Row]) -> int:
    sheet = book.create_sheet(title=sheet_title(name))
    iterator: Iterator[Row] = iter(rows)
    sample = list(itertools.islice(iterator, _WIDTH_SAMPLE))
    for index, row in enumerate(sample, 1):
        if len(row) != len(headers):
            raise ValueError(f"row {index} has {len(row)} cells, not {len(headers)}")
    for column, header in enumerate(headers):
        widest = max(
            [_display_width(header)] + [_display_width(_shown(row[column])) for row in sample]
        )
        width = min(max(widest + 2, _MIN_WIDTH), _MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(column + 1)].width = width
    sheet.freeze_panes = "A2"  # the header row stays in view
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="ECECEC")
    rule = Border(bottom=Side(style="thin"))
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font, cell.fill, cell.border, cell.alignment = bold, fill, rule, centre
        cell.data_type = "s"
        header_cells.append(cell)
    sheet.append(header_cells)
    writer = _RowWriter(sheet, len(headers))
    count = 0
    for row in itertools.chain(sample, iterator):
        count += 1
        sheet.append(writer.cells(row, count))
    last = get_column_letter(max(len(headers), 1))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    return count


def write_xlsx(path: str | os.PathLike[str], sheets: Sheets) -> dict[str, int]:
    """Write tables as the sheets of one XLSX workbook, in the mapping's order: a bold header
    row, frozen; columns sized to the header and the first rows; numbers as numeric cells.
    Returns the number of data rows of each sheet."""
    if not sheets:
        raise ValueError("an XLSX workbook needs at least one sheet")
    titles = [sheet_title(name) for name in sheets]
    if len({t.lower() for t in titles}) != len(titles):
        raise ValueError(f"sheet titles collide once made valid: {titles}")
    target = Path(path)
    partial = _temporary(target)
    book = Workbook(write_only=True)
    counts: dict[str, int] = {}
    try:
        for name, (headers, rows) in sheets.items():
            counts[name] = _write_sheet(book, name, headers, rows)
        book.save(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return counts
