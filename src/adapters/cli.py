"""The ``gridcore`` command: the home of every verb (``gridcore demo``, ``gridcore import``...)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import typer

from adapters.settings import store_env
from gridcore.application import GridcoreApp, utc_now

cli = typer.Typer(help="gridcore: community grid management (社区网格化管理)", no_args_is_help=True)


def open_app(clock: Callable[[], datetime] = utc_now) -> GridcoreApp:
    """The application over the store chosen by GRIDCORE_STORE (SQLite by default)."""
    return GridcoreApp(store_env(), clock=clock)


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


@cli.callback()
def root() -> None:
    """gridcore: community grid management (社区网格化管理)."""


def main() -> None:
    cli()


@cli.command()
def demo() -> None:
    """Build the Wuhan 712 community (946 households, 11 zones) and print a summary."""
    import time

    from rich.console import Console
    from rich.table import Table

    from adapters import demo as scenario
    from adapters import demo_field

    console = Console()
    started = time.perf_counter()
    app = open_app(clock=scenario.clock)
    with console.status("building the 712 community (武汉712社区)…"):
        scenario.build(app)
    with console.status("3-day sweep, referrals, requests, deliveries to the door…"):
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
    console.print(f"store: {app.env.get('SQLITE_DBNAME') or app.env.get('PERSISTENCE_MODULE')}"
                  f" · {time.perf_counter() - started:.1f}s")


# ---- gridcore import (households from a register): defined in adapters.cli_import ----------
from adapters.cli_import import import_cli  # noqa: E402

cli.add_typer(import_cli, name="import")
