"""Every CSV gridcore writes goes through here, so no cell runs as a formula (CSV injection).

Imported values are stored as typed: a resident may really be registered as ``=HYPERLINK(…)``
or ``@SUM(…)`` by a hostile or careless register. A spreadsheet opening our output would run
such a cell, so a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with a leading ``'`` (OWASP's advice: Excel and LibreOffice show the text,
not a formula). Numbers stay numbers: ``-3`` or ``"-3.5"`` is a value, not a formula.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from gridcore.text import safe_cell


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` with every cell passed through :func:`safe_cell`."""

    def __init__(self, f: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(f: IO[str], **kwargs: Any) -> SafeWriter:
    """The writer for every CSV output of gridcore (use it instead of ``csv.writer``)."""
    return SafeWriter(f, **kwargs)


def xlsx_write(path: str | os.PathLike[str], sheet: str,
               rows: Iterable[Iterable[Any]]) -> None:
    """The writer for every .xlsx output of gridcore: one sheet, streamed (openpyxl's
    write-only mode), every cell through :func:`safe_cell` and text stored as text, never
    as a formula."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    for row in rows:
        cells = []
        for v in row:
            value = safe_cell(v)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    wb.save(path)


def norm_header(text: str) -> str:
    """A header or keyword as matched: no spaces, asterisks, underscores, dashes or BOM,
    lower case (``* 手机号``, ``手机号`` and ``phone_`` compare by this)."""
    return re.sub(r"[\s*＊_\-]+", "", text.replace("\ufeff", "")).lower()


class HeaderMatcher:
    """Which column a header names, from each column's accepted names: the whole header
    (``手机号 phone``), else its first part that is one (``*姓名``, ``管码 (tube_code)``)."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.aliases = {norm_header(n): key for key, names in columns.items() for n in names}

    def __call__(self, header: str) -> str | None:
        key = self.aliases.get(norm_header(header))
        if key is None:
            for token in re.split(r"[\s/|()（）\[\]【】]+", header):
                if token and (key := self.aliases.get(norm_header(token))) is not None:
                    break
        return key


def cell_text(value: Any) -> str:
    """A cell as text: empty for nothing, whole numbers without ``.0``, times in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()
