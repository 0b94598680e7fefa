"""Commands of households, residents and resident status (health, measure, tags)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from gridcore.app_base import (
    MAX_BATCH,
    HouseholdRow,
    RegistrationReport,
    check_batch,
    collection_paused,
    command,
)
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate
from gridcore.building import (
    Building,
    BuildingRow,
    building_id,
    check_household_building,
)
from gridcore.errors import DuplicateCode, InvalidInput
from gridcore.geo import Crs
from gridcore.grid import GridNode, Level, node_id, soft_cap_excess
from gridcore.household import Household, HouseholdPlace, Member, Vulnerability, household_id
from gridcore.location import household_point, located_point, outside
from gridcore.policy import DEFAULT_POLICY, POLICY_BOOK_ID, Policy, PolicyBook
from gridcore.staff import StaffMember
from gridcore.staff_commands import StaffCommands
from gridcore.status import Health, Measure, Tag, TagKind
from gridcore.text import free_text

ErasureParticipant = Callable[[Household, UUID, datetime], list[Aggregate]]
"""Another area holding a person's data: given the household, the resident and the time, the
aggregates it changed to erase that data (saved in the resident's erasure transaction)."""


class HouseholdCommands(StaffCommands):
    """Builds on the staff area: a tagged close contact who is also staff becomes unavailable
    there (``_make_unavailable``), in the same transaction as the tag."""

    # ---- buildings and households -----------------------------------------------------

    @command
    def register_building(self, community: str, number: str, name: str = "",
                          floors: int = 6, *, by: Actor) -> int | None:
        return self._register_buildings(community, [BuildingRow(number, name, floors)],
                                        Crs.WGS84, by)

    @command
    def register_buildings(self, community: str, buildings: Sequence[BuildingRow],
                           crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        """Register a community's buildings at once, each located at its point if one is
        given (in ``crs``), as ``register_building`` and ``locate_building`` check them: one
        transaction, one refused refusing them all."""
        check_batch(buildings, "buildings", MAX_BATCH)
        return self._register_buildings(community, buildings, crs, by)

    def _register_buildings(self, community: str, buildings: Sequence[BuildingRow], crs: Crs,
                            by: Actor) -> int | None:
        """The buildings, in a community, each number once and not registered before, each
        located at its point if given; saved in one transaction."""
        node = self.node(community)
        if node.level is not Level.COMMUNITY:
            raise InvalidInput(f"{community} is a {node.level.name.lower()}.",
                               "Register buildings in a community (社区).")
        numbers: set[str] = set()
        for n, row in enumerate(buildings, start=1):
            if not isinstance(row, BuildingRow):
                raise InvalidInput(f"Row {n} is not a BuildingRow.",
                                   "Give each building as gridcore.application.BuildingRow.")
            if row.number in numbers:
                raise InvalidInput(f"Building {row.number} is listed twice (row {n}).",
                                   "List each building once.")
            numbers.add(row.number)
        taken = self._find_many(Building, (building_id(community, r.number) for r in buildings),
                                for_reading=True)
        if taken:
            used = sorted(b.number for b in taken.values())
            raise DuplicateCode(f"Building{'s' if len(used) > 1 else ''} {', '.join(used[:10])} "
                                f"of {community} {'are' if len(used) > 1 else 'is'} already "
                                "registered.", "Use another building number.")
        at, staff = self.clock(), staff_of(by)
        made = []
        for row in buildings:
            b = Building.register(community, row.number, row.name, row.floors, at)
            point = located_point(row.lng, row.lat, crs,
                                  what=f"building {row.number}'s location")
            if point is not None:
                b.locate(point, crs, staff, at)
            made.append(b)
        return self._save(*made)

    def building(self, bid: UUID) -> Building:
        return self._get(Building, bid, f"building {bid}", "Register the building first.")

    @command
    def register_household(self, household_no: str, micro_grid: str, address: str,
                           members: list[Member], building: UUID | None = None,
                           lng: float | None = None, lat: float | None = None,
                           crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        """Register a household; ``lng``/``lat`` (in ``crs``) its own point, if known (a
        point outside the micro-grid's boundary is accepted: ``misplaced_households``)."""
        point = located_point(lng, lat, crs, what=f"household {household_no}'s location")
        if self._find(Household, household_id(household_no)) is not None:
            raise DuplicateCode(f"Household {household_no} is already registered.",
                                "Change it with the moveHousehold or addMember mutation.")
        report = self._register([HouseholdRow(household_no, micro_grid, address, members,
                                              building, point, crs)], by=staff_of(by))
        return report.notification_id

    def _replay_registration(self, rows: Sequence[HouseholdRow], *,
                             by: Actor) -> RegistrationReport:
        return RegistrationReport(already_registered=len(rows),
                                  notification_id=self.recorder.max_notification_id())

    @command(replay=_replay_registration)
    def register_households(self, rows: Sequence[HouseholdRow], *, by: Actor) -> RegistrationReport:
        """Register many households in one transaction; already registered ones are skipped."""
        if len(rows) > MAX_BATCH:
            raise InvalidInput(f"A batch of {len(rows)} households is too large.",
                               f"Send batches of at most {MAX_BATCH}.")
        try:
            with collection_paused():
                return self._register(rows, by=staff_of(by))
        except IntegrityError:
            fresh = [r for r in rows
                     if self._find(Household, household_id(r.household_no)) is None]
            report = self._register(fresh, by=staff_of(by))
            report.already_registered = len(rows) - len(fresh)
            return report

    def _register(self, rows: Sequence[HouseholdRow], *,
                  by: UUID | None = None) -> RegistrationReport:
        at = self.clock()
        located: list[Household.Located] = []
        misplaced: list[str] = []
        grids: dict[str, GridNode] = {}
        counts: dict[str, dict[UUID, int]] = {}
        households = []
        seen: set[str] = set()
        buildings: dict[UUID, Building | None] = {}
        # one id per micro-grid, not per row (a batch of 10,000 has about 100; deriving an
        # id is a SHA-1)
        read = self._find_many(GridNode, map(node_id, dict.fromkeys(r.micro_grid for r in rows)))
        for n, row in enumerate(rows, start=1):
            if row.household_no in seen:
                raise InvalidInput(f"Household {row.household_no} appears twice in the batch.",
                                   "List each household once.")
            seen.add(row.household_no)
            if row.micro_grid not in grids:
                grids[row.micro_grid] = self._micro_grid(row.micro_grid,
                                                         read.get(node_id(row.micro_grid)))
            if (bid := row.building_id) is not None:
                if bid not in buildings:
                    buildings[bid] = self._find(Building, bid)
                where = f" (row {n} of {len(rows)})" if len(rows) > 1 else ""
                check_household_building(buildings[bid], bid,
                                         grids[row.micro_grid].parent_code or "",
                                         f"Household {row.household_no}{where}")
            registered = Household.registration(row.household_no, row.micro_grid, row.address,
                                                row.members, at, row.building_id)
            households.append(registered)
            if row.point is not None:  # its own point, sealed with the address's key
                hid = registered.originator_id
                located.append(Household.Located(
                    originator_id=hid, originator_version=2, timestamp=at,
                    place=HouseholdPlace(subject_id=hid, point=row.point), crs=row.crs, by=by))
            placed = household_point(row.point, buildings.get(row.building_id)
                                     if row.building_id is not None else None)
            if outside(placed, grids[row.micro_grid].boundary):
                misplaced.append(row.household_no)
            counts.setdefault(row.micro_grid, {})[registered.originator_id] = len(
                registered.members)
        for code, c in counts.items():
            grids[code].update_households(c, at)
        cap = self.policy_at(at).micro_grid_soft_cap
        over = {c: e for c, g in grids.items() if (e := soft_cap_excess(g.residents, cap))}
        nid = self._save(*grids.values(), first=[*households, *located])
        return RegistrationReport(registered=len(households), over_cap=over, notification_id=nid,
                                  misplaced=misplaced)

    @command
    def move_household(self, hid: UUID, micro_grid: str, building: UUID | None = None,
                       address: str | None = None, *, by: Actor) -> int | None:
        at = self.clock()
        h = self.household(hid)
        target = self._micro_grid(micro_grid)
        if building is not None:  # a building registered in the new micro-grid's community
            check_household_building(self._find(Building, building), building,
                                     target.parent_code or "", f"Household {h.household_no}")
        source = self.node(h.micro_grid) if h.micro_grid != micro_grid else None
        h.move(micro_grid, building, address, at)
        if source is not None:
            source.update_households({h.id: 0}, at)
            target.update_households({h.id: len(h.residents)}, at)
        return self._save(h, source, target if source else None)

    @command
    def add_member(self, hid: UUID, member: Member, *, by: Actor) -> int | None:
        at = self.clock()
        h = self.household(hid)
        h.add_member(member, at)
        grid = self.node(h.micro_grid)
        grid.update_households({h.id: len(h.residents)}, at)
        return self._save(h, grid)

    @command
    def remove_member(self, hid: UUID, rid: UUID, reason: str, *, by: Actor) -> int | None:
        at = self.clock()
        h = self.household(hid)
        h.remove_member(rid, reason, at)
        grid = self.node(h.micro_grid)
        grid.update_households({h.id: len(h.residents)}, at)
        return self._save(h, grid)

    @command
    def mark_vulnerability(self, hid: UUID, rid: UUID, vulnerability: Vulnerability,
                           present: bool = True, *, by: Actor) -> int | None:
        h = self.household(hid)
        h.mark_vulnerability(rid, vulnerability, present, self.clock())
        return self._save(h)

    @command
    def erase_resident(self, hid: UUID, rid: UUID, reason: str, *, by: Actor) -> int | None:
        """Erase a person's identifying data (crypto-shredding): the store destroys their key
        in the same transaction; counts and statuses stay."""
        at = self.clock()
        h = self.household(hid)
        companions = [a for erase in self._erasure_participants() for a in erase(h, rid, at)]
        h.erase(rid, reason, at)
        return self._save(h, *companions)

    def _erasure_participants(self) -> Sequence[ErasureParticipant]:
        """The areas that erase their copy of a resident's data with the resident, in order
        (the application lists them; none here)."""
        return ()

    # ---- resident status ------------------------------------------------------------------

    def _actor(self, by: UUID) -> StaffMember:
        return self.staff(by)

    @command
    def change_health(self, hid: UUID, rid: UUID, health: Health, by: Actor,
                      reason: str = "") -> int | None:
        """Change a resident's health; ``System.AUTOMATION`` (the findings follow-up of a
        symptom the resident reported themself) may only make them symptomatic."""
        at = self.clock()
        h = self.household(hid)
        role = self._actor(by).role if isinstance(by, UUID) else None
        h.change_health(rid, health, by=staff_of(by), role=role, reason=reason,
                        policy=self.policy_at(at), at=at)
        return self._save(h)

    @command
    def change_measure(self, hid: UUID, rid: UUID, measure: Measure, by: Actor,
                       reason: str = "", override_reason: str = "",
                       since: datetime | None = None, since_reason: str = "") -> int | None:
        """Impose a measure (居家隔离...) or release from one, as the policy in force allows;
        a measure recorded late may be dated back ``since`` it began, with ``since_reason``
        (within the policy's ``measure_backdate_hours``). ``System.AUTOMATION`` (the findings
        follow-up of an arrival a resident reported themself) may only impose home
        observation."""
        at = self.clock()
        if since is not None:
            since = self.check_time(since, "measure's start")
        h = self.household(hid)
        role = self._actor(by).role if isinstance(by, UUID) else None
        h.change_measure(rid, measure, by=staff_of(by), role=role, reason=reason,
                         override_reason=override_reason, policy=self.policy_at(at), at=at,
                         since=since, since_reason=since_reason)
        return self._save(h)

    @command
    def record_test(self, hid: UUID, rid: UUID, negative: bool,
                    taken_at: datetime | None = None, *, by: Actor) -> int | None:
        at = self.clock()
        h = self.household(hid)
        h.record_test(rid, negative, taken_at, policy=self.policy_at(at), at=at)
        return self._save(h)

    @command
    def tag_resident(self, hid: UUID, rid: UUID, tag: Tag, by: Actor) -> int | None:
        """Tag a close contact, secondary contact or arrival; a tagged close contact who is
        also staff becomes unavailable and their open work moves to colleagues.
        ``System.AUTOMATION`` (the findings follow-up of an arrival a resident reported
        themself) may only tag an arrival."""
        at = self.clock()
        h = self.household(hid)
        role = self._actor(by).role if isinstance(by, UUID) else None
        stops = h.tag(rid, tag, by=staff_of(by), role=role, policy=self.policy_at(at), at=at)
        changed: list[Aggregate | None] = [h]
        if stops is not None:
            changed.extend(self._make_unavailable(self.staff(stops), "密接 close contact", at))
        return self._save(*changed)

    @command
    def untag_resident(self, hid: UUID, rid: UUID, kind: TagKind, by: UUID,
                       reason: str) -> int | None:
        at = self.clock()
        h, actor = self.household(hid), self._actor(by)
        h.untag(rid, kind, by=by, role=actor.role, reason=reason, policy=self.policy_at(at),
                at=at)
        return self._save(h)

    # ---- policy ---------------------------------------------------------------------------

    @command
    def adopt_policy(self, policy: Policy, effective_from: datetime, note: str,
                     *, by: Actor) -> int | None:
        at = self.clock()
        self.check_time(effective_from, "policy's effective time", scheduled=True)
        note = free_text(note, "policy note")
        book = self.policy_book() or PolicyBook.open(at)
        book.adopt(policy, effective_from, note, staff_of(by), at)
        return self._save(book)

    def policy_version(self, when: datetime) -> tuple[datetime | None, Policy, str]:
        """The version of the policy in force at ``when``: its effective time, the policy and
        its note; ``(None, DEFAULT_POLICY, "")`` before any adopted version took effect."""
        book = self._find(PolicyBook, POLICY_BOOK_ID, for_reading=True)
        found = book.version_at(when) if book is not None else None
        return found if found is not None else (None, DEFAULT_POLICY, "")

