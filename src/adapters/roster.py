"""A community's staff roster (花名册): one member a row, read from CSV or .xlsx and enrolled
through ``GridcoreApp.enrol_staff_many`` (the file door beside ``enrolStaff``).

The file: a header row naming the columns in Chinese or English (工号/staff_no, 姓名/name,
角色/role, 辖区/jurisdiction, optionally 每日户数/daily_capacity and 电话/phone), then one
member a row; empty rows and other columns are skipped. A role reads as its label (网格员,
党员, 志愿者, 家庭签约医生, 社区民警, 物业, 企业服务专员, 总值班, 干部), in English
(grid worker) or as its value (grid_worker). A jurisdiction is one node code or several
separated by ``;``, ``、`` or ``,`` (a grid worker's zones). The file is read as the household
importer reads a register (``adapters.importer.read_table``).

All or nothing: every row is checked first, on its own (the cells) and against the store (each
node exists and is active, no node of a jurisdiction inside another, a staff number on one row
only); one error refuses the whole file, each error naming its row and column and what would
be right, and masking a phone. Members already enrolled under their staff number are skipped
as they stand, so the same roster twice enrols nothing new and a roster with new rows added
enrols only those. Then the members are enrolled in batches of ``MAX_BATCH`` (one transaction
each).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.importer import Limits, RowError, Table, find_header, read_table
from adapters.spreadsheet import HeaderMatcher, cell_text, norm_header
from gridcore.application import MAX_BATCH, GridcoreApp, StaffRow
from gridcore.authority import Actor, System
from gridcore.errors import GridcoreError
from gridcore.grid import GridNode
from gridcore.household import optional_phone
from gridcore.staff import ROLE_LABELS, Role, check_capacity, check_jurisdictions, staff_id

COLUMNS: dict[str, tuple[str, ...]] = {
    "staff_no": ("工号", "staff_no", "人员编号", "员工编号", "编号"),
    "name": ("姓名", "name"),
    "role": ("角色", "role", "岗位", "身份", "人员类别"),
    "jurisdiction": ("辖区", "jurisdiction", "负责网格", "所属网格", "网格编码", "辖区编码"),
    "daily_capacity": ("每日户数", "daily_capacity", "每日上门户数", "日容量", "每日容量"),
    "phone": ("电话", "phone", "联系电话", "手机", "手机号", "手机号码"),
}
HEADERS = {key: f"{names[0]} {key}" for key, names in COLUMNS.items()}
REQUIRED = ("staff_no", "name", "role", "jurisdiction")
WANTED = (", ".join(HEADERS[k] for k in REQUIRED)
          + f" (and optionally {HEADERS['daily_capacity']}, {HEADERS['phone']})")
DEFAULT_CAPACITY = 40
column_key = HeaderMatcher(COLUMNS)
_text = cell_text

_ROLES: dict[str, Role] = {}
for _role, _label in ROLE_LABELS.items():
    _zh, _en = _label.split(" ", 1)
    for _name in (_role.value, _zh, _en, _label, _role.value.replace("_", " ")):
        _ROLES[norm_header(_name)] = _role
_ROLES.update({norm_header(k): v for k, v in {
    "家庭医生": Role.FAMILY_DOCTOR, "签约医生": Role.FAMILY_DOCTOR, "医生": Role.FAMILY_DOCTOR,
    "民警": Role.COMMUNITY_POLICE, "片警": Role.COMMUNITY_POLICE,
    "物业人员": Role.PROPERTY_MANAGER, "社区干部": Role.OFFICIAL,
    "下沉干部": Role.OFFICIAL, "值班负责人": Role.DUTY_LEAD, "党员志愿者": Role.PARTY_MEMBER,
}.items()})
ACCEPTED_ROLES = ", ".join(f"{lab.split(' ', 1)[0]}/{r.value}" for r, lab in ROLE_LABELS.items())
_SPLIT = re.compile(r"[;；、,，\s]+")


def parse_role(text: str) -> Role | None:
    return _ROLES.get(norm_header(text))


def jurisdiction_codes(text: str) -> tuple[str, ...]:
    return tuple(part for part in _SPLIT.split(text) if part)


@dataclass
class Roster:
    """A roster as checked: its members (file order, with their rows), those already
    enrolled, the errors found (empty when it can be enrolled) and the columns skipped."""

    rows: list[tuple[int, StaffRow]] = field(default_factory=list)
    already_enrolled: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped_columns: list[str] = field(default_factory=list)
    header_ok: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class RosterImport:
    """What an import did: the roster as checked, and the members enrolled."""

    roster: Roster
    enrolled: int = 0
    notification_id: int | None = None


class _Checker:
    """Checks rows against the store, reading each node and its ancestry once."""

    def __init__(self, app: GridcoreApp, errors: list[RowError]) -> None:
        self.app, self.errors = app, errors
        self.chains: dict[str, list[str] | GridcoreError] = {}

    def error(self, row: int, key: str, message: str, given: str = "") -> None:
        self.errors.append(RowError(row, HEADERS[key], message, given))

    def chain(self, code: str) -> list[str] | GridcoreError:
        found = self.chains.get(code)
        if found is None:
            try:
                node: GridNode = self.app.node(code)
                node.require_active()
                found = self.app.ancestry(code)
            except GridcoreError as e:
                found = e
            self.chains[code] = found
        return found

    def jurisdiction(self, row: int, given: str) -> tuple[str, ...] | None:
        codes = jurisdiction_codes(given)
        if not codes:
            self.error(row, "jurisdiction", "The jurisdiction is missing. Give the node code "
                       "of the community or of the member's micro-grids (e.g. "
                       "420102001712-01; several separated by ;).")
            return None
        chains: dict[str, list[str]] = {}
        for code in codes:
            chain = self.chain(code)
            if isinstance(chain, GridcoreError):
                self.error(row, "jurisdiction", f"{chain.problem} {chain.remedy}".strip(),
                           given)
                return None
            chains[code] = chain
        try:
            check_jurisdictions(codes, chains)
        except GridcoreError as e:
            self.error(row, "jurisdiction", f"{e.problem} {e.remedy}".strip(), given)
            return None
        return codes

    def member(self, row: int, cells: dict[str, Any]) -> StaffRow | None:
        values = {key: _text(v) for key, v in cells.items()}
        ok = True
        staff_no, name = values.get("staff_no", ""), values.get("name", "")
        if not staff_no:
            self.error(row, "staff_no", "The staff number is missing. Give the member's "
                       "number (工号), unique in the city, e.g. 712-GW-01.")
            ok = False
        if not name:
            self.error(row, "name", "The name is missing. Give the member's name (姓名).")
            ok = False
        role = parse_role(values.get("role", ""))
        if role is None:
            given = values.get("role", "")
            self.error(row, "role", (f"The role {given[:30]!r} is not one we read."
                                     if given else "The role is missing.")
                       + f" Give one of: {ACCEPTED_ROLES}.", given)
            ok = False
        capacity = self.capacity(row, cells.get("daily_capacity"))
        phone = values.get("phone", "")
        try:
            optional_phone(phone)
        except GridcoreError as e:  # the message masks the number
            self.error(row, "phone", f"{e.problem} {e.remedy}".strip(), phone)
            ok = False
        codes = self.jurisdiction(row, values.get("jurisdiction", ""))
        if not ok or role is None or capacity is None or codes is None:
            return None
        return StaffRow(staff_no, name, role, codes, capacity, phone or None)

    def capacity(self, row: int, cell: Any) -> int | None:
        given = _text(cell)
        if not given:
            return DEFAULT_CAPACITY
        try:
            value = int(given)
            check_capacity(value)
        except ValueError:
            self.error(row, "daily_capacity", f"The daily capacity {given[:20]!r} is not a "
                       "whole number. Give the household visits a day, from 0 to 500 (e.g. "
                       f"40), or leave it empty for {DEFAULT_CAPACITY}.", given)
            return None
        except GridcoreError as e:
            self.error(row, "daily_capacity", f"{e.problem} {e.remedy}".strip(), given)
            return None
        return value


def check_roster(app: GridcoreApp, path: str | Path, limits: Limits | None = None) -> Roster:
    """Read a roster (CSV or .xlsx) and check every row; raises ``RegisterFormatError`` when
    the file cannot be read as a table at all. Writes nothing."""
    table: Table = read_table(path, limits)
    header_row, positions, skipped, errors = find_header(
        table, column_key, HEADERS, REQUIRED, "roster", WANTED)
    out = Roster(errors=errors, skipped_columns=skipped, header_ok=not errors)
    if errors:
        return out
    checker = _Checker(app, out.errors)
    first: dict[str, int] = {}
    for row_no, cells in table.rows:
        if row_no <= header_row or not any(_text(c) for c in cells):
            continue
        member = checker.member(row_no, {key: cells[pos] if pos < len(cells) else None
                                         for pos, key in positions.items()})
        if member is None:
            continue
        if member.staff_no in first:
            checker.error(row_no, "staff_no", f"Staff number {member.staff_no} is also on row "
                          f"{first[member.staff_no]}. Keep one row per member.")
            continue
        first[member.staff_no] = row_no
        out.rows.append((row_no, member))
    if not out.rows and not out.errors:
        out.errors.append(RowError(header_row + 1, "row", "The roster has no member on it. "
                                   "Add one row per member under the header."))
    enrolled = app.staff_enrolled([staff_id(m.staff_no) for _, m in out.rows])
    out.already_enrolled = [m.staff_no for _, m in out.rows if staff_id(m.staff_no) in enrolled]
    out.errors.sort(key=lambda e: e.row)
    return out


def import_roster(app: GridcoreApp, path: str | Path, *, dry_run: bool = False,
                  by: Actor = System.OPERATOR, limits: Limits | None = None) -> RosterImport:
    """Check a roster, then (unless it has errors, or ``dry_run``) enrol its members not
    enrolled yet, ``MAX_BATCH`` a transaction."""
    roster = check_roster(app, path, limits)
    out = RosterImport(roster)
    if roster.errors or dry_run:
        return out
    known = set(roster.already_enrolled)
    new = [m for _, m in roster.rows if m.staff_no not in known]
    for i in range(0, len(new), MAX_BATCH):
        report = app.enrol_staff_many(new[i:i + MAX_BATCH], by=by)
        out.enrolled += report.enrolled
        out.notification_id = report.notification_id or out.notification_id
    return out
