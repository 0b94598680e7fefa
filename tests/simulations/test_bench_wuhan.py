"""The Wuhan-scale benchmark at a small size: every phase timed, the log's events counted,
every household swept once, the read models caught up, the raw baseline measured, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulations.benchmarks import wuhan
from simulations.citywide import city_spec
from tests.conftest import need_postgres


@pytest.mark.parametrize("households", [1, 2_999, 3_001, 40_000, 400_000, 4_000_000])
def test_the_city_has_about_the_households_asked_for(households: int) -> None:
    spec = city_spec(households)
    assert abs(spec.total_households - households) <= len(spec.communities())
    assert all(spec.households_of(c) <= wuhan_community_cap() for c in spec.communities())


def wuhan_community_cap() -> int:
    from simulations.citywide import COMMUNITY

    return COMMUNITY + COMMUNITY // 10


def check(result: wuhan.Result, markdown: str, households: int, store: str) -> None:
    assert result.store == store
    assert result.households == city_spec(households).total_households
    assert result.visits == result.households  # one visit each
    assert set(result.phases) == {"generate", "sweep", "projections"}
    assert all(s > 0 for s in result.phases.values())
    assert result.lag_after == 0
    # each household: registered, a visit opened and recorded (plus grids, staff, campaigns)
    assert result.events > 3 * result.households
    assert result.raw_seconds > 0 and result.event_bytes > 100
    assert result.ratio == pytest.approx(result.total / result.raw_seconds)
    assert result.drawing > 0  # the input drawn, shown beside the phases and not in them
    assert set(result.floors) == {"events and keys", "read models"}
    assert all(s > 0 for s in result.floors.values())
    assert result.floor_ratio == pytest.approx(sum(result.floors.values()) / result.raw_seconds)
    row = markdown.splitlines()[2]
    assert row.startswith(f"| {store} | {result.households:,} | {result.events:,} | "
                          f"{result.phases['generate']:,.0f} s | {result.drawing:,.0f} s |")
    assert f"{result.ratio:,.1f}x" in row and "≤ 8x" in row
    assert row.endswith(f"| {result.floor_ratio:,.1f}x |")


def finished(tmp_path: Path, store: str, result: wuhan.Result) -> None:
    """A finished run keeps only its figures: no database, no state."""
    folder = tmp_path / f"wuhan-{store}-{result.households}"
    assert [f.name for f in folder.iterdir()] == ["result.json"]
    assert json.loads((folder / "result.json").read_text())["events"] == result.events


@pytest.mark.parametrize("mode", ["follow", "after"])
def test_sqlite_run_reports_every_phase_and_the_raw_baseline(tmp_path: Path, mode: str,
                                                            monkeypatch) -> None:
    """The read models follow the log in their own process during the run (the default), or
    catch up after the sweep; either way they end caught up and the row says which."""
    monkeypatch.setenv("GRIDCORE_BENCH_WUHAN_READ_MODELS", mode)
    result, markdown = wuhan.run(700, "sqlite", say=lambda _: None, base=tmp_path)
    check(result, markdown, 700, "SQLite")
    assert result.read_models == mode and wuhan.MODES[mode] in markdown
    finished(tmp_path, "sqlite", result)


def test_the_input_drawn_is_left_out_of_the_generation(tmp_path: Path, monkeypatch) -> None:
    """Drawing a community's households (the input a caller hands the application) is not
    the application's work: a drawing made slower by two seconds a community shows in the
    drawing's column, not in the generation's time."""
    import time

    from simulations import city

    draw = city.household_rows

    def slow(spec: city.CitySpec, community: str) -> list[city.HouseholdRow]:
        time.sleep(2.0)
        return draw(spec, community)

    monkeypatch.setattr(city, "household_rows", slow)
    started = time.perf_counter()
    result, _ = wuhan.run(700, "sqlite", say=lambda _: None, base=tmp_path)
    wall = time.perf_counter() - started
    assert result.drawing >= 2.0
    assert result.phases["generate"] + result.drawing <= wall
    assert result.phases["generate"] < wall - 2.0


def test_an_unknown_read_models_mode_is_refused_with_the_known_ones(monkeypatch) -> None:
    monkeypatch.setenv("GRIDCORE_BENCH_WUHAN_READ_MODELS", "later")
    with pytest.raises(SystemExit, match="use follow or after"):
        wuhan.read_models_mode()


class Interrupted(Exception):
    pass


def interrupt_at(phase: str, at: int) -> wuhan.Stop:
    def stop(name: str, n: int) -> None:
        if name == phase and n >= at:
            raise Interrupted(f"{name} {n}")
    return stop


def test_an_interrupted_run_goes_on_from_where_it_stopped(tmp_path: Path) -> None:
    """Killed in each phase in turn, the run resumes: nothing is generated or swept twice,
    every household is visited once, the read models end caught up, and the seconds of every
    attempt are summed."""
    said: list[str] = []
    households = 6_500  # three communities
    for phase, at in (("generate", 2), ("sweep", 1), ("sweep", 2), ("projections", 1)):
        with pytest.raises(Interrupted):
            wuhan.run(households, "sqlite", say=said.append, base=tmp_path,
                      stop=interrupt_at(phase, at))
        state = json.loads((tmp_path / f"wuhan-sqlite-{city_spec(households).total_households}"
                            / "state.json").read_text())
        assert state["result"]["phases"].get(phase, 0) > 0
    assert state["done"] == ["generate", "sweep"] and state["swept"] == 3
    result, markdown = wuhan.run(households, "sqlite", say=said.append, base=tmp_path)
    check(result, markdown, households, "SQLite")
    assert result.attempts == 5
    assert result.read_models == "follow"  # the default, kept across the attempts
    assert any("resuming" in line and "generate, sweep" in line for line in said)
    finished(tmp_path, "sqlite", result)


def test_the_progress_lines_say_how_far_a_phase_is() -> None:
    said: list[str] = []
    bar = wuhan.Bar(said.append, live=False)
    with bar.task("sweep (communities)", 4) as show:
        show(1)
        show(4)
    assert said == ["sweep (communities): 4/4 (100%)"]


def test_postgres_run_reports_every_phase_and_cleans_up(tmp_path: Path) -> None:
    need_postgres()
    import psycopg

    result, markdown = wuhan.run(300, "postgres", say=lambda _: None, base=tmp_path)
    check(result, markdown, 300, "PostgreSQL")
    finished(tmp_path, "postgres", result)
    with psycopg.connect(wuhan.PG_DSN) as c:  # its own schema (a longer run may be going on)
        left = c.execute("SELECT count(*) FROM information_schema.schemata "
                         "WHERE schema_name = %s", (f"wuhan_{result.households}",)).fetchone()
    assert left == (0,)


def test_a_smaller_run_is_scaled_per_household_and_says_it_is_an_estimate() -> None:
    r = wuhan.Result("SQLite", 100_000, 326_000, {"generate": 60.0, "sweep": 360.0,
                                                   "projections": 120.0}, raw_seconds=12.0)
    line = wuhan.extrapolated(r, 4_000_000)
    assert "generate 40 min, sweep 240 min, projections 80 min" in line
    assert "total 6.0 h against 8.0 min of raw inserts" in line
    assert "an estimate, not a run" in line
