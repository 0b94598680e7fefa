"""Households: their residents' status (now or at a past time), their vulnerabilities, their
timeline, and pages of the households under a grid node (with filters)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Health, Measure, TagKind, Vulnerability
from graphql_api.grid.types import GridNode, decode_cursor, encode_cursor
from graphql_api.privacy import id_number_for, personal_for, phone_for
from graphql_api.relay import Node, page_size
from graphql_api.scope import node_visible
from gridcore import household, status
from gridcore.errors import GridcoreError
from projections import grid_rollup, household_timeline, queries

CURSOR_KIND = "household"


@strawberry.type(description="居民 one resident's status; the name, phone and ID number are "
                             "masked unless your role may see them.")
class Resident:
    id: strawberry.ID
    health: Health
    health_label: str
    measure: Measure
    measure_label: str
    tags: list[TagKind]
    household_key: strawberry.Private[str | None] = None
    """The household the resident belongs to now (None in a past status)."""
    source: strawberry.Private[tuple[grid_rollup.HouseholdRow, Any] | None] = None
    """(household row, resident row) of a resident now, for what is derived only when asked."""

    @classmethod
    def of(cls, rid: str, health: str, measure: str, tags: list[str] | tuple[str, ...],
           household: str | None = None,
           source: tuple[grid_rollup.HouseholdRow, Any] | None = None) -> Resident:
        return cls(id=strawberry.ID(rid), health=Health(health),
                   health_label=status.Health(health).label, measure=Measure(measure),
                   measure_label=status.Measure(measure).label,
                   tags=[TagKind(t) for t in tags], household_key=household, source=source)

    @strawberry.field(description="弱势情况 marked or derived (65+ from the birth year, living "
                                  "alone); null in a past status.")
    def vulnerabilities(self, info: Info[Context, None]) -> list[Vulnerability] | None:
        if self.source is None:
            return None
        row, resident = self.source
        return [Vulnerability(v) for v in row.vulnerabilities_of(resident, today(info))]

    async def _identity(self, info: Info[Context, None]) -> Any:
        if self.household_key is None or info.context.caller is None:
            return None
        found = await info.context.loaders.identities.load(self.household_key)
        return found.get(str(self.id))

    @strawberry.field(description="姓名 the name: whole for roles that deal with the resident "
                                  "as a person (officials, duty leads, grid workers, family "
                                  "doctors, community police; each such read is audited), the "
                                  "surname only (张*) for others; '已删除 erased' once erased; "
                                  "null in a past status.")
    async def name(self, info: Info[Context, None]) -> str | None:
        identity = await self._identity(info)
        if identity is None:
            return None
        return personal_for(info.context.caller, info.context.audit, identity.name,
                            "Resident.name", str(self.id), erased=identity.erased)

    @strawberry.field(description="Their name, phone and ID number were erased (删除); null in "
                                  "a past status.")
    async def erased(self, info: Info[Context, None]) -> bool | None:
        identity = await self._identity(info)
        return None if identity is None else bool(identity.erased)

    @strawberry.field(description="手机号 the phone: whole for roles that call residents (each "
                                  "such read is audited), masked (138****1234) for others; "
                                  "null in a past status.")
    async def phone(self, info: Info[Context, None]) -> str | None:
        identity = await self._identity(info)
        return phone_for(info.context.caller, info.context.audit,
                         identity.phone if identity else None, "Resident.phone", str(self.id))

    @strawberry.field(description="身份证号 the ID number: whole for officials, community police "
                                  "and family doctors (audited), masked for others.")
    async def id_number(self, info: Info[Context, None]) -> str | None:
        identity = await self._identity(info)
        return id_number_for(info.context.caller, info.context.audit,
                             identity.id_number if identity else None, "Resident.idNumber",
                             str(self.id))


@strawberry.type(description="A household as it was at a past time.")
class HouseholdStatus:
    as_of: datetime
    micro_grid_code: str | None = strawberry.field(
        description="Its micro-grid then (null when that lies outside your jurisdiction).")
    residents: list[Resident]

    @classmethod
    def from_dict(cls, found: dict[str, Any], as_of: datetime) -> HouseholdStatus:
        return cls(as_of=as_of, micro_grid_code=found["micro_grid"],
                   residents=[Resident.of(rid, r["health"], r["measure"], r["tags"])
                              for rid, r in found["residents"].items()])


@strawberry.type(description="户档案 one event of a household's timeline.")
class TimelineEntry:
    notification_id: int
    at: datetime
    kind: str
    label: str
    actor_id: strawberry.ID | None
    detail: str

    @classmethod
    def from_row(cls, row: household_timeline.TimelineRow) -> TimelineEntry:
        return cls(notification_id=row.notification_id, at=row.at, kind=row.kind,
                   label=row.label, actor_id=strawberry.ID(row.actor) if row.actor else None,
                   detail=row.detail)


def today(info: Info[Context, None]) -> date:
    """The application's date (vulnerabilities derived from age hold from a year on)."""
    return info.context.app.clock().date()


@strawberry.type(description="弱势情况 a vulnerability with its label.")
class VulnerabilityLabel:
    vulnerability: Vulnerability
    label: str


async def household_no_of(info: Info[Context, None], hid: str) -> str | None:
    """户号 the household's number as the caller may see it (``privacy.SEES``)."""
    ctx = info.context
    kept = await ctx.loaders.household_kept.load(hid)
    return personal_for(ctx.caller, ctx.audit, kept.household_no if kept else None,
                        "Household.householdNo", hid)


async def address_of(info: Info[Context, None], hid: str) -> str | None:
    """门牌 the household's address as the caller may see it ('已删除 erased' once its last
    identifiable member was erased)."""
    ctx = info.context
    kept = await ctx.loaders.household_kept.load(hid)
    if kept is None:
        return None
    return personal_for(ctx.caller, ctx.audit, kept.address.text, "Household.address", hid,
                        erased=kept.address.erased)


async def building_no_of(info: Info[Context, None], hid: str) -> str | None:
    """楼栋 the number of the household's building as the caller may see it (null when it
    names none)."""
    ctx = info.context
    kept = await ctx.loaders.household_kept.load(hid)
    if kept is None or kept.building_id is None:
        return None
    building = await ctx.loaders.building_kept.load(str(kept.building_id))
    return personal_for(ctx.caller, ctx.audit, building.number if building else None,
                        "Household.buildingNo", hid)


PLACE_NOTE = ("whole for the roles sent to its door (grid workers, party members, volunteers, "
              "doctors, police, property managers, the duty lead, officials; each such read is "
              "audited), '****' for others")


@strawberry.type(description="户 a household: where it is and its residents' status.")
class Household(Node):
    id: strawberry.ID
    micro_grid_code: str
    row: strawberry.Private[grid_rollup.HouseholdRow]

    @classmethod
    def from_row(cls, row: grid_rollup.HouseholdRow) -> Household:
        return cls(id=strawberry.ID(row.household_id), micro_grid_code=row.micro_grid, row=row)

    @strawberry.field(description=f"户号 its household number: {PLACE_NOTE}.")
    async def household_no(self, info: Info[Context, None]) -> str | None:
        return await household_no_of(info, str(self.id))

    @strawberry.field(description=f"楼栋 its building's number: {PLACE_NOTE}; null when the "
                                  "register names no building.")
    async def building_no(self, info: Info[Context, None]) -> str | None:
        return await building_no_of(info, str(self.id))

    @strawberry.field(description=f"门牌 its address: {PLACE_NOTE}; '已删除 erased' once its "
                                  "last identifiable member was erased.")
    async def address(self, info: Info[Context, None]) -> str | None:
        return await address_of(info, str(self.id))

    @strawberry.field(description="Its residents now.")
    def residents(self, info: Info[Context, None]) -> list[Resident]:
        return [Resident.of(r.resident_id, r.health, r.measure, r.tags, self.row.household_id,
                            (self.row, r)) for r in self.row.residents]

    @strawberry.field(description="弱势情况 every vulnerability of any of its residents today "
                                  "(marked, or derived: 65+ from the birth year, living alone).")
    def vulnerabilities(self, info: Info[Context, None]) -> list[VulnerabilityLabel]:
        return [VulnerabilityLabel(vulnerability=Vulnerability(v),
                                   label=household.Vulnerability(v).label)
                for v in self.row.vulnerabilities(today(info))]

    @strawberry.field(description="The micro-grid the household is in now.")
    async def micro_grid(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.micro_grid_code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="送货上门 whether deliveries must reach its door (no "
                                  "collection point): it lies in the sealed zone (封控区) of a "
                                  "risk zoning in force.")
    async def door_to_door(self, info: Info[Context, None]) -> bool | None:
        app = info.context.app

        def read() -> bool | None:
            try:
                return app.door_to_door(UUID(str(self.id)))
            except GridcoreError:
                return None
        return await asyncio.to_thread(read)

    @strawberry.field(description="The household as it was at asOf (null before it was "
                                  "registered).")
    async def status(self, info: Info[Context, None], as_of: datetime) -> HouseholdStatus | None:
        ctx = info.context
        found = await ctx.loaders.status_at.load((str(self.id), as_of))
        if not found:
            return None
        then = HouseholdStatus.from_dict(found, as_of)
        if then.micro_grid_code and not await node_visible(ctx, then.micro_grid_code):
            then.micro_grid_code = None  # it lived outside your jurisdiction then
        return then

    @strawberry.field(description="Its events in log order (the last `last` when given).")
    async def timeline(self, info: Info[Context, None],
                       last: int | None = None) -> list[TimelineEntry]:
        rows = await info.context.loaders.timeline.load(str(self.id))
        if last is not None:
            rows = rows[-last:] if last > 0 else []
        return [TimelineEntry.from_row(r) for r in rows]


WHERE_NOTE = "where to go (whole for the roles sent to the door, audited; '****' for others)"


@strawberry.interface(description="去哪里 where to go: work at a household's door (a household "
                                  "a sweep has not covered, a work-list item, a referral, a "
                                  "delivery). Its number, building and address read "
                                  f"{PLACE_NOTE}.")
class AtHousehold:
    """Where to go, once: each type that sends staff to a household inherits these fields
    (with their masking by ``privacy.SEES`` and the audit of every unmasked read) and names
    the household by its own ``household_id`` (None: the work goes to no household)."""

    if TYPE_CHECKING:  # declared by each implementing type (exposed or private)
        household_id: str | None

    @strawberry.field(description="户 the household to go to: the one not covered, on your "
                                  "work list, of the referred resident or the delivery's "
                                  "recipient; null for a delivery to an enterprise.")
    async def household(self, info: Info[Context, None]) -> Household | None:
        if self.household_id is None:
            return None
        row = await info.context.loaders.household.load(self.household_id)
        return Household.from_row(row) if row else None

    @strawberry.field(description=f"户号 the household number, {WHERE_NOTE}.")
    async def household_no(self, info: Info[Context, None]) -> str | None:
        hid = self.household_id
        return await household_no_of(info, hid) if hid is not None else None

    @strawberry.field(description=f"楼栋 the number of the household's building, {WHERE_NOTE}; "
                                  "null when the register names no building.")
    async def building_no(self, info: Info[Context, None]) -> str | None:
        hid = self.household_id
        return await building_no_of(info, hid) if hid is not None else None

    @strawberry.field(description=f"门牌 the household's address, {WHERE_NOTE}.")
    async def address(self, info: Info[Context, None]) -> str | None:
        hid = self.household_id
        return await address_of(info, hid) if hid is not None else None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class HouseholdEdge:
    cursor: str
    node: Household


@strawberry.type(description="A page of households (Relay cursor connection).")
class HouseholdConnection:
    edges: list[HouseholdEdge]
    page_info: PageInfo
    codes: strawberry.Private[tuple[str, ...]]
    where: strawberry.Private[queries.HouseholdFilter]

    @strawberry.field(description="How many households match, on every page.")
    async def total_count(self, info: Info[Context, None]) -> int:
        ctx = info.context
        if self.where.empty:  # the nodes of a jurisdiction never nest: their sum counts once
            found = await ctx.loaders.rollup.load_many(list(self.codes))
            return sum(int(r["households"]) for r in found)
        return queries.count_under(ctx.views, self.codes, self.where)

    @classmethod
    async def under(cls, ctx: Context, codes: tuple[str, ...], first: int, after: str | None,
                    where: queries.HouseholdFilter) -> HouseholdConnection:
        """A page of the households under ``codes`` (nodes the caller may see, none inside
        another: a node, or their whole jurisdiction), one list in id order."""
        first = page_size(first, ctx.settings.page_max, "households", cursor=True)
        after_id = decode_cursor(CURSOR_KIND, after) if after else None
        if after and after_id is None:  # not one of our cursors: an empty page
            return cls(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None),
                       codes=codes, where=where)
        rows = queries.households_under(ctx.views, codes, after_id, first + 1, where)
        page = rows[:first]
        for row in page:  # later look-ups of the same household in this request hit the cache
            ctx.loaders.household.prime(row.household_id, row)
        edges = [HouseholdEdge(cursor=encode_cursor(CURSOR_KIND, r.household_id),
                               node=Household.from_row(r)) for r in page]
        return cls(edges=edges, codes=codes, where=where,
                   page_info=PageInfo(has_next_page=len(rows) > first,
                                      end_cursor=edges[-1].cursor if edges else None))


def households_filter(info: Info[Context, None], health: Health | None = None,
                      measure: Measure | None = None, tag: TagKind | None = None,
                      vulnerability: list[Vulnerability] | None = None,
                      campaign: strawberry.ID | None = None,
                      covered: bool | None = None) -> queries.HouseholdFilter:
    """The households connection's filter arguments as a read-model filter (vulnerabilities
    judged in the application's current year)."""
    if covered is not None and campaign is None:
        raise GraphQLError("`covered` filters by a campaign's coverage: give `campaign` too "
                           "(the sweep campaign's id).")
    campaign_id = None
    if campaign is not None:
        from graphql_api.ids import canonical

        # a malformed id names no campaign: nothing matches (as for an unknown one)
        campaign_id = canonical(campaign) or str(campaign)
    return queries.HouseholdFilter(
        health=health.value if health else None, measure=measure.value if measure else None,
        tag=tag.value if tag else None,
        vulnerabilities=tuple(sorted({v.value for v in vulnerability or ()})),
        year=today(info).year, campaign=campaign_id, covered=covered)
