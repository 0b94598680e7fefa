"""``gridcore grid boundaries import FILE`` and ``gridcore grid boundaries export CODE``: draw
the grid on the map (网格边界) from a GeoJSON file, and write a subtree's boundaries out.

``import`` acts as the console's operator (``System.OPERATOR``) unless ``--by`` names a staff
member (an official of the nodes' jurisdiction) by staff number. It draws every feature of the
file or none (``adapters.geojson``). Exit codes: 0 drawn, 1 refused (bad features, or the
boundaries break a rule: outside the parent, overlapping a sibling, a gap with ``--strict``),
2 the file cannot be read as GeoJSON or names no coordinate system.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.geojson import (
    BoundaryFileError,
    FeatureError,
    export_boundaries,
    import_boundaries,
)
from gridcore.application import GridcoreApp
from gridcore.authority import Actor, System
from gridcore.errors import GridcoreError
from gridcore.geo import BoundaryProblem, Crs, parse_crs
from gridcore.grid_commands import BoundariesRefused, CodeProblem

grid_cli = typer.Typer(help="The grid (网格): its boundaries on the map.", no_args_is_help=True)
boundaries_cli = typer.Typer(help="Boundaries (网格边界): import from GeoJSON, export.",
                             no_args_is_help=True)
grid_cli.add_typer(boundaries_cli, name="boundaries")

EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE = 0, 1, 2
KINDS = {"outside": "超出上级 outside its parent", "overlap": "重叠 overlap",
         "gap": "未覆盖 gap", "unknown": "编码不存在 unknown code",
         "retired": "已撤销 retired", "repeated": "重复 repeated"}


def _actor(app: GridcoreApp, staff_no: str | None) -> Actor:
    return System.OPERATOR if staff_no is None else app.staff_by_no(staff_no).id


def _crs(value: str | None) -> Crs | None:
    if value is None:
        return None
    try:
        return parse_crs(value)
    except GridcoreError as e:
        raise typer.BadParameter(str(e)) from None


def _instant(text: str) -> datetime | str:
    """``text`` as a datetime when it is ISO 8601 (the zone is checked by ``check_time``)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


def feature_errors_table(title: str, errors: list[FeatureError]) -> Table:
    """A file's bad features: index, code, what was wrong and what would be right."""
    table = Table(title=title, title_justify="left")
    table.add_column("要素 feature", justify="right", no_wrap=True)
    table.add_column("编码 code", no_wrap=True)
    table.add_column("原因 reason (what was wrong, what would be right)", overflow="fold")
    for e in errors:
        table.add_row(str(e.index), escape(e.code or "—"), escape(e.message))
    return table


def problems_table(title: str, codes: tuple[CodeProblem, ...],
                   problems: tuple[BoundaryProblem, ...]) -> Table:
    """Boundary problems: the node, the kind, the other node, how much and where to look."""
    table = Table(title=title, title_justify="left")
    table.add_column("编码 code", no_wrap=True)
    table.add_column("问题 problem", no_wrap=True)
    table.add_column("相关 with", no_wrap=True)
    table.add_column("面积 m²", justify="right", no_wrap=True)
    table.add_column("位置 look at (lng, lat WGS-84)", no_wrap=True)
    for c in codes:
        table.add_row(escape(c.code), KINDS[c.kind], f"feature {c.index}", "", "")
    for p in problems:
        table.add_row(escape(p.code), KINDS.get(p.kind, p.kind), escape(p.other),
                      f"{p.square_metres:,.0f}", f"{p.at.lng:.6f}, {p.at.lat:.6f}")
    return table


@boundaries_cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(
        help="A GeoJSON FeatureCollection: one feature per node, its code in the property "
             "code (or 编码, 网格编码), a Polygon or MultiPolygon geometry.")],
    crs: Annotated[str | None, typer.Option(
        "--crs", help="The coordinates' system: wgs84 (GPS, 天地图), gcj02 (高德, 腾讯) or "
                      'bd09 (百度); needed unless the file says it ("crs": "gcj02").')] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse gaps too: each parent must be covered by its children.")
    ] = False,
    code_property: Annotated[str | None, typer.Option(
        "--code-property", help="The property holding the node code (default: code, 编码, "
                                "网格编码).")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Draw as this staff member (staff number; default: the operator).")
    ] = None,
) -> None:
    """Draw the boundaries of a file's nodes, all or nothing."""
    from adapters.bootstrap import bootstrap

    console = Console()
    given = _crs(crs)
    app = bootstrap().app
    try:
        out = import_boundaries(app, file, by=_actor(app, by), crs=given, strict=strict,
                                code_property=code_property)
    except BoundaryFileError as e:
        console.print(f"[bold red]✗ cannot read the file (无法读取):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    except BoundariesRefused as e:
        console.print(problems_table(f"边界问题 boundary problems in {escape(file.name)}",
                                     e.codes, e.problems))
        console.print(f"[red]✗ refused (未导入): nothing was drawn.[/] {escape(e.remedy)}")
        raise typer.Exit(EXIT_REFUSED) from None
    except GridcoreError as e:
        console.print(f"[bold red]✗ refused (未导入):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        app.close()
    if out.report is None:
        console.print(feature_errors_table(f"要素错误 bad features in {escape(file.name)}",
                                           out.file.errors))
        console.print(f"[red]✗ {len(out.file.errors)} bad features: nothing was drawn "
                      "(未导入).[/] Fix them and import the file again.")
        raise typer.Exit(EXIT_REFUSED)
    report = out.report
    if report.gaps:
        console.print(problems_table("未覆盖 gaps (allowed; --strict refuses them)", (),
                                     report.gaps))
    console.print(f"[green]✓ drawn (已导入) from {out.file.crs.label}:[/] "
                  f"{len(report.drawn)} boundaries drawn · {len(report.unchanged)} unchanged · "
                  f"{len(report.gaps)} gaps")
    raise typer.Exit(EXIT_OK)


@boundaries_cli.command("export")
def export(
    code: Annotated[str, typer.Argument(help="The node whose subtree's boundaries to write.")],
    crs: Annotated[str, typer.Option(
        "--crs", help="The system to write in: wgs84, gcj02 or bd09.")] = "wgs84",
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The boundaries as they were at this time (ISO 8601 with its zone, "
                        "e.g. 2020-02-17T08:00:00+08:00; default now).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write to this file (default: standard output).")] = None,
) -> None:
    """Write the boundaries of a subtree as a GeoJSON FeatureCollection."""
    from adapters.bootstrap import bootstrap

    console = Console(stderr=True)
    system = _crs(crs) or Crs.WGS84
    app = bootstrap().app
    try:
        when = app.check_time(_instant(as_of), "as-of time") if as_of is not None else None
        collection = export_boundaries(app, code, system, when)
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        app.close()
    text = json.dumps(collection, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"[green]✓ {len(collection['features'])} boundaries written to "
                      f"{escape(str(out))} ({system.label})[/]")
