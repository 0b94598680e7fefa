"""Resident status (健康状况, 管控措施, 标记): change health, change measure, tag a resident and
remove a tag.

Each acts as the signed-in staff member (``by`` is never an argument), on a household in their
jurisdiction, and accepts a ``clientId`` so a retried request is applied once. Who may is the
domain's rule (the policy in force, for the role of the acting member). The result is the
household read back (read your own writes) or typed problems; a refused command wrote nothing.
"""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Health, Measure, TagKind
from graphql_api.households.register import (
    HouseholdAdminResult,
    HouseholdChanged,
    household_after,
)
from graphql_api.households.types import Household
from graphql_api.pipeline import Call, ClientId, run_mutation
from graphql_api.problems import invalid, result
from graphql_api.reach import an_id, household
from gridcore import status


@strawberry.type(description="The change was recorded (or had been, under this clientId).")
class StatusChanged:
    notification_id: int | None
    household: Household | None


StatusResult = result("StatusResult", StatusChanged)


@strawberry.input
class ChangeHealthInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    health: Health
    reason: str = ""
    client_id: ClientId = None


@strawberry.input
class ChangeMeasureInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    measure: Measure
    reason: str = ""
    override_reason: str = strawberry.field(
        default="", description="A family doctor's reason to release early.")
    client_id: ClientId = None


@strawberry.input
class TagResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    tag: TagKind
    origin: str | None = strawberry.field(
        default=None, description="Where an arrival came from (risk-area arrivals).")
    arrived_on: date | None = None
    note: str = ""
    client_id: ClientId = None


@strawberry.input
class UntagResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    tag: TagKind
    reason: str
    client_id: ClientId = None


async def _changed(c: Call, nid: int | None) -> StatusChanged:
    return await household_after(StatusChanged, c, nid)


def _on(input: ChangeHealthInput | ChangeMeasureInput | TagResidentInput | UntagResidentInput
        ) -> list:
    """A household of the caller's jurisdiction, and a resident's (well-formed) id."""
    return [household(input.household_id), an_id(input.resident_id, "resident")]


@strawberry.type
class StatusMutation:
    @strawberry.mutation(description="健康状况变更 change a resident's health, as the policy in "
                                     "force allows your role.")
    async def change_health(self, info: Info[Context, None],
                            input: ChangeHealthInput) -> StatusResult:
        health = status.Health(input.health.value)
        return await run_mutation(info, lambda c: c.app.change_health(
            c.target, c.targets[1], health, c.by, input.reason, client_id=input.client_id),
            _changed, on=_on(input))

    @strawberry.mutation(description="管控措施变更 impose or release a measure, as the policy in "
                                     "force allows.")
    async def change_measure(self, info: Info[Context, None],
                             input: ChangeMeasureInput) -> StatusResult:
        measure = status.Measure(input.measure.value)
        return await run_mutation(info, lambda c: c.app.change_measure(
            c.target, c.targets[1], measure, c.by, input.reason, input.override_reason,
            client_id=input.client_id), _changed, on=_on(input))

    @strawberry.mutation(description="标记 tag a resident (close contact, arrival...).")
    async def tag_resident(self, info: Info[Context, None],
                           input: TagResidentInput) -> StatusResult:
        try:
            tag = status.Tag(kind=status.TagKind(input.tag.value), origin=input.origin,
                             arrived_on=input.arrived_on, note=input.note)
        except ValueError as e:
            return invalid(f"The tag is malformed: {e}", "Check the tag's fields.")
        return await run_mutation(info, lambda c: c.app.tag_resident(
            c.target, c.targets[1], tag, c.by, client_id=input.client_id), _changed,
            on=_on(input))

    @strawberry.mutation(description="解除标记 remove a tag, as the domain lets your role (a "
                                     "family doctor or an official).")
    async def untag_resident(self, info: Info[Context, None],
                             input: UntagResidentInput) -> HouseholdAdminResult:
        kind = status.TagKind(input.tag.value)
        return await run_mutation(info, lambda c: c.app.untag_resident(
            c.target, c.targets[1], kind, c.by, input.reason, client_id=input.client_id),
            lambda c, nid: household_after(HouseholdChanged, c, nid),
            on=_on(input))
