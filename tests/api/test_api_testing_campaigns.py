"""Mass-testing campaigns (全员核酸检测) over a real HTTP server, as one journey: the 712
community's official launches a round with two sampling sites (households with a member 65+
sampled door-to-door, the others scheduled to a site); a batch with one bad row is refused
naming it; the grid worker records every resident into two pooled tubes and seals them; a
volunteer cannot record a result; the doctor records one pool negative and one positive: the
positive pool's households come under control and single-tube retests are listed; the retests
come back, one positive, which becomes a confirmed case visible through the tracing API;
coverage per node reads right; a caller without a token gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.authority import System
from gridcore.household import new_member
from gridcore.staff import Role
from tests.api.test_api_access import World, call, serve_world
from tests.scenario import CITY, COMMUNITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
COVERAGE = ("coverage { code households residents sampled unsampled doorToDoorHouseholds "
            "tubesPending positives underControl unsampledHouseholdIds }")
CAMPAIGN = (f"id scopeCode round poolSize households residents sampled cases "
            f"sites {{ siteId place households }} {COVERAGE}")
SITES = [{"siteId": "CY-01", "name": "第1片区广场采样点", "place": ZONES[0],
          "capacityPerHour": 60},
         {"siteId": "CY-02", "name": "第2片区采样点", "place": ZONES[1], "capacityPerHour": 60}]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-testing") / "gridcore.sqlite") as w:
        for z, zone in enumerate(ZONES, start=1):  # young households come to a site
            no = f"712-{z}-9"
            w.app.register_household(no, zone, f"{z}栋909", [
                new_member(no, 1, "王五", None, None, 1990),
                new_member(no, 2, "王六", None, None, 1992)], by=System.OPERATOR)
            w.households[str(w.app.household_by_no(no).id)] = zone
        w.app.enrol_staff("OFFC", "市防控指挥部", Role.OFFICIAL, CITY, 0, by=System.OPERATOR)
        w.staff["OFFC"] = w.app.staff_by_no("OFFC").id
        w.caught_up()
        yield w


def campaign(world: World, staff_no: str | None) -> dict[str, Any] | None:
    data = world.ask(f'{{ testingCampaign(scope: "{COMMUNITY}", round: 1) {{ {CAMPAIGN} }} }}',
                     staff_no)
    return data["testingCampaign"]  # type: ignore[no-any-return]


def residents(world: World, zone: str) -> list[tuple[str, str]]:
    """(household id, resident id) of the 712 households of ``zone``."""
    return [(hid, str(rid)) for hid, z in sorted(world.households.items()) if z == zone
            for rid in world.app.household(UUID(hid)).residents]


def measures(world: World, hid: str) -> list[str]:
    data = world.ask(f'{{ household(id: "{hid}") {{ residents {{ measure }} }} }}', "OFF1")
    return [r["measure"] for r in data["household"]["residents"]]


def test_a_round_with_one_positive_pool_followed_to_a_case(world: World) -> None:
    launch = {"scope": COMMUNITY, "round": 1, "sites": SITES, "days": 2, "clientId": "t-1"}
    anonymous = call(world, None, "launchTestingCampaign", launch, "")
    assert anonymous["__typename"] == "NotPermittedProblem", anonymous
    refused = call(world, "GW1", "launchTestingCampaign", launch, "")  # officials launch
    assert refused["__typename"] == "NotPermittedProblem", refused
    done = call(world, "OFF1", "launchTestingCampaign", launch,
                f"... on TestingCampaignUpdated {{ campaign {{ {CAMPAIGN} }} }}")
    c = done["campaign"]
    assert (c["scopeCode"], c["round"], c["poolSize"]) == (COMMUNITY, 1, 10)
    assert (c["households"], c["residents"], c["sampled"]) == (8, 16, 0)
    assert {s["siteId"]: s["households"] for s in c["sites"]} == {"CY-01": 1, "CY-02": 1}
    cov = {n["code"]: n for n in c["coverage"]}
    assert set(cov) == {COMMUNITY, *ZONES}
    assert cov[ZONES[0]]["doorToDoorHouseholds"] == 3 and cov[COMMUNITY]["unsampled"] == 16
    # retried under its clientId: applied once
    again = call(world, "OFF1", "launchTestingCampaign", launch, "")
    assert again["__typename"] == "TestingCampaignUpdated"
    assert campaign(world, None) is None
    assert campaign(world, "GW713") is None  # another community's worker

    young, old = (str(world.app.household_by_no(no).id) for no in ("712-2-9", "712-2-0"))
    slots = {hid: world.ask(f'{{ testingSlot(scope: "{COMMUNITY}", round: 1, householdId: '
                            f'"{hid}") {{ siteId slot doorToDoor }} }}', "GW1")["testingSlot"]
             for hid in (young, old)}
    assert slots[young]["siteId"] == "CY-02" and slots[young]["slot"] is not None
    assert slots[old] == {"siteId": None, "slot": None, "doorToDoor": True}
    assert world.ask(f'{{ testingSlot(scope: "{COMMUNITY}", round: 1, householdId: "{young}") '
                     "{ siteId } }", "GW713")["testingSlot"] is None
    launched = world.clock.now.isoformat()
    world.clock.advance(minutes=30)
    zone1, zone2 = residents(world, ZONES[0]), residents(world, ZONES[1])
    rows = ([{"householdId": h, "residentId": r, "tubeCode": "HJ-A"} for h, r in zone1]
            + [{"householdId": h, "residentId": r, "tubeCode": "HJ-B"} for h, r in zone2])
    bad = [rows[0], {**rows[1], "householdId": zone2[0][0]}]
    refused = call(world, "GW1", "recordSamples", {"scope": COMMUNITY, "round": 1,
                                                    "samples": bad}, "")
    assert refused["__typename"] == "InvalidInputProblem" and "Sample 2" in refused["problem"]
    assert world.ask(f'{{ tubesPending(scope: "{COMMUNITY}", round: 1) {{ code }} }}',
                     "GW1")["tubesPending"] == []
    recorded = call(world, "GW1", "recordSamples",
                    {"scope": COMMUNITY, "round": 1, "samples": rows, "clientId": "s-1"},
                    "... on SamplesRecorded { recorded campaign { sampled } }")
    assert recorded["recorded"] == 16 and recorded["campaign"]["sampled"] == 16
    for code in ("HJ-A", "HJ-B"):
        sealed = call(world, "GW1", "sealTube", {"tubeCode": code},
                      "... on TubeUpdated { tube { code members sealed result } }")
        assert sealed["tube"] == {"code": code, "members": 8, "sealed": True, "result": None}
    pending = world.ask(f'{{ tubesPending(scope: "{COMMUNITY}", round: 1) {{ code }} }}', "DOC1")
    assert [t["code"] for t in pending["tubesPending"]] == ["HJ-A", "HJ-B"]

    no = call(world, "VOL1", "recordTubeResult", {"tubeCode": "HJ-A", "result": "POSITIVE"}, "")
    assert no["__typename"] == "NotPermittedProblem", no
    assert call(world, "GW713", "sealTube", {"tubeCode": "HJ-A"},
                "")["__typename"] == "NotFoundProblem"
    negative = call(world, "DOC1", "recordTubeResult", {"tubeCode": "HJ-B", "result": "NEGATIVE"},
                    "... on TubeUpdated { tube { result } }")
    assert negative["tube"]["result"] == "NEGATIVE"
    call(world, "DOC1", "recordTubeResult", {"tubeCode": "HJ-A", "result": "POSITIVE"}, "")
    for hid in {h for h, _ in zone1}:
        assert set(measures(world, hid)) == {"HOME_QUARANTINE"}
    for hid in {h for h, _ in zone2}:
        assert set(measures(world, hid)) == {"NONE"}
    due = world.ask(f'{{ retestsDue(scope: "{COMMUNITY}", round: 1) {{ residentId householdId '
                    "poolCode due } }", "GW1")["retestsDue"]
    assert sorted(r["residentId"] for r in due) == sorted(r for _, r in zone1)
    assert {r["poolCode"] for r in due} == {"HJ-A"}
    assert world.ask(f'{{ retestsDue(scope: "{COMMUNITY}", round: 1) {{ poolCode }} }}',
                     None)["retestsDue"] == []

    retests = [{"householdId": h, "residentId": r, "tubeCode": f"R-{n}"}
               for n, (h, r) in enumerate(zone1)]
    call(world, "GW1", "recordSamples", {"scope": COMMUNITY, "round": 1, "samples": retests},
         "... on SamplesRecorded { recorded }")
    positive_hid = zone1[0][0]
    for n in range(len(zone1)):
        result = "POSITIVE" if n == 0 else "NEGATIVE"
        out = call(world, "DOC1", "recordTubeResult", {"tubeCode": f"R-{n}", "result": result},
                   "... on TubeUpdated { tube { result } }")
        assert out["tube"]["result"] == result, out
    case = world.ask('{ case(caseNo: "核酸-R-0") { caseNo scopeCode status } }', "DOC1")["case"]
    assert case == {"caseNo": "核酸-R-0", "scopeCode": COMMUNITY, "status": "CONFIRMED"}
    assert world.ask('{ case(caseNo: "核酸-R-0") { caseNo } }', None)["case"] is None
    for hid in {h for h, _ in zone1} - {positive_hid}:
        assert set(measures(world, hid)) == {"NONE"}  # cleared by negative retests

    final = campaign(world, "OFF1")
    assert final is not None and final["cases"] == ["核酸-R-0"]
    cov = {n["code"]: n for n in final["coverage"]}
    assert cov[COMMUNITY]["sampled"] == 16 and cov[COMMUNITY]["unsampled"] == 0
    assert cov[COMMUNITY]["tubesPending"] == 0
    assert (cov[ZONES[0]]["positives"], cov[ZONES[1]]["positives"]) == (1, 0)
    controlled = len(world.app.household(UUID(positive_hid)).residents)
    assert cov[ZONES[0]]["underControl"] == controlled and cov[ZONES[1]]["underControl"] == 0
    assert world.ask(f'{{ retestsDue(scope: "{COMMUNITY}", round: 1) {{ poolCode }} }}',
                     "GW1")["retestsDue"] == []
    # as it was at launch: nobody sampled, no tube; before it, no campaign
    then = world.ask(f'{{ testingCampaign(scope: "{COMMUNITY}", round: 1, asOf: "{launched}") '
                     f"{{ {COVERAGE} }} }}", "OFF1")["testingCampaign"]
    past = {n["code"]: n for n in then["coverage"]}
    assert (past[COMMUNITY]["sampled"], past[COMMUNITY]["tubesPending"],
            past[ZONES[0]]["underControl"]) == (0, 0, 0)
    earlier = (world.clock.now.replace(year=2000)).isoformat()
    assert world.ask(f'{{ testingCampaign(scope: "{COMMUNITY}", round: 1, asOf: "{earlier}") '
                     "{ id } }", "OFF1")["testingCampaign"] is None


def test_the_policy_sets_the_pool_size_and_who_is_sampled_at_home(world: World) -> None:
    later = (world.clock.now + timedelta(days=1)).isoformat()
    changes = {"poolSize": 20, "testingSlotMinutes": 15, "doorToDoorVulnerabilities":
               ["disability"], "doorToDoorMeasures": ["home_quarantine"],
               "positivePoolMeasure": "centralized_quarantine", "retestHours": 12}
    fields = ("poolSize testingSlotMinutes doorToDoorVulnerabilities doorToDoorMeasures "
              "positivePoolMeasure retestHours")
    adopted = call(world, "OFFC", "adoptPolicy",
                   {"effectiveFrom": later, "note": "20混1", "changes": changes},
                   f"... on PolicyAdopted {{ policy {{ {fields} }} }}")
    assert adopted["policy"] == changes, adopted
    now = world.ask(f"{{ policy {{ {fields} }} }}", "OFF1")["policy"]
    assert (now["poolSize"], now["retestHours"]) == (10, 24)
