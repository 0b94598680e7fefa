"""Adopting a version of the policy (防控政策): the numbers the rules read, changed from the
version in force at ``effectiveFrom``. The policy holds for the whole tree, so only an official
whose jurisdiction is a whole city may adopt one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from graphql_api.commands import at_top, refused, run_command
from graphql_api.context import Context
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    problem_of,
)
from gridcore import errors
from gridcore.authority import ADOPTERS
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


@strawberry.input
class AdoptPolicyInput:
    effective_from: datetime = strawberry.field(description="With a time zone.")
    note: str
    changes: PolicyChangesInput
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


@strawberry.type(description="A version of the policy: the numbers the rules read.")
class PolicyVersion:
    effective_from: datetime
    note: str
    micro_grid_soft_cap: int
    negative_test_max_age_hours: int
    release_needs_negative_test: bool
    delivery_overdue_hours: int
    rectification_days: int
    referral_transport_hours: int
    camera_confidence_threshold: float
    camera_window_minutes: int
    travel_lookback_days: int
    alert_acknowledge_minutes: int

    @classmethod
    def of(cls, policy: Policy, effective_from: datetime, note: str) -> PolicyVersion:
        return cls(effective_from=effective_from, note=note, **{
            name: getattr(policy, name) for name in (
                "micro_grid_soft_cap", "negative_test_max_age_hours",
                "release_needs_negative_test", "delivery_overdue_hours", "rectification_days",
                "referral_transport_hours", "camera_confidence_threshold",
                "camera_window_minutes", "travel_lookback_days", "alert_acknowledge_minutes")})


@strawberry.type(description="The version was adopted (or had been, under this clientId).")
class PolicyAdopted:
    notification_id: int | None
    policy: PolicyVersion


PolicyResult = Annotated[
    PolicyAdopted | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("PolicyResult"),
]


def _changes(c: PolicyChangesInput) -> dict[str, Any]:
    out = {name: value for name, value in vars(c).items()
           if value is not None and name != "quarantine_days"}
    if c.quarantine_days is not None:
        out["quarantine_days"] = {d.measure: d.days for d in c.quarantine_days}
    return out


async def adopt(ctx: Context, input: AdoptPolicyInput) -> PolicyResult:
    if (no := refused(ctx, ADOPTERS, "adopt a policy")) is not None:
        return no
    if not await at_top(ctx):
        return problem_of(errors.NotPermitted(
            "The policy holds for the whole city; your jurisdiction is part of it.",
            "Ask an official of the whole city (市级) to adopt it."))
    if input.effective_from.tzinfo is None:
        return problem_of(errors.InvalidInput(
            "effectiveFrom has no time zone.", "Give one, e.g. 2020-02-17T00:00:00+08:00."))
    unknown = [d.measure for d in input.changes.quarantine_days or []
               if d.measure not in QUARANTINE_MEASURES]
    if unknown:
        return problem_of(errors.InvalidInput(
            f"{unknown[0][:40]!r} is not a measure with a length.",
            f"Give one of: {', '.join(sorted(QUARANTINE_MEASURES))}."))
    by = ctx.caller.staff_id if ctx.caller else None
    adopted: list[Policy] = []

    def command(app: Any) -> int | None:
        policy = app.policy_at(input.effective_from).with_changes(**_changes(input.changes))
        adopted.append(policy)
        return app.adopt_policy(policy, input.effective_from, input.note, by,
                                client_id=input.client_id)

    done = await run_command(ctx, command)
    if isinstance(done, Problem):
        return done
    return PolicyAdopted(notification_id=done,
                         policy=PolicyVersion.of(adopted[0], input.effective_from, input.note))
