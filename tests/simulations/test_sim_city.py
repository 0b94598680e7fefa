"""The city generator: deterministic from a seed, realistic distributions, staff in the 712
community's proportions, and resumable after an interruption."""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp
from gridcore.household import Vulnerability
from gridcore.staff import Role
from simulations.city import WUHAN_712, CitySpec, StaffMix, build_city, household_rows

SMALL = CitySpec(seed=5, city_code="9901", city_name="测试市", districts=1,
                 streets_per_district=2, communities_per_street=2, grids_per_community=3,
                 households_per_community=60, community_jitter=0.2,
                 households_per_building=12, batch=25)


def fingerprint(app: GridcoreApp, spec: CitySpec) -> list[tuple[object, ...]]:
    """What the store holds about the city: nodes, households with members, staff, squads."""
    out: list[tuple[object, ...]] = []
    for code in spec.communities():
        for g in app.micro_grids(code):
            out.append(("grid", g.code, g.residents, g.responsible_worker,
                        tuple(sorted(map(str, g.squad)))))
        for h in app.households_in(code):
            out.append(("household", h.household_no, h.micro_grid, h.address,
                        str(h.building_id),
                        tuple((r.identity.name, r.birth_year, tuple(sorted(r.vulnerabilities)))
                              for r in h.residents.values())))
        for s in app.staff_in(code):
            out.append(("staff", s.staff_no, s.name, s.role.value, s.daily_capacity))
    return out


def test_same_seed_same_city_other_seed_other_city() -> None:
    a, b, c = (GridcoreApp(memory_env()) for _ in range(3))
    build_city(a, SMALL)
    build_city(b, SMALL)
    build_city(c, replace(SMALL, seed=6))
    assert fingerprint(a, SMALL) == fingerprint(b, SMALL)
    assert fingerprint(a, SMALL) != fingerprint(c, replace(SMALL, seed=6))
    households = sum(len(a.households_in(code)) for code in SMALL.communities())
    assert households == SMALL.total_households
    assert {len(a.micro_grids(code)) for code in SMALL.communities()} == {3}


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_distributions_within_tolerance(seed: int) -> None:
    spec = replace(WUHAN_712, seed=seed, households_per_community=800,
                   households_per_building=50)
    rows = household_rows(spec, spec.communities()[0])
    assert len(rows) == 800
    sizes = [len(r.members) for r in rows]
    weights = spec.size_weights
    expected_mean = sum((i + 1) * w for i, w in enumerate(weights)) / sum(weights)
    assert abs(statistics.fmean(sizes) - expected_mean) < 0.15
    singles = sizes.count(1) / len(sizes)
    assert abs(singles - weights[0] / sum(weights)) < 0.05
    members = [m for r in rows for m in r.members]
    ages = [spec.year - m.birth_year for m in members if m.birth_year is not None]
    assert len(ages) == len(members)
    elderly = sum(1 for a in ages if a >= 65) / len(ages)
    assert abs(elderly - spec.elderly_share) < 0.04
    no_phone_old = [Vulnerability.NO_SMARTPHONE in m.vulnerabilities for m in members
                    if spec.year - m.birth_year >= 65]
    assert abs(sum(no_phone_old) / len(no_phone_old) - spec.elderly_without_smartphone) < 0.08
    assert len({r.micro_grid for r in rows}) == spec.grids_per_community


@settings(max_examples=40, deadline=None)
@given(households=st.integers(50, 20_000))
def test_staff_in_the_712_proportions(households: int) -> None:
    counts = {role: n for role, _, n, _ in StaffMix().counts(households)}
    scale = households / 946
    assert counts[Role.GRID_WORKER] == max(1, round(4 * scale))
    assert counts[Role.PARTY_MEMBER] == round(24 * scale)
    assert counts[Role.VOLUNTEER] == round(12 * scale)
    assert counts[Role.DUTY_LEAD] >= 1
    if households == 946:
        assert sum(counts.values()) - counts[Role.PARTY_MEMBER] - counts[Role.VOLUNTEER] == 10


def test_712_spec_matches_the_seeds() -> None:
    app = GridcoreApp(memory_env())
    build_city(app, WUHAN_712)
    code = WUHAN_712.communities()[0]
    assert len(app.households_in(code)) == 946
    assert len(app.micro_grids(code)) == 11
    roles = [s.role for s in app.staff_in(code)]
    assert roles.count(Role.GRID_WORKER) == 4
    assert roles.count(Role.PARTY_MEMBER) == 24
    assert roles.count(Role.VOLUNTEER) == 12
    assert len(roles) - 36 == 10
    assert all(g.responsible_worker is not None and g.squad for g in app.micro_grids(code))


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("k", [1, 5])
def test_resume_after_interruption_gives_the_same_city(k: int, tmp_path: Path) -> None:
    whole = GridcoreApp(memory_env())
    build_city(whole, SMALL)

    env = sqlite_env(tmp_path / "city.sqlite")
    app = GridcoreApp(env)

    def stop(n: int) -> None:
        if n == k:
            raise Interrupted

    with pytest.raises(Interrupted):
        build_city(app, SMALL, on_batch=stop)
    written_before = app.recorder.max_notification_id()
    app.close()
    resumed = GridcoreApp(env)  # a new process, as after Ctrl-C
    report = build_city(resumed, SMALL)
    assert report.batches_skipped == k
    assert resumed.recorder.max_notification_id() > written_before
    assert fingerprint(resumed, SMALL) == fingerprint(whole, SMALL)
    again = build_city(resumed, SMALL)
    assert again.batches_written == 0
    assert fingerprint(resumed, SMALL) == fingerprint(whole, SMALL)
    resumed.close()


def test_progress_bar_counts_every_household(capsys: pytest.CaptureFixture[str]) -> None:
    spec = replace(SMALL, streets_per_district=1, communities_per_street=1)
    app = GridcoreApp(memory_env())
    seen: list[int] = []
    report = build_city(app, spec, progress=True, on_batch=seen.append)
    assert report.households == spec.total_households == len(app.households_in(
        spec.communities()[0]))
    assert seen == list(range(1, report.batches_written + 1))
    assert "city" in capsys.readouterr().out
