"""Line lists as files (台账导出): ``GET /export/{kind}.{csv|xlsx}?scope=CODE&health=&measure=
&tag=&personal=0|1`` with a staff bearer token, and ``gridcore export`` on the command line.

Kinds: ``households`` (one line per household: what the read models hold, the household
number masked by role; ``personal=1`` adds the address, unsealed per page), ``residents``
(one line per resident matching the filters; names and phones unsealed per page of
households, on by default) and ``contacts`` (contacts under follow-up, ``contact_followup``).

Rows are streamed from ``projections.line_lists`` (keyset pages) and written as they come:
CSV through ``csv`` in 64 KB pieces, .xlsx through openpyxl's write-only mode to a temporary
file sent when complete; memory stays flat whatever the size. Every free-text cell goes
through ``safe_cell`` (as ``adapters.spreadsheet``: no cell runs as a formula).

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from graphql_api.auth import Caller, TokenError, bearer, read_token, staff_caller
from graphql_api.privacy import HIDDEN, MASKS, SEES, AuditLog
from graphql_api.scope import inside
from gridcore.errors import NotFound
from gridcore.staff import ERASED_LABEL
from gridcore.text import safe_cell
from projections import grid_rollup, line_lists
from projections.queries import HouseholdFilter

KINDS = ("households", "residents", "contacts")
FORMATS = ("csv", "xlsx")
UNSEAL_BATCH = 200
"""Households whose sealed data is read from the event store at a time."""

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
            line = orjson.dumps({"at": datetime.now(UTC).isoformat(),
                                 "reader": str(self.caller.staff_id),
                                 "role": self.caller.role.value, "field": name,
                                 "subject": subject, "count": count})
            audit.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(audit.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line + b"\n")
            finally:
                os.close(fd)


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


def line_list(app: Any, views: Any, ask: Request_, seen: Disclosure,
              now: datetime) -> tuple[list[str], Iterator[list[list[Any]]]]:
    """The header and the rows (masked, formula-safe) of a line list, a batch (a list of
    rows) at a time."""
    if ask.kind == "households":
        header = HOUSEHOLD_HEADER + (["门牌 address"] if ask.personal else [])
        return header, _households(app, views, ask, seen)
    if ask.kind == "residents":
        header = RESIDENT_HEADER + (["姓名 name", "手机号 phone"] if ask.personal else [])
        return header, _residents(app, views, ask, seen)
    return CONTACT_HEADER, _contacts(views, ask, now)


def _households(app: Any, views: Any, ask: Request_,
                seen: Disclosure) -> Iterator[list[list[Any]]]:
    grids = line_lists.grid_index(views, ask.under)
    community = grids.community
    whole = seen.caller.role in SEES["Household.householdNo"]
    counts = line_lists.packed_counts
    pages = line_lists.household_pages(views, ask.under, ask.where,
                                       UNSEAL_BATCH if ask.personal else line_lists.PAGE)
    for batch in pages:
        kept = _kept(app, [r[0] for r in batch]) if ask.personal else {}
        lines = []
        for hid, grid, packed, no in batch:
            line = [hid, safe_cell(no) if whole else (None if no is None else HIDDEN),
                    community.get(grid), grid, *counts(packed)]
            if ask.personal:
                h = kept.get(hid)
                address = getattr(h, "address", None)
                line.append(safe_cell(seen.value(
                    "Household.address", _reveal(getattr(address, "text", None)),
                    bool(getattr(address, "erased", False)))))
            lines.append(line)
        if whole:
            seen.served("Household.householdNo", sum(1 for r in batch if r[3] is not None))
        yield lines


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


def write_csv(header: list[str], rows: Iterator[list[list[Any]]], out: Callable[[bytes], Any],
              progress: Callable[[int], Any] | None = None) -> int:
    """The rows as UTF-8 CSV (with a BOM, for Excel), handed to ``out`` 64 KB at a time;
    the number of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    out(b"\xef\xbb\xbf")
    n = 0
    for batch in rows:
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


def write_xlsx(header: list[str], rows: Iterator[list[list[Any]]], path: str | os.PathLike[str],
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
    default = "1" if kind == "residents" else "0"
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
