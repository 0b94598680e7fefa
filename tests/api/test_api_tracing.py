"""Contact tracing (流调) over a real HTTP server, as one journey: a doctor opens a case for a
resident and records two close contacts (a person outside the register, later matched to a
resident through a proposal a person confirms, and one still to be located), one of whom has
a secondary contact; the matched resident gets 密接 and the policy's measure; the contact
follow-up read model lists them under the grid (now and at a past time); the close contact's
own case, confirmed, promotes the secondary contact; ruling a case out releases its contacts;
names are masked below the roles that may see them, and a caller without a token, or from
another community, gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from gridcore.authority import System
from gridcore.staff import ERASED_LABEL
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
CASE_FIELDS = """id caseNo status scopeCode closeContacts secondaryContacts following
  clusterCases clusterSize"""
CONTACT_FIELDS = """personId caseNo gridCode generation kind measure until status toLocate
  residentId becameCaseId name"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-tracing") / "gridcore.sqlite") as w:
        yield w


def resident(world: World, zone: str, index: int, name: str) -> tuple[str, str]:
    hid = sorted(h for h, g in world.households.items() if g == zone)[index]
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id name }} }} }}', "OFF1")
    return hid, next(r["id"] for r in data["household"]["residents"] if r["name"] == name)


def call(world: World, staff_no: str | None, name: str, input_type: str,
         fields: dict[str, Any], success: str) -> dict[str, Any]:
    query = (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
             f"{success} {PROBLEM} }} }}")
    return world.ask(query, staff_no, {"input": fields})[name]


def step(world: World, staff_no: str | None, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    input_type = name[0].upper() + name[1:] + "Input"
    return call(world, staff_no, name, input_type, fields,
                f"... on CaseUpdated {{ notificationId case {{ {CASE_FIELDS} }} }}")


def expose(world: World, staff_no: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    return call(world, staff_no, "recordExposure", "RecordExposureInput", fields,
                f"... on ExposureRecorded {{ personId generation case {{ {CASE_FIELDS} }} }}")


def contacts(world: World, staff_no: str | None, scope: str | None = None,
             as_of: str | None = None) -> dict[str, dict[str, Any]]:
    args = ", ".join(a for a in (f'scope: "{scope}"' if scope else "",
                                 f'asOf: "{as_of}"' if as_of else "") if a)
    data = world.ask(f"{{ contactsUnderFollowUp{f'({args})' if args else ''} "
                     f"{{ {CONTACT_FIELDS} }} }}", staff_no)
    return {c["personId"]: c for c in data["contactsUnderFollowUp"]}


def resident_status(world: World, hid: str, rid: str) -> dict[str, Any]:
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ id measure tags }} }} }}',
                     "OFF1")
    return next(r for r in data["household"]["residents"] if r["id"] == rid)


def test_a_case_its_contacts_their_measures_and_who_sees_them(world: World) -> None:
    clock = world.clock
    index_h, index_r = resident(world, ZONES[0], 0, "张三")
    match_h, match_r = resident(world, ZONES[0], 1, "张三")
    second_h, second_r = resident(world, ZONES[1], 0, "李四")
    exposed = (clock.now - timedelta(days=1)).isoformat()

    opened = step(world, "DOC1", "openCase", {
        "caseNo": "WH-J1", "scope": COMMUNITY, "reason": "发热就诊", "householdId": index_h,
        "residentId": index_r, "clientId": "doc1:case:1"})
    assert opened["__typename"] == "CaseUpdated", opened
    assert (opened["case"]["caseNo"], opened["case"]["status"]) == ("WH-J1", "SUSPECTED")
    again = step(world, "DOC1", "openCase", {
        "caseNo": "WH-J1", "scope": COMMUNITY, "reason": "发热就诊", "householdId": index_h,
        "residentId": index_r, "clientId": "doc1:case:1"})
    assert again["__typename"] == "CaseUpdated"  # a retry is applied once
    refused = step(world, "GW1", "openCase", {"caseNo": "WH-J9", "scope": COMMUNITY,
                                              "person": {"name": "某人"}})
    assert refused["__typename"] == "NotPermittedProblem"  # a grid worker traces no contacts

    # two close contacts: a person the investigation names (later matched) and one to locate
    base = {"caseNo": "WH-J1", "exposedAt": exposed, "closeness": "FACE_TO_FACE"}
    met = expose(world, "DOC1", {**base, "setting": "GATHERING", "place": "饭店",
                                 "person": {"name": "张叁", "phone": "13812341234"}})
    assert met["__typename"] == "ExposureRecorded" and met["generation"] == 1, met
    away = expose(world, "DOC1", {**base, "setting": "TRANSPORT", "place": "K123次列车",
                                  "person": {"name": "外地亲戚", "phone": "13700001111"}})
    assert away["case"]["closeContacts"] == 2
    matched_pid, away_pid = met["personId"], away["personId"]

    # the match is only proposed (another name, the same phone), then a person confirms it
    proposed = call(world, "DOC1", "matchContact", "MatchContactInput", {
        "caseNo": "WH-J1", "personId": matched_pid, "householdId": match_h,
        "residentId": match_r}, "... on ContactMatched { applied }")
    assert proposed == {"__typename": "ContactMatched", "applied": False}
    assert resident_status(world, match_h, match_r)["tags"] == []
    confirmed = step(world, "OFF1", "confirmMatch", {"caseNo": "WH-J1",
                                                     "personId": matched_pid})
    assert confirmed["__typename"] == "CaseUpdated", confirmed
    policy = world.ask("{ policy { closeContactMeasure closeContactDays "
                       "secondaryContactMeasure secondaryContactDays ruledOutReleaseTo } }",
                       "OFF1")["policy"]
    after = resident_status(world, match_h, match_r)
    assert after["tags"] == ["CLOSE_CONTACT"]
    assert after["measure"] == policy["closeContactMeasure"].upper()

    # the matched contact's secondary contact, a resident of the other zone
    sec = expose(world, "DOC1", {**base, "setting": "WORKPLACE", "place": "公司",
                                 "closeness": "SAME_SPACE", "viaPersonId": matched_pid,
                                 "householdId": second_h, "residentId": second_r})
    assert sec["generation"] == 2 and sec["case"]["secondaryContacts"] == 1
    second_pid = sec["personId"]
    assert resident_status(world, second_h, second_r) == {
        "id": second_r, "tags": ["SECONDARY_CONTACT"],
        "measure": policy["secondaryContactMeasure"].upper()}
    before_promotion = clock.now.isoformat()
    clock.advance(hours=1)

    # the read model lists them where they are followed up
    zone = contacts(world, "GWZ1", ZONES[0])
    assert set(zone) == {matched_pid}
    m = zone[matched_pid]
    assert (m["gridCode"], m["generation"], m["kind"], m["status"], m["toLocate"],
            m["residentId"]) == (ZONES[0], 1, "CLOSE_CONTACT", "FOLLOWING", False, match_r)
    assert m["until"].startswith(
        (clock.now - timedelta(days=1, hours=1) + timedelta(
            days=policy["closeContactDays"])).date().isoformat())
    every = contacts(world, "DOC1")
    assert set(every) == {matched_pid, away_pid, second_pid}
    assert (every[away_pid]["gridCode"], every[away_pid]["toLocate"]) == (COMMUNITY, True)
    assert every[second_pid]["gridCode"] == ZONES[1]
    assert contacts(world, "GW713") == {}  # another community follows up none of them
    nodes = world.ask(f'{{ contactFollowUpByNode(scope: "{COMMUNITY}") {{ code '
                      "closeContacts secondaryContacts toLocate cases } }",
                      "OFF1")["contactFollowUpByNode"]
    by_code = {n["code"]: n for n in nodes}
    assert by_code[COMMUNITY] == {"code": COMMUNITY, "closeContacts": 2,
                                  "secondaryContacts": 1, "toLocate": 1, "cases": 1}
    assert by_code[ZONES[1]]["secondaryContacts"] == 1

    # names: the doctor sees them whole; a grid worker sees a person outside the register
    # masked (a matched resident reads as a resident: whole for grid workers); a volunteer
    # sees residents' names masked too
    assert every[away_pid]["name"] == "外地亲戚" and every[matched_pid]["name"] == "张三"
    gw = contacts(world, "GW1")
    assert gw[away_pid]["name"] == "外***" and gw[matched_pid]["name"] == "张三"
    vol = contacts(world, "VOL1")
    assert vol[matched_pid]["name"] == "张*" and vol[away_pid]["name"] == "外***"
    audit = Path(world.settings.audit_file if world.settings else "")
    assert any('"TracedPerson.name"' in line and away_pid in line
               for line in audit.read_text(encoding="utf-8").splitlines())

    # the close contact's own case, confirmed: the secondary contact is promoted
    child = step(world, "DOC1", "openCase", {"caseNo": "WH-J2", "scope": COMMUNITY,
                                             "sourceCaseNo": "WH-J1",
                                             "sourcePersonId": matched_pid})
    assert child["__typename"] == "CaseUpdated", child
    done = step(world, "DOC1", "confirmCase", {"caseNo": "WH-J2", "reason": "核酸阳性"})
    assert done["case"]["status"] == "CONFIRMED"
    assert resident_status(world, second_h, second_r)["tags"] == ["CLOSE_CONTACT"]
    promoted = contacts(world, "DOC1")[second_pid]
    assert (promoted["kind"], promoted["generation"], promoted["measure"]) == (
        "CLOSE_CONTACT", 2, policy["closeContactMeasure"].upper())
    then = contacts(world, "DOC1", as_of=before_promotion)[second_pid]
    assert (then["kind"], then["measure"]) == ("SECONDARY_CONTACT",
                                               policy["secondaryContactMeasure"].upper())
    case = world.ask('{ case(caseNo: "WH-J1") { caseNo clusterCases clusterSize '
                     "chain { caseNo generation status } contacts(generation: 1) { personId "
                     "becameCaseId } indexName } }", "DOC1")["case"]
    assert case["chain"] == [{"caseNo": "WH-J1", "generation": 0, "status": "SUSPECTED"},
                             {"caseNo": "WH-J2", "generation": 1, "status": "CONFIRMED"}]
    assert case["clusterCases"] == 2 and case["indexName"] == "张三"
    up = world.ask('{ case(caseNo: "WH-J2") { chain { caseNo generation } } }', "DOC1")
    assert up["case"]["chain"] == [{"caseNo": "WH-J1", "generation": -1},
                                   {"caseNo": "WH-J2", "generation": 0}]
    assert {c["personId"]: c["becameCaseId"] for c in case["contacts"]}[matched_pid] == \
        child["case"]["id"]

    # ruling a case out releases its contacts as the policy says
    third_h, third_r = resident(world, ZONES[1], 2, "李四")
    step(world, "DOC1", "openCase", {"caseNo": "WH-J3", "scope": COMMUNITY,
                                     "person": {"name": "外来者"}})
    expose(world, "DOC1", {**base, "caseNo": "WH-J3", "setting": "HOUSEHOLD",
                           "place": "家中", "closeness": "SHARED_LIVING",
                           "householdId": third_h, "residentId": third_r})
    assert resident_status(world, third_h, third_r)["tags"] == ["CLOSE_CONTACT"]
    out = step(world, "DOC1", "ruleOutCase", {"caseNo": "WH-J3", "reason": "复检阴性"})
    assert (out["case"]["status"], out["case"]["following"]) == ("RULED_OUT", 0)
    released = resident_status(world, third_h, third_r)
    assert (released["tags"], released["measure"]) == (
        [], policy["ruledOutReleaseTo"].upper())
    statuses = world.ask('{ case(caseNo: "WH-J3") { contacts { status } } }', "DOC1")
    assert statuses["case"]["contacts"] == [{"status": "RELEASED"}]

    cases = world.ask("{ tracingCases { caseNo status } }", "OFF1")["tracingCases"]
    assert cases == [{"caseNo": "WH-J1", "status": "SUSPECTED"},
                     {"caseNo": "WH-J2", "status": "CONFIRMED"},
                     {"caseNo": "WH-J3", "status": "RULED_OUT"}]
    past = world.ask(f'{{ tracingCases(asOf: "{before_promotion}") {{ caseNo }} }}',
                     "OFF1")["tracingCases"]
    assert past == [{"caseNo": "WH-J1"}]

    # erasing the matched resident shreds what the case knew of them too
    world.app.erase_resident(UUID(match_h), UUID(match_r), "期满 retention over",
                             by=System.OPERATOR)
    world.caught_up()
    assert contacts(world, "DOC1")[matched_pid]["name"] == ERASED_LABEL
    found = world.app.case_by_no("WH-J1").contact(UUID(matched_pid)).identity
    assert found is not None and found.erased and found.name is None
    assert world.app.case_by_no("WH-J1").contact(UUID(away_pid)).identity.name == "外地亲戚"

    # without a token, or from another community: nothing
    assert world.ask('{ case(caseNo: "WH-J1") { id } }')["case"] is None
    assert contacts(world, None) == {}
    assert world.ask("{ tracingCases { id } }")["tracingCases"] == []
    anonymous = step(world, None, "confirmCase", {"caseNo": "WH-J1"})
    assert anonymous["__typename"] == "NotPermittedProblem"
    assert world.ask('{ case(caseNo: "WH-J1") { id } }', "GW713")["case"] is None
    elsewhere = step(world, "GW713", "ruleOutCase", {"caseNo": "WH-J1", "reason": "x"})
    assert elsewhere["__typename"] == "NotFoundProblem"
    assert OTHER_ZONE not in {c["gridCode"] for c in contacts(world, "OFF1").values()}


def test_a_case_is_read_once_per_request_however_many_of_its_people_are_shown(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each contact's chain link, proposal and name come from the case aggregate: the
    request's loader reads each case once, not once per contact and field."""
    if not world.app.contacts_by_generation(world.app.case_by_no("WH-J1").id):
        test_a_case_its_contacts_their_measures_and_who_sees_them(world)
    reads: list[UUID] = []
    real = world.app.case

    def counted(cid: UUID) -> Any:
        reads.append(cid)
        return real(cid)

    monkeypatch.setattr(world.app, "case", counted)
    data = world.ask('{ case(caseNo: "WH-J1") { id indexName contacts { '
                     "personId viaPersonId matchProposed name } } }", "DOC1")["case"]
    shown = data["contacts"]
    assert len(shown) >= 3 and any(c["viaPersonId"] for c in shown)
    assert all(c["name"] for c in shown)
    assert reads == [UUID(data["id"])]  # once, for all its people and fields
