"""Bulk household import from a grid office's register (住户登记表).

A register is a CSV file (UTF-8 with or without BOM, or GB18030 as older Excel versions save
it) or an Excel ``.xlsx`` workbook (first sheet), one row per resident. Rows with the same 户号
form one household; its members are numbered in row order. Columns, by their Chinese header or
the English alias (extra columns are ignored):

==========  ================  ========  ===================================================
header      alias             required  content
==========  ================  ========  ===================================================
户号        household_no      yes       the household number, e.g. ``712-05-1-101``
微网格      micro_grid        yes       the micro-grid code, e.g. ``420102001712-01``
楼栋        building          no        the building number in the community (``3`` or ``3栋``)
地址        address           yes       the door address, e.g. ``5栋1单元101``
姓名        name              yes       the resident's name
电话        phone             no        mobile or landline
身份证号    id_number         no        18 characters with a GB 11643 check character
出生年份    birth_year        no        e.g. ``1952`` (taken from the ID number when empty)
弱势        vulnerabilities   no        labels separated by ``;``, ``、`` or ``,``
经度        longitude         no        the household's own point, decimal degrees
纬度        latitude          no        (in the import's ``crs``: wgs84, gcj02 or bd09)
==========  ================  ========  ===================================================

经度/纬度 (both or neither) locate the household's door; the point is sealed as the address
is. A row with a point and no 微网格 is registered in the micro-grid of the import's
``community`` whose boundary contains the point (the result's ``proposed`` and ``warnings``
say so); with none, it is an error of the row. A point outside the household's micro-grid's
boundary is accepted and reported as a warning (位置不在所属网格内).

微网格, 楼栋 and 地址 describe the household: a later row of a household may leave them empty (as
merged cells read), but it may not contradict the household's first row. A building (楼栋) must
be registered in the micro-grid's community first (the ``registerBuilding`` mutation): a row
naming an unregistered one is an error of that row (the application refuses it too).

A register is bounded: more than ``GRIDCORE_IMPORT_MAX_ROWS`` rows (default 200,000) or
``GRIDCORE_IMPORT_MAX_BYTES`` bytes (default 100,000,000) is refused before any check, with a
message saying to split it; an ``.xlsx`` sheet is streamed (openpyxl's read-only mode) and
reading stops at the limit, so a sheet of millions of rows costs neither minutes nor
gigabytes. A file that cannot be read (a broken workbook, a CSV quote never closed, which
would swallow the rest of the file into one cell) is a ``RegisterFormatError`` naming what is
wrong.

Every row is checked before anything is written. A file with errors imports nothing, unless
``good_rows_only=True``, which imports the households none of whose rows has an error. A
household that is already registered is counted, not imported again, so importing the same
file twice is harmless. Error messages never repeat a phone number, ID number, name or address
unmasked. The application is used through its public API only.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.spreadsheet import HeaderMatcher, csv_writer, norm_header
from gridcore.application import MAX_BATCH, GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import GridcoreError, InvalidInput, NotFound
from gridcore.geo import Area, Crs, Point
from gridcore.grid import GridNode, Level
from gridcore.household import VULNERABILITY_LABELS, Member, Vulnerability, check_address
from gridcore.identity import IdNumber, Phone
from gridcore.location import MISPLACED_LABEL, household_point, located_point, outside

# ---- the register's columns -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    synonyms: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.header} {self.key}"


COLUMNS = (
    Column("household_no", "户号", True, ("户编号", "户籍号")),
    Column("micro_grid", "微网格", True, ("微网格编码", "微网格代码", "网格编码", "片区编码")),
    Column("building", "楼栋", False, ("楼栋号", "楼号")),
    Column("address", "地址", True, ("住址", "门牌", "门牌号", "详细地址")),
    Column("name", "姓名", True, ()),
    Column("phone", "电话", False, ("联系电话", "手机", "手机号", "手机号码", "电话号码")),
    Column("id_number", "身份证号", False, ("身份证", "身份证号码", "公民身份号码")),
    Column("birth_year", "出生年份", False, ("出生年", "出生年月")),
    Column("vulnerabilities", "弱势", False, ("弱势标签", "弱势情况", "弱势类别")),
    Column("longitude", "经度", False, ("lng", "lon", "东经")),
    Column("latitude", "纬度", False, ("lat", "北纬")),
)
BY_KEY = {c.key: c for c in COLUMNS}
HOUSEHOLD_KEYS = ("micro_grid", "building", "address", "longitude", "latitude")
_PLACE_KEYS = ("address", "longitude", "latitude")  # personal: a message never repeats them


_norm = norm_header
column_key = HeaderMatcher({c.key: (c.header, c.key, *c.synonyms) for c in COLUMNS})
"""The column a header names: ``户号``, ``household_no``, ``户号 household_no``, ``*户号`` or
``电话(phone)`` all work."""


# ---- vulnerability labels --------------------------------------------------------------------

_VULN_SPLIT = re.compile(r"[;；、,，]+")
_VULNS: dict[str, Vulnerability] = {}
for _v, _label in VULNERABILITY_LABELS.items():
    _zh, _en = _label.split(" ", 1)
    for _name in (_v.value, _zh, _en, _label, _v.value.replace("_", " ")):
        _VULNS[_norm(_name)] = _v
_VULNS.update({_norm("65岁及以上"): Vulnerability.AGE_65_PLUS,
               _norm("65+"): Vulnerability.AGE_65_PLUS,
               _norm("孕产妇"): Vulnerability.PREGNANCY})
ACCEPTED_VULNERABILITIES = ", ".join(
    f"{lab.split(' ', 1)[0]}/{v.value}" for v, lab in VULNERABILITY_LABELS.items())


def parse_vulnerabilities(text: str) -> tuple[list[Vulnerability], list[str]]:
    """The labels of a 弱势 cell, and the parts that are not a known label."""
    found: list[Vulnerability] = []
    unknown: list[str] = []
    for part in _VULN_SPLIT.split(text):
        if not part.strip():
            continue
        v = _VULNS.get(_norm(part))
        if v is None:
            unknown.append(part.strip())
        elif v not in found:
            found.append(v)
    return found, unknown


# ---- results ---------------------------------------------------------------------------------


class RowError(NamedTuple):
    """One problem: the row as the office sees it (the header is row 1), the column as its
    header reads, and what was wrong and what would be right (never a personal value
    unmasked). ``given`` is the cell as typed: the importing clerk's own input, for the
    door that shows it to them (``gridcore import``), never to anyone else."""

    row: int
    column: str
    message: str
    given: str = ""


@dataclass
class ImportResult:
    """What an import found and did. ``households`` and ``residents`` count what this import
    registered; ``errors`` is empty when the file was clean."""

    rows: int = 0
    households_in_file: int = 0
    residents_in_file: int = 0
    households: int = 0
    residents: int = 0
    already_registered: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    header_ok: bool = True
    over_cap: dict[str, int] = field(default_factory=dict)
    notification_id: int | None = None
    warnings: list[RowError] = field(default_factory=list)
    """what was accepted but is worth a look: a micro-grid proposed from a point, a point
    outside its micro-grid (位置不在所属网格内)"""
    proposed: dict[str, str] = field(default_factory=dict)
    """household number -> the micro-grid proposed from its point (no 微网格 given)"""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


class RegisterFormatError(InvalidInput):
    """The file cannot be read as a register at all (not CSV/XLSX, undecodable, empty)."""

    code = "REGISTER_FORMAT"


# ---- reading the file ------------------------------------------------------------------------

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
HEADER_SEARCH_ROWS = 10
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_BYTES = 100_000_000


@dataclass(frozen=True)
class Limits:
    """How big a register may be: rows (the header included) and bytes of the file."""

    rows: int = DEFAULT_MAX_ROWS
    bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """``GRIDCORE_IMPORT_MAX_ROWS`` and ``GRIDCORE_IMPORT_MAX_BYTES`` (positive whole
        numbers; ``_`` allowed as in 200_000), else the defaults."""
        env = os.environ if environ is None else environ
        values = {}
        for name, key, default in (("GRIDCORE_IMPORT_MAX_ROWS", "rows", DEFAULT_MAX_ROWS),
                                   ("GRIDCORE_IMPORT_MAX_BYTES", "bytes", DEFAULT_MAX_BYTES)):
            raw = env.get(name, "").strip()
            try:
                values[key] = int(raw) if raw else default
            except ValueError:
                values[key] = 0
            if values[key] < 1:
                raise RegisterFormatError(f"{name}={raw!r} is not a positive whole number.",
                                          f"Set it to a number of {key}, e.g. {default}, or "
                                          "unset it for the default.")
        return cls(**values)


def _too_many_rows(path: Path, limits: Limits) -> RegisterFormatError:
    return RegisterFormatError(
        f"{path.name} has more than {limits.rows:,} rows.",
        f"Split the register into files of at most {limits.rows:,} rows (for example one per "
        "community or micro-grid), or raise GRIDCORE_IMPORT_MAX_ROWS.")


@dataclass
class Table:
    """The cells of a register, rows numbered as the office sees them (from 1)."""

    rows: list[tuple[int, list[Any]]]
    kind: str


def read_table(path: str | Path, limits: Limits | None = None) -> Table:
    path = Path(path)
    limits = limits or Limits.from_env()
    try:
        size = path.stat().st_size
        if size > limits.bytes:
            raise RegisterFormatError(
                f"{path.name} is {size:,} bytes, more than the {limits.bytes:,} allowed.",
                "Split the register into smaller files (for example one per community), or "
                "raise GRIDCORE_IMPORT_MAX_BYTES.")
        data = path.read_bytes()
    except OSError as e:
        raise RegisterFormatError(f"Cannot read {path}: {e.strerror or e}.",
                                  "Give the path of a CSV or .xlsx register.") from None
    if not data.strip():
        raise RegisterFormatError(f"{path.name} is empty.",
                                  "Export the register with its header row and resident rows.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RegisterFormatError(f"{path.name} is an old Excel .xls workbook.",
                                  "Save it as Excel .xlsx (Excel 工作簿) or CSV UTF-8 and retry.")
    if path.suffix.lower() in XLSX_SUFFIXES or data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, data, limits)
    return _read_csv(path, data, limits)


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise RegisterFormatError(f"{path.name} is not a text (CSV) file.",
                                  "Give a CSV (UTF-8 or GB18030) or .xlsx register.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegisterFormatError(f"{path.name} is neither UTF-8 nor GB18030 text.",
                              "Save it as CSV UTF-8 (CSV UTF-8 逗号分隔) and retry.")


def _read_csv(path: Path, data: bytes, limits: Limits) -> Table:
    text = _decode(path, data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows: list[tuple[int, list[Any]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last_start = ended = 0  # the file line the last row starts on; where the one before ends
    try:
        for i, record in enumerate(reader, start=1):
            if i > limits.rows:
                raise _too_many_rows(path, limits)
            rows.append((i, record))
            last_start, ended = ended + 1, reader.line_num
    except csv.Error as e:
        raise RegisterFormatError(f"{path.name} is not valid CSV: {e}.",
                                  "Check the quotes, or save the file again as CSV.") from None
    if rows and '"' in text:
        _check_last_quote(path, text, delimiter, rows[-1][0], last_start)
    return Table(rows, "csv")


def _check_last_quote(path: Path, text: str, delimiter: str, row: int, start: int) -> None:
    """Refuse a quote (") opened and never closed: the lenient reader takes the rest of the
    file as one cell, and the rows it swallowed would be reported as missing names. Such a
    quote always ends the last row (starting on file line ``start``), so only that row is
    read again, strictly."""
    tail = "".join(io.StringIO(text, newline="").readlines()[start - 1:])  # the reader's lines
    try:
        list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise RegisterFormatError(
                f"{path.name}: row {row} (line {start} of the file) opens a quote "
                "(\") that is never closed, so everything after it would be read as one "
                "cell.", "Close or remove that quote and save the file again.") from None


def _read_xlsx(path: Path, data: bytes, limits: Limits) -> Table:
    """The first sheet's rows, streamed (read-only mode) and stopped at the row limit. Any
    failure to read the workbook (a broken zip, malformed sheet XML, a missing part) is a
    ``RegisterFormatError``: the file is not a register we can read, whatever the cause."""
    import openpyxl

    def unreadable(e: BaseException) -> RegisterFormatError:
        return RegisterFormatError(
            f"{path.name} is not a readable .xlsx workbook ({type(e).__name__}: "
            f"{str(e)[:200]}).", "Open it in Excel and save it again as .xlsx, or export CSV.")

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise unreadable(e) from None
    except Exception as e:  # malformed XML and the like: still just an unreadable file
        raise unreadable(e) from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise RegisterFormatError(f"{path.name} has no worksheet.",
                                      "Put the register on the first sheet.")
        rows: list[tuple[int, list[Any]]] = []
        for i, r in enumerate(ws.iter_rows(values_only=True), start=1):
            if i > limits.rows:
                raise _too_many_rows(path, limits)
            rows.append((i, list(r)))
    except RegisterFormatError:
        raise
    except Exception as e:  # a sheet that breaks while streamed
        raise unreadable(e) from None
    finally:
        wb.close()
    return Table(rows, "xlsx")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# ---- checking ----------------------------------------------------------------------------------


@dataclass
class _Row:
    row: int
    cells: dict[str, str]
    numeric_id: bool = False
    member: Member | None = None


@dataclass
class _Household:
    no: str
    rows: list[_Row] = field(default_factory=list)
    micro_grid: str = ""
    address: str = ""
    building: str = ""
    community: str = ""
    registered: bool = False
    longitude: str = ""
    latitude: str = ""
    point: Point | None = None


@dataclass
class _Plan:
    result: ImportResult
    households: dict[str, _Household]
    headers: dict[str, str]


class _Checker:
    """Validates rows against the grid through the application's public API."""

    def __init__(self, app: GridcoreApp, headers: dict[str, str], result: ImportResult,
                 crs: Crs = Crs.WGS84, community: str | None = None) -> None:
        self.app = app
        self.crs, self.community = crs, community
        self.boundaries: dict[str, Area | None] = {}  # micro-grid -> its boundary now
        self.headers = headers
        self.result = result
        self.grids: dict[str, tuple[str, str | None]] = {}
        self.buildings: dict[tuple[str, str], bool] = {}  # (community, number) -> registered
        self.cells: dict[int, dict[str, str]] = {}  # row -> its cells as typed, by column key
        self.this_year = app.clock().year

    def error(self, row: int, key: str, problem: str, remedy: str = "") -> None:
        column = self.headers.get(key, BY_KEY[key].label if key in BY_KEY else key)
        self.result.errors.append(RowError(row, column, f"{problem} {remedy}".strip(),
                                           self.cells.get(row, {}).get(key, "")))

    def grid(self, code: str) -> tuple[str, str | None]:
        """(community code, None) for an active micro-grid, else ('', what is wrong)."""
        if code not in self.grids:
            self.grids[code] = self._check_grid(code)
        return self.grids[code]

    def _check_grid(self, code: str) -> tuple[str, str | None]:
        try:
            node = self.app.node(code)
        except NotFound:
            return "", (f"Micro-grid code {code!r} is unknown. "
                        f"{self._suggest(code) or 'Check the code against the grid.'}")
        if node.level is not Level.MICRO_GRID:
            kids = self._micro_grids_of(node)
            hint = (f"Use one of its micro-grids: {kids}." if kids
                    else "Give the code of a micro-grid (微网格).")
            return "", f"{code} is a {node.level.label} ({node.name}), not a micro-grid. {hint}"
        try:
            node.require_active()
        except GridcoreError as e:
            return "", str(e)
        return node.parent_code or "", None

    @staticmethod
    def _micro_grids_of(node: GridNode, limit: int = 6) -> str:
        """A community's micro-grid codes (a few), or '' for another level."""
        if node.level is not Level.COMMUNITY or not node.children:
            return ""
        kids = node.children[:limit] + (["…"] if len(node.children) > limit else [])
        return ", ".join(kids)

    def _suggest(self, code: str) -> str:
        parent = re.split(r"[-_]", code, maxsplit=1)[0]
        if parent == code:
            return ""
        try:
            node = self.app.node(parent)
        except NotFound:
            return ""
        kids = self._micro_grids_of(node)
        return f"Micro-grids of {node.code} ({node.name}): {kids}." if kids else ""

    # -- one household -------------------------------------------------------------------

    def household(self, h: _Household, seen_ids: dict[str, int]) -> None:
        first = h.rows[0]
        for key in HOUSEHOLD_KEYS:
            given = [(r.row, v) for r in h.rows if (v := r.cells.get(key, ""))]
            if not given:
                continue
            (ref_row, ref), what = given[0], BY_KEY[key]
            setattr(h, key, ref)
            for row, value in given[1:]:
                if value == ref:
                    continue
                problem = (f"Household {h.no} has a different {what.key} here than in row "
                           f"{ref_row}." if key in _PLACE_KEYS else
                           f"Household {h.no} has {what.key.replace('_', '-')} {value!r} here "
                           f"but {ref!r} in row {ref_row}.")
                self.error(row, key, problem,
                           f"Give every row of a household the same {what.header} (or leave "
                           "it empty after the first).")
        self.point(h)
        if not h.micro_grid and h.point is not None:
            self.propose(h)
        elif not h.micro_grid:
            self.error(first.row, "micro_grid", "The micro-grid code is missing.",
                       "Give the household's micro-grid (微网格) code, e.g. '420102001712-01'.")
        if not h.address:
            self.error(first.row, "address", "The address is missing.",
                       "Give the household's door address (门牌), e.g. '5栋1单元101'.")
        else:
            try:
                check_address(h.address)
            except InvalidInput:
                self.error(first.row, "address", "The address is too short or too long.",
                           "Give the door address in 2 to 200 characters, e.g. '5栋1单元101'.")
        for r in h.rows:
            code = r.cells.get("micro_grid", "")
            if code:
                community, problem = self.grid(code)
                if problem:
                    self.error(r.row, "micro_grid", problem)
                elif code == h.micro_grid:
                    h.community = community
        if h.building and h.community:
            self.building(h)
        if h.community:
            self.misplaced(h)
        for member_no, r in enumerate(h.rows, start=1):
            self.resident(h, member_no, r, seen_ids)

    # -- the household's point (经度/纬度) -------------------------------------------------

    def _place_row(self, h: _Household) -> int:
        return next((r.row for r in h.rows if r.cells.get("longitude", "")
                     or r.cells.get("latitude", "")), h.rows[0].row)

    def point(self, h: _Household) -> None:
        """The household's own point from 经度/纬度 (both or neither; values never repeated
        in a message: a door's point is personal data)."""
        if not h.longitude and not h.latitude:
            return
        row = self._place_row(h)
        if not h.longitude or not h.latitude:
            missing = "longitude" if not h.longitude else "latitude"
            self.error(row, missing, f"The location has no {BY_KEY[missing].label}.",
                       "Give both 经度 and 纬度 (decimal degrees), or neither.")
            return
        try:
            h.point = located_point(float(h.longitude), float(h.latitude), self.crs)
        except (ValueError, GridcoreError):
            self.error(row, "longitude", "The location is not a coordinate.",
                       "Give 经度 (longitude, -180 to 180) and 纬度 (latitude, -90 to 90) in "
                       f"decimal degrees ({self.crs.label}), e.g. 114.2981 and 30.6425.")

    def propose(self, h: _Household) -> None:
        """A household with a point and no 微网格: the micro-grid of the import's community
        whose boundary contains the point."""
        row = h.rows[0].row
        assert h.point is not None
        if not self.community:
            self.error(row, "micro_grid", "The micro-grid code is missing.",
                       "Give the household's micro-grid (微网格) code, or import with the "
                       "community (--community) whose boundaries place it by its 经度/纬度.")
            return
        try:
            found = self.app.propose_micro_grid(h.point, self.community)
        except NotFound:
            found, none_because = None, f"community {self.community} is unknown"
        else:
            none_because = f"it lies in none of {self.community}'s drawn micro-grids"
        if found is None:
            self.error(row, "micro_grid", f"The micro-grid code is missing and the location "
                       f"proposes none: {none_because}.",
                       "Give the household's micro-grid (微网格) code, or draw the "
                       "micro-grids' boundaries first (gridcore grid boundaries).")
            return
        community, problem = self.grid(found)
        if problem:
            self.error(row, "micro_grid", problem)
            return
        h.micro_grid, h.community = found, community
        self.result.proposed[h.no] = found
        self.warn(row, "micro_grid", f"按位置划入 placed by its location: household {h.no} "
                  f"is registered in micro-grid {found}, whose boundary contains it.")

    def misplaced(self, h: _Household) -> None:
        """A point (own, else its building's) outside the micro-grid's boundary: a
        warning, the row is accepted."""
        building = None
        if h.building:
            try:
                building = self.app.building(building_id(h.community, _building_no(h.building)))
            except NotFound:
                building = None
        where = household_point(h.point, building)
        if where is None:
            return
        if h.micro_grid not in self.boundaries:
            self.boundaries[h.micro_grid] = self.app.node(h.micro_grid).boundary
        if not outside(where, self.boundaries[h.micro_grid]):
            return
        own = h.point is not None
        self.warn(self._place_row(h) if own else h.rows[0].row,
                  "longitude" if own else "building",
                  f"{MISPLACED_LABEL}: household {h.no}'s "
                  f"{'location' if own else 'building'} lies outside micro-grid "
                  f"{h.micro_grid}'s boundary (accepted).")

    def warn(self, row: int, key: str, message: str) -> None:
        column = self.headers.get(key, BY_KEY[key].label if key in BY_KEY else key)
        self.result.warnings.append(RowError(row, column, message))

    def building(self, h: _Household) -> None:
        """The building a household names is registered in its micro-grid's community."""
        number = _building_no(h.building)
        key = (h.community, number)
        if key not in self.buildings:
            try:
                self.app.building(building_id(*key))
            except NotFound:
                self.buildings[key] = False
            else:
                self.buildings[key] = True
        if not self.buildings[key]:
            row = next(r.row for r in h.rows if r.cells.get("building", ""))
            self.error(row, "building",
                       f"Building {number} is not registered in community {h.community}.",
                       "Register the building first (the registerBuilding mutation), then "
                       "import again; or correct 楼栋 or leave it empty.")

    def resident(self, h: _Household, member_no: int, r: _Row, seen_ids: dict[str, int]) -> None:
        before = len(self.result.errors)
        cells = r.cells
        name = cells.get("name", "")
        if not name:
            self.error(r.row, "name", "The name is missing.", "Give the resident's name (姓名).")
        elif len(name) > 50:
            self.error(r.row, "name", "The name is longer than 50 characters.",
                       "Give only the resident's name in this column.")
        phone = None
        if raw := cells.get("phone", ""):
            try:
                phone = Phone.parse(raw)
            except ValueError as e:
                self.error(r.row, "phone", f"The {e}.", "Correct it or leave the cell empty.")
        id_number = None
        if raw := cells.get("id_number", ""):
            try:
                id_number = IdNumber.parse(raw)
            except ValueError as e:
                hint = ("Excel stored it as a number and dropped digits: format the column as "
                        "text (文本) and enter it again." if r.numeric_id
                        else "Correct it or leave the cell empty.")
                self.error(r.row, "id_number", f"The {e}.", hint)
            else:
                key = id_number.reveal()
                if key in seen_ids:
                    self.error(r.row, "id_number",
                               f"The ID number {id_number} is already given in row "
                               f"{seen_ids[key]}.",
                               "A person is registered once: remove the duplicate row or "
                               "correct the number.")
                else:
                    seen_ids[key] = r.row
        birth_year = self.birth_year(r, id_number)
        vulnerabilities: list[Vulnerability] = []
        if raw := cells.get("vulnerabilities", ""):
            vulnerabilities, unknown = parse_vulnerabilities(raw)
            if unknown:
                self.error(r.row, "vulnerabilities",
                           f"Unknown vulnerability label{'s' if len(unknown) > 1 else ''} "
                           f"{'、'.join(repr(u) for u in unknown)}.",
                           f"Use {ACCEPTED_VULNERABILITIES}, separated by ; 、 or ,.")
        if len(self.result.errors) > before or not name:
            return
        try:
            r.member = new_member(h.no, member_no, name, phone.reveal() if phone else None,
                                  id_number.reveal() if id_number else None, birth_year,
                                  vulnerabilities)
        except GridcoreError as e:
            self.error(r.row, "name", str(e))

    def birth_year(self, r: _Row, id_number: IdNumber | None) -> int | None:
        raw = r.cells.get("birth_year", "")
        from_id = int(id_number.reveal()[6:10]) if id_number else None
        if not raw:
            return from_id
        m = re.fullmatch(r"(\d{4})(?:\s*年.*|[-/.]\d{1,2}(?:[-/.]\d{1,2})?(?:[T ].*)?)?", raw)
        if m is None:
            self.error(r.row, "birth_year", f"Birth year {raw!r} is not a year.",
                       "Give a 4-digit year, e.g. 1952.")
            return None
        year = int(m.group(1))
        if not 1890 <= year <= self.this_year:
            self.error(r.row, "birth_year", f"Birth year {year} is implausible.",
                       f"Give a year from 1890 to {self.this_year}, e.g. 1952.")
            return None
        if from_id is not None and from_id != year:
            self.error(r.row, "birth_year",
                       f"Birth year {year} disagrees with the ID number's birth year.",
                       "Correct one of them, or leave 出生年份 empty to take it from the ID.")
            return None
        return year


def find_header(table: Table, matcher: Callable[[str], str | None], labels: dict[str, str],
                required: Sequence[str], what: str, wanted: str, known: int = 0,
                ) -> tuple[int, dict[int, str], list[str], list[RowError]]:
    """The header row of a file that is not a household register (a lab's results, a
    roster, an assistance list): the first of its first rows naming every ``required``
    column and at least ``known`` columns (else the first row with text), each known
    column's position, the headers it does not know (skipped), and the header's errors (a
    column twice, a required one missing). ``labels`` names each column as messages show it;
    ``wanted`` lists the columns to head the file with."""
    candidates = [(i, cells) for i, cells in table.rows[:HEADER_SEARCH_ROWS]
                  if any(_text(c) for c in cells)]
    if not candidates:
        raise RegisterFormatError(f"The {what} has no header row.",
                                  f"Start with a header row: {wanted}.")
    row, cells = next(((i, cs) for i, cs in candidates
                       if set(required) <= (keys := {matcher(_text(c)) for c in cs})
                       and len(keys - {None}) >= known), candidates[0])
    positions: dict[int, str] = {}
    skipped: list[str] = []
    errors: list[RowError] = []
    for pos, cell in enumerate(cells):
        text = _text(cell)
        key = matcher(text) if text else None
        if key is None:
            if text:
                skipped.append(text)
            continue
        if key in positions.values():
            errors.append(RowError(row, text, f"Column {labels[key]} appears twice. Keep one "
                                   "of them."))
            continue
        positions[pos] = key
    for key in required:
        if key not in positions.values():
            seen = ", ".join(_text(c) for c in cells if _text(c)) or "nothing"
            errors.append(RowError(row, "header", f"The file has no {labels[key]} column "
                                   f"(its header reads: {seen[:200]}). Head the columns "
                                   f"{wanted}."))
    return row, positions, skipped, errors


def _header(table: Table, result: ImportResult) -> tuple[int, dict[int, str], dict[str, str]]:
    """Find the header row (the first of the first rows naming two known columns) and map
    column positions to keys. Missing or repeated columns are errors of row 1 (or the header's
    row)."""
    candidates = [(i, cells) for i, cells in table.rows[:HEADER_SEARCH_ROWS]
                  if any(_text(c) for c in cells)]
    if not candidates:
        names = ", ".join(c.header for c in COLUMNS)
        raise RegisterFormatError("The file has no header row.",
                                  f"Start with a header row: {names}.")
    header_row, cells = next(
        ((i, cs) for i, cs in candidates
         if len({column_key(_text(c)) for c in cs} - {None}) >= 2), candidates[0])
    positions: dict[int, str] = {}
    headers: dict[str, str] = {}
    for pos, cell in enumerate(cells):
        text = _text(cell)
        key = column_key(text) if text else None
        if key is None:
            continue
        if key in headers:
            result.errors.append(RowError(header_row, text, (
                f"Column {BY_KEY[key].label} appears twice (also as {headers[key]!r}). "
                "Keep one of them.")))
            continue
        positions[pos] = key
        headers[key] = text
    for c in COLUMNS:
        if c.required and c.key not in headers:
            result.errors.append(RowError(header_row, c.label, (
                f"The required column {c.header} ({c.key}) is missing. "
                f"Add a column headed {c.header!r} or {c.key!r}.")))
    result.header_ok = not result.errors
    return header_row, positions, headers


PROGRESS_MIN_ROWS = 200


@contextmanager
def _progress(console: Console | None, total_rows: int) -> Iterator[Progress | None]:
    if console is None or total_rows < PROGRESS_MIN_ROWS:
        yield None
        return
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True,
                        disable=not console.is_terminal)
    with progress:
        yield progress


def check_register(app: GridcoreApp, path: str | Path,
                   console: Console | None = None, limits: Limits | None = None,
                   crs: Crs = Crs.WGS84, community: str | None = None) -> ImportResult:
    """Check a register without writing anything."""
    table = read_table(path, limits)
    with _progress(console, len(table.rows)) as progress:
        return _check(app, table, progress, crs, community).result


def _check(app: GridcoreApp, table: Table, progress: Progress | None = None,
           crs: Crs = Crs.WGS84, community: str | None = None) -> _Plan:
    result = ImportResult()
    header_row, positions, headers = _header(table, result)
    plan = _Plan(result, {}, headers)
    if not result.header_ok:
        return plan
    checker = _Checker(app, headers, result, crs, community)
    households = plan.households
    id_pos = next((p for p, k in positions.items() if k == "id_number"), None)
    for row_no, cells in table.rows:
        if row_no <= header_row or not any(_text(c) for c in cells):
            continue
        values = {key: _text(cells[pos]) if pos < len(cells) else ""
                  for pos, key in positions.items()}
        numeric_id = (table.kind == "xlsx" and id_pos is not None and id_pos < len(cells)
                      and isinstance(cells[id_pos], int | float))
        r = _Row(row_no, values, numeric_id)
        checker.cells[row_no] = values
        result.rows += 1
        no = values.get("household_no", "")
        if not no:
            checker.error(row_no, "household_no", "The household number is missing.",
                          "Give the household number (户号); rows with the same 户号 form "
                          "one household.")
            continue
        households.setdefault(no, _Household(no)).rows.append(r)
    result.households_in_file = len(households)
    result.residents_in_file = sum(len(h.rows) for h in households.values())
    task = progress.add_task("检查 checking", total=len(households)) if progress else None
    seen_ids: dict[str, int] = {}
    for h in households.values():
        checker.household(h, seen_ids)
        try:
            app.household_by_no(h.no)
        except NotFound:
            pass
        else:
            h.registered = True
            result.already_registered += 1
        if progress is not None and task is not None:
            progress.advance(task)
    result.errors.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda e: e.row)
    return plan


def import_households(app: GridcoreApp, path: str | Path, *, good_rows_only: bool = False,
                      dry_run: bool = False, batch_size: int = MAX_BATCH,
                      console: Console | None = None,
                      limits: Limits | None = None, crs: Crs = Crs.WGS84,
                      community: str | None = None) -> ImportResult:
    """Import a household register (CSV or .xlsx), see the module's documentation.

    Raises :class:`RegisterFormatError` when the file cannot be read as a table; everything
    else wrong with the file is in the result's ``errors``. With errors, nothing is written
    unless ``good_rows_only``; ``dry_run`` checks without writing. Households are registered
    in batches of at most ``batch_size`` (itself at most ``MAX_BATCH``), one transaction each.
    ``limits`` bounds the file (default: ``Limits.from_env()``). ``crs``: the system the
    经度/纬度 columns are in; ``community``: where a row with a point and no 微网格 is placed.
    """
    table = read_table(path, limits)
    with _progress(console, len(table.rows)) as progress:
        plan = _check(app, table, progress, crs, community)
        result = plan.result
        bad = set(result.bad_rows)
        todo = [h for h in plan.households.values()
                if not h.registered and not any(r.row in bad for r in h.rows)]
        result.skipped = sum(1 for h in plan.households.values()
                             if not h.registered and any(r.row in bad for r in h.rows))
        if dry_run or not result.header_ok or (result.errors and not good_rows_only):
            return result
        rows = [HouseholdRow(h.no, h.micro_grid, h.address,
                             [r.member for r in h.rows if r.member is not None],
                             building_id(h.community, _building_no(h.building))
                             if h.building else None, h.point, crs)
                for h in todo]
        _register(app, rows, result, max(1, min(batch_size, MAX_BATCH)), progress)
    return result


def write_error_report(path: str | Path, register: str | Path, result: ImportResult,
                       limits: Limits | None = None) -> int:
    """Write the errors of an import to a CSV the office can open in Excel: row, column,
    reason, then the row's cells as typed (to fix and import again). Returns the lines written.

    The cells are personal data, so the file is created owner-only (0600); and they are as
    typed, so a cell such as ``=HYPERLINK(...)`` is written neutralised (``adapters.spreadsheet``).
    """
    table = read_table(register, limits)
    cells = dict(table.rows)
    header_row, _, _ = _header(table, ImportResult())
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", newline="", encoding="utf-8-sig") as f:  # -sig: Excel reads UTF-8
        w = csv_writer(f)
        w.writerow(["行 row", "列 column", "原因 reason", *cells.get(header_row, [])])
        for e in result.errors:
            w.writerow([e.row, e.column, e.message, *cells.get(e.row, [])])
    return len(result.errors)


def _building_no(text: str) -> str:
    """``3``, ``3栋``, ``3号楼``, ``3幢`` and ``3号`` are building 3."""
    return re.sub(r"(号楼|栋|幢|号)$", "", text.strip()) or text.strip()


def _register(app: GridcoreApp, rows: Sequence[HouseholdRow], result: ImportResult,
              batch_size: int, progress: Progress | None) -> None:
    task = progress.add_task("登记 registering", total=len(rows)) if progress else None
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        report = app.register_households(batch, by=System.OPERATOR)
        result.households += report.registered
        result.already_registered += report.already_registered
        # Exact unless a concurrent import registered some of this batch's households first
        # (then the batch's size-weighted share is counted).
        members = sum(len(r.members) for r in batch)
        result.residents += members if not report.already_registered else round(
            members * report.registered / len(batch))
        result.over_cap.update(report.over_cap)
        result.notification_id = report.notification_id or result.notification_id
        if progress is not None and task is not None:
            progress.advance(task, len(batch))

