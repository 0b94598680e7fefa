"""``gridcore simulate [SCENARIO]``: run a named sweep scenario with its staffing variants on a
fresh store (in memory, or a temporary SQLite file), print them side by side and write the
CSV files and plots into a folder named at the end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def simulate(
    scenario: Annotated[str, typer.Argument(help="scenario: 712 (Wuhan 712 community), "
                                                 "qingdao (the West Coast village pair) or "
                                                 "chengdu (Tianfu enterprise inspections)")]
    = "712",
    out: Annotated[Path | None, typer.Option(
        "--out", help="folder for the CSV files and plots (default "
                      "var/simulations/SCENARIO[-seedN])")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="random seed (default: the scenario's own)")] = None,
    store: Annotated[str, typer.Option(
        help="memory, or sqlite (a temporary file); never the user's store")] = "memory",
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="run only these variants")] = None,
) -> None:
    """Simulate a sweep campaign (拉网式排查) or enterprise inspection rounds (复工复产巡查)
    under staffing variants and compare them."""
    from rich.console import Console

    from simulations.scenarios import SCENARIOS, run_scenario, shortfalls, table

    if scenario not in SCENARIOS:
        typer.echo(f"Unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}.",
                   err=True)
        raise typer.Exit(2)
    if store not in ("memory", "sqlite"):
        typer.echo(f"Unknown store {store!r}; use memory or sqlite.", err=True)
        raise typer.Exit(2)
    folder = out or Path("var/simulations") / (scenario if seed is None else
                                               f"{scenario}-seed{seed}")
    console = Console()
    started = time.perf_counter()
    with console.status("simulating…") as status:
        report = run_scenario(scenario, folder, seed, store, variant or None,
                              on_variant=lambda v: status.update(f"simulating {v.label}…"))
    console.print(table(report))
    heading = "未达标 missed the window" if scenario != "chengdu" else "未结 still open"
    for line in shortfalls(report):
        console.print(f"  {heading}: {line}")
    console.print(f"{time.perf_counter() - started:.1f}s · results (CSV + PNG) in "
                  f"[bold]{report.out.resolve()}[/]")
