"""Administrative mutations over a real HTTP server: the grid tree, staff, the register and the
policy. Each returns its success type or a typed problem, writes nothing when refused, answers
a target outside the caller's jurisdiction exactly as a missing one, refuses a role that may
not give the order, applies a retried clientId once, and never quotes personal input back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from gridcore.authority import System
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.scenario import CITY, COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
NODES = "... on GridChanged { notificationId nodes { code name level retired parent { code } } }"
STAFF = ("... on StaffChanged { notificationId staffMember { id staffNo role available "
         "dailyCapacity phone jurisdictionCode } }")
HOUSEHOLD = ("... on HouseholdChanged { notificationId household { id microGridCode "
             "residents { id phone idNumber tags } } }")


def document(field: str, success: str) -> str:
    kind = field[0].upper() + field[1:]
    name = {"reassignWorkOf": "ReassignWork"}.get(field, kind)
    return (f"mutation($input: {name}Input!) {{ {field}(input: $input) {{ __typename "
            f"{success} {PROBLEM} }} }}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-admin") / "gridcore.sqlite") as w:
        for no, role, node in (("CITY1", Role.OFFICIAL, CITY),
                               ("LEAD1", Role.DUTY_LEAD, COMMUNITY)):
            w.app.enrol_staff(no, "某某", role, node, 0, by=System.OPERATOR)
            w.staff[no] = w.app.staff_by_no(no).id
        w.caught_up()
        yield w


def mutate(world: World, field: str, success: str, staff_no: str | None,
           **fields: Any) -> dict[str, Any]:
    data = world.ask(document(field, success), staff_no, {"input": fields})
    return dict(data[field])


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def same_words(outside: dict[str, Any], missing: dict[str, Any], theirs: str,
               absent: str) -> None:
    """Outside the jurisdiction reads exactly like missing (the id aside)."""
    assert outside["__typename"] == missing["__typename"] == "NotFoundProblem"
    assert outside["code"] == missing["code"] == "NOT_FOUND"
    assert outside["problem"].replace(theirs, "X") == missing["problem"].replace(absent, "X")
    assert outside["remedy"] == missing["remedy"]


def resident_ids(world: World, hid: str) -> list[str]:
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id }} }} }}', "OFF1")
    return [r["id"] for r in data["household"]["residents"]]


def zone_household(world: World, zone: str, index: int) -> str:
    return sorted(h for h, g in world.households.items() if g == zone)[index]


# ---- the grid tree ----------------------------------------------------------------------------

def test_create_rename_and_retire_a_node_read_back_and_a_retry_is_applied_once(
        world: World) -> None:
    code = f"{COMMUNITY}-03"
    made = mutate(world, "createNode", NODES, "OFF1", code=code, name="第3片区",
                  parentCode=COMMUNITY, clientId="off1:create-03")
    assert made["__typename"] == "GridChanged"
    nodes = {n["code"]: n for n in made["nodes"]}
    assert nodes[code] == {"code": code, "name": "第3片区", "level": "MICRO_GRID",
                           "retired": False, "parent": {"code": COMMUNITY}}
    written = last(world)
    again = mutate(world, "createNode", NODES, "OFF1", code=code, name="第3片区",
                   parentCode=COMMUNITY, clientId="off1:create-03")
    assert again["__typename"] == "GridChanged" and last(world) == written

    renamed = mutate(world, "renameNode", NODES, "OFF1", code=code, name="新3片区")
    assert renamed["nodes"][0]["name"] == "新3片区"
    children = world.ask(
        f'{{ node: gridNode(code: "{COMMUNITY}") {{ children {{ code }} }} }}', "OFF1")
    assert code in [c["code"] for c in children["node"]["children"]]

    retired = mutate(world, "retireNode", NODES, "OFF1", code=code, reason="并入第1片区")
    assert retired["__typename"] == "GridChanged"
    assert retired["nodes"][0]["retired"] is True
    children = world.ask(
        f'{{ node: gridNode(code: "{COMMUNITY}") {{ children {{ code }} }} }}', "OFF1")
    assert code not in [c["code"] for c in children["node"]["children"]]


def test_a_parent_outside_the_jurisdiction_reads_as_a_missing_one(world: World) -> None:
    written = last(world)
    outside = mutate(world, "createNode", NODES, "OFF1", code=f"{OTHER_COMMUNITY}-07",
                     name="第7片区", parentCode=OTHER_COMMUNITY)
    missing = mutate(world, "createNode", NODES, "OFF1", code="420102001799-07",
                     name="第7片区", parentCode="420102001799")
    same_words(outside, missing, OTHER_COMMUNITY, "420102001799")
    # the remedy says why an existing node may read as missing
    assert "outside your jurisdiction reads as missing" in outside["remedy"]
    assert last(world) == written
    # ...while the street's official may create it there
    assert mutate(world, "createNode", NODES, "STR1", code=f"{OTHER_COMMUNITY}-07",
                  name="第7片区", parentCode=OTHER_COMMUNITY)["__typename"] == "GridChanged"


@pytest.mark.parametrize(("staff_no", "field", "fields"), [
    ("GWZ1", "createNode", {"code": f"{ZONES[0]}x", "name": "x", "parentCode": ZONES[0]}),
    ("VOL1", "renameNode", {"code": ZONES[0], "name": "改名"}),
    ("LEAD1", "retireNode", {"code": ZONES[1], "reason": "x"}),
    ("STR1", "establishCity", {"code": "4299", "name": "某市"}),
    ("OFF1", "retireNode", {"code": COMMUNITY, "reason": "撤销"}),
    (None, "createNode", {"code": f"{COMMUNITY}-09", "name": "x", "parentCode": COMMUNITY}),
])
def test_a_role_or_level_that_may_not_shape_the_tree_is_refused_and_writes_nothing(
        world: World, staff_no: str | None, field: str, fields: dict[str, Any]) -> None:
    written = last(world)
    refused = mutate(world, field, NODES, staff_no, **fields)
    assert refused["__typename"] == "NotPermittedProblem"
    assert refused["code"] == "NOT_PERMITTED" and refused["remedy"]
    assert last(world) == written


def test_a_city_official_establishes_a_city_and_a_street_official_moves_a_node(
        world: World) -> None:
    city = mutate(world, "establishCity", NODES, "CITY1", code="4202", name="黄石市",
                  clientId="city1:4202")
    assert city["nodes"] == [{"code": "4202", "name": "黄石市", "level": "CITY",
                              "retired": False, "parent": None}]
    code = f"{COMMUNITY}-04"
    assert mutate(world, "createNode", NODES, "OFF1", code=code, name="第4片区",
                  parentCode=COMMUNITY)["__typename"] == "GridChanged"
    # the community's official cannot reach the other community...
    written = last(world)
    assert mutate(world, "moveNode", NODES, "OFF1", code=code,
                  newParentCode=OTHER_COMMUNITY)["__typename"] == "NotFoundProblem"
    assert last(world) == written
    # ...the street's can
    moved = mutate(world, "moveNode", NODES, "STR1", code=code, newParentCode=OTHER_COMMUNITY)
    assert {n["code"]: n["parent"] for n in moved["nodes"]}[code] == {"code": OTHER_COMMUNITY}
    assert world.ask(f'{{ node: gridNode(code: "{code}") {{ code }} }}', "OFF1")["node"] is None


def test_split_and_merge_micro_grids_move_their_households(world: World) -> None:
    zone = f"{OTHER_COMMUNITY}-05"
    assert mutate(world, "createNode", NODES, "STR1", code=zone, name="第5片区",
                  parentCode=OTHER_COMMUNITY)["__typename"] == "GridChanged"
    hids = []
    for n in range(2):
        made = mutate(world, "registerHousehold", HOUSEHOLD, "STR1", householdNo=f"713-5-{n}",
                      microGridCode=zone, address=f"5栋{n + 1}01", members=[{"name": "孙七"}])
        hids.append(made["household"]["id"])
    a, b = f"{zone}a", f"{zone}b"
    split = mutate(world, "splitMicroGrid", NODES, "STR1", code=zone, clientId="str1:split",
                   parts=[{"code": a, "name": "5A", "householdIds": [hids[0]]},
                          {"code": b, "name": "5B", "householdIds": [hids[1]]}])
    assert split["__typename"] == "GridChanged", split
    assert {n["code"]: n["retired"] for n in split["nodes"]} == {a: False, b: False,
                                                                 zone: True}
    where = world.ask(f'{{ household(id: "{hids[1]}") {{ microGridCode }} }}', "STR1")
    assert where["household"]["microGridCode"] == b

    bad = mutate(world, "mergeMicroGrids", NODES, "STR1", codes=[a, a], intoCode=f"{zone}c",
                 name="5C")
    assert bad["__typename"] == "InvalidInputProblem" and "repeat" in bad["problem"]
    merged = mutate(world, "mergeMicroGrids", NODES, "STR1", codes=[a, b], intoCode=f"{zone}c",
                    name="5C")
    assert {n["code"]: n["retired"] for n in merged["nodes"]} == {f"{zone}c": False, a: True,
                                                                  b: True}
    rollup = world.ask(
        f'{{ node: gridNode(code: "{zone}c") {{ rollup {{ households }} }} }}', "STR1")
    assert rollup["node"]["rollup"]["households"] == 2


# ---- staff --------------------------------------------------------------------------------

def test_enrol_staff_masks_the_phone_by_role_and_never_quotes_the_name(world: World) -> None:
    enrolled = mutate(world, "enrolStaff", STAFF, "OFF1", staffNo="GWZ1-B", name="钱多多",
                      role="GRID_WORKER", jurisdictionCode=ZONES[0], dailyCapacity=25,
                      phone="13912345678", clientId="off1:enrol-b")
    assert enrolled["__typename"] == "StaffChanged"
    member = enrolled["staffMember"]
    assert member["staffNo"] == "GWZ1-B" and member["role"] == "GRID_WORKER"
    assert member["phone"] == "13912345678"  # an official may see it (and it is audited)
    assert member["jurisdictionCode"] == ZONES[0] and member["dailyCapacity"] == 25
    written = last(world)
    again = mutate(world, "enrolStaff", STAFF, "OFF1", staffNo="GWZ1-B", name="钱多多",
                   role="GRID_WORKER", jurisdictionCode=ZONES[0], phone="13912345678",
                   clientId="off1:enrol-b")
    assert again["staffMember"]["id"] == member["id"] and last(world) == written

    # a volunteer reading it back sees the phone masked
    seen = world.ask(f'{{ staffMember(id: "{member["id"]}") {{ phone }} }}', "VOL1")
    assert seen["staffMember"]["phone"] == "139****5678"

    bad = mutate(world, "enrolStaff", STAFF, "OFF1", staffNo="GWZ1-C", name="钱多多",
                 role="VOLUNTEER", jurisdictionCode=ZONES[0], phone="12345")
    assert bad["__typename"] == "InvalidInputProblem"
    assert "12345" not in bad["problem"] + bad["remedy"]
    assert "钱多多" not in str(bad)
    assert last(world) == written


ROSTER = "... on RosterEnrolled { notificationId enrolled alreadyEnrolled }"


def test_a_roster_enrols_in_one_write_all_or_nothing_and_never_quotes_a_name(
        world: World) -> None:
    members = [{"staffNo": "R-GW-1", "name": "冯一", "role": "GRID_WORKER",
                "jurisdictionCode": ZONES[0], "otherJurisdictionCodes": [ZONES[1]],
                "phone": "13912340001"},
               {"staffNo": "R-VOL-1", "name": "冯二", "role": "VOLUNTEER",
                "jurisdictionCode": COMMUNITY, "dailyCapacity": 25}]
    before = last(world)
    done = mutate(world, "enrolStaffRoster", ROSTER, "OFF1", members=members,
                  clientId="off1:roster")
    assert done == {"__typename": "RosterEnrolled", "notificationId": last(world),
                    "enrolled": 2, "alreadyEnrolled": []}
    assert last(world) == before + 6  # 2 members, 3 listings (zones 1 and 2, the community)
    # and the client id's record
    gw = world.app.staff_by_no("R-GW-1")
    assert gw.jurisdictions == (ZONES[0], ZONES[1])
    again = mutate(world, "enrolStaffRoster", ROSTER, "OFF1", members=members,
                   clientId="off1:roster")
    assert again["enrolled"] == 0 and last(world) == done["notificationId"]
    written = last(world)
    bad = mutate(world, "enrolStaffRoster", ROSTER, "OFF1", members=[
        {"staffNo": "R-VOL-2", "name": "冯三", "role": "VOLUNTEER",
         "jurisdictionCode": COMMUNITY},
        {"staffNo": "R-VOL-3", "name": "冯四", "role": "VOLUNTEER",
         "jurisdictionCode": COMMUNITY, "phone": "12345"}])
    assert bad["__typename"] == "InvalidInputProblem"
    assert bad["problem"].startswith("Row 2 of 2 (staff number R-VOL-3)")
    assert "12345" not in str(bad) and "冯四" not in str(bad)
    outside = mutate(world, "enrolStaffRoster", ROSTER, "OFF1", members=[
        {"staffNo": "R-VOL-4", "name": "冯五", "role": "VOLUNTEER",
         "jurisdictionCode": OTHER_ZONE}])
    assert outside["__typename"] == "NotFoundProblem" and OTHER_ZONE in outside["problem"]
    refused = mutate(world, "enrolStaffRoster", ROSTER, "GWZ1", members=[  # their own zone
        {"staffNo": "R-VOL-5", "name": "冯六", "role": "VOLUNTEER",
         "jurisdictionCode": ZONES[0]}])
    assert refused["__typename"] == "NotPermittedProblem"
    assert last(world) == written


def test_enrolling_is_an_officials_order_within_the_jurisdiction(world: World) -> None:
    written = last(world)
    refused = mutate(world, "enrolStaff", STAFF, "GWZ1", staffNo="X1", name="某某",
                     role="VOLUNTEER", jurisdictionCode=ZONES[0])
    assert refused["__typename"] == "NotPermittedProblem"
    outside = mutate(world, "enrolStaff", STAFF, "OFF1", staffNo="X2", name="某某",
                     role="VOLUNTEER", jurisdictionCode=OTHER_ZONE)
    missing = mutate(world, "enrolStaff", STAFF, "OFF1", staffNo="X2", name="某某",
                     role="VOLUNTEER", jurisdictionCode="420102001799-01")
    same_words(outside, missing, OTHER_ZONE, "420102001799-01")
    assert last(world) == written


def test_availability_is_ones_own_or_a_dispatchers_order(world: World) -> None:
    own = mutate(world, "setStaffAvailability", STAFF, "VOL1",
                 staffId=str(world.staff["VOL1"]), available=False, reason="病假")
    assert own["__typename"] == "StaffChanged" and own["staffMember"]["available"] is False
    written = last(world)
    other = mutate(world, "setStaffAvailability", STAFF, "VOL1",
                   staffId=str(world.staff["GWZ1"]), available=False)
    assert other["__typename"] == "NotPermittedProblem" and last(world) == written
    theirs, absent = str(world.staff["GW713"]), str(uuid4())
    same_words(mutate(world, "setStaffAvailability", STAFF, "LEAD1", staffId=theirs,
                      available=False),
               mutate(world, "setStaffAvailability", STAFF, "LEAD1", staffId=absent,
                      available=False), theirs, absent)
    assert last(world) == written
    back = mutate(world, "setStaffAvailability", STAFF, "LEAD1",
                  staffId=str(world.staff["VOL1"]), available=True, clientId="lead1:vol1")
    assert back["staffMember"]["available"] is True


def test_responsible_worker_and_squad_follow_the_domains_role_rules(world: World) -> None:
    ok = mutate(world, "assignResponsibleWorker", NODES, "OFF1", microGridCode=ZONES[0],
                staffId=str(world.staff["GWZ1"]), clientId="off1:rw")
    assert ok["__typename"] == "GridChanged" and ok["nodes"][0]["code"] == ZONES[0]
    written = last(world)
    volunteer = mutate(world, "assignResponsibleWorker", NODES, "OFF1", microGridCode=ZONES[0],
                       staffId=str(world.staff["VOL1"]))
    assert volunteer["__typename"] == "NotPermittedProblem"
    assert "grid worker" in volunteer["remedy"]
    doctor_squad = mutate(world, "formSquad", NODES, "OFF1", zoneCode=ZONES[1],
                          staffIds=[str(world.staff["DOC1"])])
    assert doctor_squad["__typename"] == "NotPermittedProblem"
    outside = mutate(world, "formSquad", NODES, "OFF1", zoneCode=ZONES[1],
                     staffIds=[str(world.staff["GW713"])])
    assert outside["__typename"] == "NotFoundProblem"
    assert last(world) == written
    squad = mutate(world, "formSquad", NODES, "OFF1", zoneCode=ZONES[1],
                   staffIds=[str(world.staff["VOL1"])])
    assert squad["__typename"] == "GridChanged"
    assert world.app.node(ZONES[1]).squad == [world.staff["VOL1"]]


ASSIGNED = "... on ScopeAssigned { scopeCode round assigned uncovered shortfall }"


def test_assign_a_round_then_move_a_workers_open_work(world: World) -> None:
    worker = mutate(world, "enrolStaff", STAFF, "OFF1", staffNo="GWZ2-B", name="吴六",
                    role="GRID_WORKER", jurisdictionCode=ZONES[1], dailyCapacity=30)
    assert worker["__typename"] == "StaffChanged"
    refused = mutate(world, "assignScope", ASSIGNED, "GWZ2", scopeCode=ZONES[1], round=1,
                     days=2)
    assert refused["__typename"] == "NotPermittedProblem"
    plan = mutate(world, "assignScope", ASSIGNED, "LEAD1", scopeCode=ZONES[1], round=1,
                  days=2, clientId="lead1:assign-z2-1")
    assert plan["__typename"] == "ScopeAssigned"
    assert plan["assigned"] + plan["uncovered"] == 3
    written = last(world)
    again = mutate(world, "assignScope", ASSIGNED, "LEAD1", scopeCode=ZONES[1], round=1,
                   days=2, clientId="lead1:assign-z2-1")
    assert again == plan and last(world) == written
    duplicate = mutate(world, "assignScope", ASSIGNED, "LEAD1", scopeCode=ZONES[1], round=1,
                       days=2)
    assert duplicate["__typename"] == "CommandRejected" and duplicate["code"] == "DUPLICATE"

    owners = world.app.assignment(ZONES[1], 1).owner
    busy = next(no for no in ("GWZ2", "GWZ2-B", "VOL1")  # VOL1: when in the zone's squad
                if world.app.staff_by_no(no).id in owners.values())
    moved = mutate(world, "reassignWorkOf", STAFF, "LEAD1",
                   staffId=str(world.app.staff_by_no(busy).id), scopeCode=ZONES[1], round=1,
                   reason="隔离")
    assert moved["__typename"] == "StaffChanged", moved
    assert world.app.staff_by_no(busy).id not in world.app.assignment(ZONES[1], 1).owner.values()
    nothing = mutate(world, "reassignWorkOf", STAFF, "LEAD1",
                     staffId=str(world.app.staff_by_no(busy).id), scopeCode=ZONES[1], round=1,
                     reason="隔离")
    assert nothing["__typename"] == "InvalidInputProblem"
    names = {"GWZ2": "某某", "GWZ2-B": "吴六", "VOL1": "赵志愿"}
    assert names[busy] not in nothing["problem"]


# ---- the register -----------------------------------------------------------------------------

BUILDING = "... on BuildingRegistered { notificationId id communityCode number }"


def test_register_a_building_and_a_household_read_back_masked_by_role(world: World) -> None:
    building = mutate(world, "registerBuilding", BUILDING, "OFF1", communityCode=COMMUNITY,
                      number="21", floors=11, clientId="off1:b21")
    assert building["__typename"] == "BuildingRegistered" and building["number"] == "21"
    outside = mutate(world, "registerBuilding", BUILDING, "GWZ1", communityCode=COMMUNITY,
                     number="22")
    missing = mutate(world, "registerBuilding", BUILDING, "GWZ1",
                     communityCode="420102001799", number="22")
    same_words(outside, missing, COMMUNITY, "420102001799")

    id_number = "11010519491231002X"
    made = mutate(world, "registerHousehold", HOUSEHOLD, "GWZ1", householdNo="712-1-9",
                  microGridCode=ZONES[0], address="21栋1单元101", buildingId=building["id"],
                  members=[{"name": "郑八", "phone": "13700001111", "idNumber": id_number,
                            "birthYear": 1948, "vulnerabilities": ["LIVES_ALONE"]}],
                  clientId="gwz1:h9")
    assert made["__typename"] == "HouseholdChanged"
    (resident,) = made["household"]["residents"]
    assert resident["phone"] == "13700001111"  # a grid worker calls residents
    assert resident["idNumber"] == "110105********002X"  # but may not see the ID number
    assert made["household"]["microGridCode"] == ZONES[0]
    written = last(world)
    again = mutate(world, "registerHousehold", HOUSEHOLD, "GWZ1", householdNo="712-1-9",
                   microGridCode=ZONES[0], address="21栋1单元101",
                   members=[{"name": "郑八"}], clientId="gwz1:h9")
    assert again["household"]["id"] == made["household"]["id"] and last(world) == written
    world.households[made["household"]["id"]] = ZONES[0]


def test_personal_input_is_never_quoted_back_in_a_problem(world: World) -> None:
    written = last(world)
    address = "湖北省武汉市江岸区后湖街道" + "某小区" * 70  # too long
    long_address = mutate(world, "registerHousehold", HOUSEHOLD, "GWZ1",
                          householdNo="712-1-8", microGridCode=ZONES[0], address=address,
                          members=[{"name": "郑九"}])
    assert long_address["__typename"] == "InvalidInputProblem"
    assert "某小区某小区" not in long_address["problem"]
    bad_id = mutate(world, "registerHousehold", HOUSEHOLD, "GWZ1", householdNo="712-1-8",
                    microGridCode=ZONES[0], address="1栋1单元808",
                    members=[{"name": "郑九", "idNumber": "110105194912310021"}])
    assert bad_id["__typename"] == "InvalidInputProblem"
    assert "110105194912310021" not in bad_id["problem"] and "110105" in bad_id["problem"]
    assert last(world) == written


def test_a_volunteer_may_not_keep_the_register(world: World) -> None:
    written = last(world)
    refused = mutate(world, "registerHousehold", HOUSEHOLD, "VOL1", householdNo="712-1-7",
                     microGridCode=ZONES[0], address="1栋1单元707", members=[{"name": "某"}])
    assert refused["__typename"] == "NotPermittedProblem"
    assert "volunteer" in refused["problem"] and "grid worker" in refused["remedy"]
    assert last(world) == written


def test_members_vulnerabilities_tests_and_tags_of_a_household(world: World) -> None:
    hid = zone_household(world, ZONES[0], 1)
    before = resident_ids(world, hid)
    added = mutate(world, "addMember", HOUSEHOLD, "GWZ1", householdId=hid,
                   member={"name": "新成员", "birthYear": 2019}, clientId="gwz1:add")
    assert added["__typename"] == "HouseholdChanged"
    residents = [r["id"] for r in added["household"]["residents"]]
    assert len(residents) == 3
    written = last(world)
    assert mutate(world, "addMember", HOUSEHOLD, "GWZ1", householdId=hid,
                  member={"name": "新成员"}, clientId="gwz1:add")["__typename"] \
        == "HouseholdChanged"
    assert last(world) == written
    (newcomer,) = set(residents) - set(before)

    marked = mutate(world, "markVulnerability", HOUSEHOLD, "DOC1", householdId=hid,
                    residentId=newcomer, vulnerability="CHRONIC_ILLNESS")
    assert marked["__typename"] == "HouseholdChanged"
    h = world.app.household(UUID(hid))
    assert "chronic_illness" in {v.value for v in h.residents[UUID(newcomer)].vulnerabilities}

    tested = mutate(world, "recordTest", HOUSEHOLD, "DOC1", householdId=hid,
                    residentId=newcomer, negative=True)
    assert tested["__typename"] == "HouseholdChanged"
    assert world.app.household(UUID(hid)).residents[UUID(newcomer)].last_negative_test

    tag = """mutation($input: TagResidentInput!) { tagResident(input: $input) { __typename } }"""
    world.ask(tag, "GWZ1", {"input": {"householdId": hid, "residentId": newcomer,
                                      "tag": "CLOSE_CONTACT"}})
    written = last(world)
    by_worker = mutate(world, "untagResident", HOUSEHOLD, "GWZ1", householdId=hid,
                       residentId=newcomer, tag="CLOSE_CONTACT", reason="排除")
    assert by_worker["__typename"] == "NotPermittedProblem"  # the domain's rule
    assert last(world) == written
    by_doctor = mutate(world, "untagResident", HOUSEHOLD, "DOC1", householdId=hid,
                       residentId=newcomer, tag="CLOSE_CONTACT", reason="排除")
    tags = {r["id"]: r["tags"] for r in by_doctor["household"]["residents"]}
    assert tags[newcomer] == []

    removed = mutate(world, "removeMember", HOUSEHOLD, "GWZ1", householdId=hid,
                     residentId=newcomer, reason="迁出")
    assert sorted(r["id"] for r in removed["household"]["residents"]) == sorted(before)


def test_resident_commands_outside_the_jurisdiction_read_as_missing(world: World) -> None:
    theirs = zone_household(world, OTHER_ZONE, 0)
    data = world.ask(f'{{ household(id: "{theirs}") {{ residents {{ id }} }} }}', "STR1")
    rid = data["household"]["residents"][0]["id"]
    absent = str(uuid4())
    written = last(world)
    for field, extra in (("removeMember", {"reason": "迁出"}),
                         ("recordTest", {"negative": True}),
                         ("eraseResident", {"reason": "x"})):
        outside = mutate(world, field, HOUSEHOLD, "OFF1", householdId=theirs,
                         residentId=rid, **extra)
        missing = mutate(world, field, HOUSEHOLD, "OFF1", householdId=absent,
                         residentId=rid, **extra)
        same_words(outside, missing, theirs, absent)
    assert last(world) == written


def test_move_and_erase_are_checked_for_place_and_role(world: World) -> None:
    hid = zone_household(world, ZONES[0], 2)
    rid = resident_ids(world, hid)[0]
    written = last(world)
    away = mutate(world, "moveHousehold", HOUSEHOLD, "GWZ1", householdId=hid,
                  microGridCode=ZONES[1])
    assert away["__typename"] == "NotFoundProblem"
    erase = mutate(world, "eraseResident", HOUSEHOLD, "GWZ1", householdId=hid, residentId=rid,
                   reason="防控目的已完成")
    assert erase["__typename"] == "NotPermittedProblem"
    assert last(world) == written

    erased = mutate(world, "eraseResident", HOUSEHOLD, "OFF1", householdId=hid, residentId=rid,
                    reason="防控目的已完成", clientId="off1:erase")
    assert erased["__typename"] == "HouseholdChanged"
    person = {r["id"]: r for r in erased["household"]["residents"]}[rid]
    assert person["phone"] is None and person["idNumber"] is None
    again = mutate(world, "eraseResident", HOUSEHOLD, "OFF1", householdId=hid, residentId=rid,
                   reason="防控目的已完成")
    assert again["__typename"] == "CommandRejected" and again["code"] == "ERASED"

    moved = mutate(world, "moveHousehold", HOUSEHOLD, "OFF1", householdId=hid,
                   microGridCode=ZONES[1], clientId="off1:move")
    assert moved["household"]["microGridCode"] == ZONES[1]
    world.households[hid] = ZONES[1]
    assert world.ask(f'{{ household(id: "{hid}") {{ id }} }}', "GWZ1")["household"] is None


POLICY = ("... on PolicyAdopted { notificationId policy { effectiveFrom note "
          "microGridSoftCap negativeTestMaxAgeHours } }")


def test_only_a_whole_citys_official_adopts_a_policy(world: World) -> None:
    change = {"effectiveFrom": world.clock.now.isoformat(), "note": "新规",
              "changes": {"microGridSoftCap": 150,
                          "quarantineDays": [{"measure": "home_quarantine", "days": 21}]}}
    written = last(world)
    for staff_no in ("OFF1", "DOC1"):
        refused = mutate(world, "adoptPolicy", POLICY, staff_no, **change)
        assert refused["__typename"] == "NotPermittedProblem"
    bad = mutate(world, "adoptPolicy", POLICY, "CITY1",
                 **{**change, "changes": {"microGridSoftCap": 0}})
    assert bad["__typename"] == "InvalidInputProblem" and "micro_grid_soft_cap" in bad["problem"]
    assert last(world) == written
    adopted = mutate(world, "adoptPolicy", POLICY, "CITY1", **change, clientId="city1:p1")
    assert adopted["__typename"] == "PolicyAdopted"
    assert adopted["policy"]["microGridSoftCap"] == 150
    assert adopted["policy"]["negativeTestMaxAgeHours"] == 48  # kept from the one in force
    written = last(world)
    assert mutate(world, "adoptPolicy", POLICY, "CITY1", **change,
                  clientId="city1:p1")["__typename"] == "PolicyAdopted"
    assert last(world) == written
    policy = world.app.policy_at(world.app.clock())
    assert policy.micro_grid_soft_cap == 150 and policy.quarantine_days["home_quarantine"] == 21
