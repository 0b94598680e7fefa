"""The 712 demo's screening (23-27 Feb, ``adapters.demo_screening``): the assistance list of
arrivals is matched, routed to the community's zones and answered, with completion per level
and the unreported person escalated, as the read model shows it; the testing round samples
the community in 10-in-1 pools, its one positive pool puts its households under control,
the negatives on retest are released and the positive becomes a traced case; and running the
demo again writes nothing."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from adapters import demo, demo_field, demo_screening
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.assistance import ItemStatus, MatchBasis, RouteBasis
from gridcore.grid import Level
from gridcore.mass_testing import TubeResult
from gridcore.status import Health, Measure, TagKind
from gridcore.tracing import CaseStatus, Generation
from projections import assistance_board as ab
from projections import testing_coverage as tc
from projections.runner import Runner


@dataclass
class Built:
    app: GridcoreApp
    clock: demo.ScenarioClock
    runner: Runner
    before_round: dict[str, tuple[Measure, Health, bool]]
    """the positive household's residents before the testing round (measure, health, tagged)"""


@pytest.fixture(scope="module")
def built() -> Iterator[Built]:
    clock = demo.ScenarioClock()
    app = GridcoreApp(memory_env(), clock=clock)
    demo.build(app)
    rng = random.Random(2020)  # as demo_field.run
    demo_field.sweep(app, clock, rng)
    demo_field.referrals(app, clock)
    demo_field.requests(app, clock)
    demo_field.tracing(app, clock)
    demo_field.deliveries(app, clock, rng)
    demo_screening.assistance(app, clock)
    home = app.household_by_no(demo_screening.POSITIVE_HOME)
    before = {str(rid): (r.measure, r.health, bool(r.tags)) for rid, r in home.residents.items()}
    demo_screening.testing(app, clock)
    demo_field.finale(app, clock)  # the rest of demo_field.run
    runner = Runner(app, [*ab.PROJECTIONS, *tc.PROJECTIONS])
    runner.catch_up()
    yield Built(app, clock, runner, before)
    app.close()


def test_the_list_is_matched_routed_answered_and_its_completion_shown_per_level(
        built: Built) -> None:
    app, views = built.app, built.runner.views
    listed = ab.list_by_reference(views, demo_screening.LIST_REFERENCE)
    assert listed is not None and listed.scope == demo.DISTRICT and listed.items == 12
    a = app.assistance_list(demo_screening.LIST_REFERENCE)
    # three matched by phone and name; everyone else routed into the community, one by hand
    matched = [i for i in a.items if i.basis is RouteBasis.REGISTER]
    assert [i.no for i in matched] == [1, 2, 11]
    assert {i.match_basis for i in matched} == {MatchBasis.PHONE_NAME}
    for i in matched:  # found: the family doctor recorded the home quarantine
        assert i.household_id is not None and i.resident_id is not None
        r = app.household(i.household_id).residents[i.resident_id]
        assert r.measure is Measure.HOME_QUARANTINE
    assert all(demo.COMMUNITY in app.ancestry(i.place) for i in a.items)
    received = ab.items_of_list(views, listed.list_id, app.clock(),
                                as_of=listed.received_at)
    [district_only] = [i for i in received if i.unrouted]
    assert (district_only.no, district_only.place, district_only.basis) == (
        9, demo.DISTRICT, RouteBasis.DISTRICT.value)
    assert a.item(9).basis is RouteBasis.FORWARDED and a.item(9).status is ItemStatus.FOUND

    now = ab.items_of_list(views, listed.list_id, app.clock())
    assert Counter(i.status for i in now) == {
        "found": 8, "not_found": 1, "moved_away": 1, "wrong_data": 1, "pending": 1}
    [late] = [i for i in now if i.status == ItemStatus.PENDING.value]
    assert late.no == demo_screening.OVERDUE_ITEM and late.overdue and late.escalations >= 1
    assert late.owner_level < Level.COMMUNITY  # gone up from the community
    assert a.item(7).moved_to_city == "孝感市"

    completion = ab.completion_by_node(views, demo.DISTRICT, app.clock(),
                                       list_id=listed.list_id)
    for code in (demo.DISTRICT, demo.STREET, demo.COMMUNITY):
        g = completion[code]
        assert (g.total, g.done, g.pending, g.overdue) == (12, 11, 1, 1), code
        assert (g.found, g.not_found, g.moved_away, g.wrong_data) == (8, 1, 1, 1), code
    by_zone = {c: g.total for c, g in completion.items() if g.parent == demo.COMMUNITY}
    at_community = sum(1 for i in a.items if i.place == demo.COMMUNITY)  # a building only
    assert sum(by_zone.values()) + at_community == 12 and len(by_zone) >= 8
    told = demo_field.story(app).assistance
    assert (told.matched, told.routed, told.unrouted) == (3, 8, 1)
    assert told.completion["712社区"][1:] == (12, 8, 1, 1, 1, 1, 1)


def test_the_round_covers_the_community_and_its_positive_pool_ends_in_a_traced_case(
        built: Built) -> None:
    app, views = built.app, built.runner.views
    row = tc.campaign(views, demo.COMMUNITY, demo_screening.ROUND)
    assert row is not None and row.pool_size == 10  # the policy's pool size
    c = app.testing_campaign(UUID(row.campaign_id))
    coverage = tc.coverage(views, row.campaign_id)[demo.COMMUNITY]
    residents = sum(len(app.household(h).residents) for g in app.micro_grids(demo.COMMUNITY)
                    for h in g.households)
    assert coverage.residents == residents and 0 < coverage.unsampled < residents // 50
    assert coverage.door_to_door == sum(1 for a in c.assignments.values() if a.door_to_door)
    # who was not sampled: among them everyone in centralized quarantine at the round (the
    # case's contacts went there after it)
    unsampled = {UUID(h) for h in coverage.unsampled_households}
    assert all(any(rid not in c.samples for rid in c.members[h]) for h in unsampled)
    later = {x.resident_id for x in app.case_by_no(
        c.cases[demo_screening.positive_resident(app)]).contacts.values()}
    away = [(hid, rid) for hid, members in c.members.items() for rid in members
            if app.household(hid).residents[rid].measure is Measure.CENTRALIZED_QUARANTINE
            and rid not in later]
    assert away and all(rid not in c.samples and hid in unsampled for hid, rid in away)
    assert all(len(t.members) <= 10 for t in c.tubes.values())
    assert all(t.result is not None for t in c.tubes.values())
    [pool] = [t for t in c.tubes.values() if not t.retest and t.result is TubeResult.POSITIVE]
    positive = demo_screening.positive_resident(app)
    assert positive in pool.members and coverage.positives == 1

    # the pool's households under control; each member retested in a tube of their own
    pooled_homes = {c.samples[rid].household_id for rid in pool.members}
    assert {x.household_id for x in c.controls.values()} == pooled_homes
    assert set(c.retests) == set(pool.members)
    assert all(len(c.tubes[r.tube_code or ""].members) == 1 for r in c.retests.values())
    home = app.household_by_no(demo_screening.POSITIVE_HOME)
    assert c.assignments[home.id].site_id is not None  # sampled at a site, pooled there
    for hid in pooled_homes - {home.id}:  # negative on retest: released, a test recorded
        h = app.household(hid)
        for rid in (x.resident_id for x in c.controls.values() if x.household_id == hid):
            assert c.controls[rid].released
            assert h.residents[rid].measure is not Measure.HOME_QUARANTINE
            assert h.residents[rid].last_negative_test is not None
    assert coverage.under_control == sum(1 for x in c.controls.values() if not x.released)
    assert {x.household_id for x in c.controls.values() if not x.released} == {home.id}

    # the positive is a confirmed case, traced: the household members are close contacts
    assert all(m is Measure.NONE and h is Health.NORMAL and not tagged
               for m, h, tagged in built.before_round.values())  # untouched before
    case = app.case_by_no(c.cases[positive])
    assert case.status is CaseStatus.CONFIRMED and case.index_resident_id == positive
    assert case.case_no == f"核酸-{c.retests[positive].tube_code}"
    assert app.household(home.id).residents[positive].health is Health.CONFIRMED
    close = case.by_generation()[Generation.CLOSE]
    others = [rid for rid in home.residents if rid != positive]
    assert sorted(str(x.resident_id) for x in close) == sorted(map(str, others))
    for rid in others:
        assert TagKind.CLOSE_CONTACT in app.household(home.id).residents[rid].tags
    told = demo_field.story(app).testing
    assert (told.pool, told.case_no, told.case_close_contacts) == (
        pool.code, case.case_no, len(others))


def test_running_the_demo_again_writes_nothing(built: Built) -> None:
    written = built.app.recorder.max_notification_id()
    demo.build(built.app)
    demo_field.run(built.app, built.clock)
    assert built.app.recorder.max_notification_id() == written
