"""Resident status (健康状况, 管控措施, 标记): change health, change measure, tag a resident and
remove a tag.

Each acts as the signed-in staff member (``by`` is never an argument), on a household in their
jurisdiction, and accepts a ``clientId`` so a retried request is applied once. Who may is the
domain's rule (the policy in force, for the role of the acting member). The result is the
household read back (read your own writes) or typed problems; a refused command wrote nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

import strawberry

from graphql_api.enums import Health, Measure, TagKind
from graphql_api.households.register import (
    HouseholdAdminResult,
    HouseholdChanged,
    household_after,
    of_resident,
)
from graphql_api.households.types import Household
from graphql_api.pipeline import Call, ClientId, mutation
from graphql_api.problems import result
from gridcore import errors, status


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
    since: datetime | None = strawberry.field(
        default=None, description="补录 when an imposed measure actually began, if before now "
                                  "(with a time zone; at most the policy's "
                                  "measureBackdateHours, 72 by default, back): its period "
                                  "counts from it. Needs sinceReason.")
    since_reason: str = strawberry.field(
        default="", description="Why the measure is recorded late (with since).")
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


def _tag(c: Call, i: TagResidentInput) -> int | None:
    try:
        tag = status.Tag(kind=status.TagKind(i.tag.value), origin=i.origin,
                         arrived_on=i.arrived_on, note=i.note)
    except ValueError as e:
        raise errors.InvalidInput(f"The tag is malformed: {e}", "Check the tag's fields.") from e
    return c.app.tag_resident(c.target, c.targets[1], tag, c.by, client_id=i.client_id)


_changes = partial(mutation, result=StatusResult, success=_changed, on=of_resident)
"""A change of a resident's status, answering the household read back."""


@strawberry.type
class StatusMutation:
    change_health = _changes(
        "健康状况变更 change a resident's health, as the policy in force allows your role.",
        ChangeHealthInput, lambda c, i: c.app.change_health(
            c.target, c.targets[1], status.Health(i.health.value), c.by, i.reason,
            client_id=i.client_id))

    change_measure = _changes(
        "管控措施变更 impose or release a measure, as the policy in force allows.",
        ChangeMeasureInput, lambda c, i: c.app.change_measure(
            c.target, c.targets[1], status.Measure(i.measure.value), c.by, i.reason,
            i.override_reason, i.since, i.since_reason, client_id=i.client_id))

    tag_resident = _changes("标记 tag a resident (close contact, arrival...).",
                            TagResidentInput, _tag)

    untag_resident = _changes(
        "解除标记 remove a tag, as the domain lets your role (a family doctor or an official).",
        UntagResidentInput, lambda c, i: c.app.untag_resident(
            c.target, c.targets[1], status.TagKind(i.tag.value), c.by, i.reason,
            client_id=i.client_id), result=HouseholdAdminResult,
        success=lambda c, nid: household_after(HouseholdChanged, c, nid))
