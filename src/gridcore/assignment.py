"""Assignment rules: who checks which household, and how.

The rules are pure and deterministic: households, staff, capacities, the previous round and the
window are passed in, and the same inputs always give the same plan. The ``Assignment``
aggregate records a plan's outcome and later moves of open work.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import InvalidInput, NotPermitted
from gridcore.staff import Role


class Method(StrEnum):
    DOOR = "door"
    PHONE = "phone"
    CHAT = "chat"

    @property
    def label(self) -> str:
        return {"door": "上门 door visit", "phone": "电话 phone",
                "chat": "群内自报 chat self-report"}[self.value]


SQUAD_ROLES = frozenset({Role.PARTY_MEMBER, Role.VOLUNTEER})


@dataclass(frozen=True)
class HouseholdWork:
    household_id: UUID
    micro_grid: str
    vulnerable: bool
    has_smartphone: bool
    building_id: UUID | None = None


@dataclass(frozen=True)
class Worker:
    staff_id: UUID
    daily_capacity: int
    home_grids: frozenset[str] = frozenset()
    reach: frozenset[str] | None = None
    """The micro-grids the worker may act in (their jurisdiction's), None: all of them."""

    def may_take(self, micro_grid: str) -> bool:
        return self.reach is None or micro_grid in self.reach


class PlanItem(Immutable):
    household_id: UUID
    staff_id: UUID
    method: Method


class Uncovered(Immutable):
    household_id: UUID
    micro_grid: str
    method: Method
    cost: float


@dataclass
class Plan:
    items: list[PlanItem]
    uncovered: list[Uncovered]
    load: dict[UUID, float] = field(default_factory=dict)
    capacity: dict[UUID, float] = field(default_factory=dict)

    @property
    def shortfall(self) -> float:
        """Capacity missing to cover every uncovered household (in door-visit units)."""
        return round(sum(u.cost for u in self.uncovered), 2)


def choose_method(work: HouseholdWork) -> Method:
    """Vulnerable households get a door visit by a person (the seeds' rule for the elderly and
    those living alone); others report in the micro-grid chat when they have a smartphone,
    and are phoned when they do not."""
    if work.vulnerable:
        return Method.DOOR
    return Method.CHAT if work.has_smartphone else Method.PHONE


def distribute(
    households: Sequence[HouseholdWork],
    workers: Sequence[Worker],
    days: int,
    costs: dict[str, float],
    previous: dict[UUID, UUID] | None = None,
    already_loaded: dict[UUID, float] | None = None,
) -> Plan:
    """Give each household to one available worker within their capacity over ``days``.

    Preference: last round's worker, then a worker whose home grids include the household's
    micro-grid, then the worker with the most capacity left; only ever a worker whose reach
    holds the micro-grid (a worker limited to zones visits only those). Vulnerable
    households are placed first, then those with a previous worker. A household nobody can
    take stays uncovered: nobody is overloaded.
    """
    if days < 1:
        raise InvalidInput(f"A window of {days} days is empty.", "Give at least 1 day.")
    previous = previous or {}
    already_loaded = already_loaded or {}
    capacity = {w.staff_id: float(w.daily_capacity * days) for w in workers}
    left = {sid: cap - already_loaded.get(sid, 0.0) for sid, cap in capacity.items()}
    limited = {w.staff_id: w for w in workers if w.reach is not None}
    by_grid: dict[str, list[UUID]] = {}
    for w in sorted(workers, key=lambda w: str(w.staff_id)):
        for g in w.home_grids:
            by_grid.setdefault(g, []).append(w.staff_id)
    heap = [(-c, str(sid), sid) for sid, c in left.items() if c > 0]
    heapq.heapify(heap)

    def take(sid: UUID, cost: float) -> bool:
        if left.get(sid, 0.0) + 1e-9 >= cost:
            left[sid] -= cost
            heapq.heappush(heap, (-left[sid], str(sid), sid))
            return True
        return False

    def may(sid: UUID, grid: str) -> bool:
        w = limited.get(sid)
        return w is None or w.may_take(grid)

    def most_left(cost: float, grid: str) -> UUID | None:
        while heap:
            neg, _, sid = heap[0]
            if -neg != left[sid]:
                heapq.heappop(heap)  # a stale entry
                continue
            if may(sid, grid):
                return sid if left[sid] + 1e-9 >= cost else None
            break
        # the worker with most left may not go there: the one with most left who may
        able = [s for s in left if may(s, grid) and left[s] + 1e-9 >= cost]
        return min(able, key=lambda s: (-left[s], str(s))) if able else None

    items: list[PlanItem] = []
    uncovered: list[Uncovered] = []
    # Vulnerable first (door visits are mandatory), then households that keep last round's
    # worker, so a newcomer cannot use up the capacity a returning pairing needs.
    ordered = sorted(households, key=lambda h: (
        not h.vulnerable, h.household_id not in previous, h.micro_grid, str(h.building_id),
        str(h.household_id)))
    for work in ordered:
        method = choose_method(work)
        cost = costs[method.value]
        chosen: UUID | None = None
        prev = previous.get(work.household_id)
        if prev is not None and prev in left and may(prev, work.micro_grid) \
                and take(prev, cost):
            chosen = prev
        if chosen is None:
            for sid in sorted(by_grid.get(work.micro_grid, ()), key=lambda s: -left[s]):
                if may(sid, work.micro_grid) and take(sid, cost):
                    chosen = sid
                    break
        if chosen is None:
            best = most_left(cost, work.micro_grid)
            if best is not None and take(best, cost):
                chosen = best
        if chosen is None:
            uncovered.append(Uncovered(household_id=work.household_id,
                                       micro_grid=work.micro_grid, method=method, cost=cost))
        else:
            items.append(PlanItem(household_id=work.household_id, staff_id=chosen,
                                  method=method))
    load = {sid: round(capacity[sid] - left[sid], 2) for sid in capacity}
    return Plan(items=items, uncovered=uncovered, load=load, capacity=capacity)


def check_responsible_worker(role: Role, available: bool, jurisdiction: str | tuple[str, ...],
                             micro_grid_ancestry: Iterable[str], micro_grid: str,
                             current: UUID | None = None, staff_id: UUID | None = None,
                             handover: bool = False) -> None:
    """A micro-grid's responsible person is an available grid worker whose jurisdiction (a
    node, or several) contains the micro-grid (one worker may hold several micro-grids).

    A micro-grid has one at a time: assigning one (``handover=False``) refuses a micro-grid
    another worker (``current``) already holds, and names the hand-over; a hand-over
    (``handover=True``) needs a current worker other than the new one (``staff_id``)."""
    if role is not Role.GRID_WORKER:
        raise NotPermitted(f"A {role.value} cannot be the responsible worker of {micro_grid}.",
                           "Choose a grid worker (网格员).")
    if not available:
        raise NotPermitted("That grid worker is unavailable.", "Choose an available one.")
    nodes = (jurisdiction,) if isinstance(jurisdiction, str) else jurisdiction
    if not set(nodes) & set(micro_grid_ancestry):
        raise NotPermitted(
            f"Micro-grid {micro_grid} is outside the worker's jurisdiction "
            f"{', '.join(nodes)}.",
            "Choose a worker of this community, or move the worker there first: the "
            "changeStaffJurisdiction mutation.",
        )
    if handover:
        if current is None:
            raise InvalidInput(f"Micro-grid {micro_grid} has no responsible worker to hand over.",
                               "Assign one: the assignResponsibleWorker mutation.")
        if current == staff_id:
            raise InvalidInput(f"Staff {staff_id} is already the responsible worker of "
                               f"{micro_grid}.", "Choose another grid worker.")
    elif current is not None and current != staff_id:
        raise InvalidInput(
            f"Micro-grid {micro_grid} already has a responsible worker ({current}).",
            "Hand it over to the new worker: the handOverMicroGrid mutation.")


def check_squad(zone: str, members: Sequence[tuple[UUID, Role, bool]],
                current_zone_of: dict[UUID, str]) -> None:
    """A zone's squad (服务小分队) mixes party members and volunteers of the jurisdiction;
    each person serves in one zone's squad at a time (``current_zone_of``: the zone each
    serves in now; the parts of a split share their old squad until it is re-formed)."""
    if not members:
        raise InvalidInput(f"The squad for {zone} has no members.",
                           "Name at least one party member or volunteer.")
    for sid, role, in_jurisdiction in members:
        if role not in SQUAD_ROLES:
            raise NotPermitted(f"Staff {sid} is a {role.value}, not a squad member.",
                               "Squads are made of party members and volunteers.")
        if not in_jurisdiction:
            raise NotPermitted(f"Staff {sid} serves outside {zone}'s community.",
                               "Choose members from the same community.")
        other = current_zone_of.get(sid)
        if other is not None and other != zone:
            raise InvalidInput(f"Staff {sid} already serves in the squad of {other}.",
                               "Take them off that squad first (the takeOffSquad mutation), "
                               "or move them here from it: the moveSquadMember mutation.")


def carried_staffing(parts: Sequence[tuple[UUID | None, Sequence[UUID], int]]
                     ) -> tuple[UUID | None, list[UUID]]:
    """The staffing a micro-grid made by a split or a merge takes from the micro-grids it
    comes from (``parts``: each one's responsible worker, squad and residents, in the order
    given): the responsible worker of the part with the most residents among those that
    have one (ties: the first given), and the union of the squads (in the order given).

    A split has one part: every new micro-grid keeps its responsible worker and squad."""
    worker: UUID | None = None
    most = -1
    squad: list[UUID] = []
    for responsible, members, residents in parts:
        if responsible is not None and residents > most:
            worker, most = responsible, residents
        squad.extend(m for m in members if m not in squad)
    return worker, squad


MAX_ROUND = 9999
MAX_DAYS = 366


def check_round(round_no: int, days: int) -> None:
    """A round is numbered 1-9999 and lasts 1-366 days (a campaign is weeks, not years)."""
    if not 1 <= round_no <= MAX_ROUND:
        raise InvalidInput(f"Round number {round_no} is out of range.",
                           f"Number rounds from 1 (at most {MAX_ROUND}).")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"A round of {days} days is out of range.",
                           f"Give 1-{MAX_DAYS} days.")


def assignment_id(scope: str, round_no: int) -> UUID:
    return stable_id("assignment", f"{scope}#{round_no}")


class Assignment(Aggregate):
    """The recorded plan of one scope and round, and the moves of its open work."""

    scope: str
    round_no: int
    days: int
    owner: dict[UUID, UUID]
    method: dict[UUID, Method]
    uncovered: dict[UUID, Uncovered]
    done: set[UUID]

    class Made(Created):
        scope: str
        round_no: int
        days: int
        items: list[PlanItem]
        uncovered: list[Uncovered]
        shortfall: float

        def apply(self, a: Assignment) -> None:
            a.scope, a.round_no, a.days = self.scope, self.round_no, self.days
            a.owner = {i.household_id: i.staff_id for i in self.items}
            a.method = {i.household_id: i.method for i in self.items}
            a.uncovered = {u.household_id: u for u in self.uncovered}
            a.done = set()

    class WorkMoved(Event):
        from_staff: UUID
        moves: list[PlanItem]
        uncovered: list[Uncovered]
        reason: str

        def apply(self, a: Assignment) -> None:
            for m in self.moves:
                a.owner[m.household_id] = m.staff_id
            for u in self.uncovered:
                a.owner.pop(u.household_id, None)
                a.uncovered[u.household_id] = u

    @classmethod
    def make(cls, scope: str, round_no: int, days: int, plan: Plan, at: datetime) -> Assignment:
        check_round(round_no, days)
        return cls._create(cls.Made, assignment_id(scope, round_no), at, scope=scope,
                           round_no=round_no, days=days, items=plan.items,
                           uncovered=plan.uncovered, shortfall=plan.shortfall)

    def open_work_of(self, staff_id: UUID) -> list[UUID]:
        return sorted((h for h, s in self.owner.items() if s == staff_id and h not in self.done),
                      key=str)

    def load(self, costs: dict[str, float]) -> dict[UUID, float]:
        totals: dict[UUID, float] = {}
        for h, s in self.owner.items():
            totals[s] = totals.get(s, 0.0) + costs[self.method[h].value]
        return totals

    def move_work(self, from_staff: UUID, plan: Plan, reason: str, at: datetime) -> None:
        self._trigger(self.WorkMoved, at, from_staff=from_staff, moves=plan.items,
                      uncovered=plan.uncovered, reason=reason)
