"""Sweep campaigns (拉网式排查) as seen from a grid node: their coverage of the node's subtree
and its households not covered yet, with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import VisitMethod
from graphql_api.households.types import AtHousehold
from graphql_api.relay import page_size
from projections import queries, sweep_coverage

REASON_LABELS = {"not_visited": "未走访 not visited", "no_answer": "无人应答 no answer",
                 "refused": "拒绝 refused", "members_missing": "成员未全 members missing"}


@strawberry.type
class MethodCount:
    method: VisitMethod
    count: int


@strawberry.type
class ReasonCount:
    reason: str
    label: str
    count: int


@strawberry.type(description="覆盖率 a campaign's coverage of one subtree.")
class Coverage:
    households: int
    covered: int
    uncovered: int
    share: float
    by_method: list[MethodCount]
    not_covered: list[ReasonCount]
    fevers: int
    close_contacts: int
    arrivals: int
    visitors: int

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Coverage:
        return cls(
            households=d["households"], covered=d["covered"], uncovered=d["uncovered"],
            share=d["share"], fevers=d["fevers"], close_contacts=d["close_contacts"],
            arrivals=d["arrivals"], visitors=d["visitors"],
            by_method=[MethodCount(method=VisitMethod(m), count=n)
                       for m, n in sorted(d["by_method"].items())],
            not_covered=[ReasonCount(reason=r, label=REASON_LABELS.get(r, r), count=n)
                         for r, n in sorted(d["not_covered"].items())])


@strawberry.type(description="A household of the campaign not covered yet.")
class UncoveredHousehold(AtHousehold):
    reason: str
    label: str
    attempts: int
    household_id: strawberry.ID


@strawberry.type(description="派单 a household of a sweep round on your list: what its visits "
                             "found so far, and the visit's version a device sends back.")
class WorkItem(AtHousehold):
    household_id: strawberry.ID
    visit_version: int = strawberry.field(
        description="The version of the household's visit in this round (0: never visited): "
                    "send it as `baseVersion` with a visit recorded offline (syncFieldRecords); "
                    "re-read it after a STALE answer.")
    attempts: int
    covered: bool = strawberry.field(description="Every current member accounted for.")
    fevers: int
    close_contacts: int
    arrivals: int
    visitors: int = strawberry.field(
        description="外来人员 visitors from elsewhere the visits found, to follow up (the "
                    "visit keeps where they came from).")

    @classmethod
    def from_row(cls, r: queries.WorkItemRow) -> WorkItem:
        return cls(household_id=strawberry.ID(r.household_id), visit_version=r.visit_version,
                   attempts=r.attempts, covered=r.covered, fevers=r.fevers,
                   close_contacts=r.close_contacts, arrivals=r.arrivals, visitors=r.visitors)


@strawberry.type(description="排查 a sweep campaign, seen from one grid node (its counts are "
                             "those of that node's subtree).")
class Campaign:
    id: strawberry.ID
    scope_code: str
    round: int
    name: str
    starts: datetime
    ends: datetime
    closed_at: datetime | None
    seen_from: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: sweep_coverage.CampaignRow, seen_from: str) -> Campaign:
        return cls(id=strawberry.ID(row.campaign_id), scope_code=row.scope, round=row.round_no,
                   name=row.name, starts=row.starts, ends=row.ends, closed_at=row.closed_at,
                   seen_from=seen_from)

    @strawberry.field(description="Coverage of the subtree this campaign was reached from.")
    def coverage(self, info: Info[Context, None]) -> Coverage:
        return Coverage.from_dict(sweep_coverage.coverage(info.context.views, str(self.id),
                                                          self.seen_from))

    @strawberry.field(description="Its households of that subtree not covered yet (by "
                                  "micro-grid).")
    def uncovered(self, info: Info[Context, None], first: int = 50) -> list[UncoveredHousehold]:
        first = page_size(first, info.context.settings.page_max, "uncovered households")
        found = sweep_coverage.uncovered_households(info.context.views, str(self.id),
                                                    self.seen_from)[:first]
        return [UncoveredHousehold(reason=d["reason"], label=REASON_LABELS.get(d["reason"],
                                                                              d["reason"]),
                                   attempts=d["attempts"],
                                   household_id=strawberry.ID(str(d["household_id"])))
                for d in found]


@strawberry.type(description="The campaign was launched (or had been, under this clientId): "
                             "its households shared out to staff.")
class CampaignLaunched:
    campaign: Campaign | None
    assigned: int
    uncovered: int = strawberry.field(
        description="Households no staff member had capacity for (see coverage).")
    shortfall: float = strawberry.field(
        description="Capacity missing to cover them (door-visit units).")


@strawberry.type(description="The campaign was closed with its summary (or had been, under "
                             "this clientId).")
class CampaignClosed:
    notification_id: int | None
    campaign: Campaign | None


@strawberry.type(description="The findings of visits recorded since the last run were "
                             "followed up (each once).")
class FindingsProcessed:
    processed: int = strawberry.field(description="Visit events read.")
