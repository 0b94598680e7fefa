"""Staffing after the grid changes (issue 15): a split or a merge carries the responsible
worker, the squad and the staff of the old micro-grids to the new ones by the rule of
``gridcore.assignment.carried_staffing``; a member is taken off a squad or moved between
squads, a micro-grid is handed to another worker; on every store."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import carried_staffing
from gridcore.authority import System
from gridcore.delivery import Item
from gridcore.errors import InvalidInput, NotPermitted
from gridcore.staff import Role
from tests.scenario import COMMUNITY, ZONES, Community, given_community

OP = System.OPERATOR
A, B, C = (f"{COMMUNITY}-{n}" for n in ("11", "12", "13"))


def enrol(app: GridcoreApp, no: str, role: Role, node: str, capacity: int = 30) -> UUID:
    app.enrol_staff(no, "某某", role, node, capacity, by=OP)
    return app.staff_by_no(no).id


def unchanged(app: GridcoreApp, error: type[Exception], call, *words: str) -> Exception:
    """The call is refused with ``error`` naming ``words`` (in its problem and remedy), and
    nothing is written."""
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as info:
        call()
    said = f"{info.value.problem} {info.value.remedy}"  # type: ignore[attr-defined]
    for w in words:
        assert w in said, said
    assert app.recorder.max_notification_id() == before
    return info.value


# ---- the rule ---------------------------------------------------------------------------------

def test_the_carry_rule() -> None:
    w1, w2, m1, m2, m3 = (uuid4() for _ in range(5))
    # a split: the one old micro-grid's worker and squad
    assert carried_staffing([(w1, [m1, m2], 6)]) == (w1, [m1, m2])
    assert carried_staffing([(None, [], 6)]) == (None, [])
    # a merge: the worker of the largest part that has one, the union of the squads in order
    assert carried_staffing([(w1, [m1], 4), (w2, [m2, m1], 9), (None, [m3], 20)]) == (
        w2, [m1, m2, m3])
    assert carried_staffing([(w1, [], 5), (w2, [], 5)]) == (w1, [])  # a tie: the first given
    assert carried_staffing([(None, [m1], 5), (w2, [], 1)]) == (w2, [m1])


# ---- a split ------------------------------------------------------------------------------------

def split_zone_one(app: GridcoreApp, c: Community) -> tuple[UUID, UUID]:
    """Zone 1 with its own grid worker (responsible) and a squad, split into A (one household)
    and B (two)."""
    worker = enrol(app, "GWZ1", Role.GRID_WORKER, ZONES[0])
    party = enrol(app, "PM1", Role.PARTY_MEMBER, COMMUNITY)
    app.assign_responsible_worker(ZONES[0], worker, by=OP)
    app.form_squad(ZONES[0], [party, c.volunteer], by=OP)
    hids = sorted(app.node(ZONES[0]).households, key=str)
    app.split_micro_grid(ZONES[0], {A: ("一区", hids[:1]), B: ("二区", hids[1:])}, by=OP)
    return worker, party


def test_a_split_gives_every_part_the_worker_the_squad_and_the_staff(app: GridcoreApp) -> None:
    c = given_community(app)
    worker, party = split_zone_one(app, c)
    for part in (A, B):
        node = app.node(part)
        assert node.responsible_worker == worker
        assert node.squad == [party, c.volunteer]
    # the grid worker of the old micro-grid now serves its community, the node holding both
    member = app.staff(worker)
    assert member.jurisdictions == (COMMUNITY,)
    assert worker in app.node(COMMUNITY).staff and not app.node(ZONES[0]).staff


def test_after_a_split_a_campaign_assigns_and_a_dispatch_finds_the_squad(
        app: GridcoreApp) -> None:
    c = given_community(app)
    worker, party = split_zone_one(app, c)
    plan = app.launch_campaign(A, 1, 3, by=OP)
    assert len(plan.items) == 1 and not plan.uncovered
    assert {i.staff_id for i in plan.items} <= {worker, party, c.volunteer}
    plan = app.launch_campaign(B, 1, 3, by=OP)
    assert len(plan.items) == 2 and not plan.uncovered
    # the carried worker may record the visit: the part lies in their jurisdiction now
    hid = plan.items[0].household_id
    app.record_visit(app.campaign_of(B, 1).id, hid, plan.items[0].method, by=worker)

    app.donate_to_scope(B, "DN-B", [Item(name="爱心菜", quantity=1)], by=OP)
    app.dispatch_deliveries(B, by=OP)
    sent = app.open_deliveries(B)
    assert len(sent) == 2 and all(set(d.staff) == {party, c.volunteer} for d in sent)


def test_the_parts_share_the_squad_until_it_is_re_formed(app: GridcoreApp) -> None:
    c = given_community(app)
    _, party = split_zone_one(app, c)
    unchanged(app, InvalidInput, lambda: app.form_squad(A, [party], by=OP),
              f"squad of {B}", "takeOffSquad", "moveSquadMember")
    app.take_off_squad(B, party, by=OP)
    app.form_squad(A, [party], by=OP)
    assert app.node(A).squad == [party] and app.node(B).squad == [c.volunteer]


# ---- a merge ------------------------------------------------------------------------------------

def test_a_merge_takes_the_largest_parts_worker_and_every_squad(app: GridcoreApp) -> None:
    c = given_community(app)
    other = enrol(app, "GWZ2", Role.GRID_WORKER, ZONES[1])
    party = enrol(app, "PM1", Role.PARTY_MEMBER, COMMUNITY)
    app.assign_responsible_worker(ZONES[0], c.worker, by=OP)
    app.assign_responsible_worker(ZONES[1], other, by=OP)
    app.form_squad(ZONES[0], [c.volunteer], by=OP)
    app.form_squad(ZONES[1], [party], by=OP)
    hid = sorted(app.node(ZONES[1]).households, key=str)[0]
    no = app.household(hid).household_no
    app.add_member(hid, new_member(no, 9, "王小五", birth_year=2015), by=OP)  # zone 2 is larger
    app.merge_micro_grids(ZONES, A, "合并片区", by=OP)
    merged = app.node(A)
    assert merged.responsible_worker == other
    assert merged.squad == [c.volunteer, party]
    assert app.staff(other).jurisdictions == (A,) and other in merged.staff
    assert app.staff(c.worker).jurisdictions == (COMMUNITY,)  # a community's worker stays
    plan = app.launch_campaign(A, 1, 3, by=OP)
    assert len(plan.items) == 6 and not plan.uncovered


def test_a_tie_goes_to_the_first_micro_grid_given(app: GridcoreApp) -> None:
    c = given_community(app)
    other = enrol(app, "GWZ2", Role.GRID_WORKER, COMMUNITY)
    app.assign_responsible_worker(ZONES[0], c.worker, by=OP)
    app.assign_responsible_worker(ZONES[1], other, by=OP)
    app.merge_micro_grids([ZONES[1], ZONES[0]], A, "合并片区", by=OP)
    assert app.node(A).responsible_worker == other


# ---- the squad and assignment changes ------------------------------------------------------------

def test_hand_a_micro_grid_to_another_worker(app: GridcoreApp) -> None:
    c = given_community(app)
    other = enrol(app, "GW2", Role.GRID_WORKER, COMMUNITY)
    unchanged(app, InvalidInput, lambda: app.hand_over_micro_grid(ZONES[0], other, by=OP),
              "no responsible worker", "assignResponsibleWorker")
    app.assign_responsible_worker(ZONES[0], c.worker, by=OP)
    app.assign_responsible_worker(ZONES[0], c.worker, by=OP)  # the same one again: no change
    unchanged(app, InvalidInput,
              lambda: app.assign_responsible_worker(ZONES[0], other, by=OP),
              "already has a responsible worker", "handOverMicroGrid")
    unchanged(app, InvalidInput, lambda: app.hand_over_micro_grid(ZONES[0], c.worker, by=OP),
              "already the responsible worker")
    unchanged(app, NotPermitted,
              lambda: app.hand_over_micro_grid(ZONES[0], c.volunteer, by=OP), "grid worker")
    app.hand_over_micro_grid(ZONES[0], other, by=OP)
    assert app.node(ZONES[0]).responsible_worker == other


def test_take_a_member_off_and_move_one_between_squads(app: GridcoreApp) -> None:
    c = given_community(app)
    party = enrol(app, "PM1", Role.PARTY_MEMBER, COMMUNITY)
    app.form_squad(ZONES[0], [c.volunteer, party], by=OP)
    unchanged(app, InvalidInput, lambda: app.take_off_squad(ZONES[1], party, by=OP),
              "does not serve", "formSquad")
    unchanged(app, InvalidInput, lambda: app.form_squad(ZONES[1], [party], by=OP),
              "takeOffSquad")
    app.take_off_squad(ZONES[0], party, by=OP)
    app.form_squad(ZONES[1], [party], by=OP)
    assert app.node(ZONES[0]).squad == [c.volunteer] and app.node(ZONES[1]).squad == [party]

    unchanged(app, InvalidInput,
              lambda: app.move_squad_member(c.volunteer, ZONES[0], ZONES[0], by=OP), "itself")
    app.move_squad_member(c.volunteer, ZONES[0], ZONES[1], by=OP)
    assert app.node(ZONES[0]).squad == [] and app.node(ZONES[1]).squad == [party, c.volunteer]


def test_a_move_the_target_refuses_changes_neither_squad(app: GridcoreApp) -> None:
    c = given_community(app)
    _, party = split_zone_one(app, c)  # the party member serves in A and B
    app.create_node(C, "三区", COMMUNITY, by=OP)
    unchanged(app, InvalidInput, lambda: app.move_squad_member(party, A, C, by=OP),
              f"squad of {B}")
    assert party in app.node(A).squad and app.node(C).squad == []
