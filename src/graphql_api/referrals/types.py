"""Referrals (转介: centralized quarantine, fever clinic, hospital) and quarantine sites
(集中隔离点), from the referral pipeline read model."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Level, ReferralKind, ReferralState
from graphql_api.households.types import AtHousehold
from graphql_api.privacy import personal_for
from graphql_api.relay import Node
from gridcore import grid, referral
from projections import referral_pipeline


@strawberry.type(description="升级 one escalation step of an overdue referral.")
class ReferralEscalation:
    level: Level
    level_label: str
    node_code: str
    due: datetime
    at: datetime


@strawberry.type(description="劝导 one persuasion attempt of a referral.")
class ReferralPersuasion:
    at: datetime
    minutes: int = strawberry.field(description="The time it took, in minutes.")
    refused_reason: str | None = strawberry.field(
        description="Why the resident refused (null when none was given): whole for the roles "
                    "that persuade (officials, duty leads, grid workers, family doctors, "
                    "community police; each such read is audited), '****' for others.")


@strawberry.type(description="转介 a resident's referral, with its stage and transport "
                             "deadline (the resident appears by household only).")
class Referral(Node, AtHousehold):
    id: strawberry.ID
    kind: ReferralKind
    kind_label: str
    state: ReferralState
    state_label: str
    community_code: str
    opened_at: datetime
    state_since: datetime
    transport_due: datetime
    overdue: bool = strawberry.field(description="Recorded overdue by the tick.")
    escalations: int
    escalated_to_code: str | None
    site_code: str | None
    ended_at: datetime | None
    household_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, r: referral_pipeline.ReferralRow) -> Referral:
        return cls(id=strawberry.ID(r.referral_id), kind=ReferralKind(r.kind),
                   kind_label=referral.ReferralKind(r.kind).label,
                   state=ReferralState(r.state),
                   state_label=referral.ReferralState(r.state).label,
                   community_code=r.community, opened_at=r.opened_at, state_since=r.state_since,
                   transport_due=r.transport_due, overdue=r.overdue, escalations=r.escalations,
                   escalated_to_code=r.escalated_to, site_code=r.site_code,
                   ended_at=r.ended_at, household_id=r.household_id)

    @strawberry.field(description="Hours since it was opened (at the server's time now).")
    def age_hours(self, info: Info[Context, None]) -> float:
        return (info.context.app.clock() - self.opened_at).total_seconds() / 3600

    @strawberry.field(description="劝导 its persuasion attempts, in order (a persuasion that "
                                  "ended in acceptance last, with its time).")
    async def persuasions(self, info: Info[Context, None]) -> list[ReferralPersuasion]:
        ctx = info.context
        found = await ctx.loaders.referral_kept.load(str(self.id))
        return [ReferralPersuasion(at=p.at, minutes=p.minutes, refused_reason=personal_for(
                    ctx.caller, ctx.audit, p.refused_reason or None, "Referral.refusedReason",
                    str(self.id)))
                for p in (found.persuasions if found else [])]

    @strawberry.field(description="Minutes spent persuading, every attempt together.")
    async def persuasion_minutes(self, info: Info[Context, None]) -> int:
        found = await info.context.loaders.referral_kept.load(str(self.id))
        return found.persuasion_minutes if found else 0

    @strawberry.field(description="Its escalation steps, in order.")
    async def escalation_steps(self, info: Info[Context, None]) -> list[ReferralEscalation]:
        steps = await info.context.loaders.referral_escalations.load(str(self.id))
        return [ReferralEscalation(level=Level(grid.Level(s.level).name.lower()),
                                   level_label=grid.Level(s.level).label,
                                   node_code=s.node_code, due=s.due, at=s.at)
                for s in steps]


@strawberry.type(description="The referrals of one stage.")
class ReferralStageCount:
    state: ReferralState
    label: str
    open: bool
    count: int


@strawberry.type(description="集中隔离点 a quarantine site and its free places.")
class QuarantineSite:
    code: str
    name: str
    node_code: str
    capacity: int
    occupancy: int
    free: int

    @classmethod
    def from_row(cls, r: referral_pipeline.SiteRow) -> QuarantineSite:
        return cls(code=r.code, name=r.name, node_code=r.node_code, capacity=r.capacity,
                   occupancy=r.occupancy, free=max(0, r.capacity - r.occupancy))


@strawberry.input(description="集中隔离点 a quarantine site run by a district or street of your "
                              "jurisdiction.")
class RegisterQuarantineSiteInput:
    code: str = strawberry.field(description="The site's code (registered once).")
    name: str
    node_code: str = strawberry.field(description="The district or street (街道) that runs it.")
    capacity: int = strawberry.field(description="Places (rooms) it has.")
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")
