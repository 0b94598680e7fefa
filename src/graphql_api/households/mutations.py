"""Mutations of resident status: change health, change measure, tag a resident.

Each acts as the signed-in staff member (``by`` is never an argument), on a household in their
jurisdiction, and accepts a ``clientId`` so a retried request is applied once. The result is a
union of the success type and typed problems (``graphql_api.errors``); a refused command wrote
nothing. On success the read models are caught up to the command's write before the household
is read back (read your own writes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.commands import Done, not_an_id, on_household
from graphql_api.context import Context
from graphql_api.enums import Health, Measure, TagKind
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    not_signed_in,
)
from graphql_api.households.types import Household
from graphql_api.ids import canonical
from gridcore import errors, status


@strawberry.type(description="The change was recorded (or had been, under this clientId).")
class StatusChanged:
    notification_id: int | None
    household: Household | None


StatusResult = Annotated[
    StatusChanged | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("StatusResult"),
]


@strawberry.input
class ChangeHealthInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    health: Health
    reason: str = ""
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


@strawberry.input
class ChangeMeasureInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    measure: Measure
    reason: str = ""
    override_reason: str = strawberry.field(
        default="", description="A family doctor's reason to release early.")
    client_id: str | None = None


@strawberry.input
class TagResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    tag: TagKind
    origin: str | None = strawberry.field(
        default=None, description="Where an arrival came from (risk-area arrivals).")
    arrived_on: date | None = None
    note: str = ""
    client_id: str | None = None


ResidentCommand = Callable[[Any, UUID, UUID, UUID], int | None]
"""(application, household id, resident id, acting staff id) -> notification id"""


async def _run(ctx: Context, household_id: str, resident_id: str,
               command: ResidentCommand) -> StatusChanged | Problem:
    if ctx.caller is None:
        return not_signed_in()
    rid = canonical(resident_id)
    if rid is None:
        return not_an_id(resident_id, "resident")
    resident = UUID(rid)
    done = await on_household(ctx, household_id,
                              lambda app, hid, by: command(app, hid, resident, by))
    if isinstance(done, Done):
        return StatusChanged(notification_id=done.notification_id, household=done.household)
    return done


@strawberry.type
class HouseholdMutation:
    @strawberry.mutation(description="健康状况变更 change a resident's health, as the policy in "
                                     "force allows your role.")
    async def change_health(self, info: Info[Context, None],
                            input: ChangeHealthInput) -> StatusResult:
        health = status.Health(input.health.value)
        return await _run(info.context, input.household_id, input.resident_id,
                          lambda app, hid, rid, by: app.change_health(
                              hid, rid, health, by, input.reason, client_id=input.client_id))

    @strawberry.mutation(description="管控措施变更 impose or release a measure, as the policy in "
                                     "force allows.")
    async def change_measure(self, info: Info[Context, None],
                             input: ChangeMeasureInput) -> StatusResult:
        measure = status.Measure(input.measure.value)
        return await _run(info.context, input.household_id, input.resident_id,
                          lambda app, hid, rid, by: app.change_measure(
                              hid, rid, measure, by, input.reason, input.override_reason,
                              client_id=input.client_id))

    @strawberry.mutation(description="标记 tag a resident (close contact, arrival...).")
    async def tag_resident(self, info: Info[Context, None],
                           input: TagResidentInput) -> StatusResult:
        try:
            tag = status.Tag(kind=status.TagKind(input.tag.value), origin=input.origin,
                             arrived_on=input.arrived_on, note=input.note)
        except ValueError as e:
            return InvalidInputProblem(code=errors.InvalidInput.code,
                                       problem=f"The tag is malformed: {e}",
                                       remedy="Check the tag's fields.")
        return await _run(info.context, input.household_id, input.resident_id,
                          lambda app, hid, rid, by: app.tag_resident(
                              hid, rid, tag, by, client_id=input.client_id))
