"""Sweep campaigns (拉网式排查): launch one over a scope of your jurisdiction, record a door
visit, phone call or chat self-report of a household in it, close it with its summary, and
follow up the findings; as the signed-in staff member, applied once per ``clientId``. A
campaign whose scope lies outside your jurisdiction is answered as if it did not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api import readmodel
from graphql_api.commands import (
    Done,
    nodes_in_reach,
    not_an_id,
    on_household,
    refused,
    run_command,
)
from graphql_api.context import Context
from graphql_api.enums import VisitMethod, VisitOutcome
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
)
from graphql_api.households.types import Household
from graphql_api.ids import canonical
from graphql_api.scope import node_visible
from graphql_api.sweeps.types import Campaign, CampaignClosed, CampaignLaunched, FindingsProcessed
from gridcore import assignment, errors, sweep
from gridcore.authority import ORGANISERS

MAX_DAYS = 366
"""The longest sweep window the API takes (a longer one is a typing error, not a campaign)."""

ClientId = Annotated[str | None, strawberry.field(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.input(description="One member's measured temperature.")
class TemperatureInput:
    resident_id: strawberry.ID
    celsius: float


@strawberry.input
class RecordVisitInput:
    campaign_scope: str = strawberry.field(description="The code of the campaign's scope node.")
    round: int
    household_id: strawberry.ID
    method: VisitMethod
    outcome: VisitOutcome = VisitOutcome.SEEN  # type: ignore[attr-defined]
    visited_at: datetime | None = strawberry.field(
        default=None, description="When it happened (default: now); never in the future.")
    accounted: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Members seen or reported (default when seen: all).")
    temperatures: list[TemperatureInput] = strawberry.field(default_factory=list)
    close_contacts: list[strawberry.ID] = strawberry.field(default_factory=list)
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


@strawberry.type(description="The visit was recorded (or had been, under this clientId).")
class VisitRecorded:
    notification_id: int | None
    household: Household | None


VisitResult = Annotated[
    VisitRecorded | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ConflictProblem | CommandRejected,
    strawberry.union("VisitResult"),
]


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


LaunchResult = Annotated[
    CampaignLaunched | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("LaunchResult"),
]
CloseResult = Annotated[
    CampaignClosed | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("CloseResult"),
]
FindingsResult = Annotated[
    FindingsProcessed | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("FindingsResult"),
]


def no_campaign(scope: str, round_no: int) -> NotFoundProblem:
    """The answer for a campaign never launched, and (the same words) for one whose scope lies
    outside the caller's jurisdiction."""
    e = errors.NotFound(f"No campaign of {scope[:60]} round {round_no}.",
                        "Launch the campaign first.")
    return NotFoundProblem(code=e.code, problem=e.problem, remedy=e.remedy)


async def _campaign(ctx: Context, scope: str, round_no: int) -> Campaign | None:
    """The campaign as the read model shows it, seen from its scope."""
    cid = str(sweep.campaign_id(scope, round_no))
    chain = await ctx.loaders.chain.load(scope)
    return next((Campaign.from_row(r, scope)
                 for r in readmodel.campaigns_touching(ctx.views, scope, chain)
                 if r.campaign_id == cid), None)


def _ids(raw: list[strawberry.ID]) -> list[UUID] | InvalidInputProblem:
    out = []
    for value in raw:
        rid = canonical(value)
        if rid is None:
            return not_an_id(value, "resident")
        out.append(UUID(rid))
    return out


def _details(input: RecordVisitInput) -> dict[str, Any] | InvalidInputProblem:
    details: dict[str, Any] = {}
    if input.accounted is not None:
        accounted = _ids(input.accounted)
        if isinstance(accounted, InvalidInputProblem):
            return accounted
        details["accounted"] = accounted
    contacts = _ids(input.close_contacts)
    if isinstance(contacts, InvalidInputProblem):
        return contacts
    if contacts:
        details["close_contacts"] = contacts
    hot = _ids([t.resident_id for t in input.temperatures])
    if isinstance(hot, InvalidInputProblem):
        return hot
    if hot:
        details["temperatures"] = {rid: t.celsius
                                   for rid, t in zip(hot, input.temperatures, strict=True)}
    return details


@strawberry.type
class SweepMutation:
    @strawberry.mutation(description="排查走访 record a visit of a household in a sweep campaign; "
                                     "findings (fever, close contacts) are followed up.")
    async def record_visit(self, info: Info[Context, None],
                           input: RecordVisitInput) -> VisitResult:
        details = _details(input)
        if isinstance(details, Problem):
            return details
        cid = sweep.campaign_id(input.campaign_scope, input.round)
        method = assignment.Method(input.method.value)
        outcome = sweep.Outcome(input.outcome.value)

        def command(app: Any, hid: UUID, by: UUID) -> int | None:
            return app.record_visit(cid, hid, method, outcome, by=by,
                                    visited_at=input.visited_at, client_id=input.client_id,
                                    **details)

        done = await on_household(info.context, input.household_id, command)
        if isinstance(done, Done):
            return VisitRecorded(notification_id=done.notification_id, household=done.household)
        return done

    @strawberry.mutation(description="发起排查 launch a sweep of a scope of your jurisdiction: "
                                     "every household is assigned (door visits for vulnerable "
                                     "ones) and the campaign opens, in one transaction.")
    async def launch_campaign(self, info: Info[Context, None],
                              input: LaunchCampaignInput) -> LaunchResult:
        ctx = info.context
        if (no := refused(ctx, ORGANISERS, "launch campaigns")) is not None:
            return no
        if (outside := await nodes_in_reach(ctx, input.scope_code)) is not None:
            return outside
        if not 1 <= input.days <= MAX_DAYS:
            return InvalidInputProblem(code=errors.InvalidInput.code,
                                       problem=f"A sweep of {input.days} days is out of range.",
                                       remedy=f"Give 1 to {MAX_DAYS} days.")
        if input.starts is not None and input.starts.tzinfo is None:
            return InvalidInputProblem(code=errors.InvalidInput.code,
                                       problem="starts has no time zone.",
                                       remedy="Give one, e.g. 2020-02-17T08:00:00+08:00.")

        def command(app: Any) -> assignment.Plan:
            plan = app.launch_campaign(input.scope_code, input.round, input.days, input.name,
                                       input.starts, client_id=input.client_id)
            if isinstance(plan, assignment.Plan):
                return plan
            # a retried clientId answers the log's position: the plan is the round's assignment
            a = app.assignment(input.scope_code, input.round)
            return assignment.Plan(items=[assignment.PlanItem(household_id=h, staff_id=s,
                                                              method=a.method[h])
                                          for h, s in a.owner.items()],
                                   uncovered=list(a.uncovered.values()))

        plan = await run_command(ctx, command)
        if isinstance(plan, Problem):
            return plan
        return CampaignLaunched(campaign=await _campaign(ctx, input.scope_code, input.round),
                                assigned=len(plan.items), uncovered=len(plan.uncovered),
                                shortfall=plan.shortfall)

    @strawberry.mutation(description="结束排查 close a campaign, recording its summary (covered, "
                                     "not covered with reasons, findings).")
    async def close_campaign(self, info: Info[Context, None],
                             input: CloseCampaignInput) -> CloseResult:
        ctx = info.context
        if (no := refused(ctx, ORGANISERS, "close campaigns")) is not None:
            return no
        if not await node_visible(ctx, input.scope_code):
            return no_campaign(input.scope_code, input.round)
        cid = sweep.campaign_id(input.scope_code, input.round)

        def command(app: Any) -> int | None:
            try:
                app.campaign(cid)
            except errors.NotFound:
                raise errors.NotFound(no_campaign(input.scope_code, input.round).problem,
                                      "Launch the campaign first.") from None
            return app.close_campaign(cid, client_id=input.client_id)

        done = await run_command(ctx, command)
        if isinstance(done, Problem):
            return done
        return CampaignClosed(notification_id=done,
                              campaign=await _campaign(ctx, input.scope_code, input.round))

    @strawberry.mutation(description="跟进发现 follow up the findings (fever, close contacts, "
                                     "arrivals) of visits recorded since the last run; visits "
                                     "already do this, so it only catches up after a failure.")
    async def process_findings(self, info: Info[Context, None]) -> FindingsResult:
        ctx = info.context
        if (no := refused(ctx, ORGANISERS, "run the findings follow-up")) is not None:
            return no
        processed = await run_command(ctx, lambda app: app.process_findings())
        if isinstance(processed, Problem):
            return processed
        return FindingsProcessed(processed=processed)
