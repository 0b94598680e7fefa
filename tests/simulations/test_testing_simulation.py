"""The mass-testing simulation (全员核酸检测, ``simulations.testing``) at a small size: the model
against the real campaigns of the library on the same city, its invariants (everyone sampled
once, tubes by the pooling rule, single tubes never fewer, every planted positive found with a
perfect test, more sites never slower, a pool's positives isolated only after the retest), the
two resolutions held together, and the CLI."""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from simulations.city import CitySpec, StaffMix
from simulations.testing import (
    TestingParams,
    TestingResult,
    TestingVariant,
    community_batches,
    draw_community,
    run_in_library,
    run_model,
    spec_for,
    tubes_for,
    variants,
)

# two communities of 150 households, the 712 community's staff mix per 150 households (so
# each has an official, grid workers and a family doctor); infections planted densely
SMALL = CitySpec(seed=17, communities_per_street=2, grids_per_community=4,
                 households_per_community=150, households_per_building=25,
                 staff=StaffMix(reference_households=150))
PARAMS = TestingParams(prevalence=0.01, seed=17, capacity_per_hour=20)


def variant(pool: int, **changes: object) -> TestingVariant:
    v = variants((pool,), (1,), PARAMS)[0]
    return replace(v, params=replace(v.params, **changes))  # type: ignore[arg-type]


def model(pool: int, spec: CitySpec = SMALL, **changes: object) -> TestingResult:
    return run_model(spec, variant(pool, **changes))


@pytest.mark.parametrize("pool", [10, 1])
def test_the_model_and_the_library_agree_on_tubes_retests_and_cases(pool: int) -> None:
    m = model(pool)
    lib = run_in_library(SMALL, variant(pool))
    assert m.resolution == "household"
    assert m.infected > 0  # the comparison has positives to find
    assert lib.sampled == m.residents
    assert lib.door_to_door == m.door_to_door > 0
    assert (lib.pooled_tubes, lib.retest_tubes, lib.retests) == (
        m.pooled_tubes, m.retest_tubes, m.retest_tubes)
    assert lib.cases == m.found == m.infected


def test_everyone_is_sampled_once_in_batches_that_pool_by_the_rule() -> None:
    v = variant(10)
    residents = infected = tubes = 0
    for community in SMALL.communities():
        households = draw_community(SMALL, community, PARAMS.seed, PARAMS.prevalence)
        r = TestingResult(v, "household")
        batches = community_batches(SMALL, community, households, v, "household", r)
        assert r.unsampled == 0
        assert sum(b.people for b in batches) == sum(h.size for h in households)
        assert sum(len(b.infected) for b in batches) == sum(len(h.infected) for h in households)
        assert all(0 <= i < b.people for b in batches for i in b.infected)
        assert all(b.sealed_at > b.sampled_at for b in batches)
        residents += sum(b.people for b in batches)
        infected += sum(len(b.infected) for b in batches)
        tubes += sum(math.ceil(b.people / 10) for b in batches)
    m = model(10)
    assert (m.residents, m.infected, m.pooled_tubes) == (residents, infected, tubes)
    assert sum(m.sampled_by_day) == m.residents
    assert sum(m.resulted_by_day) == m.pooled_tubes


def test_tubes_for_is_the_ceiling_of_people_over_the_pool() -> None:
    assert [tubes_for(n, 10) for n in (1, 9, 10, 11, 20, 21)] == [1, 1, 1, 2, 2, 3]
    assert tubes_for(7, 1) == 7


@pytest.mark.parametrize("pool", [5, 10, 20])
def test_single_tubes_need_at_least_the_tubes_of_a_pool(pool: int) -> None:
    pooled, single = model(pool), model(1)
    assert single.pooled_tubes == single.residents
    assert single.retest_tubes == 0
    assert single.tubes >= pooled.tubes
    assert pooled.pooled_tubes >= math.ceil(pooled.residents / pool)


def test_every_planted_positive_is_found_with_a_perfect_test_and_some_missed_without() -> None:
    for pool in (1, 10):
        r = model(pool)
        assert r.found == r.infected > 0
        assert len(r.isolate_hours) == r.found
    blind = model(10, sensitivity=0.0)
    assert blind.found == 0 and blind.retest_tubes == 0


@pytest.mark.parametrize("pool", [1, 10])
def test_more_sites_never_take_longer_to_sample_everyone(pool: int) -> None:
    runs = [model(pool, sites_per_community=n) for n in (1, 2, 4)]
    sites = [r.site_days for r in runs]
    assert sites == sorted(sites, reverse=True) and sites[0] > sites[-1]
    overall = [r.sampled_days for r in runs]
    assert overall == sorted(overall, reverse=True)
    assert all(r.sampled_days == max(r.site_days, r.door_days) for r in runs)


def test_more_door_teams_never_take_longer_at_home() -> None:
    days = [model(10, door_staff_share=n).door_days for n in (1, 2, 4)]
    assert days == sorted(days, reverse=True) and days[0] > days[-1]


def test_a_pools_positives_are_isolated_only_after_the_retest_turnaround() -> None:
    single, pooled = model(1), model(10)
    p = PARAMS
    retest = min(p.retest_after_hours, pooled.variant.policy.retest_hours) + \
        p.transport_hours + p.pcr_hours
    assert pooled.control_hours and len(pooled.control_hours) * 10 >= pooled.found
    # each isolation comes at least a retest's turnaround (and the transfer) after the pool's
    # result, which itself follows the swab by transport and the lab's run
    floor = p.transport_hours + p.pcr_hours + retest + p.transfer_hours
    assert min(pooled.isolate_hours) >= floor
    assert min(pooled.control_hours) + retest + p.transfer_hours <= max(pooled.isolate_hours)
    assert min(single.isolate_hours) >= p.transport_hours + p.pcr_hours + p.transfer_hours
    assert not single.control_hours


def test_a_lab_that_runs_more_tubes_a_day_never_finishes_later() -> None:
    slow, fast = model(1, lab_tubes_per_day=50), model(1, lab_tubes_per_day=500)
    assert fast.lab_days <= slow.lab_days
    assert statistics_max(fast) <= statistics_max(slow)


def statistics_max(r: TestingResult) -> float:
    return max(r.isolate_hours)


def close(a: float, b: float, share: float) -> bool:
    return abs(a - b) <= share * max(abs(a), abs(b))


@pytest.mark.parametrize("pool", [1, 10])
def test_the_bulk_city_stays_close_to_the_city_drawn_household_by_household(
        pool: int) -> None:
    """A city of millions is drawn in bulk from the generator's distributions and filled as
    a flow: on the same spec it gives about what the rows and the domain's schedule give."""
    spec = replace(SMALL, communities_per_street=6, households_per_community=800)
    exact, flow = (model(pool, spec, resolution=res, prevalence=0.002)
                   for res in ("household", "micro_grid"))
    assert flow.resolution == "micro_grid" and exact.resolution == "household"
    assert flow.households == exact.households
    assert close(flow.residents, exact.residents, 0.03)
    assert close(flow.door_to_door, exact.door_to_door, 0.08)
    assert close(flow.pooled_tubes, exact.pooled_tubes, 0.05)
    assert close(flow.site_days, exact.site_days, 0.1)
    assert close(flow.door_days, exact.door_days, 0.1)
    assert flow.found == flow.infected > 0


def test_a_city_spec_of_people_has_about_that_many_residents() -> None:
    spec = spec_for(people=300_000)
    assert abs(spec.total_households * 2.55 - 300_000) < 0.02 * 300_000


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_cli_runs_testing_variants_side_by_side(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "simulate", "testing", "--households", "3000", "--pool-size", "10", "--pool-size",
        "1", "--sites", "1", "--prevalence", "0.002", "--lab-capacity", "400", "--out",
        str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "10-in-1-1-sites" in result.output and "single-1-sites" in result.output
    assert "检测管" in result.output
    summary = {r["variant"]: r for r in rows(tmp_path / "variants.csv")}
    assert set(summary) == {"10-in-1-1-sites", "single-1-sites"}
    pooled, single = summary["10-in-1-1-sites"], summary["single-1-sites"]
    assert pooled["residents"] == single["residents"] == single["lab_tubes"]
    assert int(pooled["lab_tubes"]) < int(single["lab_tubes"])
    assert pooled["found"] == pooled["infected"] == single["found"]
    assert float(pooled["lab_days"]) < float(single["lab_days"])
    days = rows(tmp_path / "days.csv")
    assert {r["variant"] for r in days} == set(summary)
    assert (tmp_path / "testing.png").stat().st_size > 10_000
    unknown = CliRunner().invoke(cli, ["simulate", "testing", "--households", "100",
                                       "--variant", "nope", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "10-in-1-1-sites" in unknown.output
    wrong = CliRunner().invoke(cli, ["simulate", "testing", "--households", "100",
                                     "--door-to-door", "tall", "--out", str(tmp_path)])
    assert wrong.exit_code == 2 and "age_65_plus" in wrong.output


def test_the_cli_samples_at_home_whom_it_is_told(tmp_path: Path) -> None:
    def at_home(*extra: str) -> int:
        out = tmp_path / "-".join(extra or ("default",))
        result = CliRunner().invoke(cli, ["simulate", "testing", "--households", "1000",
                                          "--pool-size", "10", "--sites", "1", "--out",
                                          str(out), *extra])
        assert result.exit_code == 0, result.output
        return int(rows(out / "variants.csv")[0]["door_to_door_households"])

    assert 0 < at_home() < at_home("--door-to-door", "age_65_plus")
