"""``gridcore export KIND --scope CODE --format csv|xlsx --out FILE --by STAFF_NO``: a line
list (台账导出) of the reader's jurisdiction (or a node of it) as CSV or .xlsx, streamed
(``graphql_api.exports``, as ``GET /export/{kind}.{fmt}``): masked by the reader's role,
every unmasked field audited (one line per field: ``GRIDCORE_API_AUDIT_FILE``), formula-safe.
Kinds: households, residents, contacts, tests, deliveries, requests. Exit codes: 0 done,
2 refused (an unknown kind or format, a reader or node that does not exist or lies outside
the jurisdiction)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gridcore.errors import GridcoreError

EXIT_OK, EXIT_REFUSED = 0, 2


def export(
    kind: Annotated[str, typer.Argument(
        help="households, residents, contacts, tests, deliveries or requests")],
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    by: Annotated[str, typer.Option("--by", help="the staff number of the reader (工号)")],
    scope: Annotated[str | None, typer.Option(
        "--scope", help="a node of the reader's jurisdiction (default: all of it)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    health: Annotated[str | None, typer.Option(help="residents in this health state")] = None,
    measure: Annotated[str | None, typer.Option(help="residents under this measure")] = None,
    tag: Annotated[str | None, typer.Option(help="residents with this tag")] = None,
    personal: Annotated[bool | None, typer.Option(
        "--personal/--no-personal", help="add names and phones (residents, the default), "
                                         "the address (households) or the request's text and "
                                         "reply (requests, the default): unsealed, masked by "
                                         "role, audited")] = None,
) -> None:
    """Export a line list (台账导出) as CSV or .xlsx."""
    from adapters.bootstrap import bootstrap
    from graphql_api.auth import Caller
    from graphql_api.exports import FORMATS, KINDS, ask_of, export, visible_scope
    from graphql_api.privacy import AuditLog
    from graphql_api.settings import DEFAULT_AUDIT_FILE
    from projections.grid_rollup import subtree_households
    from projections.runner import Runner

    console = Console(stderr=True)
    if kind not in KINDS or fmt not in FORMATS:
        console.print(f"[bold red]✗ unknown export {escape(kind)}.{escape(fmt)}[/] — give "
                      f"one of {', '.join(KINDS)} and --format csv or xlsx")
        raise typer.Exit(EXIT_REFUSED)
    system = bootstrap()
    app = system.app
    try:
        s = app.staff_by_no(by)
        s.require_active()
        caller = Caller(staff_id=s.id, role=s.role, jurisdictions=s.jurisdictions)
        runner = Runner(app, list(system.projections))
        runner.catch_up()
        under = visible_scope(runner.views, caller, scope)
        if under is None:
            raise GridcoreError(f"Node {scope} lies outside your jurisdiction.",
                                "Give a node of your jurisdiction, or leave out --scope.")
        params = {"health": health, "measure": measure, "tag": tag}
        if personal is not None:
            params["personal"] = "1" if personal else "0"
        ask = ask_of(kind, under, params)
        total = subtree_households(runner.views, under) if kind == "households" else None
        audit = AuditLog(os.environ.get("GRIDCORE_API_AUDIT_FILE", DEFAULT_AUDIT_FILE))
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(f"{kind} → {out.name}", total=total)
            with open(out, "wb") as f:
                n = export(app, runner.views, caller, audit, ask, fmt, f,
                           lambda done: bar.update(task, completed=done))
    except GridcoreError as e:
        console.print(f"[bold red]✗ refused (未执行):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        system.close()
    typer.echo(f"exported (已导出) {n:,} {kind} to {out}")
