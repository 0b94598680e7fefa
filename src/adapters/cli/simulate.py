"""``gridcore simulate [SCENARIO]``: run a named sweep scenario with its staffing variants on a
fresh store (in memory, or a temporary SQLite file), print them side by side and write the
CSV files and plots into a folder named at the end.

Two modes share the command: ``gridcore simulate stress --households N`` (the whole stack at a
chosen size, on a fresh SQLite file or PostgreSQL schema: events/s written, projection lag
over time, API latency under that load) and ``gridcore simulate replay`` (a campaign recorded
in a store re-run under other staffing and policy variants, compared with what happened).
``gridcore simulate testing`` models a city-wide mass-testing campaign (全员核酸检测) under pool
sizes and sampling sites (``simulations.testing``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

MODES = ("stress", "replay", "testing")


def simulate(
    scenario: Annotated[str, typer.Argument(help="scenario: 712 (Wuhan 712 community), "
                                                 "qingdao (the West Coast village pair), "
                                                 "chengdu (Tianfu enterprise inspections); "
                                                 "or the modes stress (city-scale stress "
                                                 "run), replay (a recorded campaign "
                                                 "under other staffing or policy) and "
                                                 "testing (city-wide mass testing, "
                                                 "全员核酸检测)")]
    = "712",
    out: Annotated[Path | None, typer.Option(
        "--out", help="folder for the CSV files and plots (default "
                      "var/simulations/SCENARIO[-seedN])")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="random seed (default: the scenario's own)")] = None,
    store: Annotated[str | None, typer.Option(
        help="memory (default), or sqlite (a temporary file); never the user's store. "
             "stress: sqlite (default) or postgres (a fresh schema, dropped after)")] = None,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="run only these variants")] = None,
    households: Annotated[int | None, typer.Option(
        "--households", help="stress, testing: the city's size in households (stress: "
                             "100,000 by default)", min=1)] = None,
    people: Annotated[int | None, typer.Option(
        "--people", help="testing: the city's size in residents instead (default 9,900,000, "
                         "Wuhan's May 2020 campaign)", min=1)] = None,
    pool_size: Annotated[list[int] | None, typer.Option(
        "--pool-size", help="testing: samples per tube, one variant each (default 10 and 1: "
                            "10-in-1 混检 against single tubes 单采单检)", min=1, max=20)] = None,
    sites: Annotated[list[int] | None, typer.Option(
        "--sites", help="testing: sampling sites (采样点) per community, one variant each "
                        "(default 1 and 2)", min=1, max=50)] = None,
    prevalence: Annotated[float, typer.Option(
        "--prevalence", help="testing: share of residents infected (default 3e-5: ~300 in "
                             "9.9 million)", min=0.0, max=1.0)] = 3e-5,
    lab_capacity: Annotated[int | None, typer.Option(
        "--lab-capacity", help="testing: tubes the labs run per day (default 100 per 10,000 "
                               "residents)", min=1)] = None,
    door_to_door: Annotated[list[str] | None, typer.Option(
        "--door-to-door", help="testing: vulnerabilities sampled at home (上门采样), e.g. "
                               "age_65_plus (default disability and lives_alone)")] = None,
    door_staff: Annotated[float, typer.Option(
        "--door-staff", help="testing: door-to-door teams (上门采样) as a share of the "
                             "communities' medical staff (default 1)", min=0.0)] = 1.0,
    source: Annotated[Path | None, typer.Option(
        "--from", help="replay: the SQLite file holding the recorded campaign (default: the "
                       "configured store, GRIDCORE_STORE; read only)")] = None,
    scope: Annotated[str | None, typer.Option(
        "--scope", help="replay: the campaign's scope (default: the last launched)")] = None,
    round_no: Annotated[int | None, typer.Option(
        "--round", help="replay: the campaign's round")] = None,
) -> None:
    """Simulate a sweep campaign (拉网式排查) or enterprise inspection rounds (复工复产巡查)
    under staffing variants and compare them; or stress the whole stack; or replay a
    recorded campaign (复盘)."""
    from rich.console import Console

    from simulations.scenarios import SCENARIOS, run_scenario, shortfalls, table

    if scenario == "stress":
        return _stress(households or 100_000, store or "sqlite", out)
    if scenario == "testing":
        return _testing(households, people, pool_size or [10, 1], sites or [1, 2], prevalence,
                        lab_capacity, door_to_door, door_staff, seed, variant, out)
    if scenario == "replay":
        return _replay(source, scope, round_no, variant, out)
    if scenario not in SCENARIOS:
        typer.echo(f"Unknown scenario {scenario!r}; choose one of "
                   f"{', '.join([*SCENARIOS, *MODES])}.", err=True)
        raise typer.Exit(2)
    store = store or "memory"
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


def _stress(households: int, store: str, out: Path | None) -> None:
    from rich.console import Console

    from simulations.stress import run_stress, table

    if store not in ("sqlite", "postgres"):
        typer.echo(f"The stress run needs sqlite or postgres, not {store!r}.", err=True)
        raise typer.Exit(2)
    folder = out or Path("var/simulations") / f"stress-{households}"
    console = Console()
    with console.status(f"压力测试 stress run: {households:,} households on {store}…") as s:
        report = run_stress(households, folder, store, say=lambda m: s.update(m))
    console.print(table(report))
    console.print(f"results (lag.csv, api.csv, stress.png) in [bold]{folder.resolve()}[/]")


def _replay(source: Path | None, scope: str | None, round_no: int | None,
            variants: list[str] | None, out: Path | None) -> None:
    from rich.console import Console

    from adapters.bootstrap import bootstrap
    from adapters.settings import sqlite_env
    from simulations.replay import run_replay, table

    if source is not None and not source.is_file():
        typer.echo(f"No store file {source}; give the SQLite file holding the campaign.",
                   err=True)
        raise typer.Exit(2)
    app: Any = bootstrap(sqlite_env(source) if source is not None else None).app
    folder = out or Path("var/simulations") / "replay"
    console = Console()
    try:
        with console.status("复盘 replaying…") as status:
            report = run_replay(app, scope, round_no, variants or None, folder,
                                on_variant=lambda v: status.update(f"replaying {v.label}…"))
    except LookupError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    finally:
        app.close()
    console.print(table(report))
    console.print(f"results (replay.csv) in [bold]{folder.resolve()}[/]")


def _testing(households: int | None, people: int | None, pool_sizes: list[int],
             sites: list[int], prevalence: float, lab_capacity: int | None,
             door_to_door: list[str] | None, door_staff: float, seed: int | None,
             only: list[str] | None, out: Path | None) -> None:
    from rich.console import Console

    from gridcore.household import Vulnerability
    from gridcore.policy import DEFAULT_POLICY
    from simulations.testing import (
        AT_HOME,
        TestingParams,
        run_testing,
        spec_for,
        table,
        variants,
    )

    known = {v.value for v in Vulnerability}
    if door_to_door and not set(door_to_door) <= known:
        typer.echo(f"Unknown vulnerability {', '.join(sorted(set(door_to_door) - known))}; "
                   f"choose from {', '.join(sorted(known))}.", err=True)
        raise typer.Exit(2)
    policy = DEFAULT_POLICY.with_changes(
        door_to_door_vulnerabilities=tuple(door_to_door or AT_HOME))
    spec = spec_for(households, people, 4201 if seed is None else seed)
    base = TestingParams(prevalence=prevalence, lab_tubes_per_day=lab_capacity or 0,
                         door_staff_share=door_staff, seed=1 if seed is None else seed)
    every = variants(dict.fromkeys(pool_sizes), dict.fromkeys(sites), base, policy)
    chosen = [v for v in every if not only or v.name in only]
    if not chosen:
        typer.echo(f"No variant named {', '.join(only or [])}; the variants are "
                   f"{', '.join(v.name for v in every)}.", err=True)
        raise typer.Exit(2)
    folder = out or Path("var/simulations") / ("testing" if seed is None else
                                               f"testing-seed{seed}")
    console = Console()
    with console.status(f"全员核酸检测 mass testing: {spec.total_households:,} households…") as s:
        report = run_testing(spec, chosen, folder, say=lambda m: s.update(m))
    console.print(table(report))
    console.print(f"{report.seconds:.1f}s · results (variants.csv, days.csv, testing.png) in "
                  f"[bold]{folder.resolve()}[/]")
