"""Line lists as files (台账导出): ``GET /export/{kind}.{csv|xlsx}?scope=CODE&health=&measure=
&tag=&personal=0|1`` with a staff bearer token, and ``gridcore export`` on the command line.

Kinds: ``households`` (one line per household: what the read models hold, the household
number masked by role; ``personal=1`` adds the address, unsealed per page), ``residents``
(one line per resident matching the filters; names and phones unsealed per page of
households, on by default), ``contacts`` (contacts under follow-up, ``contact_followup``),
``tests`` (one line per resident of each mass-testing round scheduled in the jurisdiction,
``testing_coverage``: sampled or not, when, the latest tube and its result, positive /
controlled / released times; the household number masked by role), ``deliveries`` (the
delivery board's deliveries whose recipient lies in the jurisdiction: kind, household number
masked by role, place, zone, state, placed / dispatched / delivered / failed times, the failure
reason) and ``requests`` (the requests board's requests filed in a community of the
jurisdiction: number, category, grade, status, channel, community, owner, filed / answered
times; ``personal=1``, the default, adds what the resident asked and the reply, read from the
request per page, whole for the roles of ``Request.text``/``Request.reply`` and audited,
``****`` for others).

Rows are streamed from ``projections.line_lists`` (keyset pages) and written as they come:
CSV through ``csv`` in 64 KB pieces, .xlsx through openpyxl's write-only mode to a temporary
file sent when complete; memory stays flat whatever the size. Every free-text cell goes
through ``safe_cell`` (as ``adapters.spreadsheet``: no cell runs as a formula). A household
line list without personal columns is built a whole page (``EXPORT_PAGE``) at a time, column by
column with ``map``/``zip`` and written with one ``writerows`` per page: ids, codes and counts
cannot start a formula, and the household numbers (typed by staff) are checked a page at a
time (``safe_column``), each cell through ``safe_cell`` only on a page where one starts with a
trigger.

Audit: one line per export and unmasked field (not one per value: a city's line list would
write millions), in ``privacy.AuditLog``'s format (``at``, ``reader``, ``role``, ``field``,
``subject``) with ``subject`` ``export:{kind}:{scope}`` and ``count``, the number of values
served whole; written when the export ends, however it ends (a client that disconnects
half-way is logged with what it was sent). A masked field is not logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from operator import itemgetter, sub
from typing import IO, Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from graphql_api.auth import Caller, TokenError, bearer, read_token, staff_caller
from graphql_api.privacy import HIDDEN, MASKS, SEES, AuditLog
from graphql_api.scope import inside
from gridcore import text as cell_rule
from gridcore.errors import NotFound
from gridcore.staff import ERASED_LABEL
from gridcore.text import safe_cell
from projections import grid_rollup, line_lists
from projections.queries import HouseholdFilter
from projections.testing_coverage import EPOCH

KINDS = ("households", "residents", "contacts", "tests", "deliveries", "requests")
FORMATS = ("csv", "xlsx")
UNSEAL_BATCH = 200
"""Households whose sealed data is read from the event store at a time."""
EXPORT_PAGE = 20_000
"""Households read per statement for a line list without personal columns (larger pages:
fewer statements, each one short; 20,000 lines are a few MB)."""

@dataclass
class Disclosure:
    """The unmasked values an export has served, per field (for its audit lines)."""

    caller: Caller
    fields: dict[str, int] = field(default_factory=dict)

    def value(self, field_name: str, whole: str | None, erased: bool = False) -> str | None:
        if erased:
            return ERASED_LABEL
        if whole is None:
            return None
        if self.caller.role not in SEES[field_name]:
            return str(MASKS[field_name](whole))
        self.served(field_name)
        return whole

    def served(self, field_name: str, count: int = 1) -> None:
        """``count`` more values of ``field_name`` served whole."""
        if count:
            self.fields[field_name] = self.fields.get(field_name, 0) + count

    def record(self, audit: AuditLog, subject: str) -> None:
        for name, count in sorted(self.fields.items()):
            audit.record(self.caller, name, subject, count)


@dataclass(frozen=True)
class Request_:
    kind: str
    under: tuple[str, ...]
    where: HouseholdFilter
    personal: bool


def _reveal(value: Any) -> str | None:
    if value is None:
        return None
    reveal = getattr(value, "reveal", None)
    return str(reveal()) if reveal is not None else str(value)


def _kept(app: Any, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for hid in ids:
        with contextlib.suppress(NotFound, ValueError):
            out[hid] = app.household(UUID(hid))
    return out


def _batched(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


HOUSEHOLD_HEADER = ["住户ID household id", "户号 household no", "社区 community",
                    "微网格 micro-grid", "人数 members", "确诊 confirmed", "疑似 suspected",
                    "有症状 symptomatic", "管控中 under a measure", "居家隔离 home quarantine",
                    "集中隔离 centralized quarantine"]
RESIDENT_HEADER = ["住户ID household id", "户号 household no", "微网格 micro-grid",
                   "居民ID resident id", "健康 health", "管控 measure", "标签 tags",
                   "出生年 born"]
CONTACT_HEADER = ["病例 case no", "人员ID person id", "网格 grid", "代际 generation",
                  "类别 kind", "管控 measure", "截止 until", "末次暴露 last exposure",
                  "住户ID household id", "居民ID resident id", "状态 status"]


TEST_HEADER = ["检测轮次ID campaign id", "检测范围 campaign scope", "轮次 round",
               "住户ID household id", "户号 household no", "居民ID resident id",
               "微网格 micro-grid", "社区 community", "上门采样 door-to-door",
               "已采样 sampled", "采样时间 sampled at", "试管 tube", "结果 result",
               "阳性 positive at", "管控 controlled at", "解除 released at"]
DELIVERY_HEADER = ["配送ID delivery id", "类别 kind", "单号 ref", "住户ID household id",
                   "户号 household no", "地点 place", "片区 zone", "状态 state",
                   "下单 placed at", "派送 dispatched at", "送达 delivered at",
                   "失败 failed at", "原因 reason", "次数 attempts"]
REQUEST_HEADER = ["诉求ID request id", "编号 number", "类别 category", "等级 grade",
                  "状态 status", "渠道 channel", "社区 community", "承办 owner", "层级 level",
                  "提交 filed at", "答复 answered at", "期限 deadline", "升级 escalations",
                  "按时 on time"]


def line_list(app: Any, views: Any, ask: Request_, seen: Disclosure,
              now: datetime) -> tuple[list[str], Iterator[Batch]]:
    """The header and the rows (masked, formula-safe) of a line list, a batch (a list of
    rows) at a time."""
    if ask.kind == "households":
        header = HOUSEHOLD_HEADER + (["门牌 address"] if ask.personal else [])
        return header, _households(app, views, ask, seen)
    if ask.kind == "residents":
        header = RESIDENT_HEADER + (["姓名 name", "手机号 phone"] if ask.personal else [])
        return header, _residents(app, views, ask, seen)
    if ask.kind == "tests":
        return TEST_HEADER, _tests(views, ask, seen)
    if ask.kind == "deliveries":
        return DELIVERY_HEADER, _deliveries(views, ask, seen)
    if ask.kind == "requests":
        header = REQUEST_HEADER + (["诉求内容 text", "答复 reply"] if ask.personal else [])
        return header, _requests(app, views, ask, seen)
    return CONTACT_HEADER, _contacts(views, ask, now)


def _households(app: Any, views: Any, ask: Request_,
                seen: Disclosure) -> Iterator[Batch]:
    if not ask.personal:
        yield from _household_columns(views, ask, seen)
        return
    grids = line_lists.grid_index(views, ask.under)
    community = grids.community
    whole = seen.caller.role in SEES["Household.householdNo"]
    counts = line_lists.packed_counts
    for batch in line_lists.household_pages(views, ask.under, ask.where, UNSEAL_BATCH):
        kept = _kept(app, [r[0] for r in batch])
        lines = []
        for hid, grid, packed, no in batch:
            line = [hid, safe_cell(no) if whole else (None if no is None else HIDDEN),
                    community.get(grid), grid, *counts(packed)]
            h = kept.get(hid)
            address = getattr(h, "address", None)
            line.append(safe_cell(seen.value(
                "Household.address", _reveal(getattr(address, "text", None)),
                bool(getattr(address, "erased", False)))))
            lines.append(line)
        if whole:
            seen.served("Household.householdNo", sum(1 for r in batch if r[3] is not None))
        yield lines


class ColumnPage:
    """A page of lines held as its columns (each a list, all as long): iterated, its rows;
    ``csv_text`` writes it without a call per row when it can."""

    def __init__(self, columns: list[list[Any]]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return zip(*self.columns, strict=True)

    def __contains__(self, row: object) -> bool:
        return any(row == r for r in self)

    def csv_text(self) -> str | None:
        """The page as ``csv.writer`` writes it (``\\r\\n`` line ends, minimal quoting), joined
        column-wise in C; None when a column holds anything but numbers and text needing no
        quotes (a None, a comma, a quote, a line break): then ``writerows`` writes it."""
        cells = []
        for column in self.columns:
            kinds = set(map(type, column))
            if kinds <= _NUMBERS:
                cells.append(list(map(str, column)))
            elif kinds == _TEXT and not any(c in "".join(column) for c in _QUOTED):
                cells.append(column)
            else:
                return None
        return "\r\n".join(map(",".join, zip(*cells, strict=True))) + "\r\n" if cells else ""


_NUMBERS = frozenset({int})
_TEXT = frozenset({str})
_QUOTED = (",", '"', "\r", "\n")

Batch = Collection[Sequence[Any]] | ColumnPage
"""A page of lines as an export writes them."""


def safe_column(values: list[Any]) -> list[Any]:
    """A column of text cells made formula-safe (``safe_cell``), checked a page at a time: a
    page none of whose values starts with a trigger character is returned as it is (one
    search of the page's values joined, instead of a call per cell)."""
    try:
        joined = "\n" + "\n".join(filter(None, values))
    except TypeError:  # not all text: cell by cell
        return [safe_cell(v) for v in values]
    if any(t in joined for t in _LINE_TRIGGERS):
        return [safe_cell(v) for v in values]
    return values


_LINE_TRIGGERS = tuple("\n" + t for t in cell_rule.FORMULA_TRIGGERS)

_ID, _GRID, _PACKED, _NO = (itemgetter(i) for i in range(4))


def _household_columns(views: Any, ask: Request_,
                       seen: Disclosure) -> Iterator[ColumnPage]:
    """The household lines without personal columns, built a column at a time for a whole
    page (``map`` and ``zip`` over the page: no Python call per row or cell; a line list of
    a city is millions of rows). Ids, codes and counts cannot start a formula (ids are
    UUIDs, codes the grid's, counts numbers): only the household number, typed by staff,
    goes through ``safe_column``."""
    grids = line_lists.grid_index(views, ask.under)
    community = grids.community.get
    whole = seen.caller.role in SEES["Household.householdNo"]
    for batch in line_lists.household_pages(views, ask.under, ask.where, EXPORT_PAGE):
        nos = list(map(_NO, batch))
        if whole:
            seen.served("Household.householdNo", len(nos) - nos.count(None))
            nos = safe_column(nos)
        else:
            nos = [None if no is None else HIDDEN for no in nos]
        codes = list(map(_GRID, batch))
        packed = list(map(_PACKED, batch))
        if packed and not isinstance(packed[0], str):
            packed = [p.decode() if isinstance(p, bytes) else str(p) for p in packed]

        def count(token: str, texts: list[str] = packed) -> list[int]:
            return list(map(str.count, texts, repeat(token, len(texts))))

        members = count('":[')
        yield ColumnPage([list(map(_ID, batch)), nos, list(map(community, codes)), codes,
                          members, count('"confirmed"'), count('"suspected"'),
                          count('"symptomatic"'), list(map(sub, members, count('"none"'))),
                          count('"home_quarantine"'), count('"centralized_quarantine"')])


def _residents(app: Any, views: Any, ask: Request_,
               seen: Disclosure) -> Iterator[list[list[Any]]]:
    rows = line_lists.resident_rows(views, ask.under, ask.where)
    for batch in _batched(rows, UNSEAL_BATCH if ask.personal else line_lists.PAGE):
        kept = _kept(app, sorted({r[0] for r in batch})) if ask.personal else {}
        lines = []
        for hid, grid, no, rid, health, measure, tags, born in batch:
            line = [hid, safe_cell(seen.value("Household.householdNo", no)), grid, rid, health,
                    measure, " ".join(tags), born]
            if ask.personal:
                h = kept.get(hid)
                member = h.residents.get(UUID(rid)) if h is not None else None
                identity = getattr(member, "identity", None)
                erased = bool(getattr(identity, "erased", False))
                line += [safe_cell(seen.value("Resident.name",
                                              _reveal(getattr(identity, "name", None)), erased)),
                         safe_cell(seen.value("Resident.phone",
                                              _reveal(getattr(identity, "phone", None)), erased))]
            lines.append(line)
        yield lines


def _contacts(views: Any, ask: Request_, now: datetime) -> Iterator[list[list[Any]]]:
    for batch in _batched(line_lists.contact_rows(views, ask.under, now), line_lists.PAGE):
        yield [[r.case_no, r.person_id, r.grid, r.generation, r.kind, r.measure,
                r.until.isoformat(), r.last_exposure.isoformat(), r.household_id,
                r.resident_id, r.status] for r in batch]


def _micros(value: Any) -> str | None:
    """A testing time (microseconds since the epoch, as ``testing_coverage`` keeps it)."""
    return None if value is None else (EPOCH + timedelta(microseconds=int(value))).isoformat()


def _number(seen: Disclosure, nos: list[Any]) -> list[Any]:
    """A page's household numbers as the caller's role sees them (whole ones counted for
    the audit), formula-safe."""
    if seen.caller.role in SEES["Household.householdNo"]:
        seen.served("Household.householdNo", len(nos) - nos.count(None))
        return safe_column(nos)
    return [None if no is None else HIDDEN for no in nos]


def _tests(views: Any, ask: Request_, seen: Disclosure) -> Iterator[list[list[Any]]]:
    for batch in _batched(line_lists.testing_rows(views, ask.under), line_lists.PAGE):
        nos = _number(seen, [r[5] for r in batch])
        yield [[cid, scope, rnd, hid, no, rid, grid, community, int(home),
                int(sampled is not None), _micros(sampled), safe_cell(tube), result,
                _micros(positive), _micros(controlled), _micros(released)]
               for (cid, rid, scope, rnd, hid, _, grid, community, home, sampled, tube, result,
                    positive, controlled, released), no in zip(batch, nos, strict=True)]


def _deliveries(views: Any, ask: Request_, seen: Disclosure) -> Iterator[list[list[Any]]]:
    for batch in _batched(line_lists.delivery_rows(views, ask.under), line_lists.PAGE):
        nos = _number(seen, [r[4] for r in batch])
        yield [[did, kind, safe_cell(ref), hid, no, place, zone, state, placed, dispatched,
                delivered, failed, safe_cell(reason), attempts]
               for (did, kind, ref, hid, _, place, zone, state, placed, dispatched, delivered,
                    failed, reason, attempts), no in zip(batch, nos, strict=True)]


def _answered(kept: Any) -> str | None:
    answers = getattr(kept, "answers", None) or []
    if getattr(kept, "reply", None) is None or not answers:
        return None  # not answered, or reopened since
    return str(answers[-1].answered_at.isoformat())


def _requests(app: Any, views: Any, ask: Request_,
              seen: Disclosure) -> Iterator[list[list[Any]]]:
    """Requests with their answer time (and, ``personal``, what the resident asked and the
    reply, masked by role: ``Request.text``/``Request.reply``) from the requests' aggregates,
    read a page of ``UNSEAL_BATCH`` at a time."""
    for batch in _batched(line_lists.request_rows(views, ask.under), UNSEAL_BATCH):
        kept = _aggregates(app.request, [r[0] for r in batch])
        lines = []
        for rid, number, category, grade, status, channel, community, owner, level, filed, \
                deadline, escalations, on_time in batch:
            k = kept.get(rid)
            line = [rid, number, category, grade, status, channel, community, owner, level,
                    filed, _answered(k), deadline, escalations,
                    None if on_time is None else int(on_time)]
            if ask.personal:
                details = getattr(k, "details", None)
                reply = getattr(k, "reply", None)
                line += [safe_cell(seen.value(
                            "Request.text", _reveal(getattr(details, "text", None)),
                            bool(getattr(details, "erased", False)))),
                         safe_cell(seen.value(
                            "Request.reply", _reveal(getattr(reply, "text", None)),
                            bool(getattr(reply, "erased", False))))]
            lines.append(line)
        yield lines


def _aggregates(get: Callable[[UUID], Any], ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ids:
        with contextlib.suppress(NotFound, ValueError):
            out[key] = get(UUID(key))
    return out


def write_csv(header: list[str], rows: Iterator[Batch], out: Callable[[bytes], Any],
              progress: Callable[[int], Any] | None = None) -> int:
    """The rows as UTF-8 CSV (with a BOM, for Excel), handed to ``out`` 64 KB at a time;
    the number of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    out(b"\xef\xbb\xbf")
    n = 0
    for batch in rows:
        text = batch.csv_text() if isinstance(batch, ColumnPage) else None
        if text is not None:
            buf.write(text)
        else:
            writer.writerows(batch)
        n += len(batch)
        if buf.tell() > 65_536:
            out(buf.getvalue().encode())
            buf.seek(0)
            buf.truncate()
            if progress is not None:
                progress(n)
    out(buf.getvalue().encode())
    if progress is not None:
        progress(n)
    return n


def write_xlsx(header: list[str], rows: Iterator[Batch], path: str | os.PathLike[str],
               sheet: str = "line list", progress: Callable[[int], Any] | None = None) -> int:
    """The rows as one .xlsx sheet (openpyxl write-only: streamed to ``path``), text cells
    stored as text; the number of rows."""
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(header)
    n = 0
    for batch in rows:
        for row in batch:
            cells = []
            for v in row:
                cell = WriteOnlyCell(ws, value=v)
                if isinstance(v, str):
                    cell.data_type = "s"
                cells.append(cell)
            ws.append(cells)
        n += len(batch)
        if progress is not None:
            progress(n)
    wb.save(path)
    if progress is not None:
        progress(n)
    return n


def export(app: Any, views: Any, caller: Caller, audit: AuditLog, ask: Request_, fmt: str,
           out: IO[bytes], progress: Callable[[int], Any] | None = None) -> int:
    """Write a line list to ``out`` (CSV) or, for .xlsx, to a temporary file copied to
    ``out``; audit what was served whole; the number of rows."""
    seen = Disclosure(caller)
    header, rows = line_list(app, views, ask, seen, app.clock())
    n = 0
    try:
        if fmt == "csv":
            n = write_csv(header, rows, out.write, progress)
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "export.xlsx")
                n = write_xlsx(header, rows, path, ask.kind, progress)
                with open(path, "rb") as f:
                    while chunk := f.read(65_536):
                        out.write(chunk)
    finally:
        seen.record(audit, f"export:{ask.kind}:{','.join(ask.under)}")
    return n


def visible_scope(views: Any, caller: Caller, code: str | None) -> tuple[str, ...] | None:
    """The nodes an export answers for (as ``scope.scope_of``): None outside."""
    if code is None:
        return caller.jurisdictions
    chain = grid_rollup.chains(views, [code]).get(code) or []
    return (code,) if chain and inside(caller.jurisdictions, chain) else None


def ask_of(kind: str, under: tuple[str, ...], params: Any) -> Request_:
    where = HouseholdFilter(health=params.get("health") or None,
                            measure=params.get("measure") or None, tag=params.get("tag") or None)
    default = "1" if kind in ("residents", "requests") else "0"
    return Request_(kind, under, where, params.get("personal", default) in ("1", "true"))


class _Pipe:
    """A bounded queue between the export's thread and the response (flat memory)."""

    def __init__(self) -> None:
        self.q: queue.Queue[bytes | None] = queue.Queue(maxsize=16)

    def write(self, data: bytes) -> int:
        if data:
            self.q.put(data, timeout=300)  # a client gone: the export ends (audited)
        return len(data)


def export_routes(app: Any, runner: Any, audit_file: str, secret: str) -> list[Route]:
    """``GET /export/{kind}.{csv|xlsx}``."""
    audit = AuditLog(audit_file)

    async def handler(request: Request) -> Response:
        kind, fmt = request.path_params["kind"], request.path_params["fmt"]
        if kind not in KINDS or fmt not in FORMATS:
            return JSONResponse({"error": f"Unknown export {kind}.{fmt}: the kinds are "
                                          f"{', '.join(KINDS)}, the formats csv and xlsx."},
                                status_code=404)
        try:
            token = bearer(request.headers.get("authorization"))
            if token is None:
                return JSONResponse({"error": "An export needs a staff token "
                                              "(Authorization: Bearer ...)."}, status_code=401)
            caller = await asyncio.to_thread(staff_caller, app, read_token(secret, token))
        except TokenError as e:
            return JSONResponse({"error": str(e)}, status_code=401)
        except Exception as e:  # a deactivated member
            return JSONResponse({"error": str(e)}, status_code=403)
        code = request.query_params.get("scope") or None
        under = await asyncio.to_thread(visible_scope, runner.views, caller, code)
        if under is None:
            return JSONResponse({"error": f"No node {code} in your jurisdiction."},
                                status_code=404)
        ask = ask_of(kind, under, request.query_params)
        pipe = _Pipe()

        def produce() -> None:
            try:
                export(app, runner.views, caller, audit, ask, fmt, pipe)  # type: ignore[arg-type]
            finally:
                pipe.q.put(None)

        threading.Thread(target=produce, daemon=True, name="export").start()

        async def body() -> Any:
            while (chunk := await asyncio.to_thread(pipe.q.get)) is not None:
                yield chunk

        media = ("text/csv; charset=utf-8" if fmt == "csv" else
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        name = f"{kind}-{code or 'all'}.{fmt}"
        return StreamingResponse(body(), media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})

    return [Route("/export/{kind}.{fmt}", handler, methods=["GET"])]
