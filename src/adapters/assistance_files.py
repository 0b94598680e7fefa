"""Assistance lists (协查名单) as files: read a list from CSV or .xlsx, and write the result file
back to the sender in the list's own format.

The list: a header row naming the columns in Chinese or English (姓名/name, 手机号/phone,
身份证号/id_number, 地址/address, 区/district, 原因/reason; the usual synonyms such as 联系电话,
身份证号码, 现住址, 区县, 协查原因 too), then one person a row; empty rows are skipped. The file is
read as the household importer reads a register (``adapters.importer.read_table``: UTF-8 or
GB18030 CSV, comma or tab; the first sheet of an .xlsx; bounded in rows and bytes). Every bad
row is reported at once, each error naming its row and column, what was wrong and what would
be right (personal values masked); a list with errors is not received at all, so the sender
can be asked for a corrected one (``gridcore.assistance_commands``).

The result file: the list's own columns and rows as the sender gave them (when the original
file is given; else the standard columns from what the list recorded) plus 核查结果 result,
采取措施 measure and 核查时间 checked_at, in the list's format (CSV or .xlsx). It holds
personal data, so it is created owner-only (0600); a cell that a spreadsheet would run as a
formula (``=cmd``...) is written neutralised (``adapters.spreadsheet.safe_cell``), and in an
.xlsx every text cell is stored as text, never as a formula.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.importer import (
    Limits,
    RowError,
    Table,
    find_header,
    read_table,
)
from adapters.spreadsheet import HeaderMatcher, cell_text, csv_writer, xlsx_write
from gridcore.application import GridcoreApp
from gridcore.assistance import (
    AssistanceItem,
    AssistanceList,
    AssistanceRow,
    ItemStatus,
    ListFormat,
    Source,
    check_row,
)
from gridcore.authority import Actor
from gridcore.errors import InvalidInput
from gridcore.identity import IdNumber, Phone

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name", "名字"),
    "phone": ("手机号", "phone", "手机", "手机号码", "电话", "联系电话", "电话号码"),
    "id_number": ("身份证号", "id_number", "身份证", "身份证号码", "证件号码", "公民身份号码"),
    "address": ("地址", "address", "住址", "现住址", "详细地址", "居住地址"),
    "district": ("区", "district", "区县", "县区", "所属区", "所在区"),
    "reason": ("原因", "reason", "协查原因", "事由"),
}
HEADERS = {key: f"{names[0]} {key}" for key, names in COLUMNS.items()}
RESULT_COLUMNS = ("核查结果 result", "采取措施 measure", "核查时间 checked_at")


column_key = HeaderMatcher(COLUMNS)
"""The column a header names: ``手机号``, ``phone``, ``手机号 phone`` or ``*姓名`` all work."""
_text = cell_text


@dataclass
class AssistanceFile:
    """A list as read: its rows (one per person, in order), the errors found (empty when the
    list can be received), its kind (``csv`` or ``xlsx``) and where its header is."""

    rows: list[AssistanceRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    kind: str = "csv"
    header_row: int = 1
    positions: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _header(table: Table) -> tuple[int, dict[int, str], list[RowError]]:
    wanted = ", ".join(HEADERS.values())
    row, positions, _, errors = find_header(table, column_key, HEADERS, (), "list", wanted,
                                            known=2)
    if not {"name", "phone", "id_number"} & set(positions.values()):
        errors.append(RowError(row, "header", "The list has no column that identifies a "
                               f"person. Head the columns {wanted}."))
    return row, positions, errors


def read_assistance_file(path: str | Path, limits: Limits | None = None) -> AssistanceFile:
    """Read a list (CSV or .xlsx) and check every row; raises ``RegisterFormatError`` when the
    file cannot be read as a table at all."""
    table = read_table(path, limits)
    header_row, positions, errors = _header(table)
    out = AssistanceFile(kind=table.kind, header_row=header_row, positions=positions,
                         errors=errors)
    if errors:
        return out
    for row_no, cells in table.rows:
        if row_no <= header_row or not any(_text(c) for c in cells):
            continue
        values = {key: _text(cells[pos]) if pos < len(cells) else ""
                  for pos, key in positions.items()}
        bad = _check_cells(row_no, values, cells, positions, table.kind)
        out.errors.extend(bad)
        row = AssistanceRow(row=row_no, **values)
        if not bad:
            try:
                check_row(row, UUID(int=0), row_no)
            except InvalidInput as e:
                out.errors.append(RowError(row_no, "row", f"{e.problem} {e.remedy}".strip()))
        out.rows.append(row)
    if not out.rows and not out.errors:
        out.errors.append(RowError(header_row + 1, "row", "The list has no person on it. Add "
                                   "one row per person under the header."))
    return out


def _check_cells(row: int, values: dict[str, str], cells: list[Any],
                 positions: dict[int, str], kind: str) -> list[RowError]:
    """Each malformed phone and ID number of a row, with its column."""
    errors = []
    for pos, key in positions.items():
        if key == "id_number" and kind == "xlsx" and pos < len(cells) \
                and isinstance(cells[pos], int | float) and not isinstance(cells[pos], bool):
            errors.append(RowError(row, HEADERS[key], "The ID number is stored as a number, "
                                   "so Excel may have changed its last digits. Format the "
                                   "column as text (文本) and type the number again."))
            values[key] = ""
    for key, kind_ in (("phone", Phone), ("id_number", IdNumber)):
        raw = values.get(key, "")
        if not raw:
            continue
        try:
            kind_.parse(raw)
        except ValueError as e:
            what = "phone (手机号)" if key == "phone" else "ID number (身份证号)"
            errors.append(RowError(row, HEADERS[key], f"{e}. Correct the {what}, or leave it "
                                   "empty if unknown.", raw))
    return errors


@dataclass
class ImportOutcome:
    """What importing a list did: the file as read and, when received, the receipt."""

    file: AssistanceFile
    list_id: UUID | None = None
    items: int = 0
    matched: int = 0
    routed: int = 0
    unrouted: int = 0


def import_assistance_list(app: GridcoreApp, path: str | Path, *, source: Source | str,
                           reference: str, scope: str, by: Actor, source_name: str = "",
                           limits: Limits | None = None) -> ImportOutcome:
    """Read a list and receive it whole (nothing is received when a row has an error)."""
    read = read_assistance_file(path, limits)
    out = ImportOutcome(read)
    if not read.ok:
        return out
    receipt = app.receive_assistance_list(source, reference, read.rows, scope, by=by,
                                          source_name=source_name,
                                          list_format=ListFormat(read.kind))
    out.list_id, out.items, out.matched = receipt.list_id, receipt.items, receipt.matched
    out.routed, out.unrouted = receipt.routed, receipt.unrouted
    return out


# ---- the result file ----------------------------------------------------------------------------

def result_cells(item: AssistanceItem) -> list[str]:
    """核查结果, 采取措施, 核查时间 of an item as the sender reads them."""
    status = item.status.label
    if item.status is ItemStatus.MOVED_AWAY and item.moved_to_city:
        status = f"{status} → {item.moved_to_city}"
    elif item.status is ItemStatus.PENDING:
        status = f"{status}{' (逾期 overdue)' if item.missed else ''}"
    if item.note and item.status is not ItemStatus.PENDING:
        status = f"{status}: {item.note}"
    checked = item.reported_at.isoformat(timespec="minutes") if item.reported_at else ""
    return [status, item.measure or "", checked]


def _standard_rows(a: AssistanceList) -> list[list[Any]]:
    rows: list[list[Any]] = [[*HEADERS.values(), *RESULT_COLUMNS]]
    for i in a.items:
        s = i.subject
        rows.append([s.name or "", s.phone.reveal() if s.phone else "",
                     s.id_number.reveal() if s.id_number else "", s.address or "",
                     i.district or "", s.reason or "", *result_cells(i)])
    return rows


def _original_rows(a: AssistanceList, original: Path, limits: Limits | None) -> list[list[Any]]:
    """The sender's own header and rows (as typed), each person's results appended."""
    table = read_table(original, limits)
    header_row, _, _ = _header(table)
    width = max((len(c) for _, c in table.rows), default=0)
    out: list[list[Any]] = []
    n = 0
    for row_no, cells in table.rows:
        padded = [*cells, *[None] * (width - len(cells))]
        if row_no < header_row:
            out.append(padded)
        elif row_no == header_row:
            out.append([*padded, *RESULT_COLUMNS])
        elif not any(_text(c) for c in cells):
            out.append(padded)
        else:
            n += 1
            if n > len(a.items):
                raise InvalidInput(f"{original.name} has more persons than list "
                                   f"{a.reference} ({len(a.items)}).",
                                   "Give the file the list was received from.")
            out.append([*padded, *result_cells(a.items[n - 1])])
    if n != len(a.items):
        raise InvalidInput(f"{original.name} has {n} persons, list {a.reference} "
                           f"{len(a.items)}.", "Give the file the list was received from.")
    return out


def write_result_file(app: GridcoreApp, reference: str, out: str | Path, *,
                      original: str | Path | None = None, fmt: str | None = None,
                      limits: Limits | None = None) -> int:
    """Write the answer to the sender: the list's rows with each person's result, in the
    list's own format (``fmt``: ``csv`` or ``xlsx`` to choose; an API list is answered as
    CSV). Returns the persons written."""
    a = app.assistance_list(reference)
    rows = (_original_rows(a, Path(original), limits) if original is not None
            else _standard_rows(a))
    kind = fmt or ("xlsx" if a.list_format is ListFormat.XLSX else "csv")
    path = Path(out)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if kind == "xlsx":
        os.close(fd)
        xlsx_write(path, "协查结果", rows)
        os.chmod(path, 0o600)
    else:
        with open(fd, "w", newline="", encoding="utf-8-sig") as f:  # -sig: Excel reads UTF-8
            csv_writer(f).writerows([[_csv_value(v) for v in r] for r in rows])
    return len(a.items)


def _csv_value(value: Any) -> Any:
    return "" if value is None else value
