"""Sweep visits (拉网式排查): record a door visit, phone call or chat self-report of a household
in a campaign, as the signed-in staff member, applied once per ``clientId``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.commands import Done, not_an_id, on_household
from graphql_api.context import Context
from graphql_api.enums import VisitMethod, VisitOutcome
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
)
from graphql_api.households.queries import canonical
from graphql_api.households.types import Household
from gridcore import assignment, sweep


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
