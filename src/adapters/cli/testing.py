"""``gridcore testing results FILE`` and ``gridcore testing status SCOPE ROUND``: record a lab's
result file (核酸检测结果, one tube a row: ``adapters.lab_results``), and show a testing round's
coverage per grid node with its pending tubes, positive pools, retests due and cases.

``results`` records as the staff member ``--by`` names (staff number): a tube's result is
recorded by medical staff of the campaign's scope (``gridcore.authority``); without ``--by``
it acts as the console's operator, who may not, and the file is refused. Exit codes of
``results``: 0 recorded (or already recorded), 1 the file had row errors (a tube no campaign
knows among them) and nothing was recorded, 2 the file could not be read, or the recorder may
not record its tubes, or the store failed while recording (what was recorded is said; record
the file again to complete it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.cli.importing import row_errors_table
from adapters.cli.tracing import BEIJING
from adapters.importer import RegisterFormatError
from adapters.lab_results import LabOutcome, record_lab_results
from gridcore.application import GridcoreApp
from gridcore.authority import Actor, System
from gridcore.errors import GridcoreError
from gridcore.mass_testing import TubeResult

testing_cli = typer.Typer(help="Mass testing (全员核酸检测): lab results from a file, a round's "
                               "coverage.", no_args_is_help=True)

EXIT_OK, EXIT_ROW_ERRORS, EXIT_REFUSED = 0, 1, 2


def _actor(app: GridcoreApp, staff_no: str | None) -> Actor:
    return System.OPERATOR if staff_no is None else app.staff_by_no(staff_no).id


@testing_cli.command("results")
def results(
    file: Annotated[Path, typer.Argument(
        help="The lab's file: CSV (UTF-8 or GB18030) or .xlsx, one tube a row (管码, 结果 "
             "and optionally 检测时间, or tube_code, result, tested_at); a result reads "
             "阴性/阳性, 阴/阳 or negative/positive.")],
    by: Annotated[str | None, typer.Option(
        "--by", help="Record as this medical staff member (staff number).")] = None,
) -> None:
    """Record a lab's result file (核酸结果): negatives become tests, a positive pool puts its
    households under temporary control with single-tube retests, a positive single tube opens
    a case. All or nothing: one bad row refuses the file."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        actor = _actor(app, by)
    except GridcoreError as e:
        app.close()
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    try:
        out = record_lab_results(app, file, by=actor)
    except RegisterFormatError as e:
        console.print(f"[bold red]✗ cannot read the file (无法读取):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_REFUSED) from None
    except GridcoreError as e:
        console.print(f"[bold red]✗ stopped while recording (录入中断):[/] {escape(str(e))} "
                      "Results recorded before it stand; record the file again to complete "
                      "it.")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        app.close()
    if out.file.errors:
        console.print(row_errors_table(f"结果文件错误 errors in {escape(file.name)}",
                                       out.file.errors))
        console.print(f"[red]✗ {len(out.file.errors)} errors: nothing was recorded (未录入).[/] "
                      "Fix the rows, or ask the lab for a corrected file, and record it again.")
        raise typer.Exit(EXIT_ROW_ERRORS)
    if out.refused:
        console.print(f"[bold red]✗ file refused (未录入):[/] {escape(out.refused)}")
        raise typer.Exit(EXIT_REFUSED)
    _print_summary(console, out)


def _print_summary(console: Console, out: LabOutcome) -> None:
    if out.file.has_tested_at:
        console.print("note: 检测时间 tested_at is not recorded; a result is dated when it is "
                      "recorded.")
    if out.file.skipped_columns:
        console.print("note: columns skipped (未使用的列): "
                      + escape(", ".join(out.file.skipped_columns)))
    console.print(f"[green]✓ recorded (已录入) {len(out.file.rows)} tubes:[/] 阴性 negative "
                  f"{out.negatives} · 阳性 positive {out.positives} · already recorded "
                  f"(已录入过) {out.unchanged}")
    for p in out.pools:
        console.print(f"  阳性混管 positive pool {escape(p.tube_code)} ({escape(p.campaign)}): "
                      f"{p.households_controlled} households under temporary control (临时管控), "
                      f"{p.retests} single-tube retests (单采单检)")
    console.print(f"retests scheduled (单采单检) {out.retests} · cases opened (病例) "
                  f"{len(out.cases)}{': ' + escape(', '.join(out.cases)) if out.cases else ''}"
                  f" · released from temporary control (解除管控) {out.released}")


@testing_cli.command("status")
def status(
    scope: Annotated[str, typer.Argument(help="The campaign's scope (a node code).")],
    round_no: Annotated[int, typer.Argument(metavar="ROUND", help="The round number.")],
) -> None:
    """A testing round's coverage per grid node (采样覆盖: sampled and still to sample), with
    the tubes pending a result, positive pools, retests due and cases opened."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        c = app.testing_campaign_of(scope, round_no)
        coverage = c.coverage()
        nodes = {code: app.node(code) for code in coverage}
        depth = {code: len(app.ancestry(code)) for code in coverage}
        pending, retests = c.tubes_pending(), c.retests_due()
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        app.close()
    table = Table(title=f"采样覆盖 coverage of {escape(c.name)}", title_justify="left")
    for column in ("节点 node", "户 households", "应采 residents", "已采样 sampled",
                   "待采样 to sample", "覆盖率 share"):
        table.add_column(column, justify="left" if column.startswith("节点") else "right")
    top = min(depth.values(), default=0)
    for code in sorted(coverage, key=lambda k: (depth[k], k)):
        n = coverage[code]
        table.add_row(escape(f"{'  ' * (depth[code] - top)}{nodes[code].name} {code}"),
                      str(n.households), str(n.residents), str(n.sampled),
                      str(n.residents - n.sampled), _share(n.sampled, n.residents))
    console.print(table)
    sealed = sum(1 for t in pending if t.sealed or t.retest)
    pools = sorted(t.code for t in c.tubes.values()
                   if t.result is TubeResult.POSITIVE and not t.retest and len(t.members) > 1)
    due = min((r.due for r in retests), default=None)
    console.print(f"tubes pending a result (待出结果) {len(pending)} ({sealed} sealed 已封管, "
                  f"{len(pending) - sealed} open 未封管)")
    console.print(f"positive pools (阳性混管) {len(pools)}"
                  f"{': ' + escape(', '.join(pools)) if pools else ''} · under temporary "
                  f"control (临时管控) {sum(1 for x in c.controls.values() if not x.released)}")
    first = f", first due {due.astimezone(BEIJING):%Y-%m-%d %H:%M} (北京时间)" if due else ""
    console.print(f"retests due (待单采单检) {len(retests)}{first}")
    cases = sorted(c.cases.values())
    console.print(f"cases (病例) {len(cases)}{': ' + escape(', '.join(cases)) if cases else ''}")


def _share(done: int, total: int) -> str:
    """A share in whole percent, never 100% while someone is left (224 of 225: 99%)."""
    if not total:
        return "-"
    return f"{100 * done // total}%"
