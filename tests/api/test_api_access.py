"""The API over a real HTTP server: every path answers only within the caller's jurisdiction.

A role x scope x path enumeration: for grid workers of one micro-grid, a community official, a
street official and a caller without a token, every node and household of the tree is asked
for at the top level (through aliases), through nested objects (parent, children, ancestors,
a household's micro-grid, ``me``) and through the paginated households of a node; the answer
must match what the tree (as this test builds it) says lies in the caller's subtree.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from adapters.bootstrap import api_app
from adapters.settings import sqlite_env
from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.staff import Role
from projections import all_projections
from projections.runner import Runner
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, given_community

SECRET = "test-secret-" + "x" * 40
OTHER_COMMUNITY = "420102001713"
OTHER_ZONE = f"{OTHER_COMMUNITY}-01"


@dataclass
class World:
    """A running API over a small tree, and what the test knows about that tree."""

    app: GridcoreApp
    runner: Runner
    clock: Clock
    base: str
    parents: dict[str, str | None]
    households: dict[str, str]
    """household id -> micro-grid code"""
    staff: dict[str, UUID] = field(default_factory=dict)
    """staff number -> id"""
    settings: ApiSettings | None = None

    def token(self, staff_no: str, hours: float = 1.0) -> str:
        return issue_token(SECRET, self.staff[staff_no], hours)

    def post(self, query: str, staff_no: str | None = None,
             variables: dict[str, Any] | None = None, path: str = "/graphql") -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(staff_no)}"} if staff_no else {}
        return httpx.post(self.base + path, json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=30)

    def ask(self, query: str, staff_no: str | None = None,
            variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.post(query, staff_no, variables)
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def chain(self, code: str) -> list[str]:
        out: list[str] = []
        node: str | None = code
        while node is not None:
            out.append(node)
            node = self.parents[node]
        return out

    def sees(self, jurisdiction: str | None, code: str) -> bool:
        return jurisdiction is not None and jurisdiction in self.chain(code)

    def caught_up(self) -> None:
        self.runner.wait(self.app.recorder.max_notification_id())


def call(world: World, staff_no: str | None, name: str, fields: dict[str, Any],
         success: str) -> dict[str, Any]:
    """The mutation ``name`` with ``fields`` as its input, answering ``success`` (a fragment
    on its success type) or a Problem."""
    input_type = name[0].upper() + name[1:] + "Input"
    query = (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
             f"{success} ... on Problem {{ code problem remedy }} }} }}")
    return world.ask(query, staff_no, {"input": fields})[name]


def build_world(store: Path | dict[str, str]) -> tuple[
        GridcoreApp, Clock, dict[str, str | None], dict[str, str], dict[str, UUID]]:
    """The tree of ``tests.scenario`` plus a second community, and staff at several levels, in
    a SQLite file (a path) or any store (an eventsourcing environment)."""
    clock = Clock()
    app = GridcoreApp(store if isinstance(store, dict) else sqlite_env(store), clock=clock)
    community = given_community(app)
    app.create_node(OTHER_COMMUNITY, "713社区", STREET, by=System.OPERATOR)
    app.create_node(OTHER_ZONE, "第1片区", OTHER_COMMUNITY, by=System.OPERATOR)
    for n in range(2):
        no = f"713-1-{n}"
        app.register_household(no, OTHER_ZONE, f"9栋{n + 1}01",
                               [new_member(no, 1, "周五", None, None, 1970)], by=System.OPERATOR)
    staff = {
        "GWZ1": (Role.GRID_WORKER, ZONES[0]), "GWZ2": (Role.GRID_WORKER, ZONES[1]),
        "GW713": (Role.GRID_WORKER, OTHER_ZONE), "STR1": (Role.OFFICIAL, STREET),
    }
    for no, (role, node) in staff.items():
        app.enrol_staff(no, "某某", role, node, 30, by=System.OPERATOR)
    parents: dict[str, str | None] = {CITY: None, DISTRICT: CITY, STREET: DISTRICT,
                                      COMMUNITY: STREET, OTHER_COMMUNITY: STREET,
                                      OTHER_ZONE: OTHER_COMMUNITY}
    parents.update(dict.fromkeys(ZONES, COMMUNITY))
    households = {str(app.household_by_no(f"712-{z}-{n}").id): ZONES[z - 1]
                  for z in (1, 2) for n in range(3)}
    households.update({str(app.household_by_no(f"713-1-{n}").id): OTHER_ZONE for n in range(2)})
    assert set(households) >= {str(h) for h in community.households}
    ids = {no: app.staff_by_no(no).id for no in [*staff, "GW1", "OFF1", "DOC1", "VOL1"]}
    return app, clock, parents, households, ids


@contextmanager
def serve_world(store: Path | dict[str, str], mode: Mode = Mode.DEVELOPMENT) -> Iterator[World]:
    """Build the tree, keep its read models up in process and serve it."""
    app, clock, parents, households, staff = build_world(store)
    runner = Runner(app, all_projections()).start()
    # the audit log of unmasked reads goes next to a file store (else a temporary file)
    scratch = tempfile.TemporaryDirectory()
    try:
        folder = store.parent if isinstance(store, Path) else Path(scratch.name)
        settings = ApiSettings(mode=mode, secret=SECRET,
                               audit_file=str(folder / "api-audit.jsonl"))
        with running(api_app(app, runner, settings)) as base:  # as `gridcore serve`
            world = World(app, runner, clock, base, parents, households, staff, settings)
            world.caught_up()
            yield world
    finally:
        runner.stop()
        scratch.cleanup()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api") / "gridcore.sqlite") as w:
        yield w


CALLERS = {  # staff number -> jurisdiction (None: no token)
    "GWZ1": ZONES[0], "GWZ2": ZONES[1], "GW713": OTHER_ZONE, "OFF1": COMMUNITY,
    "STR1": STREET, None: None,
}
NODE_FIELDS = "code parent { code } children { code } ancestors { code }"


@pytest.mark.parametrize("staff_no", list(CALLERS))
def test_nodes_top_level_and_nested_follow_the_jurisdiction(world: World,
                                                            staff_no: str | None) -> None:
    scope = CALLERS[staff_no]
    codes = sorted(world.parents)
    query = "{ " + " ".join(f'n{i}: gridNode(code: "{c}") {{ {NODE_FIELDS} }}'
                            for i, c in enumerate(codes)) + " }"
    data = world.ask(query, staff_no)
    for i, code in enumerate(codes):
        got = data[f"n{i}"]
        if not world.sees(scope, code):
            assert got is None, (staff_no, code)
            continue
        parent = world.parents[code]
        assert got["code"] == code
        assert got["parent"] == ({"code": parent} if parent and world.sees(scope, parent)
                                 else None)
        assert [c["code"] for c in got["children"]] == sorted(
            c for c, p in world.parents.items() if p == code)
        chain = world.chain(code)
        above = chain[1:chain.index(scope) + 1]
        assert [a["code"] for a in got["ancestors"]] == list(reversed(above))


@pytest.mark.parametrize("staff_no", list(CALLERS))
def test_households_by_id_and_nested_follow_the_jurisdiction(world: World,
                                                             staff_no: str | None) -> None:
    scope = CALLERS[staff_no]
    ids = sorted(world.households)
    query = "{ " + " ".join(
        f'h{i}: household(id: "{h}") {{ id microGrid {{ code parent {{ code }} }} '
        f"residents {{ id health }} timeline {{ kind }} }}" for i, h in enumerate(ids)) + " }"
    data = world.ask(query, staff_no)
    for i, hid in enumerate(ids):
        got, grid = data[f"h{i}"], world.households[hid]
        if not world.sees(scope, grid):
            assert got is None, (staff_no, hid)
            continue
        assert got["id"] == hid
        assert got["microGrid"]["code"] == grid
        parent = world.parents[grid]
        assert got["microGrid"]["parent"] == (
            {"code": parent} if parent and world.sees(scope, parent) else None)
        assert got["residents"] and all(r["health"] == "NORMAL" for r in got["residents"])
        assert got["timeline"][0]["kind"] == "household.registered"


@pytest.mark.parametrize("staff_no", list(CALLERS))
def test_node_by_id_finds_every_kind_only_within_the_jurisdiction(world: World,
                                                                   staff_no: str | None) -> None:
    """Relay's node(id:): households, grid nodes and staff by their ids; outside the
    jurisdiction the answer is null, like an unknown id (and a malformed one)."""
    scope = CALLERS[staff_no]
    staff = {str(world.staff[no]): home for no, home in CALLERS.items() if no is not None}
    targets: list[tuple[str, str, str | None]] = [  # (id, type, the node it lies in)
        *((h, "Household", grid) for h, grid in sorted(world.households.items())),
        *((c, "GridNode", c) for c in sorted(world.parents)),
        *((sid, "StaffMember", home) for sid, home in sorted(staff.items())),
        (str(uuid4()), "", None), ("NO-SUCH-CODE", "", None), ("", "", None)]
    query = "{ " + " ".join(
        f'n{i}: node(id: "{tid}") {{ __typename id ... on Household {{ microGridCode }} '
        "... on GridNode { code } ... on StaffMember { jurisdictionCode } }"
        for i, (tid, _, _) in enumerate(targets)) + " }"
    data = world.ask(query, staff_no)
    for i, (tid, kind, where) in enumerate(targets):
        got = data[f"n{i}"]
        if where is None or not world.sees(scope, where):
            assert got is None, (staff_no, tid)
            continue
        assert (got["__typename"], got["id"]) == (kind, tid)
        assert where in (got.get("microGridCode"), got.get("code"), got.get("jurisdictionCode"))


@pytest.mark.parametrize("staff_no", [s for s in CALLERS if s is not None])
def test_paginated_households_under_me_are_exactly_my_subtree(world: World,
                                                              staff_no: str) -> None:
    scope = CALLERS[staff_no]
    query = """query($after: String) { me { jurisdiction { code
        households(first: 2, after: $after) { totalCount
          pageInfo { hasNextPage endCursor } edges { cursor node { id microGridCode } } } } } }"""
    seen: list[str] = []
    after = None
    for _ in range(20):
        page = world.ask(query, staff_no, {"after": after})["me"]["jurisdiction"]
        assert page["code"] == scope
        conn = page["households"]
        assert len(conn["edges"]) <= 2
        seen.extend(e["node"]["id"] for e in conn["edges"])
        assert all(world.sees(scope, e["node"]["microGridCode"]) for e in conn["edges"])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        after = conn["pageInfo"]["endCursor"]
    expected = sorted(h for h, grid in world.households.items() if world.sees(scope, grid))
    assert seen == expected  # every household once, in id order
    assert conn["totalCount"] == len(expected)


def test_a_grid_worker_sees_only_their_grid_through_every_path(world: World) -> None:
    """The brief's case in one query: aliases, top-level, nested, connections."""
    mine = next(h for h, g in world.households.items() if g == ZONES[0])
    theirs = next(h for h, g in world.households.items() if g == ZONES[1])
    query = f"""{{
      mine: gridNode(code: "{ZONES[0]}") {{ code rollup {{ households }} }}
      theirs: gridNode(code: "{ZONES[1]}") {{ code rollup {{ households }} }}
      up: gridNode(code: "{COMMUNITY}") {{ code households {{ totalCount }} }}
      myHousehold: household(id: "{mine}") {{ id }}
      theirHousehold: household(id: "{theirs}") {{ id }}
      me {{ role jurisdiction {{ code parent {{ code }} ancestors {{ code }}
            households(first: 50) {{ edges {{ node {{ id }} }} }} }} }}
    }}"""
    data = world.ask(query, "GWZ1")
    assert data["mine"] == {"code": ZONES[0], "rollup": {"households": 3}}
    assert data["theirs"] is None and data["up"] is None and data["theirHousehold"] is None
    assert data["myHousehold"] == {"id": mine}
    me = data["me"]
    assert me["role"] == "GRID_WORKER"
    assert me["jurisdiction"]["parent"] is None and me["jurisdiction"]["ancestors"] == []
    assert {e["node"]["id"] for e in me["jurisdiction"]["households"]["edges"]} == {
        h for h, g in world.households.items() if g == ZONES[0]}


def test_outside_answers_like_a_record_that_does_not_exist(world: World) -> None:
    theirs = next(h for h, g in world.households.items() if g == ZONES[1])
    absent = str(uuid4())
    query = """query($a: ID!, $b: ID!, $c: String!, $d: String!) {
      a: household(id: $a) { id } b: household(id: $b) { id }
      c: gridNode(code: $c) { code } d: gridNode(code: $d) { code } }"""
    data = world.ask(query, "GWZ1", {"a": theirs, "b": absent, "c": ZONES[1], "d": "nowhere"})
    assert data == {"a": None, "b": None, "c": None, "d": None}


def test_without_a_token_nothing_is_visible(world: World) -> None:
    data = world.ask(f'{{ me {{ role }} node: gridNode(code: "{CITY}") {{ code }} }}')
    assert data == {"me": None, "node": None}


@pytest.mark.parametrize("header", [
    "Bearer not-a-token", "Basic abc", "Bearer",
])
def test_a_bad_authorization_header_is_refused(world: World, header: str) -> None:
    r = httpx.post(world.base + "/graphql", json={"query": "{ me { role } }"},
                   headers={"Authorization": header})
    assert r.status_code == 401
    assert "token" in r.text.lower() or "bearer" in r.text.lower()


def test_expired_forged_and_orphan_tokens_are_refused(world: World) -> None:
    sid = world.staff["GWZ1"]
    past = world.clock.now - timedelta(days=400)  # a real past: tokens expire by wall time
    expired = issue_token(SECRET, sid, hours=1, now=past)
    forged = issue_token("another-secret-" + "y" * 40, sid, hours=1)
    orphan = issue_token(SECRET, uuid4(), hours=1)
    for token, words in ((expired, "expired"), (forged, "not valid"),
                         (orphan, "no staff member")):
        r = httpx.post(world.base + "/graphql", json={"query": "{ me { role } }"},
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert words in r.text


def test_rollup_counts_match_the_subtree(world: World) -> None:
    data = world.ask(f"""{{ street: gridNode(code: "{STREET}") {{ rollup {{ households residents
        byHealth {{ health label count }} }} }} }}""", "STR1")
    rollup = data["street"]["rollup"]
    assert rollup["households"] == len(world.households)
    normal = next(c for c in rollup["byHealth"] if c["health"] == "NORMAL")
    assert normal["count"] == rollup["residents"] == 3 * 2 * 2 + 2
    assert "平安" in normal["label"]


def test_a_page_of_households_costs_the_same_queries_whatever_its_size(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """DataLoaders: a page's households, their micro-grids, parents and timelines are read in
    batches, so a bigger page runs no more read-model queries (no N+1)."""
    views = world.runner.views
    calls: list[str] = []
    query_views = views.query

    def counting(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if threading.current_thread().name != "projections":  # not the runner's catch-ups
            calls.append(sql)
        return query_views(sql, params)

    monkeypatch.setattr(views, "query", counting)
    query = """query($n: Int!) { me { jurisdiction { households(first: $n) { edges { node {
        id residents { health } microGrid { code parent { code } }
        timeline { kind } } } } } } }"""
    counts = {}
    for n in (1, 8):
        calls.clear()
        edges = world.ask(query, "STR1", {"n": n})["me"]["jurisdiction"]["households"]["edges"]
        assert len(edges) == n
        counts[n] = len(calls)
    assert counts[8] == counts[1]
