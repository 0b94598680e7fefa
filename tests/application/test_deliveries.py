"""Deliveries to the door (配送到户): orders bought centrally, donations to every household,
protective material for enterprises; dispatch priority, failures and redelivery, the overdue
tick, sealed scopes and the households gone without a delivery; bad inputs on every store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.delivery import (
    Delivery,
    DeliveryKind,
    DeliveryState,
    Item,
    Waiting,
    delivery_id,
    dispatch_order,
    household_priority,
    purchase_totals,
    without_delivery,
)
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotFound,
)
from gridcore.household import Household, household_id
from gridcore.staff import Role
from gridcore.status import Measure
from tests.scenario import COMMUNITY, STREET, ZONES, Community, given_community

RICE = Item(name="大米", quantity=5, unit="kg")
OIL = Item(name="菜籽油", quantity=1, unit="桶")
VEG = Item(name="爱心菜", quantity=1, unit="份")


@dataclass
class Setup:
    c: Community
    young: list[UUID]  # one household per zone whose only member is 35: not vulnerable
    lead: UUID
    party: UUID


def given_deliveries(app: GridcoreApp) -> Setup:
    """The 712 community with a duty lead and one squad per zone."""
    c = given_community(app, households_per_zone=2)
    young = []
    for z, zone in enumerate(ZONES, start=1):
        no = f"712-{z}-9"
        app.register_household(no, zone, f"{z}栋901", [new_member(no, 1, "小王", None, None,
                                                                 1985)], by=System.OPERATOR)
        young.append(household_id(no))
    app.enrol_staff("DL1", "总值班老李", Role.DUTY_LEAD, COMMUNITY, 0, by=System.OPERATOR)
    app.enrol_staff("PM1", "党员小张", Role.PARTY_MEMBER, COMMUNITY, 30, by=System.OPERATOR)
    party = app.staff_by_no("PM1").id
    app.form_squad(ZONES[0], [c.volunteer], by=System.OPERATOR)
    app.form_squad(ZONES[1], [party], by=System.OPERATOR)
    return Setup(c, young, app.staff_by_no("DL1").id, party)


def order(no: str) -> UUID:
    return delivery_id(DeliveryKind.ORDER, no)


# ---- the lifecycle -------------------------------------------------------------------------------

def test_an_order_goes_from_the_platform_through_the_central_purchase_to_the_door(app, clock):
    s = given_deliveries(app)
    t0 = clock.now
    app.place_order(s.young[0], "TG-1", [RICE, OIL], by=System.OPERATOR)
    d = app.delivery(order("TG-1"))
    assert (d.state, d.kind, d.household_id, d.desk) == (
        DeliveryState.ORDERED, DeliveryKind.ORDER, s.young[0], COMMUNITY)
    with pytest.raises(InvalidInput, match="No delivery is ready"):
        app.dispatch_deliveries(COMMUNITY, by=System.OPERATOR)

    clock.advance(hours=2)
    app.batch_purchase(COMMUNITY, s.lead)
    d = app.delivery(order("TG-1"))
    assert (d.state, d.batch_no, d.ready_since) == (DeliveryState.READY, 1, t0 + timedelta(hours=2))
    assert app.purchase_batch(COMMUNITY, 1).order_ids == [d.id]

    clock.advance(hours=1)
    app.dispatch_deliveries(COMMUNITY, by=System.OPERATOR)
    d = app.delivery(order("TG-1"))
    assert (d.state, d.staff, d.zone, d.attempts) == (
        DeliveryState.DISPATCHED, [s.c.volunteer], ZONES[0], 1)
    assert d.due == clock.now + timedelta(hours=24)
    assert app.delivery_desk(COMMUNITY).due == {d.id: d.due}

    clock.advance(hours=3)
    handed = clock.now - timedelta(hours=1)
    app.confirm_delivery(d.id, s.c.volunteer, handed)
    d = app.delivery(order("TG-1"))
    assert (d.state, d.delivered_at, d.delivered_by) == (
        DeliveryState.DELIVERED, handed, s.c.volunteer)
    desk = app.delivery_desk(COMMUNITY)
    assert desk.open == set() and desk.due == {}
    assert desk.last_delivered == {s.young[0]: handed}
    assert app.open_deliveries(COMMUNITY) == []


def test_the_central_purchase_sums_the_orders_and_takes_only_open_orders(app):
    s = given_deliveries(app)
    half = Item(name="大米", quantity=2.5, unit="kg")
    app.place_order(s.young[0], "TG-1", [RICE, OIL], by=System.OPERATOR)
    app.place_order(s.young[1], "TG-2", [half], by=System.OPERATOR)
    app.place_order(s.c.households[0], "TG-3", [RICE], by=System.OPERATOR)
    app.batch_purchase(COMMUNITY, s.lead, [order("TG-1"), order("TG-2")])
    assert purchase_totals([[RICE, OIL], [half]]) == [
        Item(name="大米", quantity=7.5, unit="kg"), OIL]
    batch = app.purchase_batch(COMMUNITY, 1)
    assert batch.totals == [Item(name="大米", quantity=7.5, unit="kg"), OIL]
    assert batch.by == s.lead
    app.batch_purchase(COMMUNITY, s.lead)
    assert app.purchase_batch(COMMUNITY, 2).order_ids == [order("TG-3")]
    assert app.delivery(order("TG-3")).batch_no == 2


def test_a_donation_reaches_every_household_of_the_scope_free(app):
    s = given_deliveries(app)
    app.donate_to_scope(ZONES[1], "AX-1", [VEG], donor="爱心企业", by=System.OPERATOR)
    zone_households = sorted(app.node(ZONES[1]).households, key=str)
    made = [app.delivery(delivery_id(DeliveryKind.DONATION,
                                     f"AX-1/{app.household(h).household_no}"))
            for h in zone_households]
    assert {d.household_id for d in made} == set(zone_households) and len(made) == 3
    assert all(d.state is DeliveryState.READY and d.donor == "爱心企业" for d in made)
    assert {d.id for d in app.open_deliveries(ZONES[1])} == {d.id for d in made}
    assert app.open_deliveries(ZONES[0]) == []

    app.donate_to_scope(COMMUNITY, "AX-2", [VEG], by=System.OPERATOR)
    assert len(app.open_deliveries(COMMUNITY)) == 3 + 6
    app.dispatch_deliveries(ZONES[1], by=System.OPERATOR)
    assert {d.state for d in app.open_deliveries(ZONES[1])} == {DeliveryState.DISPATCHED}
    assert {d.state for d in app.open_deliveries(ZONES[0])} == {DeliveryState.READY}
    assert all(d.staff == [s.party] for d in app.open_deliveries(ZONES[1]))


def test_protective_material_goes_to_an_enterprise_through_its_zone(app):
    s = given_deliveries(app)
    app.enrol_staff("ES1", "企业专员", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0, by=System.OPERATOR)
    app.register_enterprise("91420102MA4KXXXX1A", "汉口制衣厂", "经信局", ZONES[0],
                            app.staff_by_no("ES1").id, by=System.OPERATOR)
    eid = app.enterprise_by_code("91420102MA4KXXXX1A").id
    app.supply_enterprise(eid, "FH-1", [Item(name="口罩", quantity=500, unit="只")],
                          by=System.OPERATOR)
    d = app.delivery(delivery_id(DeliveryKind.SUPPLY, "FH-1"))
    assert (d.state, d.enterprise_id, d.household_id) == (DeliveryState.READY, eid, None)
    app.dispatch_deliveries(ZONES[0], by=System.OPERATOR)
    d = app.delivery(d.id)
    assert (d.state, d.zone, d.staff) == (DeliveryState.DISPATCHED, ZONES[0], [s.c.volunteer])


def test_quarantined_then_vulnerable_households_are_dispatched_first(app, clock):
    s = given_deliveries(app)
    # ordered first by a young household; then a vulnerable one; then a young one that is
    # under home quarantine
    app.place_order(s.young[0], "TG-young", [RICE], by=System.OPERATOR)
    clock.advance(minutes=1)
    app.place_order(s.c.households[0], "TG-old", [RICE], by=System.OPERATOR)
    clock.advance(minutes=1)
    app.place_order(s.young[1], "TG-quarantined", [RICE], by=System.OPERATOR)
    h = app.household(s.young[1])
    app.change_measure(h.id, next(iter(h.residents)), Measure.HOME_QUARANTINE, s.c.worker,
                       "密接 close contact")
    app.batch_purchase(COMMUNITY, s.lead)

    app.dispatch_deliveries(COMMUNITY, limit=2, by=System.OPERATOR)
    quarantined, old = app.delivery(order("TG-quarantined")), app.delivery(order("TG-old"))
    assert (quarantined.state, old.state) == (DeliveryState.DISPATCHED,) * 2
    assert app.delivery(order("TG-young")).state is DeliveryState.READY
    events = [list(app.events.get(d.id))[-1] for d in (quarantined, old)]
    assert [(e.run_no, e.position) for e in events] == [(1, 1), (1, 2)]
    app.dispatch_deliveries(COMMUNITY, by=System.OPERATOR)
    last = list(app.events.get(order("TG-young")))[-1]
    assert isinstance(last, Delivery.Dispatched) and (last.run_no, last.position) == (2, 1)


def test_dispatch_order_is_a_rule_of_the_time_it_is_asked(clock):
    def household(no: str, born: int, measure: Measure = Measure.NONE) -> Household:
        h = Household.register(no, ZONES[0], "1栋101", [new_member(no, 1, "居民", None, None,
                                                                      born)], clock.now)
        rid = next(iter(h.residents))
        h.residents[rid].measure = measure
        return h

    t0 = clock.now  # 2020
    turning_65 = household("A", 1955)  # 65 in 2020, 64 in 2019
    young = household("B", 1990)
    observed = household("C", 1990, Measure.HOME_OBSERVATION)
    assert household_priority(observed, t0.date()) == 0
    assert household_priority(turning_65, t0.date()) == 1
    assert household_priority(turning_65, t0.date().replace(year=2019)) == 2
    assert household_priority(None, t0.date()) == 2
    ids = [UUID(int=i) for i in range(4)]
    waiting = [Waiting(ids[0], t0, young), Waiting(ids[1], t0 + timedelta(hours=1), turning_65),
               Waiting(ids[2], t0 + timedelta(hours=2), observed),
               Waiting(ids[3], t0 - timedelta(hours=1), None)]
    assert dispatch_order(waiting, t0) == [ids[2], ids[1], ids[3], ids[0]]
    assert dispatch_order(waiting, t0.replace(year=2019)) == [ids[2], ids[3], ids[0], ids[1]]
    # a household of a sealed zone (封控区) cannot go out either: first, with the quarantined
    assert household_priority(young, t0.date(), sealed=True) == 0
    sealed = [*waiting[:3], Waiting(ids[3], t0 + timedelta(hours=3), young, sealed=True)]
    assert dispatch_order(sealed, t0) == [ids[2], ids[3], ids[1], ids[0]]


def test_a_failed_delivery_is_sent_again_and_then_delivered(app, clock):
    s = given_deliveries(app)
    app.donate_to_scope(ZONES[0], "AX-1", [VEG], by=System.OPERATOR)
    app.dispatch_deliveries(ZONES[0], by=System.OPERATOR)
    did = delivery_id(DeliveryKind.DONATION, "AX-1/712-1-9")
    app.report_failed_delivery(did, "无人应答 nobody answered", by=s.c.volunteer)
    d = app.delivery(did)
    assert (d.state, d.failures) == (DeliveryState.FAILED, ["无人应答 nobody answered"])
    assert did not in app.delivery_desk(COMMUNITY).due
    with pytest.raises(ForbiddenTransition):
        app.confirm_delivery(did, s.c.volunteer)

    clock.advance(hours=2)
    app.redeliver(did, [s.party], by=System.OPERATOR)
    d = app.delivery(did)
    assert (d.state, d.attempts, d.staff) == (DeliveryState.DISPATCHED, 2, [s.party])
    assert app.delivery_desk(COMMUNITY).due[did] == clock.now + timedelta(hours=24)
    app.confirm_delivery(did, s.party)
    assert app.delivery(did).state is DeliveryState.DELIVERED


def test_the_tick_records_each_overdue_dispatch_once(app, clock):
    s = given_deliveries(app)
    app.donate_to_scope(ZONES[0], "AX-1", [VEG], by=System.OPERATOR)
    app.dispatch_deliveries(ZONES[0], by=System.OPERATOR)
    ids = sorted(app.delivery_desk(COMMUNITY).due, key=str)
    assert len(ids) == 3
    app.confirm_delivery(ids[0], s.c.volunteer)
    assert app.tick_deliveries(clock.now + timedelta(hours=23)) == 0

    late = clock.advance(hours=24)
    before = app.recorder.max_notification_id()
    assert app.tick()["deliveries"] == 2
    assert app.tick_deliveries(late) == 0 and app.tick_deliveries(late + timedelta(days=3)) == 0
    overdue = [e for i in ids[1:] for e in app.events.get(i) if isinstance(e, Delivery.Overdue)]
    assert len(overdue) == 2 and app.recorder.max_notification_id() > before
    assert app.delivery(ids[1]).overdue and app.delivery(ids[1]).state is DeliveryState.DISPATCHED
    assert not app.delivery(ids[0]).overdue

    # a late delivery is still confirmed; a redelivery can become overdue again, once
    app.confirm_delivery(ids[1], s.c.volunteer)
    app.report_failed_delivery(ids[2], "搬走 moved away", by=s.c.volunteer)
    app.redeliver(ids[2], by=System.OPERATOR)
    assert not app.delivery(ids[2]).overdue
    clock.advance(hours=25)
    assert app.tick_deliveries(clock.now) == 1
    assert app.tick_deliveries(clock.now) == 0


# ---- sealed scopes -------------------------------------------------------------------------------

def test_the_households_of_a_sealed_scope_gone_days_without_a_delivery(app, clock):
    s = given_deliveries(app)
    t0 = clock.now
    with pytest.raises(InvalidInput, match="not sealed"):
        app.households_without_delivery(COMMUNITY, 3)
    app.seal_scope(COMMUNITY, t0, by=System.OPERATOR)
    everyone = set(app.node(ZONES[0]).households) | set(app.node(ZONES[1]).households)
    assert app.households_without_delivery(COMMUNITY, 3, t0 + timedelta(days=3)) != []
    assert app.households_without_delivery(COMMUNITY, 3, t0 + timedelta(days=2)) == []

    clock.advance(days=1)
    app.place_order(s.young[0], "TG-1", [RICE], by=System.OPERATOR)
    app.batch_purchase(COMMUNITY, s.lead)
    app.dispatch_deliveries(COMMUNITY, by=System.OPERATOR)
    app.confirm_delivery(order("TG-1"), s.c.volunteer)
    delivered = clock.now

    at = t0 + timedelta(days=3)
    missing = app.households_without_delivery(COMMUNITY, 3, at)
    assert set(missing) == everyone - {s.young[0]}
    assert set(app.households_without_delivery(ZONES[1], 3, at)) == set(
        app.node(ZONES[1]).households)  # a zone of a sealed community is sealed
    at = delivered + timedelta(days=3)
    assert set(app.households_without_delivery(COMMUNITY, 3, at)) == everyone
    # longest gap first: the household served on day 1 comes last
    assert app.households_without_delivery(COMMUNITY, 3, at)[-1] == s.young[0]


def test_time_before_the_seal_does_not_count(app, clock):
    given_deliveries(app)
    t0 = clock.now
    app.seal_scope(ZONES[0], t0 + timedelta(days=2), by=System.OPERATOR)
    assert app.scope_sealed_since(ZONES[0], t0) is None
    assert app.scope_sealed_since(ZONES[0], t0 + timedelta(days=2)) == t0 + timedelta(days=2)
    assert app.households_without_delivery(ZONES[0], 3, t0 + timedelta(days=4)) == []
    assert len(app.households_without_delivery(ZONES[0], 3, t0 + timedelta(days=5))) == 3
    with pytest.raises(InvalidInput, match="not sealed"):  # only one zone is sealed
        app.households_without_delivery(COMMUNITY, 3, t0 + timedelta(days=5))


def test_without_delivery_is_a_pure_rule(clock):
    t0 = clock.now
    a, b, c = (UUID(int=i) for i in range(3))
    last = {a: None, b: t0 + timedelta(days=1), c: t0 - timedelta(days=9)}
    assert without_delivery(last, t0, 2, t0 + timedelta(days=2)) == [a, c]
    assert without_delivery(last, t0, 2, t0 + timedelta(days=3)) == [a, c, b]
    with pytest.raises(InvalidInput):
        without_delivery(last, t0, 0, t0)


# ---- bad inputs, on every store ------------------------------------------------------------------

def _bad_cases(app: GridcoreApp, s: Setup) -> list[tuple[str, type[GridcoreError],
                                                         Callable[[], object]]]:
    nobody = UUID(int=7)
    zone3 = f"{COMMUNITY}-03"
    op = System.OPERATOR
    return [
        ("order: unknown household", NotFound,
         lambda: app.place_order(nobody, "TG-9", [RICE], by=op)),
        ("order: no items", InvalidInput, lambda: app.place_order(s.young[0], "TG-9", [], by=op)),
        ("order: negative quantity", InvalidInput, lambda: app.place_order(
            s.young[0], "TG-9", [Item(name="大米", quantity=-1)], by=op)),
        ("order: item twice", InvalidInput,
         lambda: app.place_order(s.young[0], "TG-9", [RICE, RICE], by=op)),
        ("order: blank number", InvalidInput,
         lambda: app.place_order(s.young[0], " ", [RICE], by=op)),
        ("order: number reused", DuplicateCode,
         lambda: app.place_order(s.young[1], "TG-1", [RICE], by=op)),
        ("donation: unknown scope", NotFound,
         lambda: app.donate_to_scope("nowhere", "AX-9", [VEG], by=op)),
        ("donation: number reused", DuplicateCode,
         lambda: app.donate_to_scope(ZONES[0], "AX-1", [VEG], by=op)),
        ("donation: empty zone", InvalidInput,
         lambda: app.donate_to_scope(zone3, "AX-9", [VEG], by=op)),
        ("supply: unknown enterprise", NotFound,
         lambda: app.supply_enterprise(nobody, "FH-9", [RICE], by=op)),
        ("batch: not the duty lead", NotAuthorised, lambda: app.batch_purchase(COMMUNITY,
                                                                                s.c.volunteer)),
        ("batch: unknown staff", NotFound, lambda: app.batch_purchase(COMMUNITY, nobody)),
        ("batch: a zone", InvalidInput, lambda: app.batch_purchase(ZONES[0], s.lead)),
        ("batch: nothing open", InvalidInput, lambda: app.batch_purchase(COMMUNITY, s.lead)),
        ("batch: not an order", InvalidInput, lambda: app.batch_purchase(
            COMMUNITY, s.lead, [delivery_id(DeliveryKind.DONATION, "AX-1/712-1-0")])),
        ("dispatch: unknown scope", NotFound,
         lambda: app.dispatch_deliveries("nowhere", by=op)),
        ("dispatch: limit 0", InvalidInput,
         lambda: app.dispatch_deliveries(COMMUNITY, limit=0, by=op)),
        ("dispatch: nothing ready", InvalidInput,
         lambda: app.dispatch_deliveries(ZONES[1], by=op)),
        ("dispatch: unknown staff", NotFound,
         lambda: app.dispatch_deliveries(ZONES[0], [nobody], by=op)),
        ("confirm: unknown delivery", NotFound, lambda: app.confirm_delivery(nobody, s.party)),
        ("confirm: not dispatched", ForbiddenTransition, lambda: app.confirm_delivery(
            order("TG-1"), s.party)),
        ("confirm: unknown staff", NotFound, lambda: app.confirm_delivery(order("TG-1"), nobody)),
        ("fail: not dispatched", ForbiddenTransition, lambda: app.report_failed_delivery(
            order("TG-1"), "无人", by=s.party)),
        ("redeliver: not failed", ForbiddenTransition,
         lambda: app.redeliver(order("TG-1"), by=op)),
        ("seal: a street", InvalidInput, lambda: app.seal_scope(STREET, by=op)),
        ("seal: twice", InvalidInput, lambda: app.seal_scope(ZONES[1], by=op)),
        ("seal: naive time", InvalidInput, lambda: app.seal_scope(
            ZONES[0], app.clock().replace(tzinfo=None), by=op)),
    ]


def test_bad_inputs_give_typed_errors_and_write_nothing(app):
    s = given_deliveries(app)
    app.place_order(s.young[0], "TG-1", [RICE], by=System.OPERATOR)
    app.batch_purchase(COMMUNITY, s.lead)
    zone3, zone4 = f"{COMMUNITY}-03", f"{COMMUNITY}-04"
    app.create_node(zone3, "第3片区", COMMUNITY, by=System.OPERATOR)
    app.create_node(zone4, "第4片区", COMMUNITY, by=System.OPERATOR)  # a zone without a squad
    app.register_household("712-4-1", zone4, "4栋101", [new_member("712-4-1", 1, "周七")],
                           by=System.OPERATOR)
    app.donate_to_scope(zone4, "AX-4", [VEG], by=System.OPERATOR)
    app.donate_to_scope(ZONES[0], "AX-1", [VEG], by=System.OPERATOR)
    app.seal_scope(ZONES[1], by=System.OPERATOR)
    # a dispatched delivery, for the confirm/fail cases
    app.donate_to_scope(ZONES[1], "AX-2", [VEG], by=System.OPERATOR)
    app.dispatch_deliveries(ZONES[1], by=System.OPERATOR)
    dispatched = delivery_id(DeliveryKind.DONATION, "AX-2/712-2-9")
    cases = [
        *_bad_cases(app, s),
        ("confirm: in the future", InvalidInput, lambda: app.confirm_delivery(
            dispatched, s.party, app.clock() + timedelta(minutes=5))),
        ("confirm: before dispatch", InvalidInput, lambda: app.confirm_delivery(
            dispatched, s.party, app.clock() - timedelta(minutes=5))),
        ("fail: no reason", InvalidInput,
         lambda: app.report_failed_delivery(dispatched, " ", by=s.party)),
        ("dispatch: no squad", InvalidInput,
         lambda: app.dispatch_deliveries(zone4, by=System.OPERATOR)),
    ]
    for name, error, call in cases:
        before = app.recorder.max_notification_id()
        with pytest.raises(GridcoreError) as info:
            call()
            pytest.fail(f"{name}: accepted")
        assert type(info.value) is error, f"{name}: {info.value!r}"
        assert info.value.remedy.strip(), name
        assert app.recorder.max_notification_id() == before, f"{name} wrote"


def test_a_second_application_reads_the_same_deliveries_and_desk(make_app, clock):
    app = make_app()
    s = given_deliveries(app)
    app.seal_scope(COMMUNITY, by=System.OPERATOR)
    app.place_order(s.young[0], "TG-1", [RICE, OIL], by=System.OPERATOR)
    app.batch_purchase(COMMUNITY, s.lead)
    app.donate_to_scope(ZONES[1], "AX-1", [VEG], by=System.OPERATOR)
    app.dispatch_deliveries(COMMUNITY, by=System.OPERATOR)
    app.confirm_delivery(order("TG-1"), s.c.volunteer)
    app.report_failed_delivery(delivery_id(DeliveryKind.DONATION, "AX-1/712-2-9"), "无人应答",
                               by=s.party)
    clock.advance(hours=30)
    assert app.tick_deliveries(clock.now) == 2
    second = make_app()
    ids = [*app.delivery_desk(COMMUNITY).open, order("TG-1")]
    for aid in [*ids, app.delivery_desk(COMMUNITY).id]:
        first, again = app.repository.get(aid), second.repository.get(aid)
        assert {k: v for k, v in vars(first).items() if k != "_pending"} == {
            k: v for k, v in vars(again).items() if k != "_pending"}
