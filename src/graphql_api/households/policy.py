"""Adopting a version of the policy (防控政策): the numbers the rules read, changed from the
version in force at ``effectiveFrom``. The policy holds for the whole tree, so only an official
whose jurisdiction is a whole city may adopt one."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.pipeline import Call, ClientId, mutation
from graphql_api.problems import result
from graphql_api.reach import whole_city
from gridcore import errors
from gridcore.policy import DEFAULT_POLICY, Policy

QUARANTINE_MEASURES = frozenset(DEFAULT_POLICY.quarantine_days)


@strawberry.input(description="How many days one measure lasts.")
class MeasureDaysInput:
    measure: str = strawberry.field(description="home_observation, home_quarantine, "
                                                "centralized_quarantine or hospitalized")
    days: int


@strawberry.input(description="The numbers to change; a field left out keeps its value in "
                              "the version in force at effectiveFrom.")
class PolicyChangesInput:
    micro_grid_soft_cap: int | None = None
    quarantine_days: list[MeasureDaysInput] | None = None
    negative_test_max_age_hours: int | None = None
    release_needs_negative_test: bool | None = None
    delivery_overdue_hours: int | None = None
    rectification_days: int | None = None
    referral_transport_hours: int | None = None
    camera_confidence_threshold: float | None = None
    camera_window_minutes: int | None = None
    travel_lookback_days: int | None = None
    alert_acknowledge_minutes: int | None = None
    measure_backdate_hours: int | None = strawberry.field(
        default=None, description="How far back (hours) a measure recorded late may be dated "
                                  "to when it began (changeMeasure's since).")
    close_contact_measure: str | None = strawberry.field(
        default=None, description="密接 the measure a close contact gets: home_quarantine or "
                                  "centralized_quarantine.")
    close_contact_days: int | None = strawberry.field(
        default=None, description="How many days a close contact's measure lasts, from the "
                                  "last exposure.")
    secondary_contact_measure: str | None = strawberry.field(
        default=None, description="次密接 the measure a secondary contact gets: "
                                  "home_quarantine or centralized_quarantine.")
    secondary_contact_days: int | None = strawberry.field(
        default=None, description="How many days a secondary contact's measure lasts, from "
                                  "the last exposure.")
    ruled_out_release_to: str | None = strawberry.field(
        default=None, description="What the contacts of an index case ruled out are released "
                                  "to: none or home_observation.")
    assistance_hours: int | None = strawberry.field(
        default=None, description="协查 hours a community has to report on a listed person "
                                  "before the item escalates one level up.")
    pool_size: int | None = strawberry.field(
        default=None, description="混检 samples pooled to a tube (10: 10-in-1, up to 20; 1: "
                                  "single tubes).")
    testing_slot_minutes: int | None = strawberry.field(
        default=None, description="How many minutes a sampling site's time slot lasts.")
    door_to_door_vulnerabilities: list[str] | None = strawberry.field(
        default=None, description="上门采样 the vulnerabilities (e.g. age_65_plus, disability) "
                                  "for which a household is sampled at home.")
    door_to_door_measures: list[str] | None = strawberry.field(
        default=None, description="上门采样 the measures (e.g. home_quarantine) under which a "
                                  "household is sampled at home.")
    positive_pool_measure: str | None = strawberry.field(
        default=None, description="混检阳性 the measure a positive pool's households get: "
                                  "home_quarantine or centralized_quarantine.")
    retest_hours: int | None = strawberry.field(
        default=None, description="单采单检 hours within which a positive pool's members are "
                                  "retested in single tubes.")


@strawberry.input
class AdoptPolicyInput:
    effective_from: datetime = strawberry.field(
        description="With a time zone; now or later (no retroactive adoption: at most the "
                    "clock skew in force, 5 minutes by default, before the server's clock).")
    note: str
    changes: PolicyChangesInput
    client_id: ClientId = None


@strawberry.type(description="How many days one measure lasts.")
class MeasureDays:
    measure: str
    days: int


_NUMBERS = ("micro_grid_soft_cap", "negative_test_max_age_hours", "release_needs_negative_test",
            "delivery_overdue_hours", "rectification_days", "referral_transport_hours",
            "camera_confidence_threshold", "camera_window_minutes", "travel_lookback_days",
            "alert_acknowledge_minutes", "measure_backdate_hours", "close_contact_measure",
            "close_contact_days", "secondary_contact_measure", "secondary_contact_days",
            "ruled_out_release_to", "assistance_hours", "pool_size",
            "testing_slot_minutes", "positive_pool_measure", "retest_hours")


@strawberry.type(description="A version of the policy: the numbers the rules read, named as "
                             "adoptPolicy's changes name them.")
class PolicyVersion:
    effective_from: datetime | None = strawberry.field(
        description="When it took effect; null for the default policy (no version adopted "
                    "had taken effect by then).")
    note: str
    micro_grid_soft_cap: int
    quarantine_days: list[MeasureDays]
    negative_test_max_age_hours: int
    release_needs_negative_test: bool
    delivery_overdue_hours: int
    rectification_days: int
    referral_transport_hours: int
    camera_confidence_threshold: float
    camera_window_minutes: int
    travel_lookback_days: int
    alert_acknowledge_minutes: int
    measure_backdate_hours: int
    close_contact_measure: str = strawberry.field(
        description="密接 the measure a close contact gets (流调).")
    close_contact_days: int
    secondary_contact_measure: str = strawberry.field(
        description="次密接 the measure a secondary contact gets.")
    secondary_contact_days: int
    ruled_out_release_to: str = strawberry.field(
        description="What an index case ruled out releases its contacts to.")
    assistance_hours: int = strawberry.field(
        description="协查 hours to report on a listed person before it escalates.")
    pool_size: int = strawberry.field(description="混检 samples pooled to a tube.")
    testing_slot_minutes: int = strawberry.field(
        description="Minutes a sampling site's time slot lasts.")
    door_to_door_vulnerabilities: list[str] = strawberry.field(
        description="上门采样 vulnerabilities for which a household is sampled at home.")
    door_to_door_measures: list[str] = strawberry.field(
        description="上门采样 measures under which a household is sampled at home.")
    positive_pool_measure: str = strawberry.field(
        description="混检阳性 the measure a positive pool's households get.")
    retest_hours: int = strawberry.field(
        description="单采单检 hours within which a positive pool's members are retested.")

    @classmethod
    def of(cls, policy: Policy, effective_from: datetime | None, note: str) -> PolicyVersion:
        days = [MeasureDays(measure=m, days=d) for m, d in sorted(policy.quarantine_days.items())]
        return cls(effective_from=effective_from, note=note, quarantine_days=days,
                   door_to_door_vulnerabilities=list(policy.door_to_door_vulnerabilities),
                   door_to_door_measures=list(policy.door_to_door_measures),
                   **{name: getattr(policy, name) for name in _NUMBERS})


@strawberry.type(description="The version was adopted (or had been, under this clientId).")
class PolicyAdopted:
    notification_id: int | None
    policy: PolicyVersion


PolicyResult = result("PolicyResult", PolicyAdopted)


def _changes(c: PolicyChangesInput, base: Policy) -> dict[str, Any]:
    """The changes to ``base``: a measure left out of quarantineDays keeps its days (it was
    replaced by the whole list, so a change of one measure set the others to none)."""
    out = {name: value for name, value in vars(c).items()
           if value is not None and name != "quarantine_days"}
    if c.quarantine_days is not None:
        out["quarantine_days"] = {**base.quarantine_days,
                                  **{d.measure: d.days for d in c.quarantine_days}}
    return out


def _adopt(c: Call, input: AdoptPolicyInput) -> tuple[int | None, Policy]:
    if input.effective_from.tzinfo is None:
        raise errors.InvalidInput("effectiveFrom has no time zone.",
                                  "Give one, e.g. 2020-02-17T00:00:00+08:00.")
    unknown = [d.measure for d in input.changes.quarantine_days or []
               if d.measure not in QUARANTINE_MEASURES]
    if unknown:
        raise errors.InvalidInput(f"{unknown[0][:40]!r} is not a measure with a length.",
                                  f"Give one of: {', '.join(sorted(QUARANTINE_MEASURES))}.")
    base = c.app.policy_at(input.effective_from)
    policy = base.with_changes(**_changes(input.changes, base))
    return c.app.adopt_policy(policy, input.effective_from, input.note, by=c.by,
                              client_id=input.client_id), policy


@strawberry.type
class PolicyMutation:
    adopt_policy = mutation(
        "防控政策 adopt a version of the policy the rules read, effective from a time (a whole "
        "city's official).", AdoptPolicyInput, _adopt, result=PolicyResult,
        success=lambda c, done: PolicyAdopted(notification_id=done[0], policy=PolicyVersion.of(
            done[1], c.input.effective_from, c.input.note)),
        on=lambda i: [whole_city("The policy holds for the whole city; your jurisdiction is "
                                 "part of it.", "Ask an official of the whole city (市级) to "
                                                "adopt it.")])


@strawberry.type
class PolicyQuery:
    @strawberry.field(description="防控政策 the version of the policy in force at a time (default "
                                  "now, the application's clock): a version adopted for later "
                                  "shows from its effective time; null without a staff token.")
    async def policy(self, info: Info[Context, None],
                     at: Annotated[datetime | None, strawberry.argument(
                         description="With a time zone; default now.")] = None
                     ) -> PolicyVersion | None:
        ctx = info.context
        if ctx.caller is None:
            return None
        if at is not None and (at.tzinfo is None or at.utcoffset() is None):
            raise GraphQLError("`at` has no time zone: give one, e.g. "
                               "2020-02-17T00:00:00+08:00.",
                               extensions={"code": "INVALID_INPUT"})
        effective_from, policy, note = await asyncio.to_thread(
            ctx.app.policy_version, at if at is not None else ctx.app.clock())
        return PolicyVersion.of(policy, effective_from, note)
