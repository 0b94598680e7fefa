"""``gridcore reports status CODE PERIOD`` and ``gridcore reports export CODE PERIOD --out
FILE.xlsx``: daily reports up the levels (日报 / 信息报送, ``gridcore.report_commands``).

``status`` prints each child's report for the period (approved, submitted, returned,
missing, overdue) as ``completeness`` gives it. ``export`` writes the level's report in the
layout the level above receives: a title row, a heading row, one row per child (its name,
code, status, the version shown, each figure, the filled fields and the note; a missing
child's figures blank) and a total row (合计: the node's own report as submitted, else the
sum of its children's approved reports). A community's export is its own report in one row.
Every cell goes through ``adapters.spreadsheet`` (never a formula). Exit codes: 0 done, 2
refused (an unknown node, a malformed period): the problem and what would be right are
printed.
"""

from __future__ import annotations

from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.spreadsheet import xlsx_write
from gridcore.application import GridcoreApp
from gridcore.daily_report import FIGURE_LABELS, STATUS_LABELS, DailyReport, sum_figures
from gridcore.errors import GridcoreError, InvalidInput

reports_cli = typer.Typer(help="Daily reports (日报): completeness and the .xlsx export.",
                          no_args_is_help=True)

EXIT_OK, EXIT_REFUSED = 0, 2
HEADINGS = ("名称 name", "代码 code", "状态 status", "版本 version", "零报告 zero")


def _period(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"The period {raw[:40]!r} is not a date.",
                           "Give the day reported as YYYY-MM-DD, e.g. 2020-02-17.") from None


def _refused(console: Console, e: GridcoreError) -> typer.Exit:
    console.print(f"[bold red]✗ refused (未执行):[/] {escape(e.problem)}")
    if e.remedy:
        console.print(f"  [yellow]→ {escape(e.remedy)}[/]")
    return typer.Exit(EXIT_REFUSED)


def _shown(r: DailyReport | None) -> Any:
    """The version a report row shows: the approved one, else the latest."""
    if r is None:
        return None
    return r.approved_version or r.current


def export_rows(app: GridcoreApp, code: str, period: date) -> list[list[Any]]:
    """The rows of a level's report for ``period`` (see the module's docstring)."""
    node = app.node(code)
    children = app.reporting_children(node.code) or [node]
    reports = {c.code: app.daily_report(c.code, period) for c in children}
    shown = {k: _shown(r) for k, r in reports.items()}
    fields = list(dict.fromkeys(name for v in shown.values() if v is not None
                                for name in v.filled))
    rows: list[list[Any]] = [
        [f"日报 daily report {node.name} {node.code} {period.isoformat()}"],
        [*HEADINGS, *FIGURE_LABELS.values(), *fields, "备注 note"]]
    statuses = {c.code: c.status for c in app.completeness(node.code, period).children}
    for child in children:
        r, v = reports[child.code], shown[child.code]
        status = r.status.value if r is not None else statuses.get(child.code, "missing")
        if v is None:
            rows.append([child.name, child.code, STATUS_LABELS[status], "", "",
                         *([""] * len(FIGURE_LABELS)), *([""] * len(fields)), ""])
            continue
        figures = v.figures.model_dump()
        rows.append([child.name, child.code, STATUS_LABELS[status], v.number,
                     "是 yes" if v.zero else "", *(figures[k] for k in FIGURE_LABELS),
                     *(v.filled.get(f, "") for f in fields), v.note])
    own = app.daily_report(node.code, period) if children != [node] else None
    if own is not None:
        total, note = own.current.figures, own.current.note
    else:
        approved = [r.approved_version for r in reports.values()
                    if r is not None and r.approved_version is not None]
        total, note = sum_figures(v.figures for v in approved), ""
    dumped = total.model_dump()
    rows.append(["合计 total", node.code, STATUS_LABELS[own.status.value] if own else "", "",
                 "", *(dumped[k] for k in FIGURE_LABELS), *([""] * len(fields)), note])
    return rows


def write_export(app: GridcoreApp, code: str, period: date, out: Path) -> int:
    """Write the .xlsx; returns how many child rows it holds."""
    rows = export_rows(app, code, period)
    xlsx_write(out, f"日报 {period.isoformat()}", rows)
    return len(rows) - 3


BEIJING = timezone(timedelta(hours=8))


@reports_cli.command("status")
def status(
    code: Annotated[str, typer.Argument(help="The node (street, district, city) code.")],
    period: Annotated[str, typer.Argument(help="The day reported, YYYY-MM-DD.")],
) -> None:
    """完整性 each child's report for the period: approved, submitted, returned, missing or
    overdue."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        done = app.completeness(code.strip(), _period(period))
    except GridcoreError as e:
        raise _refused(console, e) from None
    finally:
        app.close()
    table = Table(title=f"日报 {done.code} {done.period.isoformat()}: {done.reported}/"
                        f"{len(done.children)} reported (已报)", title_justify="left")
    for column in ("代码 code", "名称 name", "状态 status", "版本 version", "零报告 zero",
                   "截止 due"):
        table.add_column(column, overflow="fold")
    for c in done.children:
        table.add_row(c.code, escape(c.name), STATUS_LABELS[c.status],
                      str(c.version or "—"), "是" if c.zero else "",
                      c.due.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M 北京时间"))
    console.print(table)


@reports_cli.command("export")
def export(
    code: Annotated[str, typer.Argument(help="The node code.")],
    period: Annotated[str, typer.Argument(help="The day reported, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", help="The .xlsx file to write.")],
) -> None:
    """The level's report for the period as .xlsx, in the layout the level above receives."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        rows = write_export(app, code.strip(), _period(period), out)
    except GridcoreError as e:
        raise _refused(console, e) from None
    finally:
        app.close()
    console.print(f"[green]✓[/] {rows} row(s) written to {escape(str(out))}")
