"""Sweep campaigns (拉网式排查): launch one over a scope of your jurisdiction, record a door
visit, phone call or chat self-report of a household in it, close it with its summary, and
follow up the findings; as the signed-in staff member, applied once per ``clientId``. A
campaign whose scope lies outside your jurisdiction is answered as if it did not exist."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import VisitMethod, VisitOutcome
from graphql_api.households.register import household_after
from graphql_api.households.types import Household
from graphql_api.pipeline import Call, ClientId, Reach, mutation, run_mutation
from graphql_api.problems import NotFoundProblem, Problem, not_found, result
from graphql_api.reach import household, ids, nodes
from graphql_api.scope import node_visible
from graphql_api.sweeps.types import Campaign, CampaignClosed, CampaignLaunched, FindingsProcessed
from gridcore import assignment, errors, sweep
from projections.sweep_coverage import campaigns_touching

MAX_DAYS = 366
"""The longest sweep window the API takes (a longer one is a typing error, not a campaign)."""

@strawberry.input(description="One member's measured temperature.")
class TemperatureInput:
    resident_id: strawberry.ID
    celsius: float


@strawberry.input(description="症状 one member's symptoms, seen or reported (发热, 咳嗽, 乏力): "
                              "the member becomes symptomatic and is referred to the fever "
                              "clinic.")
class SymptomInput:
    resident_id: strawberry.ID
    symptoms: list[str]


@strawberry.input(description="外来人员 someone from elsewhere staying with the household "
                              "(哪来的亲戚？云南来的): where they came from, kept on the visit "
                              "and counted on the work list and the campaign's coverage for "
                              "follow-up; no name is kept.")
class VisitorInput:
    origin: str
    note: str = strawberry.field(default="", description="Without phone or ID numbers.")


@strawberry.input(description="来返 a member who arrived from a risk area: tagged and placed "
                              "under home observation.")
class ArrivalInput:
    resident_id: strawberry.ID
    origin: str
    arrived_on: date


def findings_details(symptoms: list[SymptomInput], visitors: list[VisitorInput],
                     arrivals: list[ArrivalInput]) -> dict[str, Any] | Problem:
    """The symptoms, visitors and arrivals a visit found, as ``record_visit`` takes them (both
    doors: ``recordVisit`` and ``syncFieldRecords``); only those given."""
    details: dict[str, Any] = {}
    sick = ids([s.resident_id for s in symptoms], "resident")
    if isinstance(sick, Problem):
        return sick
    if sick:
        found: dict[Any, list[str]] = {}
        for rid, s in zip(sick, symptoms, strict=True):
            found.setdefault(rid, []).extend(s.symptoms)
        details["symptoms"] = found
    arrived = ids([a.resident_id for a in arrivals], "resident")
    if isinstance(arrived, Problem):
        return arrived
    if arrived:
        details["arrivals"] = [sweep.Arrival(resident_id=rid, origin=a.origin,
                                             arrived_on=a.arrived_on)
                               for rid, a in zip(arrived, arrivals, strict=True)]
    if visitors:
        details["visitors"] = [sweep.Visitor(origin=v.origin, note=v.note) for v in visitors]
    return details


@strawberry.input
class RecordVisitInput:
    campaign_scope: str = strawberry.field(description="The code of the campaign's scope node.")
    round: int
    household_id: strawberry.ID
    method: VisitMethod
    outcome: VisitOutcome = VisitOutcome.SEEN
    visited_at: datetime | None = strawberry.field(
        default=None, description="When it happened (default: now); never in the future.")
    accounted: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Members seen or reported (default when seen: all).")
    temperatures: list[TemperatureInput] = strawberry.field(default_factory=list)
    close_contacts: list[strawberry.ID] = strawberry.field(default_factory=list)
    symptoms: list[SymptomInput] = strawberry.field(default_factory=list)
    visitors: list[VisitorInput] = strawberry.field(default_factory=list)
    arrivals: list[ArrivalInput] = strawberry.field(default_factory=list)
    client_id: ClientId = None


@strawberry.type(description="The visit was recorded (or had been, under this clientId).")
class VisitRecorded:
    notification_id: int | None
    household: Household | None


VisitResult = result("VisitResult", VisitRecorded)


@strawberry.input
class LaunchCampaignInput:
    scope_code: str
    round: int
    days: int = strawberry.field(description="How long the sweep runs.")
    name: str = strawberry.field(default="", description="Default: '<scope> 第<round>轮排查'.")
    starts: datetime | None = strawberry.field(default=None, description="Default: now.")
    client_id: ClientId = None


@strawberry.input
class CloseCampaignInput:
    scope_code: str
    round: int
    client_id: ClientId = None


LaunchResult = result("LaunchResult", CampaignLaunched)
CloseResult = result("CloseResult", CampaignClosed)
if TYPE_CHECKING:  # mypy checks resolvers against this; the schema gets the union below
    FindingsResult = FindingsProcessed | Problem
else:
    FindingsResult = result("FindingsResult", FindingsProcessed)


def no_campaign(scope: str, round_no: int) -> NotFoundProblem:
    """The answer for a campaign never launched, and (the same words) for one whose scope lies
    outside the caller's jurisdiction."""
    return not_found(f"No campaign of {scope[:60]} round {round_no}.",
                     "Launch the campaign first.")


async def _campaign(ctx: Context, scope: str, round_no: int) -> Campaign | None:
    """The campaign as the read model shows it, seen from its scope."""
    cid = str(sweep.campaign_id(scope, round_no))
    chain = await ctx.loaders.chain.load(scope)
    return next((Campaign.from_row(r, scope)
                 for r in campaigns_touching(ctx.views, scope, chain)
                 if r.campaign_id == cid), None)


def _campaign_in_reach(scope: str, round_no: int) -> Reach:
    """A campaign whose scope lies in the caller's jurisdiction (its id)."""
    async def reach(ctx: Context) -> Any:
        if not await node_visible(ctx, scope):
            return no_campaign(scope, round_no)
        return sweep.campaign_id(scope, round_no)
    return reach


def _details(input: RecordVisitInput) -> dict[str, Any] | Problem:
    details: dict[str, Any] = {}
    if input.accounted is not None:
        accounted = ids(input.accounted, "resident")
        if isinstance(accounted, Problem):
            return accounted
        details["accounted"] = accounted
    contacts = ids(input.close_contacts, "resident")
    if isinstance(contacts, Problem):
        return contacts
    if contacts:
        details["close_contacts"] = contacts
    hot = ids([t.resident_id for t in input.temperatures], "resident")
    if isinstance(hot, Problem):
        return hot
    if hot:
        details["temperatures"] = {rid: t.celsius
                                   for rid, t in zip(hot, input.temperatures, strict=True)}
    found = findings_details(input.symptoms, input.visitors, input.arrivals)
    if isinstance(found, Problem):
        return found
    return details | found


def _launch(c: Call, input: LaunchCampaignInput) -> assignment.Plan:
    if not 1 <= input.days <= MAX_DAYS:
        raise errors.InvalidInput(f"A sweep of {input.days} days is out of range.",
                                  f"Give 1 to {MAX_DAYS} days.")
    if input.starts is not None and input.starts.tzinfo is None:
        raise errors.InvalidInput("starts has no time zone.",
                                  "Give one, e.g. 2020-02-17T08:00:00+08:00.")
    plan = c.app.launch_campaign(input.scope_code, input.round, input.days, input.name,
                                 input.starts, client_id=input.client_id, by=c.by)
    if isinstance(plan, assignment.Plan):
        return plan
    # a retried clientId answers the log's position: the plan is the round's assignment
    a = c.app.assignment(input.scope_code, input.round)
    return assignment.Plan(items=[assignment.PlanItem(household_id=h, staff_id=s,
                                                      method=a.method[h])
                                  for h, s in a.owner.items()],
                           uncovered=list(a.uncovered.values()))


def _close(c: Call, input: CloseCampaignInput) -> int | None:
    try:
        c.app.campaign(c.target)
    except errors.NotFound:
        raise errors.NotFound(no_campaign(input.scope_code, input.round).problem,
                              "Launch the campaign first.") from None
    return c.app.close_campaign(c.target, client_id=input.client_id, by=c.by)


def _visit(input: RecordVisitInput) -> Reach:
    """What a visit found, its residents' ids parsed."""
    async def reach(ctx: Context) -> dict[str, Any] | Problem:
        return _details(input)
    return reach


async def _launched(c: Call, plan: assignment.Plan) -> CampaignLaunched:
    return CampaignLaunched(campaign=await _campaign(c.ctx, c.input.scope_code, c.input.round),
                            assigned=len(plan.items), uncovered=len(plan.uncovered),
                            shortfall=plan.shortfall)


async def _closed(c: Call, nid: int | None) -> CampaignClosed:
    return CampaignClosed(notification_id=nid, campaign=await _campaign(
        c.ctx, c.input.scope_code, c.input.round))


@strawberry.type
class SweepMutation:
    record_visit = mutation(
        "排查走访 record a visit of a household in a sweep campaign; findings are followed up "
        "(fever or another symptom, close contacts, arrivals from risk areas; visitors from "
        "elsewhere are kept and counted).", RecordVisitInput, lambda c, i: c.app.record_visit(
            sweep.campaign_id(i.campaign_scope, i.round), c.target,
            assignment.Method(i.method.value), sweep.Outcome(i.outcome.value), by=c.by,
            visited_at=i.visited_at, client_id=i.client_id, **c.targets[1]),
        result=VisitResult, success=lambda c, nid: household_after(VisitRecorded, c, nid),
        on=lambda i: [household(i.household_id), _visit(i)])

    launch_campaign = mutation(
        "发起排查 launch a sweep of a scope of your jurisdiction: every household is assigned "
        "(door visits for vulnerable ones) and the campaign opens, in one transaction.",
        LaunchCampaignInput, _launch, result=LaunchResult,
        success=_launched, on=lambda i: [nodes(i.scope_code)])

    close_campaign = mutation(
        "结束排查 close a campaign, recording its summary (covered, not covered with reasons, "
        "findings).", CloseCampaignInput, _close, result=CloseResult,
        success=_closed, on=lambda i: [_campaign_in_reach(i.scope_code, i.round)])

    @strawberry.mutation(description="跟进发现 follow up the findings (fever, close contacts, "
                                     "arrivals) of visits recorded since the last run; visits "
                                     "already do this, so it only catches up after a failure.")
    async def process_findings(self, info: Info[Context, None]) -> FindingsResult:
        return await run_mutation(info, lambda c: c.app.process_findings(by=c.by),
                                  lambda c, n: FindingsProcessed(processed=n))
