"""The field and desk operations of deliveries, enterprises, quarantine sites, cameras and
checkpoints, risk areas and requests, over a real HTTP server: each as the signed-in staff
member, within their jurisdiction only (a target elsewhere answers exactly like a missing
one), a refused command writes nothing, a role the domain refuses gets a NotPermittedProblem,
and a retried ``clientId`` is applied once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from gridcore.authority import System
from gridcore.building import building_id
from gridcore.enterprise import enterprise_id
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from gridcore.status import Measure
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, DISTRICT, STREET, ZONES

OTHER_ENTERPRISE, MY_ENTERPRISE = "91510100MA61R8X713", "91510100MA61R8X712"
BUILDING = building_id(COMMUNITY, "1")
PROBLEM = "... on Problem { code problem remedy }"
DELIVERY = "... on DeliveryUpdated { notificationId delivery { id kind state ref placeCode " \
           "household { id residents { phone } } enterpriseId } }"
ENTERPRISE = "... on EnterpriseUpdated { notificationId enterprise { id creditCode status " \
             "specialistId locationCode employees } }"
SENSOR = "... on SensorInputRecorded { notificationId alerted alert { id kind gridCode " \
         "detections } }"
RISK = "... on RiskAreaUpdated { declarationId area level start until }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-operations") / "gridcore.sqlite") as w:
        app = w.app
        for no, role, node in (("DL1", Role.DUTY_LEAD, COMMUNITY),
                               ("ES1", Role.ENTERPRISE_SPECIALIST, COMMUNITY),
                               ("ES2", Role.ENTERPRISE_SPECIALIST, COMMUNITY),
                               ("ES713", Role.ENTERPRISE_SPECIALIST, OTHER_COMMUNITY),
                               ("POL1", Role.COMMUNITY_POLICE, COMMUNITY),
                               ("POL713", Role.COMMUNITY_POLICE, OTHER_COMMUNITY)):
            app.enrol_staff(no, "某某", role, node, 20, by=System.OPERATOR)
            w.staff[no] = app.staff_by_no(no).id
        # targets in the other community (713), which no caller of 712 may see
        app.register_enterprise(OTHER_ENTERPRISE, "企业713", "商务局", OTHER_ZONE,
                                w.staff["ES713"], by=System.OPERATOR)
        app.register_enterprise(MY_ENTERPRISE, "企业712", "商务局", ZONES[0], w.staff["ES1"],
                                by=System.OPERATOR)
        theirs = next(h for h, g in w.households.items() if g == OTHER_ZONE)
        app.register_camera("CAM-713", OTHER_ZONE, household_id=UUID(theirs), by=System.OPERATOR)
        app.register_checkpoint("CP-713", OTHER_ZONE, "713卡口", by=System.OPERATOR)
        app.file_request("online", "supplies", "normal", "缺米 out of rice", phone="13800001111",
                         address="9栋101", grid=OTHER_ZONE, by=System.PUBLIC)
        app.register_building(COMMUNITY, "1", "1栋", by=System.OPERATOR)
        w.caught_up()
        yield w


def run(world: World, staff_no: str | None, name: str, input_type: str,
        fields: dict[str, Any], select: str = "") -> dict[str, Any]:
    query = (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
             f"{PROBLEM} {select} }} }}")
    return world.ask(query, staff_no, {"input": fields})[name]


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def households_of(world: World, zone: str) -> list[str]:
    return sorted(h for h, g in world.households.items() if g == zone)


def items(n: float = 1) -> list[dict[str, Any]]:
    return [{"name": "大米", "quantity": n, "unit": "kg"}]


def request_in(world: World, community: str) -> str:
    return str(world.app.open_requests(community)[0].id)


# ---- every new mutation: no token, and a target outside the jurisdiction ---------------------

AT = "2020-02-17T09:00:00+00:00"
NO_TOKEN: dict[str, tuple[str, dict[str, Any]]] = {
    "placeOrder": ("PlaceOrderInput", {"householdId": str(uuid4()), "orderNo": "TG-0",
                                       "items": items()}),
    "donateToScope": ("DonateToScopeInput", {"scope": ZONES[0], "donationNo": "DN-0",
                                             "items": items()}),
    "supplyEnterprise": ("SupplyEnterpriseInput", {"enterpriseId": str(uuid4()),
                                                   "supplyNo": "SP-0", "items": items()}),
    "batchPurchase": ("BatchPurchaseInput", {"community": COMMUNITY}),
    "sealScope": ("SealScopeInput", {"scope": ZONES[0]}),
    "registerEnterprise": ("RegisterEnterpriseInput", {
        "creditCode": "X", "name": "X", "department": "X", "locationCode": ZONES[0],
        "specialistId": str(uuid4())}),
    "assignSpecialist": ("AssignSpecialistInput", {"enterpriseId": str(uuid4()),
                                                   "specialistId": str(uuid4())}),
    "fileResumption": ("FileResumptionInput", {"enterpriseId": str(uuid4()), "items": [],
                                               "employees": 1}),
    "declareEmployeeHealth": ("DeclareEmployeeHealthInput", {"enterpriseId": str(uuid4()),
                                                             "declared": 1}),
    "registerQuarantineSite": ("RegisterQuarantineSiteInput", {
        "code": "QS-0", "name": "X", "nodeCode": STREET, "capacity": 1}),
    "registerCamera": ("RegisterCameraInput", {"cameraId": "C-0", "gridCode": ZONES[0]}),
    "registerCheckpoint": ("RegisterCheckpointInput", {"checkpointId": "CP-0",
                                                       "gridCode": ZONES[0], "name": "X"}),
    "recordCameraDetection": ("CameraDetectionInput", {
        "detectionId": "D-0", "cameraId": "CAM-713", "at": AT, "direction": "IN",
        "confidence": 0.9}),
    "recordVehiclePass": ("VehiclePassInput", {"passId": "P-0", "checkpointId": "CP-713",
                                               "plate": "鄂A12345", "at": AT}),
    "recordTravel": ("TravelRecordInput", {"recordId": "T-0", "plate": "鄂A12345",
                                           "place": "武汉市", "at": AT}),
    "declareRiskArea": ("DeclareRiskAreaInput", {"declarationId": "R-0", "area": "鄂A",
                                                 "level": "HIGH", "start": AT}),
    "liftRiskArea": ("LiftRiskAreaInput", {"declarationId": "R-0", "area": "鄂A", "at": AT}),
    "classifyRequest": ("ClassifyRequestInput", {"id": str(uuid4()), "grade": "URGENT"}),
}


@pytest.mark.parametrize("name", list(NO_TOKEN))
def test_without_a_token_every_operation_is_not_permitted_and_writes_nothing(
        world: World, name: str) -> None:
    input_type, fields = NO_TOKEN[name]
    written = last(world)
    got = run(world, None, name, input_type, fields)
    assert got["__typename"] == "NotPermittedProblem", got
    assert "token" in got["remedy"]
    assert last(world) == written


def outside_and_missing(world: World) -> dict[str, tuple[str, str, dict[str, Any], str, str]]:
    """name -> (caller, input type, fields, the field naming the target, a target outside the
    caller's jurisdiction, a target that does not exist)."""
    theirs_h = households_of(world, OTHER_ZONE)[0]
    theirs_e = str(enterprise_id(OTHER_ENTERPRISE))
    mine_e = str(enterprise_id(MY_ENTERPRISE))
    return {
        "placeOrder": ("GWZ1", *NO_TOKEN["placeOrder"], "householdId", theirs_h,
                       str(uuid4())),
        "donateToScope": ("GWZ1", *NO_TOKEN["donateToScope"], "scope", ZONES[1],
                          f"{COMMUNITY}-99"),
        "supplyEnterprise": ("OFF1", *NO_TOKEN["supplyEnterprise"], "enterpriseId", theirs_e,
                             str(uuid4())),
        "batchPurchase": ("DL1", *NO_TOKEN["batchPurchase"], "community", OTHER_COMMUNITY,
                          f"{STREET}799"),
        "sealScope": ("GWZ1", *NO_TOKEN["sealScope"], "scope", ZONES[1], f"{COMMUNITY}-99"),
        "registerEnterprise": ("OFF1", "RegisterEnterpriseInput", {
            **NO_TOKEN["registerEnterprise"][1], "specialistId": str(world.staff["ES1"])},
            "locationCode", OTHER_ZONE, f"{COMMUNITY}-99"),
        "assignSpecialist": ("OFF1", "AssignSpecialistInput", {
            "enterpriseId": mine_e, "specialistId": ""}, "specialistId",
            str(world.staff["ES713"]), str(uuid4())),
        "fileResumption": ("OFF1", *NO_TOKEN["fileResumption"], "enterpriseId", theirs_e,
                           str(uuid4())),
        "declareEmployeeHealth": ("OFF1", *NO_TOKEN["declareEmployeeHealth"], "enterpriseId",
                                  theirs_e, str(uuid4())),
        "registerQuarantineSite": ("STR1", *NO_TOKEN["registerQuarantineSite"], "nodeCode",
                                   DISTRICT, f"{DISTRICT}999"),
        "registerCamera": ("GWZ1", *NO_TOKEN["registerCamera"], "gridCode", ZONES[1],
                           f"{COMMUNITY}-99"),
        "registerCheckpoint": ("GWZ1", *NO_TOKEN["registerCheckpoint"], "gridCode", ZONES[1],
                               f"{COMMUNITY}-99"),
        "recordCameraDetection": ("GWZ1", *NO_TOKEN["recordCameraDetection"], "cameraId",
                                  "CAM-713", "CAM-999"),
        "recordVehiclePass": ("OFF1", *NO_TOKEN["recordVehiclePass"], "checkpointId",
                              "CP-713", "CP-999"),
        "classifyRequest": ("OFF1", *NO_TOKEN["classifyRequest"], "id",
                            request_in(world, OTHER_COMMUNITY), str(uuid4())),
    }


TARGETED = ["placeOrder", "donateToScope", "supplyEnterprise", "batchPurchase", "sealScope",
            "registerEnterprise", "assignSpecialist", "fileResumption", "declareEmployeeHealth",
            "registerQuarantineSite", "registerCamera", "registerCheckpoint",
            "recordCameraDetection", "recordVehiclePass", "classifyRequest"]


@pytest.mark.parametrize("name", TARGETED)
def test_a_target_outside_the_jurisdiction_answers_like_a_missing_one(world: World,
                                                                      name: str) -> None:
    caller, input_type, fields, key, outside, missing = outside_and_missing(world)[name]
    written = last(world)
    there = run(world, caller, name, input_type, {**fields, key: outside})
    absent = run(world, caller, name, input_type, {**fields, key: missing})
    assert there["__typename"] == absent["__typename"] == "NotFoundProblem", (there, absent)
    assert there["problem"].replace(outside, "X") == absent["problem"].replace(missing, "X")
    assert there["remedy"] == absent["remedy"]
    assert last(world) == written


# ---- deliveries ------------------------------------------------------------------------------

def test_an_order_is_placed_once_bought_by_the_duty_lead_only_and_masked_below_its_role(
        world: World) -> None:
    hid = households_of(world, ZONES[0])[0]
    fields = {"householdId": hid, "orderNo": "TG-1", "items": items(5), "clientId": "vol1:1"}
    placed = run(world, "VOL1", "placeOrder", "PlaceOrderInput", fields, DELIVERY)
    assert placed["__typename"] == "DeliveryUpdated", placed
    d = placed["delivery"]
    assert (d["kind"], d["state"], d["ref"], d["placeCode"], d["household"]["id"]) == (
        "ORDER", "ORDERED", "TG-1", ZONES[0], hid)
    phones = [r["phone"] for r in d["household"]["residents"] if r["phone"]]
    assert phones == ["138****1234"]  # a volunteer sees the resident's phone masked
    written = last(world)
    again = run(world, "VOL1", "placeOrder", "PlaceOrderInput", fields, DELIVERY)
    assert again["delivery"]["id"] == d["id"] and last(world) == written  # applied once
    twice = run(world, "VOL1", "placeOrder", "PlaceOrderInput", {**fields, "clientId": None})
    assert (twice["__typename"], twice["code"]) == ("CommandRejected", "DUPLICATE")
    bad = run(world, "GWZ1", "placeOrder", "PlaceOrderInput",
              {**fields, "orderNo": "TG-2", "items": items(-1), "clientId": None})
    assert bad["__typename"] == "InvalidInputProblem" and "positive" in bad["remedy"]
    assert last(world) == written

    buy = {"community": COMMUNITY, "orderIds": [d["id"]], "clientId": "dl1:buy:1"}
    select = "... on PurchaseBatch { batchNo buyerId totals { name quantity unit } " \
             "orders { id state } }"
    refused = run(world, "OFF1", "batchPurchase", "BatchPurchaseInput", buy, select)
    assert refused["__typename"] == "NotPermittedProblem" and "总值班" in refused["remedy"]
    assert last(world) == written
    bought = run(world, "DL1", "batchPurchase", "BatchPurchaseInput", buy, select)
    assert bought["__typename"] == "PurchaseBatch", bought
    assert (bought["batchNo"], bought["buyerId"]) == (1, str(world.staff["DL1"]))
    assert bought["totals"] == [{"name": "大米", "quantity": 5.0, "unit": "kg"}]
    assert bought["orders"] == [{"id": d["id"], "state": "READY"}]
    written = last(world)
    retried = run(world, "DL1", "batchPurchase", "BatchPurchaseInput", buy, select)
    assert retried["batchNo"] == 1 and last(world) == written
    nothing = run(world, "DL1", "batchPurchase", "BatchPurchaseInput", {"community": COMMUNITY})
    assert nothing["__typename"] == "InvalidInputProblem" and last(world) == written


def test_a_donation_reaches_every_household_of_a_zone_once(world: World) -> None:
    fields = {"scope": ZONES[1], "donationNo": "DN-1", "items": items(), "donor": "爱心企业",
              "clientId": "dl1:dn:1"}
    select = "... on DonationPlaced { donationNo households deliveries { kind state " \
             "household { id } } }"
    done = run(world, "DL1", "donateToScope", "DonateToScopeInput", fields, select)
    assert done["__typename"] == "DonationPlaced", done
    mine = households_of(world, ZONES[1])
    assert done["households"] == len(mine) == len(done["deliveries"])
    assert sorted(d["household"]["id"] for d in done["deliveries"]) == mine
    assert {(d["kind"], d["state"]) for d in done["deliveries"]} == {("DONATION", "READY")}
    written = last(world)
    again = run(world, "DL1", "donateToScope", "DonateToScopeInput", fields, select)
    assert again["households"] == len(mine) and last(world) == written
    twice = run(world, "DL1", "donateToScope", "DonateToScopeInput",
                {**fields, "clientId": None})
    assert twice["code"] == "DUPLICATE" and last(world) == written

    # zone 2 has no squad: the duty lead names who goes, from their own jurisdiction only
    dispatch = """mutation($s: String!, $staff: [ID!]) { dispatchDeliveries(
      input: { scope: $s, staffIds: $staff }) { __typename
      ... on DeliveriesDispatched { deliveries { state } }
      ... on Problem { code problem remedy } } }"""
    stranger = world.ask(dispatch, "DL1", {"s": ZONES[1],
                                        "staff": [str(world.staff["GW713"])]})
    assert stranger["dispatchDeliveries"]["__typename"] == "NotFoundProblem"
    assert last(world) == written
    sent = world.ask(dispatch, "DL1", {"s": ZONES[1], "staff": [str(world.staff["GWZ2"])]})
    states = [d["state"] for d in sent["dispatchDeliveries"]["deliveries"]]
    assert states == ["DISPATCHED"] * len(mine)


def test_an_enterprise_of_the_jurisdiction_is_supplied(world: World) -> None:
    eid = str(enterprise_id(MY_ENTERPRISE))
    fields = {"enterpriseId": eid, "supplyNo": "SP-1", "items": items(100),
              "clientId": "off1:sp:1"}
    done = run(world, "OFF1", "supplyEnterprise", "SupplyEnterpriseInput", fields, DELIVERY)
    assert done["__typename"] == "DeliveryUpdated", done
    assert (done["delivery"]["kind"], done["delivery"]["state"],
            done["delivery"]["enterpriseId"], done["delivery"]["placeCode"]) == (
        "SUPPLY", "READY", eid, ZONES[0])
    # it goes to no household: where to go (the AtHousehold fields) is null
    world.caught_up()
    where = world.ask("""query($id: ID!) { node(id: $id) { ... on AtHousehold {
      household { id } householdNo buildingNo address } } }""", "OFF1",
                      {"id": done["delivery"]["id"]})["node"]
    assert where == {"household": None, "householdNo": None, "buildingNo": None,
                     "address": None}
    written = last(world)
    assert run(world, "OFF1", "supplyEnterprise", "SupplyEnterpriseInput", fields,
               DELIVERY)["delivery"]["id"] == done["delivery"]["id"]
    assert last(world) == written


def test_a_zone_is_sealed_once(world: World) -> None:
    since = datetime(2020, 2, 22, tzinfo=UTC)
    fields = {"scope": ZONES[0], "since": since.isoformat(), "clientId": "gwz1:seal:1"}
    select = "... on ScopeSealed { scopeCode sealedSince }"
    world.clock.now = max(world.clock.now, since + timedelta(hours=1))
    sealed = run(world, "POL1", "sealScope", "SealScopeInput", fields, select)
    assert sealed == {"__typename": "ScopeSealed", "scopeCode": ZONES[0],
                      "sealedSince": since.isoformat()}
    written = last(world)
    assert run(world, "POL1", "sealScope", "SealScopeInput", fields, select) == sealed
    again = run(world, "POL1", "sealScope", "SealScopeInput", {**fields, "clientId": None})
    assert again["__typename"] == "InvalidInputProblem" and "already sealed" in again["problem"]
    naive = run(world, "POL1", "sealScope", "SealScopeInput",
                {"scope": ZONES[1], "since": "2020-02-22T00:00:00"})
    assert naive["__typename"] == "InvalidInputProblem" and "time zone" in naive["problem"]
    assert last(world) == written
    assert world.app.scope_sealed_since(ZONES[1]) is None


# ---- enterprises -----------------------------------------------------------------------------

def test_an_enterprise_is_registered_filed_declared_and_given_another_specialist(
        world: World) -> None:
    code = "91510100MA61R8X777"
    es1, es2 = str(world.staff["ES1"]), str(world.staff["ES2"])
    fields = {"creditCode": code, "name": "成都某厂", "department": "经信局",
              "locationCode": ZONES[1], "specialistId": es1, "clientId": "off1:ent:1"}
    done = run(world, "OFF1", "registerEnterprise", "RegisterEnterpriseInput", fields,
               ENTERPRISE)
    assert done["__typename"] == "EnterpriseUpdated", done
    e = done["enterprise"]
    assert (e["creditCode"], e["status"], e["specialistId"], e["locationCode"]) == (
        code, "NOT_FILED", es1, ZONES[1])
    written = last(world)
    assert run(world, "OFF1", "registerEnterprise", "RegisterEnterpriseInput", fields,
               ENTERPRISE)["enterprise"]["id"] == e["id"]
    worker = run(world, "OFF1", "registerEnterprise", "RegisterEnterpriseInput",
                 {**fields, "creditCode": code + "1", "specialistId": str(world.staff["GWZ1"]),
                  "clientId": None})
    assert worker["__typename"] == "InvalidInputProblem" and "enterprise_specialist" in (
        worker["remedy"])
    assert last(world) == written

    checklist = list(DEFAULT_POLICY.resumption_checklist)
    short = run(world, "ES1", "fileResumption", "FileResumptionInput",
                {"enterpriseId": e["id"], "items": checklist[:1], "employees": 30})
    assert (short["__typename"], short["code"]) == ("InvalidInputProblem",
                                                    "CHECKLIST_INCOMPLETE")
    assert checklist[-1] in short["problem"] + short["remedy"]
    assert last(world) == written
    filed = run(world, "ES1", "fileResumption", "FileResumptionInput",
                {"enterpriseId": e["id"], "items": checklist, "employees": 30,
                 "clientId": "es1:file:1"}, ENTERPRISE)
    assert (filed["enterprise"]["status"], filed["enterprise"]["employees"]) == ("FILED", 30)
    too_many = run(world, "ES1", "declareEmployeeHealth", "DeclareEmployeeHealthInput",
                   {"enterpriseId": e["id"], "declared": 31})
    assert too_many["__typename"] == "InvalidInputProblem"
    declared = run(world, "ES1", "declareEmployeeHealth", "DeclareEmployeeHealthInput",
                   {"enterpriseId": e["id"], "declared": 30, "clientId": "es1:decl:1"},
                   ENTERPRISE)
    assert declared["__typename"] == "EnterpriseUpdated"
    written = last(world)
    assert run(world, "ES1", "declareEmployeeHealth", "DeclareEmployeeHealthInput",
               {"enterpriseId": e["id"], "declared": 30, "clientId": "es1:decl:1"},
               ENTERPRISE)["__typename"] == "EnterpriseUpdated"
    assert last(world) == written
    # the declaration is what lets its specialist approve the filing
    review = world.ask("mutation($id: ID!) { reviewResumption(input: { id: $id, approved: true "
                       "}) { __typename ... on EnterpriseUpdated { enterprise { status } } } }",
                       "ES1", {"id": e["id"]})["reviewResumption"]
    assert review["enterprise"]["status"] == "APPROVED"

    moved = run(world, "OFF1", "assignSpecialist", "AssignSpecialistInput",
                {"enterpriseId": e["id"], "specialistId": es2, "clientId": "off1:as:1"},
                ENTERPRISE)
    assert moved["enterprise"]["specialistId"] == es2
    same = run(world, "OFF1", "assignSpecialist", "AssignSpecialistInput",
               {"enterpriseId": e["id"], "specialistId": es2})
    assert same["__typename"] == "InvalidInputProblem" and "different" in same["remedy"]


# ---- quarantine sites ------------------------------------------------------------------------

def test_a_street_registers_its_quarantine_site_once(world: World) -> None:
    fields = {"code": "QS-9", "name": "后湖隔离酒店", "nodeCode": STREET, "capacity": 40,
              "clientId": "str1:qs:1"}
    select = "... on QuarantineSiteRegistered { site { code name nodeCode capacity free } }"
    done = run(world, "STR1", "registerQuarantineSite", "RegisterQuarantineSiteInput", fields,
               select)
    assert done == {"__typename": "QuarantineSiteRegistered", "site": {
        "code": "QS-9", "name": "后湖隔离酒店", "nodeCode": STREET, "capacity": 40, "free": 40}}
    written = last(world)
    assert run(world, "STR1", "registerQuarantineSite", "RegisterQuarantineSiteInput", fields,
               select) == done
    twice = run(world, "STR1", "registerQuarantineSite", "RegisterQuarantineSiteInput",
                {**fields, "clientId": None})
    assert twice["code"] == "DUPLICATE" and last(world) == written
    sites = world.ask("{ quarantineSites { code } }", "STR1")["quarantineSites"]
    assert {"code": "QS-9"} in sites


# ---- cameras, checkpoints, travel and risk areas ---------------------------------------------

def test_a_pass_alerts_after_a_risk_area_is_declared_and_a_retry_is_applied_once(
        world: World) -> None:
    select = "... on CheckpointRegistered { checkpoint { id name gridCode } }"
    cp = run(world, "POL1", "registerCheckpoint", "RegisterCheckpointInput",
             {"checkpointId": "CP-1", "gridCode": ZONES[0], "name": "后湖卡口"}, select)
    assert cp["checkpoint"] == {"id": "CP-1", "name": "后湖卡口", "gridCode": ZONES[0]}
    taken = run(world, "POL713", "registerCheckpoint", "RegisterCheckpointInput",
                {"checkpointId": "CP-1", "gridCode": OTHER_ZONE, "name": "X"})
    assert taken["code"] == "DUPLICATE"
    assert ZONES[0] not in taken["problem"] + taken["remedy"]  # nothing of where it is
    assert "后湖" not in taken["problem"] + taken["remedy"]
    assert world.ask("{ checkpoints { id } }", "GWZ1")["checkpoints"] == [{"id": "CP-1"}]

    now = world.clock.advance(hours=1)
    start = (now - timedelta(days=3)).isoformat()
    declared = run(world, "OFF1", "declareRiskArea", "DeclareRiskAreaInput",
                   {"declarationId": "R-1", "area": " 鄂B ", "level": "HIGH", "start": start,
                    "clientId": "off1:risk:1"}, RISK)
    assert declared == {"__typename": "RiskAreaUpdated", "declarationId": "R-1", "area": "鄂B",
                        "level": "HIGH", "start": start, "until": None}
    travel = run(world, "POL1", "recordTravel", "TravelRecordInput",
                 {"recordId": "T-1", "plate": "鄂a·54321", "place": "鄂州市",
                  "at": (now - timedelta(days=1)).isoformat()},
                 "... on TravelRecorded { plate place }")
    assert travel == {"__typename": "TravelRecorded", "plate": "鄂A54321", "place": "鄂州市"}

    written = last(world)
    calm = run(world, "GWZ1", "recordVehiclePass", "VehiclePassInput",
               {"passId": "P-1", "checkpointId": "CP-1", "plate": "鄂A54321",
                "at": now.isoformat()}, SENSOR)
    assert (calm["alerted"], calm["alert"]) == (False, None)
    assert last(world) == written  # a pass that does not alert writes nothing
    fields = {"passId": "P-2", "checkpointId": "CP-1", "plate": "鄂B12345",
              "at": now.isoformat(), "clientId": "gwz1:pass:2"}
    raised = run(world, "GWZ1", "recordVehiclePass", "VehiclePassInput", fields, SENSOR)
    assert raised["alerted"] is True, raised
    assert (raised["alert"]["kind"], raised["alert"]["gridCode"]) == ("VEHICLE", ZONES[0])
    written = last(world)
    again = run(world, "GWZ1", "recordVehiclePass", "VehiclePassInput", fields, SENSOR)
    assert again["alert"]["id"] == raised["alert"]["id"] and last(world) == written
    bad_plate = run(world, "GWZ1", "recordVehiclePass", "VehiclePassInput",
                    {**fields, "passId": "P-3", "plate": "nope", "clientId": None})
    assert bad_plate["__typename"] == "InvalidInputProblem" and "鄂A12345" in (
        bad_plate["remedy"])
    assert last(world) == written

    lifted = run(world, "OFF1", "liftRiskArea", "LiftRiskAreaInput",
                 {"declarationId": "R-1", "area": "鄂B", "at": now.isoformat()}, RISK)
    assert lifted["until"] == now.isoformat()
    after = run(world, "GWZ1", "recordVehiclePass", "VehiclePassInput",
                {**fields, "passId": "P-4", "at": (now + timedelta(minutes=1)).isoformat(),
                 "clientId": None}, SENSOR)
    assert after["alerted"] is False


def test_a_camera_at_a_quarantined_door_alerts_and_a_building_camera_needs_its_community(
        world: World) -> None:
    hid = households_of(world, ZONES[0])[1]
    select = "... on CameraRegistered { camera { id gridCode householdId buildingId } }"
    fields = {"cameraId": "CAM-1", "gridCode": ZONES[0], "householdId": hid,
              "clientId": "gwz1:cam:1"}
    cam = run(world, "POL1", "registerCamera", "RegisterCameraInput", fields, select)
    assert cam["camera"] == {"id": "CAM-1", "gridCode": ZONES[0], "householdId": hid,
                             "buildingId": None}
    both = run(world, "POL1", "registerCamera", "RegisterCameraInput",
               {**fields, "cameraId": "CAM-2", "buildingId": str(BUILDING), "clientId": None})
    assert both["__typename"] == "InvalidInputProblem" and "not both" in both["remedy"]
    entrance = run(world, "POL1", "registerCamera", "RegisterCameraInput",
                   {"cameraId": "CAM-3", "gridCode": ZONES[0], "buildingId": str(BUILDING)},
                   select)
    assert entrance["camera"]["buildingId"] == str(BUILDING)
    written = last(world)
    elsewhere = run(world, "POL713", "registerCamera", "RegisterCameraInput",
                    {"cameraId": "CAM-4", "gridCode": OTHER_ZONE, "buildingId": str(BUILDING)})
    absent = run(world, "POL713", "registerCamera", "RegisterCameraInput",
                 {"cameraId": "CAM-4", "gridCode": OTHER_ZONE, "buildingId": str(uuid4())})
    assert elsewhere["__typename"] == absent["__typename"] == "NotFoundProblem"
    assert elsewhere["remedy"] == absent["remedy"] and last(world) == written

    rid = next(iter(world.app.household(UUID(hid)).residents))
    world.runner.wait(world.app.change_measure(UUID(hid), rid, Measure.HOME_QUARANTINE,
                                               world.staff["OFF1"], "密接"))
    at = world.clock.advance(minutes=5)
    detection = {"detectionId": "D-1", "cameraId": "CAM-1", "at": at.isoformat(),
                 "direction": "OUT", "confidence": 0.95, "clientId": "cam1:d1"}
    low = run(world, "GWZ1", "recordCameraDetection", "CameraDetectionInput",
              {**detection, "detectionId": "D-0", "confidence": 0.1, "clientId": None},
              SENSOR)
    assert low["alerted"] is False and last(world) > written  # (the measure was written)
    written = last(world)
    seen = run(world, "GWZ1", "recordCameraDetection", "CameraDetectionInput", detection,
               SENSOR)
    assert seen["alerted"] is True and seen["alert"]["kind"] == "CAMERA", seen
    assert seen["alert"]["detections"] == 1 and last(world) > written
    written = last(world)
    again = run(world, "GWZ1", "recordCameraDetection", "CameraDetectionInput", detection,
                SENSOR)
    assert again["alert"]["id"] == seen["alert"]["id"] and last(world) == written
    joined = run(world, "GWZ1", "recordCameraDetection", "CameraDetectionInput",
                 {**detection, "detectionId": "D-2", "clientId": "cam1:d2",
                  "at": (at + timedelta(minutes=1)).isoformat()}, SENSOR)
    assert joined["alert"]["id"] == seen["alert"]["id"]
    assert joined["alert"]["detections"] == 2
    written = last(world)
    retried = run(world, "GWZ1", "recordCameraDetection", "CameraDetectionInput",
                  {**detection, "detectionId": "D-2", "clientId": "cam1:d2",
                   "at": (at + timedelta(minutes=1)).isoformat()}, SENSOR)
    assert retried["alert"]["id"] == seen["alert"]["id"] and last(world) == written
    naive = run(world, "GWZ1", "recordCameraDetection", "CameraDetectionInput",
                {**detection, "detectionId": "D-3", "at": "2020-02-17T09:00:00",
                 "clientId": None})
    assert naive["__typename"] == "InvalidInputProblem" and last(world) == written


def test_a_grid_worker_may_not_declare_risk_areas_or_set_up_devices_and_writes_nothing(
        world: World) -> None:
    written = last(world)
    for name in ("declareRiskArea", "recordTravel", "registerCheckpoint", "registerCamera",
                 "sealScope", "registerQuarantineSite"):
        input_type, fields = NO_TOKEN[name]
        if name == "registerQuarantineSite":
            fields = {**fields, "nodeCode": ZONES[0]}
        refused = run(world, "GWZ1", name, input_type, fields)
        assert refused["__typename"] == "NotPermittedProblem", (name, refused)
        assert "grid_worker" in refused["problem"] and "official" in refused["remedy"]
    assert last(world) == written


# ---- requests --------------------------------------------------------------------------------

def test_a_request_is_regraded_once_by_its_community(world: World) -> None:
    filing = world.app.file_request("hotline", "supplies", "normal", "需要买药 medicine",
                                    phone="13800002222", address="1栋101", grid=ZONES[0],
                                    by=System.PUBLIC)
    world.caught_up()
    before = world.app.request(filing.request_id).deadline
    select = "... on RequestUpdated { request { reference number category grade deadline } }"
    fields = {"id": str(filing.request_id), "grade": "URGENT", "category": "MEDICAL",
              "clientId": "off1:cls:1"}
    done = run(world, "OFF1", "classifyRequest", "ClassifyRequestInput", fields, select)
    assert done["__typename"] == "RequestUpdated", done
    r = done["request"]
    number = world.app.request(filing.request_id).number
    assert (r["number"], r["grade"], r["category"]) == (number, "URGENT", "MEDICAL")
    assert r["reference"] is None  # the resident's secret: never on a staff screen
    assert before is not None and datetime.fromisoformat(r["deadline"]) < before
    written = last(world)
    assert run(world, "OFF1", "classifyRequest", "ClassifyRequestInput", fields,
               select)["request"] == r
    assert last(world) == written
    no_grid_worker = run(world, "GWZ1", "classifyRequest", "ClassifyRequestInput",
                         {**fields, "clientId": None})
    assert no_grid_worker["__typename"] == "NotFoundProblem"  # the community's, not a zone's
    assert last(world) == written


def test_problem_texts_name_no_internals(world: World) -> None:
    """A command refused deep in the domain still answers in words a person can act on."""
    got = run(world, "DL1", "batchPurchase", "BatchPurchaseInput",
              {"community": ZONES[0]})
    assert got["__typename"] == "InvalidInputProblem"
    assert "社区" in got["remedy"]
    assert not re.search(r"Traceback|SELECT|/work", got["problem"] + got["remedy"])


def test_node_by_id_finds_an_enterprise_only_within_the_jurisdiction(world: World) -> None:
    mine = str(world.app.enterprise_by_code(MY_ENTERPRISE).id)
    theirs = str(world.app.enterprise_by_code(OTHER_ENTERPRISE).id)
    query = (f'{{ a: node(id: "{mine}") {{ __typename id ... on Enterprise {{ creditCode }} }} '
             f'b: node(id: "{theirs}") {{ id }} }}')
    assert world.ask(query, "GWZ1") == {
        "a": {"__typename": "Enterprise", "id": mine, "creditCode": MY_ENTERPRISE}, "b": None}
    assert world.ask(query, "GW713")["a"] is None
    assert world.ask(query, "GW713")["b"] == {"id": theirs}
