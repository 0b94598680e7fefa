"""Staffing after the grid changes (issue 15) over a real HTTP server: a split carries the
responsible worker and the squad, so a campaign there assigns its households and a dispatch
finds the squad; a member is taken off a squad and joins another, or is moved between squads
in one step; a micro-grid is handed to another worker. A volunteer may give none of these, and
a staff member of another community finds the zones missing. Each test uses zones and staff of
its own (any order)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from gridcore.authority import System
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_COMMUNITY, World, serve_world
from tests.scenario import COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
NODES = "... on GridChanged { notificationId nodes { code retired } }"
LAUNCHED = "... on CampaignLaunched { assigned uncovered }"
DISPATCHED = "... on DeliveriesDispatched { deliveries { zoneCode state } }"
DONATED = "... on DonationPlaced { notificationId }"
SPLIT_A, SPLIT_B = f"{COMMUNITY}-11", f"{COMMUNITY}-12"
Z3, Z4, Z5, Z6 = (f"{COMMUNITY}-0{n}" for n in (3, 4, 5, 6))
INPUTS = {"launchCampaign": "LaunchCampaignInput", "donateToScope": "DonateToScopeInput",
          "dispatchDeliveries": "DispatchDeliveriesInput"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-staffing") / "gridcore.sqlite") as w:
        for code in (Z3, Z4, Z5, Z6):
            w.app.create_node(code, f"片区{code[-1]}", COMMUNITY, by=System.OPERATOR)
        for no, role, node in (("PM1", Role.PARTY_MEMBER, COMMUNITY),
                               ("V3", Role.VOLUNTEER, COMMUNITY),
                               ("V5", Role.VOLUNTEER, COMMUNITY),
                               ("GWC", Role.GRID_WORKER, COMMUNITY),
                               ("OFF713", Role.OFFICIAL, OTHER_COMMUNITY)):
            w.app.enrol_staff(no, "某某", role, node, 30, by=System.OPERATOR)
            w.staff[no] = w.app.staff_by_no(no).id
        w.caught_up()
        yield w


def mutate(world: World, field: str, success: str, staff_no: str,
           **fields: Any) -> dict[str, Any]:
    name = INPUTS.get(field, field[0].upper() + field[1:] + "Input")
    data = world.ask(f"mutation($input: {name}!) {{ {field}(input: $input) {{ __typename "
                     f"{success} {PROBLEM} }} }}", staff_no, {"input": fields})
    return dict(data[field])


def sid(world: World, staff_no: str) -> str:
    return str(world.staff[staff_no])


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def test_after_a_split_a_campaign_assigns_its_households_and_a_squad_serves(
        world: World) -> None:
    assigned = mutate(world, "assignResponsibleWorker", NODES, "OFF1",
                      microGridCode=ZONES[0], staffId=sid(world, "GWZ1"))
    assert assigned["__typename"] == "GridChanged", assigned
    formed = mutate(world, "formSquad", NODES, "OFF1", zoneCode=ZONES[0],
                    staffIds=[sid(world, "PM1")])
    assert formed["__typename"] == "GridChanged", formed
    hids = sorted(h for h, g in world.households.items() if g == ZONES[0])
    split = mutate(world, "splitMicroGrid", NODES, "OFF1", code=ZONES[0],
                   parts=[{"code": SPLIT_A, "name": "一区", "householdIds": hids[:1]},
                          {"code": SPLIT_B, "name": "二区", "householdIds": hids[1:]}])
    assert split["__typename"] == "GridChanged", split
    for part in (SPLIT_A, SPLIT_B):
        node = world.app.node(part)
        assert node.responsible_worker == world.staff["GWZ1"]
        assert node.squad == [world.staff["PM1"]]
    # the old micro-grid's own worker now serves the community, which holds both parts
    gwz1 = world.ask(f'{{ staffMember(id: "{sid(world, "GWZ1")}") {{ jurisdictionCode }} }}',
                     "OFF1")
    assert gwz1["staffMember"]["jurisdictionCode"] == COMMUNITY

    launched = mutate(world, "launchCampaign", LAUNCHED, "OFF1", scopeCode=SPLIT_B, round=1,
                      days=3)
    assert launched["__typename"] == "CampaignLaunched", launched
    assert launched["assigned"] == 2 and launched["uncovered"] == 0

    donated = mutate(world, "donateToScope", DONATED, "OFF1", scope=SPLIT_A,
                     donationNo="DN-A", items=[{"name": "爱心菜", "quantity": 1}])
    assert donated["__typename"] == "DonationPlaced", donated
    sent = mutate(world, "dispatchDeliveries", DISPATCHED, "OFF1", scope=SPLIT_A)
    assert sent["__typename"] == "DeliveriesDispatched", sent
    assert [(d["zoneCode"], d["state"]) for d in sent["deliveries"]] == [
        (SPLIT_A, "DISPATCHED")]


def test_take_a_member_off_a_squad_and_form_another_with_them(world: World) -> None:
    v3 = sid(world, "V3")
    assert mutate(world, "formSquad", NODES, "OFF1", zoneCode=Z3,
                  staffIds=[v3])["__typename"] == "GridChanged"
    written = last(world)
    busy = mutate(world, "formSquad", NODES, "OFF1", zoneCode=Z4, staffIds=[v3])
    assert busy["__typename"] == "InvalidInputProblem", busy
    assert "takeOffSquad" in busy["remedy"] and "moveSquadMember" in busy["remedy"]
    assert "_" not in busy["remedy"]  # a mutation, not a Python function
    assert last(world) == written
    off = mutate(world, "takeOffSquad", NODES, "OFF1", zoneCode=Z3, staffId=v3,
                 clientId="off1:take-off-v3")
    assert off["__typename"] == "GridChanged" and off["nodes"][0]["code"] == Z3
    again = mutate(world, "takeOffSquad", NODES, "OFF1", zoneCode=Z3, staffId=v3,
                   clientId="off1:take-off-v3")
    assert again["__typename"] == "GridChanged"  # a retry is applied once
    assert world.app.node(Z3).squad == []
    formed = mutate(world, "formSquad", NODES, "OFF1", zoneCode=Z4, staffIds=[v3])
    assert formed["__typename"] == "GridChanged", formed
    assert world.app.node(Z4).squad == [world.staff["V3"]]


def test_move_a_member_between_squads_in_one_step(world: World) -> None:
    v5 = sid(world, "V5")
    assert mutate(world, "formSquad", NODES, "OFF1", zoneCode=Z5,
                  staffIds=[v5])["__typename"] == "GridChanged"
    moved = mutate(world, "moveSquadMember", NODES, "OFF1", staffId=v5, fromZoneCode=Z5,
                   zoneCode=Z6)
    assert moved["__typename"] == "GridChanged", moved
    assert sorted(n["code"] for n in moved["nodes"]) == [Z5, Z6]
    assert world.app.node(Z5).squad == [] and world.app.node(Z6).squad == [world.staff["V5"]]
    written = last(world)
    gone = mutate(world, "moveSquadMember", NODES, "OFF1", staffId=v5, fromZoneCode=Z5,
                  zoneCode=Z6)
    assert gone["__typename"] == "InvalidInputProblem" and "formSquad" in gone["remedy"]
    assert last(world) == written


def test_hand_a_micro_grid_to_another_worker(world: World) -> None:
    assert mutate(world, "assignResponsibleWorker", NODES, "OFF1", microGridCode=ZONES[1],
                  staffId=sid(world, "GWZ2"))["__typename"] == "GridChanged"
    written = last(world)
    taken = mutate(world, "assignResponsibleWorker", NODES, "OFF1", microGridCode=ZONES[1],
                   staffId=sid(world, "GWC"))
    assert taken["__typename"] == "InvalidInputProblem", taken
    assert "handOverMicroGrid" in taken["remedy"] and last(world) == written
    handed = mutate(world, "handOverMicroGrid", NODES, "OFF1", microGridCode=ZONES[1],
                    staffId=sid(world, "GWC"))
    assert handed["__typename"] == "GridChanged", handed
    assert world.app.node(ZONES[1]).responsible_worker == world.staff["GWC"]


REFUSABLE = [
    ("takeOffSquad", {"zoneCode": Z3, "staffId": "V3"}),
    ("moveSquadMember", {"staffId": "V5", "fromZoneCode": Z5, "zoneCode": Z6}),
    ("handOverMicroGrid", {"microGridCode": ZONES[1], "staffId": "GWC"}),
]


@pytest.mark.parametrize(("field", "fields"), REFUSABLE, ids=[f for f, _ in REFUSABLE])
def test_a_volunteer_and_staff_of_another_community_are_refused(
        world: World, field: str, fields: dict[str, str]) -> None:
    given = {k: (sid(world, v) if k == "staffId" else v) for k, v in fields.items()}
    written = last(world)
    volunteer = mutate(world, field, NODES, "VOL1", **given)
    assert volunteer["__typename"] == "NotPermittedProblem", volunteer
    assert volunteer["code"] == "NOT_PERMITTED"
    for outsider in ("OFF713", "GW713"):
        outside = mutate(world, field, NODES, outsider, **given)
        assert outside["code"] in ("NOT_FOUND", "NOT_PERMITTED"), (outsider, outside)
    assert mutate(world, field, NODES, "OFF713", **given)["code"] == "NOT_FOUND"
    assert last(world) == written


def test_a_communitys_squads_and_workers_set_up_at_once(world: World) -> None:
    for no, role in (("V7", Role.VOLUNTEER), ("PM7", Role.PARTY_MEMBER),
                     ("GW7", Role.GRID_WORKER)):  # staff of this test's own
        world.app.enrol_staff(no, "某某", role, COMMUNITY, 30, by=System.OPERATOR)
        world.staff[no] = world.app.staff_by_no(no).id
    z5, z6, v5, pm1, gwc = Z5, Z6, sid(world, "V7"), sid(world, "PM7"), sid(world, "GW7")
    written = last(world)
    # one refused refuses them all, and says why
    twice = mutate(world, "formSquads", NODES, "OFF1",
                   squads=[{"zoneCode": z5, "staffIds": [v5]}, {"zoneCode": z5, "staffIds": []}])
    assert twice["__typename"] == "InvalidInputProblem" and "listed twice" in twice["problem"]
    both = mutate(world, "formSquads", NODES, "OFF1",
                  squads=[{"zoneCode": z5, "staffIds": [v5]}, {"zoneCode": z6, "staffIds": [v5]}])
    assert both["__typename"] == "InvalidInputProblem", both
    assert f"both {z5} and {z6}" in both["problem"] and "once" in both["remedy"]
    not_worker = mutate(world, "assignResponsibleWorkers", NODES, "OFF1", assignments=[
        {"microGridCode": z5, "staffId": gwc}, {"microGridCode": z6, "staffId": v5}])
    assert not_worker["__typename"] == "NotPermittedProblem", not_worker
    assert last(world) == written

    # a volunteer may staff nothing; another community's official finds the zones missing
    volunteer = mutate(world, "formSquads", NODES, "V5",
                       squads=[{"zoneCode": z5, "staffIds": [v5]}])
    assert volunteer["__typename"] == "NotPermittedProblem", volunteer
    outside = mutate(world, "assignResponsibleWorkers", NODES, "OFF713",
                     assignments=[{"microGridCode": z5, "staffId": gwc}])
    assert outside["__typename"] == "NotFoundProblem", outside
    assert last(world) == written

    formed = mutate(world, "formSquads", NODES, "OFF1", clientId="off1:squads-z5-z6",
                    squads=[{"zoneCode": z5, "staffIds": [v5]},
                            {"zoneCode": z6, "staffIds": [pm1]}])
    assert formed["__typename"] == "GridChanged", formed
    assert [n["code"] for n in formed["nodes"]] == [z5, z6]
    # two squads and the client id's record, in one transaction
    assert formed["notificationId"] == last(world) == written + 3
    assert (world.app.node(z5).squad, world.app.node(z6).squad) == (
        [world.staff["V7"]], [world.staff["PM7"]])
    again = mutate(world, "formSquads", NODES, "OFF1", clientId="off1:squads-z5-z6",
                   squads=[{"zoneCode": z5, "staffIds": [v5]},
                           {"zoneCode": z6, "staffIds": [pm1]}])
    assert again["__typename"] == "GridChanged" and last(world) == written + 3

    assigned = mutate(world, "assignResponsibleWorkers", NODES, "OFF1", assignments=[
        {"microGridCode": z5, "staffId": gwc}, {"microGridCode": z6, "staffId": gwc}])
    assert assigned["__typename"] == "GridChanged", assigned
    assert [world.app.node(z).responsible_worker for z in (z5, z6)] == [world.staff["GW7"]] * 2


BUILDINGS = ("... on BuildingsRegistered { notificationId communityCode "
             "buildings { id number } }")


def test_a_communitys_micro_grids_and_buildings_laid_out_at_once(world: World) -> None:
    new = [{"code": f"{COMMUNITY}-2{n}", "name": f"新片区{n}"} for n in (1, 2)]
    written = last(world)
    twice = mutate(world, "createNodes", NODES, "OFF1", parentCode=COMMUNITY,
                   nodes=[*new, new[0]])
    assert twice["__typename"] == "InvalidInputProblem" and "listed twice" in twice["problem"]
    outside = mutate(world, "createNodes", NODES, "OFF713", parentCode=COMMUNITY, nodes=new)
    assert outside["__typename"] == "NotFoundProblem", outside
    assert last(world) == written
    made = mutate(world, "createNodes", NODES, "OFF1", parentCode=COMMUNITY, nodes=new)
    assert made["__typename"] == "GridChanged", made
    assert [n["code"] for n in made["nodes"]] == [n["code"] for n in new] + [COMMUNITY]
    assert [world.app.node(n["code"]).name for n in new] == ["新片区1", "新片区2"]

    buildings = [{"number": "B21", "floors": 9, "lng": 114.30, "lat": 30.60},
                 {"number": "B22", "name": "二十二栋"}]
    bad = mutate(world, "registerBuildings", BUILDINGS, "OFF1", communityCode=COMMUNITY,
                 buildings=[*buildings, {"number": "B23", "lng": 114.3}])
    assert bad["__typename"] == "InvalidInputProblem" and "latitude" in bad["problem"], bad
    volunteer = mutate(world, "registerBuildings", BUILDINGS, "V3", communityCode=COMMUNITY,
                       buildings=buildings)
    assert volunteer["__typename"] == "NotPermittedProblem", volunteer
    before = last(world)
    done = mutate(world, "registerBuildings", BUILDINGS, "OFF1", communityCode=COMMUNITY,
                  buildings=buildings, crs="GCJ02")
    assert done["__typename"] == "BuildingsRegistered", done
    assert done["notificationId"] == last(world) == before + 3  # two buildings, one point
    assert [b["number"] for b in done["buildings"]] == ["B21", "B22"]
    b21 = world.app.building(UUID(done["buildings"][0]["id"]))
    assert b21.floors == 9 and b21.point is not None
    assert (round(b21.point.lng, 2), round(b21.point.lat, 2)) != (114.30, 30.60)  # from GCJ-02
    assert world.app.building(UUID(done["buildings"][1]["id"])).name == "二十二栋"
