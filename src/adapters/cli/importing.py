"""``gridcore import households FILE``: import a grid office's household register;
``gridcore import staff FILE``: enrol a community's staff roster (花名册).

Exit codes: 0 imported (or everything was already registered or enrolled), 1 the file had
errors and nothing (or, with ``--good-rows-only``, only the clean households) was imported,
2 the file could not be read as a register (unreadable, wrong format, required columns
missing) or the import was refused (``--by`` unknown, outside that member's jurisdiction).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.importer import (
    ImportResult,
    RegisterFormatError,
    import_households,
    write_error_report,
)
from gridcore.errors import GridcoreError
from gridcore.geo import parse_crs

import_cli = typer.Typer(help="Import registers (导入登记表).", no_args_is_help=True)

EXIT_OK, EXIT_ROW_ERRORS, EXIT_UNREADABLE = 0, 1, 2


@import_cli.callback()
def import_root() -> None:
    """Import registers (导入登记表)."""


@import_cli.command("households")
def households(
    file: Annotated[Path, typer.Argument(
        help="The register: CSV (UTF-8 or GB18030) or Excel .xlsx, one row per resident.")],
    good_rows_only: Annotated[bool, typer.Option(
        "--good-rows-only",
        help="Import the households none of whose rows has an error; report the rest.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check the file only; write nothing.")] = False,
    max_errors: Annotated[int, typer.Option(
        "--max-errors", min=1, help="Show at most this many errors in the table.")] = 200,
    errors_csv: Annotated[Path | None, typer.Option(
        "--errors-csv", help="Also write every error with its row's cells as typed to this "
        "CSV (owner-only; formula-like cells neutralised), to fix and import again.")] = None,
    hide_values: Annotated[bool, typer.Option(
        "--hide-values", help="Leave out the values you typed (填写) from the error table, "
        "e.g. when this output is logged or shared; the reasons never show them "
        "unmasked.")] = False,
    crs: Annotated[str, typer.Option(
        "--crs", help="The system the 经度/纬度 columns are in: wgs84 (GPS, 天地图), gcj02 "
        "(高德, 腾讯) or bd09 (百度).")] = "wgs84",
    community: Annotated[str | None, typer.Option(
        "--community", help="A row with 经度/纬度 and no 微网格 is registered in the "
        "micro-grid of this community whose boundary contains it.")] = None,
) -> None:
    """Import households (住户) from a register: 户号, 微网格, 楼栋, 地址, 姓名, 电话, 身份证号,
    出生年份, 弱势, 经度, 纬度 (or household_no, micro_grid, building, address, name, phone,
    id_number, birth_year, vulnerabilities, longitude, latitude)."""
    from adapters.bootstrap import bootstrap

    console = Console()
    try:
        system = parse_crs(crs)
    except GridcoreError as e:
        console.print(f"[bold red]✗ --crs:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    app = bootstrap().app
    try:
        result = import_households(app, file, good_rows_only=good_rows_only, dry_run=dry_run,
                                   console=console, crs=system, community=community)
    except RegisterFormatError as e:
        console.print(f"[bold red]✗ cannot read the register (无法读取):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    except GridcoreError as e:
        console.print(f"[bold red]✗ import failed (导入失败):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_ROW_ERRORS) from None
    finally:
        app.close()
    print_errors(console, file, result, max_errors, show_given=not hide_values)
    for w in result.warnings[:max_errors]:
        console.print(f"[yellow]! 行 row {w.row} · {escape(w.column)}:[/] {escape(w.message)}")
    if errors_csv is not None and result.errors:
        written = write_error_report(errors_csv, file, result)
        console.print(f"{written} errors written to {escape(str(errors_csv))} (错误清单)")
    console.print(summary(file, result, good_rows_only, dry_run))
    if not result.header_ok:
        raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(EXIT_ROW_ERRORS if result.errors else EXIT_OK)


def print_errors(console: Console, file: Path, result: ImportResult, limit: int,
                 show_given: bool = True) -> None:
    """The errors as a table; with ``show_given`` each with the cell as the clerk typed it
    (their own input, shown to them at their terminal; the reasons keep personal values
    masked)."""
    if not result.errors:
        return
    table = Table(title=f"登记表错误 errors in {escape(file.name)}", title_justify="left")
    table.add_column("行 row", justify="right", no_wrap=True)
    table.add_column("列 column", no_wrap=True)
    if show_given:
        table.add_column("填写 you typed", no_wrap=True)
    table.add_column("原因 reason (what was wrong, what would be right)", overflow="fold")
    for e in result.errors[:limit]:
        # printable characters only: a cell's control characters must not drive the terminal
        given = ["".join(ch if ch.isprintable() else "\ufffd" for ch in escape(e.given))
                 ] if show_given else []
        table.add_row(str(e.row), escape(e.column), *given, escape(e.message))
    console.print(table)
    if len(result.errors) > limit:
        console.print(f"… {len(result.errors) - limit} more errors not shown "
                      "(use --max-errors to see them).")


def summary(file: Path, result: ImportResult, good_rows_only: bool, dry_run: bool) -> str:
    found = (f"{result.households_in_file} households (户) / {result.residents_in_file} "
             f"residents (人) in {escape(file.name)}")
    already = f"{result.already_registered} already registered (已登记)"
    if not result.header_ok:
        return (f"[bold red]✗ {escape(file.name)} is not a household register:[/] fix the "
                "header row (表头) above; nothing was imported (未导入).")
    problems = (f"{len(result.errors)} error{'s' if len(result.errors) != 1 else ''} in "
                f"{len(result.bad_rows)} row{'s' if len(result.bad_rows) != 1 else ''} (错误)")
    clean = result.households_in_file - result.already_registered - result.skipped
    if dry_run:
        verdict = f"[red]✗ {problems}[/]" if result.errors else "[green]✓ no errors[/]"
        return (f"{verdict} · checked (检查) {found} · {already} · {clean} would be imported; "
                "nothing was written (--dry-run).")
    imported = (f"imported (已导入) {result.households} households / {result.residents} "
                "residents")
    cap = ""
    if result.over_cap:
        grids = ", ".join(f"{code} (+{n})" for code, n in sorted(result.over_cap.items()))
        cap = f" · above the resident soft cap (超出软上限, allowed): {grids}"
    if not result.errors and not result.households and result.already_registered:
        return (f"[green]✓ nothing new (无新增):[/] all {result.already_registered} households "
                f"in {escape(file.name)} are already registered (已登记).")
    if not result.errors:
        return f"[green]✓ {imported}[/] · {already} · {found}{cap}"
    if good_rows_only:
        return (f"[yellow]! {imported}[/] · {result.skipped} households with errors skipped "
                f"(跳过) · {already} · {problems} · {found}{cap}")
    rerun = (f", or rerun with --good-rows-only to import the {clean} clean households"
             if clean else "")
    return (f"[red]✗ {problems}: nothing was imported (未导入).[/] {found} · {already}. Fix the "
            f"rows above{rerun}.")


def row_errors_table(title: str, errors: Iterable[Any]) -> Table:
    """A file's row errors (each with ``row``, ``column`` and ``message``) as a table: where,
    what was wrong and what would be right."""
    table = Table(title=title, title_justify="left")
    table.add_column("行 row", justify="right", no_wrap=True)
    table.add_column("列 column", no_wrap=True)
    table.add_column("原因 reason (what was wrong, what would be right)", overflow="fold")
    for e in errors:
        table.add_row(str(e.row), escape(e.column), escape(e.message))
    return table


@import_cli.command("staff")
def staff(
    file: Annotated[Path, typer.Argument(
        help="The roster: CSV (UTF-8 or GB18030) or Excel .xlsx, one member a row: 工号, 姓名, "
             "角色, 辖区 and optionally 每日户数, 电话 (or staff_no, name, role, "
             "jurisdiction, daily_capacity, phone).")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check the file only; write nothing.")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", help="Enrol as this official (staff number): every row's jurisdiction must "
        "lie in theirs. Default: the grid office's operator.")] = None,
    max_errors: Annotated[int, typer.Option(
        "--max-errors", min=1, help="Show at most this many errors in the table.")] = 200,
    hide_values: Annotated[bool, typer.Option(
        "--hide-values", help="Leave out the values you typed (填写) from the error "
        "table.")] = False,
) -> None:
    """Enrol staff (工作人员) from a roster (花名册). All or nothing: one bad row refuses the
    file; members already enrolled under their staff number (工号) are skipped."""
    from adapters.bootstrap import bootstrap
    from adapters.roster import import_roster
    from gridcore.authority import System

    console = Console()
    app = bootstrap().app
    try:
        actor = System.OPERATOR if by is None else app.staff_by_no(by).id
        out = import_roster(app, file, dry_run=dry_run, by=actor)
    except RegisterFormatError as e:
        console.print(f"[bold red]✗ cannot read the roster (无法读取):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    except GridcoreError as e:
        console.print(f"[bold red]✗ refused (未导入):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    finally:
        app.close()
    roster = out.roster
    name = escape(file.name)
    if roster.errors:
        shown = [e._replace(given="") for e in roster.errors[:max_errors]] if hide_values \
            else roster.errors[:max_errors]
        console.print(row_errors_table(f"花名册错误 errors in {name}", shown))
        if len(roster.errors) > max_errors:
            console.print(f"… {len(roster.errors) - max_errors} more errors not shown "
                          "(use --max-errors to see them).")
        if not roster.header_ok:
            console.print(f"[bold red]✗ {name} is not a roster:[/] fix the header row (表头) "
                          "above; nothing was enrolled (未导入).")
            raise typer.Exit(EXIT_UNREADABLE)
        console.print(f"[red]✗ {len(roster.errors)} errors: nothing was enrolled (未导入).[/] "
                      "Fix the rows above and import the roster again.")
        raise typer.Exit(EXIT_ROW_ERRORS)
    if roster.skipped_columns:
        console.print("note: columns skipped (未使用的列): "
                      + escape(", ".join(roster.skipped_columns)))
    new = len(roster.rows) - len(roster.already_enrolled)
    already = f"{len(roster.already_enrolled)} already enrolled (已在册)"
    if dry_run:
        console.print(f"[green]✓ no errors[/] · checked (检查) {len(roster.rows)} members in "
                      f"{name} · {already} · {new} would be enrolled; nothing was written "
                      "(--dry-run).")
    elif not out.enrolled:
        console.print(f"[green]✓ nothing new (无新增):[/] all {len(roster.rows)} members in "
                      f"{name} are already enrolled (已在册).")
    else:
        console.print(f"[green]✓ enrolled (已导入) {out.enrolled} members[/] · {already} · "
                      f"{len(roster.rows)} in {name}")
