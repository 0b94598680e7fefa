"""Assistance lists (协查名单): a list with its persons (items) and completion per grid node,
from the assistance board read model (``projections.assistance_board``: ids, codes, statuses
and times only). What the list says of a person (name, phone, ID number, address, reason) and
the community's note stay sealed in the list; they are opened at read time and masked by role
(``graphql_api.privacy``: ``ListedPerson.*``, whole for those who locate people, audited)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Level, _mirrors
from graphql_api.privacy import personal_for
from graphql_api.scope import node_visible, scope_of
from gridcore import assistance, errors, grid
from gridcore.assistance import AssistanceItem as DomainItem
from gridcore.assistance import AssistanceList as DomainList
from projections import assistance_board as ab


@strawberry.enum(description="来源 where an assistance list comes from")
class AssistanceSource(Enum):
    PROVINCE_PLATFORM = "province_platform"
    OTHER_CITY = "other_city"
    ITINERARY_CHECK = "itinerary_check"
    OTHER = "other"


@strawberry.enum(description="格式 the format a list arrived in (its result file is written "
                             "in the same)")
class AssistanceListFormat(Enum):
    CSV = "csv"
    XLSX = "xlsx"
    API = "api"


@strawberry.enum(description="核查状态 where a listed person's check stands")
class AssistanceItemStatus(Enum):
    PENDING = "pending"
    FOUND = "found"
    NOT_FOUND = "not_found"
    MOVED_AWAY = "moved_away"
    WRONG_DATA = "wrong_data"


@strawberry.enum(description="落地依据 how a listed person was routed to where they are to be "
                             "located")
class AssistanceRouteBasis(Enum):
    REGISTER = "register"
    CODE = "code"
    MICRO_GRID = "micro_grid"
    HOUSEHOLD_ADDRESS = "household_address"
    BUILDING = "building"
    COMMUNITY = "community"
    DISTRICT = "district"
    SCOPE = "scope"
    FORWARDED = "forwarded"


@strawberry.enum(description="核查结果 what a community reports of a listed person (a move is "
                             "forwarded: forwardAssistanceItem)")
class AssistanceOutcome(Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    WRONG_DATA = "wrong_data"


for _copy, _source in ((AssistanceSource, assistance.Source),
                       (AssistanceListFormat, assistance.ListFormat),
                       (AssistanceItemStatus, assistance.ItemStatus),
                       (AssistanceRouteBasis, assistance.RouteBasis)):
    _mirrors(_copy, _source)

PERSON_NOTE = ("as the list gives it: whole for those who locate people (grid workers, "
               "community police, officials), audited; masked for others; '已删除 erased' once "
               "the matched resident was erased")


def _item_of(found: DomainList | None, no: int) -> DomainItem | None:
    if found is None or not 1 <= no <= len(found.items):
        return None
    return found.items[no - 1]


async def load_lists(ctx: Context, ids: Iterable[str]) -> dict[str, DomainList]:
    """The lists of ``ids`` from the event store (what they say of persons, sealed), off the
    loop; a list unknown there is left out."""
    def read() -> dict[str, DomainList]:
        out: dict[str, DomainList] = {}
        for lid in dict.fromkeys(ids):
            try:
                out[lid] = ctx.app.assistance_list(UUID(lid))
            except errors.NotFound:
                continue
        return out
    return await asyncio.to_thread(read)


@strawberry.type(description="协查对象 a person of an assistance list as they stood at the time "
                             "asked: where they are to be located, who owns the check, its "
                             "deadline and outcome.")
class ListedPerson:
    id: strawberry.ID = strawberry.field(description="The item's id (its sealed values' key).")
    list_id: strawberry.ID
    reference: str = strawberry.field(description="The list's reference (协查函编号).")
    no: int = strawberry.field(description="The person's number on the list, from 1.")
    place: str = strawberry.field(description="The node they are to be located in: a "
                                              "micro-grid, a community, or the district or "
                                              "scope they could not be routed below.")
    owner: str = strawberry.field(description="The node that owns the check now (up the "
                                              "levels once overdue).")
    owner_level: Level
    basis: AssistanceRouteBasis
    basis_label: str
    unrouted: bool = strawberry.field(description="无法落地 left at a district or the scope.")
    status: AssistanceItemStatus
    status_label: str
    since: datetime = strawberry.field(description="When the owner took it over.")
    deadline: datetime | None
    overdue: bool = strawberry.field(description="Pending past a deadline.")
    escalations: int
    forwards: int
    resident_id: strawberry.ID | None = strawberry.field(
        description="The resident of the register matched, if any.")
    household_id: strawberry.ID | None
    reported_at: datetime | None
    on_time: bool | None
    found: strawberry.Private[DomainItem | None] = None

    @classmethod
    def from_row(cls, r: ab.ItemRow, lists: dict[str, DomainList]) -> ListedPerson:
        return cls(id=strawberry.ID(str(assistance.item_id(UUID(r.list_id), r.no))),
                   list_id=strawberry.ID(r.list_id), reference=r.reference, no=r.no,
                   place=r.place, owner=r.owner,
                   owner_level=Level(grid.Level(r.owner_level).name.lower()),
                   basis=AssistanceRouteBasis(r.basis),
                   basis_label=assistance.RouteBasis(r.basis).label, unrouted=r.unrouted,
                   status=AssistanceItemStatus(r.status),
                   status_label=assistance.ItemStatus(r.status).label, since=r.since,
                   deadline=r.deadline, overdue=r.overdue, escalations=r.escalations,
                   forwards=r.forwards,
                   resident_id=strawberry.ID(r.resident_id) if r.resident_id else None,
                   household_id=strawberry.ID(r.household_id) if r.household_id else None,
                   reported_at=r.reported_at, on_time=r.on_time,
                   found=_item_of(lists.get(r.list_id), r.no))

    def _personal(self, info: Info[Context, None], field: str,
                  value: str | None) -> str | None:
        ctx = info.context
        if ctx.caller is None or self.found is None:
            return None
        return personal_for(ctx.caller, ctx.audit, value, f"ListedPerson.{field}",
                            str(self.id), erased=self.found.subject.erased)

    @strawberry.field(description=f"姓名 the name, {PERSON_NOTE}.")
    def name(self, info: Info[Context, None]) -> str | None:
        s = self.found.subject if self.found else None
        return self._personal(info, "name", s.name if s else None)

    @strawberry.field(description=f"手机号 the phone, {PERSON_NOTE}.")
    def phone(self, info: Info[Context, None]) -> str | None:
        s = self.found.subject if self.found else None
        return self._personal(info, "phone", s.phone if s and s.phone else None)

    @strawberry.field(description="身份证号 the ID number, as the list gives it: whole for the "
                                  "roles that see residents' (officials, community police, "
                                  "family doctors), audited; masked for others.")
    def id_number(self, info: Info[Context, None]) -> str | None:
        s = self.found.subject if self.found else None
        return self._personal(info, "idNumber", s.id_number if s and s.id_number else None)

    @strawberry.field(description=f"地址 the address, {PERSON_NOTE}.")
    def address(self, info: Info[Context, None]) -> str | None:
        s = self.found.subject if self.found else None
        return self._personal(info, "address", s.address if s else None)

    @strawberry.field(description=f"原因 why they are listed, {PERSON_NOTE}.")
    def reason(self, info: Info[Context, None]) -> str | None:
        s = self.found.subject if self.found else None
        return self._personal(info, "reason", s.reason if s else None)

    @strawberry.field(description="采取措施 the measure taken for a person found (e.g. "
                                  "居家隔离14天), once reported.")
    def measure(self) -> str | None:
        if self.status is not AssistanceItemStatus.FOUND or self.found is None:
            return None
        return self.found.measure

    @strawberry.field(description="迁往城市 the city a person moved to (moved away, outside "
                                  "the city).")
    def moved_to_city(self) -> str | None:
        if self.status is not AssistanceItemStatus.MOVED_AWAY or self.found is None:
            return None
        return self.found.moved_to_city

    @strawberry.field(description="备注 the note of the last report or forwarding, as "
                                  "ListedPerson.name is shown.")
    def note(self, info: Info[Context, None]) -> str | None:
        return self._personal(info, "note", self.found.note if self.found else None)


@strawberry.type(description="完成情况 a grid node's persons (to be located at it or under it) "
                             "by status at the time asked; overdue ones are among the pending.")
class AssistanceCompletion:
    code: str
    total: int
    pending: int
    overdue: int
    found: int
    not_found: int
    moved_away: int
    wrong_data: int
    done: int
    rate: float | None = strawberry.field(description="Done over total (null with none).")

    @classmethod
    def of(cls, g: ab.NodeCompletion) -> AssistanceCompletion:
        return cls(code=g.code, total=g.total, pending=g.pending, overdue=g.overdue,
                   found=g.found, not_found=g.not_found, moved_away=g.moved_away,
                   wrong_data=g.wrong_data, done=g.done, rate=g.rate)

    @strawberry.field(description="The node's name (null when it is no longer in the grid).")
    async def name(self, info: Info[Context, None]) -> str | None:
        row = await info.context.loaders.node.load(self.code)
        return row.name if row else None

    @strawberry.field(description="层级 the node's level.")
    async def level(self, info: Info[Context, None]) -> Level | None:
        row = await info.context.loaders.node.load(self.code)
        return Level(grid.Level(row.level).name.lower()) if row else None

    @strawberry.field(description="层级 the node's level, labelled.")
    async def level_label(self, info: Info[Context, None]) -> str | None:
        row = await info.context.loaders.node.load(self.code)
        return grid.Level(row.level).label if row else None


@strawberry.type(description="协查名单 an assistance list as it was at the time asked: its "
                             "persons in your jurisdiction and completion per node.")
class AssistanceList:
    id: strawberry.ID
    reference: str
    source: AssistanceSource
    source_label: str
    list_format: AssistanceListFormat
    scope_code: str = strawberry.field(description="The node it was received for.")
    received_at: datetime
    item_count: int = strawberry.field(description="Persons on the list (all of them).")
    as_of: strawberry.Private[datetime | None] = None

    @classmethod
    def from_row(cls, r: ab.ListRow, as_of: datetime | None) -> AssistanceList:
        return cls(id=strawberry.ID(r.list_id), reference=r.reference,
                   source=AssistanceSource(r.source),
                   source_label=assistance.Source(r.source).label,
                   list_format=AssistanceListFormat(r.list_format), scope_code=r.scope,
                   received_at=r.received_at, item_count=r.items, as_of=as_of)

    @strawberry.field(description="Its persons to be located in your jurisdiction, by number "
                                  "(of one status when given; only those to be located in "
                                  "the subtree of scope when given).")
    async def items(self, info: Info[Context, None],
                    status: AssistanceItemStatus | None = None,
                    scope: str | None = None) -> list[ListedPerson]:
        ctx = info.context
        if ctx.caller is None:
            return []
        wanted: set[int] = set()
        if scope is not None:
            nodes = await scope_of(ctx, scope)
            if nodes is None:
                return []
            under = await asyncio.to_thread(
                ab.items_under, ctx.views, nodes, ctx.app.clock(), as_of=self.as_of,
                limit=self.item_count, list_id=str(self.id))
            wanted = {r.no for r in under}
        rows = await asyncio.to_thread(ab.items_of_list, ctx.views, str(self.id),
                                       ctx.app.clock(), self.as_of)
        rows = [r for r in rows if (status is None or r.status == status.value)
                and (scope is None or r.no in wanted) and await node_visible(ctx, r.place)]
        lists = await load_lists(ctx, [str(self.id)]) if rows else {}
        return [ListedPerson.from_row(r, lists) for r in rows]

    @strawberry.field(description="完成情况 per node of a subtree of your jurisdiction (default: "
                                  "all of it) that has persons of this list, by code.")
    async def completion(self, info: Info[Context, None],
                         scope: str | None = None) -> list[AssistanceCompletion]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        found = await asyncio.to_thread(ab.completion_by_node, ctx.views, nodes,
                                        ctx.app.clock(), list_id=str(self.id),
                                        as_of=self.as_of)
        return [AssistanceCompletion.of(g) for g in found.values()]


@strawberry.input(description="One person of a list as the sender gives it (any field may be "
                              "empty; at least a name, a phone or an ID number, and something "
                              "to match or route by).")
class AssistanceRowInput:
    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""
    district: str = strawberry.field(default="", description="区 the district, when the "
                                                             "address is not known.")
    reason: str = ""
    row: int | None = strawberry.field(default=None, description="The row's number in the "
                                                                 "sender's system (messages "
                                                                 "name it; default: its "
                                                                 "position from 1).")
