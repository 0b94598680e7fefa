"""The rules of mass testing (``gridcore.mass_testing``), pure and on the ``TestingCampaign``
aggregate: the schedule never exceeds a slot's capacity, schedules every household exactly
once and samples at home exactly those the rule names; a tube never holds more than the pool
size; a positive pool's members each get one retest; results are idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput
from gridcore.mass_testing import (
    HouseholdToSchedule,
    SampleInput,
    SamplingSite,
    TestingCampaign,
    TubeResult,
    door_to_door_reason,
    schedule,
    site_slots,
    slot_capacity,
)
from gridcore.policy import DEFAULT_POLICY

T0 = datetime(2020, 5, 14, 8, 0, tzinfo=UTC)
SCOPE, GRIDS = "420102001712", ["420102001712-01", "420102001712-02", "420102001712-03"]
DOCTOR = UUID(int=99)

site = st.builds(
    SamplingSite, site_id=st.sampled_from(["A", "B", "C"]), name=st.just("采样点"),
    place=st.sampled_from([*GRIDS, SCOPE]), opens_hour=st.integers(6, 12),
    closes_hour=st.integers(13, 22), capacity_per_hour=st.integers(1, 40))
household = st.tuples(st.sampled_from(GRIDS), st.integers(1, 6), st.booleans())


def to_schedule(rows: list[tuple[str, int, bool]]) -> list[HouseholdToSchedule]:
    return [HouseholdToSchedule(UUID(int=n + 1), grid, SCOPE, size,
                                "vulnerability:age_65_plus" if home else "")
            for n, (grid, size, home) in enumerate(rows)]


@settings(max_examples=200, deadline=None)
@given(st.lists(site, min_size=1, max_size=3, unique_by=lambda s: s.site_id),
       st.lists(household, max_size=60), st.sampled_from([15, 30, 60]), st.integers(1, 2))
def test_the_schedule_keeps_slots_within_capacity_and_places_each_household_once(
        sites: list[SamplingSite], rows: list[tuple[str, int, bool]], minutes: int,
        days: int) -> None:
    households = to_schedule(rows)
    plan = schedule(households, sites, T0, T0 + timedelta(days=days), minutes)
    placed = [*plan.assignments, *plan.unplaced]
    assert sorted(placed, key=str) == sorted((h.household_id for h in households), key=str)
    load: dict[tuple[str, datetime], int] = {}
    by_id = {s.site_id: s for s in sites}
    for h in households:
        a = plan.assignments.get(h.household_id)
        if a is None:
            assert not h.door_to_door_reason  # nobody sampled at home waits for a slot
            continue
        assert a.door_to_door == bool(h.door_to_door_reason)  # exactly those the rule names
        if a.door_to_door:
            assert a.site_id is None and a.slot is None
            continue
        assert a.site_id is not None and a.slot is not None
        assert a.slot in site_slots(by_id[a.site_id], T0, T0 + timedelta(days=days), minutes)
        load[(a.site_id, a.slot)] = load.get((a.site_id, a.slot), 0) + h.size
    for (sid, _), people in load.items():
        assert people <= slot_capacity(by_id[sid], minutes)
    # deterministic: the same input in another order gives the same schedule
    again = schedule(list(reversed(households)), list(reversed(sites)), T0,
                     T0 + timedelta(days=days), minutes)
    assert again.assignments == plan.assignments and set(again.unplaced) == set(plan.unplaced)


def test_a_household_goes_to_its_micro_grids_site_before_the_communitys() -> None:
    sites = [SamplingSite(site_id="Z", name="社区", place=SCOPE),
             SamplingSite(site_id="G", name="片区", place=GRIDS[0])]
    plan = schedule(to_schedule([(GRIDS[0], 2, False), (GRIDS[1], 2, False)]), sites, T0,
                    T0 + timedelta(days=1), 30)
    assert plan.assignments[UUID(int=1)].site_id == "G"
    assert plan.assignments[UUID(int=2)].site_id == "Z"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.frozensets(st.sampled_from(["age_65_plus", "disability", "pregnancy",
                                               "no_smartphone"])), max_size=4),
       st.lists(st.sampled_from(["none", "home_observation", "home_quarantine",
                                 "centralized_quarantine"]), max_size=4))
def test_door_to_door_is_for_the_policys_vulnerabilities_and_home_measures(
        vulnerabilities: list[frozenset[str]], measures: list[str]) -> None:
    reason = door_to_door_reason(vulnerabilities, measures, DEFAULT_POLICY)
    expected = any(v & {"age_65_plus", "disability"} for v in vulnerabilities) or bool(
        set(measures) & {"home_observation", "home_quarantine"})
    assert bool(reason) == expected


def campaign(households: int, size: int = 3, pool: int = 10) -> TestingCampaign:
    rows = [HouseholdToSchedule(UUID(int=h + 1), GRIDS[0], SCOPE, size) for h in
            range(households)]
    sites = [SamplingSite(site_id="A", name="采样点", place=SCOPE, capacity_per_hour=10_000)]
    plan = schedule(rows, sites, T0, T0 + timedelta(days=2), 30)
    members = {r.household_id: [UUID(int=1000 * (r.household_id.int) + m) for m in range(size)]
               for r in rows}
    return TestingCampaign.launch(SCOPE, 1, "第1轮", T0, T0 + timedelta(days=2), sites, plan,
                                  members, None, UUID(int=1),
                                  DEFAULT_POLICY.with_changes(pool_size=pool), T0)


def everyone(c: TestingCampaign) -> list[tuple[UUID, UUID]]:
    return [(hid, rid) for hid, rids in c.members.items() for rid in rids]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 20), st.lists(st.integers(0, 5), min_size=1, max_size=40),
       st.integers(1, 5))
def test_a_tube_never_holds_more_than_the_pool_size(pool: int, tubes: list[int],
                                                    batch: int) -> None:
    c = campaign(10, 4, pool)
    people = everyone(c)
    at = T0 + timedelta(hours=1)
    for start in range(0, min(len(tubes), len(people)), batch):
        rows = [SampleInput(hid, rid, f"T-{tubes[i]}", at, DOCTOR)
                for i, (hid, rid) in enumerate(people[start:start + batch], start=start)
                if i < len(tubes)]
        try:
            c.take_samples(rows, at)
        except InvalidInput as e:
            assert "pool size" in e.problem
    assert all(len(t.members) <= pool for t in c.tubes.values())
    assert sum(len(t.members) for t in c.tubes.values()) == len(c.samples)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 10), st.lists(st.sampled_from(["positive", "negative"]), min_size=1,
                                    max_size=6), st.integers(1, 3))
def test_a_positive_pools_members_each_get_one_retest_and_results_are_idempotent(
        pool: int, results: list[str], repeats: int) -> None:
    c = campaign(8, 2, pool)
    people = everyone(c)
    at = T0 + timedelta(hours=1)
    codes = []
    for n in range(0, len(people), pool):
        code = f"T-{n}"
        c.take_samples([SampleInput(h, r, code, at, DOCTOR) for h, r in people[n:n + pool]], at)
        c.seal(code, DOCTOR, at)
        codes.append(code)
    expected: set[UUID] = set()
    for code, result in zip(codes, results, strict=False):
        outcome = TubeResult(result)
        for k in range(repeats):
            version = c.version
            done = c.record_result(code, outcome, DOCTOR, DEFAULT_POLICY, at)
            if k:  # the same result again: nothing recorded
                assert done is None and c.version == version
        other = TubeResult.NEGATIVE if outcome is TubeResult.POSITIVE else TubeResult.POSITIVE
        with pytest.raises(ForbiddenTransition):
            c.record_result(code, other, DOCTOR, DEFAULT_POLICY, at)
        if outcome is TubeResult.POSITIVE and len(c.tubes[code].members) > 1:
            expected |= set(c.tubes[code].members)
    assert set(c.retests) == expected
    retested = [r.resident_id for r in c.retests_due()]
    assert sorted(retested, key=str) == sorted(expected, key=str)  # once each
    # each retest goes into a tube of its own; a second retest of the same resident is refused
    for n, rid in enumerate(retested):
        hid = c.retests[rid].household_id
        c.take_samples([SampleInput(hid, rid, f"R-{n}", at, DOCTOR)], at)
        with pytest.raises(GridcoreError):
            c.take_samples([SampleInput(hid, rid, f"R-x{n}", at, DOCTOR)], at)
    assert c.retests_due() == []
    assert all(len(c.tubes[f"R-{n}"].members) == 1 for n in range(len(retested)))


def test_a_positive_single_tube_is_an_individual_positive() -> None:
    c = campaign(1, 1)
    (hid, rid), = everyone(c)
    c.take_samples([SampleInput(hid, rid, "S-1", T0, DOCTOR)], T0)
    c.seal("S-1", DOCTOR, T0)
    outcome = c.record_result("S-1", TubeResult.POSITIVE, DOCTOR, DEFAULT_POLICY, T0)
    assert outcome is not None and outcome.positive is not None
    assert outcome.positive.resident_id == rid and outcome.retests == []


def test_a_batch_with_one_bad_row_is_refused_naming_it() -> None:
    c = campaign(2, 2)
    (h, a), (_, b), *_ = everyone(c)
    rows = [SampleInput(h, a, "T-1", T0, DOCTOR), SampleInput(h, b, "T-1", T0, DOCTOR),
            SampleInput(h, a, "T-2", T0, DOCTOR)]
    with pytest.raises(InvalidInput, match="Sample 3 of the batch"):
        c.take_samples(rows, T0)
    assert c.samples == {} and c.tubes == {}
    with pytest.raises(InvalidInput, match="before the campaign started"):
        c.take_samples([SampleInput(h, a, "T-1", T0 - timedelta(hours=1), DOCTOR)], T0)
