"""Answers that say what they are (issue 15, point 7), over a real HTTP server: a household
naming a building that is not registered is refused, a page larger than the largest is
refused (never silently shortened), the deliveries board pages with cursors, a staff member's
workload adds up (assigned = done + open), a follow-up re-inspection is no new inspection, and
a referral shows its persuasion attempts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from gridcore.authority import System
from gridcore.building import building_id
from gridcore.delivery import Item
from gridcore.enterprise import enterprise_id
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_COMMUNITY, World, serve_world
from tests.scenario import COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
VEG = {"name": "爱心菜", "quantity": 1, "unit": "份"}
CREDIT = "91510100MA61R8X777"
ITEMS = list(DEFAULT_POLICY.inspection_items)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-honest") / "gridcore.sqlite") as w:
        app = w.app
        app.register_building(COMMUNITY, "1", by=System.OPERATOR)
        app.register_building(OTHER_COMMUNITY, "7", by=System.OPERATOR)
        app.donate_to_scope(COMMUNITY, "DN-HONEST", [Item(**VEG)], "爱心企业",
                            by=System.OPERATOR)
        app.enrol_staff("ES1", "专员", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0,
                        by=System.OPERATOR)
        w.staff["ES1"] = app.staff_by_no("ES1").id
        app.register_enterprise(CREDIT, "企业7", "商务局", ZONES[0], w.staff["ES1"],
                                by=System.OPERATOR)
        eid = enterprise_id(CREDIT)
        app.file_resumption(eid, DEFAULT_POLICY.resumption_checklist, 12, by=System.OPERATOR)
        app.declare_employee_health(eid, 12, by=System.OPERATOR)
        app.review_resumption(eid, w.staff["ES1"], True)
        w.caught_up()
        yield w


def mutate(world: World, field: str, success: str, staff_no: str,
           **fields: Any) -> dict[str, Any]:
    kind = field[0].upper() + field[1:]
    data = world.ask(f"mutation($input: {kind}Input!) {{ {field}(input: $input) {{ "
                     f"__typename {success} {PROBLEM} }} }}", staff_no, {"input": fields})
    return dict(data[field])


def errors(world: World, query: str, staff_no: str = "OFF1") -> list[str]:
    body = world.post(query, staff_no).json()
    return [e["message"] for e in body.get("errors", [])]


# ---- 1. a household names a registered building of its community --------------------------

HOUSEHOLD = "... on HouseholdChanged { household { id } }"


def test_a_household_naming_an_unregistered_building_is_refused(world: World) -> None:
    before = world.app.recorder.max_notification_id()
    nowhere = building_id(COMMUNITY, "99")
    refused = mutate(world, "registerHousehold", HOUSEHOLD, "OFF1", householdNo="712-9-1",
                     microGridCode=ZONES[0], address="99栋1单元101", buildingId=str(nowhere),
                     members=[{"name": "郑八"}])
    assert refused["__typename"] == "NotFoundProblem", refused
    assert str(nowhere) in refused["problem"] and "registerBuilding" in refused["remedy"]
    elsewhere = mutate(world, "registerHousehold", HOUSEHOLD, "OFF1", householdNo="712-9-2",
                       microGridCode=ZONES[0], address="7栋1单元101",
                       buildingId=str(building_id(OTHER_COMMUNITY, "7")),
                       members=[{"name": "郑九"}])
    assert elsewhere["__typename"] == "InvalidInputProblem", elsewhere
    assert f"not in community {COMMUNITY}" in elsewhere["problem"]
    assert world.app.recorder.max_notification_id() == before  # nothing written
    made = mutate(world, "registerHousehold", HOUSEHOLD, "OFF1", householdNo="712-9-3",
                  microGridCode=ZONES[0], address="1栋1单元101",
                  buildingId=str(building_id(COMMUNITY, "1")), members=[{"name": "郑十"}])
    assert made["__typename"] == "HouseholdChanged", made
    world.households[made["household"]["id"]] = ZONES[0]


# ---- 2. pages: the largest is said, the deliveries board pages with cursors --------------------

def test_a_page_above_the_largest_is_refused_naming_the_largest(world: World) -> None:
    for query in ("{ households(first: 200) { edges { node { id } } } }",
                  f'{{ gridNode(code: "{COMMUNITY}") {{ households(first: 101) '
                  "{ edges { node { id } } } } }",
                  "{ deliveries(first: 101) { nodes { id } } }",
                  "{ referrals(first: 500) { id } }"):
        (message,) = errors(world, query)
        assert "at most 100" in message and "from 0 to 100" in message, message
    assert "endCursor" in errors(world, "{ households(first: 200) { pageInfo "
                                        "{ hasNextPage } } }")[0]
    full = world.ask("{ households(first: 100) { edges { node { id } } } }", "OFF1")
    assert 0 < len(full["households"]["edges"]) <= 100


PAGE = """query($after: String) { deliveries(first: 4, after: $after) {
  edges { cursor node { id placedAt } } nodes { id } pageInfo { hasNextPage endCursor } } }"""


def test_the_deliveries_board_pages_with_cursors(world: World) -> None:
    everything = world.ask("{ deliveries(first: 100) { nodes { id } pageInfo { hasNextPage } } }",
                           "OFF1")["deliveries"]
    assert not everything["pageInfo"]["hasNextPage"]
    want = [d["id"] for d in everything["nodes"]]
    assert len(want) > 4  # one per household of the community: more than a page of 4
    seen: list[str] = []
    after = None
    while True:
        page = world.ask(PAGE, "OFF1", {"after": after})["deliveries"]
        assert [e["node"]["id"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
        assert len(page["nodes"]) <= 4
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == want  # every delivery once, oldest placed first
    mine = world.ask("{ deliveries(first: 100) { nodes { placeCode } } }", "GWZ1")
    assert {d["placeCode"] for d in mine["deliveries"]["nodes"]} == {ZONES[0]}
    assert world.ask('{ deliveries(after: "bm90LWEtY3Vyc29y") { nodes { id } } }',
                     "OFF1")["deliveries"]["nodes"] == []


# ---- 3. workload, inspections, persuasions ---------------------------------------------------

WORKLOAD = "{ me { workload { day assigned done open completed newlyAssigned } } }"


def test_a_workload_adds_up_over_two_rounds(world: World) -> None:
    app = world.app
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    cid = app.campaign_of(COMMUNITY, 1).id
    first = app.assignment(COMMUNITY, 1)
    for hid, sid in sorted(first.owner.items(), key=str):
        app.record_visit(cid, hid, first.method[hid], by=sid)
    world.clock.advance(days=3)
    app.launch_campaign(COMMUNITY, 2, 3, by=System.OPERATOR)
    second = app.assignment(COMMUNITY, 2)
    world.caught_up()
    number = {sid: no for no, sid in world.staff.items()}
    for sid in set(first.owner.values()) | set(second.owner.values()):
        days = world.ask(WORKLOAD, number[sid])["me"]["workload"]
        assert all(d["assigned"] == d["done"] + d["open"] for d in days), days
        done = sum(1 for s in first.owner.values() if s == sid)
        todo = sum(1 for s in second.owner.values() if s == sid)
        last = days[-1]
        assert (last["assigned"], last["done"], last["open"]) == (done + todo, done, todo)
        assert sum(d["completed"] for d in days) == done  # their own visits


ENTERPRISE = "... on EnterpriseUpdated { enterprise { inspections rectified } }"


def test_closing_a_rectification_is_no_new_inspection(world: World) -> None:
    eid = str(enterprise_id(CREDIT))
    results = [{"item": i, "passed": n != 0} for n, i in enumerate(ITEMS)]
    inspected = mutate(world, "inspectEnterprise", ENTERPRISE, "ES1", id=eid, results=results)
    assert inspected["enterprise"] == {"inspections": 1, "rectified": 0}, inspected
    closed = mutate(world, "closeRectification", ENTERPRISE, "ES1", id=eid, item=ITEMS[0],
                    note="已整改 fixed")
    assert closed["enterprise"] == {"inspections": 1, "rectified": 1}, closed
    board = world.ask("{ enterprises { id inspections rectified } }", "OFF1")["enterprises"]
    assert {"id": eid, "inspections": 1, "rectified": 1} in board


PERSUASIONS = """{ referrals(first: 100) { id persuasionMinutes
  persuasions { at minutes refusedReason } } }"""


def test_a_referral_shows_its_persuasion_attempts(world: World) -> None:
    app = world.app
    hid = UUID(sorted(h for h, z in world.households.items() if z == ZONES[0])[0])
    rid = sorted(app.household(hid).residents)[0]
    ref = app.open_referral(hid, rid, "centralized_quarantine", "密接 close contact",
                            by=System.AUTOMATION).referral_id
    refused = mutate(world, "recordPersuasion", "... on ReferralUpdated { referral { id } }",
                     "GW1", id=str(ref), minutes=90, refusedReason="担心家里老人")
    assert refused["__typename"] == "ReferralUpdated", refused
    world.caught_up()
    official = {r["id"]: r for r in world.ask(PERSUASIONS, "OFF1")["referrals"]}[str(ref)]
    assert official["persuasionMinutes"] == 90
    ((attempt),) = official["persuasions"]
    assert (attempt["minutes"], attempt["refusedReason"]) == (90, "担心家里老人")
    volunteer = {r["id"]: r for r in world.ask(PERSUASIONS, "VOL1")["referrals"]}[str(ref)]
    assert volunteer["persuasions"][0]["refusedReason"] == "****"  # not theirs to read
