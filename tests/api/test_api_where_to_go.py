"""Where to go and what was asked (issue 15, point 1), over a real HTTP server.

Field staff read a household's number (户号), building (楼栋) and address (门牌), a resident's
name and a request's text and reply, within their jurisdiction, as ``graphql_api.privacy.SEES``
says by the work of each role: whole (and each such read audited) for the roles that need it,
masked for the others, nothing outside the jurisdiction; an erased resident reads as erased.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from graphql_api.privacy import HIDDEN, AuditLog
from gridcore.application import new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.delivery import Item
from gridcore.staff import ERASED_LABEL, Role
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY, ZONES

WHERE_NO, WHERE_ADDRESS, WHERE_BUILDING = "712-1-9", "2栋909", "2"
ERASED_NO = "712-1-8"
ASKED, REPLY = "需要买降压药 blood pressure pills", "已送药上门 delivered to the door"
OPEN_ASK = "楼道灯坏了 the stair light is out"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-where") / "gridcore.sqlite") as w:
        given_where_to_go(w)
        w.caught_up()
        yield w


def given_where_to_go(w: World) -> None:
    app = w.app
    app.register_building(COMMUNITY, WHERE_BUILDING, by=System.OPERATOR)
    app.register_household(WHERE_NO, ZONES[0], WHERE_ADDRESS,
                           [new_member(WHERE_NO, 1, "王五", "13700001234", None, 1990)],
                           building=building_id(COMMUNITY, WHERE_BUILDING), by=System.OPERATOR)
    app.register_household(ERASED_NO, ZONES[0], "3栋808",
                           [new_member(ERASED_NO, 1, "孙七", "13700005678", None, 1960)],
                           by=System.OPERATOR)
    for no, role in (("ES1", Role.ENTERPRISE_SPECIALIST), ("PM1", Role.PROPERTY_MANAGER)):
        app.enrol_staff(no, "某某", role, COMMUNITY, 10, by=System.OPERATOR)
        w.staff[no] = app.staff_by_no(no).id
    for hid in (where(w), erased(w)):
        w.households[str(hid)] = ZONES[0]
    # an uncovered round, a referral and a delivery to the household
    app.launch_campaign(ZONES[0], 1, 3, by=System.OPERATOR)
    rid = sorted(app.household(where(w)).residents)[0]
    app.open_referral(where(w), rid, "fever_clinic", "发热 fever at the door",
                      by=System.AUTOMATION)
    app.donate_to_scope(ZONES[0], "DN-WHERE", [Item(name="爱心菜", quantity=1, unit="份")],
                        "爱心企业", by=System.OPERATOR)
    # a request answered, another open
    answered = app.file_request("online", "supplies", "normal", ASKED, phone="13800138000",
                                address="1栋101", grid=ZONES[0], by=System.PUBLIC)
    app.resolve_request(answered.request_id, w.staff["GW1"], REPLY)
    app.file_request("hotline", "complaint", "normal", OPEN_ASK, phone="13800138001",
                     address="1栋102", grid=ZONES[0], by=System.PUBLIC)
    # the only member of a household erased: their name and the address go
    gone = sorted(app.household(erased(w)).residents)[0]
    app.erase_resident(erased(w), gone, "防控目的已完成 purpose fulfilled", by=w.staff["OFF1"])


def where(w: World) -> UUID:
    return w.app.household_by_no(WHERE_NO).id


def erased(w: World) -> UUID:
    return w.app.household_by_no(ERASED_NO).id


def audit_of(w: World) -> AuditLog:
    assert w.settings is not None
    return AuditLog(w.settings.audit_file)


HOUSEHOLD = """query($id: ID!) { household(id: $id) {
  householdNo buildingNo address residents { name erased phone } } }"""
UNCOVERED = """query($zone: String!) { gridNode(code: $zone) { campaigns {
  uncovered(first: 100) { householdId householdNo address
    household { householdNo buildingNo address residents { name } } } } } }"""
BOARDS = """{
  referrals { householdNo address household { householdNo address } }
  deliveries(first: 100) { nodes { householdNo address } }
}"""


def uncovered_of(w: World, staff_no: str) -> dict[str, dict[str, Any]]:
    node = w.ask(UNCOVERED, staff_no, {"zone": ZONES[0]})["gridNode"]
    assert node is not None
    [campaign] = node["campaigns"]
    return {u["householdId"]: u for u in campaign["uncovered"]}


def new_entries(w: World, before: int) -> list[tuple[str, str, str]]:
    return [(e["reader"], e["field"], e["subject"]) for e in audit_of(w).entries()[before:]]


def test_a_grid_worker_of_the_micro_grid_reads_where_to_go_and_names(world: World) -> None:
    before = len(audit_of(world).entries())
    hid = str(where(world))
    found = uncovered_of(world, "GWZ1")[hid]
    assert (found["householdNo"], found["address"]) == (WHERE_NO, WHERE_ADDRESS)
    assert found["household"] == {"householdNo": WHERE_NO, "buildingNo": WHERE_BUILDING,
                                  "address": WHERE_ADDRESS, "residents": [{"name": "王五"}]}
    page = world.ask(HOUSEHOLD, "GWZ1", {"id": hid})["household"]
    assert page == {"householdNo": WHERE_NO, "buildingNo": WHERE_BUILDING,
                    "address": WHERE_ADDRESS,
                    "residents": [{"name": "王五", "erased": False, "phone": "13700001234"}]}
    # every unmasked value served left one audit row, naming the reader, field and subject
    reader, rid = str(world.staff["GWZ1"]), str(sorted(world.app.household(where(world))
                                                       .residents)[0])
    rows = new_entries(world, before)
    for field, subject in (("Household.householdNo", hid), ("Household.address", hid),
                           ("Household.buildingNo", hid), ("Resident.name", rid),
                           ("Resident.phone", rid)):
        assert (reader, field, subject) in rows, field
    # the same reads again: as many rows again (one per unmasked value served)
    n = len(audit_of(world).entries())
    served = uncovered_of(world, "GWZ1")
    values = [v for u in served.values() for v in (
        u["householdNo"], u["address"], u["household"]["householdNo"],
        u["household"]["buildingNo"], u["household"]["address"],
        *(r["name"] for r in u["household"]["residents"]))]
    whole = [v for v in values if v is not None and v != ERASED_LABEL]  # erased: not logged
    assert len(whole) < len(values)
    assert len(audit_of(world).entries()) - n == len(whole)
    text = audit_of(world).path.read_text(encoding="utf-8")
    assert WHERE_ADDRESS not in text and "王五" not in text and WHERE_NO not in text


def test_the_uncovered_list_and_the_boards_say_where_to_go(world: World) -> None:
    data = world.ask(BOARDS, "GWZ1")
    [referral] = [r for r in data["referrals"] if r["householdNo"] == WHERE_NO]
    assert referral == {"householdNo": WHERE_NO, "address": WHERE_ADDRESS,
                        "household": {"householdNo": WHERE_NO, "address": WHERE_ADDRESS}}
    places = {(d["householdNo"], d["address"]) for d in data["deliveries"]["nodes"]}
    assert (WHERE_NO, WHERE_ADDRESS) in places
    assert all(no and address for no, address in places)


def test_a_volunteer_goes_to_the_door_but_reads_names_masked(world: World) -> None:
    """Volunteers sweep and deliver (the authority table's VISITORS and COURIERS): they read
    where to go; they do not deal with the resident as a person: the surname only."""
    before = len(audit_of(world).entries())
    page = world.ask(HOUSEHOLD, "VOL1", {"id": str(where(world))})["household"]
    assert page == {"householdNo": WHERE_NO, "buildingNo": WHERE_BUILDING,
                    "address": WHERE_ADDRESS,
                    "residents": [{"name": "王*", "erased": False, "phone": "137****1234"}]}
    fields = {f for _, f, _ in new_entries(world, before)}
    assert fields == {"Household.householdNo", "Household.buildingNo", "Household.address"}


@pytest.mark.parametrize("staff_no", ["ES1"])
def test_a_role_not_sent_to_the_door_reads_everything_masked(world: World,
                                                             staff_no: str) -> None:
    """An enterprise specialist's work is enterprises: inside the jurisdiction they reach the
    household, but read its place and its residents masked, and nothing is audited."""
    before = len(audit_of(world).entries())
    hid = str(where(world))
    page = world.ask(HOUSEHOLD, staff_no, {"id": hid})["household"]
    assert page == {"householdNo": HIDDEN, "buildingNo": HIDDEN, "address": HIDDEN,
                    "residents": [{"name": "王*", "erased": False, "phone": "137****1234"}]}
    found = uncovered_of(world, staff_no)[hid]
    assert (found["householdNo"], found["address"]) == (HIDDEN, HIDDEN)
    assert new_entries(world, before) == []


@pytest.mark.parametrize("staff_no", ["GWZ2", "GW713"])
def test_outside_the_jurisdiction_nothing_answers(world: World, staff_no: str) -> None:
    before = len(audit_of(world).entries())
    assert world.ask(HOUSEHOLD, staff_no, {"id": str(where(world))})["household"] is None
    assert world.ask(UNCOVERED, staff_no, {"zone": ZONES[0]})["gridNode"] is None
    data = world.ask(BOARDS, staff_no)
    assert WHERE_NO not in {r["householdNo"] for r in data["referrals"]}
    assert WHERE_NO not in {d["householdNo"] for d in data["deliveries"]["nodes"]}
    texts = world.ask("{ requests(answered: true) { text } }", staff_no)["requests"]
    assert {r["text"] for r in texts}.isdisjoint({ASKED, OPEN_ASK})
    assert all(s != str(where(world)) for _, _, s in new_entries(world, before))


def test_an_erased_resident_reads_as_erased(world: World) -> None:
    before = len(audit_of(world).entries())
    for staff_no in ("GWZ1", "OFF1", "ES1"):
        page = world.ask(HOUSEHOLD, staff_no, {"id": str(erased(world))})["household"]
        assert page == {"householdNo": ERASED_NO if staff_no != "ES1" else HIDDEN,
                        "buildingNo": None, "address": ERASED_LABEL,
                        "residents": [{"name": ERASED_LABEL, "erased": True, "phone": None}]}
    # only the household number (not erased: the register's key) was disclosed
    assert {f for _, f, _ in new_entries(world, before)} == {"Household.householdNo"}


REQUESTS = "{ requests(answered: true) { number status text reply } }"


# requests are kept per community: the community's grid worker (GW1), property manager and
# official handle them (a micro-grid's worker does not see the community's board)
@pytest.mark.parametrize("staff_no", ["GW1", "PM1", "OFF1"])
def test_a_request_handler_reads_what_was_asked_and_the_reply(world: World,
                                                              staff_no: str) -> None:
    before = len(audit_of(world).entries())
    found = {r["text"]: r for r in world.ask(REQUESTS, staff_no)["requests"]}
    assert found[ASKED]["reply"] == REPLY and found[ASKED]["status"] == "RESOLVED"
    assert found[OPEN_ASK]["reply"] is None
    rows = new_entries(world, before)
    reader = str(world.staff[staff_no])
    assert sorted(f for r, f, _ in rows if r == reader) == ["Request.reply", "Request.text",
                                                            "Request.text"]
    # the board itself (awaiting action) no longer lists the answered one
    awaiting = world.ask("{ requests { text } }", staff_no)["requests"]
    assert [r["text"] for r in awaiting] == [OPEN_ASK]


def test_a_family_doctor_reads_requests_masked(world: World) -> None:
    before = len(audit_of(world).entries())
    found = world.ask(REQUESTS, "DOC1")["requests"]
    assert {(r["text"], r["reply"]) for r in found} == {(HIDDEN, HIDDEN), (HIDDEN, None)}
    assert new_entries(world, before) == []


def test_where_to_go_reads_each_household_once_and_no_read_model_more(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The household number, building, address and names of a whole answer come from one
    batch of the store's households (each read once, however many fields and objects name it)
    and add no read-model query."""
    views, app = world.runner.views, world.app
    queries: list[str] = []
    reads: list[UUID] = []
    query_views, read_household = views.query, app.household

    def counting(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if threading.current_thread().name != "projections":
            queries.append(sql)
        return query_views(sql, params)

    def reading(hid: UUID) -> Any:
        reads.append(hid)
        return read_household(hid)

    monkeypatch.setattr(views, "query", counting)
    bare = """{ referrals { id household { id } }
      deliveries(first: 100) { nodes { id household { id } } }
      households(first: 100) { edges { node { id residents { id } } } } }"""
    rich = """{ referrals { id householdNo address household { id householdNo address } }
      deliveries(first: 100) { nodes { id householdNo address household { id buildingNo } } }
      households(first: 100) { edges { node { id householdNo buildingNo address
        residents { id name } } } } }"""
    world.ask(bare, "OFF1")
    without = len(queries)
    queries.clear()
    monkeypatch.setattr(app, "household", reading)
    data = world.ask(rich, "OFF1")
    assert len(queries) == without
    households = {e["node"]["id"] for e in data["households"]["edges"]}
    assert len(households) > 5
    assert sorted(map(str, reads)) == sorted(set(map(str, reads)))  # each once
    assert set(map(str, reads)) == households



WHERE_TO_GO = """query($zone: String!) {
  me { workList(campaignScope: $zone, round: 1) { ...whereToGo } }
  gridNode(code: $zone) { campaigns { uncovered(first: 100) { ...whereToGo } } }
  referrals { ...whereToGo }
  deliveries(first: 100) { nodes { ...whereToGo } } }
fragment whereToGo on AtHousehold {
  __typename household { id } householdNo buildingNo address }"""


def through_the_interface(w: World, staff_no: str) -> list[dict[str, Any]]:
    """What one fragment on ``AtHousehold`` reads from every kind of work at a door."""
    data = w.ask(WHERE_TO_GO, staff_no, {"zone": ZONES[0]})
    [campaign] = data["gridNode"]["campaigns"]
    return [*data["me"]["workList"], *campaign["uncovered"], *data["referrals"],
            *data["deliveries"]["nodes"]]


def test_every_kind_of_work_at_a_door_says_where_to_go_through_one_interface(
        world: World) -> None:
    """Uncovered households, work-list items, referrals and deliveries are ``AtHousehold``:
    one fragment reads where to go (building included) from each, served and audited as the
    household's own fields."""
    before = len(audit_of(world).entries())
    hid = str(where(world))
    mine = [f for f in through_the_interface(world, "GWZ1") if f["household"] == {"id": hid}]
    assert sorted(f["__typename"] for f in mine) == ["Delivery", "Referral",
                                                     "UncoveredHousehold", "WorkItem"]
    for f in mine:
        assert (f["householdNo"], f["buildingNo"], f["address"]) == (
            WHERE_NO, WHERE_BUILDING, WHERE_ADDRESS), f["__typename"]
    rows, reader = new_entries(world, before), str(world.staff["GWZ1"])
    for field in ("Household.householdNo", "Household.buildingNo", "Household.address"):
        assert rows.count((reader, field, hid)) == len(mine), field



def test_through_the_interface_a_role_not_sent_to_the_door_reads_where_to_go_masked(
        world: World) -> None:
    before = len(audit_of(world).entries())
    found = through_the_interface(world, "ES1")
    mine = [f for f in found if f["household"] == {"id": str(where(world))}]
    assert sorted(f["__typename"] for f in mine) == ["Delivery", "Referral",
                                                     "UncoveredHousehold"]
    for f in mine:
        assert (f["householdNo"], f["buildingNo"], f["address"]) == (HIDDEN, HIDDEN, HIDDEN)
    assert new_entries(world, before) == []
