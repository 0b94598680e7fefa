"""Referrals (转介) and centralized quarantine sites (集中隔离点): the lifecycle, capacity, the
resident's measure driven by admission and discharge, deadlines and escalation, and bad inputs
on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.settings import memory_env
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    LevelViolation,
    NotFound,
    NotPermitted,
)
from gridcore.grid import Level
from gridcore.household import Household, resident_id
from gridcore.policy import DEFAULT_POLICY
from gridcore.quarantine_site import SiteFull, check_room, site_id
from gridcore.referral import (
    Referral,
    ReferralKind,
    ReferralState,
    Step,
    allowed_steps,
    check_text,
    escalations_due,
)
from gridcore.referral_index import DESK_REGISTER_ID, desk_id
from gridcore.status import Health, Measure
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, Community, given_community

CQ, CLINIC, HOSPITAL = ReferralKind.CENTRALIZED_QUARANTINE, ReferralKind.FEVER_CLINIC, \
    ReferralKind.HOSPITAL


@dataclass
class World:
    app: GridcoreApp
    c: Community
    hid: UUID
    rid: UUID
    other: tuple[UUID, UUID]


def given_sites(app: GridcoreApp) -> World:
    """The 712 community, a one-place site at the street and a two-place site at the district."""
    c = given_community(app, households_per_zone=1)
    app.register_quarantine_site("HH-01", "后湖宾馆隔离点", STREET, 1, by=System.OPERATOR)
    app.register_quarantine_site("JA-02", "江岸区党校隔离点", DISTRICT, 2, by=System.OPERATOR)
    return World(app, c, c.households[0], resident_id("712-1-0", 2),
                 (c.households[1], resident_id("712-2-0", 1)))


@pytest.fixture
def world(clock: Clock) -> Iterator[World]:
    app = GridcoreApp(memory_env(), clock=clock)
    yield given_sites(app)
    app.close()


def last_id(app: GridcoreApp) -> int:
    return app.recorder.max_notification_id() or 0


def events_of(app: GridcoreApp, aid: UUID) -> list[Any]:
    return list(app.events.get(aid))


def measure_of(w: World, hid: UUID | None = None, rid: UUID | None = None) -> Measure:
    return w.app.household(hid or w.hid).residents[rid or w.rid].measure


def to_transport(w: World, kind: ReferralKind = CQ, hid: UUID | None = None,
                 rid: UUID | None = None) -> UUID:
    ref = w.app.open_referral(hid or w.hid, rid or w.rid, kind, "密接 close contact",
                              by=w.c.worker).referral_id
    w.app.accept_referral(ref, w.c.worker)
    w.app.dispatch_transport(ref, w.c.worker, "120转运车")
    return ref


# ---- the lifecycle ---------------------------------------------------------------------------

def test_a_close_contact_is_persuaded_sent_to_a_site_and_released(world: World, clock: Clock):
    w, app = world, world.app
    opening = app.open_referral(w.hid, w.rid, CQ, "密接 close contact, 云南来的亲戚", by=w.c.worker)
    assert opening.created and isinstance(opening.notification_id, int)
    ref = opening.referral_id
    r = app.referral(ref)
    assert (r.state, r.kind, r.community_code, r.opened_by) == (
        ReferralState.OPENED, CQ, COMMUNITY, w.c.worker)
    assert r.transport_due == clock.now + timedelta(hours=6)
    assert [x.id for x in app.open_referrals(COMMUNITY)] == [ref]

    # the seeds: it once took 3 hours to persuade a close contact
    app.record_persuasion(ref, w.c.worker, 180, "担心家里老人 worried about the elderly")
    app.accept_referral(ref, w.c.worker, minutes=25, note="同意 agreed")
    r = app.referral(ref)
    assert r.state is ReferralState.ACCEPTED and r.persuasion_minutes == 205
    assert [(p.minutes, p.refused_reason) for p in r.persuasions] == [
        (180, "担心家里老人 worried about the elderly"), (25, "")]

    app.dispatch_transport(ref, w.c.worker, "120转运车", escort="社区民警陪同")
    assert app.referral(ref).state is ReferralState.IN_TRANSPORT
    assert app.repository.get(desk_id(COMMUNITY)).open == {ref: None}

    app.admit(ref, w.c.doctor, site_code="HH-01")
    site = app.quarantine_site_by_code("HH-01")
    assert (site.occupancy, site.free) == (1, 0) and ref in site.occupants
    assert site.label == "集中隔离点 quarantine site 后湖宾馆隔离点"
    assert measure_of(w) is Measure.CENTRALIZED_QUARANTINE
    last = events_of(app, w.hid)[-1]
    assert isinstance(last, Household.MeasureChanged) and last.by == w.c.doctor
    r = app.referral(ref)
    assert (r.state, r.site_code, r.held_measure) == (
        ReferralState.ADMITTED, "HH-01", Measure.CENTRALIZED_QUARANTINE)

    # the policy: 14 days served and a recent negative test
    clock.advance(days=14)
    app.record_test(w.hid, w.rid, True, by=System.OPERATOR)
    app.discharge(ref, w.c.doctor, "期满解除 period served")
    assert measure_of(w) is Measure.NONE
    assert app.quarantine_site_by_code("HH-01").free == 1
    r = app.referral(ref)
    assert r.state is ReferralState.DISCHARGED and not r.is_open
    assert app.open_referrals(COMMUNITY) == []
    assert [x.id for x in app.referrals_of(w.rid)] == [ref]


def test_a_hospital_admission_hospitalizes_and_discharge_needs_a_negative_test(world: World,
                                                                                clock: Clock):
    w, app = world, world.app
    ref = to_transport(w, HOSPITAL)
    with pytest.raises(InvalidInput, match="destination"):
        app.admit(ref, w.c.doctor, site_code="HH-01")
    app.admit(ref, w.c.doctor, destination="区人民医院")
    assert measure_of(w) is Measure.HOSPITALIZED
    assert app.referral(ref).destination == "区人民医院"
    clock.advance(days=3)
    before = last_id(app)
    with pytest.raises(ForbiddenTransition, match="negative test"):
        app.discharge(ref, w.c.doctor, "出院 discharged")
    assert last_id(app) == before and measure_of(w) is Measure.HOSPITALIZED
    app.record_test(w.hid, w.rid, True, by=System.OPERATOR)
    app.discharge(ref, w.c.doctor, "出院 discharged", release_to=Measure.HOME_OBSERVATION)
    assert measure_of(w) is Measure.HOME_OBSERVATION
    discharged = events_of(app, ref)[-1]
    assert isinstance(discharged, Referral.Discharged)
    assert discharged.released_to is Measure.HOME_OBSERVATION


def test_a_fever_clinic_visit_imposes_no_measure_and_is_closed(world: World):
    w, app = world, world.app
    ref = to_transport(w, CLINIC)
    version = app.household(w.hid).version
    app.admit(ref, w.c.worker, destination="区人民医院发热门诊")
    assert app.household(w.hid).version == version and measure_of(w) is Measure.NONE
    assert app.referral(ref).held_measure is None
    with pytest.raises(ForbiddenTransition, match="closeReferral") as info:
        app.discharge(ref, w.c.doctor, "回家 went home")
    assert info.value.remedy
    app.close_referral(ref, w.c.worker, "排除 ruled out, 回家 went home")
    r = app.referral(ref)
    assert (r.state, r.ended_reason) == (ReferralState.CLOSED, "排除 ruled out, 回家 went home")
    assert app.open_referrals(COMMUNITY) == []


def test_a_cancelled_referral_frees_its_slot_and_a_system_can_cancel(world: World):
    w, app = world, world.app
    first = app.open_referral(w.hid, w.rid, CQ, "密接 close contact",
                              by=System.AUTOMATION).referral_id
    app.accept_referral(first, w.c.worker)
    app.cancel_referral(first, System.AUTOMATION, "核实排除 contact ruled out")
    r = app.referral(first)
    assert (r.state, r.opened_by) == (ReferralState.CANCELLED, None)
    assert isinstance(events_of(app, first)[-1], Referral.Cancelled)
    again = app.open_referral(w.hid, w.rid, CQ, "再次密接 close contact again", by=w.c.worker)
    assert again.created and again.referral_id != first
    assert [x.id for x in app.referrals_of(w.rid)] == [first, again.referral_id]
    assert [x.id for x in app.open_referrals(COMMUNITY)] == [again.referral_id]


# ---- idempotent opening ----------------------------------------------------------------------

def test_opening_is_idempotent_per_resident_and_kind_while_one_is_open(world: World):
    w, app = world, world.app
    first = app.open_referral(w.hid, w.rid, CQ, "密接 close contact",
                              by=System.AUTOMATION)  # by the system
    before = last_id(app)
    again = app.open_referral(w.hid, w.rid, CQ.value, "密接 close contact", by=w.c.worker)
    assert (again.referral_id, again.created, again.notification_id) == (
        first.referral_id, False, None)
    assert last_id(app) == before
    # another kind, or another resident, is another referral
    clinic = app.open_referral(w.hid, w.rid, CLINIC, "发热 fever", by=System.AUTOMATION)
    other = app.open_referral(*w.other, CQ, "密接 close contact", by=w.c.worker)
    assert clinic.created and other.created
    assert len({first.referral_id, clinic.referral_id, other.referral_id}) == 3
    assert {r.id for r in app.open_referrals(COMMUNITY)} == {
        first.referral_id, clinic.referral_id, other.referral_id}


def test_a_retried_opening_with_its_client_id_returns_the_same_referral(world: World):
    w, app = world, world.app
    first = app.open_referral(w.hid, w.rid, CQ, "密接", client_id="pm/sweep-finding-17",
                              by=System.AUTOMATION)
    written = last_id(app)
    retry = app.open_referral(w.hid, w.rid, CQ, "密接", client_id="pm/sweep-finding-17",
                              by=System.AUTOMATION)
    assert retry.referral_id == first.referral_id and not retry.created
    assert last_id(app) == written


# ---- capacity --------------------------------------------------------------------------------

def test_admission_beyond_capacity_is_refused_and_writes_nothing(world: World):
    w, app = world, world.app
    a = to_transport(w)
    b = to_transport(w, hid=w.other[0], rid=w.other[1])
    app.admit(a, w.c.doctor, site_code="HH-01")
    before, site = last_id(app), app.quarantine_site_by_code("HH-01")
    with pytest.raises(SiteFull) as info:
        app.admit(b, w.c.doctor, site_code="HH-01")
    e = info.value
    assert "capacity 1" in e.problem and "1 in" in e.problem
    assert "another site" in e.remedy
    assert last_id(app) == before
    assert app.quarantine_site_by_code("HH-01").version == site.version
    assert app.referral(b).state is ReferralState.IN_TRANSPORT
    assert measure_of(w, *w.other) is Measure.NONE

    app.admit(b, w.c.doctor, site_code="JA-02")  # another site has room
    assert app.quarantine_site_by_code("JA-02").occupancy == 1
    app.discharge(a, w.c.doctor, "医嘱提前解除", override_reason="阴性且无症状 doctor's call")
    assert app.quarantine_site_by_code("HH-01").free == 1


def test_check_room_says_the_capacity_and_how_many_are_in():
    check_room("甲", 3, 2)
    with pytest.raises(SiteFull, match="capacity 3, 3 in"):
        check_room("甲", 3, 3)


# ---- the measure follows admission and discharge --------------------------------------------

def test_an_admission_by_a_role_that_may_not_impose_the_measure_is_refused(world: World):
    w, app = world, world.app
    ref = to_transport(w)
    before = last_id(app)
    with pytest.raises(NotPermitted, match="centralized_quarantine"):
        app.admit(ref, w.c.worker, site_code="HH-01")  # the policy: not a grid worker's measure
    with pytest.raises(NotPermitted):
        app.admit(ref, w.c.volunteer, site_code="HH-01")  # the authority table: no admission
    assert last_id(app) == before
    assert app.quarantine_site_by_code("HH-01").occupancy == 0


def test_a_discharge_the_policy_forbids_is_refused(world: World, clock: Clock):
    w, app = world, world.app
    ref = to_transport(w)
    app.admit(ref, w.c.official, site_code="HH-01")
    clock.advance(days=3)
    before = last_id(app)
    with pytest.raises(ForbiddenTransition, match="14-day"):
        app.discharge(ref, w.c.official, "提前解除")
    with pytest.raises(NotPermitted):
        app.discharge(ref, w.c.worker, "提前解除")
    with pytest.raises(NotPermitted, match="override"):
        app.discharge(ref, w.c.official, "提前解除", override_reason="领导同意")
    assert last_id(app) == before
    assert app.quarantine_site_by_code("HH-01").occupancy == 1
    assert measure_of(w) is Measure.CENTRALIZED_QUARANTINE
    app.discharge(ref, w.c.doctor, "医嘱解除", override_reason="核酸阴性 doctor's call")
    changed = events_of(app, w.hid)[-1]
    assert isinstance(changed, Household.MeasureChanged)
    assert (changed.previous, changed.measure, changed.override_reason) == (
        Measure.CENTRALIZED_QUARANTINE, Measure.NONE, "核酸阴性 doctor's call")


def test_admission_under_the_measure_already_changes_nothing_on_the_household(world: World):
    w, app = world, world.app
    app.change_measure(w.hid, w.rid, Measure.CENTRALIZED_QUARANTINE, w.c.official, "待转运")
    version = app.household(w.hid).version
    ref = to_transport(w)
    app.admit(ref, w.c.doctor, site_code="JA-02")
    assert app.household(w.hid).version == version
    assert app.referral(ref).held_measure is Measure.CENTRALIZED_QUARANTINE


def test_a_transfer_to_hospital_leaves_the_measure_to_the_hospital(world: World):
    w, app = world, world.app
    site_ref = to_transport(w)
    app.admit(site_ref, w.c.doctor, site_code="HH-01")
    hospital = to_transport(w, HOSPITAL)
    app.admit(hospital, w.c.doctor, destination="金银潭医院")
    assert measure_of(w) is Measure.HOSPITALIZED
    version = app.household(w.hid).version
    app.discharge(site_ref, w.c.worker, "转院 transferred to hospital")
    assert app.household(w.hid).version == version and measure_of(w) is Measure.HOSPITALIZED
    assert app.quarantine_site_by_code("HH-01").free == 1
    assert events_of(app, site_ref)[-1].released_to is None


def test_a_deceased_resident_is_not_referred(world: World):
    w, app = world, world.app
    app.change_health(w.hid, w.rid, Health.DECEASED, w.c.doctor, "病故")
    before = last_id(app)
    with pytest.raises(ForbiddenTransition, match="deceased"):
        app.open_referral(w.hid, w.rid, HOSPITAL, "转院", by=System.AUTOMATION)
    assert last_id(app) == before


# ---- the lifecycle table ---------------------------------------------------------------------

def test_the_lifecycle_table_allows_each_step_only_where_listed():
    S = ReferralState
    assert allowed_steps(S.OPENED, CQ) == {Step.PERSUADE, Step.ACCEPT, Step.CANCEL}
    assert allowed_steps(S.ACCEPTED, CLINIC) == {Step.DISPATCH, Step.CANCEL}
    assert allowed_steps(S.IN_TRANSPORT, HOSPITAL) == {Step.ADMIT, Step.CANCEL}
    assert allowed_steps(S.ADMITTED, CQ) == {Step.DISCHARGE}
    assert allowed_steps(S.ADMITTED, HOSPITAL) == {Step.DISCHARGE}
    assert allowed_steps(S.ADMITTED, CLINIC) == {Step.CLOSE}
    for ended in (S.DISCHARGED, S.CLOSED, S.CANCELLED):
        assert all(allowed_steps(ended, k) == frozenset() for k in ReferralKind)


def test_labels_carry_the_chinese_term():
    assert CQ.label.startswith("集中隔离") and CLINIC.label.startswith("发热门诊")
    assert ReferralState.IN_TRANSPORT.label.startswith("转运中")
    assert Referral.label == "转介 referral"


@pytest.mark.parametrize("text", ["电话13812341234", "身份证42010219800101123X", "  ", "x" * 201])
def test_free_text_refuses_personal_numbers_and_empty_or_long_text(text: str):
    with pytest.raises(InvalidInput) as info:
        check_text(text, "reason", "密接")
    assert info.value.remedy


# ---- deadlines and escalation ----------------------------------------------------------------

def escalations(app: GridcoreApp, ref: UUID) -> list[tuple[Level, str]]:
    return [(e.level, e.node_code) for e in app.referral(ref).escalations]


def test_tick_records_overdue_once_and_escalates_one_level_per_period(world: World,
                                                                      clock: Clock):
    w, app = world, world.app
    t0 = clock.now
    late = app.open_referral(w.hid, w.rid, CQ, "密接", by=w.c.worker).referral_id
    on_time = app.open_referral(*w.other, CQ, "密接", by=w.c.worker).referral_id
    app.accept_referral(late, w.c.worker)
    clock.advance(hours=5)
    app.accept_referral(on_time, w.c.worker)
    app.dispatch_transport(on_time, w.c.worker, "120转运车")

    assert app.tick_referrals(t0 + timedelta(hours=6)) == 0  # within the 6 hours
    written = last_id(app)
    assert app.tick_referrals(t0 + timedelta(hours=6, seconds=1)) == 1
    kinds = [type(e).__name__ for e in events_of(app, late)[-2:]]
    assert kinds == ["BecameOverdue", "Escalated"]
    assert escalations(app, late) == [(Level.STREET, STREET)]
    assert app.referral(late).overdue
    after_first = last_id(app)
    assert after_first == written + 2
    # the same time again records nothing
    assert app.tick_referrals(t0 + timedelta(hours=6, seconds=1)) == 0
    assert app.tick_referrals(t0 + timedelta(hours=12)) == 0
    assert last_id(app) == after_first
    # one more level per further deadline period, up to the city
    assert app.tick_referrals(t0 + timedelta(hours=12, seconds=1)) == 0
    assert escalations(app, late) == [(Level.STREET, STREET), (Level.DISTRICT, DISTRICT)]
    app.tick_referrals(t0 + timedelta(hours=19))
    app.tick_referrals(t0 + timedelta(days=30))
    assert escalations(app, late) == [(Level.STREET, STREET), (Level.DISTRICT, DISTRICT),
                                      (Level.CITY, CITY)]
    dues = [e.due for e in app.referral(late).escalations]
    assert dues == [t0 + timedelta(hours=h) for h in (6, 12, 18)]
    assert not app.referral(on_time).overdue and app.referral(on_time).escalations == []


def test_a_late_tick_records_every_level_due_and_a_dispatch_stops_escalation(world: World,
                                                                             clock: Clock):
    w, app = world, world.app
    t0 = clock.now
    a = app.open_referral(w.hid, w.rid, CQ, "密接", by=System.AUTOMATION).referral_id
    b = app.open_referral(*w.other, HOSPITAL, "确诊 confirmed", by=w.c.doctor).referral_id
    assert app.tick_referrals(t0 + timedelta(hours=13)) == 2
    assert [lv for lv, _ in escalations(app, a)] == [Level.STREET, Level.DISTRICT]
    clock.advance(hours=14)
    app.accept_referral(a, w.c.worker)
    app.dispatch_transport(a, w.c.worker, "120转运车")
    app.tick_referrals(t0 + timedelta(days=2))
    assert [lv for lv, _ in escalations(app, a)] == [Level.STREET, Level.DISTRICT]
    assert [lv for lv, _ in escalations(app, b)] == [Level.STREET, Level.DISTRICT, Level.CITY]
    app.cancel_referral(b, System.AUTOMATION, "已由120直接送医 taken by ambulance")
    written = last_id(app)
    assert app.tick_referrals(t0 + timedelta(days=9)) == 0 and last_id(app) == written


def test_the_deadline_comes_from_the_policy_in_force_at_opening(world: World, clock: Clock):
    w, app = world, world.app
    t0 = clock.now
    early = app.open_referral(w.hid, w.rid, CQ, "密接", by=System.AUTOMATION).referral_id
    app.adopt_policy(DEFAULT_POLICY.with_changes(referral_transport_hours=2), t0, "2小时内转运",
                     by=System.OPERATOR)
    later = app.open_referral(*w.other, CQ, "密接", by=System.AUTOMATION).referral_id
    assert app.referral(later).transport_due == t0 + timedelta(hours=2)
    assert app.tick_referrals(t0 + timedelta(hours=3)) == 1
    assert app.referral(later).overdue and not app.referral(early).overdue


def test_tick_with_no_referrals_anywhere_is_zero(clock: Clock):
    app = GridcoreApp(memory_env(), clock=clock)
    assert app.tick_referrals(clock.now) == 0 and app.recorder.max_notification_id() is None


T0 = datetime(2020, 2, 17, tzinfo=UTC)


@given(hours=st.integers(1, 48), a=st.integers(-10**6, 10**7), b=st.integers(0, 10**7),
       levels=st.integers(0, 3))
def test_escalations_due_is_zero_until_the_deadline_then_grows_one_per_period(
        hours: int, a: int, b: int, levels: int):
    due = T0 + timedelta(hours=hours)
    now, later = due + timedelta(seconds=a), due + timedelta(seconds=a + b)
    n = escalations_due(due, hours, now, levels)
    assert 0 <= n <= levels and n <= escalations_due(due, hours, later, levels)
    if a <= 0:
        assert n == 0
    elif levels:
        assert n == min(levels, 1 + (a - 1) // (hours * 3600))


# ---- every store: replay and bad inputs ------------------------------------------------------

def test_a_second_application_replays_referrals_and_sites(make_app, clock: Clock):
    w = given_sites(make_app())
    app = w.app
    ref = to_transport(w)
    app.record_persuasion(app.open_referral(*w.other, CLINIC, "发热", by=w.c.worker).referral_id,
                          w.c.worker, 180, "不愿去")
    app.admit(ref, w.c.doctor, site_code="JA-02")
    app.tick_referrals(clock.now + timedelta(hours=7))
    second = make_app()
    aids = [ref, *[r.id for r in app.referrals_of(w.other[1])], site_id("JA-02"),
            desk_id(COMMUNITY), DESK_REGISTER_ID, w.hid]
    for aid in aids:
        mine, theirs = app.repository.get(aid), second.repository.get(aid)
        assert vars(mine) == vars(theirs), aid
    assert second.quarantine_site_by_code("JA-02").occupancy == 1
    assert second.referral(ref).state is ReferralState.ADMITTED
    assert len(second.open_referrals(COMMUNITY)) == 2


def bad_inputs(w: World) -> list[tuple[str, type[GridcoreError], Callable[[], Any]]]:
    app, c = w.app, w.c
    opened = app.open_referral(w.hid, w.rid, CLINIC, "发热", by=c.worker).referral_id
    moving = to_transport(w)
    full = to_transport(w, hid=w.other[0], rid=w.other[1])
    app.admit(full, c.doctor, site_code="HH-01")
    clinic_in = to_transport(w, CLINIC, *w.other)
    app.admit(clinic_in, c.doctor, destination="发热门诊")
    accepted = app.open_referral(*w.other, HOSPITAL, "确诊 confirmed", by=c.doctor).referral_id
    app.accept_referral(accepted, c.worker)
    app.register_household("712-9-1", f"{COMMUNITY}-01", "9栋101",
                           [new_member("712-9-1", 1, "周七")], by=System.OPERATOR)
    gone = app.household_by_no("712-9-1").id
    gone_rid = resident_id("712-9-1", 1)
    app.change_health(gone, gone_rid, Health.DECEASED, c.doctor, "病故")
    nobody = uuid4()
    return [
        ("site code", InvalidInput, lambda: app.register_quarantine_site("", "隔离点", STREET, 5,
                                                                         by=System.OPERATOR)),
        ("site name", InvalidInput, lambda: app.register_quarantine_site("S9", " ", STREET, 5,
                                                                         by=System.OPERATOR)),
        ("site capacity", InvalidInput,
         lambda: app.register_quarantine_site("S9", "隔离点", STREET, 0, by=System.OPERATOR)),
        ("site level", LevelViolation,
         lambda: app.register_quarantine_site("S9", "隔离点", COMMUNITY, 5, by=System.OPERATOR)),
        ("site node", NotFound, lambda: app.register_quarantine_site("S9", "隔离点", "NOPE", 5,
                                                                     by=System.OPERATOR)),
        ("site code taken", DuplicateCode,
         lambda: app.register_quarantine_site("HH-01", "另一个", STREET, 5, by=System.OPERATOR)),
        ("unknown household", NotFound, lambda: app.open_referral(nobody, w.rid, CQ, "密接",
                                                                  by=System.AUTOMATION)),
        ("unknown resident", NotFound, lambda: app.open_referral(w.hid, nobody, CQ, "密接",
                                                                 by=System.AUTOMATION)),
        ("unknown kind", InvalidInput, lambda: app.open_referral(w.hid, w.rid, "icu", "密接",
                                                                 by=System.AUTOMATION)),
        ("empty reason", InvalidInput, lambda: app.open_referral(w.hid, w.rid, HOSPITAL, " ",
                                                                 by=System.AUTOMATION)),
        ("phone in reason", InvalidInput,
         lambda: app.open_referral(w.hid, w.rid, HOSPITAL, "电话13812341234",
                                   by=System.AUTOMATION)),
        ("unknown opener", NotFound,
         lambda: app.open_referral(w.hid, w.rid, HOSPITAL, "发热", by=nobody)),
        ("deceased", ForbiddenTransition, lambda: app.open_referral(gone, gone_rid, CQ, "密接",
                                                                    by=System.AUTOMATION)),
        ("unknown referral", NotFound,
         lambda: app.record_persuasion(nobody, c.worker, 30, "不愿意")),
        ("zero minutes", InvalidInput, lambda: app.record_persuasion(opened, c.worker, 0, "不愿")),
        ("a day and more", InvalidInput,
         lambda: app.record_persuasion(opened, c.worker, 24 * 60 + 1, "不愿")),
        ("no refusal reason", InvalidInput,
         lambda: app.record_persuasion(opened, c.worker, 30, "")),
        ("unknown persuader", NotFound, lambda: app.record_persuasion(opened, nobody, 30, "不愿")),
        ("persuade in transport", ForbiddenTransition,
         lambda: app.record_persuasion(moving, c.worker, 30, "不愿")),
        ("negative minutes", InvalidInput, lambda: app.accept_referral(opened, c.worker, -1)),
        ("accept twice", ForbiddenTransition, lambda: app.accept_referral(moving, c.worker)),
        ("dispatch unaccepted", ForbiddenTransition,
         lambda: app.dispatch_transport(opened, c.worker, "120")),
        ("no vehicle", InvalidInput, lambda: app.dispatch_transport(accepted, c.worker, " ")),
        ("phone in escort note", InvalidInput,
         lambda: app.dispatch_transport(accepted, c.worker, "120", "司机 13812341234")),
        ("admit unaccepted", ForbiddenTransition,
         lambda: app.admit(opened, c.doctor, destination="发热门诊")),
        ("no site", InvalidInput, lambda: app.admit(moving, c.doctor)),
        ("site and destination", InvalidInput,
         lambda: app.admit(moving, c.doctor, site_code="JA-02", destination="宾馆")),
        ("unknown site", NotFound, lambda: app.admit(moving, c.doctor, site_code="NOPE")),
        ("full site", SiteFull, lambda: app.admit(moving, c.doctor, site_code="HH-01")),
        ("volunteer admits", NotAuthorised,
         lambda: app.admit(moving, c.volunteer, site_code="JA-02")),
        ("worker imposes", NotPermitted,
         lambda: app.admit(moving, c.worker, site_code="JA-02")),
        ("release upwards", InvalidInput,
         lambda: app.discharge(full, c.doctor, "转院", release_to=Measure.HOSPITALIZED)),
        ("release to nonsense", InvalidInput,
         lambda: app.discharge(full, c.doctor, "解除", release_to="free")),
        ("too early", ForbiddenTransition, lambda: app.discharge(full, c.doctor, "解除")),
        ("worker releases", NotPermitted, lambda: app.discharge(full, c.worker, "解除")),
        ("no discharge reason", InvalidInput, lambda: app.discharge(full, c.doctor, "")),
        ("discharge a clinic visit", ForbiddenTransition,
         lambda: app.discharge(clinic_in, c.doctor, "回家")),
        ("close a site stay", ForbiddenTransition,
         lambda: app.close_referral(full, c.doctor, "办结")),
        ("no outcome", InvalidInput, lambda: app.close_referral(clinic_in, c.doctor, " ")),
        ("cancel after admission", ForbiddenTransition,
         lambda: app.cancel_referral(full, System.AUTOMATION, "撤销")),
        ("no cancel reason", InvalidInput, lambda: app.cancel_referral(moving, c.worker, "")),
        ("unknown canceller", NotFound, lambda: app.cancel_referral(moving, nobody, "撤销")),
    ]


def test_bad_inputs_give_their_typed_error_and_write_nothing(make_app, clock: Clock):
    w = given_sites(make_app())
    cases = bad_inputs(w)
    for name, error, call in cases:
        before = last_id(w.app)
        with pytest.raises(GridcoreError) as info:
            call()
        e = info.value
        assert type(e) is error, (name, e)
        assert e.remedy.strip() and e.remedy in str(e), name
        assert last_id(w.app) == before, f"{name}: a rejected command wrote"
    # the queries refuse what is not theirs, too
    for call, error in [(lambda: w.app.open_referrals(STREET), InvalidInput),
                        (lambda: w.app.referral(uuid4()), NotFound),
                        (lambda: w.app.quarantine_site(uuid4()), NotFound),
                        (lambda: w.app.quarantine_site_by_code("NOPE"), NotFound)]:
        with pytest.raises(error):
            call()
    # and what was refused left the site and the community's desk as they were
    assert w.app.quarantine_site_by_code("HH-01").occupancy == 1
    assert w.app.quarantine_site_by_code("JA-02").occupancy == 0
    assert len(w.app.open_referrals(COMMUNITY)) == 5
