"""The boards over a real HTTP server: referrals, quarantine sites, deliveries, enterprises,
requests, alerts, checkpoints and staff, each only within the caller's jurisdiction.

A role x scope x field enumeration: grid workers of three micro-grids, a community official,
a street official and a caller without a token ask every new top-level field (in one document,
through aliases); what each answer holds must be exactly what the tree (as this test builds
it) puts in the caller's subtree. The relations (household, grid, workload, hours) are read in
batches: a bigger answer runs no more read-model queries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.application import new_member
from gridcore.authority import System
from gridcore.delivery import Item
from gridcore.staff import Role
from tests.api.test_api_access import CALLERS, OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, DISTRICT, STREET, ZONES

VEG = Item(name="爱心菜", quantity=1, unit="份")
ID_HOUSEHOLD, PHONE, ID_NUMBER = "712-2-9", "13700001234", "420102199001011236"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-areas") / "gridcore.sqlite") as w:
        given_boards(w)
        w.caught_up()
        yield w


def zone_households(world: World, zone: str) -> list[str]:
    return sorted(h for h, g in world.households.items() if g == zone)


def given_boards(w: World) -> None:
    """One of everything per community, at grids of both communities."""
    from uuid import UUID

    app = w.app
    # a household whose resident has an ID number on record
    app.register_household(ID_HOUSEHOLD, ZONES[1], "2栋909",
                           [new_member(ID_HOUSEHOLD, 1, "王五", PHONE, ID_NUMBER, 1990)],
                           by=System.OPERATOR)
    w.households[str(app.household_by_no(ID_HOUSEHOLD).id)] = ZONES[1]
    # referrals: one per micro-grid (the first household's first resident)
    for zone in (*ZONES, OTHER_ZONE):
        hid = UUID(zone_households(w, zone)[0])
        rid = sorted(app.household(hid).residents)[0]
        app.open_referral(hid, rid, "fever_clinic", "发热 fever at the door", by=System.AUTOMATION)
    app.register_quarantine_site("QS-STREET", "后湖隔离酒店", STREET, 40, by=System.OPERATOR)
    app.register_quarantine_site("QS-DISTRICT", "江岸隔离点", DISTRICT, 80, by=System.OPERATOR)
    # deliveries: a donation to each community (one per household)
    app.donate_to_scope(COMMUNITY, "DN-712", [VEG], "爱心企业", by=System.OPERATOR)
    app.donate_to_scope(OTHER_COMMUNITY, "DN-713", [VEG], "爱心企业", by=System.OPERATOR)
    # enterprises at a grid of each community
    app.enrol_staff("ES1", "专员", Role.ENTERPRISE_SPECIALIST, STREET, 0, by=System.OPERATOR)
    specialist = app.staff_by_no("ES1").id
    for n, where in enumerate((ZONES[0], ZONES[1], OTHER_ZONE)):
        app.register_enterprise(f"91510100MA61R8X{n:03d}", f"企业{n}", "商务局", where,
                                specialist, by=System.OPERATOR)
    # requests filed by residents of each community
    for n, grid in enumerate((ZONES[0], OTHER_ZONE)):
        app.file_request("online", "supplies", "normal", f"需要买药 {n}", phone="13800138000",
                         address=f"{n}栋101", grid=grid, by=System.PUBLIC)
    # a checkpoint per community with passes and a vehicle alert; the first escalates
    at = w.clock.now
    for n, grid in enumerate((ZONES[0], OTHER_ZONE)):
        app.register_checkpoint(f"CP{n}", grid, f"卡口{n}", by=System.OPERATOR)
        app.raise_vehicle_alert(f"pass-{n}", f"CP{n}", "鄂A1234" + str(n), at,
                                "来自中高风险地区 risk area", by=System.OPERATOR)
    hour = at.replace(minute=0, second=0, microsecond=0)
    app.count_vehicle_passes({("CP0", hour): 12, ("CP1", hour): 5}, "tally-1", by=System.OPERATOR)
    w.clock.advance(hours=3)
    assert app.tick_alerts(w.clock.now) >= 1


AREAS = """{
  referrals { id communityCode household { id microGridCode } escalationSteps { nodeCode } }
  referralStages { state count }
  quarantineSites { code nodeCode capacity free }
  deliveries(first: 100) { nodes { id placeCode household { id } } }
  enterprises { id locationCode location { code } }
  resumptionCounts { status count }
  requests { id communityCode }
  alerts { id gridCode grid { code } }
  alertEscalations(awaitingOnly: false) { alertId fromCode toCode }
  checkpoints { id gridCode hours { passes alerts } }
  staff { id jurisdictionCode workload { day } }
}"""

AREA_CALLERS = {**CALLERS, "GW713": OTHER_ZONE}


@pytest.mark.parametrize("staff_no", list(AREA_CALLERS))
def test_every_board_answers_only_within_the_jurisdiction(world: World,
                                                          staff_no: str | None) -> None:
    scope = AREA_CALLERS[staff_no]
    data = world.ask(AREAS, staff_no)

    def sees(code: str) -> bool:
        return world.sees(scope, code)

    mine = {h for h, g in world.households.items() if sees(g)}
    referred = {h for zone in (*ZONES, OTHER_ZONE) for h in zone_households(world, zone)[:1]}
    assert {r["household"]["id"] for r in data["referrals"]} == referred & mine
    assert all(sees(r["household"]["microGridCode"]) for r in data["referrals"])
    assert sum(s["count"] for s in data["referralStages"]) == len(referred & mine)
    assert {s["code"] for s in data["quarantineSites"]} == {
        c for c, node in (("QS-STREET", STREET), ("QS-DISTRICT", DISTRICT))
        if scope is not None and node in world.parents and sees(node)}
    assert {d["household"]["id"] for d in data["deliveries"]["nodes"]} == mine
    assert len(data["deliveries"]["nodes"]) == len(mine)
    assert sorted(e["locationCode"] for e in data["enterprises"]) == sorted(
        g for g in (ZONES[0], ZONES[1], OTHER_ZONE) if sees(g))
    assert all(e["location"]["code"] == e["locationCode"] for e in data["enterprises"])
    assert sum(c["count"] for c in data["resumptionCounts"]) == len(data["enterprises"])
    assert sorted(r["communityCode"] for r in data["requests"]) == sorted(
        c for c in (COMMUNITY, OTHER_COMMUNITY) if sees(c))
    assert sorted(a["gridCode"] for a in data["alerts"]) == sorted(
        g for g in (ZONES[0], OTHER_ZONE) if sees(g))
    assert all(a["grid"]["code"] == a["gridCode"] for a in data["alerts"])
    alert_ids = {a["id"] for a in data["alerts"]}
    assert {e["alertId"] for e in data["alertEscalations"]} <= alert_ids
    if scope is not None and sees(ZONES[0]):
        assert any(e["fromCode"] == ZONES[0] and e["toCode"] == COMMUNITY
                   for e in data["alertEscalations"])
    assert sorted(c["gridCode"] for c in data["checkpoints"]) == sorted(
        g for g in (ZONES[0], OTHER_ZONE) if sees(g))
    for c in data["checkpoints"]:
        assert c["hours"] == [{"passes": 12 if c["id"] == "CP0" else 5, "alerts": 1}]
    staff_scopes = [world.app.staff(s).home for s in
                    [*world.staff.values(), world.app.staff_by_no("ES1").id]]
    assert sorted(s["jurisdictionCode"] for s in data["staff"]) == sorted(
        j for j in staff_scopes if sees(j))
    if scope is None:  # without a token every board is empty
        assert all(v in ([], {"nodes": []}) or (isinstance(v, list) and all(
            c.get("count", 0) == 0 for c in v)) for v in data.values()), data


@pytest.mark.parametrize(("staff_no", "scope", "visible"), [
    ("STR1", OTHER_COMMUNITY, True), ("STR1", ZONES[0], True), ("OFF1", OTHER_COMMUNITY, False),
    ("GWZ1", COMMUNITY, False), ("GWZ1", ZONES[1], False), ("GWZ1", ZONES[0], True),
    ("STR1", "no-such-node", False),
])
def test_a_scope_argument_narrows_but_never_widens(world: World, staff_no: str, scope: str,
                                                   visible: bool) -> None:
    query = """query($s: String) { referrals(scope: $s) { household { microGridCode } }
      enterprises(scope: $s) { locationCode } alerts(scope: $s) { gridCode }
      deliveries(scope: $s,
                 first: 100) { nodes { placeCode } } staff(scope: $s) { jurisdictionCode }
      checkpoints(scope: $s) { gridCode } }"""
    data = world.ask(query, staff_no, {"s": scope})
    codes = ([r["household"]["microGridCode"] for r in data["referrals"]]
             + [e["locationCode"] for e in data["enterprises"]]
             + [a["gridCode"] for a in data["alerts"]]
             + [d["placeCode"] for d in data["deliveries"]["nodes"]]
             + [s["jurisdictionCode"] for s in data["staff"]]
             + [c["gridCode"] for c in data["checkpoints"]])
    if not visible:
        assert codes == []
        return
    assert codes and all(world.sees(scope, c) for c in codes)


def test_filters_keep_only_matching_rows(world: World) -> None:
    data = world.ask("""{ all: deliveries(first: 100) { nodes { state } }
        ready: deliveries(state: [READY], first: 100) { nodes { state } }
        none: deliveries(state: [DELIVERED]) { nodes { state } }
        fever: referrals(state: [OPENED]) { state kind kindLabel }
        ended: referrals(state: [CLOSED, CANCELLED]) { state }
        vehicle: alerts(kind: VEHICLE) { kind } camera: alerts(kind: CAMERA) { kind } }""",
                      "STR1")
    assert len(data["ready"]["nodes"]) == len(data["all"]["nodes"]) == len(world.households)
    assert data["none"]["nodes"] == [] and data["ended"] == [] and data["camera"] == []
    assert len(data["fever"]) == 3 and all("发热" in r["kindLabel"] for r in data["fever"])
    assert len(data["vehicle"]) == 2


def test_relations_are_batched_whatever_the_answer_size(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A street official's answer holds several times a grid worker's rows, with the same
    number of read-model queries (DataLoaders: no N+1)."""
    views = world.runner.views
    calls: list[str] = []
    query_views = views.query

    def counting(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if threading.current_thread().name != "projections":  # not the runner's catch-ups
            calls.append(sql)
        return query_views(sql, params)

    monkeypatch.setattr(views, "query", counting)
    counts, sizes = {}, {}
    for staff_no in ("GWZ1", "STR1"):
        calls.clear()
        data = world.ask(AREAS, staff_no)
        counts[staff_no] = len(calls)
        sizes[staff_no] = sum(len(v["nodes"] if isinstance(v, dict) else v)
                              for v in data.values())
    assert sizes["STR1"] > 2 * sizes["GWZ1"]
    assert counts["STR1"] == counts["GWZ1"]


def test_staff_phones_are_masked_unless_the_role_may_see_them(world: World) -> None:
    audit = world_audit(world)
    before = len(audit.entries())
    query = '{ staff(role: GRID_WORKER) { staffNo phone } }'
    worker = str(world.staff["GW1"])
    as_volunteer = {s["staffNo"]: s["phone"] for s in world.ask(query, "VOL1")["staff"]}
    assert as_volunteer["GW1"] == "139****1111"
    assert len(audit.entries()) == before  # nothing disclosed, nothing logged
    as_official = {s["staffNo"]: s["phone"] for s in world.ask(query, "OFF1")["staff"]}
    assert as_official["GW1"] == "13900001111"
    entries = audit.entries()[before:]
    assert [(e["reader"], e["field"], e["subject"]) for e in entries] == [
        (str(world.staff["OFF1"]), "StaffMember.phone", worker)]
    assert "13900001111" not in audit.path.read_text()
    assert "1111" not in "".join(str(v) for e in entries for v in e.values())


def world_audit(world: World) -> Any:
    from graphql_api.privacy import AuditLog

    assert world.settings is not None
    return AuditLog(world.settings.audit_file)


def test_one_staff_member_by_id_only_within_the_jurisdiction(world: World) -> None:
    q = 'query($id: ID!) { staffMember(id: $id) { staffNo jurisdiction { code } } }'
    other = str(world.staff["GW713"])
    assert world.ask(q, "STR1", {"id": other})["staffMember"] == {
        "staffNo": "GW713", "jurisdiction": {"code": OTHER_ZONE}}
    assert world.ask(q, "OFF1", {"id": other})["staffMember"] is None
    assert world.ask(q, None, {"id": other})["staffMember"] is None
    assert world.ask(q, "OFF1", {"id": "not-an-id"})["staffMember"] is None


ACK = """mutation($id: ID!, $c: String) { acknowledgeAlert(input: { id: $id, clientId: $c }) {
  __typename ... on AlertUpdated { state notificationId } ... on Problem { code problem } } }"""


def test_acknowledging_an_alert_within_the_jurisdiction_and_not_outside(world: World) -> None:
    alerts = world.ask("{ alerts { id gridCode state } }", "STR1")["alerts"]
    mine = next(a["id"] for a in alerts if a["gridCode"] == ZONES[0])
    theirs = next(a["id"] for a in alerts if a["gridCode"] == OTHER_ZONE)
    refused = world.ask(ACK, "GWZ1", {"id": theirs})["acknowledgeAlert"]
    absent = world.ask(ACK, "GWZ1", {"id": "6f1c5c52-0000-4000-8000-000000000000"})
    assert refused["__typename"] == absent["acknowledgeAlert"]["__typename"] == "NotFoundProblem"
    assert world.ask(ACK, None, {"id": mine})["acknowledgeAlert"]["__typename"] == (
        "NotPermittedProblem")
    first = world.ask(ACK, "GWZ1", {"id": mine, "c": "gwz1:ack:1"})["acknowledgeAlert"]
    assert first["__typename"] == "AlertUpdated" and first["state"] == "ACKNOWLEDGED"
    again = world.ask(ACK, "GWZ1", {"id": mine, "c": "gwz1:ack:1"})["acknowledgeAlert"]
    assert again["__typename"] == "AlertUpdated"
    twice = world.ask(ACK, "GWZ1", {"id": mine})["acknowledgeAlert"]
    assert twice["__typename"] != "AlertUpdated"  # a second acknowledgement is refused
    states = {a["id"]: a["state"] for a in world.ask("{ alerts { id state } }", "GWZ1")["alerts"]}
    assert states == {mine: "ACKNOWLEDGED"}
    resolve = """mutation($id: ID!) { resolveAlert(input: { id: $id, outcome: FALSE_ALARM }) {
      __typename ... on AlertUpdated { state } } }"""
    assert world.ask(resolve, "GWZ1", {"id": mine})["resolveAlert"] == {
        "__typename": "AlertUpdated", "state": "RESOLVED"}
    assert world.ask("{ alerts { id } }", "GWZ1")["alerts"] == []


@pytest.mark.parametrize(("staff_no", "phone", "id_number"), [
    ("DOC1", PHONE, ID_NUMBER),  # a family doctor: both whole
    ("GWZ2", PHONE, "420102********1236"),  # a grid worker: the phone only
    ("VOL1", "137****1234", "420102********1236"),  # a volunteer: neither
])
def test_resident_phone_and_id_number_are_masked_unless_the_role_may_see_them(
        world: World, staff_no: str, phone: str, id_number: str) -> None:
    audit = world_audit(world)
    before = len(audit.entries())
    hid = str(world.app.household_by_no(ID_HOUSEHOLD).id)
    q = 'query($h: ID!) { household(id: $h) { residents { id phone idNumber } } }'
    [resident] = world.ask(q, staff_no, {"h": hid})["household"]["residents"]
    assert (resident["phone"], resident["idNumber"]) == (phone, id_number)
    logged = [(e["reader"], e["field"], e["subject"]) for e in audit.entries()[before:]]
    reader = str(world.staff[staff_no])
    assert sorted(logged) == sorted((reader, f, resident["id"]) for f, whole in (
        ("Resident.phone", phone == PHONE), ("Resident.idNumber", id_number == ID_NUMBER))
        if whole)
    text = audit.path.read_text() if audit.path.exists() else ""
    assert PHONE not in text and ID_NUMBER not in text and "王五" not in text


def test_outside_the_jurisdiction_no_personal_field_is_read(world: World) -> None:
    audit = world_audit(world)
    before = len(audit.entries())
    hid = str(world.app.household_by_no(ID_HOUSEHOLD).id)
    q = 'query($h: ID!) { household(id: $h) { residents { phone idNumber } } }'
    assert world.ask(q, "GWZ1", {"h": hid})["household"] is None
    assert world.ask(q, None, {"h": hid})["household"] is None
    assert len(audit.entries()) == before
