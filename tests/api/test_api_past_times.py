"""What may and may not be dated in the past, over a real HTTP server (issue 15, point 7).

A policy is never adopted retroactively (it would change the rules under decisions already
taken), and ``policy(at:)`` answers the version in force at a time; a measure recorded late
may start when it actually began, within the policy's bound and with a reason, and its
period counts from then; a reopened request keeps its earlier replies and ratings in
``myRequest``'s history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.authority import System
from gridcore.household import Household
from gridcore.staff import Role
from tests.api.test_api_access import World, serve_world
from tests.scenario import CITY, ZONES

PROBLEM = "... on Problem { code problem remedy }"
ADOPT = f"""mutation($input: AdoptPolicyInput!) {{ adoptPolicy(input: $input) {{ __typename
  ... on PolicyAdopted {{ policy {{ effectiveFrom microGridSoftCap }} }} {PROBLEM} }} }}"""
POLICY = """query($at: DateTime) { policy(at: $at) { effectiveFrom note microGridSoftCap
  measureBackdateHours quarantineDays { measure days } } }"""
CHANGE_MEASURE = f"""mutation($input: ChangeMeasureInput!) {{ changeMeasure(input: $input) {{
  __typename ... on StatusChanged {{ household {{ residents {{ id measure }} }} }}
  {PROBLEM} }} }}"""
FILE = f"""mutation($input: FileRequestInput!) {{ fileRequest(input: $input) {{ __typename
  ... on RequestFiled {{ reference number }} {PROBLEM} }} }}"""
BOARD = "{ requests(first: 100) { id number } }"
RESOLVE = f"""mutation($id: ID!, $reply: String!) {{
  resolveRequest(input: {{ id: $id, reply: $reply }}) {{ __typename {PROBLEM} }} }}"""
RATE = f"""mutation($ref: String!, $n: Int!) {{
  rateRequest(input: {{ reference: $ref, rating: $n }}) {{ __typename {PROBLEM} }} }}"""
REOPEN = f"""mutation($ref: String!) {{
  reopenRequest(input: {{ reference: $ref, reason: "药还没送到 still not delivered" }}) {{
  __typename {PROBLEM} }} }}"""
MINE = """query($ref: String!) { myRequest(reference: $ref) { status reply rating
  history { answeredAt reply answeredOnTime rating ratedAt reopenedAt } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-past") / "gridcore.sqlite") as w:
        w.app.enrol_staff("CITY1", "市领导", Role.OFFICIAL, CITY, 0, by=System.OPERATOR)
        w.staff["CITY1"] = w.app.staff_by_no("CITY1").id
        w.caught_up()
        yield w


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def ask(world: World, query: str, staff_no: str | None, **variables: Any) -> Any:
    return next(iter(world.ask(query, staff_no, variables).values()))


def iso(world: World, **delta: float) -> str:
    return (world.clock.now + timedelta(**delta)).isoformat()


# ---- 1. no retroactive policy; the policy in force -------------------------------------------

def test_a_policy_is_not_adopted_retroactively_and_the_query_answers_the_one_in_force(
        world: World) -> None:
    change = {"note": "软上限150 cap 150", "changes": {
        "microGridSoftCap": 150, "quarantineDays": [{"measure": "home_observation", "days": 10}]}}
    written = last(world)
    for past in ({"hours": -1}, {"minutes": -6}, {"days": -30}):
        refused = ask(world, ADOPT, "CITY1", input={**change, "effectiveFrom": iso(world, **past)})
        assert refused["__typename"] == "InvalidInputProblem"
        assert refused["code"] == "INVALID_INPUT"
        assert "retroactively" in refused["problem"]  # the rule
        assert "adopt a new one effective now" in refused["remedy"]  # the remedy
        assert "5-minute clock skew" in refused["remedy"]
    assert last(world) == written  # nothing written

    # before any adoption: the default policy (no effective time)
    now = ask(world, POLICY, "GWZ1")
    assert now["effectiveFrom"] is None and now["microGridSoftCap"] == 100
    assert now["measureBackdateHours"] == 72
    assert {"measure": "home_observation", "days": 14} in now["quarantineDays"]
    assert ask(world, POLICY, None) is None  # a staff member's question

    # within the clock skew of now is not retroactive; scheduled for later is fine
    effective = iso(world, hours=2)
    adopted = ask(world, ADOPT, "CITY1", input={**change, "effectiveFrom": effective})
    assert adopted["__typename"] == "PolicyAdopted"
    before = ask(world, POLICY, "OFF1")  # at: now, before it takes effect
    assert before["effectiveFrom"] is None and before["microGridSoftCap"] == 100
    after = ask(world, POLICY, "OFF1", at=iso(world, hours=3))
    assert after["microGridSoftCap"] == 150 and after["note"] == "软上限150 cap 150"
    assert {"measure": "home_observation", "days": 10} in after["quarantineDays"]
    assert {"measure": "home_quarantine", "days": 14} in after["quarantineDays"]
    assert ask(world, POLICY, "OFF1", at=iso(world, hours=1, minutes=59))["microGridSoftCap"] == 100
    world.clock.advance(hours=2)
    in_force = ask(world, POLICY, "OFF1")
    assert in_force == after
    assert datetime.fromisoformat(in_force["effectiveFrom"]) == world.clock.now
    # adopting another one a little behind the server's clock (a slow device) is accepted
    world.clock.advance(minutes=10)
    slow = ask(world, ADOPT, "CITY1", input={**change, "effectiveFrom": iso(world, minutes=-4),
                                             "note": "时钟略慢 a slow clock"})
    assert slow["__typename"] == "PolicyAdopted"
    assert ask(world, POLICY, "OFF1")["note"] == "时钟略慢 a slow clock"


# ---- 3. a reopened request keeps its history ----------------------------------------------

def test_my_request_keeps_the_earlier_replies_and_ratings_after_a_reopening(
        world: World) -> None:
    filed = ask(world, FILE, None, input={
        "category": "MEDICAL", "text": "家里缺降压药 out of medicine", "phone": "13800138000",
        "address": "1栋101", "gridCode": ZONES[0]})
    assert filed["__typename"] == "RequestFiled"
    ref = filed["reference"]
    world.caught_up()
    [rid] = [r["id"] for r in world.ask(BOARD, "OFF1")["requests"]
             if r["number"] == filed["number"]]
    world.clock.advance(minutes=30)
    assert ask(world, RESOLVE, "OFF1", id=rid, reply="已送药上门 delivered")["__typename"] == (
        "RequestUpdated")
    world.clock.advance(minutes=10)
    assert ask(world, RATE, None, ref=ref, n=2)["__typename"] == "RequestUpdated"
    world.clock.advance(minutes=10)
    assert ask(world, REOPEN, None, ref=ref)["__typename"] == "RequestUpdated"

    mine = ask(world, MINE, None, ref=ref)
    assert (mine["status"], mine["reply"], mine["rating"]) == ("OPEN", None, None)
    [first] = mine["history"]
    assert (first["reply"], first["rating"], first["answeredOnTime"]) == (
        "已送药上门 delivered", 2, True)
    assert first["answeredAt"] < first["ratedAt"] < first["reopenedAt"]

    world.clock.advance(minutes=30)
    assert ask(world, RESOLVE, "OFF1", id=rid, reply="已换药 replaced")["__typename"] == (
        "RequestUpdated")
    assert ask(world, RATE, None, ref=ref, n=5)["__typename"] == "RequestUpdated"
    mine = ask(world, MINE, None, ref=ref)
    assert (mine["status"], mine["reply"], mine["rating"]) == ("CLOSED", "已换药 replaced", 5)
    assert [(h["reply"], h["rating"], h["reopenedAt"] is None) for h in mine["history"]] == [
        ("已送药上门 delivered", 2, False), ("已换药 replaced", 5, True)]


# ---- 4. a measure recorded late starts when it began ------------------------------------------

def test_a_measure_recorded_late_starts_when_it_began_within_the_bound_with_a_reason(
        world: World) -> None:
    hid = sorted(h for h, g in world.households.items() if g == ZONES[0])[1]
    late, on_time = (str(r) for r in world.app.household(UUID(hid)).residents)
    t = world.clock.now

    def impose(rid: str, **fields: Any) -> dict[str, Any]:
        return dict(ask(world, CHANGE_MEASURE, "GWZ1", input={
            "householdId": hid, "residentId": rid, "measure": "HOME_QUARANTINE",
            "reason": "密接 close contact", **fields}))

    written = last(world)
    too_early = impose(late, since=iso(world, hours=-73), sinceReason="夜间转运后补录")
    assert too_early["__typename"] == "InvalidInputProblem"
    assert "more than 72 hours" in too_early["problem"]
    assert "measure_backdate_hours" in too_early["problem"] and too_early["remedy"]
    no_reason = impose(late, since=iso(world, hours=-48))
    assert no_reason["__typename"] == "InvalidInputProblem" and "reason" in no_reason["problem"]
    ahead = impose(late, since=iso(world, hours=1), sinceReason="夜间转运后补录")
    assert ahead["__typename"] == "InvalidInputProblem"
    assert last(world) == written  # nothing written

    began = t - timedelta(hours=48)
    done = impose(late, since=began.isoformat(), sinceReason="夜间转运后补录 recorded late")
    assert done["__typename"] == "StatusChanged"
    assert {r["id"]: r["measure"] for r in done["household"]["residents"]}[late] == (
        "HOME_QUARANTINE")
    assert impose(on_time)["__typename"] == "StatusChanged"
    changed = [e for e in world.app.events.get(UUID(hid))
               if isinstance(e, Household.MeasureChanged)]
    assert [(e.since, e.since_reason, e.timestamp) for e in changed] == [
        (began, "夜间转运后补录 recorded late", t), (None, "", t)]
    # a release cannot be dated back
    release_back = ask(world, CHANGE_MEASURE, "DOC1", input={
        "householdId": hid, "residentId": on_time, "measure": "NONE",
        "since": iso(world, hours=-1), "sinceReason": "补录"})
    assert release_back["__typename"] == "InvalidInputProblem"

    # the 14 days count from when it began: served 12 days after it was recorded
    world.clock.advance(days=12, hours=1)
    for rid in (late, on_time):
        world.app.record_test(UUID(hid), UUID(rid), True, by=System.OPERATOR)

    def release(rid: str) -> dict[str, Any]:
        return dict(ask(world, CHANGE_MEASURE, "DOC1", input={
            "householdId": hid, "residentId": rid, "measure": "NONE", "reason": "期满 served"}))

    assert release(late)["__typename"] == "StatusChanged"
    not_yet = release(on_time)
    assert not_yet["__typename"] == "ForbiddenTransitionProblem", not_yet
    assert "not served yet" in not_yet["problem"]
