"""The ``gridcore`` command: the home of every verb (``gridcore demo``, ``gridcore import``...).

The command line is a package of entry points, one module per group of verbs (``importing``,
``ingest``, ``keys``, ``serve``, ``stream``, ``simulate``); each builds its process through the
composition root, ``adapters.bootstrap``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.bootstrap import System, bootstrap
from adapters.cli.assistance import assistance_cli
from adapters.cli.checkin import checkin
from adapters.cli.exports import export
from adapters.cli.grid import grid_cli
from adapters.cli.importing import import_cli
from adapters.cli.ingest import ingest_cli
from adapters.cli.keys import keys_cli
from adapters.cli.notices import notices_cli
from adapters.cli.notify import notify_cli
from adapters.cli.reports import reports_cli
from adapters.cli.serve import serve, token_cli
from adapters.cli.simulate import simulate
from adapters.cli.stream import stream_cli
from adapters.cli.testing import testing_cli
from adapters.cli.tracing import tracing_cli
from adapters.cli.zones import zones_cli
from gridcore.application import GridcoreApp

if TYPE_CHECKING:
    from projections.runner import Runner

cli = typer.Typer(help="gridcore: community grid management (社区网格化管理)", no_args_is_help=True)


def open_app(clock: Callable[[], datetime] | None = None) -> GridcoreApp:
    """The application over the store chosen by GRIDCORE_STORE (SQLite by default), on
    ``clock`` or else the one GRIDCORE_SCENARIO_CLOCK asks for (the wall clock when unset)."""
    return bootstrap(clock=clock).app


@cli.command()
def tick() -> None:
    """Record everything that became overdue by now (each item once, however often run)."""
    counts = open_app().tick()
    typer.echo("overdue (逾期): " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@cli.command()
def scheduler(every: float = typer.Option(60.0, help="seconds between ticks"),
              times: int = typer.Option(0, help="stop after this many ticks (0: run until "
                                                 "interrupted)")) -> None:
    """Call ``tick`` on a schedule (the deadlines of referrals, requests, deliveries,
    rectifications and sweep windows)."""
    import threading

    app, stop, done = open_app(), threading.Event(), 0
    try:
        while not stop.is_set():
            counts = app.tick()
            done += 1
            if any(counts.values()):
                typer.echo("overdue (逾期): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            if times and done >= times:
                break
            stop.wait(every)
    except KeyboardInterrupt:
        pass
    typer.echo(f"scheduler stopped after {done} tick(s)")


projections_cli = typer.Typer(help="Read models: status, run, rebuild, retry.",
                              no_args_is_help=True)
cli.add_typer(projections_cli, name="projections")


GROUP_HELP = ("only the read models of this group (repeat it, or give a comma list); "
              "groups: GRIDCORE_PROJECTION_GROUPS, else grid, field and boards")


def _runner(batch: int = 5000, groups: list[str] | None = None,
            system: System | None = None) -> Runner:
    """A runner of every read model, or of ``groups``' (exit 2 naming the known groups for
    an unknown one, or saying what is wrong with GRIDCORE_PROJECTION_GROUPS)."""
    from projections.groups import GroupError

    system = system or bootstrap()
    try:
        return system.runner(batch, groups or ())
    except GroupError as e:
        system.close()
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


def _group_of(system: System) -> dict[str, str]:
    """Each read model's group (exit 2 when GRIDCORE_PROJECTION_GROUPS is wrong)."""
    from projections.groups import GroupError, group_of

    try:
        return group_of(system.groups)
    except GroupError as e:
        system.close()
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


def report_stuck(statuses: list[Any], err: bool = False) -> bool:
    """Print each stuck projection's event and error, and what to do; whether any is."""
    stuck = [s.stuck for s in statuses if s.stuck is not None]
    for f in stuck:
        typer.echo(f"STUCK {f.describe()}", err=err)
        typer.echo(f"  fix the cause, then `gridcore projections retry {f.name}` "
                   f"(or `gridcore projections rebuild {f.name}`)", err=err)
    return bool(stuck)


@projections_cli.command("status")
def projections_status(groups: Annotated[list[str] | None, typer.Option(
        "--group", help=GROUP_HELP)] = None) -> None:
    """Each projection's group, position, its lag behind the event log, and, for a stuck
    one, the event it cannot apply and why (exit code 1 while any is stuck)."""
    from rich.console import Console
    from rich.table import Table

    system = bootstrap()
    group_of = _group_of(system)
    table = Table(title="读模型 projections")
    for col in ("name", "group (分组)", "position", "log", "lag (滞后)", "state (状态)"):
        table.add_column(col, justify="left" if col in ("name", "group (分组)") else "right")
    statuses = _runner(groups=groups, system=system).status()
    for s in statuses:
        table.add_row(s.name, group_of.get(s.name, "-"), str(s.position), str(s.last),
                      str(s.lag), "ok" if s.stuck is None else "STUCK 卡住")
    Console().print(table)
    if report_stuck(statuses):
        raise typer.Exit(1)


@projections_cli.command("retry")
def projections_retry(names: Annotated[list[str] | None, typer.Argument(
        help="the stuck projections to try again (default: every stuck one)")] = None) -> None:
    """Try stuck projections again from where they stopped (after fixing the cause); one that
    fails again is reported and stays stuck (exit code 1)."""
    runner = _runner()
    try:
        applied = runner.retry(*(names or []))
    except KeyError as e:
        typer.echo(str(e).strip("'\""), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"retried: {applied} events applied")
    if report_stuck(runner.status()):
        raise typer.Exit(1)


@projections_cli.command("run")
def projections_run(once: bool = typer.Option(False, help="catch up and exit"),
                    batch: int = typer.Option(5000, help="events per transaction"),
                    groups: Annotated[list[str] | None, typer.Option(
                        "--group", help=GROUP_HELP)] = None) -> None:
    """Catch up every projection (or those of the groups given: one process per group, side
    by side, each with its own positions), then follow the log until interrupted (or exit
    with --once)."""
    runner = _runner(batch, groups)
    if groups:
        typer.echo(f"group {', '.join(groups)}: {', '.join(runner.projections)}")
    applied = runner.retry()  # stuck ones: once more at start
    typer.echo(f"caught up: {applied} events applied")
    report_stuck(runner.status(), err=True)
    if once:
        return
    try:
        runner.follow()
    except KeyboardInterrupt:
        runner.stop()


@projections_cli.command("rebuild")
def projections_rebuild(name: str) -> None:
    """Rebuild one projection from the first event, with a progress bar."""
    from rich.progress import Progress

    runner = _runner()
    with Progress() as bar:
        task = bar.add_task(f"rebuilding {name}", total=None)

        def show(_: str, position: int, upto: int) -> None:
            bar.update(task, completed=position, total=upto)

        try:
            applied = runner.rebuild(name, show)
        except KeyError as e:
            typer.echo(str(e).strip("'\""), err=True)
            raise typer.Exit(2) from None
    typer.echo(f"rebuilt {name}: {applied} events applied")
    if report_stuck([s for s in runner.status() if s.name == name]):
        raise typer.Exit(1)


@cli.callback()
def root() -> None:
    """gridcore: community grid management (社区网格化管理)."""


def main() -> None:
    cli()


@cli.command()
def demo(serve: bool | None = typer.Option(
        None, "--serve/--no-serve",
        help="then serve the API and dashboard on 127.0.0.1:8000 (default: when run in a "
             "terminal; scripts and CI get the summary and the command to serve)")) -> None:
    """Build the Wuhan 712 community (946 households, 11 zones), print a summary, and serve
    it with tokens for a community official and a grid worker."""
    import sys
    import time

    from rich.console import Console
    from rich.table import Table

    from adapters import demo as scenario
    from adapters import demo_field, demo_geography, demo_monitoring

    console = Console()
    started = time.perf_counter()
    app = open_app(clock=scenario.clock)
    with console.status("building the 712 community (武汉712社区)…"):
        scenario.build(app)
    with console.status("3-day sweep, referrals, requests, tracing, deliveries to the door, "
                        "an assistance list, a testing round, health monitoring…"):
        demo_field.run(app, scenario.clock)
    table = Table(title="武汉 712社区 — zones (片区) after assignment round 1")
    table.caption = ("片区 zone · 户 households · 人 residents · 弱势户 vulnerable households · "
                     "上门 door visits · 网格员 responsible grid worker · 小分队 squad size")
    for col in ("片区", "户", "人", "弱势户", "上门", "网格员", "小分队"):
        table.add_column(col, justify="left" if col in ("片区", "网格员") else "right")
    rows = scenario.summarize(app)
    for z in rows:
        table.add_row(f"{z.name} {z.code[-3:]}", str(z.households), str(z.residents),
                      str(z.vulnerable), str(z.door), z.worker, str(z.squad))
    table.add_row("合计", str(sum(z.households for z in rows)),
                  str(sum(z.residents for z in rows)), str(sum(z.vulnerable for z in rows)),
                  str(sum(z.door for z in rows)), "", str(sum(z.squad for z in rows)))
    console.print(table)
    a = app.assignment(scenario.COMMUNITY, 1)
    counts = scenario.staff_counts(app)
    console.print("staff (人员): " + ", ".join(f"{r.label} {n}" for r, n in counts.items()))
    console.print(f"assigned (已分配) {len(a.owner)} households, uncovered (未覆盖) "
                  f"{len(a.uncovered)}; zones above the soft cap of "
                  f"{app.policy_at(app.clock()).micro_grid_soft_cap} residents: "
                  f"{len(app.over_cap(scenario.COMMUNITY))} (allowed, reported)")
    console.print(demo_geography.summary(app), soft_wrap=True)
    told = demo_field.story(app)
    console.print(
        f"[bold]拉网式排查 sweep[/] 17-19 Feb: covered (已覆盖) {told.covered}/{told.households} "
        f"households, by method {told.by_method}; findings (发现): fever 发热 {told.fevers}, "
        f"close contacts 密接 {told.close_contacts}, arrivals 外地来返 {told.arrivals}")
    console.print("[bold]转介 referrals[/]: " + ", ".join(
        f"{k} {v}" for k, v in sorted(told.referrals.items())) +
        f"; 集中隔离点 site occupancy {told.site_occupancy}")
    console.print(f"[bold]配送到户 deliveries[/] from 22 Feb (爱心菜 to every household): "
                  f"{told.deliveries}")
    console.print(f"[bold]群众诉求 requests[/]: {told.requests}, escalated (升级) "
                  f"{told.escalated_requests}")
    case = told.case
    console.print(f"[bold]流调 tracing[/] 21 Feb: case {case.case_no} {case.status}, close "
                  f"contacts 密接 {case.close}, secondary 次密接 {case.secondary}, to locate "
                  f"待落地排查 {case.to_locate} (of them with a match to confirm 待确认匹配 "
                  f"{case.proposed}); its chain: `gridcore tracing chain {case.case_no}`",
                  soft_wrap=True)
    listed = told.assistance
    levels = ", ".join(f"{name} {c[1] - c[6]}/{c[1]}" for name, c in listed.completion.items())
    _, _, found, not_found, moved, wrong, pending, overdue = next(
        iter(listed.completion.values()))
    console.print(
        f"[bold]协查 assistance list[/] 23 Feb {listed.reference} (通信大数据行程卡 itinerary "
        f"check): {listed.items} arrivals, matched in the register 登记匹配 {listed.matched}, "
        f"routed by address to the zones 按地址落地 {listed.routed}, left at the district "
        f"无法落地 then routed by hand {listed.unrouted}; done per level 完成 {levels}: found "
        f"已找到 {found}, not found 查无此人 {not_found}, moved away 已迁出 {moved}, wrong data "
        f"信息有误 {wrong}, pending 待核查 {pending} (overdue 逾期 {overdue}, escalated to "
        f"{listed.overdue_at}); `gridcore assistance status '{listed.reference}'`",
        soft_wrap=True)
    t = told.testing
    console.print(
        f"[bold]全员核酸检测 testing round[/] 25-26 Feb: sampled 已采样 {t.sampled}/{t.residents} "
        f"residents (not sampled 未采样 {t.residents - t.sampled} in {t.unsampled_households} "
        f"households: centralized quarantine, the confirmed case, not at home); "
        f"{t.site_households} households at 2 sites 采样点, {t.door_households} door-to-door "
        f"上门采样; {t.tubes} pooled tubes 10-in-1 混检; positive pool 阳性混管 {t.pool} "
        f"({t.pool_members} samples): {t.controlled} residents of its households under "
        f"temporary control 临时管控, single-tube retests 单采单检, one positive → case "
        f"{t.case_no} with {t.case_close_contacts} close contacts 密接; released 解除 "
        f"{t.released}, still under control {t.still_controlled} (the case's household)",
        soft_wrap=True)
    mon = demo_monitoring.story(app)
    console.print(
        f"[bold]健康监测 monitoring[/] 28-29 Feb: {mon.monitored} residents monitored 监测中, "
        f"{mon.reports} reports received 已上报 (chat 群内自报, {mon.called} assisted by phone "
        f"电话随访, the site 隔离点), missed 漏报 {mon.missed} (escalated to 升级至 "
        f"{mon.missed_owner}), abnormal 异常 {mon.abnormal} → fever-clinic referral 发热门诊转介 "
        f"({mon.referred}), due for release 待解除 {mon.release}",
        soft_wrap=True)
    console.print(demo_geography.zones_summary(app), soft_wrap=True)
    console.print(f"store: {app.env.get('SQLITE_DBNAME') or app.env.get('PERSISTENCE_MODULE')}"
                  f" · {time.perf_counter() - started:.1f}s")
    app.close()
    _serve_demo(console, sys.stdin.isatty() and sys.stdout.isatty() if serve is None else serve,
                scenario.clock.now)


def _this_command() -> str:
    """How to call this command again: ``gridcore`` when it is on the PATH, else the path it
    was called by (``.venv/bin/gridcore`` after ``make demo``)."""
    import os
    import shutil
    import sys

    called = sys.argv[0] if sys.argv else ""
    if shutil.which("gridcore") or os.path.basename(called) != "gridcore":
        return "gridcore"
    return os.path.relpath(called)


def _serve_demo(console: Any, serve: bool, scenario_now: datetime) -> None:
    """Tokens, then (``serve``) the API and dashboard on a scenario clock starting where the
    story ended (``scenario_now``), so its deadlines read as they did then."""
    from adapters.bootstrap import SCENARIO_CLOCK, ScenarioTime
    from adapters.cli.serve import demo_tokens, run_server, settings_or_exit

    settings = settings_or_exit()
    console.print("[bold]tokens (访问令牌)[/] — paste one into the dashboard, or send it as "
                  "`Authorization: Bearer …`:")
    for no, who, token in demo_tokens(settings):
        console.print(f"  {who} ({no}): {token}", soft_wrap=True)
    if not serve:
        exe = _this_command()
        console.print(f"serve it at the scenario's time: `{SCENARIO_CLOCK}=last-event {exe} "
                      f"serve` (or `{exe} demo --serve`), then open http://127.0.0.1:8000/",
                      soft_wrap=True)
        return
    run_server(settings, "127.0.0.1", 8000, clock=ScenarioTime(scenario_now))


cli.add_typer(import_cli, name="import")
cli.add_typer(stream_cli, name="stream")
cli.add_typer(ingest_cli, name="ingest")
cli.command()(checkin)
cli.command()(serve)
cli.add_typer(token_cli, name="token")
cli.command()(simulate)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(assistance_cli, name="assistance")
cli.add_typer(tracing_cli, name="tracing")
cli.add_typer(testing_cli, name="testing")
cli.add_typer(notify_cli, name="notify")
cli.add_typer(notices_cli, name="notices")
cli.add_typer(grid_cli, name="grid")
cli.add_typer(zones_cli, name="zones")
cli.add_typer(reports_cli, name="reports")
cli.command("export")(export)
