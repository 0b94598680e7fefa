"""The grid tree: nodes (市/区/街道/社区/微网格), their relations and rollups (with time travel)."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Crs, Health, Level, Measure, TagKind, Vulnerability
from graphql_api.relay import Node
from graphql_api.scope import node_visible
from gridcore import geo, grid, status
from projections import grid_rollup, queries, sweep_coverage

if TYPE_CHECKING:
    from graphql_api.households.types import HouseholdConnection
    from graphql_api.sweeps.types import Campaign


@strawberry.type(description="A count of residents in one health state.")
class HealthCount:
    health: Health
    label: str
    count: int


@strawberry.type(description="A count of residents under one measure.")
class MeasureCount:
    measure: Measure
    label: str
    count: int


@strawberry.type(description="A count of residents carrying one tag.")
class TagCount:
    tag: TagKind
    label: str
    count: int


@strawberry.type(description="汇总 the counts of a node's whole subtree.")
class Rollup:
    code: str
    as_of: datetime | None = strawberry.field(
        description="The time the counts are for; null for now.")
    households: int
    residents: int
    staff: int
    by_health: list[HealthCount]
    by_measure: list[MeasureCount]
    by_tag: list[TagCount]

    @classmethod
    def from_counts(cls, code: str, counts: dict[str, Any], as_of: datetime | None) -> Rollup:
        return cls(
            code=code, as_of=as_of, households=counts["households"],
            residents=counts["residents"], staff=counts["staff"],
            by_health=[HealthCount(health=Health(h.value), label=h.label,
                                   count=counts["by_health"][h.value]) for h in status.Health],
            by_measure=[MeasureCount(measure=Measure(m.value), label=m.label,
                                     count=counts["by_measure"][m.value])
                        for m in status.Measure],
            by_tag=[TagCount(tag=TagKind(t.value), label=t.label,
                             count=counts["by_tag"][t.value]) for t in status.TagKind],
        )


@strawberry.type(description="待办 what is still open in a node's subtree.")
class OpenItems:
    referrals: int = strawberry.field(description="转运 referrals not yet ended.")
    deliveries: int = strawberry.field(description="配送 deliveries not yet delivered.")
    requests: int = strawberry.field(description="诉求 requests awaiting action (kept per "
                                                 "community: none below it).")
    alerts: int = strawberry.field(description="告警 alerts not yet resolved.")
    total: int

    @classmethod
    def from_row(cls, row: queries.OpenItemsRow) -> OpenItems:
        return cls(referrals=row.referrals, deliveries=row.deliveries, requests=row.requests,
                   alerts=row.alerts, total=row.total)


def open_items_loader(ctx: Context) -> DataLoader[str, queries.OpenItemsRow]:
    """This request's loader of open items (``Loaders.open_items`` in ``context.py``): a tree
    of nodes costs one query per level, and nothing outlives the request."""
    return ctx.loaders.open_items


@strawberry.type(description="网格节点 a node of the grid tree.")
class GridNode(Node):
    code: str
    name: str
    level: Level
    level_label: str
    retired: bool
    parent_code: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: grid_rollup.NodeRow) -> GridNode:
        lv = grid.Level(row.level)
        return cls(id=strawberry.ID(row.code), code=row.code, name=row.name,
                   level=Level(lv.name.lower()), level_label=lv.label, retired=row.retired,
                   parent_code=row.parent_code)

    @strawberry.field(description="The parent node; null at the top of your jurisdiction.")
    async def parent(self, info: Info[Context, None]) -> GridNode | None:
        if self.parent_code is None or not await node_visible(info.context, self.parent_code):
            return None
        row = await info.context.loaders.node.load(self.parent_code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="The active child nodes, by code.")
    async def children(self, info: Info[Context, None]) -> list[GridNode]:
        return [GridNode.from_row(r) for r in await info.context.loaders.children.load(self.code)]

    @strawberry.field(description="The ancestors within your jurisdiction, from the top down.")
    async def ancestors(self, info: Info[Context, None]) -> list[GridNode]:
        ctx = info.context
        chain = await ctx.loaders.chain.load(self.code)
        top = next((c for c in chain if ctx.caller and c in ctx.caller.jurisdictions), None)
        if top is None:
            return []
        above = chain[1:chain.index(top) + 1]
        rows = await ctx.loaders.node.load_many(list(reversed(above)))
        return [GridNode.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="The counts of this subtree, now or as they were at asOf.")
    async def rollup(self, info: Info[Context, None], as_of: datetime | None = None) -> Rollup:
        if as_of is None:
            counts = await info.context.loaders.rollup.load(self.code)
        else:
            counts = await info.context.loaders.rollup_at.load((self.code, as_of))
        return Rollup.from_counts(self.code, counts, as_of)

    @strawberry.field(description="待办 open referrals, deliveries, requests and alerts of this "
                                  "subtree, now; null outside your jurisdiction.")
    async def open_items(self, info: Info[Context, None]) -> OpenItems | None:
        if not await node_visible(info.context, self.code):
            return None
        return OpenItems.from_row(await open_items_loader(info.context).load(self.code))

    @strawberry.field(description="边界 the node's boundary as a GeoJSON Feature (its geometry a "
                                  "Polygon or MultiPolygon in `crs`, default WGS84; properties "
                                  "code, name, crs), now or as it was at asOf; null when it "
                                  "had none then, or outside your jurisdiction.")
    async def boundary(self, info: Info[Context, None], as_of: datetime | None = None,
                       crs: Crs = Crs.WGS84) -> JSON | None:
        ctx = info.context
        if not await node_visible(ctx, self.code):
            return None
        app = ctx.app

        def read() -> Any:
            when = None if as_of is None else app.check_time(as_of, "asOf time")
            return app.boundary_at(self.code, when)

        area = await asyncio.to_thread(read)
        if area is None:
            return None
        system = geo.Crs(crs.value)
        return cast(JSON, {"type": "Feature", "geometry": area.to_geojson(system),
                           "properties": {"code": self.code, "name": self.name,
                                          "crs": system.value}})

    @strawberry.field(description="户 the households of this subtree (Relay cursor pages, in "
                                  "id order); the filters given must hold for one resident.")
    async def households(
        self, info: Info[Context, None], first: int = 20, after: str | None = None,
        health: Annotated[Health | None, strawberry.argument(
            description="only households with a resident in this health state")] = None,
        measure: Annotated[Measure | None, strawberry.argument(
            description="only households with a resident under this measure")] = None,
        tag: Annotated[TagKind | None, strawberry.argument(
            description="only households with a resident carrying this tag")] = None,
        vulnerability: Annotated[list[Vulnerability] | None, strawberry.argument(
            description="弱势 only households with a resident having any of these "
                        "vulnerabilities today")] = None,
        campaign: Annotated[strawberry.ID | None, strawberry.argument(
            description="排查 only households of this sweep campaign")] = None,
        covered: Annotated[bool | None, strawberry.argument(
            description="with `campaign`: only households it has covered (true) or not yet "
                        "covered (false)")] = None,
    ) -> Annotated["HouseholdConnection",  # noqa: UP037 (strawberry resolves it lazily)
                   strawberry.lazy("graphql_api.households.types")]:
        from graphql_api.households.types import HouseholdConnection, households_filter

        where = households_filter(info, health, measure, tag, vulnerability, campaign, covered)
        return await HouseholdConnection.under(info.context, (self.code,), first, after, where)


    @strawberry.field(description="排查 sweep campaigns over households of this subtree (scoped "
                                  "here, above or below), with their coverage of this subtree.")
    async def campaigns(self, info: Info[Context, None]) -> list[
            Annotated["Campaign", strawberry.lazy("graphql_api.sweeps.types")]]:  # noqa: UP037
        from graphql_api.sweeps.types import Campaign

        chain = await info.context.loaders.chain.load(self.code)
        return [Campaign.from_row(r, self.code)
                for r in sweep_coverage.campaigns_touching(info.context.views, self.code, chain)]


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str | None:
    """The key of a cursor of ``kind`` (None when it is not one)."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, key = text.partition(":")
    return key if prefix == kind and key else None
