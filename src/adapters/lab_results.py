"""A lab's result file (核酸检测结果): one tube a row, read from CSV or .xlsx and recorded through
``GridcoreApp.record_tube_result`` (the file door beside the ``recordTubeResult`` mutation).

The file: a header row naming the columns in Chinese or English (管码/tube_code, also 试管编号,
管号, 样本管码; 结果/result, also 检测结果, 核酸结果; optionally 检测时间/tested_at), then one tube
a row; empty rows and other columns are skipped. A result reads 阴性/阴/negative or
阳性/阳/positive. 检测时间 is accepted and not recorded: ``record_tube_result`` takes no time,
a result is dated when it is recorded. The file is read as the household importer reads a
register (``adapters.importer.read_table``: UTF-8 or GB18030 CSV with or without BOM, comma
or tab; the first sheet of an .xlsx; bounded in rows and bytes).

All or nothing, as far as the store lets us know beforehand: every row is checked first (the
columns, the result, the tube code by ``gridcore.mass_testing.check_tube_code``, a tube given
twice with different results), then every tube against the store (a tube no campaign knows,
one not sealed, one already found otherwise) and the recorder's authority for each campaign;
one error refuses the whole file, each error naming its row and column and what would be
right. Only then is each tube recorded, in file order, one transaction each. A result already
recorded changes nothing, so the same file twice records nothing new.
"""

from __future__ import annotations

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
from adapters.spreadsheet import HeaderMatcher, cell_text, norm_header
from gridcore.application import GridcoreApp
from gridcore.authority import Actor, System, check_authority
from gridcore.errors import GridcoreError, NotFound
from gridcore.mass_testing import TestingCampaign, TubeResult, check_tube_code

COLUMNS: dict[str, tuple[str, ...]] = {
    "tube_code": ("管码", "tube_code", "试管编号", "管号", "样本管码", "试管码", "tube"),
    "result": ("结果", "result", "检测结果", "核酸结果", "核酸检测结果"),
    "tested_at": ("检测时间", "tested_at", "报告时间", "检测日期"),
}
HEADERS = {key: f"{names[0]} {key}" for key, names in COLUMNS.items()}
RESULTS: dict[str, TubeResult] = {
    "阴性": TubeResult.NEGATIVE, "阴": TubeResult.NEGATIVE, "negative": TubeResult.NEGATIVE,
    "阳性": TubeResult.POSITIVE, "阳": TubeResult.POSITIVE, "positive": TubeResult.POSITIVE,
}
ACCEPTED_RESULTS = "阴性 (阴, negative) or 阳性 (阳, positive)"
EXACT_DIGITS = 15
"""Excel keeps 15 significant digits of a number: a longer numeric tube code is damaged."""


_norm = norm_header
column_key = HeaderMatcher(COLUMNS)
"""The column a header names: ``管码``, ``tube_code``, ``管码 tube_code`` or ``*结果``."""
_text = cell_text


def parse_result(text: str) -> TubeResult | None:
    return RESULTS.get(_norm(text))


@dataclass(frozen=True)
class LabRow:
    """One tube of the file, as checked: its row (the header is row 1 unless a title sits
    above it), its code and result."""

    row: int
    tube_code: str
    result: TubeResult


@dataclass
class LabResultFile:
    """A result file as read: its tubes (in order, each once), the errors found (empty when
    it can be recorded), columns it skipped, and whether it gave 检测时间 (not recorded)."""

    rows: list[LabRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    kind: str = "csv"
    header_row: int = 1
    skipped_columns: list[str] = field(default_factory=list)
    has_tested_at: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _header(table: Table) -> tuple[int, dict[int, str], list[str], list[RowError]]:
    wanted = f"{HEADERS['tube_code']}, {HEADERS['result']} (and optionally " \
             f"{HEADERS['tested_at']})"
    return find_header(table, column_key, HEADERS, ("tube_code", "result"), "result file",
                       wanted)


def read_lab_results(path: str | Path, limits: Limits | None = None) -> LabResultFile:
    """Read a result file (CSV or .xlsx) and check every row on its own; raises
    ``RegisterFormatError`` when the file cannot be read as a table at all."""
    table = read_table(path, limits)
    header_row, positions, skipped, errors = _header(table)
    out = LabResultFile(kind=table.kind, header_row=header_row, skipped_columns=skipped,
                        errors=errors, has_tested_at="tested_at" in positions.values())
    if errors:
        return out
    at = {key: pos for pos, key in positions.items()}
    first: dict[str, LabRow] = {}
    for row_no, cells in table.rows:
        if row_no <= header_row or not any(_text(c) for c in cells):
            continue
        raw = {key: cells[pos] if pos < len(cells) else None for key, pos in at.items()}
        code = _tube_code(row_no, raw["tube_code"], out.errors)
        result = parse_result(_text(raw["result"]))
        if result is None:
            given = _text(raw["result"])
            out.errors.append(RowError(row_no, HEADERS["result"], (
                f"The result {given[:20]!r} is not one we read." if given else
                "The result is missing.") + f" Give {ACCEPTED_RESULTS}.", given))
        if code is None or result is None:
            continue
        earlier = first.get(code)
        if earlier is None:
            first[code] = LabRow(row_no, code, result)
            out.rows.append(first[code])
        elif earlier.result is not result:
            out.errors.append(RowError(row_no, HEADERS["result"], (
                f"Tube {code} is {result.label} here but {earlier.result.label} in row "
                f"{earlier.row}. Keep the row with the lab's result and delete the other.")))
    if not out.rows and not out.errors:
        out.errors.append(RowError(header_row + 1, "row", "The file has no tube on it. Add "
                                   "one row per tube under the header."))
    return out


def _tube_code(row: int, cell: Any, errors: list[RowError]) -> str | None:
    if isinstance(cell, int | float) and not isinstance(cell, bool) \
            and len(_text(cell).lstrip("-")) > EXACT_DIGITS:
        errors.append(RowError(row, HEADERS["tube_code"], "The tube code is stored as a "
                               "number, so Excel may have changed its last digits. Format the "
                               "column as text (文本) and type the code again.", _text(cell)))
        return None
    given = _text(cell)
    try:
        return check_tube_code(given)
    except GridcoreError as e:
        errors.append(RowError(row, HEADERS["tube_code"], f"{e.problem} {e.remedy}".strip(),
                               given))
        return None


# ---- recording ----------------------------------------------------------------------------

@dataclass
class PositivePool:
    """A pooled tube found positive: its campaign, the households it put under temporary
    control (临时管控) and the single-tube retests (单采单检) it scheduled."""

    tube_code: str
    campaign: str
    households_controlled: int
    retests: int


@dataclass
class LabOutcome:
    """What recording a file did (all zero when it was refused: ``file.errors`` or
    ``refused`` say why)."""

    file: LabResultFile
    refused: str = ""
    negatives: int = 0
    positives: int = 0
    unchanged: int = 0
    pools: list[PositivePool] = field(default_factory=list)
    retests: int = 0
    cases: list[str] = field(default_factory=list)
    released: int = 0
    recorded_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.file.ok and not self.refused


@dataclass(frozen=True)
class _Before:
    """What a campaign held before the file was recorded (copied: nothing shared with an
    aggregate the application may cache)."""

    name: str
    scope: str
    results: dict[str, TubeResult | None]
    retests: frozenset[UUID]
    controls: frozenset[UUID]
    released: frozenset[UUID]
    cases: frozenset[UUID]

    @classmethod
    def of(cls, c: TestingCampaign) -> _Before:
        return cls(c.name, c.scope, {code: t.result for code, t in c.tubes.items()},
                   frozenset(c.retests), frozenset(c.controls),
                   frozenset(rid for rid, x in c.controls.items() if x.released),
                   frozenset(c.cases))


def _check_against_store(app: GridcoreApp, read: LabResultFile) -> dict[UUID, _Before]:
    """Each tube's campaign as it stands before anything is recorded; a row error for a tube
    no campaign knows, one not sealed (a pooled tube), one already found otherwise."""
    campaigns: dict[UUID, _Before] = {}
    for r in read.rows:
        try:
            c = app.testing_campaign_of_tube(r.tube_code)
        except NotFound:
            read.errors.append(RowError(r.row, HEADERS["tube_code"], (
                f"No campaign has tube {r.tube_code}: no sample was put into it. Check the "
                "code against the tube, or record its samples first.")))
            continue
        if c.id not in campaigns:
            campaigns[c.id] = _Before.of(c)
        tube = c.tubes.get(r.tube_code)
        if tube is None:  # a code registered by a batch the campaign did not keep
            read.errors.append(RowError(r.row, HEADERS["tube_code"], (
                f"Tube {r.tube_code} holds no sample of {c.name}. Check the tube code.")))
        elif tube.result is not None and tube.result is not r.result:
            read.errors.append(RowError(r.row, HEADERS["result"], (
                f"Tube {r.tube_code} was already found {tube.result.label}. A result is not "
                "changed: have the lab retest, or delete the row.")))
        elif tube.result is None and not tube.sealed and not tube.retest:
            read.errors.append(RowError(r.row, HEADERS["tube_code"], (
                f"Tube {r.tube_code} is not sealed. Seal it (封管) before its result is "
                "recorded, or check the tube code.")))
    read.errors.sort(key=lambda e: e.row)
    return campaigns


def _check_authority(app: GridcoreApp, by: Actor, scopes: set[str]) -> None:
    """What ``record_tube_result`` would refuse for every row: the recorder's role, and each
    campaign's scope inside their jurisdiction (``NotAuthorised``)."""
    if isinstance(by, System):
        check_authority("record_tube_result", by)
        return
    staff = app.staff(by)
    staff.require_active()
    level = max(app.node(code).level for code in staff.jurisdictions)
    check_authority("record_tube_result", by, staff.role, level)
    homes = set(staff.jurisdictions)
    outside = sorted(s for s in scopes if not homes & set(app.ancestry(s)))
    if outside:
        check_authority("record_tube_result", by, staff.role, level, outside)


def record_lab_results(app: GridcoreApp, path: str | Path, *, by: Actor,
                       limits: Limits | None = None) -> LabOutcome:
    """Read a result file and record it whole, or nothing when a row has an error or the
    recorder may not record one of its tubes (``refused``). A failure while recording (the
    store) is raised after what was recorded: recording the file again completes it."""
    read = read_lab_results(path, limits)
    out = LabOutcome(read)
    if not read.ok:
        return out
    before = _check_against_store(app, read)
    if not read.ok:
        return out
    try:
        _check_authority(app, by, {b.scope for b in before.values()})
    except GridcoreError as e:
        out.refused = str(e)
        return out
    found = {code: result for b in before.values() for code, result in b.results.items()}
    for r in read.rows:
        app.record_tube_result(r.tube_code, r.result, by=by)
        out.recorded_rows += 1
        if found.get(r.tube_code) is r.result:
            out.unchanged += 1
        elif r.result is TubeResult.NEGATIVE:
            out.negatives += 1
        else:
            out.positives += 1
    _summarise(app, before, read, found, out)
    return out


def _summarise(app: GridcoreApp, before: dict[UUID, _Before], read: LabResultFile,
               found: dict[str, TubeResult | None], out: LabOutcome) -> None:
    """The positive pools, retests, cases and releases the file led to: each campaign as it
    stands now against how it stood before."""
    fresh = {r.tube_code for r in read.rows if found.get(r.tube_code) is not r.result}
    for cid, old in before.items():
        now = app.testing_campaign(cid)
        new_retests = [x for rid, x in now.retests.items() if rid not in old.retests]
        controlled = {x.household_id for rid, x in now.controls.items()
                      if rid not in old.controls}
        for code in sorted(fresh & set(now.tubes)):
            tube = now.tubes[code]
            if tube.result is TubeResult.POSITIVE and len(tube.members) > 1:
                mine = [x for x in new_retests if x.pool_code == code]
                out.pools.append(PositivePool(code, now.name, len(
                    {x.household_id for x in mine} & controlled), len(mine)))
        out.retests += len(new_retests)
        out.cases += [no for rid, no in now.cases.items() if rid not in old.cases]
        out.released += sum(1 for rid, x in now.controls.items()
                            if x.released and rid not in old.released)
