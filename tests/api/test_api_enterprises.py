"""Enterprises resuming work over a real HTTP server: a filing reviewed, an inspection opening
a rectification, the rectification closed, by the enterprise's specialist, and only for an
enterprise located in the caller's jurisdiction; refusals typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridcore.authority import System
from gridcore.enterprise import enterprise_id
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from tests.api.test_api_access import OTHER_ZONE, World, serve_world
from tests.scenario import COMMUNITY, ZONES

CODES = ["91510100MA61R8X000", "91510100MA61R8X001"]
RESULT = "__typename ... on EnterpriseUpdated { enterprise { id status inspections " \
         "rectified } } ... on Problem { code problem remedy }"
ITEMS = list(DEFAULT_POLICY.inspection_items)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-enterprises") / "gridcore.sqlite") as w:
        w.app.enrol_staff("ES1", "专员", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0,
                          by=System.OPERATOR)
        spec = w.app.staff_by_no("ES1").id
        w.staff["ES1"] = spec
        for code, where in zip(CODES, (ZONES[0], OTHER_ZONE), strict=True):
            w.app.register_enterprise(code, f"企业{code[-1]}", "商务局", where, spec,
                                      by=System.OPERATOR)
            w.app.file_resumption(enterprise_id(code), DEFAULT_POLICY.resumption_checklist, 12,
                                  by=System.OPERATOR)
        w.caught_up()
        yield w


def act(world: World, staff_no: str | None, name: str, args: str,
        variables: dict[str, Any]) -> dict[str, Any]:
    types = {"id": "ID!", "item": "String!", "results": "[InspectionItemInput!]!"}
    decl = ", ".join(f"${k}: {types[k]}" for k in variables)
    return world.ask(f"mutation({decl}) {{ {name}(input: {{ {args} }}) {{ {RESULT} }} }}",
                     staff_no, variables)[name]


def test_review_inspect_and_rectify_within_the_jurisdiction(world: World) -> None:
    mine, theirs = (str(enterprise_id(c)) for c in CODES)
    assert act(world, "ES1", "reviewResumption", "id: $id, approved: true",
               {"id": theirs})["__typename"] == "NotFoundProblem"  # in the other community
    not_theirs = act(world, "GWZ1", "reviewResumption", "id: $id, approved: true",
                     {"id": mine})
    assert not_theirs["__typename"] == "NotPermittedProblem"  # not the specialist
    early = act(world, "ES1", "reviewResumption", "id: $id, approved: true", {"id": mine})
    assert early["__typename"] == "ForbiddenTransitionProblem" and "员工健康申报" in (
        early["problem"] + early["remedy"])
    world.app.declare_employee_health(enterprise_id(CODES[0]), 12, by=System.OPERATOR)
    approved = act(world, "ES1", "reviewResumption", "id: $id, approved: true", {"id": mine})
    assert approved["enterprise"]["status"] == "APPROVED"

    results = [{"item": i, "passed": n != 0} for n, i in enumerate(ITEMS)]
    inspected = act(world, "ES1", "inspectEnterprise", "id: $id, results: $results",
                    {"id": mine, "results": results})
    assert inspected["enterprise"]["inspections"] == 1
    open_items = world.ask("{ rectifications { enterpriseId item } }", "OFF1")["rectifications"]
    assert open_items == [{"enterpriseId": mine, "item": ITEMS[0]}]
    wrong = act(world, "ES1", "closeRectification", "id: $id, item: $item",
                {"id": mine, "item": ITEMS[1]})
    assert wrong["__typename"] == "InvalidInputProblem" and ITEMS[0] in wrong["remedy"]
    closed = act(world, "ES1", "closeRectification", "id: $id, item: $item",
                 {"id": mine, "item": ITEMS[0]})
    assert closed["enterprise"]["rectified"] == 1
    assert world.ask("{ rectifications { item } }", "OFF1")["rectifications"] == []
    counts = {c["status"]: c["count"] for c in world.ask(
        "{ resumptionCounts { status count } }", "OFF1")["resumptionCounts"]}
    assert counts["APPROVED"] == 1 and counts["FILED"] == 0  # the 713 one is not counted here
