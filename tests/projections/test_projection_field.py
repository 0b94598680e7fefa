"""Field read models: sweep coverage, the referral pipeline and the household timeline, checked
against the application's aggregates and independent folds of the event log, rebuilt from zero
and applied in tiny batches, on SQLite and PostgreSQL views."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters import demo, demo_field
from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.delivery import Delivery
from gridcore.monitoring import Monitoring
from gridcore.referral import ENDED, Referral, ReferralState
from gridcore.requests import ResidentRequest
from gridcore.status import Tag, TagKind
from gridcore.sweep import Campaign, Outcome, Visit
from projections import household_timeline as ht
from projections import referral_pipeline as rp
from projections import sweep_coverage as sc
from projections.runner import Runner
from tests.scenario import COMMUNITY, ZONES, given_community

ALL = [*sc.PROJECTIONS, *rp.PROJECTIONS, *ht.PROJECTIONS]


@pytest.fixture
def sql_store(request, store):
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def log(app: GridcoreApp) -> list[tuple[int, Any]]:
    notes = app.recorder.select_notifications(start=1, limit=10**7)
    return [(n.id, app.mapper.to_domain_event(n)) for n in notes]


def snapshot(runner: Runner) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
            for p in runner.projections.values() for t in p.tables}


def demo_app(store: dict[str, str]) -> GridcoreApp:
    clock = demo.ScenarioClock()
    app = GridcoreApp(store, clock=clock)
    demo.build(app)
    demo_field.run(app, clock)
    return app


def test_the_demo_agrees_with_the_aggregates_rebuilt_and_in_tiny_batches(sql_store):
    if sql_store["PERSISTENCE_MODULE"] == "adapters.postgres_store":
        pytest.skip("building the demo on PostgreSQL alone takes ~30 s; the PostgreSQL views "
                    "are covered by the scenario tests below")
    app = demo_app(sql_store)
    runner = Runner(app, ALL)
    runner.catch_up()
    events = log(app)
    views = runner.views

    # Sweep coverage: the closed campaign's rows agree with the summary it recorded.
    [launched] = [e for _, e in events if isinstance(e, Campaign.Launched)]
    campaign = app.campaign(launched.originator_id)
    s = campaign.summary
    got = sc.coverage(views, campaign.id)
    assert (got["households"], got["covered"], got["by_method"], got["not_covered"]) == (
        s.households, s.covered, s.by_method, s.not_covered)
    assert (got["fevers"], got["close_contacts"], got["arrivals"], got["visitors"]) == (
        s.fevers, s.close_contacts, s.arrivals, s.visitors)
    zones = Counter(app.household(h).micro_grid for h in campaign.households)
    nodes = sc.coverage_by_node(views, campaign.id)
    assert {c: n for c, (n, _) in nodes.items() if c != campaign.scope} == dict(zones)
    assert nodes[campaign.scope] == (s.households, s.covered)
    for zone, n in zones.items():
        assert sc.coverage(views, campaign.id, zone)["households"] == n
    series = sc.coverage_series(views, campaign.id)
    assert series[-1]["covered"] == s.covered and len(series) > 3
    assert [p["hour"] for p in series] == sorted(p["hour"] for p in series)

    # Referral pipeline: each referral's stage and overdue/escalations as the aggregate has it.
    ids = [e.originator_id for _, e in events if isinstance(e, Referral.Opened)]
    assert ids
    refs = [app.referral(i) for i in ids]
    stages = Counter(r.state.value for r in refs)
    assert {k: v["count"] for k, v in rp.pipeline(views).items() if v["count"]} == stages
    assert rp.pipeline(views, "nowhere")["opened"]["count"] == 0
    now = app.clock() + timedelta(hours=1)
    opened = {o["referral_id"]: o for o in rp.open_referrals(views, now)}
    assert set(opened) == {r.id for r in refs if r.state not in ENDED}
    for r in refs:
        if r.id in opened:
            o = opened[r.id]
            assert o["escalations"] == len(r.escalations) and o["overdue"] == r.overdue
            assert o["state"] == r.state.value and o["age_hours"] >= o["stage_hours"] >= 1.0
    assert {o["referral_id"] for o in rp.overdue(views)} == {
        r.id for r in refs if r.overdue and r.awaiting_transport}
    assert len(rp.escalations(views)) == sum(len(r.escalations) for r in refs) > 0
    [site] = rp.site_occupancy(views)
    q = app.quarantine_site_by_code(site["code"])
    assert (site["capacity"], site["occupancy"], site["free"]) == (q.capacity, q.occupancy,
                                                                   q.free)
    assert q.occupancy > 0

    # Household timeline: an independent fold of the log for every referred household.
    for hid in {r.household_id for r in refs}:
        assert [t["notification_id"] for t in ht.timeline(views, hid)] == fold_timeline(
            events, hid)
    kinds = {t["kind"] for t in ht.timeline(views, refs[0].household_id)}
    assert {"household.registered", "visit.recorded", "referral.opened",
            "referral.admitted"} <= kinds

    before = snapshot(runner)
    for p in ALL:
        Runner(app, [p], batch=7, views=views).rebuild(p.name)
    assert snapshot(runner) == before
    for p in ALL:
        runner.rebuild(p.name)
    assert snapshot(runner) == before


def fold_timeline(events: list[tuple[int, Any]], hid: UUID) -> list[int]:
    """The notification ids of a household's events, by an independent walk of the log."""
    owners: dict[UUID, UUID | None] = {}
    found = []
    for nid, e in events:
        if isinstance(e, Referral.Opened | Delivery.Placed | ResidentRequest.Filed
                      | Monitoring.Started):
            owners[e.originator_id] = e.household_id
        mine = (
            (type(e).__qualname__.startswith("Household.") and e.originator_id == hid)
            or (isinstance(e, Visit.Recorded) and e.household_id == hid)
            or (type(e).__qualname__.split(".")[0] in ("Referral", "Delivery", "ResidentRequest",
                                                       "Monitoring")
                and owners.get(e.originator_id) == hid))
        if mine:
            found.append(nid)
    return found


def test_coverage_follows_members_moves_and_retries_like_the_application(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    cid = app.campaign_of(COMMUNITY, 1).id
    h0, h1, h2, h3 = c.households[:4]
    runner = Runner(app, sc.PROJECTIONS, batch=3)
    runner.catch_up()
    assert sc.coverage(runner.views, cid)["not_covered"] == {"not_visited": 6}

    clock.advance(hours=1)
    app.record_visit(cid, h0, Method.DOOR, by=c.worker)
    app.record_visit(cid, h1, Method.DOOR, Outcome.NO_ANSWER, by=c.worker)
    app.record_visit(cid, h2, Method.PHONE, Outcome.REFUSED, by=c.worker)
    first = sorted(app.household(h3).residents, key=str)[0]
    app.record_visit(cid, h3, Method.PHONE, by=c.worker, accounted=[first])
    clock.advance(hours=2)
    app.record_visit(cid, h1, Method.PHONE, by=c.worker)
    runner.catch_up()

    def check() -> None:
        want = app.campaign_coverage(cid)
        got = sc.coverage(runner.views, cid)
        assert got["covered"] == len(want.covered) and got["by_method"] == want.by_method
        listed = {u["household_id"]: u["reason"] for u in sc.uncovered_households(
            runner.views, cid)}
        assert listed == want.uncovered
        assert sc.coverage_series(runner.views, cid)[-1]["covered"] == len(want.covered)

    check()
    assert sc.coverage(runner.views, cid)["not_covered"] == {
        "refused": 1, "members_missing": 1, "not_visited": 2}
    assert [p["covered"] for p in sc.coverage_series(runner.views, cid)] == [1, 2]

    # A new member uncovers a covered household; visiting them covers it again.
    clock.advance(hours=1)
    app.add_member(h0, new_member("712-1-0", 3, "王小"), by=System.OPERATOR)
    runner.catch_up()
    check()
    assert [p["covered"] for p in sc.coverage_series(runner.views, cid)] == [1, 2, 1]
    clock.advance(hours=1)
    app.remove_member(h3, sorted(app.household(h3).residents, key=str)[1], "迁出 moved out",
                      by=System.OPERATOR)
    runner.catch_up()
    check()

    # A move takes the household's row to its new micro-grid's rollup.
    zone1 = sc.coverage(runner.views, cid, ZONES[0])["households"]
    app.move_household(h0, ZONES[1], by=System.OPERATOR)
    runner.catch_up()
    assert sc.coverage(runner.views, cid, ZONES[0])["households"] == zone1 - 1
    assert sc.coverage(runner.views, cid, ZONES[1])["households"] == 7 - zone1
    assert sc.coverage(runner.views, cid, COMMUNITY)["households"] == 6
    assert sc.coverage(runner.views, cid, "nowhere")["households"] == 0

    # Closing freezes the campaign's rows at its summary.
    app.close_campaign(cid, by=System.OPERATOR)
    app.add_member(h1, new_member("712-1-1", 3, "王小二"), by=System.OPERATOR)
    runner.catch_up()
    summary = app.campaign(cid).summary
    got = sc.coverage(runner.views, cid)
    assert (got["covered"], got["not_covered"]) == (summary.covered, summary.not_covered)
    before = snapshot(runner)
    Runner(app, sc.PROJECTIONS, batch=7, views=runner.views).rebuild("sweep_coverage")
    assert snapshot(runner) == before


def test_the_timeline_never_holds_personal_data_even_after_erasure(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    hid = c.households[0]
    rid = sorted(app.household(hid).residents, key=str)[0]
    app.tag_resident(hid, rid, Tag(kind=TagKind.CLOSE_CONTACT, note="张三的邻居"), c.worker)
    app.file_request("hotline", "supplies", "urgent", "张三家缺米 13812341234", household=hid,
                     resident=rid, by=System.PUBLIC)
    app.erase_resident(hid, rid, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    runner = Runner(app, ht.PROJECTIONS, batch=2)
    runner.catch_up()
    rows = ht.timeline(runner.views, hid)
    assert [r["kind"] for r in rows] == ["household.registered", "household.tagged",
                                         "request.filed", "household.erased",
                                         "request.erased"]
    assert rows[1]["actor"] == c.worker and "密接" in rows[1]["label"] + rows[1]["detail"]
    text = repr(runner.views.query("SELECT * FROM ht_event"))
    for personal in ("张三", "李四", "1381234", "栋", "缺米", "邻居"):
        assert personal not in text
    assert [r["notification_id"] for r in rows] == fold_timeline(log(app), hid)
    assert ht.timeline(runner.views, c.households[1])[0]["kind"] == "household.registered"
    before = snapshot(runner)
    runner.rebuild("household_timeline")
    assert snapshot(runner) == before


def test_referral_stages_and_site_places_follow_each_step(sql_store, clock):
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    hid = c.households[0]
    rid = sorted(app.household(hid).residents, key=str)[0]
    app.register_quarantine_site("JA-01", "后湖宾馆隔离点", "420102001", 2, by=System.OPERATOR)
    opening = app.open_referral(hid, rid, "centralized_quarantine", "密接 close contact",
                                by=c.worker)
    runner = Runner(app, rp.PROJECTIONS, batch=1)
    runner.catch_up()
    assert rp.pipeline(runner.views, COMMUNITY)["opened"]["count"] == 1
    clock.advance(hours=30)
    app.tick()
    runner.catch_up()
    [late] = rp.overdue(runner.views)
    referral = app.referral(opening.referral_id)
    assert late["referral_id"] == referral.id and late["escalations"] == len(
        referral.escalations) > 0
    app.accept_referral(referral.id, c.official, 60, "同意")
    app.dispatch_transport(referral.id, c.official, "120转运车", "")
    app.admit(referral.id, c.doctor, site_code="JA-01")
    runner.catch_up()
    assert rp.overdue(runner.views) == []
    assert rp.site_occupancy(runner.views)[0]["free"] == 1
    clock.advance(days=15)
    app.record_test(hid, rid, negative=True, by=System.OPERATOR)
    app.discharge(referral.id, c.doctor, "期满解除 period served", "none")
    runner.catch_up()
    assert rp.site_occupancy(runner.views)[0]["occupancy"] == 0
    counts = rp.pipeline(runner.views)
    assert counts[ReferralState.DISCHARGED.value]["count"] == 1
    assert sum(v["count"] for v in counts.values()) == 1
    assert rp.open_referrals(runner.views, clock()) == []
    before = snapshot(runner)
    runner.rebuild("referral_pipeline")
    assert snapshot(runner) == before
