"""``gridcore notices print SCOPE --by STAFF_NO --out FILE.pdf [--per-household FILE.zip]``:
a 居家隔离告知书 (or 居家观察告知书) for every resident under the measure at or below SCOPE,
one page each, as a bundle PDF to print and/or a ZIP of one PDF per household
(``adapters.cli.notices_pdf``), with a progress bar and a count of what was produced.

Printed as a staff member whose role sees residents' names and addresses whole, within their
jurisdiction; every notice is written to the API's audit log (GRIDCORE_API_AUDIT_FILE) as an
unmasked read. Exit codes: 0 printed (or nothing to print), 2 refused (an unknown staff member
or node, a node outside the jurisdiction, a role that may not see names and addresses, a
measure with no notice); nothing is written when refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from gridcore.errors import GridcoreError
from gridcore.status import Measure

notices_cli = typer.Typer(help="Notices (告知书) to print: 居家隔离/居家观察告知书 in bulk.",
                          no_args_is_help=True)
EXIT_OK, EXIT_REFUSED = 0, 2


@notices_cli.command("print")
def print_cli(
    scope: Annotated[str, typer.Argument(help="the node whose residents get a notice")],
    by: Annotated[str, typer.Option("--by", help="print as this staff member (staff number); "
                                                 "their role must see names and addresses")],
    measure: Annotated[str, typer.Option(
        "--measure", help="home_quarantine (居家隔离) or home_observation (居家观察)")
    ] = Measure.HOME_QUARANTINE.value,
    out: Annotated[Path | None, typer.Option("--out", help="the bundle: one PDF, a page per "
                                                           "resident")] = None,
    per_household: Annotated[Path | None, typer.Option(
        "--per-household", help="a ZIP of one PDF per household (named by 户号)")] = None,
) -> None:
    """Print the notices of a scope: one page per resident under the measure."""
    from adapters.bootstrap import bootstrap
    from adapters.cli.notices_pdf import NoticeReader, print_notices
    from graphql_api.auth import Caller
    from graphql_api.privacy import AuditLog
    from graphql_api.settings import DEFAULT_AUDIT_FILE

    console = Console()
    try:
        import fpdf  # noqa: F401
        import pylopdf_fonts_zh_cn  # noqa: F401
    except ImportError:
        console.print("[bold red]✗ printing needs the notices extra[/] — install it: "
                      "pip install -e '.[notices]' (fpdf2 and the Noto Sans SC font)")
        raise typer.Exit(EXIT_REFUSED) from None
    try:
        chosen = Measure(measure)
    except ValueError:
        console.print(f"[bold red]✗ unknown measure {escape(measure)!r}[/] — give "
                      "home_quarantine (居家隔离) or home_observation (居家观察)")
        raise typer.Exit(EXIT_REFUSED) from None
    system = bootstrap()
    app = system.app
    try:
        s = app.staff_by_no(by)
        s.require_active()
        caller = Caller(staff_id=s.id, role=s.role, jurisdictions=s.jurisdictions)
        audit = AuditLog(os.environ.get("GRIDCORE_API_AUDIT_FILE", DEFAULT_AUDIT_FILE))
        reader = NoticeReader(app, caller, audit)
        reader.check(scope, chosen)
        total = len(reader.household_ids(scope))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[notices]} 份 notices"), console=console,
                      transient=False) as bar:
            task = bar.add_task("告知书 notices · households", total=total, notices=0)
            counts = print_notices(
                reader, scope, chosen, app.clock(), out=out, per_household=per_household,
                on_household=lambda c: bar.update(task, advance=1, notices=c.pages))
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        system.close()
    if counts.pages == 0:
        console.print(f"no resident (无居民) at or below {escape(scope)} is under "
                      f"{chosen.label}: nothing written")
        return
    console.print(f"printed 已生成 {counts.pages} notice(s) 份告知书 · residents 居民 "
                  f"{counts.residents} · households 户 {counts.households} · pages 页 "
                  f"{counts.pages} · bytes 字节 {counts.bytes}")
    for f, size in counts.files:
        console.print(f"  → {escape(str(f))} ({size} bytes)")
