"""The testing coverage read model (全员核酸检测覆盖): coverage per grid node equal to the
campaign's own (expected, sampled) with door-to-door households, tubes pending, positives and
residents under control, now and as it was at past times; rebuilt from zero and in tiny
batches it is the same; it holds no personal data, on SQLite and PostgreSQL views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.mass_testing_commands import SampleRow
from gridcore.policy import DEFAULT_POLICY
from projections import testing_coverage as tc
from projections.runner import Runner
from tests.application.test_mass_testing import SITES, members
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community


@pytest.fixture
def sql_store(store):
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def snapshot(runner: Runner) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
            for p in runner.projections.values() for t in p.tables}


def counts(found: dict[str, tc.NodeCoverage]) -> dict[str, tuple[int, ...]]:
    return {code: (n.households, n.residents, n.sampled, n.door_to_door, n.tubes_pending,
                   n.positives, n.under_control) for code, n in found.items()}


def test_coverage_per_node_now_and_in_the_past(sql_store, clock: Clock,
                                                statements: list[str]) -> None:
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    app.adopt_policy(DEFAULT_POLICY.with_changes(door_to_door_vulnerabilities=("disability",)),
                     clock.now, "上门采样：残疾人", by=System.OPERATOR)
    runner = Runner(app, tc.PROJECTIONS, batch=1)
    before_launch = clock()
    clock.advance(minutes=1)
    app.launch_testing_campaign(COMMUNITY, 1, SITES, by=c.official)
    campaign = app.testing_campaign_of(COMMUNITY, 1)
    runner.catch_up()
    launched = clock()
    row = tc.campaign(runner.views, COMMUNITY, 1)
    assert row is not None and (row.campaign_id, row.pool_size) == (str(campaign.id), 10)
    assert tc.campaign(runner.views, COMMUNITY, 1, as_of=before_launch) is None
    assert tc.coverage(runner.views, campaign.id, as_of=before_launch) == {}
    domain = app.testing_coverage(campaign.id)
    now = tc.coverage(runner.views, campaign.id)
    assert {k: (n.households, n.residents, n.sampled) for k, n in now.items()} == {
        k: (n.households, n.residents, n.sampled) for k, n in domain.items()}
    assert set(now) == {COMMUNITY, *ZONES}

    clock.advance(hours=1)  # zone 1 into T-A, zone 2 into T-B; one resident left out
    skip = members(app, c.households[5])[1]
    rows = [SampleRow(hid, rid, "T-A" if n < 3 else "T-B")
            for n, hid in enumerate(c.households) for rid in members(app, hid) if rid != skip]
    app.record_samples(campaign.id, rows, by=c.worker)
    for code in ("T-A", "T-B"):
        app.seal_tube(code, by=c.worker)
    runner.catch_up()
    sampled = clock()
    assert counts(tc.coverage(runner.views, campaign.id)) == {
        COMMUNITY: (6, 12, 11, 0, 2, 0, 0), ZONES[0]: (3, 6, 6, 0, 1, 0, 0),
        ZONES[1]: (3, 6, 5, 0, 1, 0, 0)}
    assert tc.coverage(runner.views, campaign.id)[ZONES[1]].unsampled_households == [
        str(c.households[5])]

    clock.advance(hours=6)
    app.record_tube_result("T-B", "negative", by=c.doctor)
    app.record_tube_result("T-A", "positive", by=c.doctor)
    pooled = [rid for hid in c.households[:3] for rid in members(app, hid)]
    clock.advance(hours=2)
    app.record_samples(campaign.id, [
        SampleRow(app.testing_campaign(campaign.id).retests[rid].household_id, rid, f"R-{n}")
        for n, rid in enumerate(pooled)], by=c.doctor)
    runner.catch_up()
    retested = clock()
    assert counts(tc.coverage(runner.views, campaign.id))[ZONES[0]] == (3, 6, 6, 0, 6, 0, 6)
    clock.advance(hours=6)
    for n in range(len(pooled)):
        app.record_tube_result(f"R-{n}", "positive" if n == 0 else "negative", by=c.doctor)
    runner.catch_up()
    final = counts(tc.coverage(runner.views, campaign.id))
    assert final == {COMMUNITY: (6, 12, 11, 0, 0, 1, 2), ZONES[0]: (3, 6, 6, 0, 0, 1, 2),
                     ZONES[1]: (3, 6, 5, 0, 0, 0, 0)}
    assert final[COMMUNITY][1:3] == (domain[COMMUNITY].residents,
                                     app.testing_coverage(campaign.id)[COMMUNITY].sampled)

    # as it was
    assert counts(tc.coverage(runner.views, campaign.id, as_of=launched))[COMMUNITY] == (
        6, 12, 0, 0, 0, 0, 0)
    assert counts(tc.coverage(runner.views, campaign.id, as_of=sampled))[COMMUNITY] == (
        6, 12, 11, 0, 2, 0, 0)
    assert counts(tc.coverage(runner.views, campaign.id, as_of=retested))[ZONES[0]] == (
        3, 6, 6, 0, 6, 0, 6)
    assert [r.round_no for r in tc.campaigns_of(runner.views, [COMMUNITY])] == [1]
    assert clock() - retested == timedelta(hours=6)

    # nothing personal is kept: no name, phone, address
    text = repr(snapshot(runner))
    for personal in ("张三", "李四", "13812341234", "1栋101", "王芳", "刘医生"):
        assert personal not in text

    before = snapshot(runner)
    runner.rebuild("testing_coverage")
    assert snapshot(runner) == before
    statements.clear()  # what the runs before made
    Runner(app, tc.PROJECTIONS, batch=1000, views=runner.views).rebuild("testing_coverage")
    assert snapshot(runner) == before
    # in one batch, each kind of change is one statement, not one per event (sixteen here
    # when each sampling, result, control and case wrote its own)
    updates = [s for s in statements if s.startswith("UPDATE")]
    assert 0 < len(updates) <= 5 and len(updates) == len(set(updates))

