"""Mass-testing campaigns (全员核酸检测) through ``GridcoreApp`` on every store: a launch with its
schedule, everyone sampled in pooled tubes, one positive pool followed to the end (temporary
control, single-tube retests, an individual positive opened as a case with tracing, the
negatives released), coverage and a second round, and refusals that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import NotAuthorised, System
from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput
from gridcore.household import Vulnerability
from gridcore.mass_testing import SamplingSite, TestingCampaign, TubeResult
from gridcore.mass_testing_commands import SampleRow
from gridcore.policy import DEFAULT_POLICY
from gridcore.status import Health, Measure
from gridcore.tracing import CaseStatus
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, Community, given_community

SITES = [SamplingSite(site_id="CY-1", name="第1片区广场采样点", place=ZONES[0],
                      capacity_per_hour=4),
         SamplingSite(site_id="CY-2", name="社区学校采样点", place=COMMUNITY,
                      capacity_per_hour=60)]


@pytest.fixture
def c(app: GridcoreApp, clock: Clock) -> Community:
    community = given_community(app)
    # the scenario's residents born in 1950 are 65+: sample at home only the disabled here
    app.adopt_policy(DEFAULT_POLICY.with_changes(door_to_door_vulnerabilities=("disability",)),
                     clock.now, "上门采样：残疾人", by=System.OPERATOR)
    return community


def nothing_written(app: GridcoreApp, call: Callable[[], Any],
                    error: type[Exception] = GridcoreError) -> Exception:
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as info:
        call()
    assert app.recorder.max_notification_id() == before
    e = info.value
    if isinstance(e, GridcoreError):
        assert e.problem and e.remedy
    return e


def members(app: GridcoreApp, hid: UUID) -> list[UUID]:
    return list(app.household(hid).residents)


def launch(app: GridcoreApp, c: Community, round_no: int = 1, **kw: Any) -> TestingCampaign:
    app.launch_testing_campaign(COMMUNITY, round_no, SITES, by=c.official, **kw)
    return app.testing_campaign_of(COMMUNITY, round_no)


def sample_pools(app: GridcoreApp, c: Community, cid: UUID, skip: UUID | None = None) -> None:
    """Zone 1's residents into tube T-A, zone 2's into T-B (6 each, 10-in-1 pools)."""
    rows = [SampleRow(hid, rid, "T-A" if n < 3 else "T-B")
            for n, hid in enumerate(c.households) for rid in members(app, hid) if rid != skip]
    app.record_samples(cid, rows, by=c.worker)


def test_a_launch_schedules_every_household_once_within_capacity_or_door_to_door(
        app: GridcoreApp, c: Community) -> None:
    hid = c.households[4]
    app.mark_vulnerability(hid, members(app, hid)[1], Vulnerability.DISABILITY,
                           by=System.OPERATOR)
    campaign = launch(app, c)
    assert set(campaign.assignments) == set(c.households)
    door = app.testing_schedule_of(campaign.id, hid)
    assert door.door_to_door and "disability" in door.door_to_door_reason and door.slot is None
    zone1 = [app.testing_schedule_of(campaign.id, h) for h in c.households[:3]]
    assert {a.site_id for a in zone1} == {"CY-1"}  # the site of their micro-grid
    assert len({a.slot for a in zone1}) == 3  # 4 an hour, 30-minute slots: one household each
    zone2 = [app.testing_schedule_of(campaign.id, h) for h in c.households[3:] if h != hid]
    assert {a.site_id for a in zone2} == {"CY-2"}  # the community's site
    assert campaign.pool_size == 10 and campaign.launched_by == c.official


def test_one_positive_pool_followed_to_the_end(app: GridcoreApp, c: Community,
                                               clock: Clock) -> None:
    campaign = launch(app, c)
    clock.advance(hours=1)
    sample_pools(app, c, campaign.id)
    assert {t.code for t in app.tubes_pending(campaign.id)} == {"T-A", "T-B"}
    for code in ("T-A", "T-B"):
        app.seal_tube(code, by=c.volunteer)
    clock.advance(hours=6)
    app.record_tube_result("T-B", "negative", by=c.doctor)
    for hid in c.households[3:]:
        for r in app.household(hid).residents.values():
            assert r.last_negative_test == clock.now - timedelta(hours=6)
    app.record_tube_result("T-A", TubeResult.POSITIVE, by=c.doctor)
    pooled = [rid for hid in c.households[:3] for rid in members(app, hid)]
    assert sorted(r.resident_id for r in app.retests_due(campaign.id)) == sorted(pooled)
    for hid in c.households[:3]:
        for r in app.household(hid).residents.values():
            assert r.measure is Measure.HOME_QUARANTINE
    assert app.tubes_pending(campaign.id) == []
    # the same result again changes nothing; another one is refused
    before = app.recorder.max_notification_id()
    assert app.record_tube_result("T-A", "positive", by=c.doctor) is None
    assert app.recorder.max_notification_id() == before
    nothing_written(app, lambda: app.record_tube_result("T-A", "negative", by=c.doctor),
                    ForbiddenTransition)

    clock.advance(hours=2)  # 单采单检: one tube each, at home
    rows = [SampleRow(app.testing_campaign(campaign.id).retests[rid].household_id, rid,
                      f"R-{n}") for n, rid in enumerate(pooled)]
    app.record_samples(campaign.id, rows, by=c.doctor)
    assert app.retests_due(campaign.id) == []
    clock.advance(hours=6)
    positive = pooled[0]  # household 0's first member
    for n, rid in enumerate(pooled):
        app.record_tube_result(f"R-{n}", "positive" if rid == positive else "negative",
                               by=c.doctor)
    case = app.case_by_no("核酸-R-0")
    assert case.status is CaseStatus.CONFIRMED and case.index_resident_id == positive
    assert app.testing_campaign(campaign.id).cases == {positive: "核酸-R-0"}
    h0 = app.household(c.households[0])
    assert h0.residents[positive].health is Health.CONFIRMED
    # household 0 has a positive: its other member stays under control
    assert h0.residents[pooled[1]].measure is Measure.HOME_QUARANTINE
    for hid in c.households[1:3]:
        for r in app.household(hid).residents.values():
            assert r.measure is Measure.NONE
            assert r.last_negative_test == clock.now - timedelta(hours=6)
    controls = app.testing_campaign(campaign.id).controls
    assert {rid for rid, x in controls.items() if x.released} == set(pooled[2:])
    # tracing goes on from the case: the household member is a close contact
    app.record_exposure(case.id, clock.now - timedelta(days=1), "household", "家中",
                        "shared_living", by=c.doctor, hid=c.households[0], rid=pooled[1])
    assert app.case(case.id).contact_of_resident(pooled[1]) is not None


def test_coverage_names_who_was_not_sampled_and_a_second_round_covers_them(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    first = launch(app, c)
    missing_hid = c.households[5]
    missing = members(app, missing_hid)[1]
    clock.advance(hours=1)
    sample_pools(app, c, first.id, skip=missing)
    coverage = app.testing_coverage(first.id)
    assert coverage[ZONES[1]].unsampled == {missing_hid: [missing]}
    assert coverage[ZONES[0]].unsampled == {} and coverage[ZONES[0]].share == 1.0
    assert coverage[COMMUNITY].residents == 12 and coverage[COMMUNITY].sampled == 11
    second = launch(app, c, 2, follow_up_of=first.id)
    assert second.members == {missing_hid: [missing]}
    clock.advance(hours=1)
    # a tube of the first round never takes a sample of the second
    e = nothing_written(app, lambda: app.record_samples(
        second.id, [SampleRow(missing_hid, missing, "T-B")], by=c.worker), InvalidInput)
    assert "another campaign" in str(e)
    app.record_samples(second.id, [SampleRow(missing_hid, missing, "T-C")], by=c.worker)
    assert app.testing_coverage(second.id)[COMMUNITY].share == 1.0


def test_refused_commands_write_nothing(app: GridcoreApp, c: Community, clock: Clock) -> None:
    nothing_written(app, lambda: app.launch_testing_campaign(COMMUNITY, 1, SITES,
                                                             by=c.volunteer), NotAuthorised)
    nothing_written(app, lambda: app.launch_testing_campaign(COMMUNITY, 1, [], by=c.official),
                    InvalidInput)
    elsewhere = SamplingSite(site_id="X", name="别处", place="420102001713")
    nothing_written(app, lambda: app.launch_testing_campaign(COMMUNITY, 1, [elsewhere],
                                                             by=c.official), InvalidInput)
    tiny = [SamplingSite(site_id="S", name="小点", place=COMMUNITY, opens_hour=8,
                         closes_hour=9, capacity_per_hour=2)]
    e = nothing_written(app, lambda: app.launch_testing_campaign(COMMUNITY, 1, tiny, days=1,
                                                                 by=c.official), InvalidInput)
    assert "fit no slot" in str(e)
    campaign = launch(app, c)
    nothing_written(app, lambda: launch(app, c), InvalidInput)  # the round exists
    clock.advance(hours=1)
    hid = c.households[0]
    a, b = members(app, hid)
    # one bad row (a resident of no household of the campaign) refuses the batch, naming it
    rows = [SampleRow(hid, a, "T-1"), SampleRow(hid, b, "T-1"),
            SampleRow(hid, UUID(int=7), "T-1")]
    e = nothing_written(app, lambda: app.record_samples(campaign.id, rows, by=c.worker),
                        InvalidInput)
    assert str(e).startswith("Sample 3 of the batch")
    eleven = [SampleRow(h, rid, "T-1") for h in c.households for rid in members(app, h)][:11]
    e = nothing_written(app, lambda: app.record_samples(campaign.id, eleven, by=c.worker),
                        InvalidInput)
    assert "Sample 11 of the batch" in str(e) and "pool size" in str(e)
    future = [SampleRow(hid, a, "T-1", taken_at=clock.now + timedelta(hours=1))]
    nothing_written(app, lambda: app.record_samples(campaign.id, future, by=c.worker))
    nothing_written(app, lambda: app.record_samples(campaign.id, [SampleRow(hid, a, "T-1")],
                                                    by=c.official), NotAuthorised)
    app.record_samples(campaign.id, [SampleRow(hid, a, "T-1")], by=c.worker)
    nothing_written(app, lambda: app.record_samples(campaign.id, [SampleRow(hid, a, "T-2")],
                                                    by=c.worker))  # sampled already
    nothing_written(app, lambda: app.record_tube_result("T-1", "negative", by=c.doctor),
                    ForbiddenTransition)  # not sealed
    app.seal_tube("T-1", by=c.worker)
    nothing_written(app, lambda: app.record_samples(campaign.id, [SampleRow(hid, b, "T-1")],
                                                    by=c.worker), ForbiddenTransition)
    nothing_written(app, lambda: app.record_tube_result("T-1", "negative", by=c.worker),
                    NotAuthorised)
    nothing_written(app, lambda: app.record_tube_result("T-1", "maybe", by=c.doctor),
                    InvalidInput)
    nothing_written(app, lambda: app.record_tube_result("T-9", "negative", by=c.doctor))


def test_a_household_under_a_home_measure_is_sampled_at_home_and_a_single_tube_positive_is_a_case(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    hid = c.households[0]
    a, b = members(app, hid)
    app.change_measure(hid, a, Measure.HOME_OBSERVATION, c.worker, "外地返回")
    app.adopt_policy(DEFAULT_POLICY.with_changes(door_to_door_vulnerabilities=("disability",),
                                                 pool_size=1),
                     clock.now, "单采单检", by=System.OPERATOR)
    app.launch_testing_campaign(ZONES[0], 1, [SamplingSite(site_id="G", name="片区采样点",
                                                           place=ZONES[0])], by=c.official)
    campaign = app.testing_campaign_of(ZONES[0], 1)
    assert campaign.pool_size == 1
    assert app.testing_schedule_of(campaign.id, hid).door_to_door_reason == \
        "measure:home_observation"
    clock.advance(hours=1)
    e = nothing_written(app, lambda: app.record_samples(
        campaign.id, [SampleRow(hid, a, "S-1"), SampleRow(hid, b, "S-1")], by=c.doctor),
        InvalidInput)
    assert "Sample 2 of the batch" in str(e)
    app.record_samples(campaign.id, [SampleRow(hid, a, "S-1"), SampleRow(hid, b, "S-2")],
                       by=c.doctor)
    app.seal_tube("S-1", by=c.doctor)
    app.record_tube_result("S-1", "positive", by=c.doctor)
    case = app.case_by_no("核酸-S-1")
    assert case.scope == ZONES[0] and case.status is CaseStatus.CONFIRMED
    assert app.retests_due(campaign.id) == []  # a single tube: no retest, a case
    before = app.recorder.max_notification_id()
    assert app.record_tube_result("S-1", "positive", by=c.doctor) is None  # once
    assert app.recorder.max_notification_id() == before
