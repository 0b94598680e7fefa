"""The 712 demo's grid workers through the API: each one's jurisdiction is exactly the zones they
are responsible for (712-GW-1: zones 1, 5 and 9), so they see and act on those zones' households
and another zone's read as missing, while the community's secretary keeps the community."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters import demo
from adapters.bootstrap import api_app
from adapters.settings import sqlite_env
from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import NotAuthorised, System
from gridcore.delivery import Item
from gridcore.sweep import Outcome
from projections import all_projections
from projections.runner import Runner

SECRET = "demo-zones-" + "z" * 40
MINE = [demo.zone_code(z) for z in (1, 5, 9)]
THEIRS = demo.zone_code(2)  # 712-GW-2's


@dataclass
class Demo:
    app: GridcoreApp
    runner: Runner
    base: str

    def ask(self, query: str, staff_no: str, variables: dict[str, Any] | None = None
            ) -> dict[str, Any]:
        token = issue_token(SECRET, self.app.staff_by_no(staff_no).id, 1)
        r = httpx.post(self.base + "/graphql", json={"query": query, "variables": variables or {}},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    def households(self, zone: str) -> list[UUID]:
        [grid] = [g for g in self.app.micro_grids(demo.COMMUNITY) if g.code == zone]
        return sorted(grid.households, key=str)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path: Path = tmp_path_factory.mktemp("demo-zones") / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path), clock=demo.ScenarioClock())
    demo.build(app)
    runner = Runner(app, all_projections()).start()
    settings = ApiSettings(mode=Mode.DEVELOPMENT, secret=SECRET,
                           audit_file=str(path.with_name("audit.jsonl")))
    try:
        with running(api_app(app, runner, settings)) as base:
            runner.wait(app.recorder.max_notification_id(), timeout=60)
            yield Demo(app, runner, base)
    finally:
        runner.stop()
        app.close()


def test_a_demo_grid_workers_jurisdiction_is_exactly_their_zones(world: Demo) -> None:
    me = world.ask("{ me { jurisdictionCode jurisdictionCodes } }", "712-GW-1")["me"]
    assert me == {"jurisdictionCode": MINE[0], "jurisdictionCodes": MINE}
    for zone in range(1, demo.ZONES + 1):
        code = demo.zone_code(zone)
        grid = world.app.node(code)
        worker = world.app.staff(grid.responsible_worker) if grid.responsible_worker else None
        assert worker is not None and code in worker.jurisdictions
    assert world.app.staff_by_no("712-SEC").jurisdictions == (demo.COMMUNITY,)


def test_a_demo_grid_worker_sees_their_zones_and_not_another_or_the_community(
        world: Demo) -> None:
    codes = [*MINE, THEIRS, demo.COMMUNITY]
    query = "{ " + " ".join(f'n{i}: gridNode(code: "{c}") {{ code }}'
                            for i, c in enumerate(codes)) + " }"
    seen = world.ask(query, "712-GW-1")
    assert [v["code"] if v else None for v in seen.values()] == [*MINE, None, None]
    by_secretary = world.ask(query, "712-SEC")
    assert [v["code"] for v in by_secretary.values()] == codes


def test_a_demo_grid_worker_reads_their_zones_households_and_not_another_zones(
        world: Demo) -> None:
    mine, theirs = world.households(MINE[1])[0], world.households(THEIRS)[0]
    q = """query($a: ID!, $b: ID!, $z: String!, $o: String!) {
      a: household(id: $a) { id microGridCode } b: household(id: $b) { id }
      inZone: households(under: $z, first: 100) { totalCount }
      inOther: households(under: $o, first: 100) { totalCount } }"""
    got = world.ask(q, "712-GW-1", {"a": str(mine), "b": str(theirs), "z": MINE[1],
                                    "o": THEIRS})
    assert got["a"] == {"id": str(mine), "microGridCode": MINE[1]}
    assert got["b"] is None and got["inOther"] is None
    assert got["inZone"]["totalCount"] == len(world.households(MINE[1]))


def test_a_demo_grid_workers_round_lies_in_their_zones(world: Demo) -> None:
    q = f"""{{ me {{ workList(campaignScope: "{demo.COMMUNITY}", round: 1) {{
      household {{ microGridCode }} }} }} }}"""
    items = world.ask(q, "712-GW-1")["me"]["workList"]
    assert items and {i["household"]["microGridCode"] for i in items} <= set(MINE)


RECORD = """mutation($input: RecordVisitInput!) { recordVisit(input: $input) {
  __typename ... on VisitRecorded { household { id } } } }"""


def test_a_demo_grid_worker_may_visit_in_their_zones_and_is_refused_in_another(
        world: Demo) -> None:
    mine, theirs = world.households(MINE[2])[-1], world.households(THEIRS)[-1]

    def visit(hid: UUID) -> dict[str, Any]:
        fields = {"campaignScope": demo.COMMUNITY, "round": 1, "householdId": str(hid),
                  "method": "PHONE", "outcome": "NO_ANSWER"}
        return dict(world.ask(RECORD, "712-GW-1", {"input": fields})["recordVisit"])

    assert visit(mine) == {"__typename": "VisitRecorded", "household": {"id": str(mine)}}
    assert visit(theirs) == {"__typename": "NotFoundProblem"}  # outside reads as missing
    # and the application itself refuses it, whatever the door
    campaign = world.app.campaign_of(demo.COMMUNITY, 1)
    gw1 = world.app.staff_by_no("712-GW-1").id
    with pytest.raises(NotAuthorised, match="outside your jurisdiction"):
        world.app.record_visit(campaign.id, theirs, Method.PHONE, Outcome.NO_ANSWER,
                               by=gw1)



def pages(world: Demo, query: str, board: str, variables: dict[str, Any]) -> list[Any]:
    """Every item of a cursor-paged board asked by 712-GW-1, page after page."""
    out: list[Any] = []
    after = None
    while True:
        page = world.ask(query, "712-GW-1", {**variables, "after": after})[board]
        out += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def referred(world: Demo) -> None:
    """A referral and a group-buy order in zones 1, 5 and 9 and in another zone (the demo's
    register has none yet): of each zone's first household, once (each command again finds
    what it made)."""
    app = world.app
    for zone in (*MINE, THEIRS):
        hid = world.households(zone)[0]
        rid = sorted(app.household(hid).residents)[0]
        app.open_referral(hid, rid, "fever_clinic", "发热 fever at the door",
                          by=System.AUTOMATION)
        app.place_order(hid, f"TG-{zone[-2:]}", [Item(name="大米", quantity=5, unit="kg")],
                        client_id=f"zones-order-{zone}", by=System.OPERATOR)
    world.runner.wait(app.recorder.max_notification_id(), timeout=60)


def test_a_demo_grid_workers_boards_asked_with_no_scope_cover_all_their_zones(
        world: Demo) -> None:
    referred(world)
    referrals = """query($scope: String) { referrals(scope: $scope, first: 100) {
      id household { microGridCode } } }"""
    deliveries = """query($scope: String, $after: String) {
      deliveries(scope: $scope, first: 100, after: $after) {
        edges { node { id placeCode } } pageInfo { hasNextPage endCursor } } }"""
    households = """query($scope: String, $after: String) {
      households(under: $scope, first: 100, after: $after) {
        edges { node { id microGridCode } } pageInfo { hasNextPage endCursor } } }"""

    def referral_board(scope: str | None) -> list[tuple[str, str]]:
        return [(r["id"], r["household"]["microGridCode"])
                for r in world.ask(referrals, "712-GW-1", {"scope": scope})["referrals"]]

    def delivery_board(scope: str | None) -> list[tuple[str, str]]:
        return [(e["node"]["id"], e["node"]["placeCode"])
                for e in pages(world, deliveries, "deliveries", {"scope": scope})]

    def household_board(scope: str | None) -> list[tuple[str, str]]:
        return [(e["node"]["id"], e["node"]["microGridCode"])
                for e in pages(world, households, "households", {"scope": scope})]

    for board in (referral_board, delivery_board, household_board):
        whole = board(None)
        # every item of each zone of theirs, each once, and none of another zone
        assert sorted(whole) == sorted(i for zone in MINE for i in board(zone))
        assert len({i for i, _ in whole}) == len(whole)
        assert {zone for _, zone in whole} == set(MINE), board.__name__
    # the households in one list in id order (the cursor's order), all of their zones'
    assert [h for h, _ in household_board(None)] == sorted(
        str(h) for zone in MINE for h in world.households(zone))


def test_a_demo_grid_workers_count_boards_sum_their_zones(world: Demo) -> None:
    referred(world)  # (once: a resident's open referral of a kind is found again)
    q = """query($scope: String) { referralStages(scope: $scope) { state count }
      deliveryCounts(scope: $scope) { state count overdue }
      households(under: $scope, first: 1) { totalCount } }"""

    def counts(scope: str | None) -> dict[tuple[str, str], int]:
        got = world.ask(q, "712-GW-1", {"scope": scope})
        out = {("referrals", s["state"]): s["count"] for s in got["referralStages"]}
        out.update({("deliveries", s["state"]): s["count"] for s in got["deliveryCounts"]})
        out.update({("overdue", s["state"]): s["overdue"] for s in got["deliveryCounts"]})
        return {**out, ("households", ""): got["households"]["totalCount"]}

    whole, zones = counts(None), [counts(zone) for zone in MINE]
    assert whole == {k: sum(z[k] for z in zones) for k in whole}
    assert all(z[("households", "")] > 0 for z in zones)
    assert all(sum(n for (b, _), n in z.items() if b == "deliveries") > 0 for z in zones)


def test_a_demo_grid_worker_is_listed_and_counted_once_at_each_of_their_zones(
        world: Demo) -> None:
    gw1 = str(world.app.staff_by_no("712-GW-1").id)
    q = """query($scope: String) { staff(scope: $scope) { id jurisdictionCodes } }"""
    for zone in MINE:
        assert [m["id"] for m in world.ask(q, "712-SEC", {"scope": zone})["staff"]] == [gw1]
    everyone = world.ask(q, "712-SEC", {"scope": None})["staff"]
    assert [m["id"] for m in everyone].count(gw1) == 1
    # with no scope, the worker's own board holds them (each of their nodes is theirs)
    assert [m["id"] for m in world.ask(q, "712-GW-1")["staff"]] == [gw1]
    def staff_count(code: str) -> int:
        node = world.ask(f'{{ gridNode(code: "{code}") {{ rollup {{ staff }} }} }}',
                         "712-SEC")["gridNode"]
        return int(node["rollup"]["staff"])

    assert staff_count(demo.COMMUNITY) == len(everyone)  # a member of three zones counts once
    assert [staff_count(zone) for zone in [*MINE, THEIRS]] == [1] * 4  # the zone's worker
