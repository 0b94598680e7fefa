"""The library's front door: one application whose command methods read like the seeds' verbs.

Each command loads, decides (through the pure rules), and saves in one transaction, returning
the notification id of its last event so a caller can wait for projections to catch up. A
command that raises writes nothing. A ``client_id`` makes a retried command a no-op.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from gridcore.assignment import (
    Assignment,
    HouseholdWork,
    Plan,
    PlanItem,
    Worker,
    assignment_id,
    check_responsible_worker,
    check_squad,
    distribute,
)
from gridcore.base import Aggregate
from gridcore.building import Building, building_id
from gridcore.errors import (
    ConcurrencyConflict,
    DuplicateCode,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from gridcore.grid import GridNode, Level, check_move, child_level, node_id, soft_cap_excess
from gridcore.household import Household, Member, Vulnerability, household_id, resident_id
from gridcore.idempotency import ClientCommand, client_command_id
from gridcore.identity import IdNumber, Phone, ResidentIdentity
from gridcore.policy import DEFAULT_POLICY, POLICY_BOOK_ID, Policy, PolicyBook
from gridcore.staff import Role, StaffMember, staff_id
from gridcore.status import (
    Health,
    Measure,
    Tag,
    TagKind,
    check_health_change,
    check_measure_change,
    check_tag_reason,
)

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)

_client = contextvars.ContextVar[tuple[str, str] | None]("gridcore_client_command", default=None)

MAX_BATCH = 20_000
MAX_ATTEMPTS = 8


Replay = Callable[..., Any]


def command(fn: Callable[..., R] | None = None, *, replay: Replay | None = None) -> Any:
    """Retry on a concurrent write (reloading everything), and apply a client id once.

    A command already applied under its client id is not run again: it returns the newest
    notification id (which is at or after the original write), or what ``replay(self, *args,
    **kwargs)`` rebuilds for commands that return a report.
    """
    if fn is None:
        return functools.partial(command, replay=replay)

    def replayed(self: GridcoreApp, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if replay is not None:
            return replay(self, *args, **kwargs)
        return self.recorder.max_notification_id()

    @functools.wraps(fn)
    def run(self: GridcoreApp, *args: Any, client_id: str | None = None, **kwargs: Any) -> Any:
        if client_id is not None:
            done = self._find(ClientCommand, client_command_id(client_id))
            if done is not None:
                done.check_same(fn.__name__)
                return replayed(self, args, kwargs)
        token = _client.set((client_id, fn.__name__) if client_id else None)
        try:
            for attempt in range(MAX_ATTEMPTS):
                try:
                    return fn(self, *args, **kwargs)
                except IntegrityError:
                    if client_id is not None and self._find(
                            ClientCommand, client_command_id(client_id)) is not None:
                        return replayed(self, args, kwargs)
                    if attempt == MAX_ATTEMPTS - 1:
                        raise ConcurrencyConflict(
                            f"{fn.__name__} kept colliding with concurrent changes "
                            f"({MAX_ATTEMPTS} attempts).",
                            "Retry the command later; nothing was written.",
                        ) from None
            raise AssertionError("unreachable")
        finally:
            _client.reset(token)

    return run


@dataclass
class HouseholdRow:
    """One household of a bulk registration (a row of a register)."""

    household_no: str
    micro_grid: str
    address: str
    members: list[Member]
    building_id: UUID | None = None


@dataclass
class RegistrationReport:
    registered: int = 0
    already_registered: int = 0
    over_cap: dict[str, int] = field(default_factory=dict)
    notification_id: int | None = None


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector during a bulk load: it would otherwise scan
    the batch's many new, long-lived objects again and again (it cost half the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def utc_now() -> datetime:
    return datetime.now(UTC)


class GridcoreApp(Application[UUID]):
    """Grid hierarchy, households and resident status, staff and assignment."""

    name = "gridcore"
    env: ClassVar[dict[str, str]] = {
        "PERSISTENCE_MODULE": "adapters.memory_store",
        "TRANSCODER_TOPIC": "adapters.codec:OrjsonTranscoder",
        "MAPPER_TOPIC": "adapters.codec:PydanticMapper",
    }

    def __init__(self, env: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(env)
        self.clock = clock

    # ---- persistence helpers -------------------------------------------------------------

    def _save(self, *aggregates: Aggregate | None) -> int | None:
        events = [e for a in aggregates if a is not None for e in a.collect_events()]
        client = _client.get()
        if client is not None:
            events.extend(ClientCommand.record(client[0], client[1], self.clock()).collect_events())
        if not events:
            return None
        recordings = self.events.put(events)
        return recordings[-1].notification.id if recordings else None

    def _find(self, cls: type[A], aid: UUID) -> A | None:
        try:
            agg = self.repository.get(aid)
        except AggregateNotFoundError:
            return None
        if not isinstance(agg, cls):
            return None
        return agg

    def _get(self, cls: type[A], aid: UUID, what: str, hint: str) -> A:
        agg = self._find(cls, aid)
        if agg is None:
            raise NotFound(f"No {what}.", hint)
        return agg

    def node(self, code: str) -> GridNode:
        return self._get(GridNode, node_id(code), f"grid node with code {code!r}",
                         "Check the code, or create the node first.")

    def household(self, hid: UUID) -> Household:
        return self._get(Household, hid, f"household {hid}", "Register the household first.")

    def household_by_no(self, household_no: str) -> Household:
        return self.household(household_id(household_no))

    def staff(self, sid: UUID) -> StaffMember:
        return self._get(StaffMember, sid, f"staff member {sid}", "Enrol the staff member first.")

    def staff_by_no(self, staff_no: str) -> StaffMember:
        return self.staff(staff_id(staff_no))

    def policy_book(self) -> PolicyBook | None:
        return self._find(PolicyBook, POLICY_BOOK_ID)

    def policy_at(self, when: datetime) -> Policy:
        book = self.policy_book()
        return book.in_force(when) if book else DEFAULT_POLICY

    def assignment(self, scope: str, round_no: int) -> Assignment:
        return self._get(Assignment, assignment_id(scope, round_no),
                         f"assignment for {scope} round {round_no}", "Assign the scope first.")

    # ---- grid hierarchy ------------------------------------------------------------------

    @command
    def establish_city(self, code: str, name: str) -> int | None:
        if self._find(GridNode, node_id(code)) is not None:
            raise DuplicateCode(f"Grid code {code} is already used.", "Choose another code.")
        return self._save(GridNode.establish(code, name, Level.CITY, None, self.clock()))

    @command
    def create_node(self, code: str, name: str, parent_code: str) -> int | None:
        """Create a district, street, community or micro-grid under ``parent_code``."""
        at = self.clock()
        parent = self.node(parent_code)
        parent.require_active()
        level = child_level(parent.level, code, parent_code)
        if self._find(GridNode, node_id(code)) is not None:
            raise DuplicateCode(f"Grid code {code} is already used.",
                                "Choose a code no other node has had.")
        child = GridNode.establish(code, name, level, parent_code, at)
        parent.attach(code, at)
        return self._save(child, parent)

    @command
    def rename_node(self, code: str, name: str) -> int | None:
        node = self.node(code)
        node.rename(name, self.clock())
        return self._save(node)

    @command
    def move_node(self, code: str, new_parent_code: str) -> int | None:
        """Re-parent a node under another node of its parent's level (history is kept)."""
        at = self.clock()
        node, new_parent = self.node(code), self.node(new_parent_code)
        new_parent.require_active()
        check_move(node.level, new_parent.level, code, new_parent_code)
        if node.parent_code == new_parent_code:
            raise InvalidInput(f"{code} is already under {new_parent_code}.",
                               "Choose a different parent.")
        old_parent = self.node(node.parent_code) if node.parent_code else None
        node.move_under(new_parent_code, at)
        new_parent.attach(code, at)
        if old_parent is not None:
            old_parent.detach(code, at)
        return self._save(node, new_parent, old_parent)

    @command
    def split_micro_grid(self, code: str, parts: dict[str, tuple[str, list[UUID]]]) -> int | None:
        """Split a micro-grid into new ones: ``parts`` maps each new code to its name and the
        households it takes. Every household must go to exactly one part; the old grid retires."""
        at = self.clock()
        old = self.node(code)
        if old.level is not Level.MICRO_GRID:
            raise InvalidInput(f"{code} is a {old.level.name.lower()}.", "Split a micro-grid.")
        if len(parts) < 2:
            raise InvalidInput("A split needs at least two parts.", "Give two or more new codes.")
        given = [h for _, hs in parts.values() for h in hs]
        if sorted(given, key=str) != sorted(old.households, key=str):
            raise InvalidInput(
                f"The parts must share out exactly the {len(old.households)} households of {code}.",
                "List every household of the old micro-grid once.")
        return self._reshape([code], parts, old.parent_code or "", at, f"split of {code}")

    @command
    def merge_micro_grids(self, codes: list[str], into_code: str, name: str) -> int | None:
        """Merge micro-grids of one community into a new micro-grid; the old ones retire."""
        at = self.clock()
        olds = [self.node(c) for c in codes]
        if len(olds) < 2 or any(o.level is not Level.MICRO_GRID for o in olds):
            raise InvalidInput("A merge needs two or more micro-grids.", "Give micro-grid codes.")
        parents = {o.parent_code for o in olds}
        if len(parents) != 1:
            raise InvalidInput("The micro-grids belong to different communities.",
                               "Move them under one community first.")
        households = [h for o in olds for h in o.households]
        return self._reshape(codes, {into_code: (name, households)}, parents.pop() or "", at,
                             f"merge of {', '.join(codes)}")

    def _reshape(self, old_codes: list[str], parts: dict[str, tuple[str, list[UUID]]],
                 parent_code: str, at: datetime, reason: str) -> int | None:
        parent = self.node(parent_code)
        olds = [self.node(c) for c in old_codes]
        changed: list[Aggregate] = [parent]
        for new_code, (name, hids) in parts.items():
            level = child_level(parent.level, new_code, parent_code)
            if self._find(GridNode, node_id(new_code)) is not None:
                raise DuplicateCode(f"Grid code {new_code} is already used.", "Choose another.")
            new = GridNode.establish(new_code, name, level, parent_code, at)
            parent.attach(new_code, at)
            households = [self.household(h) for h in hids]
            for h in households:
                h.move(new_code, h.building_id, None, at)
            new.update_households({h.id: len(h.residents) for h in households}, at)
            for o in olds:
                o.update_households({h.id: 0 for h in households if h.id in o.households}, at)
            changed.extend([new, *households])
        for o in olds:
            o.retire(reason, list(parts), at)
            parent.detach(o.code, at)
        return self._save(*changed, *olds)

    @command
    def retire_node(self, code: str, reason: str) -> int | None:
        at = self.clock()
        node = self.node(code)
        node.retire(reason, [], at)
        parent = self.node(node.parent_code) if node.parent_code else None
        if parent is not None:
            parent.detach(code, at)
        return self._save(node, parent)

    def ancestry(self, code: str) -> list[str]:
        """The node's code and its ancestors' codes, nearest first."""
        chain, current = [], self.node(code)
        while True:
            chain.append(current.code)
            if current.parent_code is None:
                return chain
            current = self.node(current.parent_code)

    def subtree(self, code: str) -> list[GridNode]:
        """The active nodes of the subtree rooted at ``code`` (root first)."""
        out, stack = [], [self.node(code)]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(self.node(c) for c in reversed(node.children))
        return out

    def micro_grids(self, code: str) -> list[GridNode]:
        return [n for n in self.subtree(code) if n.level is Level.MICRO_GRID]

    def households_in(self, code: str) -> list[Household]:
        return [self.household(h) for g in self.micro_grids(code) for h in g.households]

    def over_cap(self, code: str, at: datetime | None = None) -> dict[str, int]:
        """Micro-grids of the subtree above the resident soft cap, with the excess."""
        cap = self.policy_at(at or self.clock()).micro_grid_soft_cap
        return {g.code: e for g in self.micro_grids(code)
                if (e := soft_cap_excess(g.residents, cap))}

    # ---- buildings and households -----------------------------------------------------

    @command
    def register_building(self, community: str, number: str, name: str = "",
                          floors: int = 6) -> int | None:
        node = self.node(community)
        if node.level is not Level.COMMUNITY:
            raise InvalidInput(f"{community} is a {node.level.name.lower()}.",
                               "Register buildings in a community (社区).")
        if self._find(Building, building_id(community, number)) is not None:
            raise DuplicateCode(f"Building {number} of {community} is already registered.",
                                "Use another building number.")
        return self._save(Building.register(community, number, name, floors, self.clock()))

    def _micro_grid(self, code: str) -> GridNode:
        grid = self.node(code)
        grid.require_active()
        if grid.level is not Level.MICRO_GRID:
            raise InvalidInput(f"{code} is a {grid.level.name.lower()}, not a micro-grid.",
                               "Register households in a micro-grid (微网格).")
        return grid

    @command
    def register_household(self, household_no: str, micro_grid: str, address: str,
                           members: list[Member], building: UUID | None = None) -> int | None:
        if self._find(Household, household_id(household_no)) is not None:
            raise DuplicateCode(f"Household {household_no} is already registered.",
                                "Use move_household or add_member to change it.")
        report = self._register([HouseholdRow(household_no, micro_grid, address, members,
                                              building)])
        return report.notification_id

    def _replay_registration(self, rows: Sequence[HouseholdRow]) -> RegistrationReport:
        return RegistrationReport(already_registered=len(rows),
                                  notification_id=self.recorder.max_notification_id())

    def _replay_assignment(self, scope: str, round_no: int, days: int) -> Plan:
        a = self.assignment(scope, round_no)
        items = [PlanItem(household_id=h, staff_id=s, method=a.method[h])
                 for h, s in sorted(a.owner.items(), key=lambda i: str(i[0]))]
        return Plan(items=items, uncovered=list(a.uncovered.values()))

    @command(replay=_replay_registration)
    def register_households(self, rows: Sequence[HouseholdRow]) -> RegistrationReport:
        """Register many households in one transaction; already registered ones are skipped."""
        if len(rows) > MAX_BATCH:
            raise InvalidInput(f"A batch of {len(rows)} households is too large.",
                               f"Send batches of at most {MAX_BATCH}.")
        try:
            with collection_paused():
                return self._register(rows)
        except IntegrityError:
            fresh = [r for r in rows
                     if self._find(Household, household_id(r.household_no)) is None]
            report = self._register(fresh)
            report.already_registered = len(rows) - len(fresh)
            return report

    def _register(self, rows: Sequence[HouseholdRow]) -> RegistrationReport:
        at = self.clock()
        grids: dict[str, GridNode] = {}
        counts: dict[str, dict[UUID, int]] = {}
        households = []
        seen: set[str] = set()
        for row in rows:
            if row.household_no in seen:
                raise InvalidInput(f"Household {row.household_no} appears twice in the batch.",
                                   "List each household once.")
            seen.add(row.household_no)
            if row.micro_grid not in grids:
                grids[row.micro_grid] = self._micro_grid(row.micro_grid)
            h = Household.register(row.household_no, row.micro_grid, row.address, row.members,
                                   at, row.building_id)
            households.append(h)
            counts.setdefault(row.micro_grid, {})[h.id] = len(h.residents)
        for code, c in counts.items():
            grids[code].update_households(c, at)
        cap = self.policy_at(at).micro_grid_soft_cap
        over = {c: e for c, g in grids.items() if (e := soft_cap_excess(g.residents, cap))}
        nid = self._save(*households, *grids.values())
        return RegistrationReport(registered=len(households), over_cap=over, notification_id=nid)

    @command
    def move_household(self, hid: UUID, micro_grid: str, building: UUID | None = None,
                       address: str | None = None) -> int | None:
        at = self.clock()
        h = self.household(hid)
        target = self._micro_grid(micro_grid)
        source = self.node(h.micro_grid) if h.micro_grid != micro_grid else None
        h.move(micro_grid, building, address, at)
        if source is not None:
            source.update_households({h.id: 0}, at)
            target.update_households({h.id: len(h.residents)}, at)
        return self._save(h, source, target if source else None)

    @command
    def add_member(self, hid: UUID, member: Member) -> int | None:
        at = self.clock()
        h = self.household(hid)
        h.add_member(member, at)
        grid = self.node(h.micro_grid)
        grid.update_households({h.id: len(h.residents)}, at)
        return self._save(h, grid)

    @command
    def remove_member(self, hid: UUID, rid: UUID, reason: str) -> int | None:
        at = self.clock()
        h = self.household(hid)
        h.remove_member(rid, reason, at)
        grid = self.node(h.micro_grid)
        grid.update_households({h.id: len(h.residents)}, at)
        return self._save(h, grid)

    @command
    def mark_vulnerability(self, hid: UUID, rid: UUID, vulnerability: Vulnerability,
                           present: bool = True) -> int | None:
        h = self.household(hid)
        h.mark_vulnerability(rid, vulnerability, present, self.clock())
        return self._save(h)

    @command
    def erase_resident(self, hid: UUID, rid: UUID, reason: str) -> int | None:
        """Erase a person's identifying data (crypto-shredding): the store destroys their key
        in the same transaction; counts and statuses stay."""
        h = self.household(hid)
        h.erase(rid, reason, self.clock())
        return self._save(h)

    # ---- resident status ------------------------------------------------------------------

    def _actor(self, by: UUID) -> StaffMember:
        return self.staff(by)

    @command
    def change_health(self, hid: UUID, rid: UUID, health: Health, by: UUID,
                      reason: str = "") -> int | None:
        at = self.clock()
        h, actor = self.household(hid), self._actor(by)
        r = h.resident(rid)
        check_health_change(r.health, health, actor.role, self.policy_at(at))
        h._trigger(Household.HealthChanged, at, resident_id=rid, previous=r.health,
                   health=health, by=by, reason=reason)
        return self._save(h)

    @command
    def change_measure(self, hid: UUID, rid: UUID, measure: Measure, by: UUID,
                       reason: str = "", override_reason: str = "") -> int | None:
        """Impose a measure (居家隔离...) or release from one, as the policy in force allows."""
        at = self.clock()
        h, actor = self.household(hid), self._actor(by)
        r = h.resident(rid)
        check_measure_change(
            health=r.health, current=r.measure, since=r.measure_since, target=measure,
            role=actor.role, at=at, last_negative_test=r.last_negative_test,
            override_reason=override_reason, policy=self.policy_at(at),
        )
        h._trigger(Household.MeasureChanged, at, resident_id=rid, previous=r.measure,
                   measure=measure, by=by, reason=reason, override_reason=override_reason)
        return self._save(h)

    @command
    def record_test(self, hid: UUID, rid: UUID, negative: bool,
                    taken_at: datetime | None = None) -> int | None:
        at = self.clock()
        taken = taken_at or at
        if taken > at:
            raise InvalidInput("The test is dated in the future.", "Give when it was taken.")
        h = self.household(hid)
        h.resident(rid)
        h._trigger(Household.TestRecorded, at, resident_id=rid, negative=negative,
                   taken_at=taken)
        return self._save(h)

    @command
    def tag_resident(self, hid: UUID, rid: UUID, tag: Tag, by: UUID) -> int | None:
        """Tag a close contact, secondary contact or arrival; a tagged close contact who is
        also staff becomes unavailable and their open work moves to colleagues."""
        at = self.clock()
        h, actor = self.household(hid), self._actor(by)
        r = h.resident(rid)
        policy = self.policy_at(at)
        if actor.role not in policy.field_roles | policy.medical_roles | {Role.OFFICIAL,
                                                                         Role.COMMUNITY_POLICE}:
            raise NotPermitted(f"A {actor.role.value} may not tag residents.",
                                "Ask a grid worker, doctor, police officer or official.")
        check_tag_reason(tag)
        h._trigger(Household.Tagged, at, resident_id=rid, tag=tag, by=by)
        changed: list[Aggregate | None] = [h]
        if tag.kind is TagKind.CLOSE_CONTACT and r.staff_id is not None:
            changed.extend(self._make_unavailable(self.staff(r.staff_id),
                                                  "密接 close contact", at))
        return self._save(*changed)

    @command
    def untag_resident(self, hid: UUID, rid: UUID, kind: TagKind, by: UUID,
                       reason: str) -> int | None:
        at = self.clock()
        h, actor = self.household(hid), self._actor(by)
        r = h.resident(rid)
        policy = self.policy_at(at)
        if actor.role not in policy.medical_roles | {Role.OFFICIAL}:
            raise NotPermitted(f"A {actor.role.value} may not remove a {kind.value} tag.",
                                "Ask a family doctor or an official.")
        if kind not in r.tags:
            raise InvalidInput(f"The resident has no {kind.value} tag.", "Nothing to remove.")
        h._trigger(Household.Untagged, at, resident_id=rid, kind=kind, by=by, reason=reason)
        return self._save(h)

    # ---- policy ---------------------------------------------------------------------------

    @command
    def adopt_policy(self, policy: Policy, effective_from: datetime, note: str,
                     by: UUID | None = None) -> int | None:
        at = self.clock()
        book = self.policy_book() or PolicyBook.open(at)
        book.adopt(policy, effective_from, note, by, at)
        return self._save(book)

    # ---- staff ----------------------------------------------------------------------------

    @command
    def enrol_staff(self, staff_no: str, name: str, role: Role, jurisdiction: str,
                    daily_capacity: int = 40, phone: str | None = None,
                    resident: tuple[UUID, UUID] | None = None) -> int | None:
        at = self.clock()
        if self._find(StaffMember, staff_id(staff_no)) is not None:
            raise DuplicateCode(f"Staff number {staff_no} is already enrolled.",
                                "Use another staff number.")
        node = self.node(jurisdiction)
        node.require_active()
        parsed = _phone(phone)
        member = StaffMember.enrol(staff_no, name, role, jurisdiction, daily_capacity, at,
                                   parsed, resident)
        node.add_staff(member.id, at)
        household = None
        if resident is not None:
            household = self.household(resident[0])
            household.resident(resident[1])
            household._trigger(Household.StaffLinked, at, resident_id=resident[1],
                               staff_id=member.id)
        return self._save(member, node, household)

    @command
    def set_staff_availability(self, sid: UUID, available: bool, reason: str = "") -> int | None:
        at = self.clock()
        member = self.staff(sid)
        if available:
            member.set_availability(True, reason, at)
            return self._save(member)
        return self._save(*self._make_unavailable(member, reason or "不可用 unavailable", at))

    def _make_unavailable(self, member: StaffMember, reason: str,
                          at: datetime) -> list[Aggregate]:
        member.set_availability(False, reason, at)
        changed: list[Aggregate] = [member]
        for scope in self.ancestry(member.jurisdiction):
            node = self.node(scope)
            if node.rounds:
                a = self.assignment(scope, node.rounds[-1])
                if a.open_work_of(member.id):
                    self._move_work(a, member, reason, at)
                    changed.append(a)
        return changed

    @command
    def assign_responsible_worker(self, micro_grid: str, sid: UUID) -> int | None:
        """Make a grid worker the one responsible person (责任人) of a micro-grid."""
        grid, member = self._micro_grid(micro_grid), self.staff(sid)
        check_responsible_worker(member.role, member.available, member.jurisdiction,
                                 self.ancestry(micro_grid), micro_grid)
        grid.assign_responsible_worker(sid, self.clock())
        return self._save(grid)

    @command
    def form_squad(self, zone: str, members: list[UUID]) -> int | None:
        """Form the service squad (服务小分队) of a zone from party members and volunteers."""
        grid = self._micro_grid(zone)
        community = grid.parent_code or ""
        staff = [self.staff(s) for s in members]
        current: dict[UUID, str] = {}
        for sibling in self.node(community).children:
            for s in self.node(sibling).squad:
                current[s] = sibling
        check_squad(zone, [(s.id, s.role, community in self.ancestry(zone)
                            and s.jurisdiction in self.ancestry(zone)) for s in staff], current)
        grid.form_squad(members, self.clock())
        return self._save(grid)

    def staff_in(self, code: str) -> list[StaffMember]:
        """Staff whose jurisdiction lies in the subtree of ``code``."""
        return [self.staff(s) for n in self.subtree(code) for s in n.staff]

    def _workers(self, scope: str) -> list[Worker]:
        home: dict[UUID, set[str]] = {}
        for g in self.micro_grids(scope):
            for s in [g.responsible_worker, *g.squad]:
                if s is not None:
                    home.setdefault(s, set()).add(g.code)
        return [Worker(s.id, s.daily_capacity, frozenset(home.get(s.id, ())))
                for s in self.staff_in(scope)
                if s.available and s.daily_capacity > 0 and s.role in ASSIGNABLE_ROLES]

    def work_of(self, households: Iterable[Household], today: date) -> list[HouseholdWork]:
        return [HouseholdWork(
            household_id=h.id, micro_grid=h.micro_grid, building_id=h.building_id,
            vulnerable=h.is_vulnerable(today),
            has_smartphone=any(Vulnerability.NO_SMARTPHONE not in r.vulnerabilities
                               for r in h.residents.values()),
        ) for h in households]

    @command(replay=_replay_assignment)
    def assign_scope(self, scope: str, round_no: int, days: int) -> Plan:
        """Distribute the households of a scope to its available staff for a round.

        Keeps last round's worker where possible; vulnerable households get door visits; when
        capacity is short the plan lists the uncovered households and the shortfall."""
        at = self.clock()
        node = self.node(scope)
        if round_no in node.rounds:
            raise DuplicateCode(f"Round {round_no} of {scope} is already assigned.",
                                "Use the next round number.")
        previous: dict[UUID, UUID] = {}
        if node.rounds:
            previous = dict(self.assignment(scope, node.rounds[-1]).owner)
        work = self.work_of(self.households_in(scope), at.date())
        plan = distribute(work, self._workers(scope), days, self.policy_at(at).visit_cost,
                          previous)
        node.record_round(round_no, at)
        self._save(Assignment.make(scope, round_no, days, plan, at), node)
        return plan

    def _move_work(self, a: Assignment, member: StaffMember, reason: str, at: datetime) -> None:
        costs = self.policy_at(at).visit_cost
        hids = a.open_work_of(member.id)
        households = [self.household(h) for h in hids]
        loads = a.load(costs)
        workers = [w for w in self._workers(a.scope) if w.staff_id != member.id]
        plan = distribute(self.work_of(households, at.date()), workers, a.days, costs,
                          already_loaded=loads)
        a.move_work(member.id, plan, reason, at)

    @command
    def reassign_work_of(self, sid: UUID, scope: str, round_no: int,
                         reason: str) -> int | None:
        """Move a staff member's open work in a round to colleagues of the same jurisdiction."""
        at = self.clock()
        a, member = self.assignment(scope, round_no), self.staff(sid)
        if not a.open_work_of(sid):
            raise InvalidInput(f"{member.name} has no open work in {scope} round {round_no}.",
                               "Nothing to move.")
        self._move_work(a, member, reason, at)
        return self._save(a)


ASSIGNABLE_ROLES = frozenset({Role.GRID_WORKER, Role.PARTY_MEMBER, Role.VOLUNTEER,
                              Role.FAMILY_DOCTOR, Role.COMMUNITY_POLICE, Role.OFFICIAL})


def _phone(raw: str | None) -> Phone | None:
    if raw is None or not raw.strip():
        return None
    try:
        return Phone.parse(raw)
    except ValueError as e:
        raise InvalidInput(str(e), "Correct the phone number or leave it empty.") from None


def new_member(household_no: str, member_no: int, name: str, phone: str | None = None,
               id_number: str | None = None, birth_year: int | None = None,
               vulnerabilities: Iterable[Vulnerability] = ()) -> Member:
    """Build a member with a deterministic resident id, validating phone and ID number."""
    rid = resident_id(household_no, member_no)
    idn = None
    if id_number:
        try:
            idn = IdNumber.parse(id_number)
        except ValueError as e:
            raise InvalidInput(str(e), "Correct the ID number or leave it empty.") from None
    if birth_year is not None and not 1890 <= birth_year <= 2100:
        raise InvalidInput(f"Birth year {birth_year} is implausible.", "Give a year like 1952.")
    identity = ResidentIdentity(subject_id=rid, name=name, phone=_phone(phone), id_number=idn)
    return Member(resident_id=rid, identity=identity, birth_year=birth_year,
                  vulnerabilities=list(vulnerabilities))
