"""The sweep-campaign model's invariants, on small cities, checked against the application."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

import pytest
from eventsourcing.utils import get_topic

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.referral import Referral
from gridcore.sweep import Visit
from simulations.city import CitySpec, StaffMix, build_city
from simulations.sweep import SimClock, SweepParams, SweepResult, run_sweep

TINY = CitySpec(seed=3, city_code="9902", city_name="小城", grids_per_community=3,
                households_per_community=60, households_per_building=10, batch=30,
                staff=StaffMix(reference_households=60))
NOBODY = replace(TINY, staff=StaffMix(grid_workers=0, officials=0, duty_leads=0,
                                      family_doctors=0, community_police=0,
                                      property_managers=0, party_members=0, volunteers=0))
FAST = SweepParams(window_days=2, horizon_days=6)


def sweep(spec: CitySpec, params: SweepParams = FAST) -> tuple[GridcoreApp, SweepResult]:
    clock = SimClock()
    app = GridcoreApp(memory_env(), clock=clock)
    build_city(app, spec)
    return app, run_sweep(app, clock, spec.communities()[0], params)


def covered_by_zone(app: GridcoreApp, result: SweepResult) -> Counter[str]:
    coverage = app.campaign_coverage(result.campaign_id)
    return Counter(app.household(h).micro_grid for h in coverage.covered)


@pytest.mark.parametrize("params", [
    FAST,
    replace(FAST, seed=2, no_answer_door=0.4, no_answer_phone=0.4, illness_per_day=0.3),
    replace(FAST, seed=3, chat_report_share=0.0, fever_rate=0.05, close_contact_rate=0.05),
])
def test_coverage_never_decreases_never_exceeds_scope_and_agrees_with_the_store(
        params: SweepParams) -> None:
    app, r = sweep(TINY, params)
    assert r.households == 60
    for zone, curve in r.curve.items():
        assert all(b >= a for a, b in itertools.pairwise(curve)), zone
        assert curve[-1] <= r.zones[zone].households
        assert len(curve) == r.hours + 1
    total = r.total_curve
    assert all(b >= a for a, b in itertools.pairwise(total))
    assert total[-1] == r.covered <= r.households
    # what the model counts is what the application recorded
    assert covered_by_zone(app, r) == Counter({z: c[-1] for z, c in r.curve.items() if c[-1]})
    visits = app.recorder.select_notifications(start=1, limit=100_000,
                                               topics=[get_topic(Visit.Recorded)])
    assert len(visits) == r.visits_recorded
    opened = app.recorder.select_notifications(start=1, limit=100_000,
                                               topics=[get_topic(Referral.Opened)])
    assert len(opened) == sum(r.referrals.values())
    assert sum(s.visits for s in r.staff) + r.by_method.get("chat", 0) >= r.covered


def test_enough_staff_covers_everything_within_the_window() -> None:
    app, r = sweep(TINY)
    assert r.covered == r.households
    assert r.in_window
    assert all(z.covered_at_window == z.households and not z.reason for z in r.zones.values())
    assert app.campaign_coverage(r.campaign_id).share == 1.0
    assert 0 < r.utilisation() <= 1


def test_with_no_staff_nothing_is_covered_and_the_shortfall_is_reported() -> None:
    app, r = sweep(NOBODY, replace(FAST, chat_report_share=0.0))
    assert r.covered == 0
    assert r.total_curve[-1] == 0
    assert r.full_at_hours is None and not r.in_window
    assert r.hours == FAST.horizon_days * 24
    for z in r.zones.values():
        assert z.covered_at_window == 0
        assert z.plan_unplaced == z.households
        assert z.reason.startswith("capacity short")
    assert app.campaign_coverage(r.campaign_id).covered == []


def test_chat_self_reports_cover_households_even_without_staff() -> None:
    _, r = sweep(NOBODY, replace(FAST, chat_report_share=1.0))
    assert 0 < r.covered < r.households  # the vulnerable still need a door visit
    assert r.by_method == {"chat": r.covered}


def test_illness_moves_work_to_colleagues_and_the_sweep_still_completes() -> None:
    app, r = sweep(TINY, replace(FAST, illness_per_day=0.4, seed=9))
    ill = [s for s in r.staff if s.ill_on is not None]
    assert ill
    assert all(not app.staff(s.staff_id).available for s in ill)
    assert r.covered == r.households


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_removing_the_party_squad_and_volunteers_never_makes_it_faster(seed: int) -> None:
    spec = replace(TINY, seed=seed, households_per_community=90,
                   staff=StaffMix(grid_workers=1, officials=0, family_doctors=0,
                                  community_police=0, reference_households=90))
    params = replace(FAST, seed=seed, horizon_days=8)
    _, full = sweep(spec, params)
    _, lean = sweep(spec.with_staff(party_members=0, volunteers=0), params)
    assert full.full_at_hours is not None
    assert lean.full_at_hours is None or lean.full_at_hours >= full.full_at_hours
    # over the campaign, the lean crew covers fewer household-hours (the area under the curve)
    hours = max(len(full.total_curve), len(lean.total_curve))

    def padded(curve: list[int]) -> list[int]:
        return curve + [curve[-1]] * (hours - len(curve))

    assert sum(padded(lean.total_curve)) < sum(padded(full.total_curve))
