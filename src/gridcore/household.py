"""A household (户) and its residents (居民), with each resident's status.

The household is the consistency boundary for its members: registration, moves, members
joining and leaving, vulnerability, and every status change of a member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from pydantic import Field

from gridcore.base import Aggregate, Created, Event, Immutable, Personal, stable_id, trusted
from gridcore.clock import check_day, check_instant
from gridcore.errors import Erased, ForbiddenTransition, InvalidInput, NotFound, NotPermitted
from gridcore.geo import Crs, Point
from gridcore.identity import Address, IdNumber, Phone, ResidentIdentity
from gridcore.policy import Policy
from gridcore.staff import Role
from gridcore.status import (
    Health,
    Measure,
    Tag,
    TagKind,
    check_health_change,
    check_measure_change,
    check_measure_end,
    check_measure_start,
    check_tag_reason,
    measure_end,
)
from gridcore.text import free_text


class Vulnerability(StrEnum):
    AGE_65_PLUS = "age_65_plus"
    LIVES_ALONE = "lives_alone"
    NO_SMARTPHONE = "no_smartphone"
    CHRONIC_ILLNESS = "chronic_illness"
    DISABILITY = "disability"
    PREGNANCY = "pregnancy"

    @property
    def label(self) -> str:
        return VULNERABILITY_LABELS[self]


VULNERABILITY_LABELS = {
    Vulnerability.AGE_65_PLUS: "65岁以上 aged 65+",
    Vulnerability.LIVES_ALONE: "独居 lives alone",
    Vulnerability.NO_SMARTPHONE: "无智能手机 no smartphone",
    Vulnerability.CHRONIC_ILLNESS: "慢性病 chronic illness",
    Vulnerability.DISABILITY: "残疾 disability",
    Vulnerability.PREGNANCY: "孕妇 pregnancy",
}


def household_id(household_no: str) -> UUID:
    return stable_id("household", household_no)


def resident_id(household_no: str, member_no: int | str) -> UUID:
    return stable_id("resident", f"{household_no}#{member_no}")


class Member(Immutable):
    """A resident as registered: identity (sealed), birth year, declared vulnerabilities."""

    resident_id: UUID
    identity: ResidentIdentity
    birth_year: int | None = None
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)


def optional_phone(raw: str | None) -> Phone | None:
    """A phone number as typed (None or blank: none), refused with ``InvalidInput`` when
    malformed (the message masks it)."""
    if raw is None or not raw.strip():
        return None
    try:
        return Phone.parse(raw)
    except ValueError as e:
        raise InvalidInput(str(e), "Correct the phone number or leave it empty.") from None


def new_member(household_no: str, member_no: int, name: str, phone: str | None = None,
               id_number: str | None = None, birth_year: int | None = None,
               vulnerabilities: Iterable[Vulnerability] = ()) -> Member:
    """Build a member with a deterministic resident id, validating phone and ID number.

    Every field is checked here, so the models are filled directly (``trusted``): validating
    them again through pydantic (the phone and ID number parsed a second time, the identity's
    unsealing hook) was most of building a register's members, a third of generating a
    city. tests/domain/test_new_member.py holds the result equal to pydantic's."""
    rid = resident_id(household_no, member_no)
    if not isinstance(name, str):
        raise InvalidInput(f"Member {member_no} of household {household_no} has a name that "
                           "is not text.", "Give the resident's name (姓名) as text.")
    if not name.strip():
        raise InvalidInput(f"Member {member_no} of household {household_no} has no name.",
                           "Give the resident's name (姓名).")
    idn = None
    if id_number:
        try:
            idn = IdNumber.parse(id_number)
        except ValueError as e:
            raise InvalidInput(str(e), "Correct the ID number or leave it empty.") from None
    if birth_year is not None and (type(birth_year) is not int
                                   or not 1890 <= birth_year <= 2100):
        raise InvalidInput(f"Birth year {birth_year!r} is implausible.",
                           "Give a year like 1952.")
    try:
        marks = [Vulnerability(v) for v in vulnerabilities]
    except ValueError as e:
        raise InvalidInput(f"Member {member_no} of household {household_no}: {e}.",
                           "Mark vulnerabilities from: "
                           f"{', '.join(v.value for v in Vulnerability)}.") from None
    identity = trusted(ResidentIdentity, subject_id=rid, erased=False,
                       name=str.__str__(name), phone=optional_phone(phone), id_number=idn)
    return trusted(Member, resident_id=rid, identity=identity, birth_year=birth_year,
                   vulnerabilities=marks)


def derived_vulnerabilities(
    birth_year: int | None, declared: set[Vulnerability], household_size: int, today: date
) -> set[Vulnerability]:
    """Declared vulnerabilities plus age 65+ (from the birth year) and living alone (a
    one-person household whose member is 65+ or declared so)."""
    found = set(declared)
    if birth_year is not None and today.year - birth_year >= 65:
        found.add(Vulnerability.AGE_65_PLUS)
    if household_size == 1 and Vulnerability.AGE_65_PLUS in found:
        found.add(Vulnerability.LIVES_ALONE)
    return found


class HouseholdPlace(Personal):
    """A household's own point (its door, 门牌 as a place): an address-level locator, so
    personal data kept as the address is, sealed with the household's own key (the
    address's subject) and shredded with it. ``point`` None: no own point (the household is
    located by its building, if at all)."""

    point: Point | None = None


@dataclass
class Resident:
    """A member's live state inside the household aggregate."""

    resident_id: UUID
    identity: ResidentIdentity
    birth_year: int | None
    vulnerabilities: set[Vulnerability]
    health: Health = Health.NORMAL
    measure: Measure = Measure.NONE
    measure_since: datetime | None = None
    measure_until: datetime | None = None
    """When the measure ends, where the decision set it (a traced contact's measure counts
    from the last exposure for the policy's length); None: the policy's length from
    ``measure_since``."""
    measure_changed_at: datetime | None = None
    """When the last measure change was recorded (a later one may not start before it)."""
    tags: dict[TagKind, Tag] = field(default_factory=dict)
    last_negative_test: datetime | None = None
    staff_id: UUID | None = None
    erased: bool = False


class Household(Aggregate):
    household_no: str
    micro_grid: str
    building_id: UUID | None
    address: Address
    residents: dict[UUID, Resident]
    former: dict[UUID, Resident]
    grid_history: list[tuple[datetime, str]]
    place: HouseholdPlace | None = None
    """the household's own point, sealed (None: never located)"""

    class Located(Event):
        """The household's own point (``place.point`` None: withdrawn, so its building's
        point locates it), sealed as the address is; ``crs`` the system it was given in."""

        place: HouseholdPlace
        crs: Crs = Crs.WGS84
        by: UUID | None = None

        def apply(self, h: Household) -> None:
            h.place = self.place

    @property
    def own_point(self) -> Point | None:
        """The household's own point (None: none set, withheld or erased)."""
        return self.place.point if self.place is not None else None

    def locate(self, point: Point | None, crs: Crs, by: UUID | None, at: datetime) -> bool:
        """Set (or withdraw, None) the household's own point; the same point again writes
        nothing. Refused once the address is erased: the point would locate the same door."""
        if self.address.erased:
            raise Erased(f"Household {self.household_no}'s address was erased.",
                         "Its location went with it; register the household again if it "
                         "returns.")
        if point == self.own_point:
            return False
        self._trigger(self.Located, at, place=HouseholdPlace(subject_id=self.id, point=point),
                      crs=crs, by=by)
        return True

    class Registered(Created):
        household_no: str
        micro_grid: str
        building_id: UUID | None
        address: Address
        members: list[Member]

        def apply(self, h: Household) -> None:
            h.household_no, h.micro_grid, h.building_id = (
                self.household_no, self.micro_grid, self.building_id)
            h.address = self.address
            h.residents = {m.resident_id: _resident(m) for m in self.members}
            h.former = {}
            h.grid_history = [(self.timestamp, self.micro_grid)]

    class Moved(Event):
        micro_grid: str
        building_id: UUID | None
        address: Address | None = None

        def apply(self, h: Household) -> None:
            h.micro_grid, h.building_id = self.micro_grid, self.building_id
            if self.address is not None:
                h.address = self.address
                h.place = None  # the own point located the old door
            h.grid_history.append((self.timestamp, self.micro_grid))

    class MemberAdded(Event):
        member: Member

        def apply(self, h: Household) -> None:
            h.residents[self.member.resident_id] = _resident(self.member)

    class MemberRemoved(Event):
        resident_id: UUID
        reason: str

        def apply(self, h: Household) -> None:
            h.former[self.resident_id] = h.residents.pop(self.resident_id)

    class VulnerabilityMarked(Event):
        resident_id: UUID
        vulnerability: Vulnerability
        present: bool

        def apply(self, h: Household) -> None:
            marks = h.residents[self.resident_id].vulnerabilities
            (marks.add if self.present else marks.discard)(self.vulnerability)

    class HealthChanged(Event):
        resident_id: UUID
        previous: Health
        health: Health
        by: UUID | None
        reason: str

        def apply(self, h: Household) -> None:
            h.residents[self.resident_id].health = self.health

    class MeasureChanged(Event):
        """v2: ``since``, when a measure recorded late actually began (its period counts
        from it; None: when recorded), and ``since_reason``, why it was recorded late.
        v3: ``until``, when the measure ends where the decision set it (a traced contact:
        the policy's length from the last exposure); None: the policy's length for the
        measure from its start."""

        class_version: ClassVar[int] = 3

        resident_id: UUID
        previous: Measure
        measure: Measure
        by: UUID | None
        reason: str
        override_reason: str = ""
        since: datetime | None = None
        since_reason: str = ""
        until: datetime | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 measures began when recorded."""
            state["since"], state["since_reason"] = None, ""

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """v2 measures lasted the policy's length for the measure."""
            state["until"] = None

        def apply(self, h: Household) -> None:
            r = h.residents[self.resident_id]
            r.measure = self.measure
            r.measure_since = (None if self.measure is Measure.NONE
                               else self.since or self.timestamp)
            r.measure_until = None if self.measure is Measure.NONE else self.until
            r.measure_changed_at = self.timestamp

    class MeasureExtended(Event):
        """The measure in force now ends later (``until``): a traced contact exposed again,
        or promoted to close contact under the same measure. The measure and its start
        stay."""

        resident_id: UUID
        measure: Measure
        until: datetime
        by: UUID | None
        reason: str

        def apply(self, h: Household) -> None:
            h.residents[self.resident_id].measure_until = self.until

    class Tagged(Event):
        resident_id: UUID
        tag: Tag
        by: UUID | None

        def apply(self, h: Household) -> None:
            h.residents[self.resident_id].tags[self.tag.kind] = self.tag

    class Untagged(Event):
        resident_id: UUID
        kind: TagKind
        by: UUID | None
        reason: str

        def apply(self, h: Household) -> None:
            h.residents[self.resident_id].tags.pop(self.kind, None)

    class TestRecorded(Event):
        resident_id: UUID
        negative: bool
        taken_at: datetime

        def apply(self, h: Household) -> None:
            r = h.residents[self.resident_id]
            if self.negative and (r.last_negative_test is None
                                  or self.taken_at > r.last_negative_test):
                r.last_negative_test = self.taken_at

    class StaffLinked(Event):
        resident_id: UUID
        staff_id: UUID

        def apply(self, h: Household) -> None:
            h.residents[self.resident_id].staff_id = self.staff_id

    class ResidentErased(Event):
        """The resident's key was destroyed; their identity reads back as erased."""

        resident_id: UUID
        reason: str
        subjects: list[UUID]

        @property
        def erased_subject_ids(self) -> list[UUID]:
            """Whose keys the store destroys in the same transaction as this event."""
            return self.subjects

        def apply(self, h: Household) -> None:
            if h.address.subject_id in self.subjects:
                h.address = Address(subject_id=h.address.subject_id, erased=True)
                if h.place is not None:  # sealed with the address's key: shredded with it
                    h.place = HouseholdPlace(subject_id=h.place.subject_id, erased=True)
            for group in (h.residents, h.former):
                if self.resident_id in group:
                    r = group[self.resident_id]
                    r.erased = True
                    r.identity = ResidentIdentity(subject_id=r.identity.subject_id, erased=True)

    @classmethod
    def register(
        cls, household_no: str, micro_grid: str, address: str, members: list[Member],
        at: datetime, building_id: UUID | None = None,
    ) -> Household:
        return cls._start(cls.registration(household_no, micro_grid, address, members, at,
                                           building_id))

    @classmethod
    def registration(
        cls, household_no: str, micro_grid: str, address: str, members: list[Member],
        at: datetime, building_id: UUID | None = None,
    ) -> Household.Registered:
        """The event of ``register``, checked the same way, without building the household
        from it: a bulk registration stores the events and never reads the households (it
        built 50,000 residents' state for 20,000 households only to drop it)."""
        hid = household_id(household_no)
        check_address(address)
        if not members:
            raise InvalidInput(f"Household {household_no} has no members.",
                               "Register at least one resident.")
        for m in members:
            if not isinstance(m, Member):
                raise InvalidInput(f"Member {m!r} is not a Member.",
                                   "Build members with gridcore.application.new_member.")
        if len(members) > 1:
            seen: set[UUID] = set()
            for m in members:
                if m.resident_id in seen:
                    raise InvalidInput(f"Resident {m.resident_id} is listed twice.",
                                       "List each member once.")
                seen.add(m.resident_id)
        return trusted(
            cls.Registered, originator_id=hid, originator_version=1, timestamp=at,
            household_no=household_no, micro_grid=micro_grid, building_id=building_id,
            address=trusted(Address, subject_id=hid, erased=False, text=address.strip()),
            members=list(members),
        )

    def resident(self, rid: UUID) -> Resident:
        try:
            r = self.residents[rid]
        except KeyError:
            raise NotFound(
                f"Resident {rid} is not a member of household {self.household_no}.",
                "Check the resident id against the household's members.",
            ) from None
        return r

    def move(self, micro_grid: str, building_id: UUID | None, address: str | None,
             at: datetime) -> None:
        if micro_grid == self.micro_grid and address is None and building_id == self.building_id:
            raise InvalidInput(f"Household {self.household_no} is already in {micro_grid}.",
                               "Give a different micro-grid, building or address.")
        if address is not None:
            check_address(address)
        self._trigger(
            self.Moved, at, micro_grid=micro_grid, building_id=building_id,
            address=None if address is None else Address(subject_id=self.id, text=address),
        )

    def add_member(self, member: Member, at: datetime) -> None:
        if member.resident_id in self.residents or member.resident_id in self.former:
            raise InvalidInput(f"Resident {member.resident_id} is already known here.",
                               "Use a new resident id for a new member.")
        self._trigger(self.MemberAdded, at, member=member)

    def remove_member(self, rid: UUID, reason: str, at: datetime) -> None:
        self.resident(rid)
        if len(self.residents) == 1:
            raise InvalidInput(
                f"Resident {rid} is the last member of household {self.household_no}.",
                "Move or dissolve the household instead of removing its last member.",
            )
        reason = free_text(reason, "reason for removing a member", required=True,
                           example="迁出 moved out")
        self._trigger(self.MemberRemoved, at, resident_id=rid, reason=reason)

    def mark_vulnerability(self, rid: UUID, v: Vulnerability, present: bool, at: datetime) -> None:
        r = self.resident(rid)
        if (v in r.vulnerabilities) != present:
            self._trigger(self.VulnerabilityMarked, at, resident_id=rid, vulnerability=v,
                          present=present)

    def vulnerabilities(self, rid: UUID, today: date) -> set[Vulnerability]:
        r = self.resident(rid)
        return derived_vulnerabilities(r.birth_year, r.vulnerabilities, len(self.residents),
                                       today)

    def is_vulnerable(self, today: date) -> bool:
        return any(self.vulnerabilities(rid, today) for rid in self.residents)

    def micro_grid_at(self, when: datetime) -> str | None:
        """Which micro-grid the household belonged to at ``when`` (None before registration)."""
        code = None
        for since, grid in self.grid_history:
            if since <= when:
                code = grid
        return code

    def erase(self, rid: UUID, reason: str, at: datetime) -> None:
        """Erase one person's identifying data; the address goes with the last identifiable
        member (counts and statuses stay)."""
        r = self.residents.get(rid) or self.former.get(rid)
        if r is None:
            self.resident(rid)
            return
        if r.erased:
            raise Erased(f"Resident {rid} is already erased.", "Nothing more to erase.")
        reason = free_text(reason, "legal reason for the erasure", required=True,
                           example="防控目的已完成 purpose fulfilled")
        subjects = [rid]
        others = [o for o in (*self.residents.values(), *self.former.values())
                  if o.resident_id != rid and not o.erased]
        if not others:
            subjects.append(self.id)
        self._trigger(self.ResidentErased, at, resident_id=rid, reason=reason, subjects=subjects)

    def link_staff(self, rid: UUID, staff_id: UUID, at: datetime) -> None:
        """The resident is also a staff member (a tag or an erasure of one reaches the other)."""
        self.resident(rid)
        self._trigger(self.StaffLinked, at, resident_id=rid, staff_id=staff_id)

    # ---- resident status: each decision checks its rule with the policy in force and the
    # time passed in (``gridcore.status``), then records; a refusal records nothing ---------

    def change_health(self, rid: UUID, health: Health, *, by: UUID | None, role: Role | None,
                      reason: str, policy: Policy, at: datetime) -> None:
        """Health moves along the state machine, by the roles the policy names (``role``
        None: a symptom the resident reported themself, see ``check_health_change``)."""
        r = self.resident(rid)
        reason = free_text(reason, "reason for the health change")
        check_health_change(r.health, health, role, policy)
        self._trigger(self.HealthChanged, at, resident_id=rid, previous=r.health,
                      health=health, by=by, reason=reason)

    def change_measure(self, rid: UUID, measure: Measure, *, by: UUID | None, role: Role | None,
                       reason: str, policy: Policy, at: datetime,
                       override_reason: str = "", since: datetime | None = None,
                       since_reason: str = "", until: datetime | None = None) -> None:
        """Impose a measure (居家隔离...) or release from one, as the policy allows ``role``
        (a release: the period served and a recent negative test, or an override's reason).
        The one place a measure changes: by a staff member's command, and by a referral's
        admission and discharge. A measure imposed late may start ``since`` it began, within
        the policy's bound and with ``since_reason`` (``check_measure_start``); one whose
        end the decision sets (a traced contact's) ends ``until`` instead of after the
        policy's length for the measure (``check_measure_end``)."""
        r = self.resident(rid)
        reason = free_text(reason, "reason for the measure")
        override_reason = free_text(override_reason, "override reason")
        since_reason = free_text(since_reason, "reason for the past start")
        since = check_measure_start(since=since, reason=since_reason, current=r.measure,
                                    target=measure, at=at, last_change=r.measure_changed_at,
                                    policy=policy)
        check_measure_change(
            health=r.health, current=r.measure, since=r.measure_since, target=measure,
            role=role, at=at, last_negative_test=r.last_negative_test,
            override_reason=override_reason, policy=policy, until=r.measure_until,
        )
        if until is not None:
            check_measure_end(until, since or at, target=measure)
        self._trigger(self.MeasureChanged, at, resident_id=rid, previous=r.measure,
                      measure=measure, by=by, reason=reason, override_reason=override_reason,
                      since=since, since_reason=since_reason, until=until)

    def measure_ends(self, rid: UUID, policy: Policy) -> datetime | None:
        """When the resident's measure in force ends (None: no measure, or one with no
        length, such as hospitalization)."""
        r = self.resident(rid)
        return measure_end(r.measure, r.measure_since, r.measure_until, policy)

    def extend_measure(self, rid: UUID, until: datetime, *, by: UUID | None, role: Role,
                       reason: str, policy: Policy, at: datetime) -> bool:
        """The measure in force ends later: at ``until``, when that is after its present
        end (a later exposure, a promotion under the same measure), by a role that may
        impose it. Returns whether it changed; an earlier end changes nothing (a release
        goes through ``change_measure``)."""
        r = self.resident(rid)
        reason = free_text(reason, "reason for the extension")
        if r.measure is Measure.NONE:
            raise ForbiddenTransition("The resident is under no measure to extend.",
                                      "Impose a measure instead.")
        roles = policy.impose_roles.get(r.measure, frozenset())
        if role not in roles:
            raise NotPermitted(
                f"A {role.value} may not extend {r.measure.value}.",
                f"Ask one of: {', '.join(sorted(x.value for x in roles)) or 'nobody'}.")
        ends = measure_end(r.measure, r.measure_since, r.measure_until, policy)
        if ends is not None and until <= ends:
            return False
        self._trigger(self.MeasureExtended, at, resident_id=rid, measure=r.measure,
                      until=until, by=by, reason=reason)
        return True

    def release_measure(self, rid: UUID, held: Measure, measure: Measure, *, by: UUID | None,
                        role: Role, reason: str, policy: Policy, at: datetime,
                        override_reason: str = "") -> bool:
        """Release from ``held`` to ``measure`` only while ``held`` is still in force (a
        resident moved on since, e.g. hospitalized, or no longer a member, keeps what they
        have); returns whether the measure changed."""
        r = self.residents.get(rid)
        if r is None or r.measure is not held:
            return False
        self.change_measure(rid, measure, by=by, role=role, reason=reason, policy=policy,
                            at=at, override_reason=override_reason)
        return True

    def record_test(self, rid: UUID, negative: bool, taken_at: datetime | None, *,
                    policy: Policy, at: datetime) -> None:
        """A test result, taken at ``taken_at`` (default: now) inside the policy's time
        window and not in the future."""
        taken = (check_instant(taken_at, at, policy, "test time")
                 if taken_at is not None else at)
        if taken > at:
            raise InvalidInput("The test is dated in the future.", "Give when it was taken.")
        self.resident(rid)
        self._trigger(self.TestRecorded, at, resident_id=rid, negative=negative, taken_at=taken)

    def tag(self, rid: UUID, tag: Tag, *, by: UUID | None, role: Role | None, policy: Policy,
            at: datetime) -> UUID | None:
        """Tag a close contact, secondary contact or arrival (field, medical staff, police or
        an official; ``role`` None: an arrival the resident reported themself, followed up by
        the system). Returns the staff member who must stop working: a close contact who is
        also staff (their own aggregate records it, see ``StaffMember.set_availability``)."""
        r = self.resident(rid)
        if role is None and tag.kind is not TagKind.RISK_AREA_ARRIVAL:
            raise NotPermitted(f"Only a staff member may tag a {tag.kind.value}.",
                               "Ask a grid worker, doctor, police officer or official.")
        if role is not None and role not in policy.field_roles | policy.medical_roles | {
                Role.OFFICIAL, Role.COMMUNITY_POLICE}:
            raise NotPermitted(f"A {role.value} may not tag residents.",
                               "Ask a grid worker, doctor, police officer or official.")
        check_tag_reason(tag)
        if tag.arrived_on is not None:
            check_day(tag.arrived_on, at, policy, "arrival date")
        self._trigger(self.Tagged, at, resident_id=rid, tag=tag, by=by)
        return r.staff_id if tag.kind is TagKind.CLOSE_CONTACT else None

    def untag(self, rid: UUID, kind: TagKind, *, by: UUID | None, role: Role, reason: str,
              policy: Policy, at: datetime) -> None:
        """Remove a tag: a family doctor's or an official's decision, with a reason."""
        r = self.resident(rid)
        if role not in policy.medical_roles | {Role.OFFICIAL}:
            raise NotPermitted(f"A {role.value} may not remove a {kind.value} tag.",
                               "Ask a family doctor or an official.")
        if kind not in r.tags:
            raise InvalidInput(f"The resident has no {kind.value} tag.", "Nothing to remove.")
        reason = free_text(reason, "reason for removing the tag")
        self._trigger(self.Untagged, at, resident_id=rid, kind=kind, by=by, reason=reason)

    def require_identifiable(self, rid: UUID) -> Resident:
        r = self.resident(rid)
        if r.erased:
            raise Erased(f"Resident {rid}'s personal data was erased.",
                         "Register the person again if they return.")
        return r

    def __repr__(self) -> str:
        return (f"Household(no={self.household_no!r}, micro_grid={self.micro_grid!r}, "
                f"residents={len(self.residents)})")


def _resident(m: Member) -> Resident:
    return Resident(resident_id=m.resident_id, identity=m.identity, birth_year=m.birth_year,
                    vulnerabilities=set(m.vulnerabilities), erased=m.identity.erased)


def check_address(address: str) -> None:
    """An address (门牌) is 2-200 characters, e.g. '3栋2单元501' or '上疃村187号'."""
    if not 2 <= len(address.strip()) <= 200:
        raise InvalidInput(f"Address {address!r} is too short or too long.",
                           "Give the door address, e.g. '3栋2单元501'.")


def next_member_no(h: Household) -> int:
    """The first member number whose resident id the household has never had: a resident id
    derives from the number, and a former member's id must never come back as someone else."""
    known = set(h.residents) | set(h.former)
    n = 1
    while resident_id(h.household_no, n) in known:
        n += 1
    return n
