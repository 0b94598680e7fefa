"""Commands and queries of assistance lists (协查名单): receiving a list (every person matched
and routed, in one save), the community's report or forwarding per person, escalation of
overdue persons by ``tick``, completion per grid node, and erasure with a matched resident.

A list is received whole or not at all: one row that cannot be read (a malformed phone or ID
number, nothing identifying the person, nothing to match or route by) refuses the list with
a message naming the row, and nothing is written. The sender's data is not corrected here:
the file adapter (``adapters.assistance_files``) lists every bad row at once so the sender can
be asked for a corrected list; a person whose data proves wrong on the ground is reported
WRONG_DATA by the community, which is a finding, not a reading error.

A directory (an index aggregate with a deterministic id) lists every list and those with
persons still pending, so ``tick_assistance`` loads only open lists; a per-resident index
(``AssistanceLinks``) names the lists that matched a resident, so erasing that resident
shreds those items without a scan. Matching reads the register of the receiving scope once
per list (its households, in memory); a read model could answer it later without changing
the rules (``match_resident``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.app_base import ApplicationBase, command
from gridcore.assistance import (
    AssistanceItem,
    AssistanceList,
    AssistanceRow,
    Completion,
    ItemStatus,
    ListFormat,
    ReceivedItem,
    Registered,
    RouteBasis,
    Source,
    Target,
    assistance_list_id,
    check_row,
    completion,
    deadline_for,
    item_id,
    match_resident,
    missed_at,
    route,
)
from gridcore.authority import Actor, System, staff_of
from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.building import Building
from gridcore.errors import DuplicateCode, InvalidInput, parse_enum
from gridcore.grid import GridNode, Level
from gridcore.household import Household
from gridcore.text import free_text

DIRECTORY_ID = stable_id("assistance-lists", "all")


def links_id(resident: UUID) -> UUID:
    return stable_id("assistance-links", str(resident))


class AssistanceDirectory(Aggregate):
    """Every list received (in order) and those with persons still pending."""

    lists: list[UUID]
    open: list[UUID]

    class Started(Created):
        def apply(self, d: AssistanceDirectory) -> None:
            d.lists, d.open = [], []

    class Listed(Event):
        list_id: UUID

        def apply(self, d: AssistanceDirectory) -> None:
            d.lists.append(self.list_id)
            d.open.append(self.list_id)

    class Completed(Event):
        list_id: UUID

        def apply(self, d: AssistanceDirectory) -> None:
            d.open.remove(self.list_id)

    class Reopened(Event):
        list_id: UUID

        def apply(self, d: AssistanceDirectory) -> None:
            d.open.append(self.list_id)

    @classmethod
    def start(cls, at: datetime) -> AssistanceDirectory:
        return cls._create(cls.Started, DIRECTORY_ID, at)

    def add(self, list_id: UUID, at: datetime) -> None:
        if list_id not in self.lists:
            self._trigger(self.Listed, at, list_id=list_id)

    def track(self, a: AssistanceList, at: datetime) -> None:
        """Keep the list among the open ones exactly while a person on it is pending."""
        pending = bool(a.pending)
        if pending and a.id not in self.open:
            self._trigger(self.Reopened, at, list_id=a.id)
        elif not pending and a.id in self.open:
            self._trigger(self.Completed, at, list_id=a.id)


class AssistanceLinks(Aggregate):
    """The lists that matched one resident (for their erasure)."""

    resident_id: UUID
    lists: list[UUID]

    class Started(Created):
        resident_id: UUID

        def apply(self, x: AssistanceLinks) -> None:
            x.resident_id, x.lists = self.resident_id, []

    class Linked(Event):
        list_id: UUID

        def apply(self, x: AssistanceLinks) -> None:
            x.lists.append(self.list_id)

    @classmethod
    def start(cls, resident: UUID, at: datetime) -> AssistanceLinks:
        return cls._create(cls.Started, links_id(resident), at, resident_id=resident)

    def link(self, list_id: UUID, at: datetime) -> None:
        if list_id not in self.lists:
            self._trigger(self.Linked, at, list_id=list_id)


@dataclass(frozen=True)
class AssistanceReceipt:
    """What receiving a list did: its id, how many persons, how many matched in the register,
    routed to a community by address, and left at a district or the scope (无法落地)."""

    list_id: UUID
    items: int
    matched: int
    routed: int
    unrouted: int
    notification_id: int | None


def _receipt(a: AssistanceList, notification_id: int | None) -> AssistanceReceipt:
    matched = sum(1 for i in a.items if i.basis is RouteBasis.REGISTER)
    unrouted = sum(1 for i in a.items if i.unrouted is not None)
    return AssistanceReceipt(a.id, len(a.items), matched, len(a.items) - matched - unrouted,
                             unrouted, notification_id)


def _replay_receive(app: AssistanceCommands, source: Any, reference: str, *args: Any,
                    **kwargs: Any) -> AssistanceReceipt:
    return _receipt(app.assistance_list(reference), app.recorder.max_notification_id())


@dataclass
class _Register:
    """The receiving scope as matching and routing read it (built once per list)."""

    residents: list[Registered]
    targets: list[Target]
    addresses: dict[str, list[tuple[str, str]]]
    buildings: dict[str, list[str]]


class AssistanceCommands(ApplicationBase):

    # ---- queries ----------------------------------------------------------------------------

    def assistance_list(self, key: UUID | str) -> AssistanceList:
        """A list by its id or its reference (协查函编号)."""
        aid = key if isinstance(key, UUID) else assistance_list_id(key)
        return self._get(AssistanceList, aid, f"assistance list {key}",
                         "Check the list's reference, or receive the list first.")

    def assistance_lists(self, *, open_only: bool = False) -> list[AssistanceList]:
        """Every list received, oldest first (``open_only``: those with persons pending)."""
        d = self._find(AssistanceDirectory, DIRECTORY_ID)
        if d is None:
            return []
        return [self.assistance_list(i) for i in (d.open if open_only else d.lists)]

    def assistance_items(self, code: str, *, pending_only: bool = True
                         ) -> list[tuple[AssistanceList, AssistanceItem]]:
        """The persons to locate at or below node ``code`` (a worker's to-do), overdue first,
        then by deadline."""
        lists = self.assistance_lists(open_only=pending_only)
        found = [(a, i) for a in lists for i in a.items
                 if (not pending_only or i.status is ItemStatus.PENDING)
                 and code in self.ancestry(i.place)]
        now = self.clock()
        return sorted(found, key=lambda p: (not p[1].overdue(now),
                                            p[1].deadline or p[1].since, p[0].reference,
                                            p[1].no))

    def assistance_completion(self, code: str, list_key: UUID | str | None = None,
                              now: datetime | None = None) -> dict[str, Completion]:
        """Completion per grid node at or below ``code``, over one list or every list
        (``completion``)."""
        self.node(code)
        lists = ([self.assistance_list(list_key)] if list_key is not None
                 else self.assistance_lists())
        chains: dict[str, list[str]] = {}

        def chain(c: str) -> list[str]:
            if c not in chains:
                chains[c] = self.ancestry(c)
            return chains[c]

        counts = completion((i for a in lists for i in a.items), chain, now or self.clock())
        return {c: v for c, v in counts.items() if code in chain(c)}

    def _assistance_erased_with_resident(self, household: Household, rid: UUID,
                                         at: datetime) -> list[Aggregate]:
        """What lists said of a matched resident is shredded with them (an erasure
        participant, see ``GridcoreApp._erasure_participants``)."""
        links = self._find(AssistanceLinks, links_id(rid), for_reading=True)
        found: list[Aggregate] = []
        for lid in links.lists if links else []:
            a = self._find(AssistanceList, lid)
            if a is not None and a.erase_subjects_of(rid, "随居民删除 erased with the resident",
                                                     at):
                found.append(a)
        return found

    # ---- receiving --------------------------------------------------------------------------

    @command(replay=_replay_receive)
    def receive_assistance_list(self, source: Source | str, reference: str,
                                rows: Sequence[AssistanceRow], scope: str, *, by: Actor,
                                source_name: str = "",
                                list_format: ListFormat | str = ListFormat.API
                                ) -> AssistanceReceipt:
        """Receive a list for ``scope`` (the city or a district): every person matched to the
        register or routed by address, each with a deadline, in one save. One unreadable row
        refuses the whole list, naming the row; nothing is written."""
        at = self.clock()
        kind = parse_enum(Source, source, "list source")
        fmt = parse_enum(ListFormat, list_format, "list format")
        name = free_text(source_name, "source's name (来源)", 80) or kind.label
        aid = assistance_list_id(reference)
        if self._find(AssistanceList, aid) is not None:
            raise DuplicateCode(f"List {reference.strip()} was already received.",
                                "Give the reference of a new list; to answer the sender, write "
                                "the result file of the received one.")
        root = self.node(scope)
        root.require_active()
        if root.level > Level.DISTRICT:
            raise InvalidInput(f"{scope} is a {root.level.label}.",
                               "Receive a list for the city or a district (区).")
        if not isinstance(rows, Sequence) or isinstance(rows, str):
            raise InvalidInput("The rows are not a list.", "Give one row per person.")
        policy = self.policy_at(at)
        register = self._assistance_register(scope)
        items: list[ReceivedItem] = []
        links: dict[UUID, AssistanceLinks] = {}
        for n, r in enumerate(rows, start=1):
            if not isinstance(r, AssistanceRow):
                raise InvalidInput(f"Row {n} is not an assistance row.",
                                   "Give each person as an AssistanceRow.")
            subject, district = check_row(r, item_id(aid, n), n)
            match = match_resident(subject, register.residents)
            if match is not None:
                community = self.node(match.micro_grid).parent_code or match.micro_grid
                items.append(ReceivedItem(
                    no=n, subject=subject, district=district, place=match.micro_grid,
                    owner=community, owner_level=Level.COMMUNITY, basis=RouteBasis.REGISTER,
                    household_id=match.household_id, resident_id=match.resident_id,
                    match_basis=match.basis, deadline=deadline_for(at, policy)))
                link = links.get(match.resident_id) or self._find(
                    AssistanceLinks, links_id(match.resident_id)) or AssistanceLinks.start(
                    match.resident_id, at)
                link.link(aid, at)
                links[match.resident_id] = link
                continue
            where = route(subject.address, district, scope, register.targets,
                          register.addresses, register.buildings)
            items.append(ReceivedItem(
                no=n, subject=subject, district=district, place=where.place, owner=where.owner,
                owner_level=self.node(where.owner).level, basis=where.basis,
                unrouted=where.reason, deadline=deadline_for(at, policy)))
        a = AssistanceList.receive(kind, name, reference, fmt, scope, staff_of(by), items, at)
        directory = self._find(AssistanceDirectory, DIRECTORY_ID) or AssistanceDirectory.start(at)
        directory.add(a.id, at)
        return _receipt(a, self._save(a, directory, *links.values()))

    def _assistance_register(self, scope: str) -> _Register:
        """The active nodes under ``scope`` and its households' residents, addresses and
        buildings, read once for a list."""
        nodes = self.subtree(scope)
        by_code = {n.code: n for n in nodes}

        def above(n: GridNode) -> list[GridNode]:
            out, current = [], n
            while current.parent_code is not None and current.parent_code in by_code:
                current = by_code[current.parent_code]
                out.append(current)
            return out

        targets = []
        for n in nodes:
            if n.retired:
                continue
            ups = above(n)
            community = n.code if n.level is Level.COMMUNITY else next(
                (u.code for u in ups if u.level is Level.COMMUNITY), None)
            district = next((u.code for u in [n, *ups] if u.level is Level.DISTRICT), None)
            targets.append(Target(n.code, n.name, n.level, community, district,
                                  tuple(u.name for u in ups)))
        residents: list[Registered] = []
        addresses: dict[str, list[tuple[str, str]]] = {}
        buildings: dict[str, list[str]] = {}
        seen_buildings: dict[UUID, Building | None] = {}
        for h in self.households_in(scope, for_reading=True):
            grid = by_code.get(h.micro_grid)
            community = grid.parent_code if grid is not None else None
            if community is not None and h.address.text:
                addresses.setdefault(community, []).append((h.address.text, h.micro_grid))
            if community is not None and h.building_id is not None:
                if h.building_id not in seen_buildings:
                    seen_buildings[h.building_id] = self._find(Building, h.building_id,
                                                               for_reading=True)
                b = seen_buildings[h.building_id]
                if b is not None and b.name not in buildings.get(community, []):
                    buildings.setdefault(community, []).append(b.name)
            for r in h.residents.values():
                if r.erased:
                    continue
                residents.append(Registered(h.id, r.resident_id, h.micro_grid,
                                            r.identity.name, r.identity.phone,
                                            r.identity.id_number))
        return _Register(residents, targets, addresses, buildings)

    # ---- the community's answers ------------------------------------------------------------

    @command
    def report_assistance_item(self, list_id: UUID | str, item_no: int,
                               outcome: ItemStatus | str, *, by: Actor,
                               measure: str | None = None,
                               note: str | None = None) -> int | None:
        """Report a listed person: found (with the measure taken, e.g. 居家隔离14天), not found
        (查无此人) or wrong data (信息有误)."""
        at = self.clock()
        a = self.assistance_list(list_id)
        a.report(item_no, parse_enum(ItemStatus, outcome, "check outcome"), staff_of(by), at,
                 measure, note)
        return self._save(a, self._track(a, at))

    @command
    def forward_assistance_item(self, list_id: UUID | str, item_no: int, *, by: Actor,
                                to_community: str | None = None, to_city: str | None = None,
                                note: str | None = None) -> int | None:
        """The person moved away (已迁出): forward them to the community (or micro-grid) of
        the city that must locate them now, with a new deadline; or record them moved to
        another city, named. A district routes a person it could not route the same way."""
        at = self.clock()
        a = self.assistance_list(list_id)
        place = code = None
        if to_community is not None:
            node = self.node(to_community)
            node.require_active()
            if node.level is Level.MICRO_GRID and node.parent_code is not None:
                place, code = node.code, node.parent_code
            elif node.level is Level.COMMUNITY:
                place = code = node.code
            else:
                raise InvalidInput(f"{to_community} is a {node.level.label}.",
                                   "Forward to the community (社区) or micro-grid that must "
                                   "locate the person.")
        a.forward(item_no, staff_of(by), at, self.policy_at(at), to_place=place, to_code=code,
                  to_city=to_city, note=note)
        return self._save(a, self._track(a, at))

    def _track(self, a: AssistanceList, at: datetime) -> AssistanceDirectory | None:
        d = self._find(AssistanceDirectory, DIRECTORY_ID)
        if d is not None:
            d.track(a, at)
        return d

    # ---- escalation -------------------------------------------------------------------------

    def tick_assistance(self, now: datetime) -> int:
        """Escalate every listed person whose deadline passed at ``now`` one level up (or
        record the missed deadline at the city), every deadline missed since the last tick
        dated when it passed; returns how many lists had such persons."""
        d = self._find(AssistanceDirectory, DIRECTORY_ID)
        if d is None:
            return 0
        return sum(1 for lid in list(d.open)
                   if self._escalate_assistance_if_due(lid, now, by=System.AUTOMATION))

    @command
    def _escalate_assistance_if_due(self, list_id: UUID, now: datetime, *, by: Actor) -> bool:
        a = self.assistance_list(list_id)
        if a.next_due(now) is None:
            return False
        while (item := a.next_due(now)) is not None:  # the earliest first: times stay in order
            assert item.deadline is not None
            parent = self.node(item.owner).parent_code
            since = missed_at(item.deadline, a.modified_on)
            a.escalate(item.no, parent, self.node(parent).level if parent else None,
                       self.policy_at(since), now)
        self._save(a)
        return True


__all__ = ["AssistanceCommands", "AssistanceDirectory", "AssistanceLinks", "AssistanceReceipt"]
