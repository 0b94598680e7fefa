"""Mass-testing campaigns (全员核酸检测): a campaign with its sampling sites, tubes and retests
read from the campaign, and its coverage per grid node from the testing coverage read model
(``projections.testing_coverage``), now or at a past time. Ids, codes, counts and times only:
a resident appears by id (their name goes through ``Resident``'s masking)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Measure, _mirrors
from graphql_api.households.types import AtHousehold
from graphql_api.scope import household_visible, node_visible
from gridcore import mass_testing
from gridcore.mass_testing import TestingCampaign as DomainCampaign
from projections import testing_coverage as tc


@strawberry.enum(description="核酸结果 a tube's lab result")
class TubeResult(Enum):
    NEGATIVE = "negative"
    POSITIVE = "positive"


_mirrors(TubeResult, mass_testing.TubeResult)


@strawberry.type(description="采样点 a sampling site: where, its daily hours and how many it "
                             "samples per hour.")
class SamplingSite:
    site_id: str
    name: str
    place: str = strawberry.field(description="The micro-grid or community it stands in.")
    opens_hour: int
    closes_hour: int
    capacity_per_hour: int
    households: int = strawberry.field(description="Households scheduled to it.")


@strawberry.input(description="采样点 a sampling site of a campaign.")
class SamplingSiteInput:
    site_id: str = strawberry.field(description="Its code in the campaign, e.g. CY-01.")
    name: str
    place: str = strawberry.field(description="A micro-grid or community of the scope.")
    opens_hour: int = 8
    closes_hour: int = 18
    capacity_per_hour: int = 60


@strawberry.type(description="采样安排 where and when a household is sampled: a site's time "
                             "slot, or at home (上门采样; why is not shown).")
class TestingSlot:
    household_id: strawberry.ID
    site_id: str | None
    site_name: str | None
    slot: datetime | None = strawberry.field(description="The slot's start (it lasts the "
                                                         "campaign's slot minutes).")
    door_to_door: bool


@strawberry.type(description="试管 a sample tube: pooled (混检) or a single-tube retest.")
class Tube:
    code: str
    members: int = strawberry.field(description="Samples in it.")
    resident_ids: list[strawberry.ID]
    retest: bool = strawberry.field(description="单采单检 a retest tube (one member).")
    sealed: bool
    result: TubeResult | None
    result_at: datetime | None

    @classmethod
    def of(cls, t: mass_testing.Tube) -> Tube:
        return cls(code=t.code, members=len(t.members),
                   resident_ids=[strawberry.ID(str(r)) for r in t.members], retest=t.retest,
                   sealed=t.sealed or t.retest,
                   result=TubeResult(t.result.value) if t.result else None,
                   result_at=t.result_at)


@strawberry.type(description="单采单检 a single-tube retest of a positive pool's member.")
class Retest:
    resident_id: strawberry.ID
    household_id: strawberry.ID
    pool_code: str = strawberry.field(description="The positive pooled tube.")
    due: datetime
    tube_code: str | None
    taken_at: datetime | None
    result: TubeResult | None

    @classmethod
    def of(cls, r: mass_testing.Retest) -> Retest:
        return cls(resident_id=strawberry.ID(str(r.resident_id)),
                   household_id=strawberry.ID(str(r.household_id)), pool_code=r.pool_code,
                   due=r.due, tube_code=r.tube_code, taken_at=r.taken_at,
                   result=TubeResult(r.result.value) if r.result else None)


@strawberry.type(description="临时管控 a household of a positive pool: its members in the "
                             "pool, and those the campaign put under temporary control (now "
                             "held, or released once their single-tube retests were negative). "
                             "Where it is reads as for every household sent to a door.")
class ControlledHousehold(AtHousehold):
    household_id: strawberry.ID
    pooled: list[strawberry.ID] = strawberry.field(description="Its residents sampled into "
                                                               "the pool.")
    controlled: list[strawberry.ID] = strawberry.field(description="Its residents put under "
                                                                   "the campaign's control.")
    released: list[strawberry.ID] = strawberry.field(description="Of those, the ones released.")
    measure: Measure | None = strawberry.field(description="The measure imposed (null when "
                                                           "none was).")
    measure_label: str | None


@strawberry.type(description="阳性混管 a pooled tube found positive: its members' households "
                             "put under temporary control, their single-tube retests "
                             "scheduled (单采单检).")
class PositivePool:
    code: str
    members: int
    result_at: datetime | None
    pooled: strawberry.Private[dict[str, list[str]]]
    controls: strawberry.Private[dict[str, list[mass_testing.Control]]]

    @classmethod
    def of(cls, c: DomainCampaign, t: mass_testing.Tube) -> PositivePool:
        pooled: dict[str, list[str]] = {}
        for rid in t.members:
            s = c.samples.get(rid)
            hid = s.household_id if s is not None else c.retests[rid].household_id
            pooled.setdefault(str(hid), []).append(str(rid))
        controls: dict[str, list[mass_testing.Control]] = {}
        for x in c.controls.values():
            if str(x.household_id) in pooled:
                controls.setdefault(str(x.household_id), []).append(x)
        return cls(code=t.code, members=len(t.members), result_at=t.result_at, pooled=pooled,
                   controls=controls)

    @strawberry.field(description="The households of its members in your jurisdiction, with "
                                  "their temporary control.")
    async def households(self, info: Info[Context, None]) -> list[ControlledHousehold]:
        out: list[ControlledHousehold] = []
        for hid, rids in self.pooled.items():
            if not await household_visible(info.context, hid):
                continue
            held = sorted(self.controls.get(hid, []), key=lambda x: str(x.resident_id))
            measure = held[0].measure if held else None
            out.append(ControlledHousehold(
                household_id=strawberry.ID(hid), pooled=[strawberry.ID(r) for r in rids],
                controlled=[strawberry.ID(str(x.resident_id)) for x in held],
                released=[strawberry.ID(str(x.resident_id)) for x in held if x.released],
                measure=Measure(measure.value) if measure else None,
                measure_label=measure.label if measure else None))
        return out


@strawberry.type(description="覆盖率 a grid node's coverage in a campaign: households and "
                             "residents expected, sampled, sampled at home, tubes pending, "
                             "positives and residents under the campaign's control.")
class TestingCoverage:
    code: str
    households: int
    residents: int
    sampled: int
    unsampled: int
    share: float = strawberry.field(description="Sampled over residents (1 with none).")
    door_to_door_households: int = strawberry.field(description="上门采样 households sampled "
                                                                "at home.")
    tubes_pending: int = strawberry.field(description="Tubes holding a sample of the node "
                                                      "without a result yet.")
    positives: int = strawberry.field(description="阳性 residents found positive in a single "
                                                  "tube.")
    under_control: int = strawberry.field(description="Residents under the campaign's "
                                                      "temporary control now.")
    unsampled_household_ids: list[strawberry.ID] = strawberry.field(
        description="Households with a resident not sampled (a second round covers them).")

    @classmethod
    def of(cls, n: tc.NodeCoverage) -> TestingCoverage:
        return cls(code=n.code, households=n.households, residents=n.residents,
                   sampled=n.sampled, unsampled=n.unsampled, share=n.share,
                   door_to_door_households=n.door_to_door, tubes_pending=n.tubes_pending,
                   positives=n.positives, under_control=n.under_control,
                   unsampled_household_ids=[strawberry.ID(h) for h in n.unsampled_households])


@strawberry.type(description="全员核酸检测 a mass-testing campaign: one round over a scope, "
                             "its sampling sites, its coverage per grid node, tubes and "
                             "retests.")
class TestingCampaign:
    id: strawberry.ID
    scope_code: str
    round: int
    name: str
    starts: datetime
    ends: datetime
    pool_size: int = strawberry.field(description="混检 samples per pooled tube (fixed at "
                                                  "launch from the policy).")
    slot_minutes: int
    households: int
    residents: int
    sampled: int
    follow_up_of: strawberry.ID | None = strawberry.field(
        description="The campaign this second round follows (its unsampled residents).")
    sites: list[SamplingSite]
    tubes_pending: list[Tube] = strawberry.field(description="Tubes without a result yet.")
    retests_due: list[Retest] = strawberry.field(description="单采单检 retests scheduled and "
                                                             "not yet sampled.")
    retests: list[Retest] = strawberry.field(description="Every retest, sampled or not.")
    cases: list[str] = strawberry.field(description="Case numbers opened by a positive "
                                                    "single tube (tracing: case(caseNo)).")
    positive_pools: list[PositivePool] = strawberry.field(
        description="阳性混管 pooled tubes found positive, by code.")
    as_of: strawberry.Private[datetime | None] = None

    @classmethod
    def of(cls, c: DomainCampaign, as_of: datetime | None = None) -> TestingCampaign:
        per_site: dict[str, int] = {}
        for a in c.assignments.values():
            if a.site_id:
                per_site[a.site_id] = per_site.get(a.site_id, 0) + 1
        whole = c.coverage().get(c.scope)
        return cls(
            id=strawberry.ID(str(c.id)), scope_code=c.scope, round=c.round_no, name=c.name,
            starts=c.starts, ends=c.ends, pool_size=c.pool_size, slot_minutes=c.slot_minutes,
            households=whole.households if whole else 0,
            residents=whole.residents if whole else 0, sampled=whole.sampled if whole else 0,
            follow_up_of=strawberry.ID(str(c.follow_up_of)) if c.follow_up_of else None,
            sites=[SamplingSite(site_id=s.site_id, name=s.name, place=s.place,
                                opens_hour=s.opens_hour, closes_hour=s.closes_hour,
                                capacity_per_hour=s.capacity_per_hour,
                                households=per_site.get(s.site_id, 0))
                   for s in sorted(c.sites.values(), key=lambda s: s.site_id)],
            tubes_pending=[Tube.of(t) for t in sorted(c.tubes_pending(), key=lambda t: t.code)],
            retests_due=[Retest.of(r) for r in sorted(c.retests_due(),
                                                      key=lambda r: (r.due, str(r.resident_id)))],
            retests=[Retest.of(r) for r in sorted(c.retests.values(),
                                                  key=lambda r: (r.due, str(r.resident_id)))],
            cases=sorted(c.cases.values()),
            positive_pools=[PositivePool.of(c, t) for t in sorted(
                c.tubes.values(), key=lambda t: t.code)
                if not t.retest and t.result is mass_testing.TubeResult.POSITIVE],
            as_of=as_of)

    @strawberry.field(description="覆盖率 coverage per grid node of your jurisdiction (its "
                                  "micro-grids, communities and the scope) at the time asked "
                                  "(the testing coverage read model), by code.")
    async def coverage(self, info: Info[Context, None]) -> list[TestingCoverage]:
        ctx = info.context
        if ctx.caller is None:
            return []
        found = await asyncio.to_thread(tc.coverage, ctx.views, str(self.id), self.as_of)
        return [TestingCoverage.of(found[k]) for k in sorted(found)
                if await node_visible(ctx, k)]
