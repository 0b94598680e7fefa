"""``gridcore assistance import FILE``, ``gridcore assistance result REFERENCE`` and
``gridcore assistance status REFERENCE``: receive an assistance list (协查名单) from a file,
write the result file back to its sender, and show its completion per grid node.

Both act as the console's operator (``System.OPERATOR``) unless ``--by`` names a staff member
(a city or district official) by staff number. Exit codes of ``import``: 0 received, 1 the
list had row errors and nothing was received, 2 the file could not be read as a list or the
list was refused (a reference already received, a scope that is no city or district).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.assistance_files import import_assistance_list, write_result_file
from adapters.cli.importing import row_errors_table
from adapters.importer import RegisterFormatError
from gridcore.application import GridcoreApp
from gridcore.assistance import Source
from gridcore.authority import Actor, System
from gridcore.errors import GridcoreError

assistance_cli = typer.Typer(help="Assistance lists (协查名单): import a list, answer its sender.",
                             no_args_is_help=True)

EXIT_OK, EXIT_ROW_ERRORS, EXIT_UNREADABLE = 0, 1, 2


def _actor(app: GridcoreApp, staff_no: str | None) -> Actor:
    return System.OPERATOR if staff_no is None else app.staff_by_no(staff_no).id


@assistance_cli.command("import")
def import_list(
    file: Annotated[Path, typer.Argument(
        help="The list: CSV (UTF-8 or GB18030) or .xlsx, one person a row (姓名, 手机号, "
             "身份证号, 地址, 区, 原因 or name, phone, id_number, address, district, reason).")],
    source: Annotated[Source, typer.Option(
        "--source", help="Who sent it: province_platform, other_city, itinerary_check, "
                         "other.")],
    reference: Annotated[str, typer.Option(
        "--reference", help="The sender's reference (协查函编号), unique per list.")],
    scope: Annotated[str, typer.Option(
        "--scope", help="The city's or district's code the list is for.")],
    source_name: Annotated[str, typer.Option(
        "--source-name", help="The sender's name, e.g. 孝感市卫健委.")] = "",
    by: Annotated[str | None, typer.Option(
        "--by", help="Receive as this staff member (staff number; default: the operator).")
    ] = None,
) -> None:
    """Receive an assistance list: every person matched to the register or routed to the
    community that must locate them (落地排查)."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        out = import_assistance_list(app, file, source=source, reference=reference,
                                     scope=scope, by=_actor(app, by), source_name=source_name)
    except RegisterFormatError as e:
        console.print(f"[bold red]✗ cannot read the list (无法读取):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    except GridcoreError as e:
        console.print(f"[bold red]✗ list refused (未接收):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    finally:
        app.close()
    if out.file.errors:
        console.print(row_errors_table(f"名单错误 errors in {escape(file.name)}",
                                       out.file.errors))
        console.print(f"[red]✗ {len(out.file.errors)} errors: nothing was received (未接收).[/] "
                      "Ask the sender for a corrected list, or fix the rows and import again.")
        raise typer.Exit(EXIT_ROW_ERRORS)
    console.print(f"[green]✓ received (已接收) {escape(reference)}:[/] {out.items} persons · "
                  f"{out.matched} matched in the register (登记匹配) · {out.routed} routed by "
                  f"address (按地址落地) · {out.unrouted} left to the district (无法落地)")
    raise typer.Exit(EXIT_OK)


@assistance_cli.command("result")
def result(
    reference: Annotated[str, typer.Argument(help="The list's reference (协查函编号).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the result file.")],
    original: Annotated[Path | None, typer.Option(
        "--list", help="The file the list came in: its own columns and rows are kept.")
    ] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv or xlsx (default: the list's own format).")] = None,
) -> None:
    """Write the result file (核查结果) for the sender: the list's rows with each person's
    result, measure and time of the check, in the list's own format (owner-only file)."""
    from adapters.bootstrap import bootstrap

    console = Console()
    if fmt not in (None, "csv", "xlsx"):
        console.print("[bold red]✗ --format is csv or xlsx.[/]")
        raise typer.Exit(EXIT_UNREADABLE)
    app = bootstrap().app
    try:
        n = write_result_file(app, reference, out, original=original, fmt=fmt)
    except (GridcoreError, OSError) as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_UNREADABLE) from None
    finally:
        app.close()
    console.print(f"[green]✓ {n} persons written to {escape(str(out))} (核查结果)[/]")


@assistance_cli.command("status")
def status(
    reference: Annotated[str, typer.Argument(help="The list's reference (协查函编号).")],
    scope: Annotated[str | None, typer.Option(
        "--scope", help="Show the nodes at or below this code (default: the list's scope).")
    ] = None,
) -> None:
    """A list's completion per grid node (完成情况): persons pending, overdue, found, not
    found, moved away and with wrong data, from the city down to the micro-grids."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        a = app.assistance_list(reference)
        counts = app.assistance_completion(scope or a.scope, a.id)
        nodes = {code: app.node(code) for code in counts}
        depth = {code: len(app.ancestry(code)) for code in counts}
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_UNREADABLE) from None
    finally:
        app.close()
    table = Table(title=f"协查完成情况 {escape(a.label)}", title_justify="left")
    for column in ("节点 node", "总数 total", "待核查 pending", "逾期 overdue", "已找到 found",
                   "查无此人 not found", "已迁出 moved away", "信息有误 wrong data", "完成率 done"):
        table.add_column(column, justify="left" if column.startswith("节点") else "right")
    for code in sorted(counts, key=lambda c: (depth[c], c)):
        c, node = counts[code], nodes[code]
        rate = "" if c.rate is None else f"{c.rate:.0%}"
        table.add_row(escape(f"{'  ' * (depth[code] - 1)}{node.name} {code}"), str(c.total),
                      str(c.pending), str(c.overdue), str(c.found), str(c.not_found),
                      str(c.moved_away), str(c.wrong_data), rate)
    console.print(table)
