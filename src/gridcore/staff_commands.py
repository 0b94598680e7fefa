"""Commands of policy, staff and assignment."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from gridcore.app_base import (
    MAX_BATCH,
    ApplicationBase,
    check_batch,
    collection_paused,
    command,
)
from gridcore.assignment import (
    Assignment,
    HouseholdWork,
    Plan,
    PlanItem,
    Worker,
    check_responsible_worker,
    check_squad,
    distribute,
)
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate
from gridcore.errors import (
    DuplicateCode,
    GridcoreError,
    InvalidInput,
    parse_enum,
)
from gridcore.grid import GridNode, node_id
from gridcore.household import Household, Vulnerability, optional_phone
from gridcore.household import new_member as new_member  # re-exported: its old home
from gridcore.staff import Role, StaffMember, StaffRow, check_jurisdictions, staff_id
from gridcore.text import free_text

MAX_ZONES = 1_000
"""The micro-grids one bulk staffing command may name (``form_squads``,
``assign_responsible_workers``): a community has tens."""


@dataclass
class EnrolmentReport:
    """What a roster enrolment did: the members enrolled, those already enrolled under
    their staff number (skipped, as they stand), and the position of its write."""

    enrolled: int = 0
    already_enrolled: list[str] = field(default_factory=list)
    notification_id: int | None = None


def _replay_enrolment(app: StaffCommands, rows: Sequence[StaffRow], *,
                      by: Actor) -> EnrolmentReport:
    return EnrolmentReport(already_enrolled=[r.staff_no for r in rows],
                           notification_id=app.recorder.max_notification_id())


def _at_row(e: GridcoreError, n: int, total: int, staff_no: object) -> GridcoreError:
    """The error of a roster's row, naming the row (staff numbers are not personal)."""
    no = staff_no if isinstance(staff_no, str) and len(staff_no) <= 40 else "?"
    e.problem = f"Row {n} of {total} (staff number {no}): {e.problem}"
    e.args = (f"{e.problem} {e.remedy}".strip(),)
    return e


class StaffCommands(ApplicationBase):
    # ---- staff ----------------------------------------------------------------------------

    @command
    def enrol_staff(self, staff_no: str, name: str, role: Role, jurisdiction: str | Sequence[str],
                    daily_capacity: int = 40, phone: str | None = None,
                    resident: tuple[UUID, UUID] | None = None, *, by: Actor) -> int | None:
        """Enrol a member whose jurisdiction is a node, or several (a grid worker's zones);
        each node lists them."""
        at = self.clock()
        if self._find(StaffMember, staff_id(staff_no)) is not None:
            raise DuplicateCode(f"Staff number {staff_no} is already enrolled.",
                                "Use another staff number.")
        codes = self._jurisdiction(jurisdiction)
        parsed = optional_phone(phone)
        member = StaffMember.enrol(staff_no, name, role, codes, daily_capacity, at,
                                   parsed, resident)
        nodes = [self.node(c) for c in codes]
        for node in nodes:
            node.add_staff(member.id, at)
        household = None
        if resident is not None:
            household = self.household(resident[0])
            household.link_staff(resident[1], member.id, at)
        return self._save(member, *nodes, household)

    @command(replay=_replay_enrolment)
    def enrol_staff_many(self, rows: Sequence[StaffRow], *, by: Actor) -> EnrolmentReport:
        """Enrol a roster (花名册) in one transaction, as ``enrol_staff`` would each row: all
        or nothing, an error naming its row. Members already enrolled under their staff
        number are skipped as they stand (a roster imported again enrols only the new).

        Their nodes and the nodes' ancestries are read once for the batch, not once per
        member, and it is one write: generating a city of 4,000,000 households enrols about
        190,000 staff."""
        if len(rows) > MAX_BATCH:
            raise InvalidInput(f"A roster of {len(rows)} members is too large.",
                               f"Send batches of at most {MAX_BATCH}.")
        at = self.clock()
        before = self.staff_enrolled(staff_id(r.staff_no) for r in rows)
        nodes = self._find_many(GridNode, (node_id(c) for r in rows for c in r.codes))
        chains: dict[str, list[str]] = {}
        seen: dict[str, int] = {}
        members: list[StaffMember] = []
        report = EnrolmentReport()
        for n, row in enumerate(rows, start=1):
            try:
                if row.staff_no in seen:
                    raise InvalidInput(f"The staff number is also on row {seen[row.staff_no]}.",
                                       "List each member once.")
                seen[row.staff_no] = n
                if staff_id(row.staff_no) in before:
                    report.already_enrolled.append(row.staff_no)
                    continue
                role = parse_enum(Role, row.role, "staff role")
                codes = row.codes
                for code in codes:
                    node = nodes.get(node_id(code))
                    if node is None:
                        node = nodes[node_id(code)] = self.node(code)  # NotFound
                    node.require_active()
                    if code not in chains:
                        chains[code] = self.ancestry(code)
                check_jurisdictions(codes, {c: chains[c] for c in codes})
                member = StaffMember.enrol(row.staff_no, row.name, role, codes,
                                           row.daily_capacity, at, optional_phone(row.phone))
            except GridcoreError as e:
                raise _at_row(e, n, len(rows), row.staff_no) from None
            members.append(member)
            for code in codes:
                nodes[node_id(code)].add_staff(member.id, at)
        report.enrolled = len(members)
        report.notification_id = self._save(*members, *nodes.values())
        return report

    def _jurisdiction(self, given: str | Sequence[str]) -> tuple[str, ...]:
        """The nodes a jurisdiction is given as (one code or several), each active, none
        inside another."""
        codes = (given,) if isinstance(given, str) else tuple(given)
        for code in codes:
            self.node(code).require_active()
        check_jurisdictions(codes, {c: self.ancestry(c) for c in codes})
        return codes

    @command
    def set_staff_availability(self, sid: UUID, available: bool, reason: str = "",
                               *, by: Actor) -> int | None:
        at = self.clock()
        reason = free_text(reason, "reason")  # copied into WorkMoved: no phone or ID number
        member = self.staff(sid)
        if available:
            member.set_availability(True, reason, at)
            return self._save(member)
        return self._save(*self._make_unavailable(member, reason or "不可用 unavailable", at))

    def _make_unavailable(self, member: StaffMember, reason: str,
                          at: datetime) -> list[Aggregate]:
        member.set_availability(False, reason, at)
        return [member, *self._move_open_work(member, reason, at)]

    def _move_open_work(self, member: StaffMember, reason: str, at: datetime,
                        keep: Iterable[str] = ()) -> list[Aggregate]:
        """Move the member's open work in the latest round of each scope above them (but the
        scopes in ``keep``) to colleagues: the changed assignments."""
        changed: list[Aggregate] = []
        kept = set(keep)
        scopes = dict.fromkeys(s for j in member.jurisdictions for s in self.ancestry(j))
        for scope in scopes:
            if scope in kept:
                continue
            node = self.node(scope)
            if node.rounds:
                a = self.assignment(scope, node.rounds[-1])
                if a.open_work_of(member.id):
                    self._move_work(a, member, reason, at)
                    changed.append(a)
        return changed

    @command
    def assign_responsible_worker(self, micro_grid: str, sid: UUID, *, by: Actor) -> int | None:
        """Make a grid worker the one responsible person (责任人) of a micro-grid that has
        none (or has this one already); another worker's micro-grid is handed over
        (``hand_over_micro_grid``), never silently replaced."""
        grid, member = self._micro_grid(micro_grid), self.staff(sid)
        check_responsible_worker(member.role, member.available, member.jurisdictions,
                                 self.ancestry(micro_grid), micro_grid,
                                 grid.responsible_worker, sid)
        grid.assign_responsible_worker(sid, self.clock())
        return self._save(grid)

    @command
    def hand_over_micro_grid(self, micro_grid: str, sid: UUID, *, by: Actor) -> int | None:
        """交接 hand a micro-grid from its responsible worker to another available grid
        worker whose jurisdiction contains it (the previous one is recorded)."""
        grid, member = self._micro_grid(micro_grid), self.staff(sid)
        member.require_active()
        check_responsible_worker(member.role, member.available, member.jurisdictions,
                                 self.ancestry(micro_grid), micro_grid,
                                 grid.responsible_worker, sid, handover=True)
        grid.hand_over(sid, self.clock())
        return self._save(grid)

    def _squad_zones(self, community: str, but: Iterable[str] = ()) -> dict[UUID, str]:
        """The zone whose squad each member of a community's squads serves in (but the
        zones named)."""
        skip = set(but)
        siblings = [c for c in self.node(community).children if c not in skip]
        read = self._find_many(GridNode, map(node_id, siblings), for_reading=True)
        current: dict[UUID, str] = {}
        for sibling in siblings:  # a community's zones in one query, not one each
            node = read.get(node_id(sibling))
            for sid in (node if node is not None else self.node(sibling)).squad:
                current[sid] = sibling
        return current

    def _squad_members(self, zone: str, staff: list[StaffMember],
                       grid: GridNode | None = None,
                       chain: list[str] | None = None) -> list[tuple[UUID, Role, bool]]:
        community = (grid if grid is not None else self.node(zone)).parent_code or ""
        chain = self.ancestry(zone) if chain is None else chain
        for s in staff:
            s.require_active()
        return [(s.id, s.role, community in chain and bool(set(s.jurisdictions) & set(chain)))
                for s in staff]

    @command
    def form_squad(self, zone: str, members: list[UUID], *, by: Actor) -> int | None:
        """Form the service squad (服务小分队) of a zone from party members and volunteers."""
        grid = self._micro_grid(zone)
        # one query, not one each, and no key look-up: names and phones are not read here
        read = self._withheld_many(StaffMember, members)
        staff = [read[s] if s in read else self.staff(s) for s in members]  # else: NotFound
        check_squad(zone, self._squad_members(zone, staff, grid),
                    self._squad_zones(grid.parent_code or "", but=[zone]))
        grid.form_squad(members, self.clock())
        return self._save(grid)

    @command
    def form_squads(self, squads: Mapping[str, Sequence[UUID]], *, by: Actor) -> int | None:
        """Form the service squads (服务小分队) of several zones of one community at once, as
        its grid office sets them up: one transaction, each squad checked as ``form_squad``
        checks it (a member named for two squads, or twice, is refused), one refused refuses
        them all. The zones, their members and the community's other squads are read in a
        query each, where a squad at a time read them again for every zone."""
        grids = self._micro_grids(squads, "squads", "members")
        communities = sorted({g.parent_code or "" for g in grids.values()})
        if len(communities) > 1:
            raise InvalidInput(f"The zones belong to {len(communities)} communities "
                               f"({', '.join(communities[:5])}).",
                               "Form one community's squads at a time.")
        named: dict[UUID, str] = {}
        for zone, members in squads.items():
            for sid in members:
                if sid in named:
                    raise InvalidInput(
                        f"Staff {sid} is named twice for the squad of {zone}."
                        if named[sid] == zone else
                        f"Staff {sid} is named for the squads of both {named[sid]} and {zone}.",
                        "Name each member once, for one zone's squad.")
                named[sid] = zone
        # no key look-up: names and phones are not read here
        read = self._withheld_many(StaffMember, list(named))
        staff = {sid: read[sid] if sid in read else self.staff(sid) for sid in named}
        current = self._squad_zones(communities[0], but=list(squads))
        chain = self.ancestry(communities[0])
        at = self.clock()
        for zone, members in squads.items():
            check_squad(zone, self._squad_members(zone, [staff[s] for s in members],
                                                  grids[zone], [zone, *chain]), current)
            grids[zone].form_squad(list(members), at)
        return self._save(*grids.values())

    @command
    def assign_responsible_workers(self, assignments: Mapping[str, UUID], *,
                                   by: Actor) -> int | None:
        """Make grid workers the responsible persons (责任人) of several micro-grids at once
        (one worker may hold several): one transaction, each as ``assign_responsible_worker``
        checks it, one refused refuses them all."""
        grids = self._micro_grids(assignments, "assignments", "grid worker")
        workers = list(dict.fromkeys(assignments.values()))
        read = self._withheld_many(StaffMember, workers)
        staff = {sid: read[sid] if sid in read else self.staff(sid) for sid in workers}
        chains: dict[str, list[str]] = {}
        at = self.clock()
        for code, sid in assignments.items():
            grid, member = grids[code], staff[sid]
            parent = grid.parent_code or ""
            if parent not in chains:
                chains[parent] = self.ancestry(parent) if parent else []
            check_responsible_worker(member.role, member.available, member.jurisdictions,
                                     [grid.code, *chains[parent]], code,
                                     grid.responsible_worker, sid)
            grid.assign_responsible_worker(sid, at)
        return self._save(*grids.values())

    def _micro_grids(self, given: Mapping[str, object], what: str,
                     argument: str) -> dict[str, GridNode]:
        """The active micro-grids a bulk command names (the keys of ``given``), read in one
        query; copies to change."""
        check_batch(given, what, MAX_ZONES, mapping=f"each micro-grid code to its {argument}")
        read = self._find_many(GridNode, map(node_id, given))
        return {code: self._micro_grid(code, read.get(node_id(code))) for code in given}

    @command
    def take_off_squad(self, zone: str, sid: UUID, *, by: Actor) -> int | None:
        """Take a member off a zone's squad (they may then join another one)."""
        grid = self._micro_grid(zone)
        self.staff(sid)
        grid.take_off_squad(sid, self.clock())
        return self._save(grid)

    @command
    def move_squad_member(self, sid: UUID, from_zone: str, zone: str, *,
                          by: Actor) -> int | None:
        """Move a member from the squad of ``from_zone`` to the squad of ``zone`` in one
        transaction (both zones, or neither, change)."""
        at = self.clock()
        if from_zone == zone:
            raise InvalidInput(f"{sid} would move from {zone} to itself.",
                               "Name two different zones.")
        source, target, member = self._micro_grid(from_zone), self._micro_grid(zone), \
            self.staff(sid)
        source.take_off_squad(sid, at)
        check_squad(zone, self._squad_members(zone, [member]),
                    self._squad_zones(target.parent_code or "", but=[zone, from_zone]))
        target.join_squad(sid, at)
        return self._save(source, target)

    def staff_in(self, code: str) -> list[StaffMember]:
        """Staff whose jurisdiction lies in the subtree of ``code`` (wholly or in part: each
        once)."""
        return [self.staff(s) for s in dict.fromkeys(
            s for n in self.subtree(code) for s in n.staff)]

    def _workers(self, scope: str) -> list[Worker]:
        """The staff of the scope's subtree, and those serving its micro-grids (their
        responsible workers and squads, wherever their jurisdiction lies)."""
        home: dict[UUID, set[str]] = {}
        for g in self.micro_grids(scope):
            for s in [g.responsible_worker, *g.squad]:
                if s is not None:
                    home.setdefault(s, set()).add(g.code)
        ids = list(dict.fromkeys(s for n in self.subtree(scope) for s in n.staff))
        ids += sorted(home.keys() - set(ids), key=str)
        read = self._withheld_many(StaffMember, ids)  # one query, not one each
        staff = {sid: read[sid] if sid in read else self._get_withheld(
            StaffMember, sid, f"staff member {sid}", "Enrol the staff member first.")
            for sid in ids}
        chain = set(self.ancestry(scope))
        return [Worker(s.id, s.daily_capacity, frozenset(home.get(s.id, ())),
                       None if chain & set(s.jurisdictions) else self._reach_in(s, scope))
                for s in staff.values() if s.active and s.available and s.daily_capacity > 0
                and s.role in ASSIGNABLE_ROLES]

    def _reach_in(self, member: StaffMember, scope: str) -> frozenset[str]:
        """The micro-grids of ``scope`` that lie in the member's jurisdiction."""
        return frozenset(g.code for j in member.jurisdictions
                         for g in self.micro_grids(j) if scope in self.ancestry(g.code))

    def work_of(self, households: Iterable[Household], today: date) -> list[HouseholdWork]:
        return [HouseholdWork(
            household_id=h.id, micro_grid=h.micro_grid, building_id=h.building_id,
            vulnerable=h.is_vulnerable(today),
            has_smartphone=any(Vulnerability.NO_SMARTPHONE not in r.vulnerabilities
                               for r in h.residents.values()),
        ) for h in households]

    def _replay_assignment(self, scope: str, round_no: int, days: int, *,
                           by: Actor | None = None) -> Plan:
        a = self.assignment(scope, round_no)
        items = [PlanItem(household_id=h, staff_id=s, method=a.method[h])
                 for h, s in sorted(a.owner.items(), key=lambda i: str(i[0]))]
        return Plan(items=items, uncovered=list(a.uncovered.values()))

    @command(replay=_replay_assignment)
    def assign_scope(self, scope: str, round_no: int, days: int, *, by: Actor) -> Plan:
        """Distribute the households of a scope to its available staff for a round.

        Keeps last round's worker where possible; vulnerable households get door visits; when
        capacity is short the plan lists the uncovered households and the shortfall."""
        at = self.clock()
        assignment, node, plan = self._plan_round(scope, round_no, days, at)
        self._save(assignment, node)
        return plan

    def _plan_round(self, scope: str, round_no: int, days: int, at: datetime,
                    only: Collection[UUID] | None = None) -> tuple[Assignment, GridNode, Plan]:
        """Plan a round of a scope (unsaved): the assignment, the scope node, the plan;
        ``only``: just these households of the scope (a risk zone's, ``zoning_commands``)."""
        node = self.node(scope)
        if round_no in node.rounds:
            raise DuplicateCode(f"Round {round_no} of {scope} is already assigned.",
                                "Use the next round number.")
        previous: dict[UUID, UUID] = {}
        if node.rounds:
            previous = dict(self.assignment(scope, node.rounds[-1]).owner)
        # The scope's households are replayed, planned and dropped within this step, freed by
        # their reference counts: the cyclic collector, left on, scanned them (and every
        # cached aggregate) again and again while they were made. A 30,000-household city's
        # sweep spent 2.6 s of 14.7 s in it; 1.1 s of 12.9 s with it paused here (README).
        with collection_paused():
            households = self.households_in(scope, withheld=True)
            if only is not None:
                households = [h for h in households if h.id in only]
            work = self.work_of(households, at.date())
            del households
            plan = distribute(work, self._workers(scope), days, self.policy_at(at).visit_cost,
                              previous)
        node.record_round(round_no, at)
        return Assignment.make(scope, round_no, days, plan, at), node, plan

    def _move_work(self, a: Assignment, member: StaffMember, reason: str, at: datetime) -> None:
        costs = self.policy_at(at).visit_cost
        open_work = a.open_work_of(member.id)
        done = self._done_households(a.scope, a.round_no, open_work)
        hids = [h for h in open_work if h not in done]
        households = [self.household(h) for h in hids]
        loads = a.load(costs)
        workers = [w for w in self._workers(a.scope) if w.staff_id != member.id]
        plan = distribute(self.work_of(households, at.date()), workers, a.days, costs,
                          already_loaded=loads)
        a.move_work(member.id, plan, reason, at)

    @command
    def reassign_work_of(self, sid: UUID, scope: str, round_no: int,
                         reason: str, *, by: Actor) -> int | None:
        """Move a staff member's open work in a round to colleagues of the same jurisdiction."""
        at = self.clock()
        reason = free_text(reason, "reason")
        a, member = self.assignment(scope, round_no), self.staff(sid)
        if not a.open_work_of(sid):
            raise InvalidInput(f"{member.name} has no open work in {scope} round {round_no}.",
                               "Nothing to move.")
        self._move_work(a, member, reason, at)
        return self._save(a)

    # ---- access: deactivation, jurisdiction, erasure ---------------------------------------

    @command
    def deactivate_staff(self, sid: UUID, reason: str, *, by: Actor) -> int | None:
        """停用 a member who left (离职) or is suspended: their access ends at once (the API
        refuses their tokens, open subscriptions close) and their open work moves to
        colleagues as when they become unavailable. Officials, for staff of their
        jurisdiction."""
        at = self.clock()
        member = self.staff(sid)
        member.deactivate(reason, staff_of(by), at)
        return self._save(member, *self._move_open_work(member, member.deactivation_reason, at))

    @command
    def reactivate_staff(self, sid: UUID, reason: str = "", *,
                         by: Actor) -> int | None:
        """复岗 restore a deactivated member's access (their old tokens work again while
        unexpired)."""
        at = self.clock()
        member = self.staff(sid)
        member.reactivate(reason, staff_of(by), at)
        return self._save(member)

    @command
    def change_staff_jurisdiction(self, sid: UUID, jurisdiction: str | Sequence[str], *,
                                  by: Actor) -> int | None:
        """调岗 move a member to another node, or nodes: what they may see and do follows at
        once; their open work in scopes they leave moves to colleagues. Both the old and the
        new nodes must lie in the giver's jurisdiction."""
        at = self.clock()
        member = self.staff(sid)
        codes = self._jurisdiction(jurisdiction)
        staying = {s for j in codes for s in self.ancestry(j)}
        moved = self._move_open_work(member, "调岗 moved to another node", at, keep=staying)
        listing = {c: self.node(c) for c in dict.fromkeys([*member.jurisdictions, *codes])}
        member.change_jurisdiction(codes, at)
        for code, node in listing.items():
            if code in codes:
                node.add_staff(member.id, at)
            else:
                node.remove_staff(member.id, at)
        return self._save(member, *listing.values(), *moved)

    @command
    def erase_staff_member(self, sid: UUID, reason: str, *,
                           by: Actor) -> int | None:
        """Erase a member's name and phone for good (crypto-shredding: the store destroys
        their key in the same transaction); the staff number, role and work stay."""
        at = self.clock()
        member = self.staff(sid)
        member.erase(reason, at)
        return self._save(member)

    def _staff_erased_with_resident(self, household: Household, rid: UUID,
                                    at: datetime) -> list[Aggregate]:
        """A resident who is also a staff member loses their staff identity with them (an
        erasure participant, see ``GridcoreApp._erasure_participants``)."""
        found: list[Aggregate] = []
        r = household.residents.get(rid) or household.former.get(rid)
        if r is not None and r.staff_id is not None and not r.erased:
            member = self.staff(r.staff_id)
            if not member.erased:
                member.erase("随居民删除 erased with the resident", at)
                found.append(member)
        return found


ASSIGNABLE_ROLES = frozenset({Role.GRID_WORKER, Role.PARTY_MEMBER, Role.VOLUNTEER,
                              Role.FAMILY_DOCTOR, Role.COMMUNITY_POLICE, Role.OFFICIAL})
