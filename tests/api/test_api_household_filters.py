"""The households connection's filters over a real HTTP server, on SQLite and PostgreSQL:
vulnerability (弱势, marked or derived from age and household size), a sweep campaign's
coverage (covered / not yet covered), combined with each other, with a resident's tag and with
cursor pagination, only within the caller's jurisdiction.

Every answer is compared with a direct computation from the application's aggregates (the
households, their residents' ``vulnerabilities(today)``, the campaign's
``campaign_coverage``): the pages concatenated over their cursors must be exactly the matching
households of the caller's subtree, in id order. The query plans of the large-subtree reads are
checked to walk indexes in id order (no scan of all households, no sort of a whole subtree).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore.application import new_member
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.household import Vulnerability
from gridcore.status import Tag, TagKind
from gridcore.sweep import Outcome
from projections import queries
from tests.api.test_api_access import CALLERS, OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, STREET, ZONES
from tests.stores import scratch_env

CAMPAIGNS: dict[str, str] = {}
"""name -> campaign id, as ``given_filters`` launched them"""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp(f"api-filters-{request.param}")
    with scratch_env(request.param, folder) as env, serve_world(env) as w:
        given_filters(w)
        w.caught_up()
        yield w


def register(w: World, no: str, grid: str, born: list[int | None],
             marks: list[Vulnerability] | None = None) -> UUID:
    w.app.register_household(no, grid, f"{no}号", [
        new_member(no, n + 1, "某某", None, None, year, marks if n == 0 and marks else [])
        for n, year in enumerate(born)], by=System.OPERATOR)
    hid = w.app.household_by_no(no).id
    w.households[str(hid)] = grid
    return hid


def given_filters(w: World) -> None:
    """Households vulnerable in every way (marked at registration, marked later, withdrawn,
    65+ from the birth year, living alone), a close contact, and two campaigns with
    covered, unanswered and unvisited households; a member joins a covered household."""
    app, c = w.app, w.app.staff_by_no("GW1").id
    register(w, "712-1-A", ZONES[0], [1940])  # 65+ and lives alone (derived)
    young_alone = register(w, "712-2-Y", ZONES[1], [1992])  # alone, but not 65+
    pregnant = register(w, "712-2-P", ZONES[1], [1990, 1988])
    rid = sorted(app.household(pregnant).residents)[0]
    app.mark_vulnerability(pregnant, rid, Vulnerability.PREGNANCY, by=System.OPERATOR)
    other = register(w, "713-1-D", OTHER_ZONE, [1980], [Vulnerability.DISABILITY])
    rid = sorted(app.household(other).residents)[0]
    app.mark_vulnerability(other, rid, Vulnerability.CHRONIC_ILLNESS, by=System.OPERATOR)
    app.mark_vulnerability(other, rid, Vulnerability.DISABILITY, present=False, by=System.OPERATOR)
    rid = sorted(app.household(young_alone).residents)[0]
    app.tag_resident(young_alone, rid, Tag(kind=TagKind.CLOSE_CONTACT), by=c)
    # campaigns: the 712 community and the 713 community, visits to some households
    for name, scope in (("712", COMMUNITY), ("713", OTHER_COMMUNITY)):
        app.launch_campaign(scope, 1, 3, by=System.OPERATOR)
        CAMPAIGNS[name] = str(app.campaign_of(scope, 1).id)
    ours = UUID(CAMPAIGNS["712"])
    mine = sorted(h for h, g in w.households.items() if g in ZONES)
    for hid in mine[::2]:
        app.record_visit(ours, UUID(hid), Method.DOOR, by=c)
    app.record_visit(ours, UUID(mine[1]), Method.PHONE, Outcome.NO_ANSWER, by=c)
    app.record_visit(UUID(CAMPAIGNS["713"]), other, Method.CHAT, by=System.OPERATOR)
    # a member joins a covered household: it is no longer covered
    joined = UUID(mine[0])
    app.add_member(joined, new_member(app.household(joined).household_no, 9, "新成员",
                                      None, None, 2019), by=System.OPERATOR)


# ---- what the application says ----------------------------------------------------------------

def vulnerabilities_now(w: World, hid: str) -> set[str]:
    h = w.app.household(UUID(hid))
    today = w.clock.now.date()
    return {v.value for rid in h.residents for v in h.vulnerabilities(rid, today)}


def expected(w: World, scope: str | None, vulnerability: list[str], campaign: str | None,
             covered: bool | None, tag: str | None) -> list[str]:
    """The matching households of the caller's subtree, in id order, from the aggregates."""
    if scope is None:
        return []
    if campaign is not None:
        coverage = w.app.campaign_coverage(UUID(campaign))
        done = {str(h) for h in coverage.covered}
        inside = {str(h) for h in w.app.campaign(UUID(campaign)).households}
    out = []
    for hid, grid in w.households.items():
        if not w.sees(scope, grid):
            continue
        if vulnerability and not vulnerabilities_now(w, hid) & set(vulnerability):
            continue
        if tag and not any(TagKind(tag) in r.tags
                           for r in w.app.household(UUID(hid)).residents.values()):
            continue
        if campaign is not None and (hid not in inside or
                                     (covered is not None and (hid in done) != covered)):
            continue
        out.append(hid)
    return sorted(out)


# ---- what the API says ------------------------------------------------------------------------

PAGE = """query($first: Int!, $after: String, $under: String, $v: [Vulnerability!],
                $c: ID, $cov: Boolean, $tag: TagKind) {
  households(first: $first, after: $after, under: $under, vulnerability: $v, campaign: $c,
             covered: $cov, tag: $tag) {
    totalCount
    edges { cursor node { id microGridCode vulnerabilities { vulnerability label }
                          residents { id vulnerabilities } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def all_pages(w: World, staff_no: str | None, first: int, **filters: Any) -> tuple[
        list[dict[str, Any]], list[int]]:
    """Every page over the cursors: the nodes and each page's totalCount."""
    nodes: list[dict[str, Any]] = []
    totals: list[int] = []
    after = None
    for _ in range(100):
        data = w.ask(PAGE, staff_no, {"first": first, "after": after, **filters})["households"]
        if data is None:
            return [], []
        assert len(data["edges"]) <= first
        nodes += [e["node"] for e in data["edges"]]
        totals.append(data["totalCount"])
        if not data["pageInfo"]["hasNextPage"]:
            return nodes, totals
        after = data["pageInfo"]["endCursor"]
        assert after == data["edges"][-1]["cursor"]
    raise AssertionError("more than 100 pages")


def upper(values: list[str]) -> list[str]:
    return [v.upper() for v in values]


FILTER_CALLERS = {**CALLERS, "GW713": OTHER_ZONE}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(staff_no=st.sampled_from(list(FILTER_CALLERS)),
       vulnerability=st.lists(st.sampled_from([v.value for v in Vulnerability]), unique=True,
                              max_size=3),
       campaign=st.sampled_from([None, "712", "713"]), covered=st.sampled_from([None, True,
                                                                                  False]),
       tag=st.sampled_from([None, TagKind.CLOSE_CONTACT.value]), first=st.integers(1, 4),
       large=st.booleans())
def test_filtered_pages_over_cursors_are_the_matching_households_of_the_jurisdiction(
        world: World, staff_no: str | None, vulnerability: list[str], campaign: str | None,
        covered: bool | None, tag: str | None, first: int, large: bool) -> None:
    """``large``: every subtree read as a large one (an index walked in id order, the
    subtree checked on each row) instead of all its rows sorted (the server runs in this
    process)."""
    if campaign is None:
        covered = None
    cid = CAMPAIGNS[campaign] if campaign else None
    small = queries.SMALL_SUBTREE
    queries.SMALL_SUBTREE = -1 if large else small
    try:
        nodes, totals = all_pages(world, staff_no, first, v=upper(vulnerability) or None,
                                  c=cid, cov=covered, tag=tag.upper() if tag else None)
    finally:
        queries.SMALL_SUBTREE = small
    want = expected(world, FILTER_CALLERS[staff_no], vulnerability, cid, covered, tag)
    assert [n["id"] for n in nodes] == want
    assert set(totals) <= {len(want)}
    for n in nodes:
        assert n["microGridCode"] == world.households[n["id"]]
        got = {v["vulnerability"].lower() for v in n["vulnerabilities"]}
        assert got == vulnerabilities_now(world, n["id"])
        if vulnerability:
            assert got & set(vulnerability)


def test_vulnerabilities_are_marked_and_derived_per_resident(world: World) -> None:
    data = world.ask("query($s: String) { households(first: 100, under: $s) { edges { node { "
                     "id vulnerabilities { vulnerability label } residents { id "
                     "vulnerabilities } } } } }", "STR1", {"s": STREET})
    by_id = {e["node"]["id"]: e["node"] for e in data["households"]["edges"]}
    assert set(by_id) == set(world.households)
    today = world.clock.now.date()
    for hid, node in by_id.items():
        h = world.app.household(UUID(hid))
        for r in node["residents"]:
            assert {v.lower() for v in r["vulnerabilities"]} == {
                v.value for v in h.vulnerabilities(UUID(r["id"]), today)}
    alone = str(world.app.household_by_no("712-1-A").id)
    assert [(v["vulnerability"], v["label"]) for v in by_id[alone]["vulnerabilities"]] == [
        ("AGE_65_PLUS", "65岁以上 aged 65+"), ("LIVES_ALONE", "独居 lives alone")]
    other = str(world.app.household_by_no("713-1-D").id)
    assert [v["vulnerability"] for v in by_id[other]["vulnerabilities"]] == ["CHRONIC_ILLNESS"]
    young = str(world.app.household_by_no("712-2-Y").id)
    assert by_id[young]["vulnerabilities"] == []


def test_a_new_visit_moves_a_household_to_the_covered_pages(world: World) -> None:
    cid = CAMPAIGNS["712"]
    before, _ = all_pages(world, "OFF1", 3, c=cid, cov=False)
    assert before
    target = before[0]["id"]
    nid = world.app.record_visit(UUID(cid), UUID(target), Method.DOOR,
                                 by=world.app.staff_by_no("GW1").id)
    world.runner.wait(nid)
    after, _ = all_pages(world, "OFF1", 3, c=cid, cov=False)
    covered, _ = all_pages(world, "OFF1", 3, c=cid, cov=True)
    assert [n["id"] for n in after] == [n["id"] for n in before[1:]]
    assert target in {n["id"] for n in covered}
    assert [n["id"] for n in covered] == expected(world, COMMUNITY, [], cid, True, None)


def test_covered_without_a_campaign_is_refused_saying_what_to_give(world: World) -> None:
    body = world.post(PAGE, "OFF1", {"first": 5, "cov": True}).json()
    assert body["data"]["households"] is None
    [error] = body["errors"]
    assert "`campaign`" in error["message"]


def test_outside_the_jurisdiction_answers_nothing(world: World) -> None:
    assert world.ask(PAGE, "GWZ1", {"first": 5, "under": OTHER_ZONE})["households"] is None
    assert world.ask(PAGE, None, {"first": 5})["households"] is None
    # a campaign of another community: none of its households lie in this jurisdiction
    nodes, totals = all_pages(world, "GWZ1", 5, c=CAMPAIGNS["713"])
    assert nodes == [] and totals == [0]
    # an id that names no campaign matches nothing
    nodes, _ = all_pages(world, "OFF1", 5, c="not-a-campaign", cov=False)
    assert nodes == []


# ---- query plans (SQLite): pages walk indexes in household id order ---------------------------

def plans(world: World, code: str, where: queries.HouseholdFilter,
          small: bool) -> list[list[str]]:
    out = []
    scope = queries._scope(world.runner.views, code) if small else None
    for sql, params in queries._pages(code, where, scope):
        rows = world.runner.views.query(
            "EXPLAIN QUERY PLAN " + sql,
            [("" if p is queries._AFTER else p) for p in params] + [51])
        out.append([r[-1] for r in rows])
    return out


FILTERS = [queries.HouseholdFilter(),
           queries.HouseholdFilter(vulnerabilities=("age_65_plus", "pregnancy"), year=2020),
           queries.HouseholdFilter(campaign="c", covered=False),
           queries.HouseholdFilter(campaign="c", covered=True, tag="close_contact",
                                     vulnerabilities=("disability",), year=2020)]


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)  # SQLite's plans
@pytest.mark.parametrize("where", FILTERS, ids=["all", "vulnerable", "uncovered", "combined"])
def test_large_subtree_pages_walk_an_index_in_id_order(world: World,
                                                       where: queries.HouseholdFilter) -> None:
    assert world.runner.views.dialect == "sqlite"  # PostgreSQL plans by its own statistics
    for plan in plans(world, STREET, where, small=False):
        driver = plan[0]
        assert driver.startswith("SEARCH") and "INDEX" in driver, plan
        assert "household_id>?" in driver, plan  # the cursor bounds the walk
        assert not any("TEMP B-TREE" in step for step in plan), plan
        assert not any(step.startswith("SCAN") and step.split()[1] in ("h", "t", "v")
                       for step in plan), plan


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)  # SQLite's plans
@pytest.mark.parametrize("where", FILTERS, ids=["all", "vulnerable", "uncovered", "combined"])
def test_small_subtree_pages_read_only_the_subtree(world: World,
                                                   where: queries.HouseholdFilter) -> None:
    assert world.runner.views.dialect == "sqlite"  # PostgreSQL plans by its own statistics
    [plan] = plans(world, COMMUNITY, where, small=True)
    assert any("gr_households_grid (micro_grid=?" in step for step in plan), plan
    assert not any(step.startswith("SCAN") and step.split()[1] in ("h", "t", "v")
                   for step in plan), plan
