"""The spatial benchmark at about 5,000 households: the city it lays out is what it says, the
index and the plain STRtree give the same answers, and a wrong answer fails the run (its
speed is measured by ``make bench BENCH=spatial``, never here)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from projections import places, spatial
from simulations.benchmarks import spatial as bench

HOUSEHOLDS = 5_000


@pytest.fixture(scope="module")
def city() -> bench.City:
    return bench.make_city(HOUSEHOLDS)


def test_the_city_has_about_the_households_asked_in_micro_grids_of_about_100(
        city: bench.City) -> None:
    assert abs(city.households - HOUSEHOLDS) <= HOUSEHOLDS // 100
    per_grid = Counter(city.grid_of)
    assert set(per_grid) == set(city.grids)
    assert all(80 <= n <= 125 for n in per_grid.values()), per_grid  # whole buildings
    per_building = Counter(city.building_of)
    assert all(25 <= n <= 35 for n in per_building.values())
    # jittered: no two households share a point, yet each stays near its building
    assert len(set(zip(city.lng.tolist(), city.lat.tolist(), strict=True))) == city.households


def test_the_read_model_holds_the_rows_the_index_reads(city: bench.City) -> None:
    with bench.sqlite_views() as views:
        bench.load(views, city)
        assert len(places.household_rows(views)) == city.households
        assert len(places.points(views, ("building",))) == len(city.buildings)
        assert set(places.boundaries(views)) == set(city.layout.rects)
        index = spatial.Index(views, bench.own_points(city))
        assert len(index.households) == city.households
        assert all(h.own for h in index.households)


def test_a_run_answers_the_same_both_ways_and_prints_ratio_floor_and_memory() -> None:
    results, text = bench.run(HOUSEHOLDS, queries=5, postgres=False)
    (r,) = results
    assert r.store == "SQLite" and r.micro_grids == 50
    assert [ln.question.split(" ")[0] for ln in r.lines] == \
        ["build", "near,", "near,", "near,", "households"]
    assert all(ln.ours > 0 and ln.plain > 0 for ln in r.lines)
    assert "same counts" in text and "same ids" in text and "loaded directly" in text
    assert "plain STRtree (floor)" in text and "peak RSS" in text and r.peak_mb > 0


def test_a_wrong_answer_fails_the_benchmark(city: bench.City,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    right = spatial.Index.near

    def one_short(self: spatial.Index, at: Any, radius_m: float) -> list[spatial.Near]:
        return right(self, at, radius_m)[:-1]

    monkeypatch.setattr(spatial.Index, "near", one_short)
    with bench.sqlite_views() as views, pytest.raises(AssertionError, match="differs"):
        bench.measure("SQLite", views, city, 3)


def test_a_wrong_count_fails_the_benchmark(city: bench.City,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spatial.Index, "inside", lambda self, area: [])
    with bench.sqlite_views() as views, pytest.raises(AssertionError, match="counts differ"):
        bench.measure("SQLite", views, city, 1)
