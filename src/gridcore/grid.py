"""The grid hierarchy: a city root and four levels (区 / 街道 / 社区 / 微网格).

A node's code is its permanent identity (its aggregate id is derived from it). At creation a
child's code extends its parent's code; a node that is later moved keeps its code, as
statistical area codes do when an area changes affiliation. Retired nodes stay readable.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import IntEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.errors import InvalidInput, LevelViolation, NodeRetired
from gridcore.geo import Area, Crs


class Level(IntEnum):
    CITY = 0
    DISTRICT = 1
    STREET = 2
    COMMUNITY = 3
    MICRO_GRID = 4

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.CITY: "市 city",
    Level.DISTRICT: "区 district",
    Level.STREET: "街道 street",
    Level.COMMUNITY: "社区 community",
    Level.MICRO_GRID: "微网格 micro-grid",
}

_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,39}$")


def node_id(code: str) -> UUID:
    return stable_id("grid", code)


def check_code(code: str) -> None:
    """A grid code is 1-40 letters, digits or hyphens, starting with a letter or digit."""
    if not _CODE.fullmatch(code):
        raise InvalidInput(
            f"Grid code {code!r} is malformed.",
            "Use 1-40 letters, digits or hyphens, e.g. '420102001003-07'.",
        )


def child_level(parent_level: Level, child_code: str, parent_code: str) -> Level:
    """A node's level is its parent's plus one, and its code extends its parent's code."""
    if parent_level is Level.MICRO_GRID:
        raise LevelViolation(
            f"Micro-grid {parent_code} cannot have child nodes.",
            "Attach buildings and households to a micro-grid; create grid nodes under a "
            "community or above.",
        )
    if not child_code.startswith(parent_code) or child_code == parent_code:
        raise InvalidInput(
            f"Code {child_code!r} does not extend its parent's code {parent_code!r}.",
            f"Start the child's code with {parent_code!r}, e.g. '{parent_code}01'.",
        )
    return Level(parent_level + 1)


def check_move(node_level: Level, new_parent_level: Level, code: str, new_parent: str) -> None:
    """A move keeps the level rule: the new parent is one level above the node."""
    if node_level is Level.CITY:
        raise LevelViolation(f"City {code} is the root and cannot be moved.",
                             "Move districts, streets, communities or micro-grids.")
    if new_parent_level != node_level - 1:
        raise LevelViolation(
            f"Cannot move {node_level.name.lower()} {code} under "
            f"{new_parent_level.name.lower()} {new_parent}.",
            f"Choose a new parent at level {Level(node_level - 1).name.lower()}.",
        )


def soft_cap_excess(residents: int, cap: int) -> int:
    """How many residents a micro-grid holds above the policy's soft cap (0 when within)."""
    return max(0, residents - cap)


class GridNode(Aggregate):
    code: str
    name: str
    level: Level
    parent_code: str | None
    children: list[str]
    retired: bool
    successors: list[str]
    parents: list[tuple[datetime, str | None]]
    names: list[tuple[datetime, str]]
    households: dict[UUID, int]
    responsible_worker: UUID | None
    squad: list[UUID]
    staff: list[UUID]
    rounds: list[int]
    boundaries: list[tuple[datetime, Area | None]]

    class Established(Created):
        code: str
        name: str
        level: Level
        parent_code: str | None

        def apply(self, node: GridNode) -> None:
            node.code, node.name, node.level = self.code, self.name, self.level
            node.parent_code = self.parent_code
            node.children, node.retired, node.successors = [], False, []
            node.parents = [(self.timestamp, self.parent_code)]
            node.names = [(self.timestamp, self.name)]
            node.households, node.responsible_worker, node.squad = {}, None, []
            node.staff, node.rounds = [], []
            node.boundaries = []

    class BoundaryDrawn(Event):
        """The node's ground (边界), in WGS-84; ``crs`` the system the source gave it in and
        ``source`` where it came from (a file's name), for the record; ``area`` None when a
        boundary is withdrawn."""

        area: Area | None
        crs: Crs = Crs.WGS84
        source: str = ""
        by: UUID | None = None

        def apply(self, node: GridNode) -> None:
            node.boundaries.append((self.timestamp, self.area))

    class Renamed(Event):
        name: str

        def apply(self, node: GridNode) -> None:
            node.name = self.name
            node.names.append((self.timestamp, self.name))

    class Moved(Event):
        parent_code: str

        def apply(self, node: GridNode) -> None:
            node.parent_code = self.parent_code
            node.parents.append((self.timestamp, self.parent_code))

    class ChildAttached(Event):
        code: str

        def apply(self, node: GridNode) -> None:
            node.children.append(self.code)

    class ChildDetached(Event):
        code: str

        def apply(self, node: GridNode) -> None:
            node.children.remove(self.code)

    class Retired(Event):
        reason: str
        successors: list[str]

        def apply(self, node: GridNode) -> None:
            node.retired, node.successors = True, list(self.successors)

    class HouseholdsUpdated(Event):
        """Household membership and resident counts (a count of 0 means the household left)."""

        counts: dict[UUID, int]

        def apply(self, node: GridNode) -> None:
            for household, residents in self.counts.items():
                if residents:
                    node.households[household] = residents
                else:
                    node.households.pop(household, None)

    class ResponsibleWorkerAssigned(Event):
        staff_id: UUID

        def apply(self, node: GridNode) -> None:
            node.responsible_worker = self.staff_id

    class SquadFormed(Event):
        members: list[UUID]

        def apply(self, node: GridNode) -> None:
            node.squad = list(self.members)

    class ResponsibleWorkerHandedOver(Event):
        """交接 the micro-grid passes from its responsible worker to another."""

        previous: UUID
        staff_id: UUID

        def apply(self, node: GridNode) -> None:
            node.responsible_worker = self.staff_id

    class SquadMemberLeft(Event):
        staff_id: UUID

        def apply(self, node: GridNode) -> None:
            node.squad.remove(self.staff_id)

    class SquadMemberJoined(Event):
        staff_id: UUID

        def apply(self, node: GridNode) -> None:
            node.squad.append(self.staff_id)

    class StaffJoined(Event):
        staff_id: UUID

        def apply(self, node: GridNode) -> None:
            node.staff.append(self.staff_id)

    class StaffLeft(Event):
        staff_id: UUID

        def apply(self, node: GridNode) -> None:
            node.staff.remove(self.staff_id)

    class RoundAssigned(Event):
        round_no: int

        def apply(self, node: GridNode) -> None:
            node.rounds.append(self.round_no)

    @classmethod
    def establish(
        cls, code: str, name: str, level: Level, parent_code: str | None, at: datetime
    ) -> GridNode:
        check_code(code)
        if not name.strip():
            raise InvalidInput(f"Grid node {code} has an empty name.", "Give it its Chinese name.")
        return cls._create(
            cls.Established, node_id(code), at,
            code=code, name=name.strip(), level=level, parent_code=parent_code,
        )

    @property
    def residents(self) -> int:
        return sum(self.households.values())

    def require_active(self) -> None:
        if self.retired:
            successors = ", ".join(self.successors) or "its parent"
            raise NodeRetired(
                f"Grid node {self.code} ({self.name}) is retired.",
                f"Use its successor ({successors}) instead.",
            )

    def rename(self, name: str, at: datetime) -> None:
        self.require_active()
        if not name.strip():
            raise InvalidInput(f"New name for {self.code} is empty.", "Give a non-empty name.")
        self._trigger(self.Renamed, at, name=name.strip())

    def move_under(self, parent_code: str, at: datetime) -> None:
        self.require_active()
        self._trigger(self.Moved, at, parent_code=parent_code)

    def attach(self, code: str, at: datetime) -> None:
        self.require_active()
        self._trigger(self.ChildAttached, at, code=code)

    def detach(self, code: str, at: datetime) -> None:
        if code in self.children:
            self._trigger(self.ChildDetached, at, code=code)

    def retire(self, reason: str, successors: list[str], at: datetime) -> None:
        self.require_active()
        if live := list(self.children):
            raise InvalidInput(
                f"Grid node {self.code} still has child nodes: {', '.join(live)}.",
                "Move or retire its children first.",
            )
        if self.households:
            raise InvalidInput(
                f"Grid node {self.code} still holds {len(self.households)} households.",
                "Move its households to another micro-grid (or split/merge it) first.",
            )
        self._trigger(self.Retired, at, reason=reason, successors=successors)

    def update_households(self, counts: dict[UUID, int], at: datetime) -> None:
        self._trigger(self.HouseholdsUpdated, at, counts=counts)

    def assign_responsible_worker(self, staff_id: UUID, at: datetime) -> None:
        self.require_active()
        self._trigger(self.ResponsibleWorkerAssigned, at, staff_id=staff_id)

    def form_squad(self, members: list[UUID], at: datetime) -> None:
        self.require_active()
        self._trigger(self.SquadFormed, at, members=members)

    def hand_over(self, staff_id: UUID, at: datetime) -> None:
        """交接 give the micro-grid to another responsible worker (the rule:
        ``assignment.check_responsible_worker`` with ``handover=True``)."""
        self.require_active()
        if self.responsible_worker is None:
            raise InvalidInput(f"Micro-grid {self.code} has no responsible worker to hand over.",
                               "Assign one: the assignResponsibleWorker mutation.")
        self._trigger(self.ResponsibleWorkerHandedOver, at, previous=self.responsible_worker,
                      staff_id=staff_id)

    def take_off_squad(self, staff_id: UUID, at: datetime) -> None:
        """Take a member off this micro-grid's squad (服务小分队)."""
        self.require_active()
        if staff_id not in self.squad:
            raise InvalidInput(f"Staff {staff_id} does not serve in the squad of {self.code}.",
                               "Name a member of this squad, or form the squad anew: the "
                               "formSquad mutation.")
        self._trigger(self.SquadMemberLeft, at, staff_id=staff_id)

    def join_squad(self, staff_id: UUID, at: datetime) -> None:
        """Add a member to this micro-grid's squad (the rule: ``assignment.check_squad``);
        one already in it stays."""
        self.require_active()
        if staff_id not in self.squad:
            self._trigger(self.SquadMemberJoined, at, staff_id=staff_id)

    def add_staff(self, staff_id: UUID, at: datetime) -> None:
        if staff_id not in self.staff:
            self._trigger(self.StaffJoined, at, staff_id=staff_id)

    def remove_staff(self, staff_id: UUID, at: datetime) -> None:
        if staff_id in self.staff:
            self._trigger(self.StaffLeft, at, staff_id=staff_id)

    def record_round(self, round_no: int, at: datetime) -> None:
        self._trigger(self.RoundAssigned, at, round_no=round_no)

    def draw_boundary(self, area: Area | None, crs: Crs, source: str, by: UUID | None,
                      at: datetime) -> bool:
        """Draw (or withdraw, ``area`` None) the node's boundary; the same boundary again
        writes nothing (False). The rules between nodes (within the parent, no overlap with a
        sibling) are checked by the command that sees them all (``gridcore.geo``)."""
        self.require_active()
        if self.boundary == area:
            return False
        self._trigger(self.BoundaryDrawn, at, area=area, crs=crs, source=source[:200], by=by)
        return True

    @property
    def boundary(self) -> Area | None:
        return self.boundaries[-1][1] if self.boundaries else None

    def boundary_at(self, when: datetime) -> Area | None:
        """The boundary as it was at ``when`` (None before the first was drawn)."""
        area = None
        for since, value in self.boundaries:
            if since <= when:
                area = value
        return area

    def parent_at(self, when: datetime) -> str | None:
        parent = None
        for since, code in self.parents:
            if since <= when:
                parent = code
        return parent

    def name_at(self, when: datetime) -> str:
        name = self.names[0][1]
        for since, value in self.names:
            if since <= when:
                name = value
        return name
