"""The API benchmark's baseline is honest: over a tiny generated city, served by the
benchmark's own server (GraphQL and the plain routes in one app), the plain routes and the
GraphQL queries of the benchmark carry the same data for (a) a district's rollup with its
streets, (b) a page of households with grid and staff and (c) a household's timeline, for
every key the benchmark would ask, and refuse or hide the same things."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from gridcore.application import GridcoreApp
from simulations.benchmarks import api
from simulations.city import CitySpec

SECRET = "bench-test-secret-" + "y" * 40
TINY = CitySpec(seed=3, districts=2, streets_per_district=2, communities_per_street=1,
                grids_per_community=3, households_per_community=500,
                households_per_building=40)


@dataclass
class Served:
    base: str
    app: GridcoreApp
    keys: api.Keys

    def token(self, staff_no: str) -> str:
        return issue_token(SECRET, self.app.staff_by_no(staff_no).id, 1)

    def both(self, case: api.Case, key: str, staff_no: str = api.BENCH_OFFICIAL
             ) -> tuple[Any, Any]:
        """(GraphQL answer, plain answer) to ``case`` about ``key``, as parsed JSON."""
        headers = {"Authorization": f"Bearer {self.token(staff_no)}",
                   "Content-Type": "application/json"}
        out = []
        for method, path, body in (case.graphql_request(key), case.plain_request(key)):
            r = httpx.request(method, self.base + path, content=body or None,
                              headers=headers, timeout=30)
            assert r.status_code == 200, r.text
            out.append(r.json())
        return out[0], out[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("bench-api")
    app, runner, keys = api.open_city(TINY, folder)
    settings = ApiSettings(mode=Mode.PRODUCTION, secret=SECRET,
                           audit_file=str(folder / "audit.jsonl"))
    try:
        with running(api.server_app(app, runner, settings)) as base:
            yield Served(base, app, keys)
    finally:
        app.close()


CASES = {c.name: c for c in api.CASES}


def test_the_tiny_city_has_what_the_questions_ask_about(served: Served) -> None:
    assert served.keys.districts == ["420101", "420102"]
    assert len(served.keys.communities) == 4
    assert len(served.keys.households) == 4


def test_a_district_rollup_with_its_streets_is_the_same_both_ways(served: Served) -> None:
    for code in served.keys.districts:
        graphql, plain = served.both(CASES["a"], code)
        assert "errors" not in graphql
        assert graphql == plain
        node = graphql["data"]["node"]
        assert node["code"] == code
        assert [c["level"] for c in node["children"]] == ["STREET", "STREET"]
        assert node["rollup"]["households"] == 1000
        assert sum(c["rollup"]["households"] for c in node["children"]) == 1000
        assert node["rollup"]["residents"] == sum(h["count"]
                                                  for h in node["rollup"]["byHealth"])


def test_a_page_of_households_with_grid_and_staff_is_the_same_both_ways(
        served: Served) -> None:
    for code in served.keys.communities:
        graphql, plain = served.both(CASES["b"], code)
        assert "errors" not in graphql
        assert graphql == plain
        page = graphql["data"]["node"]["households"]
        assert len(page["edges"]) == 50 and page["pageInfo"]["hasNextPage"]
        assert page["totalCount"] == 500
        assert all(e["node"]["microGrid"]["code"] == e["node"]["microGridCode"]
                   and e["node"]["residents"] for e in page["edges"])
        staff = graphql["data"]["staff"]
        assert {s["jurisdictionCode"] for s in staff} == {code}
        assert {"GRID_WORKER", "FAMILY_DOCTOR"} <= {s["role"] for s in staff}


def test_a_household_timeline_is_the_same_both_ways(served: Served) -> None:
    for hid in served.keys.households:
        graphql, plain = served.both(CASES["c"], hid)
        assert "errors" not in graphql
        assert graphql == plain
        timeline = graphql["data"]["household"]["timeline"]
        assert len(timeline) >= 4  # registered, ill, well, tagged
        assert [t["notificationId"] for t in timeline] == sorted(
            t["notificationId"] for t in timeline)


def test_outside_the_jurisdiction_both_ways_answer_nothing(served: Served) -> None:
    """A grid worker of one community asks about another district, another community and a
    household elsewhere: null (and no staff) both ways, exactly alike."""
    worker = f"{served.keys.communities[0]}-GW-01"
    mine = served.keys.communities[0][:6]
    other_district = next(d for d in served.keys.districts if d != mine)
    other_community = next(c for c in served.keys.communities if not c.startswith(mine))
    other_household = next(
        h for h, c in zip(served.keys.households, served.keys.communities, strict=True)
        if not c.startswith(mine))
    for case, key in ((CASES["a"], other_district), (CASES["b"], other_community),
                      (CASES["c"], other_household)):
        graphql, plain = served.both(case, key, staff_no=worker)
        assert graphql == plain
        assert all(v in (None, []) for v in graphql["data"].values()), graphql


def test_a_bad_token_is_refused_both_ways(served: Served) -> None:
    headers = {"Authorization": "Bearer not-a-token", "Content-Type": "application/json"}
    for case in api.CASES:
        key = api.keys_of(case, served.keys)[0]
        for method, path, body in (case.graphql_request(key), case.plain_request(key)):
            r = httpx.request(method, served.base + path, content=body or None,
                              headers=headers, timeout=30)
            assert r.status_code == 401, (path, r.text)
