"""待办 open items per grid node (``GridNode.openItems``), the figure the dashboard's tree shows
for each node: open referrals, deliveries, requests and alerts of the node's subtree.

On SQLite and PostgreSQL, over the boards of ``test_api_areas`` (a referral per micro-grid, a
delivery per household, a request per community, a vehicle alert per community) served by the
real API. The expected counts come from the application's aggregates (``open_referrals``,
``open_deliveries``, ``open_requests``, ``alert``), never from the read models the API reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from gridcore.alerts import AlertState
from gridcore.grid import Level
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.api.test_api_areas import given_boards
from tests.scenario import COMMUNITY, STREET, ZONES
from tests.stores import scratch_env

BOARDS = ("referrals", "deliveries", "requests", "alerts")
OPEN = "openItems { referrals deliveries requests alerts total }"
TREE = f"""query($code: String!) {{ node: gridNode(code: $code) {{ code {OPEN}
  children {{ code {OPEN} children {{ code {OPEN} }} }} }} }}"""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The same SQL runs on both view backends (the PostgreSQL one skips when it is down)."""
    with scratch_env(request.param, tmp_path_factory.mktemp("open-items")) as env, \
            serve_world(env) as w:
        given_boards(w)
        w.caught_up()
        yield w


def alert_ids(world: World) -> list[UUID]:
    data = world.ask("{ alerts(first: 100) { id } }", "STR1")
    return [UUID(a["id"]) for a in data["alerts"]]


def expected(world: World, alerts: list[UUID]) -> dict[str, dict[str, int]]:
    """Per node of the tree: what the application's aggregates say is open in its subtree."""
    app = world.app
    communities = [c for c in world.parents if app.node(c).level is Level.COMMUNITY]
    places: dict[str, list[str]] = {b: [] for b in BOARDS}  # board -> the node of each item
    for c in communities:
        places["referrals"] += [app.household(r.household_id).micro_grid
                                for r in app.open_referrals(c)]
        places["deliveries"] += [app.household(d.household_id).micro_grid
                                 for d in app.open_deliveries(c)]
        places["requests"] += [c] * len(app.open_requests(c))
    for a in alerts:
        alert = app.alert(a)
        if alert.state is not AlertState.RESOLVED:
            places["alerts"].append(alert.grid_code)
    out = {}
    for code in world.parents:
        counts = {b: sum(code in world.chain(p) for p in ps) for b, ps in places.items()}
        out[code] = {**counts, "total": sum(counts.values())}
    return out


def answered(node: dict[str, Any]) -> dict[str, dict[str, int]]:
    out = {node["code"]: node["openItems"]}
    for child in node.get("children", []):
        out.update(answered(child))
    return out


def test_each_node_counts_what_is_open_in_its_subtree(world: World) -> None:
    alerts = alert_ids(world)
    assert len(alerts) == 2  # one per checkpoint
    want = expected(world, alerts)
    # the givens really put something of each board at several nodes
    assert want[STREET] == {"referrals": 3, "deliveries": len(world.households), "requests": 2,
                            "alerts": 2, "total": 7 + len(world.households)}
    assert want[ZONES[1]]["requests"] == 0 and want[COMMUNITY]["requests"] == 1
    got = answered(world.ask(TREE, "STR1", {"code": STREET})["node"])
    assert set(got) == {STREET, COMMUNITY, OTHER_COMMUNITY, *ZONES, OTHER_ZONE}
    assert got == {code: want[code] for code in got}


def test_closing_items_lowers_the_counts_up_the_tree(world: World) -> None:
    app = world.app
    official = world.staff["STR1"]
    [referral] = [r for r in app.open_referrals(COMMUNITY)
                  if app.household(r.household_id).micro_grid == ZONES[0]]
    app.cancel_referral(referral.id, official, "已在家康复 recovered at home")
    alerts = alert_ids(world)
    [alert] = [a for a in alerts if app.alert(a).grid_code == ZONES[0]]
    app.resolve_alert(alert, official, "false_alarm", "核实为本小区车辆")
    world.caught_up()
    want = expected(world, alerts)
    assert want[ZONES[0]]["referrals"] == 0 and want[ZONES[0]]["alerts"] == 0
    assert want[OTHER_ZONE]["alerts"] == 1  # the other community's is untouched
    got = answered(world.ask(TREE, "STR1", {"code": STREET})["node"])
    assert got == {code: want[code] for code in got}


@pytest.mark.parametrize(("staff_no", "code", "visible"), [
    ("GWZ1", ZONES[0], True), ("GWZ1", ZONES[1], False), ("GWZ1", COMMUNITY, False),
    ("GW713", OTHER_ZONE, True), ("GW713", COMMUNITY, False), ("OFF1", OTHER_COMMUNITY, False),
    (None, ZONES[0], False),
])
def test_only_within_the_jurisdiction(world: World, staff_no: str | None, code: str,
                                      visible: bool) -> None:
    data = world.ask(f'{{ node: gridNode(code: "{code}") {{ {OPEN} }} '
                     f'me {{ jurisdiction {{ parent {{ {OPEN} }} {OPEN} }} }} }}', staff_no)
    if not visible:
        assert data["node"] is None
    else:
        assert data["node"]["openItems"]["total"] >= 1
    if staff_no is not None:  # never anything of the node above the jurisdiction
        assert data["me"]["jurisdiction"]["parent"] is None
        assert data["me"]["jurisdiction"]["openItems"] is not None


def test_a_tree_of_nodes_costs_one_query_per_level(world: World,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Two communities' zones (2 and 1 of them) cost the same open-items queries: batched."""
    views = world.runner.views
    calls: list[str] = []
    query_views = views.query

    def counting(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        calls.append(sql)
        return query_views(sql, params)

    monkeypatch.setattr(views, "query", counting)
    counts = {}
    for code in (COMMUNITY, OTHER_COMMUNITY):
        calls.clear()
        data = world.ask(
            f"query($c: String!) {{ node: gridNode(code: $c) {{ children {{ {OPEN} }} }} }}",
            "STR1", {"c": code})
        assert data["node"]["children"]
        counts[code] = sum("rp_referral" in sql for sql in calls)
    assert counts == {COMMUNITY: 1, OTHER_COMMUNITY: 1}
